"""Every input format gives the same canonical cells and findings as the text version.

The seed (and the busy seed with planted defects) is rendered by nianbao.testing.render into HTML, Word,
Excel, CSV, PDF and markdown — both as printed (the seed's own lines) and in the statutory layout
with the official merged label cells — and read back by the loaders.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt, all_cells
from nianbao.read.load import load_bytes, load_file
from nianbao.testing import render as render_module
from nianbao.testing.render import (
    NO_PDF_FONT,
    Document,
    ReportContent,
    cjk_font,
    content_from_report,
    document_from_content,
    document_from_text,
    render,
    template_bytes,
    template_content,
    to_html,
    to_xlsx,
)
from nianbao.validate.batch import validate_batch
from tests.helpers import busy_seed, parse, seed_text, set_cells

FORMATS = ("html", "docx", "xlsx", "csv", "pdf", "md")


def cells_of(rep: ParsedReport) -> dict[str, tuple[float | None, State, str]]:
    return {k: (c.value, c.state, c.raw) for k, c in rep.cells.items()}


def findings_of(rep: ParsedReport) -> list[tuple[str, tuple[str, ...], object, object]]:
    return sorted(
        ((f.rule, tuple(f.cells), f.expected, f.actual) for f in validate_batch([rep])),
        key=lambda x: (x[0], x[1], str(x[2]), str(x[3])),
    )


def _need_font(fmt: str) -> None:
    if fmt == "pdf" and cjk_font() is None:
        pytest.skip(NO_PDF_FONT)


@cache
def _rendered(key: str, fmt: str) -> bytes:
    return render(_DOCS[key](), fmt)


def _seed_doc() -> Document:
    return document_from_content(content_from_report(parse(seed_text())))


def _busy(edits: dict[str, str]) -> Callable[[], Document]:
    return lambda: document_from_content(content_from_report(parse(set_cells(busy_seed(), edits))))


PLANTED = {
    # one changed table-三 cell: A01 on its row, B01 on its column
    "t3-cell": {"3:3.3.4:commercial": "2"},
    # 总计 column left blank on the detail rows (A01 + G04)
    "blank-totals": {f"3:{r}:total": "" for r in ("3.1", "3.2", "3.4.1", "3.5.2")},
    "t4-total": {"4:review:total": "4"},
    "non-numeric": {"3:3.3.1:research": "若干"},
}
_DOCS: dict[str, Callable[[], Document]] = {
    "seed": _seed_doc,
    "seed-as-printed": lambda: document_from_text(seed_text()),
    "busy": _busy({}),
    **{f"busy-{k}": _busy(v) for k, v in PLANTED.items()},
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("key", ["seed", "seed-as-printed"])
def test_seed_in_every_format_reads_as_the_text(key: str, fmt: str) -> None:
    _need_font(fmt)
    text = parse(seed_text())
    rep = load_bytes(f"seed.{fmt}", _rendered(key, fmt))
    assert rep.status == "validated", rep.reason
    assert rep.source_type == {"md": "text"}.get(fmt, fmt)
    assert (rep.agency, rep.year, rep.fmt, rep.period_text) == ("沙坡头区镇罗镇", 2023, Fmt.F2021, text.period_text)
    assert cells_of(rep) == cells_of(text)
    assert findings_of(rep) == findings_of(text)
    assert [f for f in findings_of(rep) if catalogue_severity(f[0]) == "error"] == []


def catalogue_severity(code: str) -> str:
    from nianbao.catalogue import rule

    return rule(code).severity.value


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("defect", sorted(PLANTED))
def test_planted_defect_gives_the_same_findings_in_every_format(defect: str, fmt: str) -> None:
    _need_font(fmt)
    text = parse(set_cells(busy_seed(), PLANTED[defect]))
    rep = load_bytes(f"busy.{fmt}", _rendered(f"busy-{defect}", fmt))
    assert rep.status == "validated", rep.reason
    assert cells_of(rep) == cells_of(text)
    got = findings_of(rep)
    assert got == findings_of(text)
    planted = {f[0] for f in got if f[0][0] in "ABCDG"}
    assert (
        planted
        == {
            "t3-cell": {"A01", "B01"},  # 1 + 2 = 三(七) + 四 still holds
            "blank-totals": {"A01", "B01", "G04"},
            "t4-total": {"D01"},
            "non-numeric": {"G01"},
        }[defect]
    )


def test_planted_cell_finding_exact_in_docx() -> None:
    rep = load_bytes("busy.docx", _rendered("busy-t3-cell", "docx"))
    a01 = [f for f in validate_batch([rep]) if f.rule == "A01"]
    assert [(f.cells[0], f.expected, f.actual) for f in a01] == [("3:3.3.4:total", 2, 1)]
    # the finding names the printed cell of the Word table
    assert a01[0].where == "表格2 第11行第10格"
    assert rep.cells["3:3.3.4:commercial"].where == "表格2 第11行第5格"


def test_source_locations_per_format() -> None:
    locs = {}
    for fmt in ("html", "docx", "xlsx", "csv"):
        rep = load_bytes(f"seed.{fmt}", _rendered("seed", fmt))
        locs[fmt] = rep.cells["2:penalty:decisions"].where
    assert locs == {
        "html": "表格1 第10行第2格",
        "docx": "表格1 第10行第2格",
        "xlsx": "工作表“年度报告” B42",
        "csv": "第 42 行第 2 列",
    }
    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(_rendered("seed", "xlsx"))).active
    assert (ws["A42"].value, ws["B42"].value) == ("行政处罚", 106)
    assert parse(seed_text()).cells["2:penalty:decisions"].where is None  # text: line and column instead


def test_pdf_locations_name_the_page() -> None:
    _need_font("pdf")
    rep = load_bytes("seed.pdf", _rendered("seed", "pdf"))
    assert rep.cells["3:3.3.4:natural"].where == "第2页 表格2 第11行第4格"


# ------------------------------------------------------------------ a real-world web page


def _government_page(content: ReportContent) -> bytes:
    """A saved county-site page in GBK: a layout table around the article, menus, a counter script,
    a related-reports list, rowspan/colspan tables with &nbsp; in blank cells."""
    article = to_html(document_from_content(content), realistic=False)
    body = article.split("<body>", 1)[1].rsplit("</body>", 1)[0]
    page = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{content.title}_政府信息公开年报_某县人民政府</title>
<script type="text/javascript">var a = "一、总体情况"; </script><style>td {{ font-size: 12px }}</style></head>
<body><table width="1000" align="center"><tr><td>
<div id="nav"><a href="/">首页</a> <a href="/xxgk/">信息公开</a>
<a href="/ndbg/">2022年政府信息公开工作年度报告</a></div>
</td></tr><tr><td><table width="100%"><tr><td class="content">{body}</td></tr></table>
<div class="related"><a href="/ndbg/2021.html">2021年政府信息公开工作年度报告</a></div>
</td></tr><tr><td><div class="footer">版权所有：某县人民政府 技术支持：某公司</div></td></tr></table></body></html>"""
    return page.encode("gb18030")


def test_real_world_page_with_rowspans_and_blank_totals() -> None:
    blank = {f"3:{r}:total": "" for r in ("3.1", "3.2", "3.3.4", "3.4.1", "3.5.2")}
    text = parse(set_cells(busy_seed(), blank))
    page = _government_page(content_from_report(text))
    assert b"rowspan" in page and b"&nbsp;" in page
    rep = load_bytes("ndbg_2023.htm", page)
    assert rep.status == "validated", rep.reason
    assert (rep.source_type, rep.encoding, rep.agency, rep.year) == ("html", "gb18030", "沙坡头区镇罗镇", 2023)
    assert cells_of(rep) == cells_of(text)
    for r in ("3.1", "3.3.4", "3.5.2"):
        assert rep.cells[f"3:{r}:total"].state is State.BLANK
    got = findings_of(rep)
    assert got == findings_of(text)
    a01 = {f[1][0]: (f[2], f[3]) for f in got if f[0] == "A01"}
    assert a01 == {
        "3:3.1:total": (8, 0),
        "3:3.2:total": (2, 0),
        "3:3.3.4:total": (1, 0),
        "3:3.4.1:total": (1, 0),
        "3:3.5.2:total": (2, 0),
    }
    g04 = [f for f in got if f[0] == "G04"]
    assert len(g04) == 1 and set(g04[0][1]) == {f"3:{r}:total" for r in ("3.1", "3.2", "3.3.4", "3.4.1", "3.5.2")}


def test_html_navigation_scripts_and_link_lists_are_ignored() -> None:
    rep = load_bytes("page.html", _rendered("seed", "html"))
    prose = " ".join(t for sec in rep.sections.values() for _n, t in sec)
    for noise in ("首页", "网站地图", "统计代码", "分享到", "请启用脚本", "2022年政府信息公开工作年度报告"):
        assert noise not in prose, noise
    assert rep.title == "沙坡头区镇罗镇 2023 年政府信息公开 工作年度报告"


# ------------------------------------------------------------------ Excel variants, Word numbering


def test_xlsx_one_sheet_per_table() -> None:
    text = parse(busy_seed())
    data = to_xlsx(document_from_content(content_from_report(text)), sheet_per_table=True)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sum(1 for n in z.namelist() if n.startswith("xl/worksheets/sheet")) == 4
    rep = load_bytes("busy.xlsx", data)
    assert cells_of(rep) == cells_of(text)
    assert findings_of(rep) == findings_of(text)
    assert rep.cells["3:1:natural"].where == "工作表“表三” D4"


def test_docx_automatic_numbering_of_headings() -> None:
    """Word's numbering definitions print "一、" before a heading whose text has no number."""
    import docx

    text = seed_text()
    d = docx.Document(io.BytesIO(_rendered("seed-as-printed", "docx")))
    numbered = _add_chinese_numbering(d)
    for p in d.paragraphs:
        for num in "一二三四五六":
            if p.text.startswith(f"{num}、") and len(p.text) < 40:
                p.text = p.text[2:]
                _number(p, numbered)
    buf = io.BytesIO()
    d.save(buf)
    rep = load_bytes("numbered.docx", buf.getvalue())
    assert [f.printed or f.statutory for f in rep.layout if f.kind == "section" and f.found] == [
        "总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况",
        "政府信息公开行政复议、行政诉讼情况", "存在的主要问题及改进情况", "其他需要报告的事项",
    ]  # fmt: skip
    assert findings_of(rep) == findings_of(parse(text))


def _add_chinese_numbering(d: object) -> str:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    numbering = d.part.numbering_part.element  # type: ignore[attr-defined]
    numbering.append(
        parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
            '<w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl></w:abstractNum>'
        )
    )
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    return "90"


def _number(p: object, num_id: str) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    ppr = p._p.get_or_add_pPr()  # type: ignore[attr-defined]
    ppr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr>'))


# ------------------------------------------------------------------ the template


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
@pytest.mark.parametrize("year", [2023, 2020])
def test_blank_template_reads_back_complete(year: int, fmt: str) -> None:
    rep = load_bytes(f"template.{fmt}", template_bytes(year, fmt))
    assert rep.status == "validated", rep.reason
    fmt_ = Fmt.F2019 if year <= 2020 else Fmt.F2021
    assert (rep.year, rep.fmt, rep.period_text) == (year, fmt_, f"{year}年1月1日至{year}年12月31日")
    assert set(rep.cells) >= set(all_cells(fmt_))
    assert {rep.cells[c].state for c in all_cells(fmt_)} == {State.BLANK}
    rules = {f.rule for f in validate_batch([rep])}
    assert rules <= {"G04", "E02"}, rules  # only "fill in the blanks": the layout is complete


@pytest.mark.parametrize("year", [2023, 2020])
def test_template_filled_in_excel_reads_back_loss_free(year: int) -> None:
    """A township fills the yellow cells of the template in Excel (openpyxl here) and submits it."""
    import openpyxl

    fmt = Fmt.F2019 if year <= 2020 else Fmt.F2021
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes(year, "xlsx")))
    ws = wb.active
    assert ws.protection.sheet  # labels are locked
    fill = [c for row in ws.iter_rows() for c in row if c.fill.fgColor.rgb in ("FFFFF2CC", "00FFF2CC")]
    ids = list(all_cells(fmt))
    assert len(fill) == len(ids)
    for k, (c, cid) in enumerate(zip(fill, ids, strict=True)):
        c.value = -k if cid.endswith(":change") else (k % 7) + (0.5 if cid.endswith(":amount") else 0)
    buf = io.BytesIO()
    wb.save(buf)
    rep = load_bytes("filled.xlsx", buf.getvalue())
    got = {cid: rep.cells[cid].value for cid in ids}
    want = {
        cid: float(-k if cid.endswith(":change") else (k % 7) + (0.5 if cid.endswith(":amount") else 0))
        for k, cid in enumerate(ids)
    }
    assert got == want


def test_template_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from nianbao.cli.app import app

    r = CliRunner().invoke(app, ["template", "--year", "2024", "--format", "docx", "--out", str(tmp_path / "t.docx")])
    assert r.exit_code == 0, r.output
    assert "2021 年格式" in r.output
    rep = load_file(tmp_path / "t.docx")
    assert (rep.status, rep.source_type, rep.year, rep.fmt) == ("validated", "docx", 2024, Fmt.F2021)
    bad = CliRunner().invoke(app, ["template", "--year", "2024", "--format", "pdf"])
    assert bad.exit_code == 2 and "xlsx 或 docx" in bad.output


def test_template_content_is_the_statutory_layout() -> None:
    c = template_content(2019)
    assert c.fmt is Fmt.F2019 and set(c.values) == set(all_cells(Fmt.F2019))
    assert "3:3.6:total" in c.values and "2:procurement:amount" in c.values


# ------------------------------------------------------------------ type detection by content


def test_type_is_detected_by_content_not_extension() -> None:
    cases = {
        "report.txt": (_rendered("seed", "docx"), "docx"),
        "report.pdf": (_rendered("seed", "html"), "html"),
        "report.doc": (_rendered("seed", "xlsx"), "xlsx"),
        "report.html": (seed_text().encode("utf-8"), "text"),
    }
    for name, (data, kind) in cases.items():
        rep = load_bytes(name, data)
        assert (rep.status, rep.source_type) == ("validated", kind), (name, rep.reason)
        assert cells_of(rep) == cells_of(parse(seed_text()))


def test_heavy_files_are_parsed_in_the_guarded_worker(tmp_path: Path) -> None:
    (tmp_path / "a.docx").write_bytes(_rendered("seed", "docx"))
    (tmp_path / "b.html").write_bytes(_rendered("seed", "html"))
    from nianbao.io import guard

    reps = [load_file(tmp_path / "a.docx"), load_file(tmp_path / "b.html")]
    assert [(r.status, r.source_type, len(r.cells)) for r in reps] == [
        ("validated", "docx", 200),
        ("validated", "html", 200),
    ]
    assert guard._worker is not None and guard._worker.alive()


@pytest.mark.parametrize("fmt", FORMATS)
def test_validate_command_on_every_format(tmp_path: Path, fmt: str) -> None:
    """`nianbao validate` on the seed in a format: no error; with a planted defect: the text's finding."""
    import json

    from typer.testing import CliRunner

    from nianbao.cli.app import app

    _need_font(fmt)
    runs = {}
    for key in ("seed", "busy-t4-total"):
        src = tmp_path / key
        src.mkdir()
        (src / f"report.{fmt}").write_bytes(_rendered(key, fmt))
        r = CliRunner().invoke(app, ["validate", str(src), "--out", str(tmp_path / f"out-{key}")])
        subs = json.loads((tmp_path / f"out-{key}" / "submissions.json").read_text())
        finds = json.loads((tmp_path / f"out-{key}" / "findings.json").read_text())
        runs[key] = (r.exit_code, subs, finds)
    code, subs, finds = runs["seed"]
    assert (code, [(s["status"], s["errors"], s["source_type"]) for s in subs]) == (
        0,
        [("validated", 0, {"md": "text"}.get(fmt, fmt))],
    )
    code, subs, finds = runs["busy-t4-total"]
    assert code == 1
    d01 = [f for f in finds if f["rule"] == "D01"]
    assert [(f["cells"][0], f["expected"], f["actual"]) for f in d01] == [("4:review:total", 3, 4)]
    assert ("where" in d01[0]) == (fmt != "md")  # the printed cell, for a non-text source


def test_html_charset_declared_or_detected() -> None:
    """A GBK page declaring gb2312 is read as GB18030; a UTF-8 page with a stale GBK declaration as UTF-8."""
    page = _rendered("seed", "html").decode("utf-8")
    stale = page.replace('<meta charset="utf-8">', '<meta http-equiv="Content-Type" content="text/html; charset=gbk">')
    assert stale != page
    for data, enc in ((stale.encode("utf-8"), "utf-8"), (stale.encode("gb18030"), "gb18030")):
        rep = load_bytes("page.htm", data)
        assert (rep.status, rep.encoding, rep.agency) == ("validated", enc, "沙坡头区镇罗镇")
        assert cells_of(rep) == cells_of(parse(seed_text()))


# ------------------------------------------------------------------ the PDF writer's font

DROID = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")


def _fonts(tmp_path: Path, *names: str) -> list[str]:
    paths = []
    for i, name in enumerate(names):
        p = tmp_path / f"d{i}" / name
        p.parent.mkdir()
        p.write_bytes(b"\0")
        paths.append(str(p))
    return paths


def test_only_droid_sans_fallback_means_no_pdf_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine whose only TrueType CJK font is Droid Sans Fallback: no font is chosen and the PDF
    cases skip with the message naming the fonts to install (Droid drops every ASCII digit)."""
    only_droid = _fonts(tmp_path, "DroidSansFallbackFull.ttf")
    monkeypatch.setattr(render_module, "installed_font_files", lambda: only_droid)
    assert cjk_font() is None
    with pytest.raises(pytest.skip.Exception) as skipped:
        _need_font("pdf")
    assert skipped.value.msg == NO_PDF_FONT
    assert "install fonts-wqy-zenhei" in NO_PDF_FONT and "Droid Sans Fallback is not used" in NO_PDF_FONT
    with pytest.raises(RuntimeError, match="no CJK TrueType font that survives a PDF round trip"):
        render_module.to_pdf(_seed_doc())
    _need_font("html")  # the other formats need no font


@pytest.mark.parametrize("reverse", [False, True])
def test_pdf_font_is_chosen_by_preference_not_listing_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reverse: bool
) -> None:
    droid, micro, zen = _fonts(tmp_path, "DroidSansFallbackFull.ttf", "wqy-microhei.ttc", "wqy-zenhei.ttc")
    listed = [droid, micro, zen][:: -1 if reverse else 1]
    monkeypatch.setattr(render_module, "installed_font_files", lambda: listed)
    assert cjk_font() == (zen, 0)
    monkeypatch.setattr(render_module, "installed_font_files", lambda: [p for p in listed if p != zen])
    assert cjk_font() == (micro, 0)


@pytest.mark.skipif(not DROID.is_file(), reason="Droid Sans Fallback not installed (Debian fonts-droid-fallback)")
def test_a_font_without_digits_is_refused_not_silently_lossy() -> None:
    with pytest.raises(RuntimeError, match=r"has no glyph for '.*0.*'"):
        render_module.to_pdf(_seed_doc(), font=(str(DROID), 0))
