"""The auditor's views of the demo run say the same things in the same plain words (issue 14):
one meaning of "通过" in every view, and no developer words (cell ids, ISO times, English stage
names, template placeholders, hashes) on any page or in the workbook."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from typer.testing import CliRunner

from nianbao.cli.app import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The bundled demo inbox (registry beside it) through ``nianbao run --no-prefect``."""
    tmp = tmp_path_factory.mktemp("demo")
    (tmp / "data").mkdir()
    shutil.copytree(ROOT / "data" / "submissions", tmp / "data" / "submissions")
    for name in ("registry.csv", "renames.csv"):
        shutil.copy(ROOT / "data" / name, tmp / "data" / name)
    r = CliRunner().invoke(
        app, ["run", "--root", str(tmp / "data" / "submissions"), "--out", str(tmp / "reports"), "--no-prefect"]
    )
    assert r.exit_code == 1, r.output  # the planted defects
    out = (tmp / "reports" / "latest").resolve()
    return {"out": out, "output": r.output}


def _json(out: Path, name: str) -> Any:
    return json.loads((out / name).read_text(encoding="utf-8"))


def _dom(p: Path) -> HTMLParser:
    return HTMLParser(p.read_text(encoding="utf-8"))


def _state(s: dict[str, Any]) -> str:
    if s["status"] != "validated":
        return "无法读取"
    return "有错误" if s["errors"] else "仅有警告" if s["warnings"] else "通过"


STATES = ("通过", "仅有警告", "有错误", "无法读取")
CSS = ("ok", "warning", "error", "unreadable")  # the ids of their cards


def test_pass_means_one_thing_in_every_view(demo: dict[str, Any]) -> None:
    """Issue 14.2: 通过 = no error and no warning — the CLI summary, its county table and the Prefect
    artifact (run.json's counties), the overview's cards, county rows and per-year table, the
    county pages and the workbook all count the same reports."""
    out = demo["out"]
    want = Counter(_state(s) for s in _json(out, "submissions.json"))
    assert (want["通过"], want["仅有警告"], want["有错误"]) == (12, 3, 10)  # the demo data
    # the CLI summary
    line = "报告：" + "，".join(f"{k} {want[k]} 份" for k in STATES)
    assert line in demo["output"]
    # the nightly county table (the CLI's 各县（区）报送情况 and the Prefect artifact)
    rows = _json(out, "run.json")["counties"]
    assert list(rows[0]) == ["县（区）", "年度", *STATES, "未提交", "文件数"]
    assert {k: sum(r[k] for r in rows) for k in STATES} == {k: want[k] for k in STATES}
    idx = _dom(out / "index.html")
    # the cards
    cards = {k: int(idx.css_first(f"#n-{c}").text()) for k, c in zip(STATES, CSS, strict=True)}
    assert cards == {k: want[k] for k in STATES}
    # 各县（区）情况 and 各县（区）分年度情况
    head = [c.text() for c in idx.css("#county-summary tr")[0].css("th")]
    body = [[c.text() for c in r.css("td")] for r in idx.css("#county-summary tr")[1:]]
    assert {k: sum(int(r[head.index(k)]) for r in body) for k in STATES} == {k: want[k] for k in STATES}
    head = [c.text() for c in idx.css("#counties tr")[0].css("th")]
    body = [[c.text() for c in r.css("td")] for r in idx.css("#counties tr")[1:]]
    assert {k: sum(int(r[head.index(k)]) for r in body) for k in STATES} == {k: want[k] for k in STATES}
    # the county pages
    total: Counter[str] = Counter()
    for page in (out / "counties").glob("*.html"):
        d = _dom(page)
        for k, c in zip(STATES, CSS, strict=True):
            total[k] += int(d.css_first(f"#c-{c}").text())
    assert {k: total[k] for k in STATES} == {k: want[k] for k in STATES}
    # the workbook
    wb = openpyxl.load_workbook(out / "findings.xlsx")
    facts = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if r and r[0]}
    assert facts["通过（无错误和警告）"] == want["通过"]
    listed = Counter(r[4] for r in wb["报告清单"].iter_rows(min_row=2, values_only=True) if r[0] is not None)
    assert {k: listed[k] for k in STATES} == {k: want[k] for k in STATES}


# ------------------------------------------------------------------ guidance (issue 14.3)


def _report_page(out: Path, file: str) -> HTMLParser:
    s = next(s for s in _json(out, "submissions.json") if s["file"] == file)
    from nianbao.report.names import page_name

    return _dom(out / "reports" / page_name(s["file"], s["agency"], s["year"]))


def _flat(node: Any) -> str:
    return " ".join(node.text().split())


def test_blank_total_and_text_against_table_say_which_side_is_printed(demo: dict[str, Any]) -> None:
    """东湖镇 2023 left its 总计 column blank: A01 says 空白 (not "报告填写为 0"); H04/H05/H07 say what the
    text and the table print, and — localisation suspecting the table cell — ask to correct the
    table, not the text."""
    out = demo["out"]
    file = "2023/示例县/示例县东湖镇_2023.txt"
    a01 = [f for f in _json(out, "findings.json") if f["file"] == file and f["rule"] == "A01"]
    want = "表三“（一）予以公开”行：总计应为各类申请人之和 1，报告填写为 空白（未填写）。"
    assert a01[0]["message"] == want
    assert not any("报告填写为 0" in f["message"] for f in a01)
    t = _report_page(out, file)
    items = {li.attributes["data-rule"]: li for li in reversed(t.css("li[data-rule]"))}  # the first of each
    assert [_flat(li.css_first(".f-vals")) for li in t.css('li[data-rule="A01"]')] == [
        "应为：1 报告填写：空白（未填写）"
    ] * 3
    h04 = items["H04"]
    assert _flat(h04.css_first(".f-vals")) == "正文写：1 表格填：空白（未填写）"
    assert _flat(h04.css_first(".table-wrong")) == (
        "按表内勾稽关系推断，更可能填错的是表格：表三“（一）予以公开”行“总计”列由 空白（未填写） 改为 1"
        "（见上方“疑似错误单元格”）。先改表格，再核对正文是否与改正后的表格一致。"
    )
    assert "把正文或表三改为一致" not in h04.text() and "应为" not in h04.text()
    # the workbook says the same: 报告填写 空白（未填写） for the blank totals
    wb = openpyxl.load_workbook(out / "findings.xlsx")
    rows = [r for r in wb["问题清单"].iter_rows(min_row=2, values_only=True) if r[3] == file and r[4] == "A01"]
    assert [(r[11], r[12]) for r in rows] == [(1, "空白（未填写）")] * 3
    rows = [r for r in wb["问题清单"].iter_rows(min_row=2, values_only=True) if r[3] == file and r[4] == "H04"]
    assert [(r[11], r[12]) for r in rows] == [(None, "正文写 1，表格填 空白（未填写）")]
    rows = [r for r in wb["问题清单"].iter_rows(min_row=2, values_only=True) if r[3] == file and r[4] == "H04"]
    assert [(r[11], r[12]) for r in rows] == [(None, "正文写 1，表格填 空白（未填写）")]
    for rule in ("H05", "H07"):
        assert _flat(items[rule].css_first(".f-vals")) == "正文写：1 表格填：空白（未填写）"
        assert "更可能填错的是表格" in items[rule].css_first(".table-wrong").text()


def test_the_likely_fix_is_said_once_and_referred_to(demo: dict[str, Any]) -> None:
    out = demo["out"]
    t = _report_page(out, "2023/示例县/示例县东湖镇_2023.txt")
    likely = t.css_first("#likely-fix").text()
    assert likely.startswith("最可能的改法：把表三“（一）予以公开”行“总计”列由 空白 改为 1")
    assert t.body is not None and t.body.text().count("最可能的改法：") == 1
    a01 = t.css('li[data-rule="A01"]')
    first = a01[0].attributes["id"]
    assert _flat(a01[0].css_first(".f-fix")) == (
        "改正建议：最可能的改法见上方“疑似错误单元格”。逐一核对该行各类申请人的数字，改正填错的单元格，或把总计改为各列之和。"
    )
    for li in a01[1:]:
        assert _flat(li.css_first(".f-fix")) == "改正建议：最可能的改法见上方“疑似错误单元格”。另见 A01 的改正建议。"
        assert [a.attributes["href"] for a in li.css(".f-fix a")] == ["#suspects", f"#{first}"]


def test_one_badge_per_rule_and_only_the_likely_wrong_cell_stands_out(demo: dict[str, Any]) -> None:
    out = demo["out"]
    # 南川镇 2023: one digit wrong (3:3.3.7:other); A01 involves its row, B01 its column
    t = _report_page(out, "2023/示例县/示例县南川镇_2023.txt")
    assert len(t.css("td.hl")) == 7 + 22 - 1  # its row, its column (21 outcomes and （七）总计), lightly
    assert [n.attributes["data-cell"] for n in t.css("td.key")] == ["3:3.3.7:other"]  # strongly: one cell
    assert t.css_first("td.key").attributes["class"] == "v hl hl-error key key-error suspect"
    assert [a.text() for a in t.css_first('td[data-cell="3:3.3.7:other"]').css("a.badge")] == ["A01", "B01"]
    # 东湖镇 2023: the three suspects red, the blank cells (G04) yellow, the rest light
    t = _report_page(out, "2023/示例县/示例县东湖镇_2023.txt")
    assert {n.attributes["data-cell"] for n in t.css("td.key-error")} == {"3:3.1:total", "3:3.2:total", "3:3.4.1:total"}
    assert {n.attributes["data-cell"] for n in t.css("td.key-error")} == {
        n.attributes["data-cell"] for n in t.css("td.suspect")
    }
    assert len(t.css("td.key-warning")) == 18  # the other blank totals
    assert [a.text() for a in t.css_first('td[data-cell="3:3.1:total"]').css("a.badge")] == ["A01", "B01", "G04", "H04"]
    # no page shows a rule's badge twice on one cell
    for page in (out / "reports").glob("*.html"):
        for td in _dom(page).css("td.hl"):
            rules = [a.text().split(" ")[0] for a in td.css("a.badge")]
            assert len(rules) == len(set(rules)), (page.name, td.attributes["data-cell"], rules)


def test_badges_count_repeats_of_a_rule() -> None:
    from nianbao.outcome import Finding
    from nianbao.report.html import badges_html
    from nianbao.report.quality import Flag

    def f(rule: str) -> Finding:
        return Finding("a.txt", "甲镇", 2023, rule, "error", ["3:1:total"], 1, 0, "", report=0)

    findings = {1: f("A01"), 2: f("A01"), 3: f("B01"), 4: f("A01")}
    fl = Flag("error", findings=[1, 2, 3, 4], rules=["A01", "B01"], primary=[1, 2, 3, 4])
    assert badges_html(fl, findings) == (
        '<a class="badge b-error" href="#f-1">A01 ×3</a><a class="badge b-error" href="#f-3">B01</a>'
    )


# ------------------------------------------------------------------ plain words (issue 14.6)

DEVELOPER_WORDS = {
    "a cell id": re.compile(r"(?<![\w:])[234]:(?:[a-z_]+|\d(?:\.\d)*|\*):(?:[a-z_]+|\*)(?!\w)"),
    "an ISO time": re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d"),
    "a placeholder": re.compile(r"\{[A-Za-z_]+\}"),
    "a hash": re.compile(r"(?<![0-9a-f])[0-9a-f]{16,}(?![0-9a-f])"),
    "an English stage name": re.compile(
        r"(?<![-\w])(?:discover|parse|localise|validate(?:_\w+)?|batch_expectations|store_lookup|publish)(?![-\w])"
    ),
    "a statistician's word": re.compile(r"z 值|z值|稳健|MAD"),
    "a file type code": re.compile(r"文件类型：\s*(?:text|csv|html|pdf|docx|xlsx)"),
    "a fractional median": re.compile(r"中位数 \d+\.\d"),
}


def _visible(page: Path) -> str:
    """What an auditor reads on a page: its text and tooltips — not the copyable command of
    ``nianbao ack`` (its arguments are cell ids by design) nor attributes the browser does not show."""
    d = _dom(page)
    for n in d.css("code.cmd"):
        n.decompose()
    parts = [d.body.text(separator=" ") if d.body else ""]
    parts += [n.attributes.get("title") or "" for n in d.css("[title]")]
    parts += [n.text() for n in d.css("title")]
    return "\n".join(parts)


def _scan(where: str, text: str) -> list[str]:
    return [f"{where}: {what} “{m.group(0)}”" for what, rx in DEVELOPER_WORDS.items() for m in rx.finditer(text)]


def test_no_developer_words_on_any_auditor_page_or_in_the_workbook(demo: dict[str, Any]) -> None:
    """Issue 14.6: every page of the demo run (overview, county pages, report pages, rules.html)
    and every sheet of findings.xlsx, scanned for raw cell ids, ISO times, {placeholders}, hashes,
    English stage names and statisticians' words."""
    out = demo["out"]
    pages = [out / "index.html", out / "rules.html", *sorted((out / "counties").glob("*.html"))]
    pages += sorted((out / "reports").glob("*.html"))
    assert len(pages) == 2 + 2 + 25
    found: list[str] = []
    for page in pages:
        found += _scan(page.relative_to(out).as_posix(), _visible(page))
    wb = openpyxl.load_workbook(out / "findings.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    found += _scan(f"findings.xlsx {ws.title}!{c.coordinate}", c.value)
    assert found == []
    # and the words that replace them
    idx = _dom(out / "index.html")
    assert re.fullmatch(r"运行时间 \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d ｜ .*", _flat(idx.css_first("header .sub")))
    assert "查找文件" in idx.css_first("#run").text() and "读取报告" in idx.css_first("#run").text()
    t = _report_page(out, "2023/示例县/示例县南川镇_2023.txt")
    assert "文件类型：纯文本，UTF-8 编码" in _flat(t.css_first("#summary")) or "文件类型：纯文本" in _flat(
        t.css_first("#summary")
    )
    assert "表三“（三）不予公开 7.属于行政执法案卷”行“其他”列" in t.css_first("#suspects").text()
