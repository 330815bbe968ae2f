"""The auditor's views of the demo run say the same things in the same plain words (issue 14):
one meaning of "通过" in every view, and no developer words (cell ids, ISO times, English stage
names, template placeholders, hashes) on any page or in the workbook."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from typer.testing import CliRunner

from nianbao.cli import app

ROOT = Path(__file__).resolve().parents[1]


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
