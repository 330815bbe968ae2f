"""The fast reading path: a well-formed report read straight into its cells, or not at all.

Most reports are printed in the statutory layout exactly (the seed's and the synthetic template's
shape): tab-separated cells, one table row a line, every statutory row once with its label exactly
and its numbers in contiguous cells.  Such a report does not need the tolerant reader's grid
rebuilding, value-window fitting, lone-label pairing, run-together splitting or near-label search:
this module reads it in one pass per table, with the label dictionary looked up once per distinct
printed text (memoised per process: the same labels recur in every report).

It gives exactly the :class:`~nianbao.domain.model.ParsedReport` the tolerant reader
(:func:`nianbao.read.parse.parse_lines`) gives — title, period, sections and format come from the same
functions of :mod:`nianbao.read.meta` — and returns ``None``, leaving the report untouched, at the
first doubt: a source other than plain text, traditional characters, a line the grid reader would
rebuild, a label it does not know exactly, a row printed twice or without its numbers, a count of
numbers that is not the row's, a blank cell inside a row, a column or row of the format not printed,
a label that is near a statutory one.  ``tests/test_fast_read.py`` runs both paths over the
synthetic corpus, the seed and the real-shape corpus and compares the reports field by field.

``NIANBAO_FAST_READ=0`` turns the fast path off (every report through the tolerant reader).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any, TypeVar

from nianbao.domain.model import INDEX, STATE_CODE, LayoutFact, ParsedReport, plain_raw
from nianbao.domain.normalize import Kind, is_value_like, norm_label, parse_number, squash
from nianbao.domain.spec import T4_COLUMNS, T4_ROWS, Fmt, cell_kind, tables
from nianbao.read import grid
from nianbao.read.chars import has_traditional
from nianbao.read.labels import LineLike, find_column, match_t2_col, match_t2_row, match_t3, record_near_labels
from nianbao.read.meta import (
    BLOCK_HEADER,
    detect_format,
    fill_agency,
    fill_sections,
    find_sections,
    read_period,
    read_title,
)
from nianbao.read.values import fit_values, fitting_windows, sum_rule

ENV = "NIANBAO_FAST_READ"

# the table block header of 表二 (第二十条第（一）项): not prose (as nianbao.read.parse reads it)
# a line ending in one of these may be a row split over lines (the grid reader's test)
_VALUE_END = frozenset("0123456789０１２３４５６７８９—-－/／无")
_VALUE_LIKE = re.compile(r"^[\s\d.,，\-—–/／\\%％]*$")  # where a line's label cells end (labels.py)
_T3_N = 7  # values of a row of 表三
_T3_SUM = sum_rule(_T3_N - 1)  # a row's sum rule (the tolerant reader's choice among windows)
_T4_N = len(T4_COLUMNS)
_T4_ROW_KEYS = frozenset(norm_label(k) for r in T4_ROWS for k in r.keys)
_T3_ROWS = {fmt: frozenset(r.id for r in tables(fmt)["3"].rows) for fmt in Fmt}


_CELLS = attrgetter("cells")
_WHERE = attrgetter("where")


def _shaped(ln: LineLike) -> bool:
    # a row aligned by spaces, split at single spaces, located in a document, or a paragraph of cells
    return ln.spans is not None or ln.loose or ln.cell_where is not None or (len(ln.cells) > 1 and not ln.table)  # type: ignore[attr-defined]


_PASSED: ContextVar[bool] = ContextVar("nianbao_fast_passed", default=False)


def enabled() -> bool:
    return os.environ.get(ENV, "1") != "0" and not _PASSED.get()


@contextmanager
def passed_over() -> Iterator[None]:
    """The fast path off meanwhile (in this thread or task): for a report it is known not to read
    (nianbao.read.bulk found no plan for its tables), so that the tolerant reader starts at once."""
    token = _PASSED.set(True)
    try:
        yield
    finally:
        _PASSED.reset(token)


class _Probe:
    """A line for the near-label probe."""

    __slots__ = ("cells", "no")

    def __init__(self, cells: list[str]) -> None:
        self.cells = cells
        self.no = 0


@lru_cache(maxsize=1 << 12)
def _near_free(table: str, fmt: Fmt, label_cells: tuple[str, ...]) -> bool:
    """Whether a line with these label cells can give no I12 (a label read only by distance) in a
    report of ``fmt``: the tolerant reader's own check on this line alone (a report adds only more
    exact labels, which can only take findings away)."""
    probe = ParsedReport(file="", sha256="", size=0)
    probe.fmt = fmt
    record_near_labels(probe, {table: [_Probe(list(label_cells))]})
    return not probe.row_issues


def _label_key(cells: Sequence[str]) -> tuple[str, ...]:
    """The cells of a line up to its first number: all that the near-label search reads of it."""
    for k, c in enumerate(cells):
        if c and not c.isspace() and c[0].isdigit() and _VALUE_LIKE.match(c):
            return tuple(cells[:k])
    return tuple(cells)


@lru_cache(maxsize=1 << 15)
def read_code(raw: str, kind: Kind) -> tuple[float, int, str | None]:
    """A printed cell as the cell arrays hold it: (value or NaN, state code, text or None if plain)."""
    value, state = parse_number(raw, kind)
    text = raw.strip()
    v = math.nan if value is None else value
    code = STATE_CODE[state]
    return v, code, None if plain_raw(code, v) == text else text


class _V:
    """One value read: its text and where it was printed (what CellMap.put_row reads)."""

    __slots__ = ("line", "pos", "raw", "where")

    def __init__(self, raw: str, line: int, pos: int | None) -> None:
        self.raw = raw
        self.line = line
        self.pos = pos
        self.where: str | None = None


@lru_cache(maxsize=1 << 12)
def _slots(fmt: Fmt, table: str, row: str, cols: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[Kind, ...]] | None:
    cids = [f"{table}:{row}:{c}" for c in cols]
    pos = tuple(INDEX.get(cid, -1) for cid in cids)
    if -1 in pos:
        return None
    return pos, tuple(cell_kind(fmt, cid) for cid in cids)


def _window(lines: Sequence[LineLike], sections: dict[str, tuple[int, int, str]], num: str) -> Sequence[LineLike]:
    start = sections[num][0] + 1
    later = [idx for _n, (idx, _l, _h) in sections.items() if idx > sections[num][0]]
    return lines[start : min(later) if later else len(lines)]


def _first(cells: Sequence[str]) -> int | None:
    return next((i for i, c in enumerate(cells) if c.strip()), None)


def _contiguous(after: Sequence[str], n: int) -> int | None:
    """The index of the first of exactly ``n`` non-blank cells printed side by side, with only blank
    cells around them (then the tolerant reader's window fitting has one choice); else None."""
    idx = [i for i, c in enumerate(after) if c.strip()]
    if len(idx) != n or idx[-1] - idx[0] != n - 1:
        return None
    return idx[0]


# ------------------------------------------------------------------ tables


def _table_lines(window: Sequence[LineLike]) -> list[LineLike] | None:
    """The lines of a table's window that hold several cells (blank lines skipped), or None when a
    line of text (a paragraph or a lone label) stands inside the table: not for the fast path."""
    out: list[LineLike] = []
    for ln in window:
        if len(ln.cells) < 2:
            if ln.cells[0].strip():
                return None
            continue
        out.append(ln)
    return out


def _labelled_lines(window: Sequence[LineLike]) -> list[tuple[LineLike, int]] | None:
    """:func:`_table_lines` of a table whose rows start with a label, each with the index of its
    first non-blank cell; None when a line has none or starts with a number (numbers on a line of
    their own: the grid reader's case)."""
    table_lines = _table_lines(window)
    if table_lines is None:
        return None
    out: list[tuple[LineLike, int]] = []
    for ln in table_lines:
        fi = _first(ln.cells)
        if fi is None:
            return None
        first = ln.cells[fi].strip()
        if first[0] in _VALUE_END and grid.is_value_token(first):
            return None
        out.append((ln, fi))
    return out


def _table2(window: Sequence[LineLike]) -> dict[str, tuple[dict[str, _V], int]] | None:
    rows: dict[str, tuple[dict[str, _V], int]] = {}
    header: list[str] | None = None
    labelled = _labelled_lines(window)
    if labelled is None:
        return None
    for ln, fi in labelled:
        cells = ln.cells
        first = cells[fi]
        sq = squash(first)
        if BLOCK_HEADER.search(sq):
            header = None
            continue
        if "信息内容" in sq:
            header = []
            for c in cells[fi + 1 :]:
                if not c.strip():
                    continue
                m = match_t2_col(c)
                if m is None:
                    return None
                header.append(m[1])
            continue
        rid = match_t2_row(first)
        if rid is None or rid in rows or not header:
            return None
        vals = [(i + 1, c) for i, c in enumerate(cells[fi + 1 :], start=fi + 1)]
        while vals and not vals[-1][1].strip():
            vals.pop()
        if len(vals) > len(header):
            return None
        got: dict[str, _V] = {}
        for j, cid in enumerate(header):
            if j < len(vals):
                pos, raw = vals[j]
                got[cid] = _V(raw, ln.no, pos)
            else:
                got[cid] = _V("", ln.no, None)
        rows[rid] = (got, ln.no)
    return rows


def _table3(
    window: Sequence[LineLike],
) -> tuple[dict[str, tuple[list[_V], int]], list[str], list[tuple[str, int]]] | None:
    """表三's rows (row id -> (values, line)), its header texts, and the rows whose window of seven
    cells their numbers chose (several fit: :func:`nianbao.read.values.fit_values`), each with the
    index of its label cell."""
    rows: dict[str, tuple[list[_V], int]] = {}
    header_text: list[str] = []
    fragment = ""
    started = False
    by_numbers: list[tuple[str, int]] = []
    labelled = _labelled_lines(window)
    if labelled is None:
        return None
    for ln, _fi in labelled:
        cells = ln.cells
        last_label = -1
        row_id: str | None = None
        for i, c in enumerate(cells):
            if c.isdecimal() or not c.strip():
                continue  # a number (match_t3 reads no number as a label) or a blank cell
            m = match_t3(c)
            if m is None:
                continue
            row_id = ("3.6" if m[1] == "3.6" else None) if m[0] == "group" else m[1]  # （六） a row in 2019
            last_label = i
        if last_label < 0:
            if started:
                return None  # a line without a label among the rows
            texts = [c for c in cells if c.strip() and not is_value_like(c)]
            if fragment and texts:
                m = match_t3(fragment + texts[-1])
                if m is not None and m[0] == "row":
                    return None  # a label wrapped over two lines
        after = cells[last_label + 1 :]
        has_values = any(c.strip() for c in after)
        if row_id is not None and not has_values and len(after) >= _T3_N:
            return None  # a row printed with every cell blank
        if row_id is None or not has_values:
            if started:
                return None  # a label without numbers among the rows (its numbers may follow)
            fragment = "".join(c.strip() for c in cells if c.strip() and not is_value_like(c))
            header_text.extend(c for c in cells if c.strip())
            continue
        started = True
        if row_id in rows:
            return None
        k = _contiguous(after, _T3_N)
        if k is not None:
            base = last_label + 2 + k  # 1-based position of the first value in the line
            rows[row_id] = ([_V(after[k + j].strip(), ln.no, base + j) for j in range(_T3_N)], ln.no)
            continue
        # blank cells among or around the values (e.g. 总计 left blank): the tolerant reader's window,
        # when every value is a printed cell; one number alone (perhaps run together) or a blank
        # cell not printed (fewer cells than columns): the tolerant reader
        if len(after) < _T3_N or sum(1 for c in after if c.strip()) < 2:
            return None
        fitted = fit_values(list(enumerate(after, last_label + 2)), _T3_N, _T3_SUM)
        if fitted is None:
            return None  # more numbers than columns
        if fitting_windows(after, _T3_N) > 1:
            by_numbers.append((row_id, last_label))
        rows[row_id] = ([_V(raw, ln.no, pos) for pos, raw in fitted], ln.no)
    return rows, header_text, by_numbers


def _table4(window: Sequence[LineLike]) -> tuple[list[_V], int, str] | None:
    header = ""
    values: tuple[list[_V], int] | None = None
    table_lines = _table_lines(window)
    if table_lines is None:
        return None
    for ln in table_lines:
        cells = ln.cells
        nonempty = [c for c in cells if c.strip()]
        if not nonempty:
            return None
        numeric = sum(1 for c in nonempty if is_value_like(c))
        if numeric == 0:
            labelled = [i for i, c in enumerate(cells) if c.strip() and norm_label(c) in _T4_ROW_KEYS]
            if labelled and len(rest := cells[max(labelled) + 1 :]) >= _T4_N and not any(c.strip() for c in rest):
                return None  # a labelled row of blank cells
            header += "".join(nonempty)
            continue
        if numeric != len(nonempty) or values is not None:
            return None
        k = _contiguous(cells, 3 * _T4_N)
        if k is None:
            return None
        values = ([_V(cells[k + j].strip(), ln.no, k + 1 + j) for j in range(3 * _T4_N)], ln.no)
    if values is None:
        return None
    return values[0], values[1], squash(header)


# ------------------------------------------------------------------ plans

MAX_PLANS = 2048  # report skeletons remembered per process (a planted defect makes its own: ~100 in 5,000)
# a cell that is a number alone (bounded by tabs or line ends); up to 4 digits may be a page number
_DECIMAL = re.compile(r"(?<![^\t\n])\d+\.\d+(?![^\t\n])")  # 万元 with decimals (表二's fees)
_NUMBER_CELL = re.compile(r"\d+(?:\.\d+)?")  # what the three patterns mask, as one cell's text
_LONG_NUMBER = re.compile(r"(?<![^\t\n])\d{5,}(?![^\t\n])")
_SHORT_NUMBER = re.compile(r"(?<![^\t\n])\d{1,4}(?![^\t\n])")


def _skeleton(window: Sequence[LineLike]) -> tuple[str, int]:
    """A table region with every number cell masked (and how many): reports that differ only in
    their numbers have the same skeleton, and the same plan."""
    text = "\n".join(map("\t".join, map(_CELLS, window)))
    text, d = _DECIMAL.subn("\x00D", text)
    text, n = _LONG_NUMBER.subn("\x00L", text)
    text, m = _SHORT_NUMBER.subn("\x00S", text)
    return text, d + n + m


@dataclass(frozen=True, slots=True)
class Plan:
    """Where a skeleton's values are: by line index in the table's window and cell index."""

    t2: tuple[tuple[str, int, tuple[tuple[str, int | None], ...]], ...]  # row, line, ((column, cell), …)
    t3: tuple[tuple[str, int, int], ...]  # row, line, cell of its first value
    t4: tuple[int, int]  # line, cell of the first of its 15 values
    aliases: tuple[LayoutFact, ...]  # columns of 表三 printed under an accepted alias
    # every number cell of the regions is a value of a row read (then another report with this
    # skeleton reads the same whatever its numbers); else the plan is used for this report only
    cacheable: bool
    # cacheable but that some of 表三's rows have their windows chosen by their numbers: the plan of
    # every report of the skeleton whose numbers choose the same windows (the same ``t3``)
    chosen: bool = False


# A table's part of a plan and how many of its values read are number cells: 表二's rows, 表三's
# rows, aliases and the rows whose window their numbers choose (index among the rows, label cell),
# 表四's line and cell
_Part2 = tuple[tuple[tuple[str, int, tuple[tuple[str, int | None], ...]], ...], int]
_Part3 = tuple[tuple[tuple[str, int, int], ...], tuple[LayoutFact, ...], tuple[tuple[int, int], ...], int]
_Part4 = tuple[tuple[int, int], int]


def _numbered(values: Iterable[_V]) -> int:
    return sum(1 for v in values if _NUMBER_CELL.fullmatch(v.raw))


def _part2(fmt: Fmt, w2: Sequence[LineLike]) -> _Part2 | None:
    """表二's part of the plan: every row of the format once with every one of its columns, its
    label lines free of near labels; None when the fast path cannot read it for certain."""
    t2 = _table2(w2)
    if not t2:
        return None
    spec = tables(fmt)
    if set(t2) != {r.id for r in spec["2"].rows}:
        return None
    for rid, (got, _line) in t2.items():
        if set(got) != set(spec["2"].row_columns[rid]):
            return None
    if not all(_near_free("2", fmt, _label_key(ln.cells)) for ln in w2 if len(ln.cells) > 1):
        return None
    at2 = {ln.no: i for i, ln in enumerate(w2)}
    rows = tuple(
        (rid, at2[line], tuple((c, None if v.pos is None else v.pos - 1) for c, v in got.items()))
        for rid, (got, line) in t2.items()
    )
    return rows, _numbered(v for got, _l in t2.values() for v in got.values())


def _part3(fmt: Fmt, w3: Sequence[LineLike]) -> _Part3 | None:
    """表三's part of the plan: every row of the format once, every column under its label or an
    accepted alias, its label lines free of near labels; None when not for certain."""
    got3 = _table3(w3)
    if got3 is None:
        return None
    t3, t3_header, by_numbers = got3
    if set(t3) != _T3_ROWS[fmt]:
        return None
    aliases: list[LayoutFact] = []  # a column printed under an accepted alias (I06)
    for col in tables(fmt)["3"].columns:
        printed = find_column(t3_header, col.id, (col.label, *col.aliases))
        if printed in col.aliases:
            aliases.append(LayoutFact(f"3:*:{col.id}", "column", True, col.label, printed=printed))
        elif printed != col.label:
            return None  # missing, or printed under a near label
    if not all(_near_free("3", fmt, _label_key(ln.cells)) for ln in w3 if len(ln.cells) > 1):
        return None
    at3 = {ln.no: i for i, ln in enumerate(w3)}
    rows = tuple((rid, at3[line], (vals[0].pos or 0) - 1) for rid, (vals, line) in t3.items())
    order = list(t3)
    chosen = tuple((order.index(rid), label) for rid, label in by_numbers)
    return rows, tuple(aliases), chosen, _numbered(v for vals, _l in t3.values() for v in vals)


def _rechosen(part: _Part3, w3: Sequence[LineLike]) -> _Part3:
    """表三's part with the window of each row its numbers choose chosen from this window's cells,
    as :func:`_table3` chooses it (the part may come from :data:`_PARTS`, made from another report
    of the skeleton: the same cells printed or blank, other numbers)."""
    rows, aliases, chosen, count = part
    out = list(rows)
    for idx, label in chosen:
        rid, li, _k = out[idx]
        cells = w3[li].cells
        fitted = fit_values(list(enumerate(cells[label + 1 :], label + 2)), _T3_N, _T3_SUM)
        assert fitted is not None and fitted[0][0] is not None  # (the skeleton's cells: as when made)
        out[idx] = (rid, li, fitted[0][0] - 1)
    return tuple(out), aliases, chosen, count


def _part4(w4: Sequence[LineLike]) -> _Part4 | None:
    """表四's part of the plan: its one line of 15 values under every row's and column's label."""
    t4 = _table4(w4)
    if t4 is None:
        return None
    t4_values, t4_line, t4_header = t4
    if any(norm_label(r.keys[0]) not in t4_header for r in T4_ROWS) or any(
        norm_label(c.label) not in t4_header for c in T4_COLUMNS
    ):
        return None
    at4 = {ln.no: i for i, ln in enumerate(w4)}
    return (at4[t4_line], (t4_values[0].pos or 0) - 1), _numbered(t4_values)


def _joined(
    fmt: Fmt,
    windows: tuple[Sequence[LineLike], Sequence[LineLike], Sequence[LineLike]],
    skeletons: tuple[str | None, str | None, str | None],
    numbers: tuple[int, int, int],
) -> Plan | None:
    """The plan of the three tables from their parts, each taken from :data:`_PARTS` by its
    skeleton when given and remembered there, or made.  表三 first: of a skeleton not seen before,
    it is the table the fast path most often cannot read (its many rows and seven columns; 128 of
    290 such skeletons of a synthetic run), and then the others are not read for nothing.

    A part is remembered only when every number cell of its window is a value it reads (its count
    of such values is the window's count of number cells: then another window of this skeleton
    gives the same part whatever its numbers, but for the windows of 表三's rows that its numbers
    choose, chosen again for each report); the plan is cacheable when that holds over the three
    windows together and no row's window depends on the numbers."""
    p3 = _part(3, fmt, windows[1], skeletons[1], numbers[1], _part3)
    if p3 is None:
        return None
    if p3[2]:
        p3 = _rechosen(p3, windows[1])
    p2 = _part(2, fmt, windows[0], skeletons[0], numbers[0], _part2)
    if p2 is None:
        return None
    p4 = _part(4, fmt, windows[2], skeletons[2], numbers[2], lambda _f, w: _part4(w))
    if p4 is None:
        return None
    whole = p2[-1] + p3[-1] + p4[-1] == sum(numbers)
    return Plan(p2[0], p3[0], p4[0], p3[1], whole and not p3[2], whole and bool(p3[2]))


_PARTS: dict[tuple[object, ...], Any] = {}  # (table, format, skeleton) -> its part
_P = TypeVar("_P", _Part2, _Part3, _Part4)


def _part(
    table: int,
    fmt: Fmt,
    window: Sequence[LineLike],
    skeleton: str | None,
    numbers: int,
    make: Callable[[Fmt, Sequence[LineLike]], _P | None],
) -> _P | None:
    """A table's part of a plan (``make``), remembered by its window's skeleton (see :func:`_joined`)."""
    key = (table, fmt, skeleton)
    got: _P | None = _PARTS.get(key) if skeleton is not None else None
    if got is None:
        got = make(fmt, window)
        if got is not None and skeleton is not None and got[-1] == numbers:
            if len(_PARTS) >= 3 * MAX_PLANS:
                _PARTS.clear()
            _PARTS[key] = got
    return got


def _apply(
    plan: Plan, w2: Sequence[LineLike], w3: Sequence[LineLike], w4: Sequence[LineLike]
) -> tuple[dict[str, tuple[dict[str, _V], int]], dict[str, tuple[list[_V], int]], list[_V]]:
    """The values of a report read by its plan."""
    t2: dict[str, tuple[dict[str, _V], int]] = {}
    for rid, li, cols in plan.t2:
        ln = w2[li]
        no, cells = ln.no, ln.cells
        t2[rid] = ({c: _V("", no, None) if ci is None else _V(cells[ci], no, ci + 1) for c, ci in cols}, no)
    t3: dict[str, tuple[list[_V], int]] = {}
    for rid, li, k in plan.t3:
        ln = w3[li]
        no, cells = ln.no, ln.cells
        t3[rid] = ([_V(cells[j].strip(), no, j + 1) for j in range(k, k + _T3_N)], no)
    li, k = plan.t4
    ln = w4[li]
    t4 = [_V(ln.cells[j].strip(), ln.no, j + 1) for j in range(k, k + 3 * _T4_N)]
    return t2, t3, t4


_PLANS: dict[tuple[object, ...], Plan] = {}


def cached_plan(key: tuple[object, ...]) -> Plan | None:
    """The plan remembered for a skeleton key ``(fmt, table 二, table 三, table 四)``, if any."""
    return _PLANS.get(key)


def plan_of(
    key: tuple[object, ...],
    windows: tuple[Sequence[LineLike], Sequence[LineLike], Sequence[LineLike]],
    numbers: tuple[int, int, int],
) -> Plan | None:
    """The plan of a report's table windows (二, 三, 四) whose skeleton key is ``key`` (format, then
    each window's skeleton) and whose windows hold ``numbers`` number cells each; None when the fast
    path cannot read them."""
    plan = _PLANS.get(key)
    if plan is None:
        fmt = key[0]
        assert isinstance(fmt, Fmt)
        skeletons = (str(key[1]), str(key[2]), str(key[3]))
        plan = _joined(fmt, windows, skeletons, numbers)
        if plan is None:
            return None
        if plan.cacheable:
            if len(_PLANS) >= MAX_PLANS:
                _PLANS.clear()
            _PLANS[key] = plan
    return plan


# ------------------------------------------------------------------ prose (as nianbao.read.parse assembles it)


# ------------------------------------------------------------------ the report


def read(lines: Sequence[LineLike], report: ParsedReport) -> ParsedReport | None:
    """``report`` filled exactly as :func:`nianbao.read.parse.parse_lines` fills it, or None (the report
    untouched) when the report is not in the well-formed shape."""
    if report.source_type != "text" or not lines:
        return None
    try:
        if any(map(_shaped, lines)) or any(map(_WHERE, lines)):
            return None
    except AttributeError:
        return None
    if has_traditional("\n".join(map("".join, map(_CELLS, lines)))):
        return None
    sections = find_sections(lines)
    if not {"二", "三", "四"} <= sections.keys():
        return None
    w2, w3, w4 = (_window(lines, sections, n) for n in ("二", "三", "四"))
    title = read_title(lines)
    detected = detect_format(lines[sections["二"][0] :], title.year)
    fmt = detected.fmt
    skeletons = [_skeleton(w) for w in (w2, w3, w4)]
    key = (fmt, *(text for text, _n in skeletons))
    plan = plan_of(key, (w2, w3, w4), (skeletons[0][1], skeletons[1][1], skeletons[2][1]))
    if plan is None:
        return None
    t2, t3, t4_values = _apply(plan, w2, w3, w4)
    aliases = plan.aliases
    spec = tables(fmt)

    # ---- certain: fill the report (the tolerant reader's order of facts)
    rep = report
    rep.agency, rep.year, rep.title, rep.title_line = title.agency, title.year, title.text, title.line
    read_period(rep, lines)
    fill_agency(rep)
    fill_sections(
        rep,
        detected,
        sections,
        len(lines),
        lambda start, end: [
            (ln.no, ln.cells[0])
            for ln in lines[start:end]
            if len(ln.cells) <= 1 and not getattr(ln, "table", False) and ln.cells[0].strip()
        ],
        lambda end: [(ln.no, "\t".join(ln.cells)) for ln in lines[:end] if "".join(ln.cells).strip()],
    )

    cells = rep.cells
    table = spec["2"]
    rep.layout.append(LayoutFact("2:*:*", "table", True, table.title))
    for r in table.rows:
        got, line = t2[r.id]
        rep.layout.append(LayoutFact(f"2:{r.id}:*", "row", True, r.label, line=line))
        for c in table.row_columns[r.id]:
            v = got[c]
            cid = f"2:{r.id}:{c}"
            value, state = parse_number(v.raw, cell_kind(fmt, cid))
            cells.put(cid, value, v.raw.strip(), state, v.line, v.pos, None)
    table = spec["3"]
    rep.layout.append(LayoutFact("3:*:*", "table", True, table.title))
    rep.layout.extend(aliases)
    cols = tuple(c.id for c in table.columns)
    for r in table.rows:
        vals, line = t3[r.id]
        rep.layout.append(LayoutFact(f"3:{r.id}:*", "row", True, r.label, line=line))
        _put(rep, fmt, "3", r.id, cols, vals)
    table = spec["4"]
    rep.layout.append(LayoutFact("4:*:*", "table", True, table.title))
    cols = tuple(c.id for c in table.columns)
    for g, r in enumerate(T4_ROWS):
        _put(rep, fmt, "4", r.id, cols, t4_values[g * _T4_N : (g + 1) * _T4_N])
    return rep


def _put(rep: ParsedReport, fmt: Fmt, table: str, row: str, cols: tuple[str, ...], vals: Sequence[_V]) -> None:
    slots = _slots(fmt, table, row, cols)
    if slots is None:
        for c, v in zip(cols, vals, strict=True):
            cid = f"{table}:{row}:{c}"
            value, state = parse_number(v.raw, cell_kind(fmt, cid))
            rep.cells.put(cid, value, v.raw.strip(), state, v.line, v.pos, None)
        return
    positions, kinds = slots
    rep.cells.put_row(positions, [read_code(v.raw, k) for v, k in zip(vals, kinds, strict=True)], vals)
