"""The auditor's quality report: HTML pages, findings.xlsx, rule reference, output safety."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from typer.testing import CliRunner

from nianbao.catalogue import catalogue
from nianbao.cli.app import app
from nianbao.domain.registry import Agency
from nianbao.domain.spec import Fmt, cell_words, tables
from nianbao.io.atomic import UnsafePath
from nianbao.outcome import Suspect, expand_summaries
from nianbao.report.excel import FILLS, FINDING_COLUMNS, _column_label, _value_columns, write_excel
from nianbao.report.html import template_words, write_html
from nianbao.report.names import clean_text, page_name, page_path, safe_stem
from nianbao.run.validation import validate_reports
from tests.helpers import (
    FORMULA_AGENCY,
    ROOT,
    SCRIPT_AGENCY,
    TRAVERSAL_AGENCY,
    parse,
    seed_text,
    set_cells,
    write_hostile_reports,
)
from tests.rules.test_rules import _to_2019_layout

runner = CliRunner()
SAMPLE = ROOT / "data" / "submissions"


def files_under(p: Path) -> set[Path]:
    return {x for x in p.rglob("*") if x.is_file()}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`nianbao validate` on the bundled sample plus three hostile reports."""
    base = tmp_path_factory.mktemp("qr")
    hostile = write_hostile_reports(base / "hostile")
    before = files_under(base)
    out = base / "out"
    r = runner.invoke(app, ["validate", str(SAMPLE), str(base / "hostile"), "--out", str(out)])
    assert r.exit_code == 1, r.output
    subs = json.loads((out / "submissions.json").read_text(encoding="utf-8"))
    finds = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    summaries = json.loads((out / "run.json").read_text(encoding="utf-8"))["summaries"]
    return {
        "base": base,
        "out": out,
        "hostile": hostile,
        "before": before,
        "subs": subs,
        "finds": finds,
        # findings.json and the summarised notes of run.json (E02, I06), one record per file
        "every": finds + expand_summaries(summaries, subs),
        "output": r.output,
    }


def page_of(run: dict[str, object], file: str) -> Path:
    subs = run["subs"]
    assert isinstance(subs, list)
    s = next(s for s in subs if s["file"] == file)
    out = run["out"]
    assert isinstance(out, Path)
    return out / "reports" / page_name(s["file"], s["agency"], s["year"])


def dom(path: Path) -> HTMLParser:
    return HTMLParser(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ files and names


def test_outputs_written_and_nothing_outside_out(run: dict) -> None:
    out: Path = run["out"]
    for name in ("index.html", "rules.html", "findings.xlsx", "changes.json", "submissions.json", "findings.json"):
        assert (out / name).is_file(), name
    pages = sorted(p.name for p in (out / "reports").iterdir())
    assert len(pages) == len(run["subs"]) == 28
    # every file created by the run is inside --out, and no temp file is left behind
    created = files_under(run["base"]) - run["before"]
    assert created and all(out in p.parents for p in created)
    assert [p for p in created if p.name.startswith(".") and p.suffix == ".tmp"] == []
    ours = [out / "index.html", out / "rules.html", out / "findings.xlsx", out / "changes.json"]
    ours += list((out / "reports").iterdir())
    assert {p.stat().st_mode & 0o777 for p in ours} == {0o644}  # readable by the auditors' web server
    assert "质量报告：" in run["output"] and "index.html" in run["output"]


def test_hostile_agency_page_names_stay_in_reports(run: dict) -> None:
    hostile: dict[str, Path] = run["hostile"]
    p = page_of(run, str(hostile["traversal.txt"]))
    assert p.parent == run["out"] / "reports" and p.is_file()
    assert re.fullmatch(r"etc_x_2023-[0-9a-f]{8}\.html", p.name)
    s = page_of(run, str(hostile["script.txt"]))
    assert re.fullmatch(r"script_alert_1_script_2023-[0-9a-f]{8}\.html", s.name)
    assert not (run["base"] / "etc").exists()


@pytest.mark.parametrize(
    ("text", "stem"),
    [
        ("../../etc/x", "etc_x"),
        ("..", "report"),
        ("a/b\\c:d", "a_b_c_d"),
        ("镇罗镇\x00\n\t", "镇罗镇"),
        ("沙坡头区 镇罗镇", "沙坡头区_镇罗镇"),
        ("ＡＢＣ１２３", "ABC123"),  # full-width forms folded
        ("<script>alert(1)</script>", "script_alert_1_script"),
        ("", "report"),
        (None, "report"),
        ("镇" * 100, "镇" * 40),
    ],
)
def test_safe_stem(text: str | None, stem: str) -> None:
    assert safe_stem(text) == stem


def test_page_name_is_unique_and_stable() -> None:
    a = page_name("in/a.txt", "镇罗镇", 2023)
    assert a == page_name("in/a.txt", "镇罗镇", 2023)
    assert a != page_name("in/b.txt", "镇罗镇", 2023)
    assert a.startswith("镇罗镇_2023-") and a.endswith(".html")
    assert page_name("in/../../x.txt", None, None).startswith("x-")


def test_page_path_refuses_escapes(tmp_path: Path) -> None:
    assert page_path(tmp_path, "reports", "a.html") == (tmp_path / "reports" / "a.html").resolve()
    for bad in ("../a.html", "../../etc/passwd", "sub/a.html", "/etc/passwd"):
        with pytest.raises(UnsafePath):
            page_path(tmp_path, "reports", bad)


def test_clean_text_removes_controls_and_surrogates() -> None:
    assert clean_text("a\x00b\x1bc\td\ne\ud800f") == "a\ufffdb\ufffdc\td\ne\ufffdf"


# ------------------------------------------------------------------ escaping, self-containment


def test_script_agency_is_shown_as_text(run: dict) -> None:
    out: Path = run["out"]
    page = page_of(run, str(run["hostile"]["script.txt"]))
    raw = page.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    t = dom(page)
    assert t.css("script") == []
    assert t.css_first("#report-title").text().startswith(SCRIPT_AGENCY)
    assert t.css_first("title").text().startswith(SCRIPT_AGENCY)
    idx = dom(out / "index.html")
    assert idx.css("script") == []
    names = [a.text() for a in idx.css("a.report-link")]
    assert SCRIPT_AGENCY in names and TRAVERSAL_AGENCY in names and FORMULA_AGENCY in names
    # the chart's labels are escaped text too (the bar's tooltip carries the full name)
    assert any(n.text().startswith(SCRIPT_AGENCY + " 2023：") for n in idx.css("svg title"))
    assert "<script>alert(1…" in [n.text() for n in idx.css("svg text")]


def test_pages_are_self_contained(run: dict) -> None:
    out: Path = run["out"]
    for page in [out / "index.html", out / "rules.html", *sorted((out / "reports").iterdir())]:
        t = dom(page)
        assert t.css("script") == [] and t.css("link") == [] and t.css("img") == [] and t.css("iframe") == []
        for node in t.css("[href], [src]"):
            for attr in ("href", "src"):
                v = node.attributes.get(attr)
                if v is not None:
                    assert not re.match(r"^([a-z][a-z0-9+.-]*:|//)", v, re.I), (page.name, v)
        for style in t.css("style"):
            assert "@import" not in style.text() and "url(" not in style.text()
        assert "Content-Security-Policy" in page.read_text(encoding="utf-8")


def test_every_link_target_exists(run: dict) -> None:
    out: Path = run["out"]
    ids_of: dict[Path, set[str]] = {}

    def ids(page: Path) -> set[str]:
        if page not in ids_of:
            ids_of[page] = {n.attributes["id"] or "" for n in dom(page).css("[id]")}
        return ids_of[page]

    checked = 0
    for page in [out / "index.html", out / "rules.html", *sorted((out / "reports").iterdir())]:
        for a in dom(page).css("a[href]"):
            href = a.attributes["href"] or ""
            target, _, anchor = href.partition("#")
            path = (page.parent / target).resolve() if target else page.resolve()
            assert path.is_file(), (page.name, href)
            if anchor:
                assert anchor in ids(path), (page.name, href)
                checked += 1
    assert checked > 100


# ------------------------------------------------------------------ highlighted cells


def test_highlighted_cells_are_exactly_the_finding_cells(run: dict) -> None:
    finds: list[dict] = run["every"]
    for s in run["subs"]:
        if s["status"] != "validated":
            continue
        t = dom(page_of(run, s["file"]))
        mine = [f for f in finds if f["file"] == s["file"]]
        want_cells = {c for f in mine for c in f["cells"] if "*" not in c}
        want_cells |= {s["cell"] for f in mine for s in f.get("suspects") or []}
        want_elements = {c for f in mine for c in f["cells"] if "*" in c}
        got_cells = {n.attributes["data-cell"] for n in t.css("td.hl")}
        got_elements = {n.attributes["data-element"] for n in t.css(".hl[data-element]")}
        assert got_cells == want_cells, s["file"]
        assert got_elements == want_elements, s["file"]
        # every finding is listed once, with its rule
        assert sorted(n.attributes["data-rule"] for n in t.css("li[data-rule]")) == sorted(f["rule"] for f in mine)


def test_nanchuan_page_shows_rule_expected_and_fix(run: dict) -> None:
    file = str(SAMPLE / "2023" / "示例县" / "示例县南川镇_2023.txt")
    t = dom(page_of(run, file))
    row = {f"3:3.3.7:{c.id}" for c in tables(Fmt.F2021)["3"].columns}
    col = {f"3:{r.id}:other" for r in tables(Fmt.F2021)["3"].rows if r.id.startswith("3.")}
    assert {n.attributes["data-cell"] for n in t.css("td.hl.hl-error")} == row | col
    finds = {f["rule"]: f for f in run["finds"] if f["file"] == file}
    total = t.css_first('td[data-cell="3:3.3.7:total"]')
    assert total.attributes["data-rules"] == "A01"
    badge = total.css_first("a.badge")
    assert badge.text() == "A01"
    li = t.css_first(badge.attributes["href"] or "")
    assert li.attributes["data-rule"] == "A01"
    text = li.text()
    assert "应为：4" in text and "报告填写：0" in text
    # the likely fix (error localisation's, the same for A01 and B01) is said once, above
    likely, _, own = finds["A01"]["fix"].partition("。")
    assert t.css_first("#likely-fix").text() == likely + "。"
    assert f"改正建议：最可能的改法见上方“疑似错误单元格”。{own}" in " ".join(text.split()).replace(
        "“ 疑似错误单元格 ”", "“疑似错误单元格”"
    )
    assert li.css_first("a.rule-link").attributes["href"] == "../rules.html#A01"
    other = t.css_first('td[data-cell="3:3.7:other"]')
    assert [a.text() for a in other.css("a.badge")] == ["B01"]
    # the localised cell (the planted digit typo) is outlined, with the suggested value
    suspects = {s["cell"] for f in finds.values() for s in f.get("suspects") or []}
    assert {n.attributes["data-cell"] for n in t.css("td.suspect")} == suspects
    assert {r.attributes["data-cell"] for r in t.css("#suspects tr[data-cell]")} == suspects
    if suspects:  # error localisation ran (it fills Finding.suspects)
        assert suspects == {"3:3.3.7:other"}
        assert [x.text() for x in t.css("#suspects tr[data-cell] a")] == ["A01", "B01"]
    # a cell involved in a sum rule but not its printed side carries no badge (only the tint)
    assert t.css_first('td[data-cell="3:3.3.7:natural"]').css("a.badge") == []
    assert "源文件第" in (total.attributes["title"] or "")


def test_structural_finding_marks_the_missing_row(run: dict) -> None:
    file = str(SAMPLE / "2023" / "示例县" / "示例县长桥镇_2023.txt")
    t = dom(page_of(run, file))
    th = t.css_first('th[data-element="3:3.3.2:*"]')
    assert "hl-error" in (th.attributes["class"] or "")
    assert [n.text() for n in t.css('td[data-cell^="3:3.3.2:"]')] == ["缺"] * 7
    li = t.css_first('#structural li[data-rule="I04"]')
    assert "缺少“（三）不予公开 2.其他法律行政法规禁止公开”行" in li.text()


def test_text_finding_lists_its_source_line(run: dict) -> None:
    file = str(SAMPLE / "2023" / "示例县" / "示例县王昌乡_2023.txt")
    li = dom(page_of(run, file)).css_first('#structural li[data-rule="P01"]')
    assert "源文件第 3 行" in li.text()
    assert "2022年1月1日至2022年12月31日" in li.text()


def test_suspects_block_and_cells(tmp_path: Path) -> None:
    text = set_cells(seed_text(), {"3:3.3.4:natural": "1"})
    outcome = validate_reports([parse(text, "s.txt")])
    for f in outcome.findings:
        f.suspects = None
    a01 = next(f for f in outcome.findings if f.rule == "A01")
    a01.suspects = [Suspect("3:3.3.4:natural", 1.0, 0.0, "同时使 A01 和 B01 成立")]
    write_html(outcome, tmp_path)
    t = dom(next((tmp_path / "reports").iterdir()))
    rows = t.css("#suspects tr[data-cell]")
    assert [r.attributes["data-cell"] for r in rows] == ["3:3.3.4:natural"]
    assert [c.text(strip=True) for c in rows[0].css("td")][1:3] == ["1", "0"]
    assert "同时使 A01 和 B01 成立" in rows[0].text()
    cell = t.css_first('td[data-cell="3:3.3.4:natural"]')
    assert "suspect" in (cell.attributes["class"] or "").split()
    assert cell.css_first(".suggest").text() == "建议 0"
    assert [a.text() for a in cell.css("a.badge")] == ["A01"]
    assert [n.attributes["data-cell"] for n in t.css("td.suspect")] == ["3:3.3.4:natural"]


def test_2019_format_page(tmp_path: Path) -> None:
    outcome = validate_reports([parse(_to_2019_layout(seed_text()), "old.txt")])
    write_html(outcome, tmp_path)
    t = dom(next((tmp_path / "reports").iterdir()))
    ids = {n.attributes["data-cell"] for n in t.css("td[data-cell]")}
    assert ids == set(c for tb in tables(Fmt.F2019).values() for c in tb.cells())
    assert "3:3.6:natural" in ids and "3:3.6.1:natural" not in ids
    heads = [n.text() for n in t.css("table.t2 th")]
    assert "本年新制作数量" in heads and "政府集中采购" in heads and "本年制发件数" not in heads
    assert [n.attributes["data-rule"] for n in t.css("li[data-rule]")].count("R01") == 1


def test_unreadable_file_gets_a_page(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "minutes.txt").write_text("会议纪要\n今天开会。\n", encoding="utf-8")
    r = runner.invoke(app, ["validate", str(src), "--out", str(tmp_path / "out")])
    assert r.exit_code == 1
    pages = list((tmp_path / "out" / "reports").iterdir())
    assert len(pages) == 1
    t = dom(pages[0])
    assert t.css_first("#unreadable-reason").text() == (
        "原因：文件中没有找到年度报告的标题、章节或统计表，不是政府信息公开工作年度报告。"
    )
    assert t.css("table.stat") == []
    idx = dom(tmp_path / "out" / "index.html")
    assert idx.css_first("#n-unreadable").text() == "1"


def test_unreadable_page_is_named_after_its_file_and_says_why(tmp_path: Path) -> None:
    """Issue 14.5: a damaged Word file of 示例县青山镇: the page is titled from the file name, says the
    file could not be read and why (Word 文件已损坏, not an encoding failure), never "错误 0 条"."""
    src = tmp_path / "in" / "2023" / "示例县"
    src.mkdir(parents=True)
    (src / "示例县青山镇_2023.docx").write_bytes(bytes(range(256)) * 10)
    r = runner.invoke(app, ["validate", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert r.exit_code == 1
    [page] = list((tmp_path / "out" / "reports").iterdir())
    t = dom(page)
    assert t.css_first("#report-title").text() == "示例县青山镇（据文件名） 2023 年 政府信息公开工作年度报告"
    summary = " ".join(t.css_first("#summary").text().split())
    assert "错误 0 条" not in summary and "文件类型" not in summary and "SHA-256" not in summary
    assert "这个文件不能作为年度报告读取，因此没有校验其中的数字和文字" in summary
    assert (
        t.css_first("#unreadable-reason").text()
        == "原因：无法读取文件：Word 文件已损坏（内容不是有效的 Word 文件格式）。"
    )
    assert t.css_first("#unreadable-fix").text() == "请报送单位：重新导出完整的报告文件后重新提交。"
    idx = dom(tmp_path / "out" / "index.html")
    assert [a.text() for a in idx.css("#report-list a.report-link")] == ["示例县青山镇（据文件名）"]
    assert "示例县青山镇（据文件名）" in r.output.replace("\n", "") or "示例县青山镇_2023.docx" in r.output


# ------------------------------------------------------------------ overview


def test_overview_counts(run: dict) -> None:
    t = dom(run["out"] / "index.html")
    subs = run["subs"]
    val = [s for s in subs if s["status"] == "validated"]
    n = {k: t.css_first(f"#n-{k}").text() for k in ("files", "ok", "error", "warning", "unreadable", "new")}
    assert n == {
        "files": "28",
        "ok": str(sum(1 for s in val if not s["errors"] and not s["warnings"])),
        "error": str(sum(1 for s in val if s["errors"])),
        "warning": str(sum(1 for s in val if not s["errors"] and s["warnings"])),
        "unreadable": "0",
        "new": str(len(run["finds"])),
    }
    assert int(n["error"]) >= 11  # 8 planted defects of the sample + the 3 hostile reports
    # worst first: the report list is ordered by errors, then warnings
    rows = t.css("#report-list tr")[1:]
    errs = [int(r.css("td")[4].text()) for r in rows]
    assert errs == sorted(errs, reverse=True)
    assert rows[0].css_first("a").text() == "示例县东湖镇"
    by_rule = {r.attributes["data-rule"]: r.css("td")[3].text() for r in t.css("#by-rule tr[data-rule]")}
    expect: dict[str, int] = {}
    for f in run["every"]:  # (a summarised note: once per report it applies to)
        expect[f["rule"]] = expect.get(f["rule"], 0) + 1
    assert by_rule == {k: str(v) for k, v in expect.items()}
    assert len(t.css("#chart svg rect")) == sum(
        1 for s in val if s["errors"] or s["warnings"] for k in ("errors", "warnings") if s[k]
    )


def test_registry_and_gx_links(tmp_path: Path) -> None:
    outcome = validate_reports([parse(seed_text(), "in/a.txt")])
    outcome.registry = [
        Agency("沙坡头区", "沙坡头区镇罗镇人民政府", "township"),
        Agency("沙坡头区", "沙坡头区迎水桥镇", "township"),
    ]
    outcome.info = replace(outcome.info, gx_docs="gx/data_docs/local_site/index.html")
    (tmp_path / "gx/data_docs/local_site").mkdir(parents=True)
    (tmp_path / "gx/data_docs/local_site/index.html").write_text("<html></html>", encoding="utf-8")
    write_html(outcome, tmp_path)
    t = dom(tmp_path / "index.html")
    cells = [c.text() for c in t.css("#registry tr")[1].css("td")]
    assert cells[:3] == ["2023", "2", "1"]
    assert [n.attributes["data-agency"] for n in t.css("#registry .tag")] == ["沙坡头区迎水桥镇"]
    # Great Expectations' Data Docs (English, for the ops engineer) are never linked from the
    # auditor's pages, whatever the run says about them (the batch checks are listed in Chinese)
    for docs in ("gx/data_docs/local_site/index.html", "../../etc/passwd", "javascript:alert(1)", "gx/none.html"):
        outcome.info = replace(outcome.info, gx_docs=docs)
        write_html(outcome, tmp_path)
        t = dom(tmp_path / "index.html")
        assert t.css("#gx-docs") == [] and "Data Docs" not in t.text()
        assert [a for a in t.css("a") if "gx/" in (a.attributes["href"] or "")] == []
        assert [a for a in t.css("a") if "alert" in (a.attributes["href"] or "")] == []


# ------------------------------------------------------------------ rule reference


def test_rules_page_has_an_anchor_per_rule(run: dict) -> None:
    t = dom(run["out"] / "rules.html")
    sections = {n.attributes["id"]: n for n in t.css("section.rule")}
    assert list(sections) == list(catalogue())
    for code, r in catalogue().items():
        text = sections[code].text()
        for part in (r.title, r.citation, r.checks, r.why, r.fix, r.message):
            assert template_words(part) in text, (code, part)
        assert not re.search(r"\{[a-z_]+\}", text), code  # no {placeholder}: what it stands for instead
    i06 = sections["I06"].text()
    assert "“〔报告中的文字〕”与规定文字“〔规定文字〕”不同（可接受的别称）。" in i06
    assert {a.attributes["href"] for a in t.css("#toc a")} == {f"#{c}" for c in catalogue()}


# ------------------------------------------------------------------ Excel


def test_workbook_sheets_and_findings(run: dict) -> None:
    wb = openpyxl.load_workbook(run["out"] / "findings.xlsx")
    assert wb.sheetnames == ["汇总", "各县（区）", "报告清单", "问题清单", "数值"]
    ws = wb["问题清单"]
    assert [c.value for c in ws[1]] == [h for h, _w in FINDING_COLUMNS]
    assert ws.freeze_panes == "A2"
    n = len(run["finds"])
    assert ws.auto_filter.ref == f"A1:S{n + 1}"
    assert ws.max_row == n + 1
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    # worst first (tests/test_workbook.py checks the order); 序号 is the finding's number in findings.json
    # the cells in the auditor's words, never their ids (issue 14.6)
    assert sorted((r[0], r[4], r[8]) for r in rows) == [
        (
            k + 1,
            f["rule"],
            "；".join(cell_words(c) for c in f["cells"][:20])
            + (f"等共 {len(f['cells'])} 格" if len(f["cells"]) > 20 else ""),
        )
        for k, f in enumerate(run["finds"])
    ]
    assert {r[9] for r in rows} == {len(f["cells"]) or None for f in run["finds"]}
    assert {r[7] for r in rows} == {"新发现"}
    assert {r[5] for r in rows} <= {"错误", "警告", "提示"}
    rep = wb["报告清单"]
    assert rep.freeze_panes == "A2" and rep.max_row == len(run["subs"]) + 1
    assert [r[3] for r in rep.iter_rows(min_row=2, values_only=True)] == [s["file"] for s in run["subs"]]


def test_workbook_strings_stay_text(run: dict) -> None:
    wb = openpyxl.load_workbook(run["out"] / "findings.xlsx")
    ws = wb["报告清单"]
    cells = {c.value: c for row in ws.iter_rows(min_row=2, min_col=2, max_col=2) for c in row}
    assert cells[SCRIPT_AGENCY].data_type == "s"
    formula = cells[FORMULA_AGENCY]
    assert formula.data_type == "s" and formula.value == FORMULA_AGENCY and formula.quotePrefix
    assert not cells[SCRIPT_AGENCY].quotePrefix
    assert cells[TRAVERSAL_AGENCY].data_type == "s"
    # the printed "=1+2" of a cell: text in the findings sheet and in the values sheet
    finds = wb["问题清单"]
    g01 = next(r for r in finds.iter_rows(min_row=2) if r[4].value == "G01" and r[1].value == FORMULA_AGENCY)
    assert g01[12].value == "=1+2" and g01[12].data_type == "s" and g01[12].quotePrefix
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (sheet.title, c.coordinate, c.value)


def test_workbook_values_sheet_highlights(run: dict) -> None:
    wb = openpyxl.load_workbook(run["out"] / "findings.xlsx")
    ws = wb["数值"]
    assert ws.freeze_panes == "E2"
    ids = _value_columns()
    assert [c.value for c in ws[1]][4:] == [_column_label(c) for c in ids]
    assert ids[:3] == ["2:rules:issued", "2:rules:repealed", "2:rules:in_force"]
    assert "3:3.6:natural" in ids and "2:procurement:amount" in ids  # 2019-only cells follow
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
    col = {cid: i + 5 for i, cid in enumerate(ids)}
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == SCRIPT_AGENCY)
    finds = [f for f in run["finds"] if f["file"] == str(run["hostile"]["script.txt"])]
    flagged = {c for f in finds for c in f["cells"] if "*" not in c}
    err = "FF" + FILLS["error"].lstrip("#")
    for cid, j in col.items():
        cell = row[j - 1]
        fill = cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None
        if cid in flagged:
            assert fill == err, cid
        elif cid in tables(Fmt.F2021)["3"].cells():
            assert fill is None, cid
    assert row[col["3:3.3.4:natural"] - 1].value == 1
    assert row[col["3:3.3.4:natural"] - 1].data_type == "n"
    frow = next(r for r in ws.iter_rows(min_row=2) if r[0].value == FORMULA_AGENCY)
    cell = frow[col["3:3.1:natural"] - 1]
    assert (cell.value, cell.data_type) == ("=1+2", "s")


def test_write_excel_alone(tmp_path: Path) -> None:
    outcome = validate_reports([parse(seed_text(), "a.txt")])
    path = write_excel(outcome, tmp_path)
    assert path == (tmp_path / "findings.xlsx").resolve()
    wb = openpyxl.load_workbook(path)
    assert wb["问题清单"].max_row == 1 + len(outcome.findings)


def test_suspect_alternatives_and_cause_wording(tmp_path: Path) -> None:
    localise = pytest.importorskip("nianbao.localise")
    text = set_cells(seed_text(), {"3:3.3.4:natural": "1"})
    outcome = validate_reports([parse(text, "s.txt")])
    for f in outcome.findings:
        f.suspects = None
    a01 = next(f for f in outcome.findings if f.rule == "A01")
    a01.suspects = [
        Suspect("3:3.3.4:natural", 1.0, 0.0, "digit_typo"),
        Suspect("3:3.3.4:total", 0.0, 1.0, "wrong_value", alternative=1),
    ]
    write_html(outcome, tmp_path)
    t = dom(next((tmp_path / "reports").iterdir()))
    rows = [[c.text(strip=True) for c in r.css("td")] for r in t.css("#suspects tr[data-cell]")]
    assert [r[0] for r in rows] == ["改法 1", "改法 2"]
    assert rows[0][4] == localise.CAUSES_ZH["digit_typo"] and rows[1][4] == localise.CAUSES_ZH["wrong_value"]
    assert "有 2 种改法同样能使合计成立" in t.css_first("#suspects").text()
    assert {n.attributes["data-cell"] for n in t.css("td.suspect")} == {"3:3.3.4:natural", "3:3.3.4:total"}


def test_missing_agencies_and_counties_from_the_run(tmp_path: Path) -> None:
    """The nightly flow computes the missing agencies (with renames) and per-county rows itself."""
    outcome = validate_reports([parse(seed_text(), "in/a.txt")])
    outcome.registry = [
        Agency("沙坡头区", "沙坡头区镇罗镇", "township"),
        Agency("沙坡头区", "沙坡头区迎水桥镇", "township"),
        Agency("中宁县", "中宁县石空镇", "township"),
    ]
    missing = (
        {"county": "沙坡头区", "year": 2023, "agency": "沙坡头区迎水桥镇"},
        {"county": "中宁县", "year": 2023, "agency": "中宁县石空镇"},
    )
    counties = (
        {
            "县（区）": "沙坡头区",
            "年度": 2023,
            "通过": 1,
            "仅有警告": 0,
            "有错误": 0,
            "无法读取": 0,
            "未提交": 1,
            "文件数": 1,
        },
        {
            "县（区）": "中宁县",
            "年度": 2023,
            "通过": 0,
            "仅有警告": 0,
            "有错误": 0,
            "无法读取": 0,
            "未提交": 1,
            "文件数": 0,
        },
    )
    outcome.info = replace(outcome.info, missing=missing, counties=counties)
    write_html(outcome, tmp_path)
    t = dom(tmp_path / "index.html")
    assert [c.text() for c in t.css("#registry tr")[1].css("td")][:3] == ["2023", "3", "1"]
    assert [n.attributes["data-agency"] for n in t.css("#registry .tag")] == ["沙坡头区迎水桥镇", "中宁县石空镇"]
    rows = [[c.text() for c in r.css("th, td")] for r in t.css("#counties tr")]
    assert rows == [
        ["县（区）", "年度", "通过", "仅有警告", "有错误", "无法读取", "未提交", "文件数"],
        ["沙坡头区", "2023", "1", "0", "0", "0", "1", "1"],
        ["中宁县", "2023", "0", "0", "0", "0", "1", "0"],
    ]


def test_a_planted_symlink_in_out_is_refused(tmp_path: Path) -> None:
    """`out/reports` pointing elsewhere (left by someone): no page is written there, exit 2."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "reports").symlink_to(elsewhere, target_is_directory=True)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(seed_text(), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(tmp_path / "in"), "--out", str(out)])
    assert r.exit_code == 2
    assert "结果未写出" in r.output and "不在输出目录" in r.output
    assert list(elsewhere.iterdir()) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    agency=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
        min_size=1,
    ),
    raw=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
        max_size=30,
    ),
)
def test_any_text_stays_text(tmp_path: Path, agency: str, raw: str) -> None:
    """Whatever a submission prints as its agency or in a cell, the page shows it as text."""
    text = set_cells(seed_text(), {"3:3.1:natural": raw or "0"}).replace("沙坡头区镇罗镇", "甲" + agency, 1)
    outcome = validate_reports([parse(text, "x.txt")])
    out = tmp_path / "o"
    write_html(outcome, out)
    write_excel(outcome, out)
    fo = outcome.files[0]
    page = out / "reports" / page_name(fo.file, fo.agency, fo.year)
    assert page.parent == out / "reports" and page.is_file()
    t = dom(page)
    assert t.css("script") == [] and t.css("iframe") == [] and t.css("img") == []
    assert len(t.css("h1")) == 1 and len(t.css("table.stat")) == 6
    if fo.agency:
        assert t.css_first("#report-title").text().startswith(clean_text(fo.agency))
    shown = t.css_first('td[data-cell="3:3.1:natural"]').text(deep=False)
    c = outcome.reports[0].cells.get("3:3.1:natural")
    if c is None or c.state.value == "missing":
        assert shown == "缺"
    elif c.raw:
        assert shown == clean_text(c.raw)
    else:
        assert shown == ""
    wb = openpyxl.load_workbook(out / "findings.xlsx")
    for row in wb["报告清单"].iter_rows(min_row=2):
        assert all(c.data_type != "f" for c in row)
