"""Reading what a report says about itself and its labels, in the forms agencies print them: titles
(agency, year), the statistical period, section headings, near labels (I12), the format from the
layout (2019 or 2021, R01) in every text shape, the single （六）其他处理 row (I13), and the copy rule
(L01) comparing tables and prose honestly."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import squash
from nianbao.domain.spec import Fmt
from nianbao.read import labels, meta
from nianbao.read.meta import agency_from_file
from nianbao.rules.copies import similarity
from nianbao.testing.render import (
    Document,
    as_2019,
    content_from_report,
    document_from_content,
    text_with_rows,
    to_layout_text,
    to_markdown,
    to_text,
)
from nianbao.validate.batch import validate_batch
from tests.helpers import busy_seed, parse, set_cells, validate_texts
from tests.rules.test_rules import _merge_other_handling

SEED_TITLE = "沙坡头区镇罗镇 2023 年政府信息公开 工作年度报告"
SEED_PERIOD = "本报告统计数据从 2023 年 1 月 1 日至 2023 年 12 月 31 日。"
AGENCY = "沙坡头区镇罗镇"


def _with_title(title: str) -> ParsedReport:
    text = busy_seed()
    assert text.startswith("\n\n" + SEED_TITLE)  # the title on line 3
    return parse(text.replace(SEED_TITLE, title, 1))


# ------------------------------------------------------------------ titles

TITLES = [
    # (printed title lines, agency, year, printed title as kept, its first line)
    ("沙坡头区镇罗镇2023年政府信息公开工作年度报告", AGENCY, "沙坡头区镇罗镇2023年政府信息公开工作年度报告", 3),
    ("2023年度沙坡头区镇罗镇政府信息公开工作年度报告", AGENCY, "2023年度沙坡头区镇罗镇政府信息公开工作年度报告", 3),
    ("2023年沙坡头区镇罗镇政府信息公开年报", AGENCY, "2023年沙坡头区镇罗镇政府信息公开年报", 3),
    ("沙坡头区镇罗镇2023年政府信息公开年报", AGENCY, "沙坡头区镇罗镇2023年政府信息公开年报", 3),
    ("沙坡头区镇罗镇2023年度政府信息公开年度报告", AGENCY, "沙坡头区镇罗镇2023年度政府信息公开年度报告", 3),
    ("沙坡头区镇罗镇政府信息公开2023年度工作报告", AGENCY, "沙坡头区镇罗镇政府信息公开2023年度工作报告", 3),
    (
        "《沙坡头区镇罗镇 2023 年政府信息公开工作年度报告》",
        AGENCY,
        "《沙坡头区镇罗镇 2023 年政府信息公开工作年度报告》",
        3,
    ),
    (
        "首页 > 政务公开 > 政府信息公开年报\n来源：沙坡头区镇罗镇人民政府\n发布时间：2024-01-20 09:00\n"
        "字号：大 中 小\n沙坡头区镇罗镇2023年政府信息公开工作年度报告",
        AGENCY,
        "沙坡头区镇罗镇2023年政府信息公开工作年度报告",
        7,
    ),
    (
        "当前位置：首页 > 信息公开 > 年度报告\n\n沙坡头区镇罗镇人民政府\n2023 年政府信息公开工作年度报告",
        "沙坡头区镇罗镇人民政府",
        "沙坡头区镇罗镇人民政府 2023 年政府信息公开工作年度报告",
        5,
    ),
    (
        "沙坡头区镇罗镇\n2023 年政府信息公开\n工作年度报告",
        AGENCY,
        "沙坡头区镇罗镇 2023 年政府信息公开工作年度报告",
        3,
    ),
    ("沙坡头区镇罗镇2023年政府信息公开\n工作年度报告", AGENCY, "沙坡头区镇罗镇2023年政府信息公开工作年度报告", 3),
]


@pytest.mark.parametrize(("title", "agency", "printed", "line"), TITLES, ids=[f"title{k}" for k in range(len(TITLES))])
def test_title_forms(title: str, agency: str, printed: str, line: int) -> None:
    rep = _with_title(title)
    assert (rep.agency, rep.year, rep.title, rep.title_line, rep.agency_source) == (agency, 2023, printed, line, None)
    fs = validate_batch([rep])
    assert [f.rule for f in fs if f.rule in ("P01", "P02", "P03", "P04", "I01")] == []


def test_a_title_without_agency_takes_the_file_name_and_says_so() -> None:
    rep = parse(busy_seed().replace(SEED_TITLE, "2023 年政府信息公开工作年度报告"), "示例县南川镇_2023.txt")
    assert (rep.agency, rep.year, rep.agency_source) == ("示例县南川镇", 2023, "file")
    # a file name that names no agency: no agency, and P03 says the title lacks it
    rep = parse(busy_seed().replace(SEED_TITLE, "2023 年政府信息公开工作年度报告"), "report_2023.txt")
    assert (rep.agency, rep.agency_source) == (None, None)
    assert [f.message for f in validate_batch([rep]) if f.rule == "P03"] == [
        "未能从标题中识别机关名称（标题：“2023 年政府信息公开工作年度报告”）。"
    ]


@pytest.mark.parametrize(
    ("name", "agency"),
    [
        ("示例县南川镇_2023.txt", "示例县南川镇"),
        ("2023年示例县南川镇政府信息公开工作年度报告.pdf", "示例县南川镇"),
        ("county/示例县南川镇-2023年报.docx", "示例县南川镇"),
        ("report_2023.txt", None),
        ("2023.txt", None),
    ],
)
def test_agency_from_file_name(name: str, agency: str | None) -> None:
    assert agency_from_file(name) == agency


@pytest.mark.parametrize(
    "chrome",
    [
        "首页 > 政务公开 > 年度报告\n来源：本站",
        "沙坡头区人民政府门户网站\n",
        "政府信息公开专栏",
        "当前位置：首页>信息公开>法定主动公开内容>政府信息公开年报",
    ],
)
def test_chrome_is_never_the_agency(chrome: str) -> None:
    rep = _with_title(f"{chrome}\n2023年政府信息公开工作年度报告")
    assert (rep.agency, rep.year, rep.title) == (None, 2023, "2023年政府信息公开工作年度报告")


# ------------------------------------------------------------------ the statistical period

PERIODS = [
    "本报告中所列数据的统计期限自2023年1月1日起至2023年12月31日止。",
    "本年度报告中所列数据统计期限从2023年1月1日起至2023年12月31日止。",
    "本报告所列数据统计时限为2023年1月1日至2023年12月31日。",
    "本报告数据时限：2023年1月1日至2023年12月31日。",
    "本年度报告中所列数据统计期限为2023年1月1日至12月31日。",
    "本报告所列数据的统计期限为 2023 年 1 月 1 日至 12 月 31 日。",
    "本报告统计数据从 2023 年 1 月 1 日至 2023 年 12 月 31 日。",
    "本报告所列数据的时间范围为2023年1月1日至2023年12月31日。",
    "本报告统计时段：2023年1月1日—2023年12月31日。",
]


@pytest.mark.parametrize("sentence", PERIODS)
def test_period_wordings(sentence: str) -> None:
    rep = parse(busy_seed().replace(SEED_PERIOD, sentence))
    assert (rep.period_text, rep.period_full_year, rep.period_line) == ("2023年1月1日至2023年12月31日", True, 5)
    assert [f.rule for f in validate_batch([rep]) if f.rule in ("P01", "P02")] == []


def test_period_without_end_year_of_another_year_is_still_p01() -> None:
    rep = parse(busy_seed().replace(SEED_PERIOD, "本报告所列数据统计期限为2022年1月1日至12月31日。"))
    assert rep.period_text == "2022年1月1日至2022年12月31日"
    fs = [f for f in validate_batch([rep]) if f.rule == "P01"]
    assert [(f.expected, f.actual) for f in fs] == [(2023, "2022年1月1日至2022年12月31日")]


# ------------------------------------------------------------------ section headings


def test_section_heading_variant_is_an_alias_not_missing() -> None:
    rep = parse(busy_seed().replace("六、其他需要报告的事项", "六、其他需报告的事项"))
    fs = validate_batch([rep])
    assert [f.rule for f in fs if f.rule in ("I01", "I02")] == []
    assert [(f.rule, f.actual) for f in fs if f.rule == "I06" and f.cells == []] == [("I06", "其他需报告的事项")]


def test_sections_renumbered_when_one_is_left_out() -> None:
    """Section 四 left out: 五 and 六 printed as 四 and 五 are found by their words."""
    text = busy_seed()
    start = text.index("四、政府信息公开行政复议")
    end = text.index("五、存在的主要问题及改进情况")
    text = text[:start] + text[end:]
    text = text.replace("五、存在的主要问题及改进情况", "四、存在的主要问题及改进情况")
    text = text.replace("六、其他需要报告的事项", "五、其他需要报告的事项")
    fs = validate_texts({"a.txt": text})
    assert sorted((f.rule, f.expected) for f in fs if f.rule in ("I01", "I02")) == [
        ("I01", "四、政府信息公开行政复议、行政诉讼情况")
    ]
    assert sorted(f.actual for f in fs if f.rule == "I06" and f.cells == []) == sorted(
        ["四、存在的主要问题及改进情况", "五、其他需要报告的事项"]
    )


def test_problems_section_numbered_six_after_an_added_section() -> None:
    text = busy_seed().replace(
        "五、存在的主要问题及改进情况", "五、政府信息公开收费及减免情况\n\n无。\n\n六、存在的主要问题及改进情况"
    )
    text = text.replace("六、其他需要报告的事项", "七、其他需要报告的事项")
    fs = validate_texts({"a.txt": text})
    assert [f.rule for f in fs if f.rule in ("I01", "I02")] == []


# ------------------------------------------------------------------ near labels (I12)

TYPOS = [
    # (statutory label in the seed, printed instead, element, statutory label named)
    ("现行有效件数", "先行有效件数", "2:*:in_force", "现行有效件数"),
    ("本年废止件数", "本年废址件数", "2:*:repealed", "本年废止件数"),
    ("行政规范性文件\t", "行政规范姓文件\t", "2:normative:*", "行政规范性文件"),
    ("2.其他法律行政法规禁止公开", "2.其他法律和行政法规禁止公开", "3:3.3.2:*", "其他法律行政法规禁止公开"),
    ("4.保护第三方合法权益", "4.保护第三方合法权利", "3:3.3.4:*", "保护第三方合法权益"),
    ("1.本机关不掌握相关政府信息", "1.本机关不掌握相关的政府信息", "3:3.4.1:*", "本机关不掌握相关政府信息"),
    ("5.要求行政机关确认或重新出具已获取信息", "5.要求行政机关确认或重新出据已获取信息", "3:3.5.5:*",
     "要求行政机关确认或重新出具已获取信息"),
    ("法律服务机构", "法律服务机购", "3:*:legal", "法律服务机构"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "element", "statutory"), TYPOS, ids=[f"typo{k}" for k in range(len(TYPOS))])
def test_near_label_reads_the_row_or_column_with_a_warning(old: str, new: str, element: str, statutory: str) -> None:
    clean = parse(busy_seed())
    text = busy_seed().replace(old, new)
    rep = parse(text)
    assert dict(rep.cells.items()) == dict(clean.cells.items())
    fs = validate_batch([rep])
    assert [f.rule for f in fs if f.rule in ("I04", "I05")] == []
    i12 = [f for f in fs if f.rule == "I12"]
    assert [(f.cells, f.expected, f.actual, f.severity) for f in i12] == [
        ([element], statutory, new.strip(), "warning")
    ]
    assert f"与规定文字“{statutory}”相差 1 个字" in i12[0].message
    # the same errors as the clean twin
    assert _errors(fs) == _errors(validate_batch([clean]))


def _errors(fs: list) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((f.rule, tuple(f.cells)) for f in fs if f.severity == "error")


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("行政处罚\t", "行政许罚\t", "2:penalty:*"),  # one edit from 行政处罚 and from 行政许可: never guessed
        ("规章\t", "规草\t", "2:rules:*"),  # too short to match by distance
        ("行政事业性收费\t", "行政性收费项目\t", "2:fees:*"),  # four edits: too far
    ],
)
def test_ambiguous_short_or_far_labels_are_not_guessed(old: str, new: str, element: str) -> None:
    fs = validate_texts({"a.txt": busy_seed().replace(old, new)})
    assert [f.rule for f in fs if f.rule == "I12"] == []
    assert [f.cells for f in fs if f.rule == "I04"] == [[element]]


def test_near_match_unit() -> None:
    assert labels.match_t2_col("先行有效件数") == (Fmt.F2021, "in_force")
    assert labels.match_t2_row("规章（设区的市、自治州人民政府应提供相关数据）") == "rules"  # a note, not a typo
    assert labels.near_t2_row("规章（设区的市、自治州人民政府应提供相关数据）") is None
    assert labels.match_t2_row("行政许罚") is None
    near = labels.near_t3("2.其他法律和行政法规禁止公开")
    assert near == labels.Near("3.3.2", "其他法律行政法规禁止公开", 1)
    assert labels.match_t3("不于公开") == ("group", "3.3")
    assert labels.match_t3("12") is None and labels.near_t3("本年度共收到申请12件，均已按期答复。" * 3) is None


# ------------------------------------------------------------------ the format from the layout


def _one_cell_per_line(doc: Document) -> str:
    return text_with_rows(doc, lambda row: [c for c in row if c.strip()])


def _single_spaces(doc: Document) -> str:
    return text_with_rows(doc, lambda row: [" ".join(c for c in row if c.strip())])


SHAPES: dict[str, Callable[[Document], str]] = {
    "tabs": to_text,
    "markdown": to_markdown,
    "pdftotext-layout": to_layout_text,
    "one-cell-per-line": _one_cell_per_line,
    "single-spaces": _single_spaces,
}
EVIDENCE_2019 = "表二列“本年新制作数量”；表二列“本年新公开数量”；表二列“对外公开总数量”等"


def _doc(year: int, fmt: Fmt) -> Document:
    text = busy_seed().replace("2023", str(year))
    c = content_from_report(parse(text))
    return document_from_content(as_2019(c) if fmt is Fmt.F2019 else c)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_2019_layout_is_recognised_in_every_shape(shape: str) -> None:
    rep = parse(SHAPES[shape](_doc(2020, Fmt.F2019)), f"a.{'md' if shape == 'markdown' else 'txt'}")
    assert (rep.year, rep.fmt) == (2020, Fmt.F2019)
    assert rep.fmt_evidence_2019[:3] == ["表二列“本年新制作数量”", "表二列“本年新公开数量”", "表二列“对外公开总数量”"]
    assert [f.rule for f in validate_batch([rep]) if f.rule in ("R01", "M07")] == []


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_later_report_in_the_2019_layout_is_outdated(shape: str) -> None:
    rep = parse(SHAPES[shape](_doc(2022, Fmt.F2019)))
    assert (rep.year, rep.fmt) == (2022, Fmt.F2019)
    r01 = [f for f in validate_batch([rep]) if f.rule == "R01"]
    assert [(f.expected, f.actual, f.severity) for f in r01] == [("2021", "2019", "error")]
    assert r01[0].message == f"2022 年度报告使用了 2019 年试行格式（{EVIDENCE_2019}）。"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_2021_layout_in_every_shape(shape: str) -> None:
    rep = parse(SHAPES[shape](_doc(2023, Fmt.F2021)))
    assert (rep.fmt, rep.fmt_evidence_2019) == (Fmt.F2021, [])


def test_format_without_table_evidence_follows_the_year() -> None:
    """No table printed: a 2020 report is taken as the 2019 format (its own), never "2021 by default"."""
    text = busy_seed().replace("2023", "2020")
    start, end = text.index("二、主动公开政府信息情况"), text.index("五、存在的主要问题及改进情况")
    rep = parse(text[:start] + text[end:])
    assert rep.fmt is Fmt.F2019


# ------------------------------------------------------------------ （六）其他处理 as one row (I13)


def _with_other_handling() -> str:
    """The busy seed with （六） sub-rows 1 and 3 non-zero (natural 1 + 1), every sum rule holding."""
    return set_cells(
        busy_seed(),
        {
            "3:3.6.1:natural": "1",
            "3:3.6.1:total": "1",
            "3:3.6.3:natural": "1",
            "3:3.6.3:total": "1",
            "3:3.7:natural": "13",
            "3:3.7:total": "16",
            "3:1:natural": "12",
            "3:1:total": "15",
        },
    )


def test_merged_other_handling_row_is_the_group_total() -> None:
    text = _merge_other_handling(_with_other_handling(), "2\t0\t0\t0\t0\t0\t2")
    rep = parse(text)
    assert rep.fmt is Fmt.F2021
    assert (rep.cells["3:3.6.3:natural"].value, rep.cells["3:3.6.3:total"].value) == (2.0, 2.0)
    assert rep.cells["3:3.6.1:natural"].state.value == "missing"
    fs = validate_batch([rep])
    assert [(f.rule, f.cells) for f in fs if f.rule in ("I04", "I08", "I13", "R01")] == [("I13", ["3:3.6.3:*"])]
    # the sum rules add the printed total: no A/B/C error on a consistent report
    assert [f.rule for f in fs if f.rule in ("A01", "B01", "C01")] == []


def test_merged_other_handling_total_enters_the_sums() -> None:
    """A printed total that does not add up to （七） breaks B01 by exactly its difference."""
    text = _merge_other_handling(_with_other_handling(), "3\t0\t0\t0\t0\t0\t3")
    fs = validate_texts({"a.txt": text})
    b01 = sorted((f.cells[0], f.expected, f.actual) for f in fs if f.rule == "B01")
    assert b01 == [("3:3.7:natural", 14, 13), ("3:3.7:total", 17, 16)]


# ------------------------------------------------------------------ the copy rule (L01)


def test_l01_needs_figures_and_prose_to_compare() -> None:
    """Two reports of which neither tables nor prose were read are not "identical"."""
    bare = "沙坡头区镇罗镇 {y} 年政府信息公开工作年度报告\n\n一、总体情况\n\n二、主动公开政府信息情况\n"
    fs = validate_texts({"a_2022.txt": bare.format(y=2022), "a_2023.txt": bare.format(y=2023)})
    assert [f for f in fs if f.rule == "L01"] == []


def test_l01_tables_that_differ_are_no_copy() -> None:
    last = busy_seed().replace("2023", "2022")
    this = set_cells(busy_seed(), {"3:1:natural": "8", "3:1:total": "11"})
    fs = validate_texts({"a_2022.txt": last, "a_2023.txt": this})
    assert [f for f in fs if f.rule == "L01"] == []


def test_similarity_is_the_jaccard_of_four_grams() -> None:
    a, b = "甲乙丙丁戊己庚辛", "甲乙丙丁戊己壬癸"  # 4-grams: 5 each, 3 shared -> 3 / 7
    assert similarity(a, b) == pytest.approx(3 / 7)
    assert similarity("", "") == 0.0 and similarity(a, a) == 1.0


def _synthetic_2019() -> list[tuple[int, Document]]:
    """Synthetic reports of 2020 and 2022 (generated in the 2021 format) re-printed in the 2019 layout."""
    from nianbao.testing.synth import SynthConfig, generate, render_text

    ds, _ = generate(SynthConfig(counties=1, townships=2, years=(2020, 2022), defect_rate=0.0, seed=11))
    out = []
    for d in ds:
        rep = parse(render_text(d), d.file_name)
        out.append((d.year, document_from_content(as_2019(content_from_report(rep)))))
    return out


@pytest.mark.parametrize("shape", list(SHAPES))
def test_synthetic_reports_in_the_2019_layout(shape: str) -> None:
    docs = _synthetic_2019()
    assert sorted(y for y, _d in docs) == [2020, 2020, 2022, 2022]
    for year, doc in docs:
        rep = parse(SHAPES[shape](doc), f"r{year}.{'md' if shape == 'markdown' else 'txt'}")
        assert (rep.year, rep.fmt) == (year, Fmt.F2019), shape
        r01 = [f.rule for f in validate_batch([rep]) if f.rule == "R01"]
        assert r01 == (["R01"] if year >= 2021 else [])


def test_renumbered_heading_is_redrawn_as_printed() -> None:
    text = busy_seed().replace("六、其他需要报告的事项", "七、其他需要报告的事项")
    c = content_from_report(parse(text))
    assert (c.headings["六"], c.headings["五"]) == ("七、其他需要报告的事项", "五、存在的主要问题及改进情况")


def test_numbered_sub_items_do_not_displace_sections() -> None:
    """Sub-items of 一 numbered like sections (一、主动公开情况 / 二、依申请公开情况) are not sections."""
    text = (
        busy_seed()
        .replace("(一) 政府信息主动公开情况", "一、主动公开情况")
        .replace("(二) 依申请公开政府信息情况", "二、依申请公开情况")
    )
    assert "二、依申请公开情况" in text
    rep = parse(text)
    fs = validate_batch([rep])
    assert [f.rule for f in fs if f.rule in ("I01", "I02")] == []
    assert [f.actual for f in fs if f.rule == "I06" and f.cells == []] == []
    assert rep.cells["3:1:total"].value == 13.0  # table 三 read from its own section


def test_a_near_label_beside_the_exact_one_is_not_reported() -> None:
    """A short line of prose near a label (行政处理 ~ 行政处罚) while the row prints its own label."""
    text = busy_seed().replace("第二十条第（六）项", "第二十条第（六）项\n行政处理", 1)
    assert "行政处理" in text
    assert [f for f in validate_texts({"a.txt": text}) if f.rule == "I12"] == []


def test_misnumbered_sections_out_of_order_are_found_and_reported_out_of_order() -> None:
    """五 and 六 swapped and each printed under the other's number: both found, I02 for the order."""
    text = busy_seed()
    a, b = "五、存在的主要问题及改进情况", "六、其他需要报告的事项"
    i, j = text.index(a), text.index(b)
    text = (
        text[:i]
        + text[j:].rstrip("\n").replace(b, "五、其他需要报告的事项")
        + "\n\n"
        + text[i:j].replace(a, "六、存在的主要问题及改进情况")
    )
    fs = validate_texts({"a.txt": text})
    assert sorted((f.rule, f.expected) for f in fs if f.rule in ("I01", "I02")) == [("I02", "六、其他需要报告的事项")]


def test_a_sub_item_is_not_a_missing_section() -> None:
    """Section 三's heading left out: the sub-item 二、依申请公开情况 inside 一 is not taken for it."""
    text = busy_seed().replace("(二) 依申请公开政府信息情况", "二、依申请公开情况")
    text = text.replace("三、收到和处理政府信息公开申请情况", "")
    fs = validate_texts({"a.txt": text})
    assert [(f.rule, f.expected) for f in fs if f.rule == "I01"] == [("I01", "三、收到和处理政府信息公开申请情况")]


def test_no_title_line_but_the_report_named_in_the_first_paragraph() -> None:
    text = busy_seed().replace(SEED_TITLE, "", 1)
    rep = parse(text)
    assert (rep.agency, rep.year, rep.title, rep.agency_source) == (
        AGENCY,
        2023,
        "沙坡头区镇罗镇2023年政府信息公开工作年度报告",
        None,
    )


@pytest.mark.parametrize(
    ("old", "new", "element", "statutory", "printed"),
    [
        ("结果 维持", "结果 未持", "4:*:upheld", "结果维持", "结果未持"),
        ("尚未 审结", "尚末 审结", "4:*:pending", "尚未审结", "尚末审结"),
        ("复议后起诉", "复议后起述", "4:suit_after_review:*", "复议后起诉", "复议后起述"),
    ],
)
def test_near_label_in_the_header_of_table_four(old: str, new: str, element: str, statutory: str, printed: str) -> None:
    clean = parse(busy_seed())
    text = busy_seed().replace(old, new)
    assert text.count(new) >= 1 and old not in text
    rep = parse(text)
    assert dict(rep.cells.items()) == dict(clean.cells.items())
    fs = validate_batch([rep])
    assert [f.rule for f in fs if f.rule in ("I04", "I05")] == []
    assert [(f.cells, f.expected, f.actual) for f in fs if f.rule == "I12"] == [([element], statutory, printed)]


def test_a_header_label_printed_two_different_ways_is_not_guessed() -> None:
    text = busy_seed().replace("结果 维持", "结果 未持", 1).replace("结果 维持", "结果 维特", 1)
    text = text.replace("结果 维持", "结果 惟持")
    fs = validate_texts({"a.txt": text})
    assert [f.cells for f in fs if f.rule == "I05"] == [["4:*:upheld"]]
    assert [f for f in fs if f.rule == "I12"] == []


def test_the_title_trailer_is_looked_for_only_where_it_can_end() -> None:
    """_match_title strips a trailer (a bracketed note, a date, closing punctuation) only from a
    text whose last character may end one: for every code point as the last character, after any
    of a few beginnings, the trailer pattern finds nothing where that guard says no."""
    import sys

    from nianbao.read import meta

    missed = []
    for c in (chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i <= 0xDFFF):
        if c in meta._TRAILER_ENDS or c.isdecimal():
            continue
        for before in ("", "报告（甲", "2023-1-", "2023年1月1", "报告。"):
            if meta._TRAILER.search(before + c):
                missed.append(hex(ord(c)))
    assert missed == []
    assert meta._match_title("示例镇2023年政府信息公开工作年度报告（2024-1-20）") == ("示例镇", 2023)


def test_squash_of_a_printed_line_is_normalize_squash() -> None:
    """meta._squash proves by str.isprintable that no whitespace is left once the spaces are
    replaced: every whitespace character but the space is unprintable (all of Unicode), and it gives
    normalize.squash's text for lines with every kind of whitespace, compatibility characters
    (NFKC makes a space of some) and unprintable characters that are not whitespace."""
    for c in map(chr, range(0x110000)):
        if c.isspace() and c != " ":
            assert not c.isprintable(), hex(ord(c))
    lines = [
        "",
        " ",
        "示例县 2023 年政府信息公开工作年度报告",
        "统计数据从 2023 年 1 月 1 日至 2023 年 12 月 31 日。",
        "甲\t乙\u3000丙\xa0丁\u2003戊\n己\u200b庚\ufeff辛",
        "¨´‾ ㈠（一）１２３",  # NFKC: a space and a combining mark, a parenthesised number, full width
        "\x00a\x1fb\x85c\u2028d\u2029e",
    ]
    for line in lines:
        assert meta._squash(line) == squash(line), repr(line)


def test_the_agency_cleaned_as_by_its_patterns() -> None:
    """meta._clean_agency skips a pattern whose alternatives cannot start (end) the text: the same
    agency as both patterns applied."""

    def reference(a: str) -> str | None:
        a = meta._AGENCY_SUFFIX.sub("", meta._AGENCY_PREFIX.sub("", a)).strip("《》 ")
        return a or None

    texts = [
        "关于示例县",
        "《示例县的》",
        "标题：示例县关于",
        "题目:“示例县》",
        "示例县",
        "于示例县关",
        "“的",
        "《》",
        "",
        " 关于",
    ]
    assert [meta._clean_agency(t) for t in texts] == [reference(t) for t in texts]
    assert meta._clean_agency("标题：示例县关于") == "示例县"
