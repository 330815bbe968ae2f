"""The HTML quality report: ``index.html`` (the overview), ``counties/*.html`` (one page per
county: its reports with their counts), ``reports/*.html`` (one page per submission — in a large
batch only for reports with errors or warnings and unreadable files — the statutory tables
re-drawn with the flagged cells highlighted) and ``rules.html`` (the rule reference, generated
from the catalogue).

Jinja2 with autoescape on: every text from a submission (agency, title, file name, cell text) is
escaped, and control characters are removed by the ``finalize`` hook.  The pages are
self-contained — CSS inline, charts as inline SVG, no script, no external font — and work from
``file://`` without network.  Page names come from :func:`nianbao.report.names.page_name` and are
checked to stay inside the output folder.

Speed (see README "质量报告"): the statutory tables' markup is rendered once per format from
``_tables.html.j2`` with placeholders (:func:`skeleton`) and each report page fills in its cells
and highlight classes; the cells are read from the report's column arrays; a report page's own
markup is built in Python (:func:`report_page`, every value through :func:`h`, the same escaping)
inside the frame ``_base.html.j2`` renders once; pages are written with a rename but no fsync
(:mod:`nianbao.io.atomic`).  The views' helper process (:mod:`nianbao.report.parallel`) shares the
pages, the workbook, ``index.html`` and a first run's contract files as units of work.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shlex
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, PackageLoader, StrictUndefined, Template
from jinja2.bccache import Bucket, BytecodeCache, FileSystemBytecodeCache
from markupsafe import Markup, escape

from nianbao.catalogue import catalogue, format_number
from nianbao.domain.clock import zh_time
from nianbao.domain.model import INDEX, STATES, Cell, CellMap, ParsedReport, number_text
from nianbao.domain.normalize import State
from nianbao.domain.registry import normalise_agency
from nianbao.domain.spec import T3_COLUMNS, T4_COLUMNS, T4_ROWS, Fmt, cell_words, table_name, tables
from nianbao.io.atomic import inside, write_text
from nianbao.outcome import PASS_MEANS, FileOutcome, Finding, RunOutcome, Suspect
from nianbao.report.history import ACKABLE, ACKED, CORRECTED, NEW, STILL, SUBMITTED, UNCHANGED
from nianbao.report.names import PageDir, clean_text
from nianbao.report.parallel import run_shared, use_helper
from nianbao.report.quality import (
    BLANK_ZH,
    COUNTIES_DIR,
    NO_AGENCY,
    REPORTS_DIR,
    SEV_RANK,
    SEVERITY_ZH,
    Flag,
    Group,
    Quality,
    agency_label,
    alternative,
    cause_zh,
    county_summary,
    flags_of,
    group_counts,
    is_text_against_table,
    prepare,
    printed_blank,
    stages_zh,
    state_of,
    text_and_table,
    year_label,
)
from nianbao.report.reuse import Reuse
from nianbao.run.collector import gc_paused

# a summarised info (nianbao.outcome.InfoSummary) on a report page: the same note on many reports of
# the batch, kept once per run, so not followed from run to run as new / still
COMMON = "common"
STATUS_ZH = {NEW: "新发现", STILL: "仍存在", ACKED: "已复核", COMMON: "多份报告共有"}
CHANGE_ZH = {SUBMITTED: "新报送", CORRECTED: "已更正", UNCHANGED: "", None: ""}
NEWS_LIMIT = 200  # rows per news list on the overview (the rest: findings.xlsx / changes.json)
WORST_LIMIT = 200  # reports listed on the overview, worst first (all of them: the county pages)
CHART_ROWS = 30


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return clean_text(value)
    return value


_MARKUP_CHARS = re.compile("[&<>'\"]")


def h(value: Any) -> str:
    """What ``{{ value }}`` prints in these templates (:func:`_finalize`, then autoescape), for the
    markup built in Python where a template loop over thousands of rows cost most of a page: the
    same text, without a :class:`Markup` object per value when there is nothing to escape."""
    t = type(value)
    if t is str:
        s = clean_text(value)
        return escape(s) if _MARKUP_CHARS.search(s) else s
    if t is int:
        return str(value)  # no markup characters in an integer
    return escape(_finalize(value))


def hr(value: Any) -> str:
    """:func:`h` of a string that recurs from page to page (our own words and classes, rule codes
    and titles, finding numbers, cell labels, small values), kept once made: at most
    :data:`_HR_MAX` of them; any other value goes to :func:`h`."""
    if type(value) is not str:
        return h(value)
    e = _HR.get(value)
    if e is None:
        e = h(value)
        if len(_HR) < _HR_MAX:
            _HR[value] = e
    return e


_HR: dict[str, str] = {}
_HR_MAX = 1 << 14


def template_env(loader: BaseLoader) -> Environment:
    """The Jinja settings every page of the project is rendered with (the run's views and the review
    desk): autoescaped, strict, no ``None`` printed, submitted text cleaned, ``num`` for cell values."""
    env = Environment(
        loader=loader,
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_value
    return env


class _CompiledTemplates(FileSystemBytecodeCache):
    """Jinja's compiled templates kept in the user's own cache folder of the system's temporary
    folder (Jinja's, mode 0700, the user's), so that a process renders without compiling them
    (~0.02 s for ``index.html`` and its base on every run).  Jinja keys a template by its name,
    file and source only: the key here also holds Jinja's and Python's versions and this module's
    source (the environment's settings, :func:`template_env`), so that any change of those misses.
    A file that cannot be read or written is compiled as without the cache."""

    def __init__(self, salt: str) -> None:
        super().__init__(pattern="__nianbao_%s.cache")
        self.salt = salt

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(f"{self.salt}|{name}", filename)

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a damaged or foreign file (pickle's and marshal's errors): compiled anew
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _compiled_templates() -> BytecodeCache | None:
    """:class:`_CompiledTemplates`, or None when there is no safe folder for them (or
    ``NIANBAO_TEMPLATE_CACHE=0``)."""
    if os.environ.get("NIANBAO_TEMPLATE_CACHE") == "0":
        return None
    import hashlib
    import sys

    import jinja2

    try:
        h = hashlib.sha256(f"{jinja2.__version__}|{sys.version}|".encode())
        h.update(Path(__file__).read_bytes())
        return _CompiledTemplates(h.hexdigest())
    except (OSError, RuntimeError):  # RuntimeError: Jinja found no safe folder
        return None


@cache
def _env() -> Environment:
    env = template_env(PackageLoader("nianbao.report", "templates"))
    # the templates are part of the installed package: not checked for changes on disk each time
    # one is used (a stat per template, include and import of every page: ~6 per report page)
    env.auto_reload = False
    env.bytecode_cache = _compiled_templates()
    return env


@cache
def _template(name: str) -> Template:
    return _env().get_template(name)


def fmt_value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return format_number(v)
    return str(v)


class Row(dict[str, Any]):
    """A dict whose keys templates read as attributes (``r.agency``) without Jinja first trying —
    and failing — a real attribute: a third of the cost of each ``{{ r.x }}`` on a plain dict."""

    __slots__ = ()

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


# ------------------------------------------------------------------ the printed tables (per format)


@dataclass(frozen=True, slots=True)
class Label:
    text: str
    rowspan: int = 1
    colspan: int = 1
    element: str | None = None  # the structural id a finding may name (e.g. "3:3.3.2:*")


@dataclass(frozen=True, slots=True)
class PRow:
    labels: tuple[Label, ...]
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class T2Block:
    title: str
    columns: tuple[tuple[str, str], ...]  # (column element id, label)
    rows: tuple[PRow, ...]


_BLOCK_TITLE = "第二十条第（{}）项"


@cache
def t2_blocks(fmt: Fmt) -> tuple[T2Block, ...]:
    t = tables(fmt)["2"]
    blocks: list[T2Block] = []
    order: list[str] = []
    by_block: dict[str, list[str]] = {}
    for r in t.rows:
        assert r.block is not None
        if r.block not in by_block:
            order.append(r.block)
            by_block[r.block] = []
        by_block[r.block].append(r.id)
    for b in order:
        first = t.row(by_block[b][0])
        cols = tuple((f"2:*:{c}", t.column(c).label) for c in first.columns)
        rows = tuple(
            PRow(
                (Label(t.row(rid).label, element=f"2:{rid}:*"),),
                tuple(f"2:{rid}:{c}" for c in t.row(rid).columns),
            )
            for rid in by_block[b]
        )
        blocks.append(T2Block(_BLOCK_TITLE.format(b), cols, rows))
    return tuple(blocks)


@cache
def t3_rows(fmt: Fmt) -> tuple[PRow, ...]:
    t = tables(fmt)["3"]
    outcome_rows = [r for r in t.rows if r.id.startswith("3.")]
    group_sizes = Counter(r.group for r in t.rows if r.group and r.group != "3")
    out: list[PRow] = []
    seen_groups: set[str] = set()
    for r in t.rows:
        labels: list[Label] = []
        el = f"3:{r.id}:*"
        if r.id == outcome_rows[0].id:
            labels.append(Label("三、本年度办理结果", rowspan=len(outcome_rows)))
        if r.group is None:
            labels.append(Label(r.label, colspan=3, element=el))
        elif r.group == "3":
            labels.append(Label(r.label, colspan=2, element=el))
        else:
            group_label, _, sub = r.label.partition(" ")
            if r.group not in seen_groups:
                seen_groups.add(r.group)
                labels.append(Label(group_label, rowspan=group_sizes[r.group]))
            labels.append(Label(sub or r.label, element=el))
        out.append(PRow(tuple(labels), tuple(f"3:{r.id}:{c.id}" for c in t.columns)))
    return tuple(out)


T3_HEAD = {c.id: c.label for c in T3_COLUMNS}
T4_HEAD = tuple((f"4:*:{c.id}", c.label) for c in T4_COLUMNS)
T4_CELLS = tuple(f"4:{r.id}:{c.id}" for r in T4_ROWS for c in T4_COLUMNS)


# ------------------------------------------------------------------ views of cells and findings


def _cell_text(c: Cell | None) -> tuple[str, str]:
    if c is None or c.state is State.MISSING:
        return "缺", "missing"
    if c.state is State.BLANK and not c.raw:
        return "", "blank"
    return c.raw or fmt_value(c.value), "v"


@cache
def _cell_titles(fmt: Fmt) -> dict[str, Markup]:
    return {cid: escape(cell_words(cid, fmt)) for t in tables(fmt).values() for cid in t.cells()}


def _esc(s: str) -> Markup | str:
    # digits (the common case) carry nothing to escape or clean
    return s if s.isdigit() else escape(clean_text(s))


def _where(c: Cell) -> str:
    if c.where:
        return escape(clean_text(c.where))
    if c.line and c.col:
        return f"源文件第 {c.line} 行第 {c.col} 格"
    if c.line:
        return f"源文件第 {c.line} 行"
    return ""


def key_severity(fl: Flag, findings: dict[int, Finding]) -> str | None:
    """The severity the cell is *to look at* with, None when it is only involved: a cell error
    localisation suspects (the severity of the findings it explains), or the cell a finding without
    suspects is about (a blank: a warning; a text cell, a negative count: an error).  Only these
    are tinted strongly; the other cells a sum rule involves are tinted lightly — the likely wrong
    cell stands out, a blank column does not turn red because a sum over it fails."""
    cell = fl.suspect.cell if fl.suspect is not None else None
    why = [
        findings[k].severity
        for k in fl.findings
        if any(s.cell == cell for s in findings[k].suspects or ()) or (k in fl.primary and not findings[k].suspects)
    ]
    return min(why, key=lambda sev: SEV_RANK.get(sev, 3)) if why else None


def badges_html(fl: Flag, findings: dict[int, Finding]) -> str:
    """One badge per rule, linked to its first finding, with the count when there are several
    (``A01 ×3``), in the order the findings came."""
    first: dict[str, int] = {}
    n: Counter[str] = Counter()
    for k in fl.primary:
        rule = findings[k].rule
        first.setdefault(rule, k)
        n[rule] += 1
    return "".join(
        f'<a class="badge b-{escape(findings[k].severity)}" href="#f-{k}">'
        f"{escape(rule)}{f' ×{n[rule]}' if n[rule] > 1 else ''}</a>"
        for rule, k in first.items()
    )


def _flagged_td(
    cid: str,
    label: str,
    c: Cell | None,
    fl: Flag,
    findings: dict[int, Finding],
    memo: _FlagMemo | None = None,
) -> str:
    """A flagged cell's ``<td>``.  ``memo``: the parts that depend only on the cell's findings
    (the cells a sum rule flags share them), kept for the other cells of the same page."""
    text, cls = _cell_text(c)
    return _flagged_cell(cid, label, _esc(text), cls, _where(c) if c is not None else "", fl, findings, memo)


class _FlagMemo:
    """What the flagged cells of one page share, made once per set of findings (the cells a sum
    rule flags have the same findings): the ``<td>``'s messages, finding ids, rules and badges, and
    the severity a cell is to look at with (:func:`key_severity`, by the set and the suspect)."""

    __slots__ = ("keys", "parts", "tds")

    def __init__(self) -> None:
        self.parts: dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[str, str, str, str]] = {}
        self.keys: dict[tuple[tuple[tuple[int, ...], tuple[int, ...]], str | None], str | None] = {}
        # (the findings' set and the suspect, the cell's own class, the severity, the suggestion)
        # -> the <td>'s pieces around the cell's id, title and text
        self.tds: dict[Any, tuple[str, str, str]] = {}


def _flagged_cell(
    cid: str,
    label: str,
    text: str,
    cls: str,
    where: str,
    fl: Flag,
    findings: dict[int, Finding],
    memo: _FlagMemo | None,
) -> str:
    """:func:`_flagged_td` from the cell's text and source location, both already escaped.  What
    does not depend on the cell itself (its classes past its own, the messages, ids, rules, badges
    and suggestion) is made once per page for the cells of the same findings (``memo.tds``)."""
    title = f"{label} ｜ {where}" if where else label
    if memo is None:
        memo = _FlagMemo()
    sus = fl.suspect
    mk = (tuple(fl.findings), tuple(fl.primary))
    sk = (mk, sus.cell if sus is not None else None)
    tk = (sk, cls, fl.severity, sus.suggested if sus is not None else None)
    made = memo.tds.get(tk)
    if made is None:
        full = f"{cls} hl hl-{fl.severity}"
        if sk in memo.keys:
            key = memo.keys[sk]
        else:
            key = memo.keys[sk] = key_severity(fl, findings)
        if key is not None:
            full += f" key key-{key}"
        if sus is not None:
            full += " suspect"
        parts = memo.parts.get(mk)
        if parts is None:
            msgs = "".join(f"\n{findings[k].rule}：{findings[k].message}" for k in fl.findings[:3])
            parts = memo.parts[mk] = (
                escape(clean_text(msgs)),
                " ".join(f"f-{k}" for k in fl.findings),
                escape(" ".join(fl.rules)),
                badges_html(fl, findings),
            )
        msgs_html, ids, rules_html, badges = parts
        suggest = f'<span class="suggest">建议 {escape(fmt_value(sus.suggested))}</span>' if sus is not None else ""
        made = memo.tds[tk] = (
            f'" class="{full}" title="',
            f'{msgs_html}" data-findings="{ids}" data-rules="{rules_html}">',
            f"{badges}{suggest}</td>",
        )
    return f'<td data-cell="{cid}{made[0]}{title}{made[1]}{text}{made[2]}'


def _plain_td(cid: str, c: Cell | None) -> str:
    text, cls = _cell_text(c)
    where = _where(c) if c is not None else ""
    tip = f' title="{where}"' if where else ""
    return f'<td data-cell="{cid}" class="{cls}"{tip}>{_esc(text)}</td>'


@cache
def _positions(fmt: Fmt) -> tuple[tuple[str, int], ...]:
    """(cell id, its position in the report's cell arrays) for every cell of the format."""
    return tuple((cid, INDEX.get(cid, -1)) for cid in _cell_titles(fmt))


@cache
def _heads(fmt: Fmt) -> tuple[tuple[str, int, str], ...]:
    """:func:`_positions` with each cell's ``<td`` up to its class value (``<td data-cell="…" class="``)."""
    return tuple((cid, i, f'<td data-cell="{cid}" class="') for cid, i in _positions(fmt))


_N_STATES = len(STATES)
_MISSING = STATES.index(State.MISSING)
_BLANK = STATES.index(State.BLANK)
_NUMBER_CODES = frozenset({STATES.index(State.VALUE), STATES.index(State.ZERO)})
_MISSING_TEXT = escape(clean_text("缺"))
_NUMBER_TEXT = {float(k): str(k) for k in range(10000)}  # number_text of the common values


def cell_views(rep: ParsedReport, fmt: Fmt, flags: dict[str, Flag], findings: dict[int, Finding]) -> dict[str, str]:
    """cell id -> its ``<td>``, as already-escaped HTML (built here rather than by a template macro:
    ~220 cells per page, and a macro call per cell dominated the rendering time).  Every text is
    escaped with markupsafe; only cell ids (from the spec), digits and our own class names go in
    unescaped.  A cell is read straight from the report's column arrays (no :class:`Cell` built);
    an unflagged cell's tooltip only says where it was read (the labels are on screen).

    Most cells of most reports are a small whole number read at a line and position, with no
    printed text of its own and no source location: those are made in one tight loop over the
    format's cells gathered at once (:func:`_gather`), every other cell and every flagged one by
    :func:`_cell_td` (the same markup)."""
    out: dict[str, str] = {}
    titles = _cell_titles(fmt)
    memo = _FlagMemo()
    cells = rep.cells
    if not isinstance(cells, CellMap):  # a report whose cells were replaced by a plain dict
        for cid, label in titles.items():
            c = cells.get(cid)
            fl = flags.get(cid)
            out[cid] = _plain_td(cid, c) if fl is None else _flagged_td(cid, label, c, fl, findings)
        return out
    tds = _cell_list(rep, fmt, flags, findings, memo)
    if tds is not None:
        return dict(zip(_ids(fmt), tds, strict=True))
    arrays = cells.arrays()
    sparse = cells.sparse()
    for cid, i, head in _heads(fmt):
        fl = flags.get(cid) if flags else None
        out[cid] = _cell_td(arrays, sparse, cells, cid, i, head, fl, titles, findings, memo)
    return out


def _cell_list(
    rep: ParsedReport, fmt: Fmt, flags: dict[str, Flag], findings: dict[int, Finding], memo: _FlagMemo | None = None
) -> list[str] | None:
    """:func:`cell_views`' ``<td>``s as a list in :func:`_heads` order, for a report whose cells are
    column arrays holding every cell of the format (None otherwise: :func:`cell_views` makes them)."""
    cells = rep.cells
    gather = _gather(fmt)
    if gather is None or not isinstance(cells, CellMap):
        return None
    titles = _cell_titles(fmt)
    if memo is None:
        memo = _FlagMemo()
    arrays = cells.arrays()
    values, states, lines, cols, _raws = arrays
    # the texts that are not the plain ones and the source locations, by position: most reports
    # have neither, and a plain text is made here from the state and the value (model.plain_raw)
    sparse = cells.sparse()
    raw_map, where_map, _extra = sparse
    out: list[str] = []
    add = out.append
    numbers = _NUMBER_TEXT
    number_codes = _NUMBER_CODES
    at = _AT_TEXT
    for (cid, i, head), code, v, line, col in zip(
        _heads(fmt), gather(states), gather(values), gather(lines), gather(cols), strict=True
    ):
        if code in number_codes and (text := numbers.get(v)) is not None:  # digits: nothing to escape
            if not line:
                add(f'{head}v">{text}</td>')
            elif col:
                where = at.get((line << 16) | col)
                if where is None:
                    where = _at_text(line, col)
                add(f"{head}v{where}{text}</td>")
            else:
                add(f'{head}v" title="源文件第 {line} 行">{text}</td>')
        else:
            add(_cell_td(arrays, sparse, cells, cid, i, head, None, titles, findings, memo))
    # the cells with a printed text or a source location of their own, and the flagged ones, again
    if raw_map or where_map:
        place = _places_at(fmt)
        for i in {*(raw_map or ()), *(where_map or ())}:
            if (ch := place.get(i)) is not None:
                k, cid, head = ch
                fl = flags.get(cid) if flags else None
                out[k] = _cell_td(arrays, sparse, cells, cid, i, head, fl, titles, findings, memo)
    if flags:
        k_of = _index_of(fmt)
        for cid, fl in flags.items():
            if (at_k := k_of.get(cid)) is not None:
                out[at_k] = _cell_td(arrays, sparse, cells, cid, INDEX.get(cid, -1), "", fl, titles, findings, memo)
    return out


@cache
def _ids(fmt: Fmt) -> tuple[str, ...]:
    """The format's cell ids in :func:`_heads` order."""
    return tuple(cid for cid, _i, _head in _heads(fmt))


@cache
def _index_of(fmt: Fmt) -> dict[str, int]:
    """cell id -> its place in :func:`_heads` order."""
    return {cid: k for k, cid in enumerate(_ids(fmt))}


@cache
def _places_at(fmt: Fmt) -> dict[int, tuple[int, str, str]]:
    """:func:`_places` with each cell's place in :func:`_heads` order: position in the report's
    cell arrays -> (place, cell id, its ``<td`` head)."""
    k_of = _index_of(fmt)
    return {i: (k_of[cid], cid, head) for i, (cid, head) in _places(fmt).items()}


@cache
def _places(fmt: Fmt) -> dict[int, tuple[str, str]]:
    """position in the report's cell arrays -> (cell id, its ``<td`` head) of the format's cells."""
    return {i: (cid, head) for cid, i, head in _heads(fmt) if i >= 0}


@cache
def _gather(fmt: Fmt) -> Callable[[Any], tuple[Any, ...]] | None:
    """The format's cells taken from a report's column array at once, in :func:`_heads` order
    (None when one of them is not in the arrays)."""
    positions = [i for _cid, i, _head in _heads(fmt)]
    if len(positions) < 2 or min(positions) < 0:
        return None
    return itemgetter(*positions)


# the tooltip of a cell read at (line, position), ``line << 16 | position``: a page's cells are at
# a few hundred places, the same in most reports of a format (kept for the first lines only, and
# at most _AT_MAX of them: odd reports' places would otherwise pile up for the process's life)
_AT_TEXT: dict[int, str] = {}
_AT_LINES = 4096
_AT_MAX = 1 << 15


def _at_text(line: int, col: int) -> str:
    text = f'" title="源文件第 {line} 行第 {col} 格">'
    if line < _AT_LINES and col < 1 << 16 and len(_AT_TEXT) < _AT_MAX:
        _AT_TEXT[(line << 16) | col] = text
    return text


def _cell_td(
    arrays: tuple[array[float], bytearray, array[int], array[int], Any],
    sparse: tuple[dict[int, str] | None, dict[int, str] | None, Any],
    cells: CellMap,
    cid: str,
    i: int,
    head: str,
    fl: Flag | None,
    titles: dict[str, Markup],
    findings: dict[int, Finding],
    memo: _FlagMemo,
) -> str:
    """One cell's ``<td>`` (:func:`cell_views`) from the report's arrays and sparse maps
    (:meth:`CellMap.arrays`, :meth:`CellMap.sparse`); ``head``: its ``<td`` up to the class value
    (:func:`_heads`; only needed when ``fl`` is None)."""
    if i < 0:  # a cell the arrays do not hold
        c = cells.get(cid)
        return _plain_td(cid, c) if fl is None else _flagged_td(cid, titles[cid], c, fl, findings, memo)
    values, states, lines, cols, _raws = arrays
    raw_map, where_map, _extra = sparse
    code = states[i]
    if code >= _N_STATES:  # not in the report
        if fl is None:
            return f'{head}missing">缺</td>'
        return _flagged_cell(cid, titles[cid], _MISSING_TEXT, "missing", "", fl, findings, memo)
    text: str | None
    if code == _MISSING:
        text, cls = _MISSING_TEXT, "missing"
    else:
        text = raw_map.get(i) if raw_map else None
        if text is None:
            if code in _NUMBER_CODES:
                v = values[i]
                # v != v: NaN; the texts of small whole numbers looked up (model.number_text)
                text = "" if v != v else _NUMBER_TEXT.get(v) or number_text(v)
            else:
                text = ""
        if not text:
            if code == _BLANK:
                text, cls = "", "blank"
            else:
                v = values[i]
                text, cls = fmt_value(None if math.isnan(v) else v), "v"
        else:
            cls = "v"
        if not text.isdigit():  # digits (the common case) carry nothing to escape or clean
            text = escape(clean_text(text))
    w = where_map.get(i) if where_map else None
    line = lines[i]
    if fl is not None:
        where: str
        if w:
            where = escape(clean_text(w))
        elif not line:
            where = ""
        elif cols[i]:
            where = f"源文件第 {line} 行第 {cols[i]} 格"
        else:
            where = f"源文件第 {line} 行"
        return _flagged_cell(cid, titles[cid], text, cls, where, fl, findings, memo)
    if w:
        return f'{head}{cls}" title="{escape(clean_text(w))}">{text}</td>'
    if not line:
        return f'{head}{cls}">{text}</td>'
    if cols[i]:
        return f'{head}{cls}" title="源文件第 {line} 行第 {cols[i]} 格">{text}</td>'
    return f'{head}{cls}" title="源文件第 {line} 行">{text}</td>'


class _Slots:
    """Stands in for the highlight classes while a table skeleton is rendered."""

    def get(self, element: str, default: str = "") -> Markup:
        return Markup(f"\x00E{element}\x00")


_SLOT = re.compile("\x00([EC])([^\x00]*)\x00")


@dataclass(frozen=True, slots=True)
class Skeleton:
    """A statutory table's markup split at its slots: ``static[0] slot[0] static[1] … static[n]``."""

    static: tuple[str, ...]
    cells: tuple[bool, ...]  # per slot: a cell (True) or the highlight class of an element
    ids: tuple[str, ...]

    def fill(self, cells: dict[str, str], el: dict[str, str]) -> Markup:
        parts: list[str] = [""] * (2 * len(self.ids) + 1)
        parts[0::2] = self.static
        parts[1::2] = [cells[i] if c else el.get(i, "") for c, i in zip(self.cells, self.ids, strict=True)]
        return Markup("".join(parts))


@cache
def skeleton(fmt: Fmt, table: str) -> Skeleton:
    """Table ``table`` ("2", "3", "4") of format ``fmt`` rendered from ``_tables.html.j2`` once,
    with a placeholder for each cell's ``<td>`` and each element's highlight class."""

    def slots(row: Iterable[str]) -> Markup:
        return Markup("".join(f"\x00C{cid}\x00" for cid in row))

    html = _template("_tables.html.j2").render(
        which=table,
        el=_Slots(),
        t2=t2_blocks(fmt),
        t3=t3_rows(fmt),
        t2_html=[[slots(r.cells) for r in b.rows] for b in t2_blocks(fmt)],
        t3_html=[slots(r.cells) for r in t3_rows(fmt)],
        t4_html=slots(T4_CELLS),
        t3_head=T3_HEAD,
        t4_head=T4_HEAD,
        table_names={t: table_name(t) for t in ("2", "3", "4")},
    )
    parts = _SLOT.split(html)
    return Skeleton(tuple(parts[0::3]), tuple(k == "C" for k in parts[1::3]), tuple(parts[2::3]))


def page_tables(rep: ParsedReport, fmt: Fmt, flags: dict[str, Flag], findings: dict[int, Finding]) -> dict[str, Markup]:
    """The three statutory tables of a report page: each :func:`skeleton` filled with the cells'
    ``<td>``s and the elements' highlight classes (``Skeleton.fill``).  When no element is
    highlighted (most pages), the ``<td>``s are made as a list (:func:`_cell_list`) and each table
    is joined from it and the skeletons' static parts in one gathered step (:func:`_fill_plan`):
    the same markup, without the dict of cells and the per-slot look-ups."""
    el = _element_flags(flags)
    plan = None if el else _fill_plan(fmt)
    tds = _cell_list(rep, fmt, flags, findings) if plan is not None else None
    if plan is None or tds is None:
        cells = cell_views(rep, fmt, flags, findings)
        return {t: skeleton(fmt, t).fill(cells, el) for t in ("2", "3", "4")}
    statics, getters = plan
    tds.append("")  # an element's class when none is highlighted
    tds += statics
    return {t: Markup("".join(get(tds))) for t, get in getters}


@cache
def _fill_plan(fmt: Fmt) -> tuple[list[str], tuple[tuple[str, Callable[[list[str]], tuple[str, ...]]], ...]] | None:
    """For :func:`page_tables`: the three skeletons' static parts (one list), and per table a
    getter that takes its parts in order — static, slot, static … — from the list of
    :func:`_cell_list`'s ``<td>``s, an empty string (every element's class) and those static parts.
    None when a skeleton has a cell :func:`_heads` does not (``Skeleton.fill`` then says so)."""
    k_of = _index_of(fmt)
    blank = len(k_of)
    statics: list[str] = []
    getters = []
    for t in ("2", "3", "4"):
        sk = skeleton(fmt, t)
        base = blank + 1 + len(statics)
        statics += sk.static
        order: list[int] = []
        for j, (is_cell, sid) in enumerate(zip(sk.cells, sk.ids, strict=True)):
            order.append(base + j)
            if not is_cell:
                order.append(blank)
            elif (k := k_of.get(sid)) is not None:
                order.append(k)
            else:
                return None
        order.append(base + len(sk.static) - 1)
        getters.append((t, itemgetter(*order)))
    return statics, tuple(getters)


def _element_flags(flags: dict[str, Flag]) -> dict[str, str]:
    """structural element id -> css classes (rows, columns, tables a finding names with ``*``)."""
    return {el: f"hl hl-{fl.severity}" for el, fl in flags.items() if "*" in el}


def _is_structural(f: Finding) -> bool:
    return not f.cells or any("*" in c for c in f.cells)


def _cells_text(fmt: Fmt, cells: list[str]) -> list[str]:
    out = [cell_words(c, fmt) for c in cells[:12]]
    if len(cells) > 12:
        out.append(f"等共 {len(cells)} 格")
    return out


def _values(f: Finding, rep: ParsedReport | None) -> list[tuple[str, str]]:
    """What a finding shows as its two sides, each saying which side is which: 应为 / 报告填写 for a
    rule of the tables (a blank printed total is 空白, not 0); 正文写 / 表格填 for a sentence of
    the text against the table (neither side is presumed right)."""
    expected, actual = fmt_value(f.expected), fmt_value(f.actual)
    if printed_blank(f, rep):
        return [("应为", expected), ("报告填写", BLANK_ZH)]
    sides = text_and_table(f, rep)
    if sides is not None:
        return [("正文写", fmt_value(sides[0])), ("表格填", fmt_value(sides[1]))]
    return [("应为", expected), ("报告填写", actual)]


def _table_suspects(f: Finding, suspects: dict[str, Suspect]) -> list[Suspect]:
    """The suspects (of any finding of the report) among a text rule's table cells."""
    if not is_text_against_table(f):
        return []
    return [suspects[c] for c in f.cells if c in suspects]


def finding_view(
    q: Quality,
    k: int,
    f: Finding,
    fmt: Fmt,
    file_index: int | None,
    rep: ParsedReport | None = None,
    report_suspects: dict[str, Suspect] | None = None,
    anchor: int | None = None,
) -> dict[str, Any]:
    """One finding as its report page shows it (``k``: its index in the run's findings; ``anchor``:
    its number on the page, ``f-<anchor>``, default ``k``)."""
    rv = q.review
    r = catalogue().get(f.rule)
    if k >= 0:
        status, ack = rv.status[k], rv.acks.get(k)
    else:  # (k -1: a summarised info, nianbao.outcome.InfoSummary)
        ack = rv.common_acks.get((f.report, f.rule, tuple(f.cells)))
        status = COMMON if ack is None else ACKED
    table_wrong = [
        Row(label=cell_words(s.cell, fmt), reported=_shown(s.reported), suggested=fmt_value(s.suggested))
        for s in _table_suspects(f, report_suspects or {})
    ]
    suspects = [
        Row(
            cell=s.cell,
            label=cell_words(s.cell, fmt),
            reported=_shown(s.reported),
            suggested=fmt_value(s.suggested),
            cause=cause_zh(s.cause),
            alternative=alternative(s) + 1,
        )
        for s in (f.suspects or [])
    ]
    return Row(
        {
            "k": k,
            "id": f"f-{k if anchor is None else anchor}",
            "rule": f.rule,
            "title": r.title if r else f.rule,
            "severity": f.severity,
            "sev_zh": SEVERITY_ZH.get(f.severity, f.severity),
            "message": f.message,
            "expected": fmt_value(f.expected),
            "actual": fmt_value(f.actual),
            "values": _values(f, rep),
            "table_wrong": table_wrong,
            "fix": f.fix,
            "fix_ref": None,  # set by report_context when the same advice was given above
            "fix_likely": False,  # the likely fix is in the 疑似错误单元格 block (said once)
            "line": f.line,
            "where": getattr(f, "where", None),
            "quote": f.quote,
            "cells": _cells_text(fmt, f.cells),
            "status": status,
            "status_zh": STATUS_ZH[status],
            "corrected": status == STILL and file_index is not None and rv.report_change[file_index] == CORRECTED,
            "ack": ack,
            "ack_date": zh_time(ack.date) if ack is not None else "",
            "ack_cmd": _ack_command(f) if f.severity in ACKABLE and ack is None else None,
            "suspects": suspects,
        }
    )


def finding_html(v: dict[str, Any], rules_href: str = "../rules.html") -> str:
    """One finding of a report page (a view of :func:`finding_view`, after :func:`_share_advice`)
    as its ``<li>``: what the ``finding`` macro of ``_macros.html.j2`` rendered, built here (a page
    shows several, and the macro's per-value finalize and escape were most of the page's template
    time).  Every value goes through :func:`h`; ``tests/report/test_finding_html.py`` compares
    the markup with the macro's on every kind of finding."""
    sev, rule, status = hr(v["severity"]), hr(v["rule"]), hr(v["status"])
    out = [
        f'<li id="{hr(v["id"])}" class="sev-l-{sev}" data-rule="{rule}" data-status="{status}">\n'
        '  <div class="f-head">\n'
        f'    <span class="sev sev-{sev}">{hr(v["sev_zh"])}</span>\n'
        f'    <a href="{hr(rules_href)}#{rule}" class="rule-link">{rule}</a> {hr(v["title"])}\n'
        f'    <span class="st st-{status}">{hr(v["status_zh"])}'
        f"{'（报告已更正，问题仍在）' if v['corrected'] else ''}</span>\n"
        "  </div>\n"
        f'  <div class="f-msg">{h(v["message"])}</div>\n'
    ]
    if v["quote"]:
        out.append(f"<blockquote>{h(v['quote'])}</blockquote>")
    vals = "　".join(f"{hr(lab)}：<b>{hr(val)}</b>" for lab, val in v["values"])
    out.append(f'  <div class="f-vals">{vals}</div>\n')
    fix_ref = v["fix_ref"]
    if v["table_wrong"]:
        wrong = "；".join(f"{h(s['label'])}由 {h(s['reported'])} 改为 {h(s['suggested'])}" for s in v["table_wrong"])
        out.append(
            f'  <div class="f-fix table-wrong">按表内勾稽关系推断，更可能填错的是表格：{wrong}'
            "（见上方“疑似错误单元格”）。先改表格，再核对正文是否与改正后的表格一致。</div>\n"
        )
    elif v["fix_likely"]:
        more = (
            f'另见 <a href="#{h(fix_ref[0])}">{h(fix_ref[1])}</a> 的改正建议。'
            if fix_ref
            else h(v["fix"])
            if v["fix"]
            else ""
        )
        out.append(
            '<div class="f-fix f-ref">改正建议：最可能的改法见上方“<a href="#suspects">疑似错误单元格</a>”。'
            f"{more}</div>\n"
        )
    elif fix_ref:
        out.append(
            f'<div class="f-fix f-ref">改正建议：同 <a href="#{h(fix_ref[0])}">{h(fix_ref[1])}</a>（见上）。</div>\n'
        )
    elif v["fix"]:
        out.append(f'<div class="f-fix">改正建议：{h(v["fix"])}</div>')
    if v["suspects"] and not v["fix_likely"]:
        items = "；".join(
            f"{h(s['label'])}（填写 {h(s['reported'])}，建议 {h(s['suggested'])}）" for s in v["suspects"]
        )
        out.append(f'  <div class="f-meta">疑似错误单元格：\n{items}  </div>\n')
    if v["where"]:
        at = f"源文件{h(v['where'])}"
    elif v["line"]:
        at = f"源文件第 {h(v['line'])} 行"
    else:
        at = "源文件中无对应行"
    cells = v["cells"]
    if not cells:
        involved = ""
    elif len(cells) <= 3:
        involved = f"｜涉及：{hr('；'.join(cells))}"
    else:
        involved = (
            f"｜涉及：{h(cells[0])} 等 {len(cells)} 处"
            f'<details class="cells"><summary>全部列出</summary>{h("；".join(cells))}</details>'
        )
    out.append(f'  <div class="f-meta">\n{at}{involved}  </div>\n')
    ack = v["ack"]
    if ack:
        note = f"：{h(ack.note)}" if ack.note else ""
        out.append(
            f'  <div class="f-meta">已由 {h(ack.reviewer)} 于 {h(v["ack_date"])} 复核{note}'
            "（报告内容变化后需重新复核）</div>\n"
        )
    elif v["ack_cmd"]:
        out.append(
            '  <details class="f-meta noprint"><summary>标记为已复核</summary>\n'
            f'    <code class="cmd">{h(v["ack_cmd"])}</code>\n'
            "  </details>\n"
        )
    out.append("</li>")
    return "".join(out)


def finding_list(views: list[dict[str, Any]]) -> Markup:
    """A list of findings of a report page: an ``<ol>`` of their :func:`finding_html` (nothing
    when there is none)."""
    if not views:
        return Markup("")
    return Markup('<ol class="findings">' + "".join(v["html"] for v in views) + "</ol>")


def _ack_command(f: Finding) -> str:
    """The command an auditor runs to mark this finding as reviewed (shell-quoted: file names are
    hostile): ``shlex.join`` of its words, the fixed ones quoted once (:data:`_ACK_WORDS`) and the
    cell ids once per process (a bounded set: the cells of the statutory tables)."""
    cells = "".join([_ack_cell(c) for c in f.cells])
    return f"{_ACK_HEAD}{shlex.quote(f.file)} --rule {shlex.quote(f.rule)}{cells}{_ACK_TAIL}"


_ACK_HEAD = shlex.join(["nianbao", "ack", "--acks", "acknowledgements.csv", "--file"]) + " "
_ACK_TAIL = " " + shlex.join(["--reviewer", "姓名", "--note", "复核说明"])
_ACK_CELLS: dict[str, str] = {}


def _ack_cell(cell: str) -> str:
    """`` --cell <cell id, quoted>``, kept for the cell ids of the tables (at most a few thousand)."""
    words = _ACK_CELLS.get(cell)
    if words is None:
        words = f" --cell {shlex.quote(cell)}"
        if len(_ACK_CELLS) < 4096:
            _ACK_CELLS[cell] = words
    return words


def _shown(v: float | None) -> str:
    return BLANK_ZH if v is None else fmt_value(v)


# ------------------------------------------------------------------ pages


def _file_row(q: Quality, i: int, fo: FileOutcome, prefix: str) -> dict[str, Any]:
    """One report as a row of a list (``prefix``: the way from the page to the output folder)."""
    state, state_cls = state_of(fo)
    return Row(
        {
            "i": i,
            "agency": agency_label(fo),
            "year": year_label(fo),
            "file": fo.file,
            "format": fo.format,
            "status": fo.status,
            "state": state,
            "state_cls": state_cls,
            "reason": fo.reason,
            "errors": fo.errors,
            "warnings": fo.warnings,
            "infos": fo.infos,
            "new": q.new[i],
            "acked": q.acked[i],
            "change": CHANGE_ZH[q.review.report_change[i]],
            "href": q.href(i, prefix),
            "paged": q.paged[i],
        }
    )


def _chart(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Bars of errors and warnings per report (inline SVG geometry, computed here)."""
    rows = list(islice((r for r in rows if r["errors"] or r["warnings"]), CHART_ROWS))
    peak = max((r["errors"] + r["warnings"] for r in rows), default=0) or 1
    bar_x, bar_w, h = 230, 440, 22
    bars = []
    for n, r in enumerate(rows):
        we = bar_w * r["errors"] / peak
        ww = bar_w * r["warnings"] / peak
        name = f"{r['agency']} {r['year'] or ''}".strip()
        bars.append(
            {
                "y": n * h,
                "label": name if len(name) <= 16 else name[:15] + "…",
                "full": name,
                "we": round(we, 1),
                "ww": round(ww, 1),
                "xw": round(bar_x + we, 1),
                "xt": round(bar_x + we + ww + 6, 1),
                "errors": r["errors"],
                "warnings": r["warnings"],
            }
        )
    return {"bars": bars, "height": len(bars) * h + 4, "bar_x": bar_x, "width": bar_x + bar_w + 80}


def _registry_view(q: Quality) -> dict[str, Any] | None:
    """Submitted vs expected per year; the missing agencies (at most NEWS_LIMIT per year here —
    every county page lists its own)."""
    if q.registry is None:
        return None
    o = q.outcome
    keys = {a.key for a in o.registry or []}
    unregistered = [f for f in o.files if f.agency and normalise_agency(f.agency) not in keys]
    years = [
        y | {"missing": y["missing"][:NEWS_LIMIT], "missing_more": max(0, len(y["missing"]) - NEWS_LIMIT)}
        for y in q.registry
    ]
    return {
        "expected": len(keys),
        "years": years,
        "unregistered": unregistered[:NEWS_LIMIT],
        "unregistered_more": max(0, len(unregistered) - NEWS_LIMIT),
    }


def _county_rows(outcome: RunOutcome) -> dict[str, Any] | None:
    """The per-county table a run may carry (``outcome.info.counties``: rows of named columns)."""
    rows = list(outcome.info.counties or ())
    if not rows or not all(isinstance(r, dict) for r in rows):
        return None
    head = [str(k) for k in rows[0]]
    return {"head": head, "rows": [[fmt_value(r.get(k)) if r.get(k) is not None else "" for k in head] for r in rows]}


def _county_table(outcome: RunOutcome) -> dict[str, Any] | None:
    """:func:`_county_rows` with its rows as the markup of ``#counties`` (:func:`county_table_html`)."""
    table = _county_rows(outcome)
    if table is None:
        return None
    return {"head": table["head"], "rows": Markup(county_table_html(table["rows"]))}


def county_table_html(rows: list[list[Any]]) -> str:
    """The rows of the overview's ``#counties`` table (a row per county and year): the markup the
    template loop rendered (``tests/report/test_index_rows.py`` renders both and compares them)."""
    return "".join("<tr>" + "".join([f"<td>{h(v)}</td>" for v in r]) + "</tr>" for r in rows)


def county_summary_html(rows: list[dict[str, Any]]) -> str:
    """The rows of the overview's ``#county-summary`` table (:func:`county_summary`), each line as
    the template loop rendered it (``tests/report/test_index_rows.py``)."""
    out: list[str] = []
    for c in rows:
        name = h(c["name"])
        expected = "—" if c["expected"] is None else h(c["expected"])
        missing = "—" if c["missing"] is None else h(c["missing"])
        out.append(
            f'    <tr data-county="{name}"><td class="who"><a href="{h(c["href"])}" class="county-link">{name}</a>'
            f'</td><td class="n">{h(c["files"])}</td><td class="n">{expected}</td><td class="n">{missing}</td>\n'
            f'      <td class="n">{h(c["ok"])}</td><td class="n">{h(c["error"])}</td><td class="n">{h(c["warning"])}'
            f'</td><td class="n">{h(c["unreadable"])}</td><td class="n">{h(c["errors"])}</td><td class="n">'
            f'{h(c["warnings"])}</td><td class="n">{h(c["new"])}</td></tr>\n'
        )
    return "".join(out)


def batch_view(outcome: RunOutcome) -> dict[str, Any] | None:
    """The batch checks (rules M, run with Great Expectations over all reports together): which
    ran and passed, which failed, which did not run and why."""
    stats = outcome.info.batch_checks
    skipped = outcome.info.skipped_checks or {}
    checks = stats.get("checks") if isinstance(stats, dict) else None
    if not checks and not skipped:
        return None
    cat = catalogue()
    rows = [dict(c) for c in checks or []]
    rows.sort(key=lambda c: (c["ok"], c["rule"]))
    not_run = [
        {"rule": code, "title": cat[code].title if code in cat else code, "why": why}
        for code, why in sorted(skipped.items())
        if code.startswith("M")
    ]
    return {
        "checks": rows,
        "failed": sum(1 for c in rows if not c["ok"]),
        "passed": sum(1 for c in rows if c["ok"]),
        "not_run": not_run,
    }


def _news(q: Quality) -> dict[str, Any]:
    o, rv = q.outcome, q.review
    new_ids = sorted(rv.new_findings(), key=lambda k: (SEV_RANK.get(o.findings[k].severity, 3), k))
    new_rows: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for k in new_ids:
        f = o.findings[k]
        rows = new_rows[f.severity == "info"]
        if len(rows) >= NEWS_LIMIT:
            continue
        fi = q.file_index.get(f.report)
        rows.append(
            {
                "agency": f.agency or (agency_label(o.files[fi]) if fi is not None else NO_AGENCY),
                "year": f.year,
                "rule": f.rule,
                "severity": f.severity,
                "sev_zh": SEVERITY_ZH.get(f.severity, f.severity),
                "message": f.message,
                "href": (f"{q.href(fi)}#f-{q.anchor[k]}" if q.paged[fi] else q.href(fi)) if fi is not None else None,
            }
        )
    n_info = sum(1 for k in new_ids if o.findings[k].severity == "info")
    # (each file's index by name only when a finding was resolved: not 100,000 entries a rerun)
    by_file = {fo.file: i for i, fo in enumerate(o.files)} if rv.resolved else {}
    resolved = []
    for pf in rv.resolved[:NEWS_LIMIT]:
        i = by_file.get(pf.get("now_file", ""))
        resolved.append(
            {
                "agency": pf.get("agency") or "（未识别机关）",
                "year": pf.get("year"),
                "rule": str(pf.get("rule")),
                "message": str(pf.get("message") or ""),
                "href": q.href(i) if i is not None else None,
            }
        )
    counts = rv.counts()
    return {
        "has_previous": rv.has_previous,
        "previous": str(rv.previous) if rv.previous else None,
        "previous_started_at": zh_time(rv.previous_started_at),
        "counts": counts,
        "new": new_rows[False],
        "new_more": max(0, counts["new"] - n_info - NEWS_LIMIT),
        "new_info": new_rows[True],
        "new_info_count": n_info,
        "resolved": resolved,
        "resolved_more": max(0, counts["resolved"] - NEWS_LIMIT),
        "submitted": [_file_row(q, i, o.files[i], "") for i in rv.files_with(SUBMITTED)[:NEWS_LIMIT]],
        "corrected": [_file_row(q, i, o.files[i], "") for i in rv.files_with(CORRECTED)[:NEWS_LIMIT]],
        "withdrawn": [
            {"file": str(s.get("file")), "agency": s.get("agency") or "（未识别机关）", "year": s.get("year")}
            for s in rv.withdrawn[:NEWS_LIMIT]
        ],
    }


def _rule_rows(counts: Counter[str], reports: dict[str, set[int]]) -> list[dict[str, Any]]:
    """One row per rule that fired (findings, reports), most severe and most frequent first."""
    cat = catalogue()
    rows: list[dict[str, Any]] = []
    for code, cnt in counts.items():
        rule = cat.get(code)
        sev = rule.severity.value if rule else "info"
        rows.append(
            {
                "code": code,
                "title": rule.title if rule else code,
                "severity": sev,
                "sev_zh": SEVERITY_ZH.get(sev, sev),
                "count": cnt,
                "reports": len(reports[code]),
            }
        )
    rows.sort(key=lambda row: (SEV_RANK.get(row["severity"], 3), -row["count"], row["code"]))
    return rows


def _rules_rows(outcome: RunOutcome) -> list[dict[str, Any]]:
    n = Counter(outcome.rule_counts())
    reports: dict[str, set[int]] = {}
    for f in outcome.findings:
        reports.setdefault(f.rule, set()).add(f.report)
    for sm in outcome.summaries:  # (a summarised info: once per report it applies to)
        reports.setdefault(sm.rule, set()).update(sm.reports)
    rows = _rule_rows(n, reports)
    peak = max((row["count"] for row in rows), default=1)
    for row in rows:
        row["pct"] = round(100 * row["count"] / peak, 1)
    return rows


def index_context(q: Quality, out: Path) -> dict[str, Any]:
    o = q.outcome
    files = o.files
    states = q.state_counts()  # (state_of's CSS class, without the Chinese name; shared with the workbook)
    worst = [_file_row(q, i, files[i], "") for i in q.order[:WORST_LIMIT]]
    chart_rows = (_file_row(q, i, files[i], "") for i in q.order if files[i].errors or files[i].warnings)
    return {
        "run": {
            "started_at": zh_time(o.started_at),
            "inputs": o.inputs,
            "timings": stages_zh(o.timings),
        },
        "counts": {
            "files": o.n_files,
            "ok": states["ok"],
            "error": states["error"],
            "warning": states["warning"],
            "unreadable": states["unreadable"],
            "errors": o.n_errors,
            "warnings": o.n_warnings,
            "infos": o.n_infos,
        },
        "news": _news(q),
        "registry": _registry_view(q),
        "rules": _rules_rows(o),
        "chart": _chart(chart_rows),
        "reports": worst,
        "reports_more": len(files) - len(worst),
        "large": q.large,
        "pages": sum(q.paged),
        # (the two tables of a row per county built in Python: thousands of rows, nine tenths of
        # the page's rendering as template loops)
        "county_summary": Markup(county_summary_html(county_summary(q))),
        # the batch checks in Chinese; Great Expectations' own Data Docs (English, for the ops
        # engineer) are listed in run.json and not linked from the auditor's pages
        "batch": batch_view(o),
        "counties": _county_table(o),
        "problems": q.review.problems,
        "pass_means": PASS_MEANS,
        # a run that did not finish (nianbao.run.interrupt): its notice, first on the page
        "incomplete": o.info.incomplete.notice if o.info.incomplete else None,
    }


def county_context(q: Quality, g: Group) -> dict[str, Any]:
    files = q.outcome.files
    rules: Counter[str] = Counter()
    reports: dict[str, set[int]] = {}
    for i in g.files:
        for _k, f in q.file_findings(files[i]):
            rules[f.rule] += 1
            reports.setdefault(f.rule, set()).add(i)
    rule_rows = _rule_rows(rules, reports)
    return {
        "name": g.name,
        "counts": group_counts(q, g),
        "missing": g.missing,
        "rules": rule_rows,
        "n_reports": len(g.files),
        "report_rows": Markup(county_rows_html(q, g)),
        "large": q.large,
    }


def county_rows_html(q: Quality, g: Group) -> str:
    """The rows of a county page's report list (``#county-report-list``), one per report of the
    county, worst first.  Built here, not by a template loop: a county of a large run lists
    thousands of reports, and Jinja's per-value finalize and escape were most of the page's time.
    Every value goes through :func:`h` (what ``{{ value }}`` prints); the markup is the one the
    template had (``tests/report/test_county_rows.py`` renders both and compares them)."""
    files = q.outcome.files
    change_of = q.review.report_change
    paged, new = q.paged, q.new
    out: list[str] = []
    # what recurs from row to row (the state and its class, the year, the change) escaped once
    seen: dict[tuple[type, Any], str] = {}

    def once(v: Any) -> str:
        k = (type(v), v)
        e = seen.get(k)
        if e is None:
            e = seen[k] = h(v)
        return e

    for n, i in enumerate(g.files, 1):
        fo = files[i]
        state, cls = state_of(fo)
        cls = once(cls)
        agency = h(agency_label(fo))
        who = (
            f'<a href="{h(q.href(i, "../"))}" class="report-link">{agency}</a>'
            if paged[i]
            else f'<span class="report-name">{agency}</span>'
        )
        reason = f'<div class="muted">{h(fo.reason)}</div>' if fo.reason else ""
        change = CHANGE_ZH[change_of[i]]
        tag = f'<span class="tag">{once(change)}</span>' if change else ""
        errors, warnings, infos, fresh = fo.errors, fo.warnings, fo.infos, new[i]
        counts = (
            f'      <td class="n">{errors}</td><td class="n">{warnings}</td>'
            f'<td class="n">{infos}</td><td class="n">{fresh}</td>\n'
            if type(errors) is int and type(warnings) is int and type(infos) is int and type(fresh) is int
            else f'      <td class="n">{h(errors)}</td><td class="n">{h(warnings)}</td>'
            f'<td class="n">{h(infos)}</td><td class="n">{h(fresh)}</td>\n'
        )
        out.append(
            f'    <tr id="r-{i}" class="r-{cls}"><td class="n">{n}</td><td class="who">{who}</td>'
            f"<td>{once(year_label(fo))}</td>\n"
            f'      <td><span class="st st-{cls}">{once(state)}</span>{reason}</td>\n'
            f"{counts}"
            f'      <td>{tag}</td><td class="mono">{h(fo.file)}</td></tr>\n'
        )
    return "".join(out)


def report_context(q: Quality, i: int) -> dict[str, Any]:
    o = q.outcome
    fo = o.files[i]
    rep = o.reports[fo.report] if 0 <= fo.report < len(o.reports) else None
    # findings are numbered on their page (f-0, f-1 …), not by their place in the run: a finding
    # added to another report changes no anchor here (the page is reused, nianbao.report.reuse)
    fs = [(j, f) for j, (_k, f) in enumerate(q.file_findings(fo))]
    run_k = [k for k, _f in q.file_findings(fo)]
    # the run's summarised infos that apply here (E02, I06 …: kept once per run), shown as findings
    # of this page with no run index (-1: no new/still status, COMMON)
    common = o.summarised_of(fo.report) if fo.report >= 0 else []
    fs += [(len(run_k) + j, f) for j, f in enumerate(common)]
    run_k += [-1] * len(common)
    fmt = (rep.fmt if rep is not None else None) or Fmt.F2021
    flags = flags_of(fs)
    by_k = dict(fs)
    pairs = sorted(fs, key=lambda p: (SEV_RANK.get(p[1].severity, 3), p[1].rule, p[0]))
    report_suspects: dict[str, Suspect] = {}
    for _k, f in pairs:
        for s in f.suspects or []:
            if alternative(s) == 0:
                report_suspects.setdefault(s.cell, s)
    views = [finding_view(q, run_k[j], f, fmt, i, rep, report_suspects, anchor=j) for j, f in pairs]
    likely_fix = _share_advice(views, [f for _k, f in pairs])
    for v in views:
        v["html"] = Markup(finding_html(v))
    structural = [v for v, (_k, f) in zip(views, pairs, strict=True) if _is_structural(f)]
    per_table: dict[str, list[dict[str, Any]]] = {"2": [], "3": [], "4": []}
    for v, (_k, f) in zip(views, pairs, strict=True):
        if not _is_structural(f):
            per_table.setdefault(f.cells[0].split(":")[0], []).append(v)
    suspects: dict[tuple[int, str], dict[str, Any]] = {}
    for v in views:
        for s in v["suspects"]:
            entry = suspects.setdefault((s["alternative"], s["cell"]), Row(s, rules=[]))
            if v["rule"] not in [r for r, _a in entry["rules"]]:
                entry["rules"].append((v["rule"], v["id"]))
    readable = rep is not None and rep.readable
    tables_html: dict[str, Markup] = {}
    if readable and rep is not None:
        tables_html = page_tables(rep, fmt, flags, by_k)
    return {
        "fo": fo,
        "rep": rep,
        "readable": readable,
        "fmt": fmt.value,
        "source_zh": source_zh(fo),
        "reason_fix": _reason_fix(fo),
        "fmt_name": "2021 年格式（国办公开办函〔2021〕30号）"
        if fmt is Fmt.F2021
        else "2019 年格式（国办公开办函〔2019〕60号）",
        "row": _file_row(q, i, fo, "../"),
        "county": {"name": q.groups[q.group_of[i]].name, "href": q.county_href(i, "../")},
        "findings": views,
        "structural": structural,
        "per_table": per_table,
        "lists": {k: finding_list(v) for k, v in (("structural", structural), *per_table.items())},
        "suspects": [suspects[key] for key in sorted(suspects)],
        "likely_fix": likely_fix,
        "alternatives": len({a for a, _c in suspects}),
        "tables": tables_html,
        "change": CHANGE_ZH[q.review.report_change[i]],
    }


def _share_advice(views: list[dict[str, Any]], findings: list[Finding]) -> str | None:
    """Say each piece of advice once on a report page.  Error localisation's likely fix (the first
    sentence of the fix of every sum-rule finding it explains: the same for all of them) is shown
    once, in the 疑似错误单元格 block, and each finding refers to it; a fix identical to one given
    above refers to that finding.  Returns the likely fix (None when there is none)."""
    likely: str | None = None
    seen: dict[str, dict[str, Any]] = {}
    for v, f in zip(views, findings, strict=True):
        fix: str = v["fix"]
        if f.suspects and fix.startswith(LIKELY_PREFIXES) and "。" in fix:
            head, _, rest = fix.partition("。")
            likely = likely or head + "。"
            v["fix_likely"] = head + "。" == likely  # refer to the block above (the same advice)
            if v["fix_likely"]:
                fix = rest
        v["fix"] = fix
        first = seen.get(fix)
        if fix and first is not None:
            v["fix_ref"] = (first["id"], first["rule"])
        elif fix:
            seen[fix] = v
    return likely


# how error localisation's fix begins (nianbao.localise.describe)
LIKELY_PREFIXES = ("最可能的改法", "无法唯一确定")


SOURCE_ZH = {"text": "纯文本", "csv": "CSV 表格", "html": "网页", "pdf": "PDF", "docx": "Word", "xlsx": "Excel"}
ENCODING_ZH = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "gb18030": "GB18030（GBK）", "utf-16": "UTF-16"}


def source_zh(fo: FileOutcome) -> str:
    """文件类型 and 编码 in plain words: ``纯文本，UTF-8``, ``Word``; empty for an unreadable file
    (what it was detected as is in its reason)."""
    if fo.status != "validated":
        return ""
    kind = SOURCE_ZH.get(fo.source_type or "", fo.source_type or "")
    enc = (fo.encoding or "").lower()
    if kind and enc and fo.source_type in ("text", "csv", "html"):
        return f"{kind}，{ENCODING_ZH.get(enc, enc.upper())} 编码"
    return kind


def _reason_fix(fo: FileOutcome) -> str:
    """What the township should send instead (the catalogue's fix of the file's U-rule)."""
    r = catalogue().get(fo.reason_code or "")
    return r.fix if r is not None and fo.status != "validated" else ""


def rules_context(outcome: RunOutcome | None = None) -> dict[str, Any]:
    n = Counter(outcome.rule_counts()) if outcome is not None else Counter()
    rows = []
    for r in catalogue().values():
        rows.append(
            {
                "code": r.code,
                "family": r.family,
                "title": template_words(r.title),
                "severity": r.severity.value,
                "sev_zh": SEVERITY_ZH[r.severity.value],
                "citation": template_words(r.citation),
                "checks": template_words(r.checks),
                "why": template_words(r.why),
                "fix": template_words(r.fix),
                "message": template_words(r.message),
                "retired": r.retired,
                "count": n.get(r.code, 0),
            }
        )
    return {"rules": rows}


# what a message template's {placeholders} stand for, shown on rules.html in their place
PLACEHOLDER_ZH = {
    "table": "表格中的数字", "stated": "正文中的数字", "hint": "补充提示", "actual": "报告填写的数字",
    "expected": "应有的数字", "table_name": "表名", "year": "年度", "detail": "具体情况", "prev_year": "上一年度",
    "cell_label": "单元格名称", "row_label": "行名称", "raw": "原文", "statutory": "规定文字", "agency": "机关名称",
    "groups": "类别", "col_label": "列名称", "section": "部分", "printed": "报告中的文字", "line": "行号",
    "upper": "上限", "row_part": "行", "previous": "上年的数字", "prev_file": "上年报告文件", "part": "行或列",
    "parts": "各项之和", "part_list": "各项", "other_file": "另一文件", "other_agency": "另一机关",
    "heading": "标题", "count": "个数", "why": "原因", "title": "标题", "source": "来源", "size_mb": "文件大小",
    "similarity": "相似程度", "rhs": "办结与结转下年度之和", "repealed": "本年废止件数", "received": "本年收到件数",
    "reason": "原因", "ratio": "倍数", "prev_in_force": "上年现行有效件数", "placeholders": "占位符号",
    "peers": "同级机关数", "peer_min": "最小值", "peer_max": "最大值", "missing": "缺少的内容", "median": "中位数",
    "limit": "上限", "limit_mb": "上限", "lhs": "收到与上年结转之和", "issued": "本年制发件数",
    "instead": "应提交的文件", "handled": "办结件数", "forwarded": "结转下年度件数", "file": "文件名",
    "files": "文件", "evidence": "判断依据", "distance": "相差字数", "county": "县（区）", "cell_list": "单元格",
    "carried": "上年结转件数", "base": "基数", "base_label": "基数名称",
}  # fmt: skip
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def template_words(template: str) -> str:
    """A message template with each {placeholder} replaced by what it stands for (〔行名称〕)."""
    return _PLACEHOLDER.sub(lambda m: f"〔{PLACEHOLDER_ZH.get(m.group(1), '…')}〕", template)


def _render(name: str, ctx: dict[str, Any]) -> str:
    return _template(name).render(ctx)


def render_index(q: Quality, out: Path) -> str:
    return _render("index.html.j2", index_context(q, out))


def render_report(q: Quality, i: int) -> str:
    return report_page(report_context(q, i))


@cache
def _page_frame() -> tuple[str, ...]:
    """``_base.html.j2`` (the head, the style sheet, the frame every page shares) rendered once
    around its three blocks: (before the title, between the title and the header, between the
    header and the content, after the content)."""
    child = '{% extends "_base.html.j2" %}{% block title %}\x00{% endblock %}'
    child += "{% block header %}\x00{% endblock %}{% block content %}\x00{% endblock %}"
    frame = tuple(_env().from_string(child).render().split("\x00"))
    assert len(frame) == 4
    return frame


_LEGEND = (
    '  <div class="legend"><span><i style="background:#f8c7c1;outline:3px solid #b42318;outline-offset:-3px"></i>'
    "最可能填错的单元格（建议值写在格内）</span>"
    '<span><i style="background:#f8c7c1"></i>有错误的单元格</span>'
    '<span><i style="background:#fdeab0"></i>有警告的单元格（如空白）</span>\n'
    '    <span><i style="background:#fff6f5"></i>错误涉及的其他单元格（一般不必改）</span>'
    '<span><i style="background:#fffbeb"></i>警告涉及的其他单元格</span>\n'
    '    <span><i style="background:repeating-linear-gradient(45deg,#f3f4f6,#f3f4f6 3px,#fff 3px,#fff 6px)"></i>'
    "报告中缺少</span></div>\n"
)
_TABLE_HEADS = (
    ("2", "二、主动公开政府信息情况"),
    ("3", "三、收到和处理政府信息公开申请情况"),
    ("4", "四、政府信息公开行政复议、行政诉讼情况"),
)


def report_page(ctx: dict[str, Any]) -> str:
    """A report page from its :func:`report_context`, in the frame of ``_base.html.j2``
    (:func:`_page_frame`): built here rather than by a template — a large run writes thousands of
    these, and the template's per-value finalize, escape and generator steps took twice as long.
    Every value goes through :func:`h` (what ``{{ value }}`` prints); the markup is what the
    former ``report.html.j2`` rendered (``tests/report/report_page.html.j2``, which
    ``tests/report/test_report_page.py`` renders on every kind of page and compares)."""
    row, fo, county, rep = ctx["row"], ctx["fo"], ctx["county"], ctx["rep"]
    agency, year, change = h(row.agency), h(row.year), ctx["change"]
    state = f'  <p><span class="st st-{h(row.state_cls)}">{h(row.state)}</span>\n'
    tag = f' <span class="tag">{h(change)}</span>' if change else ""
    frame = _page_frame()
    out = [
        frame[0],
        f"{agency} {year} 年度报告 · 数据质量",
        frame[1],
        '<nav class="crumbs"><a href="../index.html">← 返回总览</a> ｜ '
        f'<a href="{h(county["href"])}" id="county-link">{h(county["name"])}的全部报告</a> ｜ '
        '<a href="../rules.html">校验规则说明</a></nav>\n'
        f'<h1 id="report-title">{agency}{f" {year} 年" if row.year else ""} 政府信息公开工作年度报告</h1>\n'
        f'<div class="sub">文件 <span class="mono" id="report-file">{h(fo.file)}</span></div>\n',
        frame[2],
        '<section id="summary">\n  <h2>校验结果</h2>\n',
        state,
    ]
    if ctx["readable"]:
        new = f"，其中新发现 <b>{h(row.new)}</b> 条" if row.new else ""
        acked = f"，已复核 <b>{h(row.acked)}</b> 条" if row.acked else ""
        source = f" ｜ 文件类型：{h(ctx['source_zh'])}" if ctx["source_zh"] else ""
        title = ""
        if rep and rep.title:
            at = f"（第 {h(rep.title_line)} 行）" if rep.title_line else ""
            title = f"<br>标题：{h(rep.title)}{at}"
        out.append(
            f"    错误 <b>{h(fo.errors)}</b> 条，警告 <b>{h(fo.warnings)}</b> 条，提示 <b>{h(fo.infos)}</b> 条"
            f"{new}{acked}{tag}</p>\n"
            f'  <p class="muted">格式：{h(ctx["fmt_name"])}{source} ｜ 大小：{h(fo.size)} 字节{title}</p>\n'
        )
    else:
        fix = ctx["reason_fix"]
        out.append(
            f"    这个文件不能作为年度报告读取，因此没有校验其中的数字和文字{tag}。</p>\n"
            f'  <div class="note" id="unreadable-reason"><b>原因：</b>{h(fo.reason)}</div>\n'
            + (f'<div class="f-fix" id="unreadable-fix">请报送单位：{h(fix)}</div>' if fix else "")
            + f'  <p class="muted">大小：{h(fo.size)} 字节{"" if fo.agency else " ｜ 机关和年度按文件名推断"}</p>\n'
        )
    out.append("</section>\n\n")
    if ctx["readable"]:
        suspects, lists, tables = ctx["suspects"], ctx["lists"], ctx["tables"]
        if suspects:
            several = ctx["alternatives"] > 1
            out.append(
                '<section id="suspects">\n  <h2>疑似错误单元格</h2>\n'
                '  <p class="muted">根据各项勾稽关系同时推断：'
                "改正下列单元格即可使有关合计全部成立（表中以粗框标出）。</p>\n"
            )
            if several:
                out.append(
                    f'<p class="muted">有 {h(ctx["alternatives"])} 种改法同样能使合计成立，请对照原始台账确定。</p>'
                )
            if ctx["likely_fix"]:
                out.append(f'<div class="f-fix" id="likely-fix">{h(ctx["likely_fix"])}</div>')
            out.append(
                '  <table class="list suspects">\n'
                f"    <tr>{'<th>改法</th>' if several else ''}<th>单元格</th><th>报告填写</th><th>建议改为</th>"
                "<th>可能的原因</th><th>涉及规则</th></tr>\n"
            )
            for sp in suspects:
                way = f"<td>改法 {h(sp['alternative'])}</td>" if several else ""
                rules = " ".join(f'<a href="#{h(anchor)}">{h(rule)}</a>' for rule, anchor in sp["rules"])
                out.append(
                    f'    <tr data-cell="{h(sp["cell"])}">{way}<td>{h(sp["label"])}</td>'
                    f'<td class="n">{h(sp["reported"])}</td><td class="n"><b>{h(sp["suggested"])}</b></td>\n'
                    f"      <td>{h(sp['cause'])}</td><td>{rules}</td></tr>\n"
                )
            out.append("  </table>\n</section>\n")
        structural = lists["structural"] if ctx["structural"] else '<p class="empty">没有结构或文字方面的问题。</p>'
        out.append(f'\n<section id="structural">\n  <h2>结构与文字问题</h2>\n{structural}</section>\n\n')
        out.append('<section id="tables">\n  <h2>统计表（按规定格式重绘，有问题的单元格已标出）</h2>\n')
        out.append(_LEGEND)
        for t, name in _TABLE_HEADS:
            out.append(f"\n  <h3>{name}</h3>\n  {h(tables[t])}\n  {h(lists[t])}\n")
        out.append("</section>\n")
    out.append(frame[3])
    return "".join(out)


def render_county(q: Quality, g: Group) -> str:
    return _render("county.html.j2", county_context(q, g))


def render_rules(outcome: RunOutcome | None = None) -> str:
    return _render("rules.html.j2", rules_context(outcome))


PAGE_CHUNK = 64  # report pages per unit of work shared with the helper process
PARALLEL_MIN_PAGES = 1000  # below this much work (in pages, _shared_work), everything is done in this process
FILE_WORK = 10  # files whose share of the workbook, the contract files and index.html is about a page's work


def _shared_work(pages: int, files: int, extra: Sequence[Callable[[], object]]) -> int:
    """The work the views' helper could share, in report pages: the pages, and with further units
    (the workbook, a first run's contract files) about a page's work per :data:`FILE_WORK` files
    (10,000 reports: ~950 pages and ~0.5 CPU s of workbook and JSON, ~1,000 pages' worth)."""
    return pages + (files // FILE_WORK if extra else 0)


def write_rules(outcome: RunOutcome, out: Path, reuse: Reuse | None = None) -> None:
    target = inside(out, "rules.html")
    if reuse is not None:
        counts = sorted(outcome.rule_counts().items())
        if reuse.take("rules.html", reuse.key("rules", counts), target):
            return
    write_text(target, render_rules(outcome), durable=False)


def report_key(q: Quality, i: int, reuse: Reuse) -> str:
    """The key of file ``i``'s report page: everything :func:`report_context` shows.  The report
    itself (its cells, title, format) is the parse of the file's bytes, keyed by their SHA-256 (the
    code that parses them is in the salt, :func:`nianbao.report.reuse.code_salt`)."""
    o, rv = q.outcome, q.review
    fo = o.files[i]
    rep = o.reports[fo.report] if 0 <= fo.report < len(o.reports) else None
    facts = None if rep is None else (rep.readable, rep.fmt, rep.title, rep.title_line)
    findings = [(f.to_json(), rv.status[k], rv.acks.get(k)) for k, f in q.file_findings(fo)]
    common = o.summarised_of(fo.report) if fo.report >= 0 else []
    findings += [(f.to_json(), COMMON, rv.common_acks.get((f.report, f.rule, tuple(f.cells)))) for f in common]
    g = q.groups[q.group_of[i]]
    row = (q.new[i], q.acked[i], q.href(i, "../"), rv.report_change[i])
    return reuse.key("report", q.pages[i], fo.to_json(), facts, findings, row, g.name, g.page)


def page_units(
    q: Quality, out: Path, only: Iterable[int] | None = None, todo: list[int] | None = None
) -> list[Callable[[], None]]:
    """The report pages to write (every report with a page, or those of ``only``; ``todo``: these
    file indices), in chunks: each chunk a unit of work for :func:`nianbao.report.parallel.run_shared`."""
    reports = PageDir(out, REPORTS_DIR)
    if todo is None:
        todo = [i for i in (only if only is not None else range(len(q.outcome.files))) if q.paged[i]]

    def unit(chunk: list[int]) -> Callable[[], None]:
        def write() -> None:
            for i in chunk:
                reports.write(q.pages[i], render_report(q, i))

        return write

    return [unit(todo[k : k + PAGE_CHUNK]) for k in range(0, len(todo), PAGE_CHUNK)]


def write_counties(q: Quality, out: Path, reuse: Reuse | None = None) -> None:
    counties = PageDir(out, COUNTIES_DIR)
    for g in q.groups:
        ctx = county_context(q, g)
        if reuse is not None and reuse.take(
            f"{COUNTIES_DIR}/{g.page}", reuse.key("county", g.page, ctx), counties.file(g.page)
        ):
            continue
        counties.write(g.page, _render("county.html.j2", ctx))


def write_index(q: Quality, out: Path) -> None:
    # no cyclic collection while the overview is built (bounded: the worst reports, the counties;
    # its rows make no cycles, and a collection would walk every object the run keeps)
    with gc_paused():
        write_text(inside(out, "index.html"), render_index(q, out), durable=False)


def warm() -> None:
    """Compile the templates and the table skeletons (before forking a helper: once, not twice)."""
    for name in ("index.html.j2", "county.html.j2", "rules.html.j2", "_tables.html.j2"):
        _template(name)
    _page_frame()
    for fmt in Fmt:
        for t in ("2", "3", "4"):
            skeleton(fmt, t)
        _positions(fmt)
        _fill_plan(fmt)
        _places_at(fmt)


def write_html(
    outcome: RunOutcome,
    out: Path,
    previous: Path | None = None,
    acks: Path | None = None,
    *,
    quality: Quality | None = None,
    only: Iterable[int] | None = None,
    extra: Sequence[Callable[[], object]] = (),
    reuse: Reuse | None = None,
    later: Sequence[Callable[[], object]] = (),
) -> Quality:
    """Write ``out/rules.html``, ``out/reports/<page>.html`` (every report with a page, see
    :func:`nianbao.report.quality.prepare`), ``out/counties/<county>.html`` (once per county) and
    ``out/index.html`` last, each atomically (temporary file + rename).  With many pages, a forked
    helper process renders about half of them (:mod:`nianbao.report.parallel`).

    ``previous``: the folder of the previous run of the same inputs (for "what changed");
    ``acks``: the acknowledgements CSV.  ``only``: render the report pages of these file indices
    only.  ``extra``: further units of work (the workbook) to share with the helper; all are done
    before ``index.html`` is written.  ``later``: work of this process (recording keys) done after
    the helper is forked, before this process takes its share of the pages.

    Without ``only``, a page whose key (:mod:`nianbao.report.reuse`) is the same as in the run the
    review compares with is linked from that run's folder instead of rendered; ``out/pages.json``
    records every page's key and how many were rendered and reused (also ``q.page_stats``)."""
    q = quality if quality is not None else prepare(outcome, out, previous, acks)
    out.mkdir(parents=True, exist_ok=True)
    if reuse is None and only is None:
        reuse = Reuse(out, q.review.previous)
    todo = [i for i in (only if only is not None else range(len(outcome.files))) if q.paged[i]]
    reports = PageDir(out, REPORTS_DIR)
    keyed_later = reuse is not None and not reuse.can_take  # nothing to take: keys only recorded
    if reuse is not None and not keyed_later:
        todo = [
            i
            for i in todo
            if not reuse.take(f"{REPORTS_DIR}/{q.pages[i]}", report_key(q, i, reuse), reports.file(q.pages[i]))
        ]
    if todo or extra:
        warm()
    # index.html is rendered as one more unit (while the pages are: it shows nothing they make) into
    # a temporary file, and put in place last, when every page it may link to exists
    index = inside(out, f".index.html.{os.getpid()}.rendered.tmp")

    def render_index_unit() -> None:
        write_text(index, render_index(q, out), durable=False)

    units: list[Callable[[], object]] = [render_index_unit, *extra, *page_units(q, out, todo=todo)]

    def own() -> None:
        write_rules(outcome, out, reuse)
        write_counties(q, out, reuse)
        for record in later:  # (the workbook's key, nianbao.report.writer)
            record()
        if keyed_later and reuse is not None:  # every page rendered: its key recorded while the helper works
            for i in todo:
                reuse.take(f"{REPORTS_DIR}/{q.pages[i]}", report_key(q, i, reuse), reports.file(q.pages[i]))

    try:
        run_shared(
            units, own, helper=use_helper(_shared_work(len(todo), len(outcome.files), extra), PARALLEL_MIN_PAGES)
        )
        os.replace(index, inside(out, "index.html"))
    finally:
        index.unlink(missing_ok=True)
    if reuse is not None:
        reuse.rendered("index.html")  # this run's own page: its time, its stages, its news
        reuse.save()
        q.page_stats = reuse.stats
    return q
