"""The table grid rebuilt from any shape a report's text comes in, before labels are matched.

Extractions and copies of the same table leave it in very different shapes:

- cells separated by tabs, pipes or runs of spaces (the loaders split those into cells already);
- cells separated by **single spaces** (``pdftotext``, pdfplumber's ``extract_text``): a label followed
  by its N numbers on one line, or a line of numbers alone;
- **one cell per line** (text copied from a web page): a label, then its numbers one per line;
- a label **wrapped** over several lines, its numbers on the first, the last or a line of their own
  (before or after the label, as a PDF's vertical centring leaves them);
- column headers wrapped over several lines (``社会`` / ``公益`` / ``组织``), ``总 计`` with a space.

:func:`split_loose` turns single-space lines into cells and gathers one-per-line numbers into one
line of values; :func:`attach` gives each line of values to its row label when the order of the
lines makes that certain, and names the rows for which it is not (two labels that could each take
the numbers, a count of numbers that is not the row's).  :func:`assembled` finds a column label
printed in pieces over several header lines.  Every pass is linear in the lines (a label is tried
with at most :data:`MAX_LABEL_TOKENS` leading tokens dropped).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

from nianbao.domain.model import LayoutList, ParsedReport
from nianbao.domain.normalize import State, norm_label, parse_number
from nianbao.domain.spec import Fmt, Table, tables

MAX_LABEL_TOKENS = 4  # leading tokens dropped at most when looking for a row label in a line
_PROSE = re.compile(r"[。；！？]")
# a page number printed in the text ("- 3 -", "第3页"): dashes on both sides, never a lone "-1"
_PAGE_NO = re.compile(r"^(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?)$")
_SEP = re.compile(r"[\s\u3000]+")


@lru_cache(maxsize=1 << 14)
def is_value_token(tok: str) -> bool:
    """A token that is a table value: a number or a placeholder (—, /, 无 …), not a page number."""
    if _PAGE_NO.match(tok):
        return False  # "-2-": a page number
    return parse_number(tok)[1] is not State.NON_NUMERIC


@dataclass(slots=True)
class Piece:
    """One line of a table region, as the grid reader sees it."""

    text: str  # the label text of the line ("" when the line holds values only)
    values: list[tuple[int, str]]  # (1-based cell position in the line, raw) of each value
    index: int  # index of the source line in the region
    loose: bool  # the values were split at single spaces (blank cells leave no trace)


def pieces_of(cells: Sequence[str], table: bool, index: int) -> tuple[Piece, list[str] | None]:
    """The label text and values of a line; with the new cells when a single-space line was split.

    A line that is one cell is split at whitespace when it ends with values and its text part is not
    a sentence (a label followed by its numbers) or when it is values only.
    """
    if table or len(cells) != 1:
        texts = [i for i, c in enumerate(cells) if c.strip() and not is_value_token(c.strip())]
        last_text = texts[-1] if texts else -1
        vals = [(i + 1, c) for i, c in enumerate(cells) if i > last_text and c.strip()]
        return Piece(" ".join(cells[i].strip() for i in texts), vals, index, False), None
    s = cells[0].strip()
    if not s or not any(ch.isdigit() or ch in "—-/无" for ch in s) or _PAGE_NO.match(s):
        return Piece(s, [], index, False), None  # no value, or a page number ("- 3 -")
    toks = _SEP.split(s)
    k = len(toks)
    while k > 0 and is_value_token(toks[k - 1]):
        k -= 1
    if k == len(toks):
        return Piece(s, [], index, False), None
    text = " ".join(toks[:k])
    if text and (_PROSE.search(text) or len(text) > 80):
        return Piece(s, [], index, False), None
    nums = toks[k:]
    new = ([text] if text else []) + nums
    first = 2 if text else 1
    return Piece(text, [(first + j, v) for j, v in enumerate(nums)], index, True), new


@dataclass(slots=True)
class Attached:
    """What :func:`attach` decided."""

    pairs: dict[int, int] = field(default_factory=dict)  # label piece index -> value piece index
    uncertain: dict[int, str] = field(default_factory=dict)  # label piece index -> why (中文)
    orphans: list[tuple[int, str]] = field(default_factory=list)  # value piece index -> why


def attach(
    kinds: Sequence[str],
    counts: Sequence[int],
    fits: Callable[[int, int], bool],
    optional: Callable[[int], bool],
    placeable: Callable[[int], bool],
    doubtful: set[int] | frozenset[int] = frozenset(),
) -> Attached:
    """Give each free line of values (kind ``V``) to the row label (kind ``L``, a label without values
    on its own line) just before or just after it, when that is certain.

    ``kinds`` per piece: ``L`` free label, ``F`` a label or unknown text that has its own values (it
    takes none), ``V`` values alone, ``T`` neutral text (a fragment of a wrapped label, a header).
    ``fits(label, v)``: whether the row label at ``label`` can take the values at ``v``;
    ``optional(label)``: a label that may stay without values (a group label); ``placeable(v)``:
    whether the values at ``v`` have the shape of some row at all (a column of 63 numbers has not).

    Values that fit no row are a barrier: nothing is given across them (an extraction that printed
    a block column by column has lost the order of the rows around it), and the labels next to them
    are uncertain.  Otherwise the assignment preserves order and is computed twice — each line of
    values preferring the label before it, then (from the end) the label after it; a pair found both
    ways is certain (the two are the extreme order-preserving matchings, every other lies between
    them).  A label that gets values one way only, or different ones, is uncertain.  ``doubtful``
    values may belong to a row whose label is not printed in its place (values before the first
    label of a region whose earlier rows are printed later): the matchings are computed with and
    without them, and a pair must be found in all four.
    """
    n = len(kinds)
    bad = {i for i in range(n) if kinds[i] == "V" and not placeable(i)}
    prev_label = [-1] * n
    next_label = [-1] * n
    last = -1
    for i in range(n):
        if i in bad:
            last = -1
        elif kinds[i] in "LF":
            last = i
        prev_label[i] = last
    last = -1
    for i in range(n - 1, -1, -1):
        if i in bad:
            last = -1
        elif kinds[i] in "LF":
            last = i
        next_label[i] = last
    values = [i for i in range(n) if kinds[i] == "V" and i not in bad]

    def cands(v: int) -> list[int]:
        out = []
        for lab in (prev_label[v], next_label[v]):
            if lab >= 0 and kinds[lab] == "L" and fits(lab, v) and lab not in out:
                out.append(lab)
        return out

    def greedy(vs: Sequence[int]) -> tuple[dict[int, int], dict[int, int]]:
        left: dict[int, int] = {}
        used: set[int] = set()
        floor = -1  # order: a later line of values never goes to an earlier label
        for v in vs:
            c = [lab for lab in cands(v) if lab not in used and lab > floor]
            if c:
                left[c[0]] = v
                used.add(c[0])
                floor = c[0]
        right: dict[int, int] = {}
        used = set()
        ceil = n
        for v in reversed(vs):
            c = [lab for lab in reversed(cands(v)) if lab not in used and lab < ceil]
            if c:
                right[c[0]] = v
                used.add(c[0])
                ceil = c[0]
        return left, right

    runs = list(greedy(values))
    if doubtful:
        runs.extend(greedy([v for v in values if v not in doubtful]))
    out = Attached()
    for lab in set().union(*runs):
        got = {run.get(lab) for run in runs}
        if len(got) == 1:
            out.pairs[lab] = got.pop()  # type: ignore[assignment]
        elif not optional(lab):
            out.uncertain[lab] = "这组数字可能属于上一行，也可能属于下一行，无法确定"
    taken = set(out.pairs.values())
    for v in values:
        if v not in taken and not cands(v):
            why = "前后没有可以对应的行" if prev_label[v] < 0 and next_label[v] < 0 else "与前后各行应有的列数不符"
            out.orphans.append((v, f"这组数字（{counts[v]} 个）{why}"))
    for v in sorted(bad):
        out.orphans.append((v, f"这组数字有 {counts[v]} 个，不是按行排列的一行数字"))
        # the nearest free labels on either side (across text and other values): theirs may be here
        for step in (-1, 1):
            i = v + step
            while 0 <= i < n and kinds[i] not in "LF":
                i += step
            if 0 <= i < n and kinds[i] == "L" and i not in out.pairs and not optional(i):
                out.uncertain.setdefault(i, f"附近的一组数字有 {counts[v]} 个，无法按列对应到该行")
    return out


def assembled(label: str, token_lines: Sequence[Sequence[str]]) -> bool:
    """Whether a column label is printed in the header, whole or in pieces over several lines
    (``社会`` / ``公益`` / ``组织``; ``总 计``): its pieces are header tokens in reading order."""
    key = norm_label(label)
    if not key:
        return False
    toks = [(li, ti, norm_label(t)) for li, line in enumerate(token_lines) for ti, t in enumerate(line)]
    toks = [t for t in toks if t[2]]
    if any(key in t for _l, _i, t in toks):
        return True
    best: dict[int, tuple[int, int]] = {0: (-1, -1)}  # matched prefix length -> earliest last token
    for i in range(len(key)):
        if i not in best:
            continue
        after = best[i]
        for li, ti, t in toks:
            if (li, ti) > after and key.startswith(t, i):
                j = i + len(t)
                if j not in best or (li, ti) < best[j]:
                    best[j] = (li, ti)
    return len(key) in best


_UNREAD = ("I07", "I09", "I11")  # a row (or table) whose numbers were not read for certain


def reading_confidence(rep: ParsedReport) -> dict[str, float | None]:
    """Per statutory table, the share of its cells read for certain: 1.0 when every printed row was
    read by columns; less by the cells of the rows not read (I07, I11) or all of them (I09, or I11
    on the whole table); None for a table the report does not print.  A row split from run-together
    digits (I10) was read for certain (the rules admit one split only)."""
    if rep.fmt is None:
        return {}
    read_whole = not any(ri.code in _UNREAD for ri in rep.row_issues)
    if read_whole:
        # the same statutory facts found the same way (most reports): the answer kept by their bytes
        codes, flags, _kinds, _sparse = rep.layout.arrays()
        facts = (rep.fmt, codes.tobytes(), bytes(flags))
        got = _BY_FACTS.get(facts)
        if got is not None:
            return dict(got)
    absent = _absent_tables(rep)
    if read_whole:
        # every printed table read for certain: the answer depends on the format and the absent tables only
        whole = _WHOLE.get((rep.fmt, absent))
        if whole is None:
            whole = _confidence(rep, absent)
            if len(_WHOLE) < 4096:
                _WHOLE[(rep.fmt, absent)] = whole
        if len(_BY_FACTS) < 4096 and _NO_CODE not in codes:  # (an element outside the statute: its own kind)
            _BY_FACTS[facts] = whole
        return dict(whole)
    return _confidence(rep, absent)


def reading_confidences(reports: Sequence[ParsedReport]) -> list[dict[str, float | None] | None]:
    """:func:`reading_confidence` of every validated report of the batch (None for the others): a
    report without row issues whose layout facts were seen before takes the answer kept for them
    (looked up for the whole batch by comprehensions: no call per report); the others are
    computed one by one (and so keep their answers for the reports after them).  The reports with
    the same kept answer share one dict: read them, do not change them."""
    live = [i for i, r in enumerate(reports) if r.status == "validated"]
    codes, flags, *_ = LayoutList.columns([reports[i].layout for i in live])
    keys = [(reports[i].fmt, c.tobytes(), bytes(f)) for i, c, f in zip(live, codes, flags, strict=True)]
    out: list[dict[str, float | None] | None] = [None] * len(reports)
    for i, got in zip(live, map(_BY_FACTS.get, keys), strict=True):
        rep = reports[i]
        out[i] = got if got is not None and not rep.row_issues else reading_confidence(rep)
    return out


_WHOLE: dict[tuple[Fmt, frozenset[str]], dict[str, float | None]] = {}
_BY_FACTS: dict[tuple[Fmt | None, bytes, bytes], dict[str, float | None]] = {}


def _confidence(rep: ParsedReport, absent: frozenset[str]) -> dict[str, float | None]:
    assert rep.fmt is not None
    out: dict[str, float | None] = {}
    for t, cells in _table_cells(rep.fmt):
        if t.id in absent:
            out[t.id] = None
            continue
        rows: set[str] = set()
        whole = False
        for ri in rep.row_issues:
            table, row, _col = ri.element.split(":")
            if table != t.id or ri.code not in _UNREAD:
                continue
            if row == "*":
                whole = whole or ri.code == "I09"
            else:
                rows.add(row)
        unread = len(cells) if whole else sum(1 for c in cells if c.split(":")[1] in rows) if rows else 0
        out[t.id] = round(1 - unread / len(cells), 3) if cells else None
    return out


_ABSENT: dict[tuple[tuple[int, int, str | None], ...], frozenset[str]] = {}
_TABLES_AT: dict[bytes, list[int]] = {}
_NO_CODE = 0xFFFF  # (LayoutList: an element outside the statutory ones, its kind its own)


def _absent_tables(rep: ParsedReport) -> frozenset[str]:
    """The tables the report's layout says are not printed.  This runs for every report of every
    run: the answer is kept per distinct (element, flags) of the table facts, so a layout fact is
    built only the first time a combination is seen."""
    lay = rep.layout
    codes, flags, kinds, sparse = lay.arrays()
    # the table facts' positions: kept per sequence of statutory elements (each has one kind), the
    # same for most reports, instead of a pass over every fact's kind per report
    seq = codes.tobytes()
    at = _TABLES_AT.get(seq)
    if at is None:
        at = [p for p, k in enumerate(kinds) if k == "table"]
        if _NO_CODE not in codes and len(_TABLES_AT) < 4096:
            _TABLES_AT[seq] = at
    key = tuple((codes[p], flags[p], (sparse.get(p) or (None, None, None))[2]) for p in at)
    got = _ABSENT.get(key)
    if got is None:
        got = frozenset(lay[p].element.split(":")[0] for p in at if not lay[p].found)
        if len(_ABSENT) < 4096:
            _ABSENT[key] = got
    return got


@cache
def _table_cells(fmt: Fmt) -> tuple[tuple[Table, list[str]], ...]:
    """(table, its cell ids) of each statutory table of ``fmt`` (computed once)."""
    return tuple((t, t.cells()) for t in tables(fmt).values())


def tokens(cells: Sequence[str]) -> list[str]:
    """The whitespace-separated tokens of a header line's cells."""
    return [t for c in cells for t in _SEP.split(c.strip()) if t]


__all__ = ["Attached", "Piece", "assembled", "attach", "is_value_token", "pieces_of", "reading_confidence", "tokens"]
