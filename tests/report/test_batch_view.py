"""The batch checks on the auditor's overview, in Chinese (rules M: which ran, which failed, which
did not run and why); Great Expectations' Data Docs are not linked from any auditor page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from typer.testing import CliRunner

from nianbao.cli.app import app
from tests.helpers import ROOT

SAMPLE = ROOT / "data" / "submissions"


def test_overview_lists_the_batch_checks_in_chinese(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE, inbox, ignore=shutil.ignore_patterns(".nianbao"))
    # a second copy of one report under another agency's name: M05 (same figures) must fail
    src = sorted((inbox / "2023" / "示例县").glob("*.txt"))[0]
    text = src.read_text(encoding="utf-8")
    agency = src.stem.split("_")[0]
    (inbox / "2023" / "示例县" / "示例县抄袭镇_2023.txt").write_text(
        text.replace(agency, "示例县抄袭镇"), encoding="utf-8"
    )
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["validate", str(inbox), "--out", str(out)])
    assert r.exit_code == 1, r.output
    finds = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    t = HTMLParser((out / "index.html").read_text(encoding="utf-8"))
    rows = t.css("#batch-check-list tr")[1:]
    got = {(row.attributes["data-rule"], row.css("td")[1].text(), row.css("td")[2].text()) for row in rows}
    rules = {g[0] for g in got}
    assert {"M02", "M04", "M05", "M06", "M07", "M08"} <= rules
    assert ("M05", "没有两个机关的统计数字完全相同", "未通过") in got
    assert ("M02", "同一机关同一年度只有一份报告", "通过") in got
    assert ("M08", "表三“一、本年新收政府信息公开申请数量 · 总计”不超过 10000", "通过") in got
    # without a registry M01 and M03 did not run, and the page says why
    assert any(g[0] == "M01" and g[2] == "未运行" for g in got)
    failed = {g[0] for g in got if g[2] == "未通过"}
    assert failed == {f["rule"] for f in finds if f["rule"].startswith("M")}
    text = t.css_first("#batch-checks").text()
    assert "Great Expectations" not in text and "expect_" not in text and "f_" not in text
    # no auditor page links to the Data Docs (they stay in gx/ for the ops engineer, named in run.json)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert (out / run["gx_docs"]).is_file()
    for page in [out / "index.html", *(out / "counties").glob("*.html"), *(out / "reports").glob("*.html")]:
        doc = HTMLParser(page.read_text(encoding="utf-8"))
        hrefs = [a.attributes.get("href") or "" for a in doc.css("a")]
        assert not any(h.startswith("gx/") or "/gx/" in h or "data_docs" in h for h in hrefs), page
        assert "Data Docs" not in doc.text(), page
