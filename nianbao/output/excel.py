"""``findings.xlsx``: the run as an Excel/WPS workbook.

Sheets: 汇总 (the run and counts by rule), 报告清单 (every file with its status), 问题清单 (every
finding: filterable, frozen header, Chinese column names) and 数值 (one row per report, one column
per canonical cell, flagged cells filled by severity — an auditor filters or sorts any cell across
all reports).

Every string is written with ``write_string`` — never ``write`` — so a submission text such as
``=HYPERLINK(...)`` stays text; strings starting with ``= + - @`` (or tab/CR) also get Excel's
quote prefix, so editing the cell does not turn it into a formula either.  Control characters are
removed and strings cut to Excel's 32,767-character limit.  The workbook is built in memory and
written atomically.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from nianbao.catalogue import catalogue, format_number
from nianbao.normalize import State
from nianbao.outcome import RunOutcome
from nianbao.output.atomic import inside, write_bytes
from nianbao.output.history import ACKED, CORRECTED, NEW, STILL, SUBMITTED, UNCHANGED
from nianbao.output.names import clean_text
from nianbao.output.quality import SEV_RANK, SEVERITY_ZH, Quality, cause_zh, flags_of, prepare, registry_status
from nianbao.spec import Fmt, all_cells, cell_label, table_name

XLSX_MAX_STR = 32767
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
    ("单元格", 24),
    ("单元格名称", 36),
    ("源文件行", 8),
    ("应为", 12),
    ("报告填写", 12),
    ("问题说明", 60),
    ("改正建议", 50),
    ("疑似错误单元格", 36),
    ("复核人", 10),
    ("复核说明", 24),
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
    ("SHA-256", 20),
)


class _Writer:
    """Typed cell writes: strings always as text (formula-safe), numbers as numbers."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self._formats: dict[tuple[str | None, bool, bool], Format] = {}

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


def _summary_sheet(w: _Writer, q: Quality) -> None:
    o, rv = q.outcome, q.review
    ws = w.wb.add_worksheet("汇总")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 4, 12)
    title = w.wb.add_format({"bold": True, "font_size": 14})
    ws.write_string(0, 0, "政府信息公开工作年度报告 数据质量报告", title)
    ok = sum(1 for f in o.files if f.status == "validated" and not f.errors and not f.warnings)
    with_err = sum(1 for f in o.files if f.status == "validated" and f.errors)
    with_warn = sum(1 for f in o.files if f.status == "validated" and not f.errors and f.warnings)
    counts = rv.counts()
    facts: list[tuple[str, Any]] = [
        ("运行时间", o.started_at),
        ("规则集版本", o.ruleset_version),
        ("输入", "；".join(o.inputs)),
        ("报送文件", o.n_files),
        ("通过（无错误和警告）", ok),
        ("有错误的报告", with_err),
        ("仅有警告的报告", with_warn),
        ("无法读取的文件", o.n_unreadable),
        ("错误（条）", o.n_errors),
        ("警告（条）", o.n_warnings),
        ("提示（条）", sum(1 for f in o.findings if f.severity == "info")),
        ("上一次运行", str(rv.previous) if rv.previous else "（无，全部列为新发现）"),
        ("新发现的问题", counts["new"]),
        ("已解决的问题", counts["resolved"]),
        ("新报送的报告", counts["submitted"]),
        ("已更正的报告", counts["corrected"]),
        ("已复核的问题", counts["acked"]),
    ]
    r = 2
    for k, v in facts:
        w.put(ws, r, 0, k, bold=True)
        w.put(ws, r, 1, v)
        r += 1
    for p in rv.problems:
        w.put(ws, r, 0, "注意", bold=True)
        w.put(ws, r, 1, p)
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
        for y in registry_status(o) or []:
            names = [a.agency for a in y["missing"]]
            w.put(ws, r, 0, f"{y['year']} 年" if y["year"] else "全部")
            w.put(ws, r, 1, f"应报送 {len(o.registry)}，已报送 {y['submitted']}；未报送：" + ("、".join(names) or "无"))
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


def _header(w: _Writer, ws: Worksheet, row: int, columns: tuple[tuple[str, int], ...]) -> None:
    for c, (h, width) in enumerate(columns):
        ws.set_column(c, c, width)
        w.put(ws, row, c, h, bold=True)


def _reports_sheet(w: _Writer, q: Quality) -> None:
    o, rv = q.outcome, q.review
    ws = w.wb.add_worksheet("报告清单")
    _header(w, ws, 0, REPORT_COLUMNS)
    for i, f in enumerate(o.files):
        fs = q.file_findings(f)
        new = sum(1 for k, _f in fs if rv.status[k] == NEW)
        state = "无法读取" if f.status != "validated" else "有错误" if f.errors else "有警告" if f.warnings else "通过"
        fill = "error" if f.status != "validated" or f.errors else "warning" if f.warnings else None
        vals: tuple[Any, ...] = (
            i + 1,
            f.agency,
            f.year,
            f.file,
            state,
            f.reason,
            f.format,
            f.errors,
            f.warnings,
            f.infos,
            new,
            CHANGE_ZH[rv.report_change[i]],
            f.sha256,
        )
        for c, v in enumerate(vals):
            w.put(ws, i + 1, c, v, fill=fill if c == 4 else None)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(o.files), 1), len(REPORT_COLUMNS) - 1)


def _findings_sheet(w: _Writer, q: Quality) -> None:
    o, rv = q.outcome, q.review
    ws = w.wb.add_worksheet("问题清单")
    _header(w, ws, 0, FINDING_COLUMNS)
    cat = catalogue()
    r = 1
    for k, f in enumerate(o.findings):
        rep = o.reports[f.report] if 0 <= f.report < len(o.reports) else None
        fmt = (rep.fmt if rep is not None else None) or Fmt.F2021
        labels = []
        for cid in f.cells[:20]:
            try:
                labels.append(cell_label(fmt, cid))
            except (KeyError, ValueError, IndexError):
                labels.append(cid)
        suspects = "；".join(
            f"{s.cell}：填写 {_num(s.reported)}，建议 {_num(s.suggested)}（{cause_zh(s.cause)}）"
            for s in (f.suspects or [])
        )
        ack = rv.acks.get(k)
        rule = cat.get(f.rule)
        vals: tuple[Any, ...] = (
            k + 1,
            f.agency,
            f.year,
            f.file,
            f.rule,
            SEVERITY_ZH.get(f.severity, f.severity),
            rule.title if rule else "",
            STATUS_ZH[rv.status[k]],
            " ".join(f.cells),
            "、".join(labels) + ("等" if len(f.cells) > 20 else ""),
            f.line,
            f.expected,
            f.actual,
            f.message,
            f.fix,
            suspects or None,
            ack.reviewer if ack else None,
            ack.note if ack else None,
        )
        for c, v in enumerate(vals):
            w.put(ws, r, c, v, fill=f.severity if c == 5 else None)
        r += 1
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(r - 1, 1), len(FINDING_COLUMNS) - 1)


def _num(v: float | None) -> str:
    return format_number(v)


def _values_sheet(w: _Writer, q: Quality) -> None:
    o = q.outcome
    ws = w.wb.add_worksheet("数值")
    cols = _value_columns()
    lead = (("机关", 22), ("年度", 6), ("文件", 30), ("格式", 6))
    n0 = len(lead)
    for c, (h, width) in enumerate(lead):
        ws.set_column(c, c, width)
        w.put(ws, 0, c, h, bold=True)
        w.put(ws, 1, c, h, bold=True)
    ws.set_column(n0, n0 + len(cols) - 1, 11)
    for j, cid in enumerate(cols):
        w.put(ws, 0, n0 + j, _column_label(cid), bold=True)
        w.put(ws, 1, n0 + j, cid, bold=True)
    r = 2
    missing_fmt = w.fmt("missing")
    for f in o.files:
        if f.status != "validated" or not (0 <= f.report < len(o.reports)):
            continue
        rep = o.reports[f.report]
        flags = flags_of(q.file_findings(f))
        for c, v in enumerate((f.agency, f.year, f.file, f.format)):
            w.put(ws, r, c, v)
        cells = rep.cells
        for j, cid in enumerate(cols):
            cell = cells.get(cid)
            fl = flags.get(cid)
            fill = fl.severity if fl is not None else None
            if cell is None or cell.state is State.MISSING:
                if cell is not None or fl is not None:  # a cell of this report's format that is missing
                    ws.write_blank(r, n0 + j, None, w.fmt(fill) or missing_fmt)
                continue
            if cell.value is not None and cell.state is not State.NON_NUMERIC:
                w.put(ws, r, n0 + j, cell.value, fill=fill)
            elif cell.raw:
                w.put(ws, r, n0 + j, cell.raw, fill=fill)
            elif fill:
                ws.write_blank(r, n0 + j, None, w.fmt(fill))
        r += 1
    ws.freeze_panes(2, n0)
    ws.autofilter(1, 0, max(r - 1, 2), n0 + len(cols) - 1)


def build_workbook(q: Quality) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties({"title": "政府信息公开工作年度报告 数据质量报告", "author": "nianbao"})
    w = _Writer(wb)
    _summary_sheet(w, q)
    _reports_sheet(w, q)
    _findings_sheet(w, q)
    _values_sheet(w, q)
    wb.close()
    return buf.getvalue()


def write_excel(
    outcome: RunOutcome,
    out: Path,
    previous: Path | None = None,
    acks: Path | None = None,
    *,
    quality: Quality | None = None,
) -> Path:
    """Write ``out/findings.xlsx`` (atomically) and return its path."""
    q = quality if quality is not None else prepare(outcome, out, previous, acks)
    target = inside(out, "findings.xlsx")
    write_bytes(target, build_workbook(q))
    return target
