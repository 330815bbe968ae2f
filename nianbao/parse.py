"""The report parser: from lines of cells (any source format) to canonical cells and layout facts.

Every loader (text, HTML, DOCX, XLSX, PDF) turns its input into a list of :class:`Line` — a paragraph
is a line with one cell, a table row a line with several — and this module reads the report by
*labels*, never by line numbers: headings, table blocks, row and column labels, each matched after
normalisation (full-width forms, spaces, numbering and punctuation removed; known aliases accepted).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nianbao.model import Cell, LayoutFact, ParsedReport, RowIssue
from nianbao.normalize import State, nfkc, norm_label, parse_number, squash
from nianbao.spec import (
    SECTIONS,
    T3_GROUPS,
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


@dataclass(slots=True)
class Line:
    cells: list[str]
    no: int  # 1-based line number (or running row number for non-text sources)
    where: str | None = None  # e.g. "表格2 第3行" for DOCX/HTML/XLSX sources
    table: bool = False  # a row of a table (several cells), not a paragraph

    @property
    def text(self) -> str:
        return "\t".join(self.cells)


class NotAReport(ValueError):
    """The input has none of the marks of an annual report."""


# ------------------------------------------------------------------ metadata

_YEAR = r"((?:19|20)\d{2})"
_TITLE_PATTERNS = (
    re.compile(rf"^(?P<agency>.*?){_YEAR}年度?政府信息公开(?:工作)?(?:年度)?报告"),
    re.compile(rf"^(?P<agency>.*?)政府信息公开(?:工作)?{_YEAR}年度?(?:工作)?报告"),
    re.compile(rf"^{_YEAR}年度?(?P<agency>.*?)政府信息公开(?:工作)?(?:年度)?报告"),
)
_PERIOD = re.compile(
    rf"统计数据(?:期间)?(?:为|是)?(?:从|自)?{_YEAR}年(\d{{1,2}})月(\d{{1,2}})日(?:起)?(?:至|到|~|-|—|－)"
    rf"{_YEAR}年(\d{{1,2}})月(\d{{1,2}})日"
)
_AGENCY_PREFIX = re.compile(r"^(?:关于|《)+")


def _title(lines: Sequence[Line]) -> tuple[str | None, int | None, str | None, int | None]:
    """(agency, year, title text, line) from the first lines that look like the title."""
    seen = 0
    for ln in lines:
        text = " ".join(c for c in ln.cells if c.strip())
        if not text.strip():
            continue
        seen += 1
        if seen > 15:
            break
        s = squash(text)
        if "报告" not in s or "政府信息公开" not in s:
            continue
        for pat in _TITLE_PATTERNS:
            m = pat.search(s)
            if m:
                agency = _AGENCY_PREFIX.sub("", m.group("agency")).strip("《》 ") or None
                year = int(next(g for g in m.groups() if g and g.isdigit() and len(g) == 4))
                return agency, year, text.strip(), ln.no
        return None, None, text.strip(), ln.no
    return None, None, None, None


# ------------------------------------------------------------------ sections

_HEADING = re.compile(r"^([一二三四五六])[、.]\s*(.+)$")
_SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "一": ("总体情况",),
    "二": ("主动公开",),
    "三": ("收到和处理", "依申请公开"),
    "四": ("行政复议", "行政诉讼"),
    "五": ("存在的主要问题", "问题及改进"),
    "六": ("其他需要报告",),
}


def _find_sections(lines: Sequence[Line]) -> dict[str, tuple[int, int, str]]:
    """Section number -> (index in lines, line no, printed heading)."""
    found: dict[str, tuple[int, int, str]] = {}
    for i, ln in enumerate(lines):
        nonempty = [c for c in ln.cells if c.strip()]
        if len(nonempty) != 1:
            continue
        s = squash(nonempty[0])
        if len(s) > 40:
            continue
        m = _HEADING.match(s)
        if not m:
            continue
        num, rest = m.group(1), m.group(2)
        if num in found:
            continue
        keys = _SECTION_KEYS[num]
        if num == "四":
            ok = all(k in rest for k in keys) or ("复议" in rest and "诉讼" in rest)
        else:
            ok = any(k in rest for k in keys)
        if ok:
            found[num] = (i, ln.no, nonempty[0].strip())
    return found


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


# ------------------------------------------------------------------ label matching


def _build_t3_index() -> tuple[dict[str, str], list[tuple[str, str]]]:
    exact: dict[str, str] = {}
    prefix: list[tuple[str, str]] = []
    for fmt in Fmt:
        for r in tables(fmt)["3"].rows:
            for k in r.keys:
                nk = norm_label(k)
                exact.setdefault(nk, r.id)
                if len(nk) >= 4:
                    prefix.append((nk, r.id))
    prefix.sort(key=lambda kv: -len(kv[0]))
    return exact, prefix


_T3_EXACT, _T3_PREFIX = _build_t3_index()
_T3_GROUP_KEYS = {norm_label(k): g for g, ks in T3_GROUPS.items() for k in ks}


def _match_t3(label: str) -> tuple[str, str] | None:
    """('row'|'group', id) for a printed label of table 三."""
    n = norm_label(label)
    if not n:
        return None
    for gk, g in _T3_GROUP_KEYS.items():
        if n == gk or (n.startswith(gk) and len(n) <= len(gk) + 2):
            return "group", g
    if n in _T3_EXACT:
        return "row", _T3_EXACT[n]
    for k, rid in _T3_PREFIX:
        if n.startswith(k):
            return "row", rid
    return None


def _t2_row_index() -> dict[str, str]:
    out: dict[str, str] = {}
    for fmt in Fmt:
        for r in tables(fmt)["2"].rows:
            for k in r.keys:
                out.setdefault(norm_label(k), r.id)
    return out


_T2_ROWS = _t2_row_index()
# column label -> (format it belongs to or None for both, column id)
_T2_COLS: dict[str, tuple[Fmt | None, str]] = {}
for _fmt in Fmt:
    for _c in tables(_fmt)["2"].columns:
        for _lab in (_c.label, *_c.aliases):
            _key = norm_label(_lab)
            if _key in _T2_COLS and _T2_COLS[_key][1] == _c.id:
                _T2_COLS[_key] = (None, _c.id)
            else:
                _T2_COLS.setdefault(_key, (_fmt, _c.id))
# 本年处理决定数量 / 处理决定数量 are used by both formats for the decisions column
_T2_COLS[norm_label("本年处理决定数量")] = (None, "decisions")
_T2_COLS[norm_label("处理决定数量")] = (None, "decisions")
_BLOCK = re.compile(r"第二十条第\(?([一二三四五六七八九十]+)\)?项")


def _match_t2_col(label: str) -> tuple[Fmt | None, str] | None:
    n = norm_label(label)
    if n in _T2_COLS:
        return _T2_COLS[n]
    for k, v in _T2_COLS.items():
        if len(k) >= 4 and n.startswith(k):
            return v
    return None


# ------------------------------------------------------------------ the parser


@dataclass(slots=True)
class _RowRead:
    values: list[tuple[int | None, str]]  # (position in line, raw)
    line: int
    where: str | None
    printed: str


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

    # ---- table 二
    def table2(self, window: Sequence[Line]) -> dict[str, tuple[dict[str, tuple[int | None, str]], int, str | None]]:
        """row id -> ({col id: (pos, raw)}, line, where)."""
        rows: dict[str, tuple[dict[str, tuple[int | None, str]], int, str | None]] = {}
        header: list[str] | None = None
        for ln in window:
            if len(ln.cells) < 2 and not _BLOCK.search(squash(ln.text)):
                continue
            first_idx = next((i for i, c in enumerate(ln.cells) if c.strip()), None)
            if first_idx is None:
                continue
            first = ln.cells[first_idx]
            sq = squash(first)
            if _BLOCK.search(sq):
                header = None
                continue
            if "信息内容" in sq:
                header = []
                for c in ln.cells[first_idx + 1 :]:
                    if not c.strip():
                        continue
                    m = _match_t2_col(c)
                    header.append(m[1] if m else "?")
                    if m and m[0] is Fmt.F2019:
                        self.rep.fmt_evidence_2019.append(f"表二列“{c.strip()}”")
                    elif m and m[0] is Fmt.F2021:
                        self.evidence_2021.append(c)
                continue
            rid = _T2_ROWS.get(norm_label(first))
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
            got: dict[str, tuple[int | None, str]] = {}
            for j, cid in enumerate(cols):
                if cid == "?":
                    continue
                got[cid] = vals[j] if j < len(vals) else (None, "")
            if not cols:
                got["_positional"] = (None, "\t".join(v for _p, v in vals))
            if rid not in rows:
                rows[rid] = (got, ln.no, ln.where)
        return rows

    # ---- table 三
    def table3(self, window: Sequence[Line]) -> tuple[dict[str, _RowRead], list[str], int | None]:
        rows: dict[str, _RowRead] = {}
        header_text: list[str] = []
        first_row_line: int | None = None
        prefer = _sum_rule(len(T3_PARTS))
        for ln in window:
            if not ln.table and len(ln.cells) < 2:
                continue
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
            after = [(i + 1, c) for i, c in enumerate(ln.cells) if i > last_label]
            has_values = any(c.strip() for _p, c in after)
            if row_id is None or not has_values or last_label < 0:
                if first_row_line is None:
                    header_text.extend(c for c in ln.cells if c.strip())
                continue
            if first_row_line is None:
                first_row_line = ln.no
            if row_id == "3.6":
                self.rep.fmt_evidence_2019.append("表三“（六）其他处理”为单独一行")
            elif row_id.startswith("3.6."):
                self.evidence_2021.append(row_id)
            fitted = fit_values(after, len(T3_PARTS) + 1, prefer)
            if row_id in rows:
                self.rep.row_issues.append(RowIssue("I08", f"3:{row_id}:*", ln.text, ln.no))
                continue
            if fitted is None:
                self.rep.row_issues.append(RowIssue("I07", f"3:{row_id}:*", ln.text, ln.no))
                rows[row_id] = _RowRead([], ln.no, ln.where, printed)
                continue
            rows[row_id] = _RowRead(fitted, ln.no, ln.where, printed)
        return rows, header_text, first_row_line

    # ---- table 四
    def table4(self, window: Sequence[Line]) -> tuple[dict[str, _RowRead], str]:
        rows: dict[str, _RowRead] = {}
        header = ""
        buf: list[tuple[int, str]] = []
        buf_line: int | None = None
        buf_where: str | None = None
        row_keys = {norm_label(k): r.id for r in T4_ROWS for k in r.keys}
        n = len(T4_COLUMNS)
        for ln in window:
            if not ln.table and len(ln.cells) < 2:
                continue
            nonempty = [(i, c) for i, c in enumerate(ln.cells) if c.strip()]
            if not nonempty:
                continue
            labelled = [i for i, c in nonempty if norm_label(c) in row_keys]
            numeric = [i for i, c in nonempty if parse_number(c)[1] is not State.NON_NUMERIC]
            if labelled and numeric and max(labelled) < max(numeric):
                # table 四 printed as three labelled rows of five
                li = max(labelled)
                rid = row_keys[norm_label(ln.cells[li])]
                after = [(i + 1, c) for i, c in enumerate(ln.cells) if i > li]
                fitted = fit_values(after, n, _sum_rule(len(T4_PARTS)))
                if fitted is None:
                    self.rep.row_issues.append(RowIssue("I07", f"4:{rid}:*", ln.text, ln.no))
                    fitted = []
                rows.setdefault(rid, _RowRead(fitted, ln.no, ln.where, ln.cells[li].strip()))
                header += ln.cells[li]
                continue
            if len(numeric) == len(nonempty):
                if buf_line is None:
                    buf_line, buf_where = ln.no, ln.where
                buf.extend((i + 1, c) for i, c in enumerate(ln.cells))
                continue
            header += "".join(c for _i, c in nonempty)
        if buf and not rows:
            fitted = fit_values(buf, 3 * n)
            line = buf_line or 0
            if fitted is None:
                self.rep.row_issues.append(RowIssue("I07", "4:*:*", "\t".join(c for _p, c in buf), line))
            else:
                for k, r in enumerate(T4_ROWS):
                    rows[r.id] = _RowRead(fitted[k * n : (k + 1) * n], line, buf_where, r.label)
        return rows, squash(header)


def parse_lines(lines: Sequence[Line], report: ParsedReport) -> ParsedReport:
    """Fill ``report`` (file, hash already set) from the lines of a source."""
    rep = report
    rd = _Reader(lines, rep)
    rep.agency, rep.year, rep.title, rep.title_line = _title(lines)

    # statistical period
    for ln in lines[:80]:
        m = _PERIOD.search(squash(ln.text))
        if m:
            y1, m1, d1, y2, m2, d2 = (int(g) for g in m.groups())
            rep.period_start_year, rep.period_end_year = y1, y2
            rep.period_full_year = (m1, d1, m2, d2) == (1, 1, 12, 31) and y1 == y2
            rep.period_text = f"{y1}年{m1}月{d1}日至{y2}年{m2}月{d2}日"
            rep.period_line = ln.no
            break

    sections = _find_sections(lines)
    t2 = rd.table2(rd._window(sections, "二"))
    t3, t3_header, _ = rd.table3(rd._window(sections, "三"))
    t4, t4_header = rd.table4(rd._window(sections, "四"))

    if rep.title is None and len(sections) < 2 and not t3 and not t2 and not t4:
        raise NotAReport("文件中没有找到年度报告的标题、章节或统计表，不是政府信息公开工作年度报告")
    if rep.agency is None and rep.year is None and len(sections) < 2 and not (t3 or t4):
        raise NotAReport("文件中没有找到年度报告的标题、章节或统计表，不是政府信息公开工作年度报告")

    fmt = Fmt.F2019 if len(rep.fmt_evidence_2019) > len(rd.evidence_2021) else Fmt.F2021
    rep.fmt = fmt
    spec = tables(fmt)

    # sections: presence, order, aliases
    prev_num: str | None = None
    prev_idx = -1
    for s in SECTIONS:
        if s.number not in sections:
            rep.layout.append(LayoutFact(f"sec:{s.number}", "section", False, s.heading))
            continue
        idx, line_no, printed = sections[s.number]
        heading = _HEADING.match(squash(printed))
        rest = heading.group(2) if heading else printed
        alias = None if norm_label(rest) == norm_label(s.heading) else rest
        in_order = idx > prev_idx
        rep.layout.append(
            LayoutFact(
                f"sec:{s.number}",
                "section",
                True,
                s.heading,
                printed=alias,
                line=line_no,
                in_order=in_order,
                previous=prev_num if not in_order else None,
            )
        )
        if in_order:
            prev_idx, prev_num = idx, s.number
        rep.sections[s.number] = []
    # section texts (prose) for the text rules
    ordered = sorted(sections.items(), key=lambda kv: kv[1][0])
    for k, (num, (idx, _l, _h)) in enumerate(ordered):
        end = ordered[k + 1][1][0] if k + 1 < len(ordered) else len(lines)
        rep.sections[num] = [(ln.no, ln.text) for ln in lines[idx + 1 : end] if not ln.table and ln.text.strip()]
    if ordered:
        rep.sections["引言"] = [(ln.no, ln.text) for ln in lines[: ordered[0][1][0]] if ln.text.strip()]

    _fill_t2(rep, spec["2"], t2)
    _fill_t3(rep, spec["3"], t3, t3_header)
    _fill_t4(rep, spec["4"], t4, t4_header)
    return rep


def _cell(
    rep: ParsedReport, fmt: Fmt, cid: str, pos_raw: tuple[int | None, str] | None, line: int, where: str | None
) -> None:
    if pos_raw is None:
        rep.cells[cid] = Cell(None, "", State.MISSING, line, None, where)
        return
    pos, raw = pos_raw
    value, state = parse_number(raw, cell_kind(fmt, cid))
    rep.cells[cid] = Cell(value, raw.strip(), state, line, pos, where)


def _missing_table(rep: ParsedReport, table: Table) -> None:
    rep.layout.append(LayoutFact(f"{table.id}:*:*", "table", False, table.title))
    for cid in table.cells():
        rep.cells[cid] = Cell(None, "", State.MISSING)


def _fill_t2(
    rep: ParsedReport,
    table: Table,
    rows: dict[str, tuple[dict[str, tuple[int | None, str]], int, str | None]],
) -> None:
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
                rep.cells[f"2:{r.id}:{c}"] = Cell(None, "", State.MISSING)
            continue
        got, line, where = rows[r.id]
        rep.layout.append(LayoutFact(f"2:{r.id}:*", "row", True, r.label, line=line))
        if "_positional" in got:  # no header row: read the values in the statutory order
            raws = got["_positional"][1].split("\t")
            got = {c: (None, raws[j] if j < len(raws) else "") for j, c in enumerate(cols)}
        for c in cols:
            if c not in got:
                rep.layout.append(LayoutFact(f"2:{r.id}:{c}", "column", False, table.column(c).label, line=line))
                rep.cells[f"2:{r.id}:{c}"] = Cell(None, "", State.MISSING, line)
                continue
            _cell(rep, rep.fmt, f"2:{r.id}:{c}", got[c], line, where)


def _header_has(header: str, labels: Sequence[str]) -> str | None:
    """The first of ``labels`` found in a squashed header text, or None."""
    for lab in labels:
        if norm_label(lab) in header:
            return lab
    return None


def _fill_t3(rep: ParsedReport, table: Table, rows: dict[str, _RowRead], header_cells: list[str]) -> None:
    assert rep.fmt is not None
    if not rows:
        _missing_table(rep, table)
        return
    rep.layout.append(LayoutFact("3:*:*", "table", True, table.title))
    header = "".join(norm_label(c) for c in header_cells)
    for col in table.columns:
        got = _header_has(header, (col.label, *col.aliases))
        if got is None:
            rep.layout.append(LayoutFact(f"3:*:{col.id}", "column", False, col.label))
        elif got != col.label:
            rep.layout.append(LayoutFact(f"3:*:{col.id}", "column", True, col.label, printed=got))
    cols = [c.id for c in table.columns]
    for r in table.rows:
        rr = rows.get(r.id)
        if rr is None:
            rep.layout.append(LayoutFact(f"3:{r.id}:*", "row", False, r.label))
            for c in cols:
                rep.cells[f"3:{r.id}:{c}"] = Cell(None, "", State.MISSING)
            continue
        rep.layout.append(LayoutFact(f"3:{r.id}:*", "row", True, r.label, line=rr.line))
        if not rr.values:  # not machine-readable (I07 recorded)
            for c in cols:
                rep.cells[f"3:{r.id}:{c}"] = Cell(None, "", State.MISSING, rr.line, None, rr.where)
            continue
        for c, pr in zip(cols, rr.values, strict=True):
            _cell(rep, rep.fmt, f"3:{r.id}:{c}", pr, rr.line, rr.where)
    # rows of the other format's table 三 (e.g. 3.6.x in a 2019 report) are extra rows: note them
    known = {r.id for r in table.rows}
    for rid, rr in rows.items():
        if rid not in known:
            rep.row_issues.append(RowIssue("I08", f"3:{rid}:*", rr.printed, rr.line))


def _fill_t4(rep: ParsedReport, table: Table, rows: dict[str, _RowRead], header: str) -> None:
    assert rep.fmt is not None
    if not rows:
        _missing_table(rep, table)
        return
    rep.layout.append(LayoutFact("4:*:*", "table", True, table.title))
    for r in table.rows:
        if norm_label(r.keys[0]) not in header:
            rep.layout.append(LayoutFact(f"4:{r.id}:*", "row", False, r.label))
    for col in table.columns:
        if norm_label(col.label) not in header:
            rep.layout.append(LayoutFact(f"4:*:{col.id}", "column", False, col.label))
    cols = [c.id for c in table.columns]
    for r in table.rows:
        rr = rows.get(r.id)
        if rr is None or not rr.values:
            for c in cols:
                rep.cells[f"4:{r.id}:{c}"] = Cell(None, "", State.MISSING)
            continue
        for c, pr in zip(cols, rr.values, strict=True):
            _cell(rep, rep.fmt, f"4:{r.id}:{c}", pr, rr.line, rr.where)


__all__ = ["Kind", "Line", "NotAReport", "fit_values", "nfkc", "parse_lines"]
