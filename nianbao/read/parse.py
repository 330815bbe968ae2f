"""The report parser: from lines of cells (any source format) to canonical cells and layout facts.

Every loader (text, HTML, DOCX, XLSX, PDF) turns its input into a list of :class:`~nianbao.io.lines.Line` — a paragraph
is a line with one cell, a table row a line with several — and this module reads the report by
*labels*, never by line numbers: headings, table blocks, row and column labels, each matched after
normalisation (full-width forms, spaces, numbering and punctuation removed; known aliases accepted).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from nianbao.domain.model import INDEX, STATE_CODE, LayoutFact, ParsedReport, RowIssue, plain_raw
from nianbao.domain.normalize import State, is_value_like, nfkc, norm_label, parse_number, squash
from nianbao.domain.spec import (
    T3_PARTS,
    T4_COLUMNS,
    T4_PARTS,
    T4_ROWS,
    Fmt,
    Kind,
    Table,
    cell_kind,
    tables,
)
from nianbao.io.lines import Line  # the loaders' contract (also nianbao.read.parse.Line)
from nianbao.read import fast, grid
from nianbao.read.chars import has_traditional, to_simplified
from nianbao.read.labels import (
    find_column,
    match_t2_col,
    match_t2_row,
    match_t3,
    near_t3,
    record_near_header,
    record_near_labels,
)
from nianbao.read.meta import (
    BLOCK_HEADER,
    detect_format,
    fill_agency,
    find_sections,
    read_period,
    read_title,
    section_layout,
    section_prose,
)
from nianbao.read.rundigits import split_row


class NotAReport(ValueError):
    """The input has none of the marks of an annual report."""


# title, period, sections and format: nianbao.read.meta; labels: nianbao.read.labels


# ------------------------------------------------------------------ value fitting


def fit_values(
    cells: Sequence[tuple[int, str]],
    n: int,
    prefer: Callable[[list[str]], bool] | None = None,
) -> list[tuple[int | None, str]] | None:
    """Place the cells after a row label into ``n`` columns.

    Merged label cells leave empty cells before the values, and extractions often add empty cells
    after them.  A window of ``n`` cells is chosen so that every cell left out is empty; when
    several windows fit, the one for which ``prefer`` holds (the row's own sum rule) wins, then the
    one that puts blanks at the end (a blank 总计 column is the common case).  ``None`` when the
    printed values cannot be placed (more than ``n`` non-empty cells).
    """
    r: list[tuple[int | None, str]] = [(pos, raw.strip()) for pos, raw in cells]
    while len(r) < n:
        r.append((None, ""))
    candidates: list[list[tuple[int | None, str]]] = []
    for s in range(len(r) - n + 1):
        outside = r[:s] + r[s + n :]
        if all(not raw for _p, raw in outside):
            candidates.append(r[s : s + n])
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    if prefer is not None:
        good = [c for c in candidates if prefer([raw for _p, raw in c])]
        if good:
            return good[-1]
    return candidates[-1]


def _sum_rule(parts: int) -> Callable[[list[str]], bool]:
    def ok(vals: list[str]) -> bool:
        nums = [parse_number(v)[0] or 0.0 for v in vals]
        return abs(sum(nums[:parts]) - nums[parts]) < 1e-9

    return ok


# ------------------------------------------------------------------ label matching (nianbao.read.labels)

_match_t3 = match_t3
_match_t2_col = match_t2_col
# a space-aligned value belongs to a column when its centre is within this share of the column
# spacing from the column's centre; farther (between two columns) it is not machine-readable
AMBIGUOUS_SHARE = 0.35
_GAP = re.compile(r"\s{2,}")
_VALUE_LIKE = re.compile(r"^[\s\d.,，\-—–/／\\%％]*$")


# ------------------------------------------------------------------ the grid (any shape -> rows of cells)


_HEADER_WORDS = frozenset({"总计", "其他", "合计"})  # a column header word, unnumbered


@lru_cache(maxsize=1 << 14)
def _t3_label(text: str) -> tuple[str, str] | None:
    """(row id, the text naming it) for a line's label text in table 三; None for a group label, a
    header or other text.  Pieces of a vertical group label printed before the row label
    (“年 3.危及…”) and a group label on the same line (“（四）无法提供 1.本机关…”) are skipped."""
    toks = text.split()
    for exact in (True, False):  # a label printed exactly after a stray piece beats a near match of all
        for k in range(min(len(toks), grid.MAX_LABEL_TOKENS + 1)):
            if k and not _row_prefix(tuple(toks[:k])):
                continue  # only characters of a vertical label and a group label go before a row label
            rest = " ".join(toks[k:])
            m = _match_t3(rest)
            if m is None or not (m[0] == "row" or m[1] == "3.6") or (exact and near_t3(rest) is not None):
                continue
            if m[1] == "3.6" and k + 1 < len(toks):
                # “（六）其他处理 1.申请人…”: the group label before its first sub-row
                sub = _t3_label(" ".join(toks[k + 1 :]))
                if sub is not None and sub[0] != "3.6":
                    return sub
            return m[1], rest
    return None


def _row_prefix(dropped: tuple[str, ...]) -> bool:
    """Whether tokens printed before a row label are pieces of a vertical label (single characters)
    followed by nothing or by a group label, which may itself be split at a space (“(三) 不予公开”)."""
    j = 0
    while j < len(dropped) and len(dropped[j]) <= 1:
        j += 1
    return j == len(dropped) or (_match_t3(" ".join(dropped[j:])) or ("", ""))[0] == "group"


def _t2_label(text: str) -> tuple[str, str] | None:
    rid = match_t2_row(text)
    return None if rid is None else (rid, text)


# how many values a row of table 二 prints (both formats)
_T2_COUNTS: dict[str, frozenset[int]] = {}
for _fmt in Fmt:
    for _r in tables(_fmt)["2"].rows:
        _T2_COUNTS[_r.id] = _T2_COUNTS.get(_r.id, frozenset()) | {len(tables(_fmt)["2"].row_columns[_r.id])}


@dataclass(slots=True)
class _Grid:
    lines: list[Line]
    header: list[list[str]]  # tokens of each header line (before the first row)
    uncertain: list[tuple[str | None, str, int, str]]  # (row id or None, printed, line no, why)


_VALUE_END = frozenset("0123456789０１２３４５６７８９—-－/／无")


def _needs_grid(window: Sequence[Line], rows_of_cells: bool = True) -> bool:
    """Whether a table region has a shape other than one row per line with its cells separated: a
    line that is one cell ending with a number (a single-space row, a number on its own line), a row
    aligned by spaces (its header may be wrapped), or — ``rows_of_cells`` — a row of cells that
    starts with a number (numbers on a line of their own).  Prose ends with punctuation: a test of
    its last character."""
    for ln in window:
        cells = ln.cells
        if len(cells) == 1 and not ln.table:
            c = cells[0].rstrip()
            if c and c[-1] in _VALUE_END:
                return True
            continue
        if ln.spans is not None:
            return True
        if rows_of_cells:
            for c in cells:
                if c and not c.isspace():
                    first = c.strip()
                    if first[0] in _VALUE_END and grid.is_value_token(first):
                        return True
                    break
    return False


def _merged(a: Line, b: Line) -> Line:
    """A label line and the line of its values as one row."""
    spans = None
    if b.spans is not None:
        spans = (a.spans or [(0, 0)] * len(a.cells)) + b.spans
    where = None
    if a.cell_where is not None or b.cell_where is not None:
        where = (a.cell_where or [a.where or ""] * len(a.cells)) + (b.cell_where or [b.where or ""] * len(b.cells))
    return Line([*a.cells, *b.cells], b.no, b.where or a.where, True, spans, where, b.loose)


def _rebuild(
    window: Sequence[Line],
    label_of: Callable[[str], tuple[str, str] | None],
    fits_count: Callable[[str, int, bool], bool],
    header_start: Callable[[str], bool] | None = None,
    attach: bool = True,
) -> _Grid:
    """The rows of a table region whatever its shape (see :mod:`nianbao.read.grid`)."""
    if not _needs_grid(window, attach) and (
        header_start is None
        or not any(len(ln.cells) == 1 and not ln.table and header_start(ln.cells[0].strip()) for ln in window)
    ):
        return _Grid(list(window), [], [])
    # 1. single-space lines split into cells; one value per line gathered into one line of values
    lines: list[Line] = []
    pieces: list[grid.Piece] = []
    run: list[Line] = []

    def flush() -> None:
        if run:
            vals = [r.cells[0] for r in run]
            ln = Line(vals, run[0].no, run[0].where, True, None, None, True)
            lines.append(ln)
            pieces.append(grid.Piece("", [(k + 1, v) for k, v in enumerate(vals)], len(pieces), True))
            run.clear()

    for ln in window:
        p, new = grid.pieces_of(ln.cells, ln.table, 0)
        if new is not None:
            ln = Line(new, ln.no, ln.where, True, None, ln.cell_where, True)
            if not p.text and len(new) == 1:
                run.append(ln)
                continue
        elif not p.text and not p.values:
            continue  # a blank line: it does not break a column of one value per line
        if header_start is not None and len(ln.cells) == 1 and header_start(p.text):
            flush()
            ln = Line(grid.tokens(ln.cells), ln.no, ln.where, True)
            p = grid.Piece(" ".join(ln.cells), [], 0, False)
        flush()
        p.index = len(pieces)
        lines.append(ln)
        pieces.append(p)
    flush()
    # a header printed one label per line after its first label ("信息内容" / "本年制发件数" / …)
    kinds: list[str] = []
    labels: list[str | None] = []
    seen_row = False
    for p in pieces:
        hit = label_of(p.text) if p.text else None
        if hit is not None and not p.values and not seen_row and squash(p.text) in _HEADER_WORDS:
            hit = None  # “总计” above the rows: the column header, not the row （七）总计
        lab = None
        if hit is not None:
            lab, named = hit
            seen_row = True
            ln = lines[len(labels)]
            if named != p.text and (ln.loose or len(ln.cells) == 1) and ln.cells[0].strip() == p.text:
                # the label without the pieces of a vertical group label printed before it
                lines[len(labels)] = Line(
                    [named, *ln.cells[1:]], ln.no, ln.where, ln.table, None, ln.cell_where, ln.loose
                )
        labels.append(lab)
        if p.values:
            kinds.append("F" if p.text else "V")
        else:
            kinds.append("L" if lab is not None else "T")
    for i, lab in enumerate(labels):
        if lab == "3.6" and kinds[i] == "L":
            # “（六）其他处理” followed by its own sub-rows: the group's label, not a row of the 2019 format
            nxt = next((j for j in range(i + 1, len(kinds)) if kinds[j] != "T"), None)
            if nxt is not None and (labels[nxt] or "").startswith("3.6."):
                kinds[i], labels[i] = "T", None
    if label_of is _t3_label:
        # a misprinted numbered sub-row alone on its line (“2.其他法律行政止公开”): the row its number
        # names when its labelled neighbours are that row's (it then takes numbers like any label)
        for i, rid in _by_number(
            [p.text if k in "TF" else "" for p, k in zip(pieces, kinds, strict=True)], labels
        ).items():
            labels[i] = rid
            if kinds[i] == "T":
                kinds[i] = "L"
    first_row = next((i for i, k in enumerate(kinds) if k in "LF"), len(kinds))
    header = [grid.tokens(lines[i].cells) for i in range(first_row) if kinds[i] == "T"]
    if not attach:
        return _Grid(lines, header, [])
    counts = [sum(1 for _p, c in p.values if c.strip()) for p in pieces]

    def fits(lab: int, v: int) -> bool:
        rid = labels[lab]
        return rid is not None and fits_count(rid, counts[v], pieces[v].loose)

    def placeable(v: int) -> bool:
        return any(fits_count(rid, counts[v], pieces[v].loose) for rid in set(labels) if rid is not None)

    res = grid.attach(kinds, counts, fits, lambda lab: labels[lab] == "3.6", placeable, _doubtful(kinds, labels))
    out: list[Line] = []
    uncertain: list[tuple[str | None, str, int, str]] = []
    paired = set(res.pairs.values())
    for i, ln in enumerate(lines):
        if i in res.pairs:
            out.append(_merged(ln, lines[res.pairs[i]]))
        elif i in res.uncertain:
            uncertain.append((labels[i], pieces[i].text, ln.no, res.uncertain[i]))
        elif kinds[i] == "V" and i not in paired:
            continue  # values that no row takes for certain: never guessed
        elif kinds[i] != "V":
            out.append(ln)
    if res.orphans:
        # numbers that no row takes for certain: a label left without numbers may be theirs
        for i, ln in enumerate(lines):
            single_six = labels[i] == "3.6" and not any((x or "").startswith("3.6.") for x in labels)
            if kinds[i] == "L" and i not in res.pairs and i not in res.uncertain and (labels[i] != "3.6" or single_six):
                res.uncertain[i] = "表中有无法确定归属的数字，该行的数字可能在其中"
                uncertain.append((labels[i], pieces[i].text, ln.no, res.uncertain[i]))
                out.remove(ln)
    flagged = set(res.uncertain)
    for v, why in res.orphans:
        near = [lab for lab in range(max(0, v - 3), min(len(kinds), v + 4)) if lab in flagged]
        if not near:
            uncertain.append((None, "\t".join(c for _p, c in pieces[v].values), lines[v].no, why))
    return _Grid(out, header, uncertain)


def _no_label(_text: str) -> tuple[str, str] | None:
    return None


def _uncertain(rep: ParsedReport, table: str, g: _Grid, rows: dict[str, Any]) -> None:
    """Rows whose numbers the grid could not give them for certain: one I11 each, the row unread."""
    for rid, printed, line, why in g.uncertain:
        rep.row_issues.append(RowIssue("I11", f"{table}:{rid or '*'}:*", printed, line, detail=why))
        if rid is not None and rid not in rows:
            rows[rid] = ({}, line) if table == "2" else _RowRead([], line, printed)


_SUB_NO = re.compile(r"^(?:\S\s+)?(\d+)\s*[.、．]")
_T3_IDS = frozenset(r.id for fmt in Fmt for r in tables(fmt)["3"].rows)


def _by_number(texts: Sequence[str], labels: Sequence[str | None]) -> dict[int, str]:
    """Index -> row id for the unlabelled texts that start with a sub-row number (“2.…”) whose
    nearest labelled neighbours are that row's statutory neighbours (“3.3.1” before or “3.3.3”
    after) — one candidate, a row not printed elsewhere."""
    out: dict[int, str] = {}
    printed = {rid for rid in labels if rid}
    for j, text in enumerate(texts):
        if labels[j] is not None or not text:
            continue
        m = _SUB_NO.match(nfkc(text))
        if m is None:
            continue
        num = int(m.group(1))
        prev = next((r for r in reversed(labels[:j]) if r), None)
        nxt = next((r for r in labels[j + 1 :] if r), None)
        guesses = set()
        for near, step in ((prev, -1), (nxt, 1)):
            if near is not None and near.count(".") == 2 and near.rsplit(".", 1)[1] == str(num + step):
                guesses.add(f"{near.rsplit('.', 1)[0]}.{num}")
        if len(guesses) == 1 and (target := guesses.pop()) in _T3_IDS and target not in printed:
            out[j] = target
            printed.add(target)
    return out


_T3_ROW_SETS = tuple(frozenset(r.id for r in tables(fmt)["3"].rows) for fmt in Fmt)


def _numbered_in_place(lines: list[Line], rep: ParsedReport, issues_before: int) -> list[Line]:
    """A numbered sub-row of table 三 whose label is misprinted beyond near matching (“2.其他法律行政
    止公开”, three characters lost) is read as the row its number names when the labelled rows just
    before and after it are that row's neighbours in the statutory order; an I12 names the printed
    and the statutory label.  Only rows with values, only one candidate, only a row not printed
    elsewhere."""
    found: list[tuple[int, str | None, int]] = []  # (line index, row id, index of the label cell)
    for i, ln in enumerate(lines):
        k = next(
            (j for j in range(len(ln.cells) - 1, -1, -1) if ln.cells[j].strip() and not is_value_like(ln.cells[j])), -1
        )
        if k < 0:
            continue
        hit = _t3_label(ln.cells[k].strip())
        found.append((i, hit[0] if hit else None, k))
    if all(rid is not None for _i, rid, _k in found):
        return lines
    placed = _by_number(
        [lines[i].cells[k].strip() if any(c.strip() for c in lines[i].cells[k + 1 :]) else "" for i, _r, k in found],
        [rid for _i, rid, _k in found],
    )
    if not placed:
        return lines
    del rep.row_issues[issues_before:]  # the rows are read again: the first reading's issues go
    out = list(lines)
    for j, target in placed.items():
        i, _rid, k = found[j]
        ln = lines[i]
        num = int(_SUB_NO.match(nfkc(ln.cells[k].strip())).group(1))  # type: ignore[union-attr]
        statutory = tables(Fmt.F2021 if target in {r.id for r in tables(Fmt.F2021)["3"].rows} else Fmt.F2019)["3"]
        key = statutory.row(target).keys[0]
        cells = list(ln.cells)
        cells[k] = f"{num}.{key}"
        out[i] = Line(cells, ln.no, ln.where, ln.table, ln.spans, ln.cell_where, ln.loose)
        printed = ln.cells[k].strip()
        if len(parts := printed.split()) > 1 and len(parts[0]) == 1:
            printed = " ".join(parts[1:])  # a character of a vertical group label glued before it
        rep.row_issues.append(RowIssue("I12", f"3:{target}:*", printed, ln.no, detail=key))
    return out


_T3_ORDER = {r.id: k for k, r in enumerate(tables(Fmt.F2021)["3"].rows)}


def _doubtful(kinds: Sequence[str], labels: Sequence[str | None]) -> set[int]:
    """Lines of values before the first label of table 三 whose earlier rows are not printed before
    that label (“总计 / 21 0 … / 二、上年结转 …”, 一 printed far below): they may be that row's."""
    out: set[int] = set()
    seen: set[str] = set()
    before_any = True
    pending: list[int] = []
    for i, k in enumerate(kinds):
        if k == "V" and before_any:
            pending.append(i)
        elif k in "LF":
            rid = labels[i]
            if pending and rid in _T3_ORDER:
                earlier = {r for r, o in _T3_ORDER.items() if o < _T3_ORDER[rid] and not r.startswith("3.6.")}
                if not earlier <= seen:
                    out.update(pending)
            pending = []
            before_any = False
            if rid is not None:
                seen.add(rid)
    return out


def _t3_fits(n: int) -> Callable[[str, int, bool], bool]:
    def fits(_rid: str, count: int, loose: bool) -> bool:
        return count == n if loose else 1 <= count <= n

    return fits


def _t2_fits(rid: str, count: int, loose: bool) -> bool:
    allowed = _T2_COUNTS.get(rid, frozenset())
    return count in allowed if loose else 1 <= count <= max(allowed, default=0)


def _t2_header(text: str) -> bool:
    return text.startswith("信息内容") and len(text) > 4


# ------------------------------------------------------------------ the parser

T3_COLS = tuple(c.id for c in tables(Fmt.F2021)["3"].columns)
T4_COLS = tuple(c.id for c in T4_COLUMNS)
RUN_TOGETHER_MIN = 2  # a lone digit string this many digits longer than the row has columns...


@dataclass(slots=True)
class _V:
    """One value read from a row: its text and where it was printed."""

    raw: str
    line: int | None
    pos: int | None  # 1-based cell position in its line
    where: str | None


@dataclass(slots=True)
class _RowRead:
    values: list[_V]  # one per column (empty: the row could not be read by columns)
    line: int
    printed: str
    recovered: bool = False  # split from run-together digits
    src: Line | None = None


def _loc(ln: Line, pos: int | None) -> str | None:
    if pos is not None and ln.cell_where is not None and 0 < pos <= len(ln.cell_where):
        return ln.cell_where[pos - 1]
    return ln.where


def _values_of(ln: Line, fitted: Sequence[tuple[int | None, str]]) -> list[_V]:
    return [_V(raw, ln.no, pos, _loc(ln, pos)) for pos, raw in fitted]


def _lone_digits(after: Sequence[tuple[int, str]], n: int) -> tuple[int, str] | None:
    """The one digit string a run-together row prints instead of ``n`` cells, if that is what it is."""
    nonempty = [(p, c) for p, c in after if c.strip()]
    if len(nonempty) != 1:
        return None
    pos, raw = nonempty[0]
    digits = nfkc(raw).strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) < n:
        return None
    return pos, digits


def _center(ln: Line, pos: int) -> float:
    assert ln.spans is not None
    a, b = ln.spans[pos - 1]
    return (a + b) / 2


def _place(ln: Line, cells: Sequence[tuple[int, str]], centers: Sequence[float]) -> list[_V] | None:
    """Values of a space-aligned line placed under the columns at ``centers`` (display columns);
    None when a value is not clearly under one column (or two values fall under the same one)."""
    if ln.spans is None or not centers:
        return None
    gap = min((b - a for a, b in itertools.pairwise(centers)), default=8.0)
    placed: dict[int, _V] = {}
    for pos, raw in cells:
        if not raw.strip():
            continue
        c = _center(ln, pos)
        j = min(range(len(centers)), key=lambda k: abs(centers[k] - c))
        if abs(centers[j] - c) > gap * AMBIGUOUS_SHARE or j in placed:
            return None
        placed[j] = _V(raw, ln.no, pos, _loc(ln, pos))
    return [placed.get(j, _V("", ln.no, None, ln.where)) for j in range(len(centers))]


class _Reader:
    def __init__(self, lines: Sequence[Line], report: ParsedReport) -> None:
        self.lines = lines
        self.rep = report
        self.evidence_2021: list[str] = []

    # ---- helpers
    def _window(self, sections: dict[str, tuple[int, int, str]], num: str) -> Sequence[Line]:
        if num not in sections:
            # table without its heading: look everywhere, so a missing heading does not hide a table
            return self.lines
        start = sections[num][0] + 1
        later = [idx for n, (idx, _l, _h) in sections.items() if idx > sections[num][0]]
        end = min(later) if later else len(self.lines)
        return self.lines[start:end]

    def _run_together(
        self, ln: Line, pos: int, digits: str, cells: tuple[str, ...], element: str, printed: str
    ) -> list[_V] | None:
        """Recover a run-together row when the rules admit exactly one split; else record I07."""
        sp = split_row(digits, cells)
        if sp.parts is None:
            self.rep.row_issues.append(RowIssue("I07", element, ln.text, ln.no))
            return None
        self.rep.row_issues.append(RowIssue("I10", element, digits, ln.no, detail="|".join(sp.parts)))
        where = _loc(ln, pos)
        return [_V(part, ln.no, pos, where) for part in sp.parts]

    # ---- table 二
    def table2(self, window: Sequence[Line]) -> dict[str, tuple[dict[str, _V], int]]:
        """row id -> ({col id: value}, line)."""
        rows: dict[str, tuple[dict[str, _V], int]] = {}
        header: list[str] | None = None
        centers: list[float] = []  # display columns of the header labels (space-aligned text)
        for ln in window:
            if len(ln.cells) < 2 and header and not ln.table:
                rid = match_t2_row(ln.cells[0])
                if rid is not None and rid not in rows:
                    # a row label alone (its cells left blank, and dropped by a space-aligned extraction)
                    rows[rid] = ({c: _V("", ln.no, None, ln.where) for c in header if c != "?"}, ln.no)
                    continue
            if len(ln.cells) < 2 and not BLOCK_HEADER.search(squash(ln.text)):
                continue
            first_idx = next((i for i, c in enumerate(ln.cells) if c.strip()), None)
            if first_idx is None:
                continue
            first = ln.cells[first_idx]
            sq = squash(first)
            if BLOCK_HEADER.search(sq):
                header = None
                continue
            if "信息内容" in sq:
                header = []
                centers = []
                for k, c in enumerate(ln.cells[first_idx + 1 :], start=first_idx + 1):
                    if not c.strip():
                        continue
                    if ln.spans is not None:
                        centers.append(_center(ln, k + 1))
                    m = _match_t2_col(c)
                    header.append(m[1] if m else "?")
                    if m and m[0] is Fmt.F2019:
                        self.rep.fmt_evidence_2019.append(f"表二列“{c.strip()}”")
                    elif m and m[0] is Fmt.F2021:
                        self.evidence_2021.append(c)
                continue
            rid = match_t2_row(first)
            if rid is None:
                continue
            if rid in ("other_services", "procurement"):
                self.rep.fmt_evidence_2019.append(f"表二行“{first.strip()}”")
            if norm_label(first) == "规范性文件":
                self.rep.fmt_evidence_2019.append("表二行“规范性文件”")
            vals = [(i + 1, c) for i, c in enumerate(ln.cells[first_idx + 1 :], start=first_idx + 1)]
            while vals and not vals[-1][1].strip():
                vals.pop()
            cols = header or []
            got: dict[str, _V] = {}
            if ln.spans is not None and cols and sum(1 for _p, c in vals if c.strip()) < len(cols):
                # blank cells of a space-aligned row leave no trace: place the values under the header
                placed = _place(ln, vals, centers) if len(centers) == len(cols) else None
                if placed is None:
                    self.rep.row_issues.append(RowIssue("I07", f"2:{rid}:*", ln.text, ln.no))
                    rows.setdefault(rid, ({}, ln.no))
                    continue
                vals = [(v.pos or 0, v.raw) for v in placed]
                for j, cid in enumerate(cols):
                    if cid != "?":
                        got[cid] = placed[j]
                rows.setdefault(rid, (got, ln.no))
                continue
            for j, cid in enumerate(cols):
                if cid == "?":
                    continue
                if j < len(vals):
                    pos, raw = vals[j]
                    got[cid] = _V(raw, ln.no, pos, _loc(ln, pos))
                else:
                    got[cid] = _V("", ln.no, None, ln.where)
            if not cols:
                got["_positional"] = _V("\t".join(v for _p, v in vals), ln.no, None, ln.where)
            if rid not in rows:
                rows[rid] = (got, ln.no)
        return rows

    # ---- table 三
    def table3(self, window: Sequence[Line]) -> tuple[dict[str, _RowRead], list[str], int | None]:
        rows: dict[str, _RowRead] = {}
        header_text: list[str] = []
        first_row_line: int | None = None
        n = len(T3_PARTS) + 1
        prefer = _sum_rule(len(T3_PARTS))
        pending: tuple[str, str] | None = None  # a row label printed on a line of its own
        lone_label: tuple[str, str, Line] | None = None  # ... on a line without any cell separator
        fragment = ""  # a label piece on the line before (a label wrapped onto two lines)
        aligned: list[tuple[str, Line, list[tuple[int, str]]]] = []  # space-aligned rows short of cells
        for ln in window:
            if not ln.table and len(ln.cells) < 2:
                single = ln.cells[0].strip()
                if single:
                    self._blank_row(rows, lone_label, n)
                    lone_label = None
                    m = None
                    if first_row_line is not None:
                        for part in _GAP.split(single):  # "（六）其他处理   1.申请人……": the last label
                            m = _match_t3(part) or m
                    if m is not None and m[0] == "row" and m[1] not in rows:
                        # a row label alone on its line: its values follow, or it is a row left blank
                        lone_label = (m[1], single, ln)
                        pending = (m[1], single)
                    fragment = single
                continue
            if lone_label is not None and (pending is None or any(_match_t3(c) for c in ln.cells if c.strip())):
                self._blank_row(rows, lone_label, n)
                pending = None
            lone_label = None
            last_label = -1
            row_id: str | None = None
            printed = ""
            for i, c in enumerate(ln.cells):
                if not c.strip():
                    continue
                m = _match_t3(c)
                if m is None:
                    continue
                kind, ident = m
                if kind == "group":
                    if ident == "3.6":
                        row_id, printed = "3.6", c.strip()  # a data row only in the 2019 format
                    else:
                        row_id = None
                else:
                    row_id, printed = ident, c.strip()
                last_label = i
            if last_label < 0:
                # no label: the values of a label printed just before, or of a label wrapped over lines
                texts = [i for i, c in enumerate(ln.cells) if c.strip() and not is_value_like(c)]
                if pending is None and fragment and texts:
                    m = _match_t3(fragment + ln.cells[texts[-1]])
                    if m is not None and m[0] == "row":
                        pending = (m[1], fragment + ln.cells[texts[-1]].strip())
                if pending is not None:
                    row_id, printed = pending
                    last_label = texts[-1] if texts else -1
            after = [(i + 1, c) for i, c in enumerate(ln.cells) if i > last_label]
            has_values = any(c.strip() for _p, c in after)
            if row_id is not None and not has_values and len(after) >= n:
                has_values = True  # a row printed with every cell blank
            if row_id is None or not has_values:
                pending = (row_id, printed) if row_id is not None and first_row_line is not None else None
                fragment = "".join(c.strip() for c in ln.cells if c.strip() and not is_value_like(c))
                if first_row_line is None:
                    header_text.extend(c for c in ln.cells if c.strip())
                continue
            pending, fragment = None, ""
            if first_row_line is None:
                first_row_line = ln.no
            if row_id == "3.6":
                self.rep.fmt_evidence_2019.append("表三“（六）其他处理”为单独一行")
            elif row_id.startswith("3.6."):
                self.evidence_2021.append(row_id)
            if row_id in rows:
                self.rep.row_issues.append(RowIssue("I08", f"3:{row_id}:*", ln.text, ln.no))
                continue
            lone = _lone_digits(after, n)
            if lone is not None:
                cells = tuple(f"3:{row_id}:{c}" for c in T3_COLS)
                vals = self._run_together(ln, lone[0], lone[1], cells, f"3:{row_id}:*", printed)
                rows[row_id] = _RowRead(vals or [], ln.no, printed, recovered=vals is not None)
                continue
            if ln.spans is not None and sum(1 for _p, c in after if c.strip()) < n:
                aligned.append((row_id, ln, after))  # placed by column position once all rows are read
                rows[row_id] = _RowRead([], ln.no, printed)
                continue
            if ln.loose and (k := sum(1 for _p, c in after if c.strip())) != n:
                # split at single spaces: a blank cell left no trace, the values cannot be placed
                why = f"该行以空格分隔，印有 {k} 个数字，应为 {n} 个，无法确定每个数字属于哪一列"
                self.rep.row_issues.append(RowIssue("I11", f"3:{row_id}:*", ln.text, ln.no, detail=why))
                rows[row_id] = _RowRead([], ln.no, printed)
                continue
            fitted = fit_values(after, n, prefer)
            if fitted is None:
                self.rep.row_issues.append(RowIssue("I07", f"3:{row_id}:*", ln.text, ln.no))
                rows[row_id] = _RowRead([], ln.no, printed)
                continue
            rows[row_id] = _RowRead(_values_of(ln, fitted), ln.no, printed, src=ln)
        self._blank_row(rows, lone_label, n)
        if aligned:
            self._place_aligned(rows, aligned, n)
        return rows, header_text, first_row_line

    @staticmethod
    def _blank_row(rows: dict[str, _RowRead], lone: tuple[str, str, Line] | None, n: int) -> None:
        """A row label printed alone (space-aligned text drops blank cells): a row of blank cells."""
        if lone is None or lone[0] in rows:
            return
        rid, printed, ln = lone
        rows[rid] = _RowRead([_V("", ln.no, None, ln.where) for _ in range(n)], ln.no, printed)

    def _place_aligned(
        self, rows: dict[str, _RowRead], short: list[tuple[str, Line, list[tuple[int, str]]]], n: int
    ) -> None:
        """Rows of a space-aligned table that print fewer than ``n`` values (blank cells leave no
        trace but a gap): each value goes to the column whose position it is printed under, taken
        from the rows that print all ``n``.  A value that is not clearly under one column makes the
        row not machine-readable (I07)."""
        full: list[list[float]] = []
        for rr in rows.values():
            if len(rr.values) == n and not rr.recovered:
                ln = rr.src
                if ln is None or ln.spans is None:
                    continue
                centers = [(ln.spans[v.pos - 1][0] + ln.spans[v.pos - 1][1]) / 2 for v in rr.values if v.pos]
                if len(centers) == n:
                    full.append(centers)
        cols = [sorted(c[j] for c in full)[len(full) // 2] for j in range(n)] if full else []
        gap = min((b - a for a, b in itertools.pairwise(cols)), default=0.0)
        for rid, ln, after in short:
            placed: dict[int, _V] = {}
            ok = bool(cols) and gap > 0
            assert ln.spans is not None
            for pos, raw in after:
                if not ok or not raw.strip():
                    continue
                a, b = ln.spans[pos - 1]
                center = (a + b) / 2
                j = min(range(n), key=lambda k: abs(cols[k] - center))
                if abs(cols[j] - center) > gap * AMBIGUOUS_SHARE or j in placed:
                    ok = False
                    break
                placed[j] = _V(raw, ln.no, pos, _loc(ln, pos))
            if not ok:
                self.rep.row_issues.append(RowIssue("I07", f"3:{rid}:*", ln.text, ln.no))
                continue
            rows[rid].values = [placed.get(j, _V("", ln.no, None, ln.where)) for j in range(n)]

    # ---- table 四
    def table4(self, window: Sequence[Line]) -> tuple[dict[str, _RowRead], str]:
        rows: dict[str, _RowRead] = {}
        header = ""
        buf: list[tuple[int, str]] = []  # (index into meta, raw)
        meta: list[tuple[Line, int]] = []  # (line, position in that line) of each buffered cell
        col_keys = {norm_label(c.label) for c in T4_COLUMNS}
        centers: list[float] = []  # display columns of the outcome labels of the header (aligned text)
        row_keys = {norm_label(k): r.id for r in T4_ROWS for k in r.keys}
        n = len(T4_COLUMNS)
        for ln in window:
            if not ln.table and len(ln.cells) < 2:
                digits = nfkc(ln.cells[0]).strip()
                if len(digits) >= n and digits.isascii() and digits.isdigit():
                    buf.append((len(meta), ln.cells[0]))  # a value row run together, without separators
                    meta.append((ln, 1))
                continue
            nonempty = [(i, c) for i, c in enumerate(ln.cells) if c.strip()]
            if not nonempty:
                if header and len(ln.cells) >= n:  # a row of blank cells under the header
                    for i, c in enumerate(ln.cells):
                        buf.append((len(meta), c))
                        meta.append((ln, i + 1))
                continue
            labelled = [i for i, c in nonempty if norm_label(c) in row_keys]
            numeric = [i for i, c in nonempty if is_value_like(c)]
            rest = ln.cells[max(labelled) + 1 :] if labelled else []
            if labelled and not numeric and len(rest) >= n and not any(c.strip() for c in rest):
                numeric = [len(ln.cells) - 1]  # a labelled row of blank cells
            if labelled and numeric and max(labelled) < max(numeric):
                # table 四 printed as three labelled rows of five
                li = max(labelled)
                rid = row_keys[norm_label(ln.cells[li])]
                after = [(i + 1, c) for i, c in enumerate(ln.cells) if i > li]
                header += ln.cells[li]
                if rid in rows:
                    continue
                if ln.spans is not None and sum(1 for _p, c in after if c.strip()) < n:
                    placed = _place(ln, after, centers[-n:]) if len(centers) >= n else None
                    if placed is None:
                        self.rep.row_issues.append(RowIssue("I07", f"4:{rid}:*", ln.text, ln.no))
                        rows[rid] = _RowRead([], ln.no, ln.cells[li].strip())
                    else:
                        rows[rid] = _RowRead(placed, ln.no, ln.cells[li].strip())
                    continue
                lone = _lone_digits(after, n)
                if lone is not None:
                    cells = tuple(f"4:{rid}:{c}" for c in T4_COLS)
                    vals = self._run_together(ln, lone[0], lone[1], cells, f"4:{rid}:*", ln.cells[li].strip())
                    rows[rid] = _RowRead(vals or [], ln.no, ln.cells[li].strip(), recovered=vals is not None)
                    continue
                fitted = fit_values(after, n, _sum_rule(len(T4_PARTS)))
                if ln.loose and sum(1 for _p, c in after if c.strip()) != n:
                    fitted = None  # split at single spaces with a count that is not the row's
                if fitted is None:
                    self.rep.row_issues.append(RowIssue("I07", f"4:{rid}:*", ln.text, ln.no))
                    rows[rid] = _RowRead([], ln.no, ln.cells[li].strip())
                    continue
                rows[rid] = _RowRead(_values_of(ln, fitted), ln.no, ln.cells[li].strip())
                continue
            if len(numeric) == len(nonempty):
                for i, c in enumerate(ln.cells):
                    buf.append((len(meta), c))
                    meta.append((ln, i + 1))
                continue
            header += "".join(c for _i, c in nonempty)
            if ln.spans is not None:
                centers.extend(_center(ln, i + 1) for i, c in nonempty if norm_label(c) in col_keys)
        if not buf and not rows and all(norm_label(r.keys[0]) in squash(header) for r in T4_ROWS):
            # the header is printed but not one number under it: every cell blank
            for r in T4_ROWS:
                rows[r.id] = _RowRead([_V("", None, None, None) for _ in range(n)], 0, r.label)
            return rows, squash(header)
        if buf and not rows:
            first_ln = meta[0][0]
            raw_all = "\t".join(c for _k, c in buf)
            lone = _lone_digits([(k + 1, c) for k, c in buf], 3 * n)
            if lone is not None:
                ln, pos = meta[lone[0] - 1]
                sp = split_row(lone[1], tuple(f"4:{r.id}:{c}" for r in T4_ROWS for c in T4_COLS))
                if sp.parts is None:
                    self.rep.row_issues.append(RowIssue("I09", "4:*:*", raw_all, ln.no))
                    return rows, squash(header)
                self.rep.row_issues.append(RowIssue("I10", "4:*:*", lone[1], ln.no, detail="|".join(sp.parts)))
                where = _loc(ln, pos)
                vals = [_V(p, ln.no, pos, where) for p in sp.parts]
                for k, r in enumerate(T4_ROWS):
                    rows[r.id] = _RowRead(vals[k * n : (k + 1) * n], ln.no, r.label, recovered=True)
                return rows, squash(header)
            if (
                first_ln.spans is not None
                and len(meta) == len(first_ln.cells)
                and sum(1 for _k, c in buf if c.strip()) < 3 * n
            ):
                # a space-aligned value row with blank cells: place the values under the 15 header labels
                placed = (
                    _place(first_ln, [(k + 1, c) for k, c in buf], sorted(centers)) if len(centers) == 3 * n else None
                )
                if placed is None:
                    self.rep.row_issues.append(RowIssue("I09", "4:*:*", raw_all, first_ln.no))
                    return rows, squash(header)
                for g, r in enumerate(T4_ROWS):
                    rows[r.id] = _RowRead(placed[g * n : (g + 1) * n], first_ln.no, r.label)
                return rows, squash(header)
            fitted = fit_values(buf, 3 * n)
            if all(m[0].loose for m in meta) and sum(1 for _k, c in buf if c.strip()) != 3 * n:
                fitted = None  # split at single spaces (or one per line): no trace of a blank cell
            if fitted is None:
                self.rep.row_issues.append(RowIssue("I09", "4:*:*", raw_all, first_ln.no))
            else:
                vals = []
                for idx, raw in fitted:
                    if idx is None:
                        vals.append(_V(raw, first_ln.no, None, first_ln.where))
                    else:
                        ln, pos = meta[idx]
                        vals.append(_V(raw, ln.no, pos, _loc(ln, pos)))
                for g, r in enumerate(T4_ROWS):
                    rows[r.id] = _RowRead(vals[g * n : (g + 1) * n], first_ln.no, r.label)
        return rows, squash(header)


def _simplified(lines: Sequence[Line]) -> Sequence[Line] | None:
    """The lines in simplified characters for matching, when the report prints traditional ones."""
    if not any(has_traditional(ln.cells[0] if len(ln.cells) == 1 else "".join(ln.cells)) for ln in lines):
        return None
    return [
        Line([to_simplified(c) for c in ln.cells], ln.no, ln.where, ln.table, ln.spans, ln.cell_where, ln.loose)
        for ln in lines
    ]


def parse_lines(lines: Sequence[Line], report: ParsedReport) -> ParsedReport:
    """Fill ``report`` (file, hash already set) from the lines of a source.

    A report printed in traditional characters is read from its lines converted to simplified ones
    (labels, headings and prose patterns are simplified); its title is kept as printed."""
    if fast.enabled() and (done := fast.read(lines, report)) is not None:
        return done  # a well-formed report, read the same by the fast path (nianbao.read.fast)
    simple = _simplified(lines)
    if simple is not None:
        rep = _parse_lines(simple, report)
        if rep.title is not None and rep.title_line is not None:
            printed = " ".join(
                " ".join(c for c in ln.cells if c.strip()) for ln in lines if ln.no == rep.title_line
            ).strip()
            if printed and to_simplified(printed) == rep.title:
                rep.title = printed
        return rep
    return _parse_lines(lines, report)


def _parse_lines(lines: Sequence[Line], report: ParsedReport) -> ParsedReport:
    rep = report
    rd = _Reader(lines, rep)
    title = read_title(lines)
    rep.agency, rep.year, rep.title, rep.title_line = title.agency, title.year, title.text, title.line
    read_period(rep, lines)

    sections = find_sections(lines)
    g2 = _rebuild(rd._window(sections, "二"), _t2_label, _t2_fits, _t2_header)
    t2 = rd.table2(g2.lines)
    g3 = _rebuild(rd._window(sections, "三"), _t3_label, _t3_fits(len(T3_PARTS) + 1))
    marks = (len(rep.row_issues), len(rep.fmt_evidence_2019), len(rd.evidence_2021))
    t3, t3_header, _ = rd.table3(g3.lines)
    if not any(rows <= t3.keys() for rows in _T3_ROW_SETS):
        # a row missing: perhaps a misprinted numbered sub-row; read again with it placed (rare)
        numbered = _numbered_in_place(g3.lines, rep, marks[0])
        if numbered is not g3.lines:
            del rep.fmt_evidence_2019[marks[1] :], rd.evidence_2021[marks[2] :]
            g3.lines = numbered
            t3, t3_header, _ = rd.table3(g3.lines)
    g4 = _rebuild(rd._window(sections, "四"), _no_label, _t3_fits(0), attach=False)
    t4, t4_header = rd.table4(g4.lines)
    _uncertain(rep, "2", g2, t2)
    _uncertain(rep, "3", g3, t3)

    if rep.title is None and len(sections) < 2 and not t3 and not t2 and not t4:
        raise NotAReport("文件中没有找到年度报告的标题、章节或统计表，不是政府信息公开工作年度报告")
    if rep.agency is None and rep.year is None and len(sections) < 2 and not (t3 or t4):
        raise NotAReport("文件中没有找到年度报告的标题、章节或统计表，不是政府信息公开工作年度报告")

    fill_agency(rep)
    # the format from the layout printed from section 二 on (the title and 一 are prose)
    detected = detect_format(lines[sections["二"][0] :] if "二" in sections else lines, rep.year)
    fmt = detected.fmt
    rep.fmt = fmt
    rep.fmt_evidence_2019 = list(detected.evidence_2019)
    if fmt is Fmt.F2021:
        for ri in rep.row_issues:
            if ri.code == "I11" and ri.element == "3:3.6:*":
                ri.element = "3:3.6.3:*"  # the single （六） row is read into 3.6.3 in the 2021 format (I13)
    spec = tables(fmt)

    section_layout(rep, sections)  # presence, order, aliases
    # section texts (prose) for the text rules; table block headers (第二十条第（一）项) are not prose
    ordered = sorted(sections.items(), key=lambda kv: kv[1][0])
    for k, (num, (idx, _l, _h)) in enumerate(ordered):
        end = ordered[k + 1][1][0] if k + 1 < len(ordered) else len(lines)
        prose = [
            (ln.no, ln.text)
            for ln in lines[idx + 1 : end]
            if not ln.table and ln.text.strip() and not (num == "二" and BLOCK_HEADER.search(squash(ln.text)))
        ]
        rep.sections[num] = section_prose(num, prose)
    if ordered:
        rep.sections["引言"] = [(ln.no, ln.text) for ln in lines[: ordered[0][1][0]] if ln.text.strip()]

    rep.sections.pack()
    _fill_t2(rep, spec["2"], t2)
    _fill_t3(rep, spec["3"], t3, t3_header, g3.header)
    _fill_t4(rep, spec["4"], t4, t4_header, g4.header)
    record_near_labels(rep, {"2": g2.lines, "3": g3.lines})  # the rows as the grid rebuilt them
    return rep


@lru_cache(maxsize=1 << 15)
def _read_cell(raw: str, kind: Kind) -> tuple[float | None, State, str]:
    value, state = parse_number(raw, kind)
    return value, state, raw.strip()


def _cell(rep: ParsedReport, fmt: Fmt, cid: str, v: _V | None, recovered: bool = False) -> None:
    if v is None:
        rep.cells.put(cid, None, "", State.MISSING)
        return
    value, state, raw = _read_cell(v.raw, cell_kind(fmt, cid))
    if recovered and state in (State.VALUE, State.ZERO):
        state = State.RECOVERED
    rep.cells.put(cid, value, raw, state, v.line, v.pos, v.where)


@cache
def _row_slots(fmt: Fmt, table: str, row: str, cols: tuple[str, ...]) -> tuple[tuple[str, Kind], ...]:
    """(cell id, kind) of each column of one row: the ids are built once per process, not per report."""
    return tuple((cid, cell_kind(fmt, cid)) for cid in (f"{table}:{row}:{c}" for c in cols))


@cache
def _row_positions(slots: tuple[tuple[str, Kind], ...]) -> tuple[int, ...] | None:
    """The array positions of a row's cells (None if one is not a canonical id)."""
    pos = tuple(INDEX.get(cid, -1) for cid, _k in slots)
    return None if -1 in pos else pos


@lru_cache(maxsize=1 << 15)
def _read_code(raw: str, kind: Kind) -> tuple[float, int, str | None]:
    """A printed cell as the cell arrays hold it: (value or NaN, state code, text or None if plain)."""
    value, state, text = _read_cell(raw, kind)
    v = math.nan if value is None else value
    code = STATE_CODE[state]
    return v, code, None if plain_raw(code, v) == text else text


def _put_row(rep: ParsedReport, slots: tuple[tuple[str, Kind], ...], values: Sequence[_V], recovered: bool) -> None:
    positions = _row_positions(slots)
    if positions is not None and not recovered:
        reads = [_read_code(v.raw, kind) for (_c, kind), v in zip(slots, values, strict=True)]
        rep.cells.put_row(positions, reads, values)
        return
    assert rep.fmt is not None
    for (cid, _kind), v in zip(slots, values, strict=True):
        _cell(rep, rep.fmt, cid, v, recovered)  # a recovered row: each cell as one printed alone


def _missing_table(rep: ParsedReport, table: Table) -> None:
    rep.layout.append(LayoutFact(f"{table.id}:*:*", "table", False, table.title))
    for cid in table.cells():
        rep.cells.put(cid, None, "", State.MISSING)


def _fill_t2(rep: ParsedReport, table: Table, rows: dict[str, tuple[dict[str, _V], int]]) -> None:
    assert rep.fmt is not None
    if not rows:
        _missing_table(rep, table)
        return
    rep.layout.append(LayoutFact("2:*:*", "table", True, table.title))
    for r in table.rows:
        cols = table.row_columns[r.id]
        if r.id not in rows:
            rep.layout.append(LayoutFact(f"2:{r.id}:*", "row", False, r.label))
            for c in cols:
                rep.cells.put(f"2:{r.id}:{c}", None, "", State.MISSING)
            continue
        got, line = rows[r.id]
        rep.layout.append(LayoutFact(f"2:{r.id}:*", "row", True, r.label, line=line))
        if not got:  # not machine-readable (I07 recorded)
            for c in cols:
                rep.cells.put(f"2:{r.id}:{c}", None, "", State.MISSING, line)
            continue
        if "_positional" in got:  # no header row: read the values in the statutory order
            pv = got["_positional"]
            raws = pv.raw.split("\t")
            got = {c: _V(raws[j] if j < len(raws) else "", line, None, pv.where) for j, c in enumerate(cols)}
        for c in cols:
            if c not in got:
                rep.layout.append(LayoutFact(f"2:{r.id}:{c}", "column", False, table.column(c).label, line=line))
                rep.cells.put(f"2:{r.id}:{c}", None, "", State.MISSING, line)
                continue
            _cell(rep, rep.fmt, f"2:{r.id}:{c}", got[c])


_NUMBERED_COLS = frozenset(f"数据{k}" for k in range(1, 7))


def _fill_t3(
    rep: ParsedReport,
    table: Table,
    rows: dict[str, _RowRead],
    header_cells: list[str],
    header_lines: Sequence[Sequence[str]] = (),
) -> None:
    assert rep.fmt is not None
    if not rows:
        _missing_table(rep, table)
        return
    rep.layout.append(LayoutFact("3:*:*", "table", True, table.title))
    lines = [*header_lines, header_cells]
    # columns printed as 数据1 … 数据6 (a conversion to Markdown): the applicant columns in statutory order
    numbered = {nfkc(t).replace(" ", "") for line in lines for t in line} >= _NUMBERED_COLS
    for col in table.columns:
        got = find_column(header_cells, col.id, (col.label, *col.aliases))
        if got is None and header_lines:  # a label wrapped over header lines (社会 / 公益 / 组织)
            got = next((lab for lab in (col.label, *col.aliases) if grid.assembled(lab, lines)), None)
        if got is None and numbered and col.id != "total":
            got = col.label
        if got is None:
            rep.layout.append(LayoutFact(f"3:*:{col.id}", "column", False, col.label))
        elif got in col.aliases:  # an accepted alias (I06); a near label is I12
            rep.layout.append(LayoutFact(f"3:*:{col.id}", "column", True, col.label, printed=got))
    cols = tuple(c.id for c in table.columns)
    merged = rep.fmt is Fmt.F2021 and "3.6" in rows and not any(rid.startswith("3.6.") for rid in rows)
    if merged:
        # （六）其他处理 printed as one row without its sub-rows: the group's printed total, kept in
        # the row of 3.其他 so that the sum rules add exactly the printed total as （六）; one I13
        rows = dict(rows)
        total = rows.pop("3.6")
        rows["3.6.3"] = total
        rep.row_issues.append(RowIssue("I13", "3:3.6.3:*", total.printed, total.line))
    for r in table.rows:
        rr = rows.get(r.id)
        if rr is None and merged and r.id in ("3.6.1", "3.6.2"):
            for c in cols:  # said once by I13, not as two missing rows
                rep.cells.put(f"3:{r.id}:{c}", None, "", State.MISSING)
            continue
        if rr is None:
            rep.layout.append(LayoutFact(f"3:{r.id}:*", "row", False, r.label))
            for c in cols:
                rep.cells.put(f"3:{r.id}:{c}", None, "", State.MISSING)
            continue
        rep.layout.append(LayoutFact(f"3:{r.id}:*", "row", True, r.label, line=rr.line))
        if not rr.values:  # not machine-readable (I07 recorded)
            for c in cols:
                rep.cells.put(f"3:{r.id}:{c}", None, "", State.MISSING, rr.line)
            continue
        _put_row(rep, _row_slots(rep.fmt, "3", r.id, cols), rr.values, rr.recovered)
    # rows of the other format's table 三 (e.g. 3.6.x in a 2019 report) are extra rows: note them
    known = {r.id for r in table.rows}
    for rid, rr in rows.items():
        if rid not in known:
            rep.row_issues.append(RowIssue("I08", f"3:{rid}:*", rr.printed, rr.line))


def _fill_t4(
    rep: ParsedReport, table: Table, rows: dict[str, _RowRead], header: str, header_lines: Sequence[Sequence[str]] = ()
) -> None:
    assert rep.fmt is not None
    if not rows and not any(ri.element == "4:*:*" for ri in rep.row_issues):
        _missing_table(rep, table)
        return
    rep.layout.append(LayoutFact("4:*:*", "table", True, table.title))
    for r in table.rows:
        if (
            norm_label(r.keys[0]) not in header
            and not grid.assembled(r.keys[0], header_lines)
            and not record_near_header(rep, f"4:{r.id}:*", r.keys[0], header)
        ):
            rep.layout.append(LayoutFact(f"4:{r.id}:*", "row", False, r.label))
    for col in table.columns:
        if (
            norm_label(col.label) not in header
            and not grid.assembled(col.label, header_lines)
            and not record_near_header(rep, f"4:*:{col.id}", col.label, header)
        ):
            rep.layout.append(LayoutFact(f"4:*:{col.id}", "column", False, col.label))
    cols = tuple(c.id for c in table.columns)
    for r in table.rows:
        rr = rows.get(r.id)
        if rr is None or not rr.values:
            for c in cols:
                rep.cells.put(f"4:{r.id}:{c}", None, "", State.MISSING)
            continue
        _put_row(rep, _row_slots(rep.fmt, "4", r.id, cols), rr.values, rr.recovered)


__all__ = ["Kind", "Line", "NotAReport", "fit_values", "nfkc", "parse_lines"]
