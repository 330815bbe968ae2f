"""The bulk reading path: whole chunks of well-formed text reports read at once, or left alone.

The batch parse (:func:`load_files`, called by the run for each chunk of its files) reads and
decodes each file as :func:`nianbao.read.load.load_file` does, then reads the plain-text reports of
the chunk together instead of one by one:

- every non-empty line of every report in one polars frame (report, line number, text), and
  by vectorised string operations, without a Python object per line: the shapes the bulk path
  does not read (a pipe, a Markdown mark, an aligned or over-long line, a line break other than
  LF/CRLF, traditional characters, digits other than 0–9, unusual whitespace), the lines that may
  print a section heading or the statistical period, the label lines that print one of the marks
  of a format (:func:`nianbao.read.meta.format_of_marks` reads the marks line by line: a mark
  never spans a line), the lines of text with what :func:`nianbao.read.meta.unwrapped` reads of
  each (ends a sentence, starts a numbered item, width), each table row's skeleton (every number
  cell masked: :mod:`nianbao.read.fast`'s plan key) and every number cell of the chunk, read once
  (integers by the whole series, the rest by ``fast.read_code``);
- per report in Python only decisions of constant size: the sections (from the heading lines
  picked), the title (the top lines), the period (the lines picked), the format (from the marks
  of its label lines), its tables' plan (looked up by skeleton key: a plan compiled once per
  skeleton gives each value's window and rank among its window's number cells, and reads the
  cells printed the same in every report of the skeleton), the prose (each section's lines of
  text picked by bisection over the chunk's; hard-wrapped lines joined by the per-line flags),
  the layout facts (a template per headings and plan, with the report's lines);
- the cells and the tables' layout lines of all the reports of one plan in one scatter (numpy:
  window starts + ranks index the chunk's number cells), :class:`~nianbao.domain.model.CellMap`
  built from its packed state.

It gives exactly the :class:`~nianbao.domain.model.ParsedReport` of the per-report path
(:func:`nianbao.read.parse.parse_lines`) for every report it accepts; a report it cannot read
with full confidence — any of the shapes above, a missing section or table, a skeleton the fast
path has no plan for (unknown or near label, a row missing or printed twice, a blank cell, a
count of numbers that is not the row's …), a text over :data:`MAX_CHARS` or the limits — goes
to the per-report path unchanged (:func:`nianbao.read.load.load_bytes`: its limits, timer and
messages; straight to the tolerant reader when its tables have no plan).
``tests/read/test_bulk_read.py`` compares both paths over the synthetic and real-shape corpus and
over variants of the seed for each decision made line by line.

A chunk's reports go back to the run's process column-wise: packed by :func:`pack_batch` (a parse
worker returns that state; a :class:`ReportBatch` pickles itself so), rebuilt by :func:`unpack_batch`.

``NIANBAO_BULK_READ=0`` turns it off (every report read one by one, by the fast path or the
tolerant reader); ``NIANBAO_FAST_READ=0`` turns it off with the fast path (the tolerant reader alone).
"""

from __future__ import annotations

import math
import os
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import MISSING, dataclass, fields
from functools import cache, lru_cache
from itertools import accumulate
from operator import attrgetter
from typing import Any, cast

import numpy as np
import polars as pl

from nianbao.domain.model import (
    INDEX,
    STATE_CODE,
    LayoutFact,
    LayoutList,
    ParsedReport,
    SectionText,
    cellmap_of,
    layout_of,
    sections_of,
)
from nianbao.domain.normalize import MAX_DIGITS, Kind, State, squash
from nianbao.domain.spec import SECTIONS, T4_ROWS, Fmt, cell_kind, tables
from nianbao.io.files import read_file, settled_ns
from nianbao.io.limits import Limits, current_limits
from nianbao.io.lines import Line
from nianbao.io.sniff import HEAVY, sniff
from nianbao.io.textio import DecodeError, decode_text
from nianbao.io.unreadable import sha256
from nianbao.read import fast
from nianbao.read.chars import TRADITIONAL_CLASS
from nianbao.read.load import load_bytes, load_file
from nianbao.read.meta import (
    BLOCK_HEADER,
    LABEL_LINE_MAX,
    MARK_TEXTS,
    MARKS_PATTERN,
    OTHER_ROW_PATTERN,
    PERIOD_LINES,
    PROSE_SECTIONS,
    ROW_2019_PATTERN,
    SENTENCE_END,
    STARTS_BLOCK_PATTERN,
    WRAP_FULL,
    WRAP_MIN_WIDTH,
    FormatEvidence,
    choose_sections,
    fill_agency,
    format_of_marks,
    period_in_texts,
    read_period,
    section_candidates,
    section_layout,
    title_of_texts,
)

try:  # the line scan in C (nianbao/read/scan.c), built by the install when a C compiler is there
    from nianbao.read import scan as cscan
except ImportError:  # pragma: no cover - an install without a C compiler
    cscan = None  # type: ignore[assignment]
try:  # the packed buffers joined and the prose's UTF-16 in C (nianbao/io/decode.c), likewise
    from nianbao.io import decode as cdecode
except ImportError:  # pragma: no cover - an install without a C compiler
    cdecode = None  # type: ignore[assignment]

MAX_CHARS = 200_000  # a longer text is read by the per-report path (the frame's work stays bounded)
# reports in one frame: a parse chunk of 2,000 read as 8 frames of 250 rather than 2 of 1,000 costs
# ~7-9 us a report less (the frame's arrays and texts stay in the caches between the scan and the
# reports' reading; 125 no better), measured alternated in one process
CHUNK = 250

# Characters NFKC turns into 年, 月 or 日 (㋀ 1月, ㏠ 1日, ⽇ …), into a heading number (⼀, ㊀, 〸 …)
# or into nothing but spaces — all of them, found over the whole of Unicode (the test checks this
# list against unicodedata): a text with one is not read in bulk, so that a line without 年月日
# cannot print the period and a line not starting with a heading number cannot be a heading.
NFKC_RISKY = (
    "\u2f00\u2f06\u2f0b\u2f17\u2f47\u2f49\u3038\u3192-\u3195\u322a\u3230\u3280-\u328a\u3290"
    "\u32c0-\u32cb\u33e0-\u33fe\uf98e\uf9d1\U0001f214\U0001f229\U0001f22a\U0001f237"
)
# A text with any of these is not read in bulk: a line break other than LF/CRLF (splitlines would
# cut there), a pipe (Markdown or web tables), traditional characters (read converted), digits
# other than 0-9 (the masks below read ASCII digits), whitespace other than space, tab and LF
# (U+3000 aligns columns; the bulk reader strips spaces and tabs only), a Markdown heading or bold
# line, C0 controls left after decoding.
_REJECT_CHARS = (
    "[\x00-\x08\r\x0b\x0c\x0e-\x1f\x85\u2028\u2029|"
    + TRADITIONAL_CLASS
    + NFKC_RISKY
    + r"]|[\p{Nd}--[0-9]]|[\s--[ \t\n]]"
)  # single characters
_REJECT_LINES = r"(?m:^ *(?:#|\*\*))"
_REJECT = _REJECT_CHARS + "|" + _REJECT_LINES


# a line that may print a section heading (meta.section_candidates reads those lines): its first
# printed character (after spaces and tabs) a heading number or a Markdown mark, and the only
# printed cell of its line.  Read in two steps: _HEADING_START, then no tab once the line is stripped
# of its spaces and tabs (a line starting so matches _HEADING exactly then; a literal search, where
# _HEADING's class of every character but the tab cost ~0.3 µs a line)
_HEADING = "^[ \t]*[一二三四五六七八九十#*][^\t]*[ \t]*$"
_HEADING_START = "^[ \t]*[一二三四五六七八九十#*]"
_HEADING_MAX = 80  # characters of a heading line once stripped (meta.section_candidates reads no longer)
# a cell that is a number alone (what fast._skeleton masks: the skeleton's count of masked cells is
# the count of these, which the plans' ranks index)
_NUMBER_CELL = r"^[0-9]+(?:\.[0-9]+)?$"

ENV = "NIANBAO_BULK_READ"
CSCAN_ENV = "NIANBAO_CSCAN"  # "0": the lines scanned by polars even when the compiled scan is built

# a mark of meta.format_of_label_text (MARKS_PATTERN, 规范性文件, 其他处理), spaces and tabs allowed
# between its characters (format_of_label_text reads the text without them)
_MARK_WORDS = (*MARK_TEXTS, "规范性文件", "其他处理")
_SPACED_MARKS = "|".join("[ \t]*".join(re.escape(c) for c in mark) for mark in _MARK_WORDS)
_ENDS = "[" + "".join(SENTENCE_END) + "][ \t]*$"  # a line that ends a sentence (meta.unwrapped) once stripped


def enabled() -> bool:
    """On unless ``NIANBAO_BULK_READ=0`` (the bulk path alone) or ``NIANBAO_FAST_READ=0`` (both), and
    not in a process forked while polars' thread pool was running (see :func:`polars_pool_running`)."""
    return fast.enabled() and os.environ.get(ENV, "1") != "0" and not _FORKED_FROM_POOL[0]


def polars_pool_running() -> bool:
    """Whether this process runs polars' thread pool (its threads are named ``polars-<n>``).

    A process forked from one that does inherits the pool without its threads: its first polars
    operation waits for them for ever.  A parse worker forked so reads one report at a time (no
    polars); the run starts its workers from a fresh process instead (``forkserver``) when this is
    true.  Unknown (no ``/proc``): true."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return True
    for t in tasks:
        try:
            with open(f"/proc/self/task/{t}/comm", encoding="utf-8") as fh:
                name = fh.read().strip()
        except OSError:
            continue
        if name.startswith("polars-") and name[7:].isdigit():
            return True
    return False


_FORKED_FROM_POOL = [False]  # set in a child forked while polars' pool was running
_POOL_AT_FORK = [False]


def _before_fork() -> None:
    _POOL_AT_FORK[0] = polars_pool_running()


def _after_fork_in_child() -> None:
    _FORKED_FROM_POOL[0] = _FORKED_FROM_POOL[0] or _POOL_AT_FORK[0]


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


# ------------------------------------------------------------------ files


def load_files(files: Sequence[tuple[str | os.PathLike[str], str]], limits: Limits | None = None) -> ReportBatch:
    """Parse files ``(path, name shown)`` as :func:`nianbao.read.load.load_file` parses each, in order;
    the plain-text reports in bulk (:func:`read_texts`), every other file and every report the bulk
    reader leaves by :func:`~nianbao.read.load.load_file` / :func:`~nianbao.read.load.load_bytes`."""
    lim = limits or current_limits()
    if not enabled():
        return ReportBatch(load_file(p, n, lim) for p, n in files)
    out: list[ParsedReport | None] = [None] * len(files)
    pending: list[tuple[int, ParsedReport, str, bytes, int | None]] = []
    for k, (path, name) in enumerate(files):
        got = read_file(path, name, lim)
        if isinstance(got, ParsedReport):
            out[k] = got  # too large, or the system refused to read it
            continue
        data, modified = got
        kind = sniff(data, name)  # as load_bytes detects it; load_file decides on the first 64 KiB
        head = kind if len(data) <= 1 << 16 or data.startswith(b"PK") else sniff(data[: 1 << 16], name)
        if kind != "text" or head in HEAVY or not data or data.isspace():  # (not data.strip(), without its copy)
            out[k] = load_file(path, name, lim)
            continue
        try:
            dec = decode_text(data, keep_c0=True)  # a text with C0 controls: rejected by _frame, read again
        except DecodeError:
            out[k] = _bytes(name, data, lim, settled_ns(modified))
            continue
        rep = _BLANK(name, sha256(data), len(data), dec.encoding, settled_ns(modified))
        if dec.damage:
            rep.bad_bytes = dec.damage
            rep.bad_bytes_detail = dec.damage_detail()
        pending.append((k, rep, dec.text, data, rep.mtime_ns))
    size = -(-len(pending) // -(-len(pending) // CHUNK)) if pending else 1  # parts of at most CHUNK, even
    for start in range(0, len(pending), size):
        part = pending[start : start + size]
        no_plan: list[int] = []
        done = read_texts([(rep, text) for _k, rep, text, _d, _m in part], lim, no_plan)
        passed = set(no_plan)
        for j, ((k, rep, _text, data, mtime), ok) in enumerate(zip(part, done, strict=True)):
            if ok:
                out[k] = rep
            elif j in passed:
                with fast.passed_over():  # its tables have no plan: the tolerant reader at once
                    out[k] = _bytes(rep.file, data, lim, mtime)
            else:
                out[k] = _bytes(rep.file, data, lim, mtime)
    assert all(r is not None for r in out)
    return ReportBatch(out)  # type: ignore[arg-type]


def _bytes(name: str, data: bytes, lim: Limits, mtime_ns: int | None) -> ParsedReport:
    """A file the bulk path does not read: the per-report path, as load_file would give it."""
    rep = load_bytes(name, data, lim)
    rep.mtime_ns = mtime_ns
    return rep


# ------------------------------------------------------------------ lines as the loaders give them


def _line(raws: Sequence[str], i: int) -> Line:
    raw = raws[i]
    if "\t" in raw:
        return Line(raw.split("\t"), i + 1, table=True)
    return Line([raw], i + 1)


@lru_cache(maxsize=1 << 14)  # the same headings in every report
def _heading(raw: str) -> tuple[str, str, str] | None:
    """What meta.section_candidates reads of one line (printed heading, number, words), or None."""
    got = section_candidates([(0, _line([raw], 0))])
    return got[0][2:] if got else None


@lru_cache(maxsize=1 << 12)  # the same headings, in the same order, in most reports
def _chosen(
    printed: tuple[tuple[str, str, str], ...],
) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, str, int], ...]]:
    """meta.choose_sections of a report's heading candidates (printed heading, number, words, in
    the order of their lines): each section found and the rank of its candidate (choose_sections
    compares the candidates' lines only by their order, so their ranks stand for their lines); and
    the key of its layout facts (:func:`_layout`: each section's printed heading and rank among the
    sections)."""
    found = choose_sections([(k, k + 1, *got) for k, got in enumerate(printed)])
    ranks = sorted(i for i, _no, _p in found.values())
    skey = tuple(sorted((num, p, ranks.index(i)) for num, (i, _no, p) in found.items()))
    return tuple((num, i) for num, (i, _no, _p) in found.items()), skey


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a report's heading candidates make, by index into its candidate lines (``heads``): per
    statutory section its candidate; in line order each section's number, candidate, the next
    section's (-1: none, the text's end) and how its prose is read (0 as it is, 1 section 二 without
    its block headers, 2 a prose section that may be unwrapped), the first candidate; the sections in
    statutory order (their places in line order, and their names with the 引言 last: the prose's
    names); per table section (二, 三, 四) its candidate and the next section's (-1: none); the
    layout key (:func:`_layout`); the prose's parts as the compiled scan's ``sections`` reads them
    (their count, then per part in statutory order its candidate, the next one's, how it is read)."""

    heading_of: tuple[int, ...]  # per statutory section (spec.SECTIONS): its candidate, -1 not found
    spans: tuple[tuple[str, int, int, int], ...]
    first: int
    statutory: tuple[int, ...]
    names: list[str]
    tables: tuple[tuple[int, int], ...] | None  # None: 二, 三 or 四 not found
    skey: tuple[tuple[str, str, int], ...]
    parts: tuple[int, ...]


@lru_cache(maxsize=1 << 12)  # the same heading lines in most reports
def _shape(texts: tuple[str, ...]) -> _Shape:
    """The :class:`_Shape` of a report whose heading candidates print ``texts`` (in line order)."""
    kept: list[int] = []
    printed: list[tuple[str, str, str]] = []
    for k, raw in enumerate(texts):
        got = _heading(raw)
        if got is not None:
            kept.append(k)
            printed.append(got)
    chosen, skey = _chosen(tuple(printed))
    secs = tuple((num, kept[k], printed[k][0]) for num, k in chosen)
    ordered = sorted(((num, j) for num, j, _p in secs), key=lambda nj: nj[1])
    spans = tuple(
        (
            num,
            j,
            ordered[k + 1][1] if k + 1 < len(ordered) else -1,
            1 if num == "二" else 2 if num in PROSE_SECTIONS else 0,
        )
        for k, (num, j) in enumerate(ordered)
    )
    place = {num: k for k, (num, _j) in enumerate(ordered)}
    statutory = tuple(place[s.number] for s in SECTIONS if s.number in place)
    names = [s.number for s in SECTIONS if s.number in place]
    names.append("引言")
    at = {num: j for num, j, _p in secs}
    tables = None
    if {"二", "三", "四"} <= at.keys():
        js = sorted(at.values())
        tables = tuple((at[n], next((j for j in js if j > at[n]), -1)) for n in ("二", "三", "四"))
    heading_of = tuple(at.get(s.number, -1) for s in SECTIONS)
    parts = (len(statutory), *(x for k in statutory for x in spans[k][1:]))
    return _Shape(heading_of, spans, ordered[0][1] if ordered else -1, statutory, names, tables, skey, parts)


def _printed_text(raw: str) -> str:
    """What the readers of meta print of a line (meta._plain of its Line): its cells stripped, the
    non-blank ones joined by a space."""
    if "\t" in raw:
        return " ".join(c.strip() for c in raw.split("\t") if c.strip())
    return raw.strip()


def _printed(ch: _Chunk, a: int, b: int, text: str) -> Iterator[tuple[int, str]]:
    """(line number, :func:`_printed_text`) of lines ``a`` to ``b - 1`` of the chunk (a report's, of
    decoded ``text``; numbered from 1), as far as they are read."""
    raws = ch.raws
    for i in range(a, b):
        raw = raws[i]
        if raw is None:  # a row of number cells the scan left (rare: above a title)
            raw = _own_lines(ch, a, b, text)[i - a]
        yield i - a + 1, _printed_text(raw)


def _own_lines(ch: _Chunk, a: int, b: int, text: str) -> list[str]:
    """Lines ``a`` to ``b - 1`` of the chunk (a report's, of decoded ``text``), each a str: a row of
    number cells the scan left None (no reader of a line's text picks it) made from the text, split
    as :func:`_text` reads it, and kept in the chunk for the next reader."""
    raws = ch.raws
    own = raws[a:b]
    if None not in own:
        return own  # type: ignore[return-value]
    lines = _text(text).split("\n")
    assert len(lines) == b - a
    for i, raw in enumerate(own):
        if raw is None:
            raws[a + i] = lines[i]
    return lines


# ------------------------------------------------------------------ compiled plans


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A plan as arrays: per value its window (0 二, 1 三, 2 四), position in the cell arrays, line
    in the window (1-based) and cell (1-based, 0: a blank cell not printed); the tables' layout facts.

    Per value also where it is read: a number cell (masked in the skeleton) by its rank among the
    number cells of its window (``rank``; -1 for the others), any other cell (blank, a placeholder:
    printed the same in every report of the skeleton) read once here (``value``, ``state``,
    ``text``)."""

    win: np.ndarray
    pos: np.ndarray
    layout: dict[str, Any]  # LayoutList state of the table facts (lines 0)
    fact_win: np.ndarray  # per fact: its window, -1 for a fact without a line
    fact_li: np.ndarray
    rank: np.ndarray
    value: np.ndarray  # float64 (NaN for a number cell)
    state: np.ndarray  # uint8
    text: dict[int, str]  # position -> printed text (not plain) of the cells read here
    line: np.ndarray  # li + 1 (the value's line in its window, 1-based)
    col: np.ndarray  # uint16: ci + 1, 0 for a blank cell not printed


_COMPILED: dict[tuple[object, ...], _Compiled | None] = {}


_CHOSEN: dict[tuple[object, ...], _Compiled | None] = {}


def _compile(key: tuple[object, ...], plan: fast.Plan) -> _Compiled | None:
    """The plan of a skeleton key compiled, remembered when the plan is (fast.Plan.cacheable), or
    with its 表三 rows when their numbers chose some of their windows (fast.Plan.chosen)."""
    if plan.chosen:
        ck = (key, plan.t3)
        if ck not in _CHOSEN:
            if len(_CHOSEN) >= fast.MAX_PLANS:
                _CHOSEN.clear()
            _CHOSEN[ck] = _compiled(key, plan)
        return _CHOSEN[ck]
    compiled = _compiled(key, plan)
    if plan.cacheable:
        if len(_COMPILED) >= fast.MAX_PLANS:
            _COMPILED.clear()
        _COMPILED[key] = compiled
    return compiled


def _compiled(key: tuple[object, ...], plan: fast.Plan) -> _Compiled | None:
    """The plan as arrays: each table's part (:func:`_table_part`, remembered by its window's
    skeleton and its part of the plan) joined in the tables' order."""
    fmt = key[0]
    assert isinstance(fmt, Fmt)
    parts = [
        _table_part(fmt, 0, str(key[1]), plan.t2, ()),
        _table_part(fmt, 1, str(key[2]), plan.t3, plan.aliases),
        _table_part(fmt, 2, str(key[3]), plan.t4, ()),
    ]
    if any(part is None for part in parts):
        return None
    p2, p3, p4 = (part for part in parts if part is not None)
    text = {**p2.text, **p3.text, **p4.text}
    return _Compiled(
        np.concatenate([p2.win, p3.win, p4.win]),
        np.concatenate([p2.pos, p3.pos, p4.pos]),
        _merged(_merged(p2.layout, p3.layout), p4.layout),
        np.concatenate([p2.fact_win, p3.fact_win, p4.fact_win]),
        np.concatenate([p2.fact_li, p3.fact_li, p4.fact_li]),
        np.concatenate([p2.rank, p3.rank, p4.rank]),
        np.concatenate([p2.value, p3.value, p4.value]),
        np.concatenate([p2.state, p3.state, p4.state]),
        text,
        np.concatenate([p2.line, p3.line, p4.line]),
        np.concatenate([p2.col, p3.col, p4.col]),
    )


_PARTS: dict[tuple[object, ...], _Compiled | None] = {}


def _table_part(fmt: Fmt, w: int, skeleton: str, part: Any, aliases: tuple[LayoutFact, ...]) -> _Compiled | None:
    """One table's :class:`_Compiled` (its window ``w``: 0 表二, 1 表三, 2 表四), made from its part of
    the plan and its window's skeleton (both decide it whole), remembered by them."""
    key = (fmt, w, skeleton, part, tuple((f.element, f.printed) for f in aliases))
    if key in _PARTS:
        return _PARTS[key]
    got = _table_compiled(fmt, w, skeleton, part, aliases)
    if len(_PARTS) >= 3 * fast.MAX_PLANS:
        _PARTS.clear()
    _PARTS[key] = got
    return got


@lru_cache(maxsize=1 << 12)  # the same rows at the same places in most reports' tables
def _table_layout(fmt: Fmt, w: int, part: Any, alias_key: tuple[tuple[str, str | None], ...]) -> _TableLayout | None:
    """What a table's part of a plan alone decides (whatever the window's text): per value its line
    in the window, cell, position and kind; the table's layout facts, their windows and lines."""
    aliases = tuple(
        LayoutFact(element, "column", True, _T3_LABELS[fmt][element], printed=printed) for element, printed in alias_key
    )
    spec = tables(fmt)
    li: list[int] = []
    ci: list[int] = []
    pos: list[int] = []
    kind: list[Kind] = []

    def add(line: int, cell: int, cid: str) -> bool:
        p = INDEX.get(cid)
        if p is None:
            return False
        li.append(line)
        ci.append(cell)
        pos.append(p)
        kind.append(cell_kind(fmt, cid))  # (memoised by spec)
        return True

    facts: list[tuple[LayoutFact, int, int]] = []
    if w == 0:
        t2 = {rid: (line, cols) for rid, line, cols in part}
        table = spec["2"]
        facts.append((LayoutFact("2:*:*", "table", True, table.title), -1, 0))
        for r in table.rows:
            line, cols = t2[r.id]
            facts.append((LayoutFact(f"2:{r.id}:*", "row", True, r.label), 0, line))
            got = dict(cols)
            for c in table.row_columns[r.id]:
                cell = got[c]
                if not add(line, -1 if cell is None else cell, f"2:{r.id}:{c}"):
                    return None
    elif w == 1:
        table = spec["3"]
        facts.append((LayoutFact("3:*:*", "table", True, table.title), -1, 0))
        facts.extend((f, -1, 0) for f in aliases)
        t3 = {rid: (line, k) for rid, line, k in part}
        cols3 = [c.id for c in table.columns]
        for r in table.rows:
            line, k = t3[r.id]
            facts.append((LayoutFact(f"3:{r.id}:*", "row", True, r.label), 1, line))
            for j, c in enumerate(cols3):
                if not add(line, k + j, f"3:{r.id}:{c}"):
                    return None
    else:
        table = spec["4"]
        facts.append((LayoutFact("4:*:*", "table", True, table.title), -1, 0))
        cols4 = [c.id for c in table.columns]
        line, k = part
        for g, r in enumerate(T4_ROWS):
            for j, c in enumerate(cols4):
                if not add(line, k + g * len(cols4) + j, f"4:{r.id}:{c}"):
                    return None
    ll = LayoutList()
    ll.extend(f for f, _w, _l in facts)
    return _TableLayout(
        tuple(li),
        tuple(ci),
        tuple(pos),
        tuple(kind),
        ll.__getstate__(),
        np.array([fw for _f, fw, _l in facts], np.int64),
        np.array([ln for _f, _w, ln in facts], np.int64),
    )


@dataclass(frozen=True, slots=True)
class _TableLayout:
    """What :func:`_table_layout` gives (per value, then per layout fact)."""

    li: tuple[int, ...]
    ci: tuple[int, ...]
    pos: tuple[int, ...]
    kind: tuple[Kind, ...]
    layout: dict[str, Any]
    fact_win: np.ndarray
    fact_li: np.ndarray


_T3_LABELS = {fmt: {f"3:*:{c.id}": c.label for c in tables(fmt)["3"].columns} for fmt in Fmt}


def _table_compiled(fmt: Fmt, w: int, skeleton: str, part: Any, aliases: tuple[LayoutFact, ...]) -> _Compiled | None:
    """A table's :class:`_Compiled`: its layout (:func:`_table_layout`), and where each value is read
    (a number cell of the window by its rank, any other cell as its skeleton prints it)."""
    tl = _table_layout(fmt, w, part, tuple((f.element, f.printed) for f in aliases))
    if tl is None:
        return None
    li, ci, pos = tl.li, tl.ci, tl.pos
    # each value's cell in the skeleton: a number (masked: its rank in the window) or printed as is
    sk_lines = [sk.split("\t") for sk in skeleton.split("\n")]
    ranks: dict[tuple[int, int], int] = {}
    for ln, sk_cells in enumerate(sk_lines):
        for cx, sk_cell in enumerate(sk_cells):
            if sk_cell.startswith("\x00"):
                ranks[(ln, cx)] = len(ranks)
    rank: list[int] = []
    value: list[float] = []
    state: list[int] = []
    text: dict[int, str] = {}
    for w_line, w_cell, p, kn in zip(li, ci, pos, tl.kind, strict=True):
        rk = ranks.get((w_line, w_cell), -1) if w_cell >= 0 else -1
        rank.append(rk)
        if rk >= 0:
            value.append(math.nan)
            state.append(0)
            continue
        v, code, t = fast.read_code(sk_lines[w_line][w_cell] if w_cell >= 0 else "", kn)
        value.append(v)
        state.append(code)
        if t is not None:
            text[p] = t
    return _Compiled(
        np.full(len(pos), w, np.int64),
        np.array(pos, np.int64),
        tl.layout,
        tl.fact_win,
        tl.fact_li,
        np.array(rank, np.int64),
        np.array(value, np.float64),
        np.array(state, np.uint8),
        text,
        np.array(li, np.int64) + 1,
        np.array([c + 1 if c >= 0 else 0 for c in ci], np.uint16),
    )


# ------------------------------------------------------------------ the chunk


@dataclass(slots=True)
class _Chunk:
    """The lines of the texts read in bulk, flat (report after report), and what was found of them."""

    accepted: np.ndarray  # per text: read in bulk (else left to the per-report path)
    rids: np.ndarray  # per line: its text
    raws: list[str | None]  # None: a row of number cells no reader of a line's text picks (_own_lines)
    skel: list[str]  # the line with its number cells masked
    numbers: np.ndarray  # number cells of the line
    heads: np.ndarray  # lines that may print a section heading
    periods: np.ndarray  # lines of the head that may print the period
    prose: np.ndarray  # lines of text (no tab, not blank), ascending (int64)
    open_ends: np.ndarray  # per line of ``prose``: how many before it do not end a sentence (int64)
    ends: np.ndarray  # per line of ``prose``: it ends a sentence (stripped) (bool)
    block: np.ndarray  # per line of ``prose``: it starts a heading or a numbered item (bool)
    width: np.ndarray  # per line of ``prose``: its printed width (UTF-8 bytes, stripped) (int64)
    prose_no: np.ndarray  # per line of ``prose``: its line number in its report (1-based) (int64)
    prose_raw: list[str]  # per line of ``prose``: its text (a section's lines are slices of these)
    mark_rows: list[int]  # label lines that print a format's mark, ascending
    marks: list[tuple[tuple[str, ...], bool, bool]]  # per line of mark_rows: (marks, 规范性文件 row, 其他处理 row)
    first_number: np.ndarray  # per line (and one past the last): number cells of the lines before it
    values: np.ndarray  # per number cell of the chunk, in order: its value (fast.read_code)
    states: np.ndarray  # … its state code
    texts: dict[int, str]  # … its printed text when not plain, by index


def _frame(texts: Sequence[str], lim: Limits) -> _Chunk:
    """The lines of the texts (as decoded: each read as :func:`_text` reads it) that may be read in
    bulk, with their flags: by the compiled scan when it is built and not turned off
    (``NIANBAO_CSCAN=0``), else (or when it fails) by polars alone — the same chunk either way
    (``tests/read/test_scan.py``)."""
    if cscan is not None and os.environ.get(CSCAN_ENV, "1") != "0":
        try:
            return _frame_c(texts, lim)
        except Exception:  # any failure of the scan: the polars path gives the same chunk
            pass
    return _frame_polars(texts, lim)


def _frame_c(texts: Sequence[str], lim: Limits) -> _Chunk:
    """:func:`_frame_polars`'s chunk by the compiled scan (:mod:`nianbao.read.scan`, see ``scan.c``):
    each text's rejection (``_REJECT``) through a table of characters that polars' regex wrote (a text
    with a character beyond it by polars), then every line of the texts accepted in one pass; only
    the odd number cells (``fast.read_code``) and the label lines' marks (:func:`_marks_of`) in Python.
    Both read each text as :func:`_text` reads it (the scan itself: no copy of a text with CRLFs)."""
    assert cscan is not None
    texts = list(texts)
    classes = np.frombuffer(cscan.classify(texts, _char_classes(), MAX_CHARS), np.uint8)
    ok = classes == 0
    unsure = np.flatnonzero(classes == 2)
    if len(unsure):  # a character beyond the table (rare): _REJECT by polars
        try:
            series = pl.Series([_text(texts[i]) for i in unsure.tolist()], dtype=pl.String)
        except UnicodeEncodeError:
            return _frame_polars(texts, lim)  # a lone surrogate: as polars gives it (it cannot hold one)
        ok[unsure] = ~series.str.contains(_REJECT).to_numpy()
    (acc, rids, raws, skel, numbers, heads, periods, prose, open_ends, ends, block, width, prose_no, mark_rows, first,
     values_b, states_b, odd, prose_raw) = cscan.scan(
        texts, ok.tobytes(), lim.max_lines, lim.max_line_chars, lim.max_cells_per_row, PERIOD_LINES, LABEL_LINE_MAX,
        _HEADING_MAX, MAX_DIGITS, _ZERO_CODE, _VALUE_CODE, _MARK_WORDS, "".join(SENTENCE_END),
    )  # fmt: skip
    values = np.frombuffer(values_b, np.float64)
    states = np.frombuffer(states_b, np.uint8)
    texts_at = _read_odd(odd, values, states)  # a decimal, a leading zero, a long number
    mark_l = array("q", mark_rows).tolist()
    return _Chunk(
        np.frombuffer(acc, np.bool_),
        np.frombuffer(rids, np.int64),
        raws,
        skel,
        np.frombuffer(numbers, np.int64),
        np.frombuffer(heads, np.uint32),
        np.frombuffer(periods, np.uint32),
        np.frombuffer(prose, np.int64),
        np.frombuffer(open_ends, np.int64),
        np.frombuffer(ends, np.bool_),
        np.frombuffer(block, np.bool_),
        np.frombuffer(width, np.int64),
        np.frombuffer(prose_no, np.int64),
        prose_raw,
        mark_l,
        [_marks_of(raws[r]) for r in mark_l],
        np.frombuffer(first, np.int64),
        values,
        states,
        texts_at,
    )


@cache
def _char_classes() -> bytes:
    """Per character of the Basic Multilingual Plane, how :func:`nianbao.read.scan.classify` reads it
    (see ``scan.c``): bit 0 rejected (polars' own regex matches ``_REJECT_CHARS`` on the character
    alone), bit 1 to be read by polars (a lone surrogate), bit 2 ``#`` or ``*`` (``_REJECT_LINES``
    may match).  ~10 ms, once per process."""
    codes = np.array([c for c in range(0x10000) if not 0xD800 <= c < 0xE000], np.int64)
    rejected = pl.Series(list(map(chr, codes.tolist())), dtype=pl.String).str.contains(_REJECT_CHARS).to_numpy()
    table = np.zeros(0x10000, np.uint8)
    table[codes[rejected]] = 1
    table[0xD800:0xE000] = 2
    table[[ord("#"), ord("*")]] |= 4
    return table.tobytes()


def _frame_polars(texts: Sequence[str], lim: Limits) -> _Chunk:
    """The lines of the texts (each read as :func:`_text` reads it) that may be read in bulk, with
    their flags, in one frame."""
    texts = [_text(x) for x in texts]
    # a text over MAX_CHARS never enters the frame (the work per chunk stays bounded)
    t = pl.DataFrame(
        {"text": [x if len(x) <= MAX_CHARS else "" for x in texts], "short": [len(x) <= MAX_CHARS for x in texts]},
        schema={"text": pl.String, "short": pl.Boolean},
    ).with_row_index("rid")
    ok = (
        pl.col("short")
        & (pl.col("text").str.count_matches("\n", literal=True) < lim.max_lines)
        & ~pl.col("text").str.contains(_REJECT)
    )
    t = t.with_columns(ok=ok)
    accepted = t["ok"].to_numpy().copy()
    lines = (
        t.filter("ok")
        .select("rid", pl.col("text").str.split("\n").alias("raw"))
        .with_columns(idx=pl.int_ranges(0, pl.col("raw").list.len(), dtype=pl.Int64))
        .explode(["raw", "idx"])
    )
    raw = pl.col("raw")
    tab = raw.str.contains("\t", literal=True)
    # a line too long, of too many cells, or aligned by spaces: looked for only on the lines long
    # enough to be one of the first two or with a double space
    bad = (
        lines.filter(
            (raw.str.len_bytes() >= min(lim.max_line_chars + 1, lim.max_cells_per_row))
            | raw.str.contains("  ", literal=True)
        )
        .filter(
            (raw.str.len_chars() > lim.max_line_chars)
            | (tab & (raw.str.count_matches("\t", literal=True) >= lim.max_cells_per_row))
            | (~tab & raw.str.contains("  ", literal=True))
        )["rid"]
        .unique()
        .to_numpy()
    )
    if len(bad):
        accepted[bad] = False
        lines = lines.filter(~pl.col("rid").is_in(bad.tolist()))
    # numbered over every line of the texts accepted; the empty lines (a good part of them) need no
    # more work
    lines = lines.with_row_index("row")
    n_lines = lines.height
    lines = lines.filter(raw != "").with_columns(tab=tab)
    tab = pl.col("tab")
    lines = lines.with_columns(
        # the skeleton is made of the rows with a digit and of the paragraphs that are a number alone
        digit=tab & raw.str.contains("[0-9]") | ~tab & raw.str.contains(_NUMBER_CELL),
        head=raw.str.contains(_HEADING_START),  # then the rest of _HEADING on those lines (below)
    )
    # the skeleton of the lines with a digit: each cell that is a number alone masked (fast._skeleton's
    # three masks: a decimal, five digits or more, up to four), and how many there are
    el = pl.element()
    number = el.str.contains(_NUMBER_CELL)
    masked = (
        pl.col("cells")
        .list.eval(
            pl.when(~number)
            .then(el)
            .when(el.str.contains(".", literal=True))
            .then(pl.lit("\x00D"))
            .when(el.str.len_bytes() >= 5)
            .then(pl.lit("\x00L"))
            .otherwise(pl.lit("\x00S"))
        )
        .list.join("\t")
    )
    cells = lines.filter("digit").select("row", cells=raw.str.split("\t"))
    digits = cells.select("row", skel=masked).with_columns(
        numbers=pl.col("skel").str.count_matches("\x00", literal=True)
    )
    # the lines as Python strings: split here (cheaper than from the frame); the frame holds the
    # lines of the texts accepted, in order
    raws: list[str] = []
    kept = np.flatnonzero(accepted).tolist()
    counts = []
    for k in kept:
        split = texts[k].split("\n")
        counts.append(len(split))
        raws += split
    assert len(raws) == n_lines
    skel = list(raws)
    for i, sk in zip(digits["row"].to_list(), digits["skel"].to_list(), strict=True):
        skel[i] = sk
    numbers = np.zeros(len(raws), np.int64)
    numbers[digits["row"].to_numpy()] = digits["numbers"].to_numpy()
    # every number cell of the chunk, in order (line, cell): what fast.read_code reads of each
    nums = cells.select(cell="cells").explode("cell").filter(pl.col("cell").str.contains(_NUMBER_CELL))["cell"]
    values, states, texts_at = _numbers(nums)
    # the lines of text (no tab, not blank) and what meta.unwrapped reads of each
    text_lines = lines.filter(~tab & raw.str.contains("[^ \t]")).select(
        "row",
        no=pl.col("idx") + 1,
        ends=raw.str.contains(_ENDS),
        block=raw.str.contains(STARTS_BLOCK_PATTERN),
        width=raw.str.strip_chars().str.len_bytes(),
    )
    open_ends = (~text_lines["ends"]).cum_sum().shift(1, fill_value=0)
    # meta.detect_format's label lines (a row of cells, or a short paragraph not a sentence) that may
    # print a format's mark (spaces and tabs between its characters allowed), each read by
    # _marks_of (the same few lines in most reports: table headings)
    marked = (
        lines.filter(tab | ((raw.str.len_chars() <= LABEL_LINE_MAX) & ~raw.str.ends_with("。")))
        .filter(raw.str.contains(_SPACED_MARKS))
        .select("row", "raw")
    )
    prose = text_lines["row"].to_list()
    prose_raw = list(map(raws.__getitem__, prose))
    heads = (
        lines.filter("head")
        .filter(
            ~raw.str.strip_chars(" \t").str.contains("\t", literal=True)
            & (raw.str.strip_chars().str.len_chars() <= _HEADING_MAX)
        )["row"]
        .to_numpy()
    )
    periods = (
        lines.filter(pl.col("idx") < PERIOD_LINES)
        .filter(
            raw.str.contains("年", literal=True)
            & raw.str.contains("月", literal=True)
            & raw.str.contains("日", literal=True)
        )["row"]
        .to_numpy()
    )
    mark_rows = marked["row"].to_list()
    # a row of number cells no reader of a line's text picks: None, as the compiled scan leaves it
    # (_own_lines makes it from the text when a rare path reads it)
    unread = numbers > 0
    for picked in (heads, periods, np.array(prose, np.int64), np.array(mark_rows, np.int64)):
        unread[picked] = False
    some: list[str | None] = list(raws)
    for r in np.flatnonzero(unread).tolist():
        some[r] = None
    return _Chunk(
        accepted,
        np.repeat(np.array(kept, np.int64), counts),
        some,
        skel,
        numbers,
        heads,
        periods,
        np.array(prose, np.int64),
        open_ends.to_numpy().astype(np.int64),
        text_lines["ends"].to_numpy().astype(np.bool_),
        text_lines["block"].to_numpy().astype(np.bool_),
        text_lines["width"].to_numpy().astype(np.int64),
        text_lines["no"].to_numpy().astype(np.int64),
        prose_raw,
        mark_rows,
        list(map(_marks_of, marked["raw"].to_list())),
        np.concatenate([np.zeros(1, np.int64), np.cumsum(numbers)]),
        values,
        states,
        texts_at,
    )


_MARKS = re.compile(MARKS_PATTERN)
_ROW_2019 = re.compile(ROW_2019_PATTERN)
_OTHER_ROW = re.compile(OTHER_ROW_PATTERN)


@lru_cache(maxsize=1 << 14)
def _marks_of(raw: str) -> tuple[tuple[str, ...], bool, bool]:
    """What meta.format_of_label_text finds on one label line (a mark never spans a line), read
    without its spaces and tabs: its marks in order, whether it starts the 2019 row 规范性文件,
    whether it prints the row 其他处理."""
    label = raw.replace("\t", "").replace(" ", "")
    return tuple(_MARKS.findall(label)), _ROW_2019.search(label) is not None, _OTHER_ROW.search(label) is not None


_PLAIN_INTEGER = f"^(?:0|[1-9][0-9]{{0,{MAX_DIGITS - 1}}})$"  # read as its value, printed as it is read
_VALUE_CODE = STATE_CODE[State.VALUE]
_ZERO_CODE = STATE_CODE[State.ZERO]


def _numbers(nums: pl.Series) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """fast.read_code of number cells (digits, or digits.digits): (values, state codes, printed texts
    that are not plain by index).  An integer of at most 12 digits without a leading zero (or 0)
    is read here, by the whole series; any other (a decimal, a leading zero, a long number) by
    fast.read_code (its kind does not matter: a number without a unit reads the same as any kind)."""
    odd = ~nums.str.contains(_PLAIN_INTEGER)
    values = nums.cast(pl.Float64, strict=False).fill_null(math.nan).to_numpy().copy()
    states = np.where(values == 0, _ZERO_CODE, _VALUE_CODE).astype(np.uint8)
    at = np.flatnonzero(odd.to_numpy())
    return values, states, _read_odd(zip(at.tolist(), nums.gather(at).to_list(), strict=True), values, states)


def _read_odd(cells: Iterable[tuple[int, str]], values: np.ndarray, states: np.ndarray) -> dict[int, str]:
    """fast.read_code of the number cells not read as plain integers, ``(index, printed text)``: each
    one's value and state put at its index; their printed texts that are not plain, by index."""
    texts: dict[int, str] = {}
    for k, cell in cells:
        v, code, text = fast.read_code(cell, Kind.COUNT)
        values[k] = v
        states[k] = code
        if text is not None:
            texts[k] = text
    return texts


def _text(text: str) -> str:
    """A decoded text with CRLF as LF and without its last line break: split at LF, it has the
    lines ``str.splitlines`` gives (a text with other line breaks is not read in bulk)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return text[:-1] if text.endswith("\n") else text


def read_texts(
    items: Sequence[tuple[ParsedReport, str]], limits: Limits | None = None, no_plan: list[int] | None = None
) -> list[bool]:
    """Fill each report (file, hash, encoding set; plain text) from its decoded text when the bulk
    path reads it for certain; True for those, False for the ones left untouched (``no_plan``, when
    given, receives the index of those whose tables have no plan: the fast path cannot read them).

    The sections' prose of every report read is made by the compiled scan's ``sections`` for the
    whole chunk at once when the scan is built and on (``NIANBAO_CSCAN``), else by
    :func:`_fill_prose` report by report (the same sections: ``tests/read/test_scan.py``)."""
    lim = limits or current_limits()
    if not items:
        return []
    ch = _frame([t for _r, t in items], lim)
    compiled = cscan is not None and os.environ.get(CSCAN_ENV, "1") != "0"
    lists = None if compiled else _ProseLists.of(ch)
    windows = cscan.windows if compiled and cscan is not None else _windows
    order = np.flatnonzero(ch.accepted)
    starts = np.searchsorted(ch.rids, order, "left").tolist()
    ends = np.searchsorted(ch.rids, order, "right").tolist()
    head_at = np.searchsorted(ch.heads, starts).tolist(), np.searchsorted(ch.heads, ends).tolist()
    period_at = np.searchsorted(ch.periods, starts).tolist(), np.searchsorted(ch.periods, ends).tolist()
    heads, periods = ch.heads.tolist(), ch.periods.tolist()
    # where each heading line and each report's end fall among the lines of text (what bisection
    # over ch.prose gives, for the whole chunk at once): the first line of text after the heading
    # line, the heading line's own place, the report's end
    after = np.searchsorted(ch.prose, ch.heads.astype(np.int64) + 1)
    at = np.searchsorted(ch.prose, ch.heads.astype(np.int64))
    end_at = np.searchsorted(ch.prose, ends).tolist()
    after_l, at_l = (after.tolist(), at.tolist()) if lists is not None else ([], [])
    done = [False] * len(items)
    chosen: list[_Chosen] = []
    plan: list[int] = []  # the compiled prose's plan (scan.sections), report after report
    named: list[tuple[ParsedReport, list[str]]] = []  # … its reports and their sections' names
    for k, rid in enumerate(order.tolist()):
        a, b = starts[k], ends[k]
        h, h_end = head_at[0][k], head_at[1][k]
        hs = heads[h:h_end]
        rep = items[rid][0]
        got = _read_one(rep, items[rid][1], ch, a, b, hs, periods[period_at[0][k] : period_at[1][k]], windows)
        if got is None:
            continue
        if got is _NO_PLAN:
            if no_plan is not None:
                no_plan.append(rid)
            continue
        comp, offs, layout, shape = got
        assert comp is not None and shape is not None
        if lists is None:
            plan += (a, hs[shape.first], h, end_at[k])
            plan += shape.parts
            named.append((rep, shape.names))
        else:
            _fill_prose(rep, shape, hs, ch, lists, a, (after_l[h:h_end], at_l[h:h_end], end_at[k]))
        chosen.append((rid, comp, offs, a, layout))
        done[rid] = True
    if named:
        assert cscan is not None
        made = cscan.sections(
            array("q", plan), ch.prose_raw, ch.raws, ch.prose_no, ch.width, ch.ends, ch.block, ch.open_ends,
            after, at, _block_header, WRAP_MIN_WIDTH, WRAP_FULL,
        )  # fmt: skip
        for (rep, names), (counts, nos, lens, text) in zip(named, made, strict=True):
            # (the names shared by every report of the shape: a Sections' names are only ever replaced)
            rep.sections = sections_of(names, counts, nos, lens, text)
    if chosen:
        _fill_cells(items, chosen, ch)
    return done


def _format(ch: _Chunk, start: int, end: int, year: int | None) -> FormatEvidence:
    """meta.format_of_label_text of chunk lines ``start`` to ``end - 1``, from the marks the frame found."""
    rows = ch.mark_rows
    lo, hi = bisect_left(rows, start), bisect_left(rows, end)
    marks: list[str] = []
    row19 = other = False
    for found, r19, oth in ch.marks[lo:hi]:
        marks += found
        row19 |= r19
        other |= oth
    return _format_of_marks(tuple(marks), row19, other, year)


# the same marks in most reports of a format (FormatEvidence is immutable)
_format_of_marks = lru_cache(maxsize=1 << 12)(format_of_marks)


# what _read_one gives: the plan, its windows' starts, (layout template, the sections' lines), the
# report's shape
_Read = tuple[_Compiled | None, tuple[int, int, int], tuple[dict[str, Any], bytes], "_Shape | None"]
_NO_PLAN: _Read = (None, (0, 0, 0), ({}, b""), None)  # _read_one's answer for tables without a plan (untouched)


def _windows(skel: list[str], s2: int, e2: int, s3: int, e3: int, s4: int, e4: int) -> tuple[str, str, str]:
    """The skeleton key's three windows: each one's lines joined by LF (what the compiled scan's
    ``windows`` gives, its str objects kept from report to report)."""
    return "\n".join(skel[s2:e2]), "\n".join(skel[s3:e3]), "\n".join(skel[s4:e4])


def _read_one(
    rep: ParsedReport,
    text: str,
    ch: _Chunk,
    a: int,
    b: int,
    heads: list[int],
    periods: list[int],
    windows: Any = _windows,
) -> _Read | None:
    """Everything of one report (of decoded ``text``: lines ``a`` to ``b - 1`` of the chunk; its
    heading candidates and period lines ``heads`` and ``periods``, by their lines in the chunk) but
    its cells (the plan and its windows) and its sections' prose (made by :func:`read_texts`), or
    None (untouched), or ``_NO_PLAN`` (untouched: its tables have no plan).  ``windows`` joins the
    skeleton key's windows (:func:`_windows`, or the compiled scan's)."""
    raws = ch.raws  # (the report's lines from a: no copy of them; heading lines are never None)
    shape = _shape(tuple([raws[i] for i in heads]))
    tabs = shape.tables
    if tabs is None:
        return None
    # the three tables' windows: from the line after the heading to the next heading (or the end)
    (j2, k2), (j3, k3), (j4, k4) = tabs
    s2, s3, s4 = heads[j2] + 1, heads[j3] + 1, heads[j4] + 1
    e2 = heads[k2] if k2 >= 0 else b
    e3 = heads[k3] if k3 >= 0 else b
    e4 = heads[k4] if k4 >= 0 else b
    title = title_of_texts(_printed(ch, a, b, text))
    detected = _format(ch, s2 - 1, b, title.year)
    fmt = detected.fmt
    key = (fmt, *windows(ch.skel, s2, e2, s3, e3, s4, e4))
    compiled = _COMPILED.get(key)
    if compiled is None:
        plan = fast.cached_plan(key)
        if plan is None:
            own = _own_lines(ch, a, b, text)
            bounds = ((s2 - a, e2 - a), (s3 - a, e3 - a), (s4 - a, e4 - a))
            parts = tuple([_line(own, i) for i in range(s, e)] for s, e in bounds)
            n2, n3, n4 = (int(ch.numbers[a + s : a + e].sum()) for s, e in bounds)
            plan = fast.plan_of(key, parts, (n2, n3, n4))  # type: ignore[arg-type]
            if plan is None:
                return _NO_PLAN
        compiled = _compile(key, plan)
        if compiled is None:
            return None

    # ---- certain: fill the report (the fast path's order of facts)
    rep.agency, rep.year, rep.title, rep.title_line = title.agency, title.year, title.text, title.line
    if not period_in_texts(rep, ((i - a + 1, _printed_text(raws[i])) for i in periods)):  # type: ignore[arg-type]
        own = _own_lines(ch, a, b, text)
        read_period(rep, [_line(own, i) for i in range(min(PERIOD_LINES, b - a))])
    if rep.agency is None:
        fill_agency(rep)
    rep.fmt = fmt
    rep.fmt_evidence_2019 = list(detected.evidence_2019)
    # the layout facts (set with the cells, by _fill_cells): the template, the sections' lines
    tpl = _layout(shape.skey, compiled)
    lines = array("I", [heads[j] - a + 1 if j >= 0 else 0 for j in shape.heading_of]).tobytes()
    if None in raws[a : heads[shape.first]]:  # the 引言 (its lines read as they are) holds a row of numbers
        _own_lines(ch, a, b, text)
    return compiled, (s2 - a, s3 - a, s4 - a), (tpl, lines), shape


def _merged(own: dict[str, Any], tpl: dict[str, Any]) -> dict[str, Any]:
    """Two LayoutList states one after the other (without their lines)."""
    n0 = len(own["f"])
    return {
        "c": own["c"] + tpl["c"],
        "f": own["f"] + tpl["f"],
        "k": own["k"] + tpl["k"],
        "s": own["s"] + tpl["s"],
        "x": {**own["x"], **{p + n0: v for p, v in tpl["x"].items()}},
    }


_LAYOUTS: dict[tuple[object, ...], tuple[_Compiled, dict[str, Any]]] = {}


def _layout(skey: tuple[tuple[str, str, int], ...], compiled: _Compiled) -> dict[str, Any]:
    """The layout facts of a report (meta.section_layout's, then the tables') without their lines:
    the same for every report whose sections print the same headings in the same order (``skey``:
    each section's number, printed heading and rank among the sections) and whose tables have the
    same plan (made once, kept per process)."""
    key = (skey, id(compiled))
    got = _LAYOUTS.get(key)
    if got is not None and got[0] is compiled:
        return got[1]
    if len(_LAYOUTS) >= 2 * fast.MAX_PLANS:
        _LAYOUTS.clear()
    scratch = ParsedReport(file="", sha256="", size=0)
    section_layout(scratch, {num: (rank, 0, printed) for num, printed, rank in skey})
    tpl = _merged(scratch.layout.__getstate__(), compiled.layout)
    _LAYOUTS[key] = (compiled, tpl)
    return tpl


@dataclass(frozen=True, slots=True)
class _ProseLists:
    """A chunk's lines of text as lists (what :func:`_fill_prose` indexes, one at a time)."""

    prose: list[int]
    open_ends: list[int]
    ends: list[bool]
    block: list[bool]
    width: list[int]
    prose_no: list[int]

    @staticmethod
    def of(ch: _Chunk) -> _ProseLists:
        return _ProseLists(*(x.tolist() for x in (ch.prose, ch.open_ends, ch.ends, ch.block, ch.width, ch.prose_no)))


def _fill_prose(
    rep: ParsedReport,
    shape: _Shape,
    heads: list[int],
    ch: _Chunk,
    lists: _ProseLists,
    a: int,
    places: tuple[list[int], list[int], int],
) -> None:
    """meta.fill_sections' prose of a report (from line ``a`` of the chunk; its sections by
    ``shape``, their heading lines in ``heads`` (lines of the chunk), where each falls among the
    chunk's lines of text in ``places``: :func:`read_texts`), from the frame's lines of text,
    without the layout facts (the compiled scan's ``sections`` makes the same for a whole chunk)."""
    after, at, end = places
    # (a report's 引言 and lines of text are never None: _read_one made them)
    raws, prose_no, prose_raw = cast(list[str], ch.raws), lists.prose_no, ch.prose_raw
    parts: list[tuple[list[int], list[str]]] = []
    for _num, j, nj, how in shape.spans:
        lo = after[j]
        hi = at[nj] if nj >= 0 else end
        if how == 2 and hi - lo >= 2 and lists.open_ends[hi - 1] != lists.open_ends[lo]:
            parts.append(_unwrapped(lists, ch.prose_raw, lo, hi))
            continue
        if how == 1 and hi > lo:
            rows = [r for r in lists.prose[lo:hi] if not _block_header(raws[r])]
            if len(rows) < hi - lo:
                parts.append(([r - a + 1 for r in rows], [raws[r] for r in rows]))
                continue
        parts.append((prose_no[lo:hi], prose_raw[lo:hi]))
    nos: list[int] = []
    texts: list[str] = []
    counts = array("I")
    for k in shape.statutory:
        nos_k, texts_k = parts[k]
        counts.append(len(nos_k))
        nos += nos_k
        texts += texts_k
    intro = [r for r in range(a, heads[shape.first]) if raws[r].strip()]
    counts.append(len(intro))
    nos += [r - a + 1 for r in intro]
    texts += [raws[r] for r in intro]
    # (the names shared by every report of the shape: a Sections' names are only ever replaced)
    lens = array("I", map(len, texts)).tobytes()
    rep.sections = sections_of(shape.names, counts.tobytes(), array("I", nos).tobytes(), lens, "".join(texts))


@lru_cache(maxsize=1 << 14)  # the same block headers in most reports
def _block_header(raw: str) -> bool:
    """A line of section 二 that is a block header of its table (meta.fill_sections: not prose)."""
    return BLOCK_HEADER.search(squash(raw)) is not None


def _unwrapped(lists: _ProseLists, prose_raw: list[str], lo: int, hi: int) -> tuple[list[int], list[str]]:
    """meta.unwrapped of the lines of text ``lo`` to ``hi - 1`` of the chunk (a section of a
    report), from what the frame read of each: (line numbers, texts); called when a line before
    the last does not end a sentence."""
    prose_no, widths, block, ends = lists.prose_no, lists.width, lists.block, lists.ends
    width = max(widths[lo:hi])
    if width < WRAP_MIN_WIDTH:
        return prose_no[lo:hi], prose_raw[lo:hi]
    full = WRAP_FULL * width
    if max(widths[lo : hi - 1]) < full:  # no line ran to the margin: none joined (half the sections)
        return prose_no[lo:hi], [t.strip() for t in prose_raw[lo:hi]]
    nos = [prose_no[lo]]
    texts = [prose_raw[lo].strip()]
    for p in range(lo + 1, hi):
        t = prose_raw[p].strip()
        if widths[p - 1] >= full and not (block[p] and ends[p - 1]):
            texts[-1] += t
        else:
            nos.append(prose_no[p])
            texts.append(t)
    return nos, texts


# (item, plan, window starts, first line in the chunk, (layout template, the sections' lines))
_Chosen = tuple[int, _Compiled, tuple[int, int, int], int, tuple[dict[str, Any], bytes]]


@dataclass(frozen=True, slots=True)
class _PlanRows:
    """A compiled plan as whole rows of the cell arrays (``width`` = len(INDEX)): what every report
    of the plan has the same (each value's cell, value and state as the plan reads it: NaN and 0 for
    a number cell, read per report), each value's line in its window (0: not in the plan) and the
    window; then its number cells (position, window, rank) and its layout facts (window, line)."""

    col: np.ndarray  # uint16
    value: np.ndarray  # float64
    state: np.ndarray  # uint8, 255 not in the plan
    line: np.ndarray  # int64
    win: np.ndarray  # int64
    npos: np.ndarray
    nwin: np.ndarray
    nrank: np.ndarray
    fact_win: np.ndarray
    fact_li: np.ndarray


_PLAN_ROWS: dict[int, tuple[_Compiled, _PlanRows]] = {}
_ROW_FIELDS = ("col", "value", "state", "line", "win")


def _plan_rows(comp: _Compiled) -> _PlanRows:
    """comp's :class:`_PlanRows`, made once per plan (kept per process, as the plans)."""
    got = _PLAN_ROWS.get(id(comp))
    if got is not None and got[0] is comp:
        return got[1]
    if len(_PLAN_ROWS) >= 4 * fast.MAX_PLANS:
        _PLAN_ROWS.clear()
    width = len(INDEX)
    col = np.zeros(width, np.uint16)
    value = np.full(width, math.nan)
    state = np.full(width, 255, np.uint8)
    line = np.zeros(width, np.int64)
    win = np.zeros(width, np.int64)
    pos = comp.pos
    col[pos] = comp.col
    value[pos] = comp.value
    state[pos] = comp.state
    line[pos] = comp.line
    win[pos] = comp.win
    num = comp.rank >= 0
    rows = _PlanRows(col, value, state, line, win, pos[num], comp.win[num], comp.rank[num], comp.fact_win, comp.fact_li)
    _PLAN_ROWS[id(comp)] = (comp, rows)
    return rows


def _padded(parts: list[np.ndarray], fill: int) -> np.ndarray:
    """Arrays of different lengths as the rows of one 2-D array, each padded with ``fill``."""
    out = np.full((len(parts), max((len(p) for p in parts), default=0)), fill, np.int64)
    for g, p in enumerate(parts):
        out[g, : len(p)] = p
    return out


def _fill_cells(items: Sequence[tuple[ParsedReport, str]], chosen: list[_Chosen], ch: _Chunk) -> None:
    """The cells of every report read, made as arrays for all of them at once: each report's row
    taken from its plan's (:class:`_PlanRows`: the cells printed the same in every report of the
    plan), its values' lines moved by its windows' starts, its number cells taken from the chunk's
    (by its window's first number cell and the cell's rank in the window); its layout facts' lines
    likewise.  By the compiled scan's ``cells`` when it is built and on (``NIANBAO_CSCAN``), else by
    numpy (:func:`_cell_rows`): the same rows (``tests/read/test_scan.py``)."""
    group: dict[int, int] = {}
    plans: list[_PlanRows] = []
    gid_l: list[int] = []
    for _rid, comp, _offs, _first, _lay in chosen:
        g = group.get(id(comp))
        if g is None:
            g = group[id(comp)] = len(plans)
            plans.append(_plan_rows(comp))
        gid_l.append(g)
    gid = np.array(gid_l, np.int64)
    offs = np.array([c[2] for c in chosen], np.int64)  # (n, 3) window starts
    first = np.array([c[3] for c in chosen], np.int64)
    if cscan is not None and os.environ.get(CSCAN_ENV, "1") != "0":
        odd = np.zeros(len(ch.values) if ch.texts else 0, np.uint8)
        odd[list(ch.texts)] = 1
        col, value, state, line, win = (np.stack([getattr(p, f) for p in plans]) for f in _ROW_FIELDS)
        npos, nwin, nrank = (_padded([getattr(p, f) for p in plans], 0) for f in ("npos", "nwin", "nrank"))
        made = cscan.cells(
            len(INDEX), gid, offs, first, ch.first_number, ch.values, ch.states, odd,
            col, value, state, line, win,
            np.array([len(p.npos) for p in plans], np.int64), npos, nwin, nrank,
            np.array([len(p.fact_win) for p in plans], np.int64),
            _padded([p.fact_win for p in plans], -1), _padded([p.fact_li for p in plans], 0),
        )  # fmt: skip
        bufs: tuple[Any, ...] = made[:5]
        hits = made[5]
    else:
        bufs, hits = _cell_rows(ch, plans, gid, offs, first)
    texts: dict[int, dict[int, str]] = {}
    for r, p, a in hits:
        texts.setdefault(r, {})[p] = ch.texts[a]
    # each report's row of the arrays, by a view of their bytes (copied once, by the CellMap)
    n = len(chosen)
    v, st, ln, co, fact_rows = (_slices_of(memoryview(x).cast("B"), n) for x in bufs)
    fact_bytes = [4 * len(p.fact_win) for p in plans]
    for row, (rid, comp, _offs, _first, (tpl, section_lines)) in enumerate(chosen):
        rep = items[rid][0]
        # (the template's kinds, labels and sparse part shared: a LayoutList copies them before it
        # first changes)
        rep.layout = layout_of(
            tpl["c"], tpl["f"], section_lines + fact_rows[row][: fact_bytes[gid_l[row]]], tpl["k"], tpl["s"],
            tpl["x"], True,
        )  # fmt: skip
        got = texts.get(row)
        if comp.text:
            got = {**got, **comp.text} if got else dict(comp.text)
        rep.cells = cellmap_of(v[row], st[row], ln[row], co[row], got, None, None)


def _slices_of(mv: memoryview, n: int) -> list[memoryview]:
    """A buffer of ``n`` rows of one size as a view of each row."""
    step = len(mv) // n if n else 0
    return [mv[i : i + step] for i in range(0, n * step, step)] if step else [mv[0:0]] * n


def _cell_rows(
    ch: _Chunk, plans: list[_PlanRows], gid: np.ndarray, offs: np.ndarray, first: np.ndarray
) -> tuple[tuple[np.ndarray, ...], list[tuple[int, int, int]]]:
    """What the compiled scan's ``cells`` gives, by numpy: (values, states, lines, cols: a row of
    len(INDEX) a report; the facts' lines: a row as long as the most facts of a plan), and the
    (report, position, number cell) of the number cells whose printed text is not plain."""
    n = len(gid)
    values = np.stack([p.value for p in plans])[gid]
    states = np.stack([p.state for p in plans])[gid]
    cols = np.stack([p.col for p in plans])[gid]
    line = np.stack([p.line for p in plans])[gid]
    line_no = np.where(line > 0, line + np.take_along_axis(offs, np.stack([p.win for p in plans])[gid], 1), 0)
    hits: list[tuple[int, int, int]] = []
    counts = np.array([len(p.npos) for p in plans], np.int64)[gid]
    if counts.any():
        m = int(counts.max())
        have = np.arange(m) < counts[:, None]  # (n, m)
        base = ch.first_number[first[:, None] + offs]  # (n, 3): each window's first number cell
        npos = _padded([p.npos for p in plans], 0)[gid][have]
        nwin = _padded([p.nwin for p in plans], 0)[gid]
        at = (np.take_along_axis(base, nwin, 1) + _padded([p.nrank for p in plans], 0)[gid])[have]
        rows = np.broadcast_to(np.arange(n)[:, None], (n, m))[have]
        values[rows, npos] = ch.values[at]
        states[rows, npos] = ch.states[at]
        if ch.texts:
            hit = np.flatnonzero(np.isin(at, np.fromiter(ch.texts, np.int64, len(ch.texts))))
            hits = list(zip(rows[hit].tolist(), npos[hit].tolist(), at[hit].tolist(), strict=True))
    fact_win = _padded([p.fact_win for p in plans], -1)[gid]
    facts = np.where(
        fact_win >= 0,
        np.take_along_axis(offs, np.maximum(fact_win, 0), 1) + _padded([p.fact_li for p in plans], 0)[gid] + 1,
        0,
    )
    out = (values, states, line_no.astype(np.uint32), cols, np.ascontiguousarray(facts, np.uint32))
    return out, hits


# ------------------------------------------------------------------ the reports back to the run's process


class ReportBatch(list[ParsedReport]):
    """A chunk's parsed reports as a worker process returns them: pickled column-wise — each array of
    every report's cells, layout and prose in one buffer — and rebuilt from slices of those buffers:
    less than half the pickling work of one report at a time, most of it saved in the run's own
    process (which unpickles every chunk).  :func:`pack_batch` / :func:`unpack_batch` are the two
    halves (a parse worker returns the packed state itself: nianbao.run.parsing)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (unpack_batch, (pack_batch(self),))


_FIELDS = tuple(f.name for f in fields(ParsedReport) if f.name not in ("cells", "layout", "sections"))
_SCALARS = attrgetter(*_FIELDS)  # a report's fields of _FIELDS as a tuple, in one call


def _setter() -> Any:
    """``put(report, row)``: the fields of _FIELDS set from a tuple, as one unpacking assignment
    (a store per slot, no setattr call per field)."""
    targets = ", ".join(f"r.{name}" for name in _FIELDS)
    ns: dict[str, Any] = {}
    exec(f"def put(r, row):\n    {targets}, = row\n", ns)
    return ns["put"]


_PUT = _setter()


def _blank_maker() -> Any:
    """``blank(file, sha256, size, encoding, mtime_ns)``: a plain-text ParsedReport of these fields and
    every other field's default (fresh lists), without its cells, layout and sections: the bulk
    reader sets those three of a report it reads (read_texts) and drops any other, so the empty
    ones a ParsedReport makes (~2 µs a report) are not made."""
    given = ("file", "sha256", "size", "encoding", "mtime_ns")
    ns: dict[str, Any] = {"new": object.__new__, "P": ParsedReport}
    values = []
    for f in fields(ParsedReport):
        if f.name in ("cells", "layout", "sections"):
            continue
        if f.name in given:
            values.append(f.name)
        elif f.default_factory is list:
            values.append("[]")
        else:
            assert f.default is not MISSING, f.name
            ns[f"d_{f.name}"] = f.default
            values.append(f"d_{f.name}")
    targets = ", ".join(f"r.{f.name}" for f in fields(ParsedReport) if f.name not in ("cells", "layout", "sections"))
    exec(f"def blank({', '.join(given)}):\n    r = new(P)\n    {targets}, = {', '.join(values)},\n    return r\n", ns)
    return ns["blank"]


_BLANK = _blank_maker()


# bytes per item of the model's arrays (cells: values d, states bytearray, lines I, columns H; layout:
# codes H, flags bytearray, lines I; prose: counts, lines, lengths I)
_D, _I, _H = array("d").itemsize, array("I").itemsize, array("H").itemsize


def joined(parts: list[Any], itemsize: int = 0) -> tuple[bytes, bytes]:
    """The parts (bytes, arrays: any buffer) joined, and where each ends (in bytes, uint64): by the
    compiled ``joined`` when built (one pass in C, its copies without the GIL: a chunk's ten groups
    ~3.5 -> ~1 ms; the validation's cell arrays, nianbao.rules.frames), else by
    Python, where ``itemsize`` (every part's bytes per item: its length in bytes by ``len``,
    without a memoryview of each; 0 not known) spares a memoryview a part."""
    if cdecode is not None:
        return cdecode.joined(parts)
    sizes = (len(p) * itemsize for p in parts) if itemsize else (memoryview(p).nbytes for p in parts)
    return b"".join(parts), array("Q", accumulate(sizes)).tobytes()


def _texts(texts: list[str]) -> tuple[bytes, bytes, dict[int, str]]:
    """The prose texts as UTF-16 (a CJK character is 2 bytes there, 3 in UTF-8, and both halves of
    the codec are cheaper than pickle's UTF-8 — ~9 µs a report less between the two processes),
    joined, with where each ends; a text UTF-16 cannot carry exactly (a lone surrogate) kept as it
    is.  Encoded at once when every character is one UTF-16 unit (each text's place then twice its
    length: the usual case) — by the compiled ``utf16le_join`` when built (one pass, no joined str:
    ~4 -> ~1 µs a report), else joined and encoded by Python's codec — else text by text."""
    data: bytes | None
    if cdecode is not None:
        data = cdecode.utf16le_join(texts)  # (None: a text beyond one unit a character, or a lone surrogate)
    else:
        whole = "".join(texts)
        try:
            enc = whole.encode("utf-16-le")
        except UnicodeEncodeError:
            enc = b""
        data = enc if len(enc) == 2 * len(whole) else None
    if data is not None:
        ends = np.cumsum(np.fromiter(map(len, texts), np.uint64, len(texts))) * np.uint64(2)
        return data, ends.tobytes(), {}
    parts: list[bytes] = []
    odd: dict[int, str] = {}
    for i, t in enumerate(texts):
        try:
            parts.append(t.encode("utf-16-le"))
        except UnicodeEncodeError:
            parts.append(b"")
            odd[i] = t
    data, ends_b = joined(parts, 1)
    return data, ends_b, odd


def pack_batch(reps: Sequence[ParsedReport]) -> tuple[tuple[Any, ...], list[bytes]]:
    """These reports as ``(meta, buffers)`` (what a parse worker ships; see :func:`unpack_batch`):
    ``buffers`` are :data:`PACKED_BUFFERS` flat byte strings — each array of every report's cells,
    layout and prose joined, then where each report's part ends; the prose texts as UTF-16 and
    where each ends — and ``meta`` the few lists the rest takes.  The pool pickles both; the run's
    shared result slots take the buffers as they are (nianbao.run.parsing)."""
    scalars = list(map(_SCALARS, reps))
    cells = [r.cells.arrays()[:4] for r in reps]  # values, states, lines, columns
    layouts = [(*r.layout.arrays(), r.layout.lines(), r.layout.statutory()) for r in reps]
    prose = [r.sections.packed() for r in reps]  # names, counts, line numbers, lengths, text
    # the kinds and statutory labels of the layout facts, their sparse part when empty, and the
    # section names: the same for most reports (pickled once, and shared by the reports rebuilt:
    # a LayoutList copies them before it first changes; section names are only ever replaced)
    rest: list[tuple[list[str], list[str], dict[int, Any]]] = []
    kinds: list[str] = []
    labels: list[str] = []
    none: dict[int, Any] = {}
    for _codes, _flags, k, sparse, _lines, st in layouts:
        kinds = kinds if k == kinds else k
        labels = labels if st == labels else st
        rest.append((kinds, labels, sparse or none))
    names: list[str] = []
    sec_names: list[list[str]] = []
    for t in prose:
        names = names if t[0] == names else t[0]
        sec_names.append(names)
    buffers: list[bytes] = []
    for j, size in enumerate((_D, 1, _I, _H)):
        buffers += joined([c[j] for c in cells], size)
    for j, size in ((0, _H), (1, 1), (4, _I)):
        buffers += joined([g[j] for g in layouts], size)
    for j in (1, 2, 3):
        buffers += joined([t[j] for t in prose], _I)
    data, ends, odd = _texts([t[4] for t in prose])
    buffers += (data, ends)
    cell_rest = [r.cells.sparse() for r in reps]  # printed texts, locations, cells of other ids
    return (_FIELDS, scalars, cell_rest, rest, sec_names, odd), buffers


PACKED_BUFFERS = 2 * (
    4 + 3 + 3 + 1
)  # pack_batch's buffers: (joined, ends) of 4 cell, 3 layout, 3 prose arrays, the texts


def _whole(buf: Any, typecode: str) -> array[Any]:
    """One array of ``typecode`` holding a copy of ``buf``'s bytes (a packed buffer: every report's part)."""
    a = array(typecode)
    a.frombytes(buf)
    return a


def _ends(buffers: Sequence[Any], groups: Sequence[tuple[int, int]]) -> list[int]:
    """Where each report's part ends, in items, in each of these packed buffers (``(index,
    itemsize)``): the same for all of them (the arrays of one CellMap, LayoutList or Sections
    have one length), else the chunk is refused."""
    (k0, size0), *rest = groups
    at = np.frombuffer(buffers[k0 + 1], np.uint64) // np.uint64(size0)
    for k, size in rest:
        if not np.array_equal(np.frombuffer(buffers[k + 1], np.uint64) // np.uint64(size), at):
            raise ValueError("a parse chunk's arrays do not line up")
    return at.tolist()


def unpack_batch(state: tuple[tuple[Any, ...], Sequence[Any]]) -> ReportBatch:
    """The reports of :func:`pack_batch`, each with its own arrays and texts: nothing refers to the
    buffers afterwards (they may be a shared slot's views, written over by the next chunk).  Each
    packed buffer is copied once into one array (``bytearray``) of the chunk, and each report's
    arrays are slices of those (an exact copy each: no memoryview, no array grown by ``frombytes``;
    ~11.5 -> ~8.7 µs a report kept, in one process).  The prose texts stay UTF-16 in one copy of
    the chunk's buffer, each report's decoded when it is first read (:class:`~nianbao.domain.model.
    Sections`): at 100,000 reports ~0.3 s less CPU in the run's process, where few are ever read."""
    meta, buffers = state
    names, scalars, cell_rest, layout_rest, sec_names, odd = meta
    if names != _FIELDS or len(buffers) != PACKED_BUFFERS:
        raise ValueError("a parse chunk packed with other report fields")
    cells = _ends(buffers, ((0, _D), (2, 1), (4, _I), (6, _H)))
    facts = _ends(buffers, ((8, _H), (10, 1), (12, _I)))
    counts = _ends(buffers, ((14, _I),))
    lines = _ends(buffers, ((16, _I), (18, _I)))
    v, st, ln, co = _whole(buffers[0], "d"), bytearray(buffers[2]), _whole(buffers[4], "I"), _whole(buffers[6], "H")
    lc, lf, ll = _whole(buffers[8], "H"), bytearray(buffers[10]), _whole(buffers[12], "I")
    pk, pl_, pz = _whole(buffers[14], "I"), _whole(buffers[16], "I"), _whole(buffers[18], "I")
    text_ends = array("Q")
    text_ends.frombytes(buffers[21])
    # the texts kept encoded, in one copy of the chunk's (the reports' Sections decode their own
    # the first time it is read: most are never read in this process, see model.Sections)
    texts = bytes(buffers[20])
    new = object.__new__
    put = _PUT
    out = ReportBatch()
    c0 = f0 = k0 = l0 = t0 = 0
    for i, row in enumerate(scalars):
        rep = new(ParsedReport)
        put(rep, row)
        c1, f1, k1, l1, t1 = cells[i], facts[i], counts[i], lines[i], text_ends[i]
        r, w, x = cell_rest[i]
        rep.cells = cellmap_of(v[c0:c1], st[c0:c1], ln[c0:c1], co[c0:c1], r, w, x, False)
        k, s_, x_ = layout_rest[i]
        rep.layout = layout_of(lc[f0:f1], lf[f0:f1], ll[f0:f1], k, s_, x_, True, False)
        text: SectionText | None = odd.get(i) if odd else None
        if text is None:
            text = (texts, t0, t1) if t1 > t0 else ""
        rep.sections = sections_of(sec_names[i], pk[k0:k1], pl_[l0:l1], pz[l0:l1], text, False)
        out.append(rep)
        c0, f0, k0, l0, t0 = c1, f1, k1, l1, t1
    return out


__all__ = [
    "CHUNK",
    "MAX_CHARS",
    "PACKED_BUFFERS",
    "ReportBatch",
    "enabled",
    "load_files",
    "pack_batch",
    "read_texts",
    "unpack_batch",
]
