"""``findings.xlsx``: the run as an Excel/WPS workbook.

Sheets: 汇总 (the run, what each sheet holds, counts by rule, missing agencies), 各县（区） (one
row per county: submitted, expected, passing, with errors …), 报告清单 (the files with their
status), 问题清单 (the findings: filterable, frozen header, Chinese column names) and 数值 (one
row per report, one column per canonical cell, flagged cells filled by severity — an auditor
filters or sorts any cell across the reports).

A large batch (:data:`nianbao.report.quality.LARGE_BATCH`) keeps the workbook to what an auditor
works through, and says so on 汇总: 报告清单 lists the reports with errors or warnings and the
unreadable files, 问题清单 every error and warning (the notes — 提示 — are counted by rule on 汇总;
each one is in ``findings.json``, the summarised ones, e.g. I06, in run.json ``summaries``), and 数值 the
:data:`VALUES_MAX_REPORTS` worst reports.  Everything else is in the JSON files and the HTML
pages.  Written in xlsxwriter's ``constant_memory`` mode (row by row, memory independent of the
size), into a temporary file renamed over ``findings.xlsx``.

Every string is written with ``write_string`` — never ``write`` — so a submission text such as
``=HYPERLINK(...)`` stays text; strings starting with ``= + - @`` (or tab/CR) also get Excel's
quote prefix, so editing the cell does not turn it into a formula either.  Control characters are
removed and strings cut to Excel's 32,767-character limit.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Callable
from datetime import datetime
from itertools import islice
from math import copysign
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.relationships import PACKAGE_SCHEMA, Relationships
from xlsxwriter.url import Url, UrlTypes
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import CellNumberTuple, CellStringTuple, Worksheet

from nianbao.catalogue import catalogue, format_number
from nianbao.domain.model import INDEX, STATES, CellMap
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt, all_cells, cell_label, cell_words, table_name
from nianbao.io.atomic import FILE_MODE, inside
from nianbao.outcome import STATE_ZH, RunOutcome, report_state
from nianbao.report.history import ACKED, CORRECTED, NEW, STILL, SUBMITTED, UNCHANGED
from nianbao.report.names import clean_text
from nianbao.report.quality import (
    BLANK_ZH,
    SEV_RANK,
    SEVERITY_ZH,
    Quality,
    cause_zh,
    county_summary,
    flags_of,
    is_flagged,
    prepare,
    printed_blank,
    text_and_table,
)
from nianbao.report.reuse import Reuse, splice_zip

XLSX_MAX_STR = 32767
XLSX_MAX_ROWS = 1_048_576
VALUES_MAX_REPORTS = 1000  # rows of 数值 in a large batch (worst first): ~420 cells each
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FILLS = {"error": "#F8CBAD", "warning": "#FFE699", "info": "#DDEBF7", "missing": "#D9D9D9"}
STATUS_ZH = {NEW: "新发现", STILL: "仍存在", ACKED: "已复核"}
CHANGE_ZH = {SUBMITTED: "新报送", CORRECTED: "已更正", UNCHANGED: "未变化", None: ""}

FINDING_COLUMNS = (
    ("序号", 6),
    ("机关", 22),
    ("年度", 6),
    ("文件", 40),
    ("规则", 6),
    ("级别", 6),
    ("规则名称", 28),
    ("状态", 8),
    ("单元格", 48),
    ("单元格数", 8),
    ("源文件行", 8),
    ("应为", 12),
    ("报告填写", 12),
    ("问题说明", 60),
    ("改正建议", 50),
    ("疑似错误单元格", 36),
    ("复核人", 10),
    ("复核说明", 24),
    ("县（区）", 14),
)
REPORT_COLUMNS = (
    ("序号", 6),
    ("机关", 22),
    ("年度", 6),
    ("文件", 44),
    ("状态", 10),
    ("无法读取的原因", 36),
    ("格式", 6),
    ("错误", 6),
    ("警告", 6),
    ("提示", 6),
    ("新发现", 7),
    ("变化", 8),
)


URL_MAX = 65_530  # Excel's limit of hyperlinks per worksheet: later rows keep the name as plain text
LINK_TIP = "打开该报告的页面"
DATETIME_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'


def _print_setup(ws: Worksheet, header_row: int = 0) -> None:
    """Printed on A4 landscape, all columns on the page width, the header row on every page."""
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.center_horizontally()


def excel_time(iso: str | None) -> datetime | None:
    """An ISO time of the run as Excel's naive local datetime (Excel has no time zones)."""
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).replace(tzinfo=None)
    except ValueError:
        return None


class _Writer:
    """Typed cell writes: strings always as text (formula-safe), numbers as numbers."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self._formats: dict[tuple[str | None, bool, bool], Format] = {}
        self._links: dict[str, int] = {}
        self._urls: dict[tuple[str, str, str], Url] = {}
        self.link_fmt = wb.add_format({"font_color": "#1F5FBF", "underline": 1})
        self.link_quote_fmt = wb.add_format({"font_color": "#1F5FBF", "underline": 1, "quote_prefix": True})
        self.date_fmt = wb.add_format({"num_format": DATETIME_FORMAT, "align": "left"})
        self.title_fmt = wb.add_format({"bold": True, "font_size": 14})
        # every format numbered now, in a fixed order: the styles of a workbook do not depend on
        # which sheets it has, so a sheet of one workbook is valid in another (reuse_workbook)
        for f in (self.link_fmt, self.link_quote_fmt, self.date_fmt, self.title_fmt):
            f._get_xf_index()
        for fill in (None, *FILLS):
            for quote in (False, True):
                for bold in (False, True):
                    if (f := self.fmt(fill, quote, bold)) is not None:
                        f._get_xf_index()

    def fmt(self, fill: str | None = None, quote: bool = False, bold: bool = False) -> Format | None:
        if fill is None and not quote and not bold:
            return None
        key = (fill, quote, bold)
        f = self._formats.get(key)
        if f is None:
            props: dict[str, Any] = {}
            if fill:
                props["bg_color"] = FILLS.get(fill, fill)
                props["pattern"] = 1
            if quote:
                props["quote_prefix"] = True
            if bold:
                props["bold"] = True
            f = self._formats[key] = self.wb.add_format(props)
        return f

    def put(self, ws: Worksheet, r: int, c: int, v: Any, fill: str | None = None, bold: bool = False) -> None:
        if v is None:
            f = self.fmt(fill, bold=bold)
            if f is not None:
                ws.write_blank(r, c, None, f)
            return
        if isinstance(v, bool):
            v = "是" if v else "否"
        if isinstance(v, int | float) and math.isfinite(v) and abs(v) < 1e15:
            ws.write_number(r, c, v, self.fmt(fill, bold=bold))
            return
        s = clean_text(str(v))[:XLSX_MAX_STR]
        ws.write_string(r, c, s, self.fmt(fill, quote=s.startswith(FORMULA_START), bold=bold))

    def link(self, ws: Worksheet, r: int, c: int, href: str | None, text: Any) -> None:
        """``text`` linking to ``href`` (a page of the run, relative to the workbook); plain text
        without one, or past Excel's limit of links per sheet."""
        count = self._links.get(ws.name, 0)
        if not href or text is None or count >= URL_MAX:
            self.put(ws, r, c, text)
            return
        self._links[ws.name] = count + 1
        s = clean_text(str(text))[:XLSX_MAX_STR] or href
        f = self.link_quote_fmt if s.startswith(FORMULA_START) else self.link_fmt
        # the findings of a report link to the same page with the same text: xlsxwriter's link
        # object (the parsed and checked URL, its text and tip; only read when the sheet is
        # closed) is made once per sheet, page and text and given to the later cells as it is
        key = (ws.name, href, s)
        url = self._urls.get(key)
        if url is not None:
            ws._write_url(r, c, url, f)
            return
        ws.write_url(r, c, f"external:{href}", f, string=s, tip=LINK_TIP)
        made = ws.hyperlinks.get(r, {}).get(c)
        if made is not None:
            self._urls[key] = made

    def when(self, ws: Worksheet, r: int, c: int, iso: str | None, bold: bool = False) -> None:
        """A time of the run as a real Excel date and time (Chinese date format)."""
        dt = excel_time(iso)
        if dt is None:
            self.put(ws, r, c, iso, bold=bold)
            return
        ws.write_datetime(r, c, dt, self.date_fmt)

    def row(self, ws: Worksheet, r: int, values: tuple[Any, ...]) -> None:
        """A row of plain cells from column 0 (``None``: left empty) — the fast path of :meth:`put`.

        Once a cell of row ``r`` went through xlsxwriter (the row checked and made the current
        one), the others are put straight into that row as xlsxwriter's ``write_string`` and
        ``write_number`` would store them (its per-cell checks and decorator skipped: the columns
        were checked by the sheet's header row; a string that may need xlsxwriter's truncation
        still goes through it) — see :func:`_fast_rows`."""
        quote = self.fmt(quote=True)
        cells = _current_row(ws, r)
        for c, v in enumerate(values):
            t = type(v)
            if t is str:
                s = clean_text(v)[:XLSX_MAX_STR]
                f = quote if s.startswith(FORMULA_START) else None
                if cells is not None and c <= ws.dim_colmax and len(s) <= _SHORT_STR:
                    cells[c] = CellStringTuple(s, f)
                else:
                    ws.write_string(r, c, s, f)
                    cells = _current_row(ws, r)
            elif (t is int or t is float) and math.isfinite(v) and abs(v) < 1e15:
                if cells is not None and c <= ws.dim_colmax:
                    cells[c] = CellNumberTuple(v, None)
                else:
                    ws.write_number(r, c, v)
                    cells = _current_row(ws, r)
            elif v is not None:
                self.put(ws, r, c, v)
                cells = _current_row(ws, r)


_SHORT_STR = 32767 // 2  # a string of at most this many characters is within Excel's 32,767 UTF-16 units


def _current_row(ws: Worksheet, r: int) -> dict[int, Any] | None:
    """xlsxwriter's cells of row ``r`` when it is the row being written (constant_memory), else None."""
    if FAST_ROWS and ws.constant_memory and ws.previous_row == r and r in ws.table and ws.dim_colmax is not None:
        cells: dict[int, Any] = ws.table[r]
        return cells
    return None


def _value_columns() -> list[str]:
    cols = list(all_cells(Fmt.F2021))
    known = set(cols)
    cols += [c for c in all_cells(Fmt.F2019) if c not in known]
    return cols


def _column_label(cid: str) -> str:
    t = table_name(cid.split(":")[0])[:2]
    for fmt in Fmt:
        try:
            return f"{t} {cell_label(fmt, cid)}"
        except KeyError:
            continue
    return cid


COUNTY_COLUMNS = (
    ("县（区）", 18),
    ("报送", 7),
    ("应报送", 7),
    ("未报送", 7),
    ("通过", 7),
    ("有错误", 7),
    ("仅有警告", 8),
    ("无法读取", 8),
    ("错误（条）", 9),
    ("警告（条）", 9),
    ("提示（条）", 9),
    ("新发现", 7),
)
MISSING_NAMES = 200  # agencies named per year on 汇总 (each county page has its full list)


def _common_note(o: Any) -> str:
    """What 问题清单 of a small run does not list: the summarised infos (once per run, by rule)."""
    n: dict[str, int] = {}
    for sm in o.summaries:
        n[sm.rule] = n.get(sm.rule, 0) + len(sm.reports)
    if not n:
        return ""
    rules = "、".join(f"{code} {k} 条" for code, k in sorted(n.items()))
    return f"另有多份报告共有的提示（{rules}）未逐条列出，见各报告页面和下表的按规则统计"


def _listed_findings(q: Quality) -> list[int]:
    """The findings 问题清单 lists: all of them, or in a large batch the errors and warnings."""
    fs = q.outcome.findings
    if not q.large:
        return list(range(len(fs)))
    return [k for k, f in enumerate(fs) if f.severity != "info"][: XLSX_MAX_ROWS - 1]


def _listed_files(q: Quality) -> list[int]:
    """The files 报告清单 lists: all, or in a large batch the unreadable ones and those with errors or warnings."""
    files = q.outcome.files
    if not q.large:
        return list(range(len(files)))
    return [i for i, f in enumerate(files) if is_flagged(f)]


def _valued_files(q: Quality) -> list[int]:
    """The reports 数值 shows: every readable one, or in a large batch the worst readable ones."""
    files = q.outcome.files
    if not q.large:
        return [i for i in range(len(files)) if _readable(q, i)]
    # (worst first: the flagged reports lead the order, so the walk stops long before its end)
    return list(islice((i for i in q.order if _readable(q, i) and is_flagged(files[i])), VALUES_MAX_REPORTS))


def _readable(q: Quality, i: int) -> bool:
    f = q.outcome.files[i]
    return f.status == "validated" and 0 <= f.report < len(q.outcome.reports)


def _summary_sheet(w: _Writer, q: Quality, listed: tuple[int, int, int]) -> None:
    o, rv = q.outcome, q.review
    ws = w.wb.add_worksheet("汇总")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 4, 12)
    ws.write_string(0, 0, "政府信息公开工作年度报告 数据质量报告", w.title_fmt)
    states = q.state_counts()  # (one walk of the files for the three counts, shared with the overview)
    ok, with_err, with_warn = states["ok"], states["error"], states["warning"]
    n_infos = o.n_infos  # (the summarised infos counted on every report they apply to)
    counts = rv.counts()
    facts: list[tuple[str, Any]] = [
        ("运行时间", None),
        ("输入", "；".join(o.inputs)),
        ("报送文件", o.n_files),
        ("通过（无错误和警告）", ok),
        ("有错误的报告", with_err),
        ("仅有警告的报告", with_warn),
        ("无法读取的文件", o.n_unreadable),
        ("错误（条）", o.n_errors),
        ("警告（条）", o.n_warnings),
        ("提示（条）", n_infos),
        ("上一次运行", str(rv.previous) if rv.previous else "（无，全部列为新发现）"),
        *((("上一次运行的时间", None),) if rv.previous_started_at else ()),
        ("新发现的问题", counts["new"]),
        ("已解决的问题", counts["resolved"]),
        ("新报送的报告", counts["submitted"]),
        ("已更正的报告", counts["corrected"]),
        ("已复核的问题", counts["acked"]),
    ]
    times = {"运行时间": o.started_at, "上一次运行的时间": rv.previous_started_at}
    r = 2
    for k, v in facts:
        w.put(ws, r, 0, k, bold=True)
        if k in times:
            w.when(ws, r, 1, times[k])
        else:
            w.put(ws, r, 1, v)
        r += 1
    for p in rv.problems:
        w.put(ws, r, 0, "注意", bold=True)
        w.put(ws, r, 1, p)
        r += 1
    n_files, n_findings, n_valued = listed
    r += 1
    w.put(ws, r, 0, "本工作簿的内容", bold=True)
    r += 1
    if q.large:
        w.put(ws, r, 0, "说明", bold=True)
        w.put(
            ws,
            r,
            1,
            f"本次报告较多（{o.n_files} 份），本工作簿只列出需要处理的内容；"
            "全部报告和全部问题见 submissions.json、findings.json 和 HTML 报告（index.html 及各县（区）页面）。",
        )
        r += 1
    sheets = (
        ("各县（区）", f"每个县（区）一行，共 {len(q.groups)} 行"),
        (
            "报告清单",
            f"全部 {n_files} 个文件"
            if not q.large
            else f"有错误或警告的报告和无法读取的文件，共 {n_files} 个（通过的报告见各县（区）页面）",
        ),
        (
            "问题清单",
            f"全部 {n_findings} 条问题" + (f"；{common}" if (common := _common_note(o)) else "")
            if not q.large
            else f"全部错误和警告，共 {n_findings} 条；提示 {n_infos} 条未逐条列出"
            "（按规则的条数见下表，逐条见 findings.json"
            + ("，多份报告共有的提示见 run.json 的 summaries" if o.summaries else "")
            + "）",
        ),
        (
            "数值",
            f"全部 {n_valued} 份可读取报告的各单元格数值"
            if not q.large
            else f"问题最多的 {n_valued} 份报告（最多 {VALUES_MAX_REPORTS} 份）的各单元格数值；"
            "其余报告的数值见其报告页面",
        ),
    )
    for name, what in sheets:
        w.put(ws, r, 0, name)
        w.put(ws, r, 1, what)
        r += 1
    r += 1
    w.put(ws, r, 0, "按规则统计", bold=True)
    r += 1
    for c, h in enumerate(("规则", "名称", "级别", "问题数", "涉及报告")):
        w.put(ws, r, c, h, bold=True)
    r += 1
    n: dict[str, int] = {}
    reps: dict[str, set[int]] = {}
    for f in o.findings:
        n[f.rule] = n.get(f.rule, 0) + 1
        reps.setdefault(f.rule, set()).add(f.report)
    for sm in o.summaries:  # a summarised info (E02, I06 …): once per report it applies to
        n[sm.rule] = n.get(sm.rule, 0) + len(sm.reports)
        reps.setdefault(sm.rule, set()).update(sm.reports)
    cat = catalogue()
    for code in sorted(n, key=lambda c: (SEV_RANK.get(cat[c].severity.value if c in cat else "", 3), -n[c], c)):
        rule = cat.get(code)
        w.put(ws, r, 0, code)
        w.put(ws, r, 1, rule.title if rule else code)
        w.put(ws, r, 2, SEVERITY_ZH.get(rule.severity.value, "") if rule else "")
        w.put(ws, r, 3, n[code])
        w.put(ws, r, 4, len(reps[code]))
        r += 1
    if o.registry is not None:
        r += 1
        w.put(ws, r, 0, "未报送的机关", bold=True)
        r += 1
        for y in q.registry or []:
            names = [a.agency for a in y["missing"]]
            shown = "、".join(names[:MISSING_NAMES]) or "无"
            if len(names) > MISSING_NAMES:
                shown += f" 等 {len(names)} 个（完整名单见“各县（区）”表和各县（区）页面）"
            w.put(ws, r, 0, f"{y['year']} 年" if y["year"] else "全部")
            w.put(ws, r, 1, f"应报送 {len(o.registry)}，已报送 {y['submitted']}；未报送：" + shown)
            r += 1
    r += 1
    w.put(ws, r, 0, "颜色说明", bold=True)
    legend = (
        ("错误涉及的单元格", "error"),
        ("警告涉及的单元格", "warning"),
        ("提示", "info"),
        ("报告中缺少", "missing"),
    )
    for dk, (label, fill) in enumerate(legend):
        w.put(ws, r + dk, 1, label, fill=fill)
    _print_setup(ws)


def _header(w: _Writer, ws: Worksheet, row: int, columns: tuple[tuple[str, int], ...]) -> None:
    for c, (h, width) in enumerate(columns):
        ws.set_column(c, c, width)
        w.put(ws, row, c, h, bold=True)


def _list_sheet(w: _Writer, name: str, columns: tuple[tuple[str, int], ...]) -> Worksheet:
    """A sheet of one row per item under a header row of ``columns`` (title, width)."""
    ws = w.wb.add_worksheet(name)
    if FAST_ROWS:
        _fast_rows(ws, len(columns))
        _fast_hyperlinks(ws)
    _header(w, ws, 0, columns)
    return ws


def _filtered(ws: Worksheet, last_row: int, n_cols: int, frozen_cols: int) -> None:
    """The header row and the first ``frozen_cols`` columns frozen, an autofilter over the rows
    to ``last_row`` (at least one) of ``n_cols`` columns."""
    ws.freeze_panes(1, frozen_cols)
    ws.autofilter(0, 0, max(last_row, 1), n_cols - 1)


def _counties_sheet(w: _Writer, q: Quality) -> None:
    ws = _list_sheet(w, "各县（区）", COUNTY_COLUMNS)
    r = 0
    for r, c in enumerate(county_summary(q), 1):
        vals = (
            c["name"],
            c["files"],
            c["expected"],
            c["missing"],
            c["ok"],
            c["error"],
            c["warning"],
            c["unreadable"],
            c["errors"],
            c["warnings"],
            c["infos"],
            c["new"],
        )
        w.row(ws, r, vals)
    _filtered(ws, r, len(COUNTY_COLUMNS), 1)
    _print_setup(ws)


def _reports_sheet(w: _Writer, q: Quality, listed: list[int]) -> None:
    o, rv = q.outcome, q.review
    ws = _list_sheet(w, "报告清单", REPORT_COLUMNS)
    rows = _ListRows(w, ws, len(REPORT_COLUMNS))
    r = 0
    for r, i in enumerate(listed, 1):
        f = o.files[i]
        state = STATE_ZH[report_state(f)]
        fill = "error" if f.status != "validated" or f.errors else "warning" if f.warnings else None
        vals: tuple[Any, ...] = (
            i + 1,
            f.agency,
            f.year,
            f.file,
            None,
            f.reason,
            f.format,
            f.errors,
            f.warnings,
            f.infos,
            q.new[i],
            CHANGE_ZH[rv.report_change[i]],
        )
        href = _page_href(q, i)
        # the state as put writes it: cleaned, with its fill (and quote prefix, were it needed)
        shown = clean_text(state)[:XLSX_MAX_STR]
        if rows.write(r, vals, link=(1, href), styled=(4, shown, w.fmt(fill, quote=shown.startswith(FORMULA_START)))):
            continue
        w.row(ws, r, vals[:1])
        w.link(ws, r, 1, href, f.agency)
        w.row(ws, r, (None, None, *vals[2:]))
        w.put(ws, r, 4, state, fill=fill)
    _filtered(ws, r, len(REPORT_COLUMNS), 0)
    _print_setup(ws)


def _findings_sheet(w: _Writer, q: Quality, listed: list[int]) -> None:
    o, rv = q.outcome, q.review
    ws = _list_sheet(w, "问题清单", FINDING_COLUMNS)
    rows = _ListRows(w, ws, len(FINDING_COLUMNS))
    cat = catalogue()
    sev_fmt = {s: w.fmt(s) for s in SEVERITY_ZH}
    r = 0
    for r, k in enumerate(_by_severity(q, listed), 1):
        f = o.findings[k]
        fi = q.file_index.get(f.report)
        rep = o.reports[f.report] if 0 <= f.report < len(o.reports) else None
        fmt = (rep.fmt if rep is not None else None) or Fmt.F2021
        # the cells in the auditor's words (表三“…”行“…”列), never their ids
        labels = [cell_words(cid, fmt) for cid in f.cells[:20]]
        suspects = "；".join(
            f"{cell_words(s.cell, fmt)}：填写 {_shown(s.reported)}，建议 {_num(s.suggested)}（{cause_zh(s.cause)}）"
            for s in (f.suspects or [])
        )
        ack = rv.acks.get(k)
        rule = cat.get(f.rule)
        sides = text_and_table(f, rep)  # the text against the table: which side is which
        printed: Any = f.actual
        if sides is not None:
            printed = f"正文写 {_side(sides[0])}，表格填 {_side(sides[1])}"
        elif printed_blank(f, rep):
            printed = BLANK_ZH
        vals: tuple[Any, ...] = (
            k + 1,
            f.agency,
            f.year,
            f.file,
            f.rule,
            None,
            rule.title if rule else "",
            STATUS_ZH[rv.status[k]],
            "；".join(labels) + (f"等共 {len(f.cells)} 格" if len(f.cells) > 20 else ""),
            len(f.cells) or None,
            f.line,
            None if sides else f.expected,
            printed,
            f.message,
            f.fix,
            suspects or None,
            ack.reviewer if ack else None,
            ack.note if ack else None,
            _county_of(q, f, fi),
        )
        href = _page_href(q, fi)
        severity = SEVERITY_ZH.get(f.severity, f.severity)
        if rows.write(r, vals, link=(1, href), styled=(5, severity, sev_fmt.get(f.severity))):
            continue
        w.row(ws, r, vals[:1])
        w.link(ws, r, 1, href, f.agency)
        w.row(ws, r, (None, None, *vals[2:]))
        ws.write_string(r, 5, severity, sev_fmt.get(f.severity))
    _filtered(ws, r, len(FINDING_COLUMNS), 0)
    _print_setup(ws)


def _page_href(q: Quality, i: int | None) -> str | None:
    """The page showing file ``i``, relative to the workbook (its report page, or its county page)."""
    if i is None or not 0 <= i < len(q.paged):
        return None
    return q.href(i).partition("#")[0]


def _county_of(q: Quality, f: Any, i: int | None) -> str | None:
    if i is not None and 0 <= i < len(q.group_of):
        return q.groups[q.group_of[i]].name
    params = getattr(f, "params", None) or {}
    county = params.get("county") if isinstance(params, dict) else None
    return str(county) if county else None


def _by_severity(q: Quality, listed: list[int]) -> list[int]:
    """The findings as an auditor works through them: errors, then warnings, then notes; within
    each, by county, agency, year, file and rule."""
    o = q.outcome

    def key(k: int) -> tuple[Any, ...]:
        f = o.findings[k]
        fi = q.file_index.get(f.report)
        return (
            SEV_RANK.get(f.severity, 3),
            _county_of(q, f, fi) or "",
            f.agency or "",
            f.year if f.year is not None else 0,
            f.file,
            f.rule,
            k,
        )

    return sorted(listed, key=key)


def _num(v: float | None) -> str:
    return format_number(v)


def _side(v: Any) -> str:
    return format_number(float(v)) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)


def _shown(v: float | None) -> str:
    return "空白（未填写）" if v is None else format_number(v)


def _values_sheet(w: _Writer, q: Quality, listed: list[int]) -> None:
    o = q.outcome
    ws = w.wb.add_worksheet("数值")
    cols = _value_columns()
    lead = (("机关", 22), ("年度", 6), ("文件", 30), ("格式", 6))
    n0 = len(lead)
    _header(w, ws, 0, lead)
    ws.set_column(n0, n0 + len(cols) - 1, 11)
    for j, cid in enumerate(cols):
        w.put(ws, 0, n0 + j, _column_label(cid), bold=True)
    positions = [INDEX.get(cid, -1) for cid in cols]
    # (sheet column, cell id, position in the cell arrays) of the columns a report's arrays hold
    at = [(n0 + j, cid, pos) for j, (cid, pos) in enumerate(zip(cols, positions, strict=True)) if pos >= 0]
    missing_fmt = w.fmt("missing")
    number = ws._write_number
    plain = _fast_rows(ws, n0 + len(cols)) if FAST_ROWS else None
    r = 0
    for r, i in enumerate(listed, 1):
        f = o.files[i]
        rep = o.reports[f.report]
        flags = flags_of(q.file_findings(f))
        w.link(ws, r, 0, _page_href(q, i), f.agency)
        w.row(ws, r, (None, f.year, f.file, f.format))
        cells = rep.cells
        if isinstance(cells, CellMap):
            values, states, _lines, _cols, raws = cells.arrays()
            # the row's plain numbers straight into the row being written (see _fast_rows)
            row_cells = ws.table[r] if plain is not None and ws.previous_row == r else None
            for c, cid, pos in at:
                fl = flags.get(cid) if flags else None
                code = states[pos]
                if code >= _N_STATES or code == _MISSING:
                    if code < _N_STATES or fl is not None:  # a cell of this report's format that is missing
                        ws.write_blank(r, c, None, (w.fmt(fl.severity) if fl else None) or missing_fmt)
                    continue
                v = values[pos]
                if v == v and code != _NON_NUMERIC:  # v == v: not NaN
                    if fl is None and -1e15 < v < 1e15:  # the common case: a plain number
                        if row_cells is not None:
                            row_cells[c] = CellNumberTuple(v, None)
                        else:
                            number(r, c, v)
                    else:
                        w.put(ws, r, c, v, fill=fl.severity if fl else None)
                elif raws[pos]:
                    w.put(ws, r, c, raws[pos], fill=fl.severity if fl else None)
                elif fl is not None:
                    ws.write_blank(r, c, None, w.fmt(fl.severity))
            continue
        for j, cid in enumerate(cols):  # a report whose cells were replaced by a plain dict
            cell = cells.get(cid)
            fl = flags.get(cid)
            fill = fl.severity if fl is not None else None
            if cell is None or cell.state is State.MISSING:
                if cell is not None or fl is not None:
                    ws.write_blank(r, n0 + j, None, w.fmt(fill) or missing_fmt)
                continue
            if cell.value is not None and cell.state is not State.NON_NUMERIC:
                w.put(ws, r, n0 + j, cell.value, fill=fill)
            elif cell.raw:
                w.put(ws, r, n0 + j, cell.raw, fill=fill)
            elif fill:
                ws.write_blank(r, n0 + j, None, w.fmt(fill))
    _filtered(ws, r, n0 + len(cols), n0)
    # ~420 columns: printed landscape with the header row and the report's columns on every page
    # (fitting them to one page width would make the figures unreadable)
    ws.set_paper(9)
    ws.set_landscape()
    ws.repeat_rows(0)
    ws.repeat_columns(0, n0 - 1)


_N_STATES = len(STATES)
_MISSING = STATES.index(State.MISSING)
_NON_NUMERIC = STATES.index(State.NON_NUMERIC)


FAST_ROWS = True  # see _fast_rows


def _number_text(n: float, texts: dict[float, str]) -> str:
    """A number's text as xlsxwriter writes it (``%.16G``), kept in ``texts`` for the next cell of
    the same value; zero is told from -0.0 by its sign (equal as keys, written "0" and "-0"), so it
    is never kept (callers look a value up first: ``texts.get(n) or _number_text(n, texts)``)."""
    if not n:
        return "0" if copysign(1.0, n) > 0 else "-0"
    text = texts[n] = f"{n:.16G}"
    return text


def _fast_rows(ws: Worksheet, ncols: int) -> Callable[[int], None]:
    """A faster way to the same bytes for the sheets' rows: the ~200,000 plain numbers of 数值 and
    the strings and numbers of 问题清单 and 报告清单 (10,000 reports).

    xlsxwriter (constant_memory) keeps the current row's cells in ``ws.table[row]`` and writes the
    row when a later row is first written; per cell, ``_write_cell`` builds an attribute list and
    escapes each attribute (and per number ``write_number`` checks the row and column).  Here a
    row is written with the markup xlsxwriter's ``_write_cell`` gives a number
    (``<c r="E2" s="3"><v>…</v></c>``) or a string that needs no escaping
    (``<c r="E2" t="inlineStr"><is><t>…</t></is></c>``); every other cell (formulas, blanks,
    strings with markup characters, control characters, ``_xHHHH_`` or edge whitespace, cells in a
    formatted column), and a row with attributes or comments, is written by xlsxwriter itself.
    数值 also puts its plain numbers straight into the current row's dict (the row and columns
    were checked by the row's first cell and the header).  ``FAST_ROWS = False``: xlsxwriter writes
    everything (tests/report/test_workbook.py compares the two workbooks byte for byte)."""
    names = [xl_col_to_name(c) for c in range(ncols)]
    original = ws._write_single_row
    write_cell = ws._write_cell
    col_info = ws.col_info
    plain = _plain_string
    # a number's text as xlsxwriter writes it (``%.16G``), made once per value of the sheet: 数值's
    # ~200,000 numbers (20,000 reports, nine in ten of them 0) are a few hundred values; zero is
    # told from -0.0 by its sign (equal as keys, written "0" and "-0")
    texts: dict[float, str] = {}

    def single_row(current_row_num: int = 0) -> None:
        row_num = ws.previous_row
        cells = ws.table.get(row_num)
        if not cells or row_num in ws.row_info or row_num in ws.comments:
            original(current_row_num)
            return
        ws.previous_row = current_row_num
        ws._write_row(row_num, None)
        write = ws.fh.write
        ref = str(row_num + 1)
        parts: list[str] = []
        for col in sorted(cells):
            cell = cells[col]
            kind = cell.__class__
            if col < ncols and (kind is CellNumberTuple or (kind is CellStringTuple and plain(cell.string))):
                fmt = cell.format
                if fmt:
                    style = f' s="{fmt._get_xf_index()}"'
                elif col in col_info and col_info[col].column_format is not None:
                    style = None
                else:
                    style = ""
                if style is not None:
                    if kind is CellNumberTuple:
                        text = texts.get(cell.number) or _number_text(cell.number, texts)
                        parts.append(f'<c r="{names[col]}{ref}"{style}><v>{text}</v></c>')
                    else:
                        parts.append(f'<c r="{names[col]}{ref}"{style} t="inlineStr"><is><t>{cell.string}</t></is></c>')
                    continue
            if parts:
                write("".join(parts))
                parts.clear()
            write_cell(row_num, col, cell)
        if parts:
            write("".join(parts))
        ws._xml_end_tag("row")
        ws.table.clear()

    ws._write_single_row = single_row
    return single_row


# a string xlsxwriter would change on its way into the sheet's XML (escapes, _xHHHH_, control
# characters, whitespace kept with xml:space, a rich string): written by xlsxwriter itself
_ODD_STRING = re.compile(r'["&<>\x00-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$|^<r>', re.DOTALL)


def _plain_string(s: str) -> bool:
    """Whether xlsxwriter writes ``s`` as it is (no :data:`_ODD_STRING`).  Most strings are
    settled by str methods (~0.6 µs for a finding's message, against ~1.9 µs for the pattern,
    which tries its anchored alternatives at every position): printable (no control character,
    U+FFFE/U+FFFF or whitespace but the space), none of ``"&<>`` or ``_x``, no space at either
    end.  A string failing any of these goes to the pattern itself."""
    if (
        s.isprintable()
        and '"' not in s
        and "&" not in s
        and "<" not in s
        and ">" not in s
        and "_x" not in s
        and not s[:1].isspace()
        and not s[-1:].isspace()
    ):
        return True
    return _ODD_STRING.search(s) is None


def _fast_hyperlinks(ws: Worksheet) -> None:
    """The sheet's ``<hyperlinks>`` element (written when the workbook is closed) in fewer steps:
    the same markup and relationship list as xlsxwriter's ``_write_hyperlinks`` — each external
    link's ``<hyperlink ref=… r:id=…/>`` with its escaped attributes made once per ``Url`` object
    (the findings of a report share theirs) — instead of an attribute list escaped per link.
    A sheet with a pending row or with internal links is written by xlsxwriter."""
    original = ws._write_hyperlinks
    escape_attr = ws._escape_attributes
    external = (UrlTypes.URL, UrlTypes.EXTERNAL)

    def write_hyperlinks() -> None:
        links = ws.hyperlinks
        if ws.table or any(u._link_type not in external for cols in links.values() for u in cols.values()):
            original()
            return
        if not links:
            return
        tails: dict[int, str] = {}
        names: dict[int, str] = {}
        parts = ["<hyperlinks>"]
        rels = ws.external_hyper_links
        for row in sorted(links):
            ref = str(row + 1)
            cols = links[row]
            for col in sorted(cols):
                url = cols[col]
                tail = tails.get(id(url))
                if tail is None:
                    tail = ""
                    if url._anchor:
                        tail += f' location="{escape_attr(url._anchor)}"'
                    if url._is_object_link:
                        tail += f' display="{escape_attr(url._text)}"'
                    if url._tip:
                        tail += f' tooltip="{escape_attr(url._tip)}"'
                    tails[id(url)] = tail
                name = names.get(col)
                if name is None:
                    name = names[col] = xl_col_to_name(col)
                ws.rel_count += 1
                parts.append(f'<hyperlink ref="{name}{ref}" r:id="rId{ws.rel_count}"{tail}/>')
                rels.append(["/hyperlink", url._target(), "External"])
        parts.append("</hyperlinks>")
        ws.fh.write("".join(parts))

    ws._write_hyperlinks = write_hyperlinks


def _fast_relationships(rels: Relationships) -> None:
    """``Relationships._write_relationships`` (a sheet's .rels: one per link) in fewer steps: the
    same markup, each attribute escaped as xlsxwriter escapes it (see :func:`_closed`)."""
    escape_attr = rels._escape_attributes
    parts = [f'<Relationships xmlns="{escape_attr(PACKAGE_SCHEMA)}">']
    for rel_type, target, mode in rels.relationships:
        extra = f' TargetMode="{escape_attr(mode)}"' if mode else ""
        parts.append(
            f'<Relationship Id="rId{rels.id}" Type="{escape_attr(rel_type)}" Target="{escape_attr(target)}"{extra}/>'
        )
        rels.id += 1
    parts.append("</Relationships>")
    rels.fh.write("".join(parts))


def _closed(wb: Workbook) -> None:
    """Close (write) the workbook; with ``FAST_ROWS``, its relationship files written by
    :func:`_fast_relationships` meanwhile (xlsxwriter's packager makes them itself: the class's
    method is swapped for the close and put back)."""
    if not FAST_ROWS:
        wb.close()
        return
    original = Relationships._write_relationships
    Relationships._write_relationships = _fast_relationships
    try:
        wb.close()
    finally:
        Relationships._write_relationships = original


class _ListRows:
    """The rows of a list sheet (报告清单, 问题清单) written straight into the sheet's XML, a whole
    row at a time: the markup xlsxwriter writes for them (``<row r="N">``, then each cell as
    :func:`_fast_rows` writes a number or a plain string, or by xlsxwriter's own ``_write_cell``
    for a string it would escape), without the per-cell tuples, dict, sort and checks of its
    current-row path, and the row's link stored as :meth:`_Writer.link` stores it (the same
    ``Url`` object per page and text, the sheet's link count).  :meth:`write` returns False, having
    written nothing, for a row it leaves to the usual path (a value of another type, a string
    that may need truncating, a link that is not a plain page address, a row with attributes):
    ``FAST_ROWS = False`` writes every row that way (tests/report/test_workbook.py compares both)."""

    __slots__ = ("names", "ok", "plain", "texts", "w", "ws")

    def __init__(self, w: _Writer, ws: Worksheet, ncols: int) -> None:
        self.w, self.ws = w, ws
        self.names = [xl_col_to_name(c) for c in range(ncols)]
        self.texts: dict[float, str] = {}  # a number's text as xlsxwriter writes it (%.16G)
        # per string value: written as it is (printable, no markup, no quote prefix, short); the
        # sheet's agencies, files, rules, titles and counties recur from row to row
        self.plain: dict[str, bool] = {}
        # rows written as xlsxwriter writes them: constant memory, rows of the default height,
        # no column formats (a cell without a format of its own would take its column's)
        self.ok = (
            FAST_ROWS
            and ws.constant_memory
            and ws.default_row_height == ws.original_row_height
            and all(ci is None or ci.column_format is None for ci in ws.col_info.values())
        )

    def write(
        self,
        r: int,
        values: tuple[Any, ...],
        link: tuple[int, str | None] | None = None,
        styled: tuple[int, str, Format | None] | None = None,
    ) -> bool:
        """Row ``r``: ``values`` from column 0 as :meth:`_Writer.row` writes them (``None``: left
        empty); ``link``: (column, page) — that column's value is the link's text, written as
        :meth:`_Writer.link` does; ``styled``: (column, text, format) — that cell written as
        ``write_string`` does (neither cleaned nor quote-prefixed)."""
        ws, w = self.ws, self.w
        if not self.ok or r <= ws.previous_row or r in ws.row_info or r in ws.comments or len(values) > len(self.names):
            return False
        names, texts, plain = self.names, self.texts, self.plain
        ref = str(r + 1)
        quote = w.fmt(quote=True)
        # (column, its markup or, for a string it escapes, xlsxwriter's cell) in column order
        cells: list[tuple[int, Any]] = []
        url_cell: tuple[int, Any, str, str] | None = None  # (column, Url or None when new, text, href)
        lc = link[0] if link is not None else -1
        sc = styled[0] if styled is not None else -1
        for c, v in enumerate(values):
            f: Format | None
            if c == lc and link is not None:
                href = link[1]
                count = w._links.get(ws.name, 0)
                if href and v is not None and count < URL_MAX:
                    if "#" in href or len(href) > 255:
                        return False
                    s = clean_text(str(v))[:XLSX_MAX_STR] or href
                    if len(s) > _SHORT_STR:
                        return False
                    f = w.link_quote_fmt if s.startswith(FORMULA_START) else w.link_fmt
                    url_cell = (c, w._urls.get((ws.name, href, s)), s, href)
                    v = s
                    style = f' s="{f._get_xf_index()}"'
                    if _plain_string(s):
                        cells.append((c, f'<c r="{names[c]}{ref}"{style} t="inlineStr"><is><t>{s}</t></is></c>'))
                    else:
                        cells.append((c, CellStringTuple(s, f)))
                    continue
            if c == sc and styled is not None:
                s, f = styled[1], styled[2]
                if len(s) > _SHORT_STR:
                    return False
                style = f' s="{f._get_xf_index()}"' if f else ""
                if _plain_string(s):
                    cells.append((c, f'<c r="{names[c]}{ref}"{style} t="inlineStr"><is><t>{s}</t></is></c>'))
                else:
                    cells.append((c, CellStringTuple(s, f)))
                continue
            if v is None:
                continue
            t = type(v)
            if t is str:
                bare = plain.get(v)
                if bare is None:  # the common case: the string itself, no style, nothing escaped
                    s = clean_text(v)[:XLSX_MAX_STR]
                    bare = plain[v] = (
                        s is v and len(s) <= _SHORT_STR and not s.startswith(FORMULA_START) and _plain_string(s)
                    )
                if bare:
                    cells.append((c, f'<c r="{names[c]}{ref}" t="inlineStr"><is><t>{v}</t></is></c>'))
                    continue
                s = clean_text(v)[:XLSX_MAX_STR]
                if len(s) > _SHORT_STR:
                    return False
                if s.startswith(FORMULA_START):
                    f = quote
                    style = f' s="{quote._get_xf_index()}"' if quote else ""
                else:
                    f, style = None, ""
                if _plain_string(s):
                    cells.append((c, f'<c r="{names[c]}{ref}"{style} t="inlineStr"><is><t>{s}</t></is></c>'))
                else:
                    cells.append((c, CellStringTuple(s, f)))
            elif (t is int or t is float) and math.isfinite(v) and abs(v) < 1e15:
                text = texts.get(v) or _number_text(v, texts)
                cells.append((c, f'<c r="{names[c]}{ref}"><v>{text}</v></c>'))
            else:
                return False
        if not cells:  # nothing to write (as the usual path writes nothing)
            return False
        # committed: the row before (if any is pending) written first, as xlsxwriter would
        if ws.table:
            ws._write_single_row(r)
        ws.previous_row = r
        if url_cell is not None:
            c, url, s, href = url_cell
            if url is None:  # as write_url makes it (the href checked above: no anchor, short)
                url = Url(f"external:{href}")
                url._text = s
                url.tip = LINK_TIP
                w._urls[(ws.name, href, s)] = url
            w._links[ws.name] = w._links.get(ws.name, 0) + 1
            ws.hlink_count += 1
            ws.hyperlinks[r][c] = url
        # the sheet's dimensions as xlsxwriter's check of each cell written leaves them
        first, last = cells[0][0], cells[-1][0]
        if ws.dim_rowmin is None or r < ws.dim_rowmin:
            ws.dim_rowmin = r
        if ws.dim_rowmax is None or r > ws.dim_rowmax:
            ws.dim_rowmax = r
        if ws.dim_colmin is None or first < ws.dim_colmin:
            ws.dim_colmin = first
        if ws.dim_colmax is None or last > ws.dim_colmax:
            ws.dim_colmax = last
        write = ws.fh.write
        parts = [f'<row r="{ref}">']
        for c, cell in cells:
            if type(cell) is str:
                parts.append(cell)
            else:
                write("".join(parts))
                parts.clear()
                ws._write_cell(r, c, cell)
        parts.append("</row>")
        write("".join(parts))
        return True


def _new_workbook(path: Path) -> Workbook:
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties({"title": "政府信息公开工作年度报告 数据质量报告", "author": "nianbao"})
    return wb


def build_workbook(q: Quality, path: Path) -> None:
    """Write the workbook of ``q`` to ``path`` (row by row: constant memory)."""
    wb = _new_workbook(path)
    w = _Writer(wb)
    files, findings, valued = _listed_files(q), _listed_findings(q), _valued_files(q)
    _summary_sheet(w, q, (len(files), len(findings), len(valued)))
    _counties_sheet(w, q)
    _reports_sheet(w, q, files)
    _findings_sheet(w, q, findings)
    _values_sheet(w, q, valued)
    _closed(wb)


def write_excel(
    outcome: RunOutcome,
    out: Path,
    previous: Path | None = None,
    acks: Path | None = None,
    *,
    quality: Quality | None = None,
) -> Path:
    """Write ``out/findings.xlsx`` (a temporary file renamed over it) and return its path."""
    q = quality if quality is not None else prepare(outcome, out, previous, acks)
    target = inside(out, "findings.xlsx")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        build_workbook(q, Path(tmp))
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# ------------------------------------------------------------------ reuse (nianbao.report.reuse)

SUMMARY_SHEET = "xl/worksheets/sheet1.xml"  # 汇总, the first sheet: this run's own facts
WORKBOOK = "findings.xlsx"


def workbook_key(q: Quality, reuse: Reuse) -> str:
    """The key of everything the sheets after 汇总 show: the listed files (with their row number),
    the listed findings (their number in the run, status, acknowledgement, county, page), the
    reports of 数值 (the parse of the file's bytes, and every finding that tints a cell), the
    counties."""
    o, rv = q.outcome, q.review
    files = [
        (i, o.files[i].to_json(), q.new[i], q.acked[i], rv.report_change[i], _page_href(q, i), _county_name(q, i))
        for i in _listed_files(q)
    ]
    findings = []
    for k in _listed_findings(q):
        f = o.findings[k]
        fi = q.file_index.get(f.report)
        findings.append((k, f.to_json(), rv.status[k], rv.acks.get(k), _county_of(q, f, fi), _page_href(q, fi)))
    valued = [
        (i, o.files[i].to_json(), [f.to_json() for _k, f in q.file_findings(o.files[i])]) for i in _valued_files(q)
    ]
    return reuse.key("workbook", q.large, files, findings, valued, county_summary(q))


def _county_name(q: Quality, i: int) -> str:
    return q.groups[q.group_of[i]].name


def reuse_workbook(q: Quality, out: Path, reuse: Reuse) -> bool:
    """Write ``out/findings.xlsx`` from the previous run's when the sheets after 汇总 are unchanged
    (:func:`workbook_key`): 汇总 — this run's time, the run it compares with, the counts — is built
    anew and put in place of the old one, every other part of the archive copied as stored.  False
    (nothing written: build the whole workbook) when the key differs or the old workbook's styles
    are not the ones this code writes."""
    import zipfile

    prev = reuse.match(WORKBOOK, reuse.known(WORKBOOK) or workbook_key(q, reuse))
    if prev is None or not prev.is_file() or prev.is_symlink():
        return False
    target = inside(out, WORKBOOK)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.summary.", suffix=".tmp")
    os.close(fd)
    try:
        wb = _new_workbook(Path(tmp))
        w = _Writer(wb)
        _summary_sheet(w, q, (len(_listed_files(q)), len(_listed_findings(q)), len(_valued_files(q))))
        wb.close()
        with zipfile.ZipFile(tmp) as small, zipfile.ZipFile(prev) as old:
            names = set(old.namelist())
            if small.read("xl/styles.xml") != old.read("xl/styles.xml") or any(
                n.startswith("xl/worksheets/_rels/sheet1.") for n in (*small.namelist(), *names)
            ):
                return False
            fresh = {n: small.read(n) for n in (SUMMARY_SHEET, "docProps/core.xml") if n in names}
        if SUMMARY_SHEET not in fresh:
            return False
        splice_zip(prev, target, fresh)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return False
    finally:
        Path(tmp).unlink(missing_ok=True)
    reuse.reused(WORKBOOK)
    return True
