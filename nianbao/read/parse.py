"""The report parser: from lines of cells (any source format) to canonical cells and layout facts.

Every loader (text, HTML, DOCX, XLSX, PDF) turns its input into a list of :class:`~nianbao.io.lines.Line` — a paragraph
is a line with one cell, a table row a line with several — and this module reads the report by
*labels*, never by line numbers: headings, table blocks, row and column labels, each matched after
normalisation (full-width forms, spaces, numbering and punctuation removed; known aliases accepted).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from nianbao.domain.model import ParsedReport, RowIssue
from nianbao.domain.normalize import is_value_like, nfkc, norm_label, squash
from nianbao.domain.spec import T3_PARTS, T4_COLUMNS, T4_PARTS, T4_ROWS, Fmt, Kind, tables
from nianbao.io.lines import Line  # the loaders' contract (also nianbao.read.parse.Line)
from nianbao.read import fast
from nianbao.read.chars import has_traditional, to_simplified
from nianbao.read.fill import fill_t2, fill_t3, fill_t4
from nianbao.read.labels import match_t2_col, match_t2_row, match_t3, record_near_labels, squashed
from nianbao.read.meta import (
    BLOCK_HEADER,
    detect_format,
    fill_agency,
    fill_sections,
    find_sections,
    read_period,
    read_title,
)
from nianbao.read.rows import (
    T3_ROW_SETS,
    TableRows,
    no_label,
    numbered_in_place,
    rebuild,
    t2_fits,
    t2_header,
    t2_label,
    t3_fits,
    t3_label,
)
from nianbao.read.rundigits import split_row
from nianbao.read.values import (
    AMBIGUOUS_SHARE,
    RowRead,
    Value,
    center,
    fit_values,
    location,
    lone_digits,
    place,
    sum_rule,
    values_of,
)


class NotAReport(ValueError):
    """The input has none of the marks of an annual report."""


# title, period, sections and format: nianbao.read.meta; labels: nianbao.read.labels; a table region's
# rows whatever its shape: nianbao.read.rows; a row's values: nianbao.read.values; the cells: nianbao.read.fill


# ------------------------------------------------------------------ the parser

_GAP = re.compile(r"\s{2,}")
T3_COLS = tuple(c.id for c in tables(Fmt.F2021)["3"].columns)
T4_COLS = tuple(c.id for c in T4_COLUMNS)
RUN_TOGETHER_MIN = 2  # a lone digit string this many digits longer than the row has columns...


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
    ) -> list[Value] | None:
        """Recover a run-together row when the rules admit exactly one split; else record I07."""
        sp = split_row(digits, cells)
        if sp.parts is None:
            self.rep.row_issues.append(RowIssue("I07", element, ln.text, ln.no))
            return None
        self.rep.row_issues.append(RowIssue("I10", element, digits, ln.no, detail="|".join(sp.parts)))
        where = location(ln, pos)
        return [Value(part, ln.no, pos, where) for part in sp.parts]

    # ---- table 二
    def table2(self, window: Sequence[Line]) -> dict[str, tuple[dict[str, Value], int]]:
        """row id -> ({col id: value}, line)."""
        rows: dict[str, tuple[dict[str, Value], int]] = {}
        header: list[str] | None = None
        centers: list[float] = []  # display columns of the header labels (space-aligned text)
        for ln in window:
            if len(ln.cells) < 2 and header and not ln.table:
                rid = match_t2_row(ln.cells[0])
                if rid is not None and rid not in rows:
                    # a row label alone (its cells left blank, and dropped by a space-aligned extraction)
                    rows[rid] = ({c: Value("", ln.no, None, ln.where) for c in header if c != "?"}, ln.no)
                    continue
            if len(ln.cells) < 2 and not BLOCK_HEADER.search(squashed(ln.text)):
                continue
            first_idx = next((i for i, c in enumerate(ln.cells) if c.strip()), None)
            if first_idx is None:
                continue
            first = ln.cells[first_idx]
            sq = squashed(first)
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
                        centers.append(center(ln, k + 1))
                    m = match_t2_col(c)
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
            got: dict[str, Value] = {}
            if ln.spans is not None and cols and sum(1 for _p, c in vals if c.strip()) < len(cols):
                # blank cells of a space-aligned row leave no trace: place the values under the header
                placed = place(ln, vals, centers) if len(centers) == len(cols) else None
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
                    got[cid] = Value(raw, ln.no, pos, location(ln, pos))
                else:
                    got[cid] = Value("", ln.no, None, ln.where)
            if not cols:
                got["_positional"] = Value("\t".join(v for _p, v in vals), ln.no, None, ln.where)
            if rid not in rows:
                rows[rid] = (got, ln.no)
        return rows

    # ---- table 三
    def table3(self, window: Sequence[Line]) -> tuple[dict[str, RowRead], list[str], int | None]:
        rows: dict[str, RowRead] = {}
        header_text: list[str] = []
        first_row_line: int | None = None
        n = len(T3_PARTS) + 1
        prefer = sum_rule(len(T3_PARTS))
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
                            m = match_t3(part) or m
                    if m is not None and m[0] == "row" and m[1] not in rows:
                        # a row label alone on its line: its values follow, or it is a row left blank
                        lone_label = (m[1], single, ln)
                        pending = (m[1], single)
                    fragment = single
                continue
            if lone_label is not None and (pending is None or any(match_t3(c) for c in ln.cells if c.strip())):
                self._blank_row(rows, lone_label, n)
                pending = None
            lone_label = None
            last_label = -1
            row_id: str | None = None
            printed = ""
            for i, c in enumerate(ln.cells):
                m = match_t3(c)  # None for a blank cell (read as value-like), as for a number
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
                    m = match_t3(fragment + ln.cells[texts[-1]])
                    if m is not None and m[0] == "row":
                        pending = (m[1], fragment + ln.cells[texts[-1]].strip())
                if pending is not None:
                    row_id, printed = pending
                    last_label = texts[-1] if texts else -1
            rest = ln.cells[last_label + 1 :]
            after = list(enumerate(rest, last_label + 2))  # (position, cell) of each cell after the label
            filled = sum(map(bool, map(str.strip, rest)))  # how many are printed
            has_values = filled > 0
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
            lone = lone_digits(after, n) if filled == 1 else None
            if lone is not None:
                cells = tuple(f"3:{row_id}:{c}" for c in T3_COLS)
                vals = self._run_together(ln, lone[0], lone[1], cells, f"3:{row_id}:*", printed)
                rows[row_id] = RowRead(vals or [], ln.no, printed, recovered=vals is not None)
                continue
            if ln.spans is not None and filled < n:
                aligned.append((row_id, ln, after))  # placed by column position once all rows are read
                rows[row_id] = RowRead([], ln.no, printed)
                continue
            if ln.loose and (k := filled) != n:
                # split at single spaces: a blank cell left no trace, the values cannot be placed
                why = f"该行以空格分隔，印有 {k} 个数字，应为 {n} 个，无法确定每个数字属于哪一列"
                self.rep.row_issues.append(RowIssue("I11", f"3:{row_id}:*", ln.text, ln.no, detail=why))
                rows[row_id] = RowRead([], ln.no, printed)
                continue
            fitted = fit_values(after, n, prefer)
            if fitted is None:
                self.rep.row_issues.append(RowIssue("I07", f"3:{row_id}:*", ln.text, ln.no))
                rows[row_id] = RowRead([], ln.no, printed)
                continue
            rows[row_id] = RowRead(values_of(ln, fitted), ln.no, printed, src=ln)
        self._blank_row(rows, lone_label, n)
        if aligned:
            self._place_aligned(rows, aligned, n)
        return rows, header_text, first_row_line

    @staticmethod
    def _blank_row(rows: dict[str, RowRead], lone: tuple[str, str, Line] | None, n: int) -> None:
        """A row label printed alone (space-aligned text drops blank cells): a row of blank cells."""
        if lone is None or lone[0] in rows:
            return
        rid, printed, ln = lone
        rows[rid] = RowRead([Value("", ln.no, None, ln.where) for _ in range(n)], ln.no, printed)

    def _place_aligned(
        self, rows: dict[str, RowRead], short: list[tuple[str, Line, list[tuple[int, str]]]], n: int
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
            placed: dict[int, Value] = {}
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
                placed[j] = Value(raw, ln.no, pos, location(ln, pos))
            if not ok:
                self.rep.row_issues.append(RowIssue("I07", f"3:{rid}:*", ln.text, ln.no))
                continue
            rows[rid].values = [placed.get(j, Value("", ln.no, None, ln.where)) for j in range(n)]

    # ---- table 四
    def table4(self, window: Sequence[Line]) -> tuple[dict[str, RowRead], str]:
        rows: dict[str, RowRead] = {}
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
                    placed = place(ln, after, centers[-n:]) if len(centers) >= n else None
                    if placed is None:
                        self.rep.row_issues.append(RowIssue("I07", f"4:{rid}:*", ln.text, ln.no))
                        rows[rid] = RowRead([], ln.no, ln.cells[li].strip())
                    else:
                        rows[rid] = RowRead(placed, ln.no, ln.cells[li].strip())
                    continue
                lone = lone_digits(after, n)
                if lone is not None:
                    cells = tuple(f"4:{rid}:{c}" for c in T4_COLS)
                    vals = self._run_together(ln, lone[0], lone[1], cells, f"4:{rid}:*", ln.cells[li].strip())
                    rows[rid] = RowRead(vals or [], ln.no, ln.cells[li].strip(), recovered=vals is not None)
                    continue
                fitted = fit_values(after, n, sum_rule(len(T4_PARTS)))
                if ln.loose and sum(1 for _p, c in after if c.strip()) != n:
                    fitted = None  # split at single spaces with a count that is not the row's
                if fitted is None:
                    self.rep.row_issues.append(RowIssue("I07", f"4:{rid}:*", ln.text, ln.no))
                    rows[rid] = RowRead([], ln.no, ln.cells[li].strip())
                    continue
                rows[rid] = RowRead(values_of(ln, fitted), ln.no, ln.cells[li].strip())
                continue
            if len(numeric) == len(nonempty):
                for i, c in enumerate(ln.cells):
                    buf.append((len(meta), c))
                    meta.append((ln, i + 1))
                continue
            header += "".join(c for _i, c in nonempty)
            if ln.spans is not None:
                centers.extend(center(ln, i + 1) for i, c in nonempty if norm_label(c) in col_keys)
        if not buf and not rows and all(norm_label(r.keys[0]) in squash(header) for r in T4_ROWS):
            # the header is printed but not one number under it: every cell blank
            for r in T4_ROWS:
                rows[r.id] = RowRead([Value("", None, None, None) for _ in range(n)], 0, r.label)
            return rows, squash(header)
        if buf and not rows:
            first_ln = meta[0][0]
            raw_all = "\t".join(c for _k, c in buf)
            lone = lone_digits([(k + 1, c) for k, c in buf], 3 * n)
            if lone is not None:
                ln, pos = meta[lone[0] - 1]
                sp = split_row(lone[1], tuple(f"4:{r.id}:{c}" for r in T4_ROWS for c in T4_COLS))
                if sp.parts is None:
                    self.rep.row_issues.append(RowIssue("I09", "4:*:*", raw_all, ln.no))
                    return rows, squash(header)
                self.rep.row_issues.append(RowIssue("I10", "4:*:*", lone[1], ln.no, detail="|".join(sp.parts)))
                where = location(ln, pos)
                vals = [Value(p, ln.no, pos, where) for p in sp.parts]
                for k, r in enumerate(T4_ROWS):
                    rows[r.id] = RowRead(vals[k * n : (k + 1) * n], ln.no, r.label, recovered=True)
                return rows, squash(header)
            if (
                first_ln.spans is not None
                and len(meta) == len(first_ln.cells)
                and sum(1 for _k, c in buf if c.strip()) < 3 * n
            ):
                # a space-aligned value row with blank cells: place the values under the 15 header labels
                placed = (
                    place(first_ln, [(k + 1, c) for k, c in buf], sorted(centers)) if len(centers) == 3 * n else None
                )
                if placed is None:
                    self.rep.row_issues.append(RowIssue("I09", "4:*:*", raw_all, first_ln.no))
                    return rows, squash(header)
                for g, r in enumerate(T4_ROWS):
                    rows[r.id] = RowRead(placed[g * n : (g + 1) * n], first_ln.no, r.label)
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
                        vals.append(Value(raw, first_ln.no, None, first_ln.where))
                    else:
                        ln, pos = meta[idx]
                        vals.append(Value(raw, ln.no, pos, location(ln, pos)))
                for g, r in enumerate(T4_ROWS):
                    rows[r.id] = RowRead(vals[g * n : (g + 1) * n], first_ln.no, r.label)
        return rows, squash(header)


def _simplified(lines: Sequence[Line]) -> Sequence[Line] | None:
    """The lines in simplified characters for matching, when the report prints traditional ones."""
    # one scan of every cell's text (a character class: a line has one iff their concatenation has one)
    if not has_traditional("".join(itertools.chain.from_iterable(ln.cells for ln in lines))):
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
    g2 = rebuild(rd._window(sections, "二"), t2_label, t2_fits, t2_header)
    t2 = rd.table2(g2.lines)
    g3 = rebuild(rd._window(sections, "三"), t3_label, t3_fits(len(T3_PARTS) + 1))
    marks = (len(rep.row_issues), len(rep.fmt_evidence_2019), len(rd.evidence_2021))
    t3, t3_header, _ = rd.table3(g3.lines)
    if not any(rows <= t3.keys() for rows in T3_ROW_SETS):
        # a row missing: perhaps a misprinted numbered sub-row; read again with it placed (rare)
        numbered = numbered_in_place(g3.lines, rep, marks[0])
        if numbered is not g3.lines:
            del rep.fmt_evidence_2019[marks[1] :], rd.evidence_2021[marks[2] :]
            g3.lines = numbered
            t3, t3_header, _ = rd.table3(g3.lines)
    g4 = rebuild(rd._window(sections, "四"), no_label, t3_fits(0), attach=False)
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
    if fmt is Fmt.F2021:
        for ri in rep.row_issues:
            if ri.code == "I11" and ri.element == "3:3.6:*":
                ri.element = "3:3.6.3:*"  # the single （六） row is read into 3.6.3 in the 2021 format (I13)
    spec = tables(fmt)

    # section texts (prose) for the text rules
    fill_sections(
        rep,
        detected,
        sections,
        len(lines),
        lambda start, end: _texts(lines[start:end], skip_table=True),
        lambda end: _texts(lines[:end], skip_table=False),
    )
    fill_t2(rep, spec["2"], t2)
    fill_t3(rep, spec["3"], t3, t3_header, g3.header)
    fill_t4(rep, spec["4"], t4, t4_header, g4.header)
    record_near_labels(rep, {"2": g2.lines, "3": g3.lines})  # the rows as the grid rebuilt them
    return rep


def _texts(lines: Sequence[Line], skip_table: bool) -> list[tuple[int, str]]:
    """(line number, text) of the non-blank lines (and not table rows, if ``skip_table``): each
    line's text joined once (``Line.text`` joins its cells at each call), a one-cell line's text its cell."""
    out: list[tuple[int, str]] = []
    for ln in lines:
        if skip_table and ln.table:
            continue
        cells = ln.cells
        text = cells[0] if len(cells) == 1 else "\t".join(cells)
        if text and not text.isspace():  # text.strip() not empty, without its copy
            out.append((ln.no, text))
    return out


def _uncertain(rep: ParsedReport, table: str, g: TableRows, rows: dict[str, Any]) -> None:
    """Rows whose numbers the grid could not give them for certain: one I11 each, the row unread."""
    for rid, printed, line, why in g.uncertain:
        rep.row_issues.append(RowIssue("I11", f"{table}:{rid or '*'}:*", printed, line, detail=why))
        if rid is not None and rid not in rows:
            rows[rid] = ({}, line) if table == "2" else RowRead([], line, printed)


__all__ = ["Kind", "Line", "NotAReport", "fit_values", "nfkc", "parse_lines"]
