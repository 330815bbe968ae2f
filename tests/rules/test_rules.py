"""Every rule of the catalogue: a passing and a failing fixture, with the exact finding asserted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from nianbao.catalogue import catalogue
from tests import rule_registry
from tests.helpers import busy_seed, seed_text, set_cells, validate_texts

T3_COLS = ("natural", "commercial", "research", "social", "legal", "other", "total")


@dataclass
class Case:
    rule: str
    id: str
    bad: Callable[[], str]
    cells: list[str]
    expected: Any = None
    actual: Any = None
    good: Callable[[], str] = busy_seed
    count: int = 1  # findings of this rule in the bad text
    check_values: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def edit(edits: dict[str, str], base: Callable[[], str] = busy_seed) -> Callable[[], str]:
    return lambda: set_cells(base(), edits)


def replace(old: str, new: str, base: Callable[[], str] = busy_seed) -> Callable[[], str]:
    def f() -> str:
        t = base()
        assert old in t, old
        return t.replace(old, new)

    return f


def drop_line(containing: str, base: Callable[[], str] = busy_seed) -> Callable[[], str]:
    def f() -> str:
        lines = base().split("\n")
        hit = [ln for ln in lines if containing in ln]
        assert len(hit) == 1, hit
        return "\n".join(ln for ln in lines if containing not in ln)

    return f


ROW_3_3_4 = [f"3:3.3.4:{c}" for c in T3_COLS]
OUTCOME_ROWS = [
    "3.1", "3.2", *(f"3.3.{i}" for i in range(1, 9)), *(f"3.4.{i}" for i in range(1, 4)),
    *(f"3.5.{i}" for i in range(1, 6)), *(f"3.6.{i}" for i in range(1, 4)),
]  # fmt: skip

CASES = [
    # A01: row 3.3.4 — commercial changed 1 -> 2 and the total left at 1 (B/C also fire for commercial)
    Case(
        "A01",
        "row-total",
        edit({"3:3.3.4:commercial": "2"}),
        ["3:3.3.4:total", *ROW_3_3_4[:-1]],
        expected=2,
        actual=1,
    ),
    # A01 with a blank total: blank counts as 0 in the sum and still breaks the rule
    Case(
        "A01",
        "blank-total",
        edit({"3:1:total": ""}),
        [f"3:1:{c}" for c in ("total", *T3_COLS[:-1])],
        expected=13,
        actual=0,
        extra={"also": "G04"},
    ),
    # B01: an outcome cell and its row total both +1 -> only 三(七) of that column and 总计 fail
    Case(
        "B01",
        "outcome-sum",
        edit({"3:3.5.1:legal": "1", "3:3.5.1:total": "1"}),
        ["3:3.7:legal", *(f"3:{r}:legal" for r in OUTCOME_ROWS)],
        expected=1,
        actual=0,
        count=2,
    ),
    # C01: 上年结转 natural 2 -> 3 with its row total: 一+二 = 14 but 三(七)+四 = 12
    Case(
        "C01",
        "balance",
        edit({"3:2:natural": "3", "3:2:total": "3"}),
        ["3:1:natural", "3:2:natural", "3:3.7:natural", "3:4:natural"],
        expected=12,
        actual=13,
        count=2,
    ),
    Case(
        "D01",
        "t4-total",
        edit({"4:review:total": "4"}),
        ["4:review:total", "4:review:upheld", "4:review:corrected", "4:review:other", "4:review:pending"],
        expected=3,
        actual=4,
    ),
    Case("G01", "text-in-cell", edit({"3:3.3.1:research": "若干"}), ["3:3.3.1:research"], "数字", "若干"),
    Case("G02", "negative", edit({"2:penalty:decisions": "-5"}), ["2:penalty:decisions"], "≥ 0", -5),
    Case("G03", "fraction", edit({"2:coercion:decisions": "2.5"}), ["2:coercion:decisions"], "整数", 2.5),
    Case(
        "G04",
        "blank-cells",
        edit({"3:3.3.1:research": "", "3:3.3.2:research": "—", "3:3.3.3:research": "/"}),
        ["3:3.3.1:research", "3:3.3.2:research", "3:3.3.3:research"],
        "数字（没有发生的填 0）",
        "空白",
    ),
    Case(
        "G05", "huge-number", edit({"2:licensing:decisions": "1" * 40}), ["2:licensing:decisions"], check_values=False
    ),
    Case("I01", "missing-section", drop_line("五、存在的主要问题及改进情况"), [], check_values=False),
    Case(
        "I02",
        "section-order",
        lambda: _swap_sections(busy_seed()),
        [],
        check_values=False,
    ),
    Case("I03", "missing-table", lambda: _drop_table4(busy_seed()), ["4:*:*"], check_values=False),
    Case("I04", "missing-row", drop_line("7.属于行政执法案卷"), ["3:3.3.7:*"], check_values=False),
    Case(
        "I05",
        "missing-column",
        replace("法律服务机构", "律师机构"),
        ["3:*:legal"],
        check_values=False,
    ),
    Case(
        "I06",
        "alias",
        replace("社会组织", "社会组织", base=seed_text),
        ["3:*:social"],
        expected="社会公益组织",
        actual="社会组织",
        good=lambda: busy_seed().replace("\t社会组织\t", "\t社会公益组织\t"),
    ),
    Case(
        "I07",
        "unreadable-row",
        edit({"3:3.4.2:natural": "0\t0\t0\t5\t0\t0\t0\t0\t9"}),
        ["3:3.4.2:*"],
        check_values=False,
    ),
    Case(
        "I08",
        "duplicate-row",
        lambda: _duplicate_line(busy_seed(), "8.属于行政查询事项"),
        ["3:3.3.8:*"],
        check_values=False,
    ),
    Case(
        "P01",
        "period-year",
        replace("至 2023 年 12 月 31 日", "至 2022 年 12 月 31 日"),
        [],
        expected=2023,
        actual="2023年1月1日至2022年12月31日",
    ),
    Case(
        "P02",
        "no-period",
        replace("本报告统计数据从 2023 年 1 月 1 日至 2023 年 12 月 31 日。", ""),
        [],
        check_values=False,
    ),
    Case(
        "P03",
        "no-year-in-title",
        replace("沙坡头区镇罗镇 2023 年政府信息公开 工作年度报告", "政府信息公开工作年度报告"),
        [],
        check_values=False,
    ),
    Case("R01", "outdated-format", lambda: _to_2019_layout(busy_seed()), [], expected="2021", actual="2019"),
    # I12: a column label one character off (先行 for 现行): read as 现行有效件数, with a warning
    Case(
        "I12",
        "near-column-label",
        replace("现行有效件数", "先行有效件数"),
        ["2:*:in_force"],
        expected="现行有效件数",
        actual="先行有效件数",
    ),
    # I12: a row label with a character added (其他法律和行政法规禁止公开)
    Case(
        "I12",
        "near-row-label",
        replace("2.其他法律行政法规禁止公开", "2.其他法律和行政法规禁止公开"),
        ["3:3.3.2:*"],
        expected="其他法律行政法规禁止公开",
        actual="2.其他法律和行政法规禁止公开",
    ),
    # I13: （六）其他处理 printed as one row (its printed total) without the three sub-rows
    Case(
        "I13",
        "merged-other-handling",
        lambda: _merge_other_handling(busy_seed()),
        ["3:3.6.3:*"],
        expected="（六）其他处理 1.、2.、3. 三行",
        actual="(六) 其他处理",
    ),
]


def _swap_sections(text: str) -> str:
    a, b = "五、存在的主要问题及改进情况", "六、其他需要报告的事项"
    i, j = text.index(a), text.index(b)
    return text[:i] + text[j:].rstrip("\n") + "\n\n" + text[i:j]


def _drop_table4(text: str) -> str:
    lines = text.split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("四、政府信息公开行政复议"))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("五、"))
    return "\n".join([*lines[: start + 1], "", "本年度无行政复议、行政诉讼。", "", *lines[end:]])


def _duplicate_line(text: str, containing: str) -> str:
    lines = text.split("\n")
    i = next(k for k, ln in enumerate(lines) if containing in ln)
    return "\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])


def _merge_other_handling(text: str, values: str = "0\t0\t0\t0\t0\t0\t0") -> str:
    """Table 三 （六） printed as one row (the 2021 format's three sub-rows left out)."""
    lines = text.split("\n")
    i = next(k for k, ln in enumerate(lines) if "(六) 其他处理" in ln)
    return "\n".join([*lines[:i], f"\t(六) 其他处理\t{values}", *lines[i + 3 :]])


def _to_2019_layout(text: str) -> str:
    """Table 二 第（一）项 and table 三 （六） in the 2019 layout (the rest left as is)."""
    t = text.replace("本年制发件数\t本年废止件数\t现行有效件数", "本年新制作数量\t本年新公开数量\t对外公开总数量")
    t = t.replace("行政规范性文件\t", "规范性文件\t")
    lines = t.split("\n")
    i = next(k for k, ln in enumerate(lines) if "(六) 其他处理" in ln)
    return "\n".join([*lines[:i], "\t(六) 其他处理\t0\t0\t0\t0\t0\t0\t0", *lines[i + 3 :]])


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}-{c.id}")
def test_rule_fires_exactly(case: Case) -> None:
    good = [f for f in validate_texts({"good.txt": case.good()}) if f.rule == case.rule]
    assert good == [], f"{case.rule} fired on the passing fixture: {[g.message for g in good]}"
    found = [f for f in validate_texts({"bad.txt": case.bad()}) if f.rule == case.rule]
    assert len(found) == case.count, [f.message for f in found]
    f = found[0]
    assert f.cells == case.cells
    assert f.severity == catalogue()[case.rule].severity.value
    if case.check_values:
        assert f.expected == case.expected
        assert f.actual == case.actual
    assert f.message and f.fix
    if "also" in case.extra:
        others = {g.rule for g in validate_texts({"bad.txt": case.bad()})}
        assert case.extra["also"] in others


# the cases above are this module's fixtures (tests/rules/test_rule_families.py checks the catalogue)
rule_registry.COVERED.update(c.rule for c in CASES)


def test_seed_has_no_error_and_blank_is_not_zero() -> None:
    fs = validate_texts({"seed.txt": seed_text()})
    assert [f for f in fs if f.severity == "error"] == []
    # no last year in the batch: said once (info), never a failure
    assert [(f.rule, f.cells) for f in fs] == [("E02", []), ("I06", ["3:*:social"])]


# P04 needs a file name that names the agency (the cases above are all "bad.txt"): its fixtures are here.
NO_AGENCY_TITLE = ("沙坡头区镇罗镇 2023 年政府信息公开 工作年度报告", "2023 年政府信息公开工作年度报告")
rule_registry.COVERED.add("P04")


def test_p04_agency_from_the_file_name() -> None:
    good = validate_texts({"示例县南川镇_2023.txt": busy_seed()})
    assert [f for f in good if f.rule in ("P03", "P04")] == []
    fs = validate_texts({"示例县南川镇_2023.txt": busy_seed().replace(*NO_AGENCY_TITLE)})
    assert [f for f in fs if f.rule == "P03"] == []
    p04 = [f for f in fs if f.rule == "P04"]
    assert [(f.severity, f.cells, f.expected, f.actual, f.agency) for f in p04] == [
        ("warning", [], "标题中的机关名称", "示例县南川镇", "示例县南川镇")
    ]
    assert p04[0].message == (
        "标题中没有机关名称，已按文件名认定为“示例县南川镇”（文件：示例县南川镇_2023.txt），请核对。"
    )


def test_p04_agency_from_the_registry_entry_the_file_name_names() -> None:
    from nianbao.domain.registry import Agency
    from nianbao.validate.batch import validate_batch
    from tests.helpers import parse

    rep = parse(busy_seed().replace(*NO_AGENCY_TITLE), "南川镇_2023.txt")
    assert (rep.agency, rep.agency_source) == ("南川镇", "file")
    registry = [Agency("示例县", "示例县南川镇人民政府", "township"), Agency("示例县", "示例县东湖镇", "township")]
    fs = [f for f in validate_batch([rep], registry=registry) if f.rule == "P04"]
    assert (rep.agency, rep.agency_source) == ("示例县南川镇人民政府", "registry")
    assert [(f.actual, f.message) for f in fs] == [
        (
            "示例县南川镇人民政府",
            "标题中没有机关名称，已按文件名对应的登记表机关认定为“示例县南川镇人民政府”（文件：南川镇_2023.txt），请核对。",
        )
    ]
