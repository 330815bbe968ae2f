"""Writers: a report (or a blank statutory template) as text, HTML, Word, Excel, CSV, PDF, markdown.

One document model — paragraphs and tables whose cells may span rows and columns — is built
either from the lines of a report text (:func:`document_from_text`: the report exactly as printed)
or from canonical data (:func:`document_from_content`: the statutory layout of the format, with
the merged label cells of the official tables).  ``nianbao template`` writes the blank statutory
template this way; the tests render the seed into every input format and check that the loaders
read back the same canonical cells and findings.

Heavy libraries (python-docx, xlsxwriter, fpdf2) are imported inside the writer that needs them.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import SECTIONS, T3_COLUMNS, T4_COLUMNS, T4_ROWS, Fmt, tables

# ------------------------------------------------------------------ the document model


@dataclass(slots=True)
class TCell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    fill: bool = False  # a cell to fill in (a value cell of the template)


@dataclass(slots=True)
class Table:
    rows: list[list[TCell]]
    kind: str = ""  # "2", "3", "4" for the statutory tables


@dataclass(slots=True)
class Para:
    text: str
    style: str = "body"  # title | heading | body


Block = Para | Table


@dataclass(slots=True)
class Document:
    blocks: list[Block] = field(default_factory=list)

    @property
    def title(self) -> str:
        return next((b.text for b in self.blocks if isinstance(b, Para) and b.style == "title"), "")


def grid(table: Table) -> list[list[str]]:
    """The table as a full grid: a merged cell's text in its top-left position, "" where it spans."""
    out: list[list[str | None]] = []
    width = 0
    for r, row in enumerate(table.rows):
        while len(out) <= r:
            out.append([])
        c = 0
        for cell in row:
            line = out[r]
            while c < len(line) and line[c] is not None:
                c += 1
            for dr in range(cell.rowspan):
                while len(out) <= r + dr:
                    out.append([])
                target = out[r + dr]
                while len(target) < c + cell.colspan:
                    target.append(None)
                for dc in range(cell.colspan):
                    target[c + dc] = cell.text if (dr, dc) == (0, 0) else ""
            c += cell.colspan
            width = max(width, c)
    return [[x or "" for x in row] + [""] * (width - len(row)) for row in out]


# ------------------------------------------------------------------ documents from a text


_HEADING = re.compile(r"^\s*[一二三四五六七八九十][、.]")


def document_from_text(text: str) -> Document:
    """The report text as printed: tab-separated lines become tables, other lines paragraphs."""
    doc = Document()
    rows: list[list[TCell]] = []
    title_done = False
    for raw in text.splitlines():
        if "\t" in raw:
            rows.append([TCell(c) for c in raw.split("\t")])
            continue
        if rows:
            doc.blocks.append(Table(rows))
            rows = []
        if not raw.strip():
            continue
        style = "body"
        if not title_done:
            style, title_done = "title", True
        elif _HEADING.match(raw) and len(raw.strip()) <= 40:
            style = "heading"
        doc.blocks.append(Para(raw.strip(), style))
    if rows:
        doc.blocks.append(Table(rows))
    return doc


# ------------------------------------------------------------------ canonical content


@dataclass
class ReportContent:
    """What a report says, in canonical form: enough to print it in the statutory layout."""

    fmt: Fmt
    title: str
    intro: list[str] = field(default_factory=list)
    headings: dict[str, str] = field(default_factory=dict)  # section number -> printed heading
    prose: dict[str, list[str]] = field(default_factory=dict)  # section number -> paragraphs
    values: dict[str, str] = field(default_factory=dict)  # cell id -> printed text; absent: row not printed
    col_labels: dict[str, str] = field(default_factory=dict)  # "3:social" -> printed column label
    fill: bool = False  # mark value cells as cells to fill (template)


def content_from_report(rep: ParsedReport) -> ReportContent:
    """The canonical content of a parsed report (prose, printed values, printed column aliases)."""
    assert rep.fmt is not None, "only a readable report has content"
    fmt = rep.fmt
    headings: dict[str, str] = {}
    for f in rep.layout:
        if f.kind == "section" and f.found:
            num = f.element[4:]
            printed = f.printed or f.statutory
            # a heading printed under another number (a section left out or added) keeps its number
            headings[num] = printed if _HEADING.match(printed) else f"{num}、{printed}"
    col_labels = {
        f"{f.element.split(':')[0]}:{f.element.split(':')[2]}": f.printed
        for f in rep.layout
        if f.kind == "column" and f.found and f.printed
    }
    values = {}
    for t in tables(fmt).values():
        for cid in t.cells():
            c = rep.cells.get(cid)
            if c is not None and c.state is not State.MISSING:
                values[cid] = c.raw
    intro = [t for no, t in rep.sections.get("引言", []) if no != rep.title_line]
    prose = {s.number: [t for _no, t in rep.sections.get(s.number, [])] for s in SECTIONS}
    return ReportContent(fmt, rep.title or "", intro, headings, prose, values, col_labels)


def template_content(year: int, agency: str = "（机关名称）") -> ReportContent:
    """A blank statutory template of the format of ``year`` (labels fixed, every value cell blank)."""
    fmt = Fmt.F2019 if year <= 2020 else Fmt.F2021
    order = "国办公开办函〔2019〕60号" if fmt is Fmt.F2019 else "国办公开办函〔2021〕30号"
    intro = [
        f"本报告根据《中华人民共和国政府信息公开条例》和{order}的要求编制。"
        f"本报告统计数据从 {year} 年 1 月 1 日至 {year} 年 12 月 31 日。"
    ]
    hint = "（请在此填写。）"
    prose = {s.number: [hint] for s in SECTIONS}
    prose["一"] = [
        f"（一）主动公开{hint}",
        f"（二）依申请公开{hint}",
        f"（三）政府信息管理{hint}",
        f"（四）平台建设{hint}",
        f"（五）监督保障{hint}",
    ]
    if fmt is Fmt.F2021:
        prose["六"] = [f"{hint}（须写明本年度收取信息处理费的情况，未收取的写明“无”。）"]
    values = {cid: "" for t in tables(fmt).values() for cid in t.cells()}
    return ReportContent(
        fmt,
        f"{agency}{year}年政府信息公开工作年度报告",
        intro,
        {s.number: f"{s.number}、{s.heading}" for s in SECTIONS},
        prose,
        values,
        fill=True,
    )


def as_2019(c: ReportContent) -> ReportContent:
    """A 2021-format content re-printed in the 2019 layout (for tests of the 2019 format): table 二 in
    the 2019 columns and rows, table 三 with the single （六）其他处理 row."""
    v = c.values

    def num(cid: str) -> float:
        try:
            return float(v.get(cid, "") or 0)
        except ValueError:
            return 0.0

    def s(x: float) -> str:
        return str(int(x)) if x == int(x) else str(x)

    out: dict[str, str] = {}
    for r in ("rules", "normative"):
        out[f"2:{r}:new_made"] = v.get(f"2:{r}:issued", "")
        out[f"2:{r}:new_published"] = v.get(f"2:{r}:issued", "")
        out[f"2:{r}:total_published"] = v.get(f"2:{r}:in_force", "")
    for r in ("licensing", "other_services", "penalty", "coercion"):
        out[f"2:{r}:prev_items"] = "0"
        out[f"2:{r}:change"] = "0"
        out[f"2:{r}:decisions"] = v.get(f"2:{r}:decisions", "0")
    out["2:fees:prev_items"] = "0"
    out["2:fees:change"] = "0"
    out["2:procurement:items"] = "0"
    out["2:procurement:amount"] = "0"
    for cid, raw in v.items():
        if (cid.startswith("3:") and not cid.startswith("3:3.6.")) or cid.startswith("4:"):
            out[cid] = raw
    for col in (x.id for x in T3_COLUMNS):
        out[f"3:3.6:{col}"] = s(sum(num(f"3:3.6.{i}:{col}") for i in (1, 2, 3)))
    return ReportContent(Fmt.F2019, c.title, c.intro, c.headings, c.prose, out, c.col_labels, c.fill)


def _v(c: ReportContent, cid: str) -> TCell:
    return TCell(c.values.get(cid, ""), fill=c.fill)


def _t2(c: ReportContent) -> Table:
    t = tables(c.fmt)["2"]
    rows: list[list[TCell]] = []
    blocks: dict[str, list[str]] = {}
    for r in t.rows:
        if all(f"2:{r.id}:{col}" not in c.values for col in t.row_columns[r.id]):
            continue
        blocks.setdefault(r.block or "", []).append(r.id)
    width = 1 + max(len(t.row_columns[r.id]) for r in t.rows)
    for block, row_ids in blocks.items():
        rows.append([TCell(f"第二十条第（{block}）项", colspan=width)])
        cols = t.row_columns[row_ids[0]]
        span = (width - 1) // len(cols)
        head = [TCell("信息内容")]
        for k, col in enumerate(cols):
            extra = (width - 1) - span * len(cols) if k == len(cols) - 1 else 0
            head.append(TCell(c.col_labels.get(f"2:{col}", t.column(col).label), colspan=span + extra))
        rows.append(head)
        for rid in row_ids:
            row = [TCell(t.row(rid).label)]
            for k, col in enumerate(cols):
                extra = (width - 1) - span * len(cols) if k == len(cols) - 1 else 0
                cell = _v(c, f"2:{rid}:{col}")
                cell.colspan = span + extra
                row.append(cell)
            rows.append(row)
    return Table(rows, "2")


def _t3(c: ReportContent) -> Table:
    t = tables(c.fmt)["3"]
    lab = {col.id: c.col_labels.get(f"3:{col.id}", col.label) for col in T3_COLUMNS}
    rows: list[list[TCell]] = [
        [
            TCell("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3, colspan=3),
            TCell("申请人情况", colspan=7),
        ],
        [
            TCell(lab["natural"], rowspan=2),
            TCell("法人或其他组织", colspan=5),
            TCell(lab["total"], rowspan=2),
        ],
        [TCell(lab[x]) for x in ("commercial", "research", "social", "legal", "other")],
    ]
    printed = [r for r in t.rows if any(f"3:{r.id}:{col.id}" in c.values for col in T3_COLUMNS)]
    ids = [r.id for r in printed]
    groups = {"3.3": "（三）不予公开", "3.4": "（四）无法提供", "3.5": "（五）不予处理", "3.6": "（六）其他处理"}
    in_3 = [rid for rid in ids if rid.startswith("3.")]
    seen_group: set[str] = set()
    for r in printed:
        vals = [_v(c, f"3:{r.id}:{col.id}") for col in T3_COLUMNS]
        rid = r.id
        if rid in ("1", "2", "4"):
            rows.append([TCell(r.label, colspan=3), *vals])
            continue
        row: list[TCell] = []
        if rid == in_3[0]:
            row.append(TCell("三、本年度办理结果", rowspan=len(in_3)))
        g = r.group or ""
        if g in groups:
            members = [x for x in in_3 if x.startswith(g + ".")]
            if g not in seen_group:
                seen_group.add(g)
                row.append(TCell(groups[g], rowspan=len(members)))
            row.append(TCell(r.label.split(" ", 1)[1] if " " in r.label else r.label))
        else:
            row.append(TCell(r.label, colspan=2))
        rows.append(row + vals)
    return Table(rows, "3")


def _t4(c: ReportContent) -> Table:
    def lab(col: str) -> str:
        return c.col_labels.get(f"4:{col}", next(x.label for x in T4_COLUMNS if x.id == col))

    cols = [x.id for x in T4_COLUMNS]
    head = [TCell(lab(x), rowspan=2) for x in cols]
    rows = [
        [TCell("行政复议", colspan=5), TCell("行政诉讼", colspan=10)],
        [*head, TCell("未经复议直接起诉", colspan=5), TCell("复议后起诉", colspan=5)],
        [TCell(lab(x)) for x in cols] * 2,
        [_v(c, f"4:{r.id}:{x}") for r in T4_ROWS for x in cols],
    ]
    return Table(rows, "4")


def document_from_content(c: ReportContent) -> Document:
    """The report in the statutory layout of its format (official tables with merged label cells)."""
    doc = Document([Para(c.title, "title"), *(Para(p) for p in c.intro)])
    builders = {"二": _t2, "三": _t3, "四": _t4}
    for s in SECTIONS:
        if s.number not in c.headings:
            continue
        doc.blocks.append(Para(c.headings[s.number], "heading"))
        if s.number in builders:
            tid = {"二": "2", "三": "3", "四": "4"}[s.number]
            if any(k.startswith(f"{tid}:") for k in c.values):
                doc.blocks.append(builders[s.number](c))
        doc.blocks.extend(Para(p) for p in c.prose.get(s.number, []) if p.strip())
    return doc


# ------------------------------------------------------------------ text-like renderings


def text_with_rows(doc: Document, row_lines: Callable[[list[str]], list[str]]) -> str:
    """Paragraphs and tables, each followed by a blank line; a table row printed as ``row_lines``."""
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Para):
            out += [b.text, ""]
        else:
            for row in grid(b):
                out += row_lines(row)
            out.append("")
    return "\n".join(out)


def to_text(doc: Document) -> str:
    """Tab-separated tables, paragraphs separated by blank lines (the seed's own shape)."""
    return text_with_rows(doc, lambda row: ["\t".join(row)])


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document) -> str:
    """Markdown with pipe tables, as PDF-to-markdown converters print a report."""
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Para):
            out += [("# " if b.style == "title" else "## " if b.style == "heading" else "") + b.text, ""]
        else:
            g = grid(b)
            out.append("| " + " | ".join(_md_cell(x) for x in g[0]) + " |")
            out.append("|" + "---|" * len(g[0]))
            out += ["| " + " | ".join(_md_cell(x) for x in row) + " |" for row in g[1:]]
            out.append("")
    return "\n".join(out)


def to_layout_text(doc: Document, gap: int = 3) -> str:
    """Columns aligned by runs of spaces, blank cells as blanks, as ``pdftotext -layout`` prints.
    A form feed separates pages (after each table), as pdftotext does."""
    from nianbao.io.text import display_width

    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Para):
            out += [b.text, ""]
            continue
        g = grid(b)
        widths = [max(display_width(row[j]) for row in g) for j in range(len(g[0]))]
        for row in g:
            parts = []
            for j, x in enumerate(row):
                w = widths[j]
                if not w:
                    continue
                # centred in its column, as a table cell of a printed report is
                room = w - display_width(x)
                parts.append(" " * (room // 2) + x + " " * (room - room // 2))
            out.append((" " * gap).join(parts).rstrip())
        out += ["", "\f"]
    return "\n".join(out)


def to_csv(doc: Document) -> bytes:
    """CSV as Excel saves it (UTF-8 with BOM): paragraphs in the first column, tables as grids."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for b in doc.blocks:
        if isinstance(b, Para):
            w.writerow([b.text])
        else:
            w.writerows(grid(b))
        w.writerow([])
    return buf.getvalue().encode("utf-8-sig")


# ------------------------------------------------------------------ HTML


_NAV = """<div class="top-bar"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a> |
<a href="/bsfw/">办事服务</a> | <a href="/hdjl/">互动交流</a></div>
<nav class="main-nav"><ul>
<li><a href="/zwgk/xxgkzn/">政府信息公开指南</a></li>
<li><a href="/zwgk/xxgkzd/">政府信息公开制度</a></li>
<li><a href="/zwgk/ndbg/">政府信息公开年度报告</a></li>
<li><a href="/zwgk/ndbg/2022.html">2022年政府信息公开工作年度报告</a></li>
</ul></nav>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt;
<a href="/zwgk/ndbg/">年度报告</a></div>"""
_FOOTER = """<footer><p>主办单位：某某人民政府办公室　网站标识码：6405000000　ICP备案号：宁ICP备00000000号</p>
<p><a href="/sitemap.html">网站地图</a> | <a href="/contact.html">联系我们</a></p></footer>"""


def to_html(doc: Document, realistic: bool = True, blank_as: str = "&nbsp;") -> str:
    """A saved government web page: navigation, scripts and styles around the article, tables with
    rowspan/colspan (blank cells as ``&nbsp;``)."""
    esc = html.escape
    body: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Para):
            if b.style == "title":
                body.append(f'<h1 class="article-title">{esc(b.text)}</h1>')
                if realistic:
                    body.append(
                        '<div class="info">发布时间：2024-01-20　来源：本站　<span id="views">浏览次数：</span></div>'
                    )
            elif b.style == "heading":
                body.append(f"<p><strong>{esc(b.text)}</strong></p>")
            else:
                body.append(f'<p style="text-indent:2em">{esc(b.text)}</p>')
            continue
        rows = []
        for row in b.rows:
            tds = []
            for c in row:
                attrs = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (
                    f' colspan="{c.colspan}"' if c.colspan > 1 else ""
                )
                inner = esc(c.text).replace("\n", "<br/>") if c.text else blank_as
                tds.append(f'<td{attrs}><p align="center"><span style="font-size:12px">{inner}</span></p></td>')
            rows.append("<tr>" + "".join(tds) + "</tr>")
        body.append(
            '<table border="1" cellspacing="0" cellpadding="0" width="100%"><tbody>'
            + "".join(rows)
            + "</tbody></table>"
        )
    title = esc(doc.title)
    head = (
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:SimSun}.main-nav li{display:inline}</style>"
        "<script>var _hmt = _hmt || []; document.write('<p>统计代码</p>');</script></head><body>"
    )
    if not realistic:
        return head + "\n".join(body) + "</body></html>"
    return (
        head
        + _NAV
        + '<div class="container"><div class="article">'
        + "\n".join(body)
        + '</div><div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div></div>'
        + _FOOTER
        + '<script src="/js/stat.js"></script><noscript><p>请启用脚本</p></noscript></body></html>'
    )


# ------------------------------------------------------------------ Word


def to_docx(doc: Document) -> bytes:
    """A Word document: paragraphs and tables in order, merged cells merged (gridSpan / vMerge)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = docx.Document()
    for b in doc.blocks:
        if isinstance(b, Para):
            if b.style == "title":
                p = d.add_paragraph()
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                p.add_run(b.text).bold = True
            elif b.style == "heading":
                d.add_paragraph().add_run(b.text).bold = True
            else:
                d.add_paragraph(b.text)
            continue
        g = grid(b)
        t = d.add_table(rows=len(g), cols=len(g[0]))
        t.style = "Table Grid"
        pos = _origins(b)
        for (r, c), cell in pos.items():
            target = t.cell(r, c)
            if cell.rowspan > 1 or cell.colspan > 1:
                target = target.merge(t.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
            target.text = cell.text
            if cell.fill:
                shd = OxmlElement("w:shd")
                shd.set(qn("w:val"), "clear")
                shd.set(qn("w:fill"), "FFF2CC")
                target._tc.get_or_add_tcPr().append(shd)
        d.add_paragraph()
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _origins(t: Table) -> dict[tuple[int, int], TCell]:
    """(row, column) of the top-left grid position of every printed cell."""
    occupied: set[tuple[int, int]] = set()
    out: dict[tuple[int, int], TCell] = {}
    for r, row in enumerate(t.rows):
        c = 0
        for cell in row:
            while (r, c) in occupied:
                c += 1
            out[(r, c)] = cell
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    occupied.add((r + dr, c + dc))
            c += cell.colspan
    return out


# ------------------------------------------------------------------ Excel


_PLAIN_NUMBER = re.compile(r"^-?\d{1,15}(?:\.\d+)?$")


def to_xlsx(doc: Document, sheet_per_table: bool = False, protect: bool = False) -> bytes:
    """An Excel workbook: the whole report on one sheet (or the text on one sheet and each statutory
    table on its own sheet 表二/表三/表四), merged label cells merged, numbers as numbers.
    ``protect``: the labels are locked (sheet protection without password), the cells to fill are not."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "vcenter", "border": 1})
    fill = wb.add_format({"border": 1, "locked": False, "bg_color": "#FFF2CC"})
    plain = wb.add_format({"text_wrap": False})
    title_fmt = wb.add_format({"bold": True, "font_size": 14})
    main = wb.add_worksheet("年度报告")
    main.set_column(0, 0, 28)
    main.set_column(1, 2, 24)
    main.set_column(3, 20, 10)
    sheets = {"2": "表二", "3": "表三", "4": "表四"}
    row_no = 0

    def put(ws: object, r: int, c: int, cell: TCell) -> None:
        fmt = fill if cell.fill else wrap
        if _PLAIN_NUMBER.match(cell.text):
            ws.write_number(r, c, float(cell.text), fmt)  # type: ignore[attr-defined]
        elif cell.text:
            ws.write_string(r, c, cell.text, fmt)  # type: ignore[attr-defined]
        else:
            ws.write_blank(r, c, None, fmt)  # type: ignore[attr-defined]

    for b in doc.blocks:
        if isinstance(b, Para):
            main.write_string(row_no, 0, b.text, title_fmt if b.style == "title" else plain)
            row_no += 2
            continue
        ws = main
        r0 = row_no
        if sheet_per_table and b.kind in sheets:
            ws = wb.add_worksheet(sheets[b.kind])
            ws.set_column(0, 2, 24)
            r0 = 0
        for (r, c), cell in _origins(b).items():
            if cell.rowspan > 1 or cell.colspan > 1:
                ws.merge_range(
                    r0 + r, c, r0 + r + cell.rowspan - 1, c + cell.colspan - 1, "", fill if cell.fill else wrap
                )
            put(ws, r0 + r, c, cell)
        if ws is main:
            row_no += len(grid(b)) + 1
        elif protect:
            ws.protect()
    if protect:
        main.protect()
    wb.close()
    return buf.getvalue()


# ------------------------------------------------------------------ PDF


# TrueType (glyf) CJK fonts that fpdf2 embeds and pdfplumber reads back character for character — the
# seed report written as a PDF in each reads as the same 200 cells (checked December 2026) — in order of
# preference, by file name: the choice depends on which of these are installed, never on the order a
# font lister prints.  Not here on purpose: Droid Sans Fallback (Debian fonts-droid-fallback) has no
# ASCII digits or Latin punctuation (it is a fallback font), so fpdf2 would drop every figure; Noto
# Sans/Serif CJK are CFF-based (OpenType .otf/.ttc), which fpdf2 cannot subset.
PDF_FONTS = (
    ("WenQuanYi Zen Hei", "wqy-zenhei.ttc", "fonts-wqy-zenhei"),
    ("WenQuanYi Micro Hei", "wqy-microhei.ttc", "fonts-wqy-microhei"),
    ("AR PL UMing", "uming.ttc", "fonts-arphic-uming"),
    ("AR PL UKai", "ukai.ttc", "fonts-arphic-ukai"),
)
_FONT_DIRS = ("/usr/share/fonts/truetype/wqy", "/usr/share/fonts/truetype/arphic")
NO_PDF_FONT = (
    "no CJK TrueType font that survives a PDF round trip is installed ("
    + ", ".join(f"{family} [{package}]" for family, _f, package in PDF_FONTS)
    + "); install fonts-wqy-zenhei.  Droid Sans Fallback is not used: it has no ASCII digits"
)


def installed_font_files() -> list[str]:
    """Font files on this machine: Debian's folders for the fonts above, and what fontconfig lists."""
    found = [str(p) for d in _FONT_DIRS if Path(d).is_dir() for p in Path(d).iterdir()]
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":", "file"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        found += [line.split(":", 1)[0].strip() for line in out.splitlines() if line.strip()]
    return found


def cjk_font() -> tuple[str, int] | None:
    """The PDF writer's font: the first of :data:`PDF_FONTS` installed, as (path, index in a
    collection); None when none is (see :data:`NO_PDF_FONT`)."""
    by_name: dict[str, list[str]] = {}
    for path in installed_font_files():
        by_name.setdefault(Path(path).name, []).append(path)
    for _family, file_name, _package in PDF_FONTS:
        for path in sorted(set(by_name.get(file_name, ()))):
            if Path(path).is_file():
                return path, 0
    return None


def to_pdf(doc: Document, font: tuple[str, int] | None = None, page_numbers: bool = True) -> bytes:
    """A text PDF (A4, a CJK TrueType font embedded): paragraphs wrapped to the page width, tables with
    cell borders and merged cells, page numbers in the footer.  Raises RuntimeError without a font."""
    import logging

    from fpdf import FPDF
    from fpdf.enums import WrapMode
    from fpdf.fonts import FontFace

    font = font or cjk_font()
    if font is None:
        raise RuntimeError(NO_PDF_FONT)
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    class _PDF(FPDF):
        def footer(self) -> None:
            if page_numbers:
                self.set_y(-12)
                self.set_font("cjk", size=8)
                self.cell(0, 6, f"- {self.page_no()} -", align="C")

    pdf = _PDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("cjk", "", font[0], collection_font_number=font[1])
    pdf.add_font("cjk", "B", font[0], collection_font_number=font[1])
    pdf.add_page()
    for b in doc.blocks:
        if isinstance(b, Para):
            if b.style == "title":
                pdf.set_font("cjk", "B", size=14)
                pdf.multi_cell(0, 8, b.text, align="C", new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.set_font("cjk", size=10)
                # Chinese text wraps at any character (as Word sets it), not only at spaces
                pdf.multi_cell(0, 6, b.text, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
            pdf.ln(3)
            continue
        g = grid(b)
        pdf.set_font("cjk", size=7)
        widths = _pdf_widths(b, g, pdf.epw)
        with pdf.table(
            col_widths=widths,
            first_row_as_headings=False,
            line_height=4,
            text_align="CENTER",
            headings_style=FontFace(emphasis=None),
        ) as t:
            for row in b.rows:
                tr = t.row()
                for cell in row:
                    tr.cell(cell.text, rowspan=cell.rowspan, colspan=cell.colspan)
        pdf.ln(4)
    data = bytes(pdf.output())
    # a font without a glyph would silently drop the character (fpdf2 only logs it): refuse instead
    missing = sorted({chr(u) for f in pdf.fonts.values() for u in getattr(f, "missing_glyphs", ())})
    if missing:
        raise RuntimeError(f"the font {font[0]} has no glyph for {''.join(missing[:20])!r}: the PDF would lose them")
    return data


def _pdf_widths(b: Table, g: Sequence[Sequence[str]], total: float) -> tuple[float, ...]:
    ncol = len(g[0])
    if b.kind == "3":
        label = [total * 0.11, total * 0.12, total * 0.20]
        rest = (total - sum(label)) / (ncol - 3)
        return (*label, *([rest] * (ncol - 3)))
    if b.kind == "2" or ncol <= 4:
        first = total * 0.3 if ncol > 1 else total
        return (first, *([(total - first) / max(1, ncol - 1)] * (ncol - 1)))
    textual = [max((len(r[j]) for r in g if not r[j].replace(".", "").isdigit()), default=0) for j in range(ncol)]
    weights = [max(3, min(t, 30)) for t in textual]
    s = sum(weights)
    return tuple(total * w / s for w in weights)


# ------------------------------------------------------------------ writing files


FORMATS = ("txt", "html", "docx", "xlsx", "csv", "pdf", "md")


def render(doc: Document, fmt: str) -> bytes:
    """The document in one file format (see :data:`FORMATS`)."""
    if fmt == "txt":
        return to_text(doc).encode("utf-8")
    if fmt == "md":
        return to_markdown(doc).encode("utf-8")
    if fmt == "html":
        return to_html(doc).encode("utf-8")
    if fmt == "docx":
        return to_docx(doc)
    if fmt == "xlsx":
        return to_xlsx(doc)
    if fmt == "csv":
        return to_csv(doc)
    if fmt == "pdf":
        return to_pdf(doc)
    raise ValueError(f"unknown format {fmt}")


def template_bytes(year: int, fmt: str) -> bytes:
    """The blank statutory template of ``year`` as .xlsx or .docx."""
    doc = document_from_content(template_content(year))
    if fmt == "xlsx":
        return to_xlsx(doc, protect=True)
    if fmt == "docx":
        return to_docx(doc)
    raise ValueError(f"template format must be xlsx or docx, not {fmt}")
