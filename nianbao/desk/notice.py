"""The 整改通知单 of one township's report: exactly what to fix, in the statutory words, with the
likely fix of each cell — as a printable page (template ``notice.html.j2``) and as a DOCX."""

from __future__ import annotations

import io
from typing import Any

from nianbao.desk.db import CONFIRMED, DISMISSED, Review, Township
from nianbao.desk.review import date_zh, today
from nianbao.desk.runs import Report, Run
from nianbao.desk.views import finding_view, fmt_of
from nianbao.report.names import clean_text

BASIS_2021 = (
    "《中华人民共和国政府信息公开条例》第五十条和《国务院办公厅政府信息与政务公开办公室关于印发"
    "〈中华人民共和国政府信息公开工作年度报告格式〉的通知》（国办公开办函〔2021〕30号）"
)
BASIS_2019 = (
    "《中华人民共和国政府信息公开条例》第五十条和国务院办公厅政府信息与政务公开办公室印发的"
    "年度报告格式（国办公开办函〔2019〕60号）"
)


def notice_context(run: Run, r: Report, decided: dict[str, Review], township: Township | None) -> dict[str, Any]:
    """The items to fix: the report's errors and warnings not dismissed as false alarms (confirmed first)."""
    fmt = fmt_of(r.format)
    items = []
    for k in r.findings:
        d = run.findings[k]
        if d.get("severity") not in ("error", "warning"):
            continue
        rv = decided.get(run.hashes[k])
        if rv is not None and rv.state == DISMISSED:
            continue
        items.append(finding_view(k, d, fmt, rv))
    items.sort(key=lambda v: (v["state"] != CONFIRMED, v["severity"] != "error", v["rule"], v["k"]))
    for n, v in enumerate(items, 1):
        v["n"] = n
    return {
        "r": r,
        "run": run,
        "items": items,
        "basis": BASIS_2019 if fmt.value == "2019" else BASIS_2021,
        "t": township,
        "notified_on": date_zh(township.notified_on) if township else date_zh(today()),
        "deadline": date_zh(township.deadline) if township and township.deadline else "",
        "issued": date_zh(today()),
    }


def _c(s: Any) -> str:
    return clean_text(str(s)) if s is not None else ""


def notice_docx(ctx: dict[str, Any]) -> bytes:
    """The notice as a Word document (python-docx)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    r: Report = ctx["r"]
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)
    rpr = style.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    sec = doc.sections[0]
    from docx.enum.section import WD_ORIENT

    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = sec.page_height, sec.page_width

    h = doc.add_paragraph()
    h.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = h.add_run("政府信息公开工作年度报告整改通知单")
    run.bold = True
    run.font.size = Pt(18)
    doc.add_paragraph(f"{_c(r.name)}：")
    doc.add_paragraph(
        f"　　经核查，你单位报送的《{_c(r.name)}{r.year or ''}年政府信息公开工作年度报告》有下列 {len(ctx['items'])} "
        f"处不符合{ctx['basis']}的规定，请逐项改正"
        + (f"，于 {ctx['deadline']} 前" if ctx["deadline"] else "后")
        + "重新报送。"
    )
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells, ("序号", "问题", "所在位置", "报告填写 / 应为", "改正要求"), strict=True
    ):
        cell.text = text
        for p in cell.paragraphs:
            for rn in p.runs:
                rn.bold = True
    for v in ctx["items"]:
        where = "；".join(_c(c) for c in v["cells"]) + (
            f" 等共 {len(v['cells']) + v['more_cells']} 格" if v["more_cells"] else ""
        )
        if not where:
            where = f"第 {v['line']} 行" if v["line"] else "全文"
        fix = "\n".join(_c(x) for x in v["likely"]) or _c(v["fix"])
        if v["likely"] and v["fix"]:
            fix += "\n" + _c(v["fix"])
        row = table.add_row().cells
        row[0].text = str(v["n"])
        row[1].text = f"{_c(v['message'])}（{v['rule']} {_c(v['title'])}）"
        row[2].text = where
        row[3].text = f"报告填写：{_c(v['actual'])}\n应为：{_c(v['expected'])}"
        row[4].text = fix
    if not ctx["items"]:
        doc.add_paragraph("（本报告目前没有需要整改的问题。）")
    t: Township | None = ctx["t"]
    if t is not None:
        doc.add_paragraph(
            f"通知方式：{_c(t.how)}　通知日期：{ctx['notified_on']}"
            + (f"　联系人：{_c(t.contact)}" if t.contact else "")
        )
    p = doc.add_paragraph(f"\n{_c(r.county)}政府信息公开工作主管部门（盖章）\n{ctx['issued']}")
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
