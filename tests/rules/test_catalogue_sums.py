"""Sum rules come entirely from the catalogue: a rule added as one ``[[rule]]`` entry with its
``[rule.sum]`` terms is checked by pandera, localised and shown on the report page — no code edit.

The catalogue's own sum rules A–D compile to the very equations the code used to spell out by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from nianbao import catalogue as cat
from nianbao.catalogue import GROUP_TOTAL, ROW_TOTAL, linear_rules, sum_rule_codes, total_cells, use_catalogue
from nianbao.domain.spec import Fmt, tables
from nianbao.report.html import write_html
from nianbao.run.validation import validate_reports
from schemas import table_schema
from tests.helpers import busy_seed, parse, set_cells

NEW_RULE = """
[[rule]]
code = "B02"
family = "B"
severity = "warning"
title = "表三：测试用的组合计规则"
citation = "测试"
checks = "表三每一列：（七）总计 = （一）至（六）各项。"
why = "测试：一条只写在规则目录里的合计规则。"
message = "表三“{col_label}”列（测试规则）：各项之和为 {expected}，（七）总计填写为 {actual}。"
fix = "测试规则的改正方法。"

[rule.sum]
table = "3"
each = "column"
printed = ["3.7"]
parts = ["3.1", "3.2", "3.3.*", "3.4.*", "3.5.*", "3.6.*"]
role = "group_total"
"""


@pytest.fixture
def with_new_rule() -> Iterator[None]:
    packaged = cat._catalogue_bytes()
    use_catalogue(packaged + NEW_RULE.encode("utf-8"))
    try:
        yield
    finally:
        use_catalogue(None)


def test_the_catalogue_terms_compile_to_the_statutory_equations() -> None:
    t3, t4 = tables(Fmt.F2021)["3"], tables(Fmt.F2021)["4"]
    rules = {(r.code, r.key): r for r in linear_rules(Fmt.F2021)}
    a = rules[("A01", "3:3.3.4:*")]
    assert a.lhs == ("3:3.3.4:total",) and a.role == ROW_TOTAL
    assert a.rhs == tuple(f"3:3.3.4:{c}" for c in ("natural", "commercial", "research", "social", "legal", "other"))
    b = rules[("B01", "3:*:natural")]
    assert b.lhs == ("3:3.7:natural",) and b.role == GROUP_TOTAL
    assert b.rhs == tuple(f"3:{r.id}:natural" for r in t3.rows if r.id.startswith("3.") and r.id != "3.7")
    c = rules[("C01", "3:*:legal")]
    assert (c.lhs, c.rhs) == (("3:1:legal", "3:2:legal"), ("3:3.7:legal", "3:4:legal"))
    d = rules[("D01", "4:review:*")]
    assert d.rhs == tuple(f"4:review:{c}" for c in ("upheld", "corrected", "other", "pending"))
    assert [r.code for r in linear_rules(Fmt.F2021)].count("A01") == len(t3.rows)
    assert [r.code for r in linear_rules(Fmt.F2021)].count("D01") == len(t4.rows)
    assert sum_rule_codes() == {"A01", "B01", "C01", "D01", "E01"}
    # a total is the printed cell of a row or group total: 总计 columns and row 3.7 of 表三
    assert {"3:3.7:natural", "3:1:total", "4:review:total"} <= total_cells()
    assert not {"3:1:natural", "3:4:legal", "4:review:upheld"} & total_cells()


def test_a_sum_rule_added_to_the_catalogue_is_checked_localised_and_shown(with_new_rule: None, tmp_path: Path) -> None:
    # pandera: one named check per column of 表三
    checks = {c.name for c in table_schema(Fmt.F2021, "3").checks}
    assert {f"B02|3:*:{c.id}" for c in tables(Fmt.F2021)["3"].columns} <= checks
    assert "B02" in sum_rule_codes() and "3:3.7:natural" in total_cells()
    # a report whose 3.1 自然人 reads 7 instead of 6 breaks A01 (its row), B01 and B02 (its column)
    text = set_cells(busy_seed(), {"3:3.1:natural": "7"})
    outcome = validate_reports([parse(text, "b02.txt")])
    b02 = [f for f in outcome.findings if f.rule == "B02"]
    assert [(f.severity, f.cells[0], f.expected, f.actual) for f in b02] == [("warning", "3:3.7:natural", 12, 11)]
    assert b02[0].message == "表三“自然人”列（测试规则）：各项之和为 12，（七）总计填写为 11。"
    assert sorted(f.rule for f in outcome.findings if f.severity != "info") == ["A01", "B01", "B02"]
    # localised: the one cell that makes A01, B01 and B02 hold again
    assert [(s.cell, s.reported, s.suggested) for s in b02[0].suspects or []] == [("3:3.1:natural", 7.0, 6.0)]
    assert b02[0].localisation == "located"
    # rendered: the report page lists the finding and badges the suspect cell with its code
    write_html(outcome, tmp_path)
    page = HTMLParser(next((tmp_path / "reports").iterdir()).read_text(encoding="utf-8"))
    assert "表三“自然人”列（测试规则）：各项之和为 12，（七）总计填写为 11。" in page.text()
    cell = page.css_first('td[data-cell="3:3.1:natural"]')
    assert "B02" in [a.text() for a in cell.css("a.badge")]


def test_the_packaged_catalogue_is_back_after_a_temporary_one(with_new_rule: None) -> None:
    assert "B02" in {r.code for r in linear_rules(Fmt.F2021)}
    use_catalogue(None)
    assert "B02" not in {r.code for r in linear_rules(Fmt.F2021)}
    assert "B02" not in {c.name.split("|")[0] for c in table_schema(Fmt.F2021, "3").checks}


def test_sum_findings_of_several_reports_and_rules_read_each_reports_own_cells() -> None:
    from tests.helpers import busy_seed, set_cells, validate_texts

    texts = {
        "a_2023.txt": set_cells(busy_seed(), {"3:3.3.4:commercial": "2"}),
        "b_2023.txt": busy_seed(),
        "c_2023.txt": set_cells(busy_seed(), {"3:1:total": ""}),
        "d_2023.txt": set_cells(busy_seed(), {"3:3.3.4:commercial": "5"}),
    }
    row = [f"3:3.3.4:{c}" for c in ("total", "natural", "commercial", "research", "social", "legal", "other")]
    got = [
        (f.file, f.cells, f.expected, f.actual)
        for f in validate_texts(texts)
        if f.rule == "A01" and f.cells[0] in ("3:3.3.4:total", "3:1:total")
    ]
    assert [(g[0], g[1] == row if g[1][0] == "3:3.3.4:total" else g[1][0], g[2], g[3]) for g in got] == [
        ("a_2023.txt", True, 2, 1),
        ("c_2023.txt", "3:1:total", 13, 0),  # a blank total: 0 in the sum
        ("d_2023.txt", True, 5, 1),
    ]
