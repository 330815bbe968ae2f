"""Rules beyond one report's arithmetic: across years (E, F), prose vs tables (H, J), plausibility
(K), copies of last year (L) — a passing and a failing fixture per rule, exact findings asserted."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from nianbao.catalogue import catalogue
from nianbao.outcome import Finding
from nianbao.read.load import load_bytes
from nianbao.testing.synth import SynthConfig, generate, render_text
from nianbao.validate.batch import sort_findings, validate_batch
from tests import rule_registry
from tests.helpers import busy_seed, parse, seed_text, set_cells

rule_registry.COVERED.update(
    {"E01", "E02", "F01", "J01", "J02", "K01", "K02", "L01"} | {f"H{k:02d}" for k in range(1, 21)}
)

APPLY_LINE = "2023 年共收到政府信息公开申请 13 件，上年结转 2 件，办结 14 件。"


def as_year(text: str, year: int) -> str:
    """The same report for another year (title, period and prose years)."""
    return text.replace("2023", str(year))


def last_year_of_busy() -> str:
    """Last year's busy report, consistent with this year's: its 结转下年度 is this year's 上年结转 (2),
    its 现行有效 行政规范性文件 10 (+3 −1 = this year's 12)."""
    t = set_cells(
        busy_seed(),
        {
            "3:1:natural": "11",
            "3:1:total": "14",
            "3:4:natural": "2",
            "3:4:total": "2",
            "2:normative:in_force": "10",
            "2:penalty:decisions": "98",
        },
    )
    return as_year(t, 2022)


def run(texts: dict[str, str]) -> list[Finding]:
    return validate_batch([parse(t, name) for name, t in texts.items()])


def of(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.rule == code]


def with_apply(sentence: str, base: Callable[[], str] = busy_seed) -> str:
    t = base()
    line = APPLY_LINE if APPLY_LINE in t else "2023 年未收到政府信息依申请公开件。"
    assert line in t
    return t.replace(line, sentence)


# ------------------------------------------------------------------ E, F


def test_e01_carry_over_pass_and_fail() -> None:
    good = run({"a_2022.txt": last_year_of_busy(), "a_2023.txt": busy_seed()})
    assert of(good, "E01") == [] and of(good, "E02") == [f for f in good if f.rule == "E02" and f.year == 2022]
    # this year's 上年结转 raised by 1 (and 新收 lowered, so the report itself still adds up)
    bad_text = set_cells(busy_seed(), {"3:2:natural": "3", "3:2:total": "3", "3:1:natural": "9", "3:1:total": "12"})
    bad = run({"a_2022.txt": last_year_of_busy(), "a_2023.txt": bad_text})
    e = of(bad, "E01")
    assert [(f.file, f.cells, f.expected, f.actual, f.severity) for f in e] == [
        ("a_2023.txt", ["3:2:natural"], 2, 3, "error"),
        ("a_2023.txt", ["3:2:total"], 2, 3, "error"),
    ]
    assert "2022 年度报告（a_2022.txt）" in e[0].message and "“自然人”列" in e[0].message
    assert [f.rule for f in bad if f.file == "a_2023.txt" and f.severity == "error"] == ["E01", "E01"]


def test_e01_from_previous_argument_and_rename() -> None:
    """Last year's report passed separately (as from the store), under the agency's former name."""
    old_name = last_year_of_busy().replace("沙坡头区镇罗镇", "沙坡头区镇罗乡")
    bad_text = set_cells(busy_seed(), {"3:2:natural": "3", "3:2:total": "3", "3:1:natural": "9", "3:1:total": "12"})
    this = [parse(bad_text, "a_2023.txt")]
    prev = [parse(old_name, "store/a_2022.txt")]
    unmatched = validate_batch(this, previous=prev)
    assert of(unmatched, "E01") == [] and [f.rule for f in of(unmatched, "E02")] == ["E02"]
    matched = validate_batch(this, previous=prev, renames={"沙坡头区镇罗乡": "沙坡头区镇罗镇"})
    assert [(f.cells, f.expected, f.actual) for f in of(matched, "E01")] == [
        (["3:2:natural"], 2, 3),
        (["3:2:total"], 2, 3),
    ]
    assert of(matched, "E02") == []
    assert "store/a_2022.txt" in of(matched, "E01")[0].message


def test_e02_missing_last_year_is_one_info_per_report() -> None:
    fs = run({"a_2023.txt": busy_seed(), "b_2023.txt": busy_seed().replace("沙坡头区镇罗镇", "沙坡头区东园镇")})
    e2 = of(fs, "E02")
    assert [(f.file, f.severity, f.cells, f.expected) for f in e2] == [
        ("a_2023.txt", "info", [], "2022 年度报告"),
        ("b_2023.txt", "info", [], "2022 年度报告"),
    ]
    assert "未找到本机关 2022 年度的报告" in e2[0].message
    both = run({"a_2022.txt": last_year_of_busy(), "a_2023.txt": busy_seed()})
    assert [f.file for f in of(both, "E02")] == ["a_2022.txt"]


def test_f01_document_stock_pass_and_fail() -> None:
    good = run({"a_2022.txt": last_year_of_busy(), "a_2023.txt": busy_seed()})
    assert of(good, "F01") == []
    last = set_cells(last_year_of_busy(), {"2:normative:in_force": "11"})
    f = of(run({"a_2022.txt": last, "a_2023.txt": busy_seed()}), "F01")
    assert [(x.file, x.cells, x.expected, x.actual, x.severity) for x in f] == [
        ("a_2023.txt", ["2:normative:in_force", "2:normative:issued", "2:normative:repealed"], 13, 12, "warning")
    ]
    assert "按 2022 年现行有效 11 件 + 本年制发 3 件 − 本年废止 1 件应为 13 件" in f[0].message


# ------------------------------------------------------------------ H, J: one pass/fail pair per rule


@dataclass
class ProseCase:
    rule: str
    good: Callable[[], str]
    bad: Callable[[], str]
    cells: list[str]
    expected: Any
    actual: Any
    quote: str


def _apply(sentence: str, base: Callable[[], str] = busy_seed) -> Callable[[], str]:
    return lambda: with_apply(sentence, base)


def _replace(old: str, new: str, base: Callable[[], str] = seed_text) -> Callable[[], str]:
    def f() -> str:
        t = base()
        assert old in t
        return t.replace(old, new)

    return f


REFUSED = [f"3:3.3.{i}:total" for i in range(1, 9)]
UNABLE = [f"3:3.4.{i}:total" for i in range(1, 4)]
NOT_PROCESSED = [f"3:3.5.{i}:total" for i in range(1, 6)]
OTHER = [f"3:3.6.{i}:total" for i in range(1, 4)]
T4_NOT_UPHELD = [
    f"4:{g}:{c}" for g in ("review", "suit_direct", "suit_after_review") for c in ("corrected", "other", "pending")
]

S_H13_GOOD = (
    "办结 14 件，其中予以公开 8 件，部分公开 2 件，不予公开 1 件，无法提供 1 件，不予处理 2 件，其他处理 0 件。"
)
S_H13_BAD = "办结 14 件，其中予以公开 9 件，部分公开 2 件，不予公开 1 件，无法提供 1 件，不予处理 2 件。"
S_H14_GOOD = "2023 年共收到申请 13 件，上年结转 2 件，办结 14 件，结转下年度继续办理 1 件。"
S_H14_BAD = "2023 年共收到申请 13 件，上年结转 2 件，办结 12 件，结转下年度继续办理 1 件。"
SEED_PUBLISHED = (
    "按照《条例》规定,2023年我镇主动公开涵盖政府工作报告、乡镇文件、乡镇工作动态等与人民群众生产、生活以及"
    "经济社会发展紧密相关的各类信息共1056条。其中政府网站发布政府信息60条,微信公众号发布政府信息437条,"
    "微博转载发布信息512条,视频号发布10期(浏览量达18612次),公示栏公开政府信息46条。"
)
FEE_BLOCK = "(二) 信息处理费情况\n\n2023 年无收取信息处理费情况。\n"
FIVE_END = "二是有的栏目信息发布更新不够及时。"
FIVE = (
    "一年以来，我镇认真开展政府信息公开工作，但对照《条例》仍存在一定不足，主要表现在："
    "一是部分公文撰写质量仍需进一步提升；二是有的栏目信息发布更新不够及时。2023 年无收取信息处理费情况。"
)


def _fee_in_five() -> str:
    return _replace(FEE_BLOCK, "")().replace(FIVE_END, FIVE_END + "2023 年无收取信息处理费情况。")


def _h(
    rule: str, good: str, bad: str, cells: list[str], expected: Any, actual: Any, base: Any = busy_seed
) -> ProseCase:
    """A prose case whose passing and failing texts differ in the 依申请 sentence only."""
    return ProseCase(rule, _apply(good, base), _apply(bad), cells, expected, actual, bad)


PROSE_CASES = [
    _h("H01", APPLY_LINE, "2023 年共收到政府信息公开申请 15 件，上年结转 2 件，办结 14 件。", ["3:1:total"], 13, 15),
    _h("H02", APPLY_LINE, "2023 年共收到政府信息公开申请 13 件，上年结转 3 件，办结 14 件。", ["3:2:total"], 2, 3),
    _h("H03", APPLY_LINE, "2023 年共收到政府信息公开申请 13 件，上年结转 2 件，办结 11 件。", ["3:3.7:total"], 14, 11),
    _h("H04", "其中予以公开 8 件。", "其中予以公开 6 件。", ["3:3.1:total"], 8, 6),
    _h("H05", "部分公开 2 件。", "部分公开 3 件。", ["3:3.2:total"], 2, 3),
    _h("H06", "不予公开 1 件。", "不予公开两件。", REFUSED, 1, 2),
    _h("H07", "无法提供 1 件。", "无法提供 4 件。", UNABLE, 1, 4),
    _h("H08", "不予处理 2 件。", "不予处理 1 件。", NOT_PROCESSED, 2, 1),
    _h("H09", "其他处理 0 件。", "其他处理 1 件。", OTHER, 0, 1),
    _h("H10", "结转下年度继续办理 1 件。", "结转下年度继续办理 3 件。", ["3:4:total"], 1, 3),
    _h("H11", "本年度未收到政府信息公开申请。", "本年度未收到政府信息公开申请。", ["3:1:total"], 0, 13, seed_text),
    _h(
        "H12",
        "全年共受理依申请公开事项 0 件，均已按时办结。",
        "全年共受理依申请公开事项 13 件，均已按时办结。",
        ["3:4:total"],
        0,
        1,
        seed_text,
    ),
    _h("H13", S_H13_GOOD, S_H13_BAD, [], 14, 15),
    _h("H14", S_H14_GOOD, S_H14_BAD, [], 13, 15),
    _h(
        "H15",
        "全年发生政府信息公开行政复议 3 件、行政诉讼 1 件。",
        "全年发生政府信息公开行政复议 2 件、行政诉讼 1 件。",
        ["4:review:total"],
        3,
        2,
    ),
    _h(
        "H16",
        "因政府信息公开被申请行政复议 3 件，被提起行政诉讼 1 件。",
        "因政府信息公开被申请行政复议 3 件，被提起行政诉讼 2 件。",
        ["4:suit_direct:total", "4:suit_after_review:total"],
        1,
        2,
    ),
    _h(
        "H17",
        "涉及政府信息公开的行政复议和行政诉讼案件均获维持。",
        "涉及政府信息公开的行政复议和行政诉讼案件均获维持。",
        T4_NOT_UPHELD,
        0,
        2,
        seed_text,
    ),
    _h(
        "H18",
        "全年未发生因政府信息公开引起的行政复议、行政诉讼。",
        "全年未发生因政府信息公开引起的行政复议、行政诉讼。",
        ["4:review:total", "4:suit_direct:total", "4:suit_after_review:total"],
        0,
        4,
        seed_text,
    ),
    ProseCase("H19", seed_text, _replace("各类信息共 1065 条", "各类信息共 1056 条"), [], 1056, 1065, SEED_PUBLISHED),
    _h(
        "H20",
        "办结 14 件，其中予以公开 8 件，占办结总数的 57.1%。",
        "办结 14 件，其中予以公开 8 件，占办结总数的 57.2%。",
        [],
        57.1,
        57.2,
    ),
    ProseCase("J01", seed_text, _replace(FEE_BLOCK, ""), [], "信息处理费收取情况", None, ""),
    ProseCase("J02", seed_text, _fee_in_five, [], "第六部分", "第五部分", FIVE),
]


@pytest.mark.parametrize("case", PROSE_CASES, ids=lambda c: c.rule)
def test_prose_rule_fires_exactly(case: ProseCase) -> None:
    good = of(run({"good.txt": case.good()}), case.rule)
    assert good == [], [g.message for g in good]
    found = of(run({"bad.txt": case.bad()}), case.rule)
    assert len(found) == 1, [f.message for f in found]
    f = found[0]
    assert (f.cells, f.expected, f.actual) == (case.cells, case.expected, case.actual)
    assert f.severity == catalogue()[case.rule].severity.value
    assert f.message and f.fix and f.line
    if case.quote:
        assert f.quote == case.quote
    assert f.to_json().get("quote") == (case.quote or None)


def test_prose_in_chunks_gives_the_same_findings() -> None:
    """A large batch's prose is read in chunks of reports: any chunk size, the same findings."""
    from nianbao.rules import prose
    from nianbao.rules.frames import batch_arrays

    reports = [parse(c.bad()) for c in PROSE_CASES] + [parse(c.good()) for c in PROSE_CASES]
    arrays = batch_arrays(reports)
    whole = sort_findings(prose.prose_findings(reports, arrays))
    assert {f.rule for f in whole} == {c.rule for c in PROSE_CASES}
    for size in (1, 2, 7):
        assert sort_findings(prose.prose_findings(reports, arrays, chunk=size)) == whole, size


def test_prose_hint_when_the_number_is_one_column() -> None:
    f = of(run({"r.txt": with_apply("2023 年共收到政府信息公开申请 10 件，上年结转 2 件，办结 14 件。")}), "H01")
    assert len(f) == 1 and "与表三“自然人”列相同" in f[0].message


def test_seed_prose_is_read_and_agrees() -> None:
    """The seed's own phrasing: 未收到…申请 (table 0), 共 1065 条 = its parts, the fee in section 六."""
    from nianbao.rules import prose

    rep = parse(seed_text())
    lines = prose.prose_lines([rep])
    claims = prose.extract_claims(prose.clauses(prose.sentences(lines)))
    assert claims.select("line", "kind", "value").rows() == [(17, "none_received", 0)]
    sums = prose.publication_sums(lines)
    assert sums.select("line", "stated", "sum").rows() == [(13, 1065, 1065)]
    fs = run({"seed.txt": seed_text()})
    assert [f.rule for f in fs if f.rule[0] in "HJ"] == []


# ------------------------------------------------------------------ K, L


def _county(years: tuple[int, ...] = (2023,), n: int = 12, seed: int = 2) -> list[Any]:
    reports, _ = generate(SynthConfig(counties=1, townships=n, years=years, defect_rate=0.0, seed=seed))
    return reports


def _parse_all(ds: list[Any]) -> list[Any]:
    return [load_bytes(f"{d.year}/{d.file_name}", render_text(d).encode("utf-8")) for d in ds]


def _robust_upper(values: list[float]) -> float:
    """The K01 fence, independently: exp(median + 3.5·max(1.4826·MAD, 0.5)) − 1 of log1p(x), x > 0."""
    lg = np.log1p(np.array([v for v in values if v > 0]))
    med = float(np.median(lg))
    mad = float(np.median(np.abs(lg - med)))
    return float(np.expm1(med + 3.5 * max(1.4826 * mad, 0.5)))


def test_k01_peer_outlier_pass_and_fail() -> None:
    ds = _county()
    assert of(validate_batch(_parse_all(ds)), "K01") == []
    ds[4].values["2:penalty:decisions"] = 50000.0
    fs = of(validate_batch(_parse_all(ds)), "K01")
    assert [(f.file, f.cells, f.actual, f.severity) for f in fs] == [
        (f"2023/{ds[4].file_name}", ["2:penalty:decisions"], 50000, "warning")
    ]
    upper = _robust_upper([d.values["2:penalty:decisions"] for d in ds])
    peers = [
        d.values["2:penalty:decisions"] for k, d in enumerate(ds) if k != 4 and d.values["2:penalty:decisions"] > 0
    ]
    assert upper > 100 and fs[0].expected == f"≤ {round(upper)}"
    assert f"同县同级其他 {len(peers)} 个机关" in fs[0].message
    assert f"最大 {int(max(peers))}" in fs[0].message


def test_k01_median_of_counts_is_a_whole_number() -> None:
    """Issue 14.6: the log-scale median of an even number of peers is fractional (e.g. 7.48 件); a
    count's median is shown rounded to a whole number."""
    ds = _county(n=10)
    ds[4].values["2:penalty:decisions"] = 50000.0
    fs = of(validate_batch(_parse_all(ds)), "K01")
    assert len(fs) == 1
    m = re.search(r"中位数 ([0-9.]+)，正常范围上限约 ([0-9.]+)，", fs[0].message)
    assert m is not None and m.groups() == ("44", "2236"), fs[0].message  # 44.17 before rounding
    ds = _county(n=11)
    ds[4].values["2:penalty:decisions"] = 50000.0
    ds[7].values["2:coercion:decisions"] = 150.0
    fs = of(validate_batch(_parse_all(ds)), "K01")
    assert [(f.cells, f.expected) for f in fs][-1:] == [(["2:coercion:decisions"], "≤ 24")]  # 23.6 before


def test_k01_needs_enough_peers() -> None:
    ds = _county(n=6)
    ds[2].values["2:penalty:decisions"] = 5000.0
    assert of(validate_batch(_parse_all(ds)), "K01") == []


def test_k02_jump_from_last_year_pass_and_fail() -> None:
    ds = _county(years=(2022, 2023), n=4)
    assert of(validate_batch(_parse_all(ds)), "K02") == []
    this = ds[1]  # township 0, 2023
    last = ds[0]
    assert (last.agency, last.year, this.year) == (this.agency, 2022, 2023)
    last.values["2:licensing:decisions"] = 30.0
    this.values["2:licensing:decisions"] = 200.0
    fs = of(validate_batch(_parse_all(ds)), "K02")
    assert [(f.file, f.cells, f.actual, f.expected) for f in fs] == [
        (f"2023/{this.file_name}", ["2:licensing:decisions"], 200, "6–154")
    ]
    assert "2022 年为 30，变化到上年的 6.5 倍" in fs[0].message


def test_k02_a_fall_below_the_floor_from_last_year_above_it_is_checked() -> None:
    """The plausibility frame keeps a figure whose value or last year's is at or above the floor:
    a fall from 200 to 3 (floor 20) is a K02; 10 -> 3 (both below) is in no row of the frame."""
    from nianbao.rules.family import Batch
    from nianbao.rules.plausibility import county_level, plausibility_frame

    ds = _county(years=(2022, 2023), n=4)
    this, last = ds[1], ds[0]
    last.values["2:licensing:decisions"] = 200.0
    this.values["2:licensing:decisions"] = 3.0
    ds[3].values["2:licensing:decisions"] = 3.0  # township 1, 2023
    ds[2].values["2:licensing:decisions"] = 10.0  # its 2022: both below the floor
    reports = _parse_all(ds)
    fs = of(validate_batch(reports), "K02")
    assert [(f.file, f.cells, f.actual, f.expected) for f in fs] == [
        (f"2023/{this.file_name}", ["2:licensing:decisions"], 3, "40–1004")
    ]
    yp = Batch(reports).year_pairs
    frame = plausibility_frame(yp, Batch(reports).arrays_with_last_year, county_level(yp.keys, None))
    kept = frame.filter(frame["figure"] == "2:licensing:decisions").select("report", "value", "previous").rows()
    assert kept == [(0, 200.0, None), (1, 3.0, 200.0)]


def test_l01_copy_of_last_year_pass_and_fail() -> None:
    last = last_year_of_busy()
    assert of(run({"a_2022.txt": last, "a_2023.txt": busy_seed()}), "L01") == []
    copy = as_year(last.replace("2022", "2023"), 2023)
    fs = of(run({"a_2022.txt": last, "a_2023.txt": copy}), "L01")
    assert [(f.file, f.severity, f.cells) for f in fs] == [("a_2023.txt", "warning", [])]
    assert "与 2022 年度报告（a_2022.txt）的统计表数字完全相同，正文相似度为 1.000" in fs[0].message
    # the same figures with a rewritten text is not a copy
    rewritten = copy.replace("我镇", "本机关").replace("一是", "首先").replace("二是", "其次").replace("三是", "再次")
    rewritten = rewritten.replace("进一步", "").replace("政务公开", "政府信息公开")
    assert of(run({"a_2022.txt": last, "a_2023.txt": rewritten}), "L01") == []


def test_l01_copy_among_unpaired_reports_and_hashes_of_some_reports() -> None:
    from nianbao.rules.copies import figure_hashes
    from nianbao.rules.frames import batch_arrays

    last = last_year_of_busy()
    copy = as_year(last.replace("2022", "2023"), 2023)
    # reports without a last year around the pair: only the pair is hashed, the copy still found
    texts = {"b_2023.txt": busy_seed(), "a_2022.txt": last, "c_2023.txt": busy_seed(), "a_2023.txt": copy}
    fs = of(run(texts), "L01")
    assert [(f.file, f.report, f.cells) for f in fs] == [("a_2023.txt", 3, [])]
    reports = [parse(t, name) for name, t in texts.items()]
    arrays = batch_arrays(reports)
    full = figure_hashes(arrays, offset=2)
    some = figure_hashes(arrays, offset=2, only=np.array([3, 5, 9]))
    assert some["report"].to_list() == [3, 5]
    assert some.rows() == [r for r in full.rows() if r[0] in (3, 5)]
    assert figure_hashes(arrays, only=np.array([], dtype=np.int64)).height == 0


# ------------------------------------------------------------------ the two-year sample


def _two_years(plan: tuple[tuple[int, int, str], ...] | None) -> tuple[list[Any], list[Any]]:
    ds, planted = generate(
        SynthConfig(counties=1, townships=12, years=(2022, 2023), defect_rate=0.0, seed=6, plan=plan)
    )
    return ds, planted


def test_two_year_sample_yields_exactly_the_planted_findings() -> None:
    """A broken carry-over and a prose contradiction, and nothing else above info level."""
    ds, planted = _two_years(((2, 2023, "carry_over"), (5, 2023, "prose_received")))
    fs = validate_batch(_parse_all(ds))
    carry, prose_ = planted
    got = sorted((f.rule, f.file, tuple(f.cells), f.expected, f.actual) for f in fs if f.severity != "info")
    assert got == [
        ("E01", f"2023/{carry.file}", ("3:2:natural",), carry.original, carry.planted),
        ("E01", f"2023/{carry.file}", ("3:2:total",), got[1][3], got[1][3] + carry.planted - carry.original),
        ("H01", f"2023/{prose_.file}", ("3:1:total",), prose_.original, prose_.planted),
    ]
    h01 = next(f for f in fs if f.rule == "H01")
    assert h01.quote is not None and f"共收到政府信息公开申请 {prose_.planted} 件" in h01.quote
    # last year is known for every 2023 report; only the 2022 ones lack theirs
    assert sorted({f.year for f in fs if f.rule == "E02"}) == [2022]


def test_clean_two_year_sample_has_no_error() -> None:
    ds, planted = _two_years(None)
    assert planted == []
    fs = validate_batch(_parse_all(ds))
    assert [f for f in fs if f.severity == "error"] == []
    assert [f for f in fs if f.severity == "warning"] == []


def test_cli_last_year_is_reference_only(tmp_path: Any) -> None:
    """``--last-year`` reports are read for the cross-year rules but not validated or listed."""
    import json

    from typer.testing import CliRunner

    from nianbao.cli.app import app

    ds, planted = _two_years(((2, 2023, "carry_over"),))
    for d in ds:
        p = tmp_path / str(d.year) / d.file_name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(render_text(d), encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(
        app, ["validate", str(tmp_path / "2023"), "--last-year", str(tmp_path / "2022"), "--out", str(out)]
    )
    assert r.exit_code == 1, r.output
    subs = json.loads((out / "submissions.json").read_text(encoding="utf-8"))
    finds = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert len(subs) == 12 and all("/2023/" in s["file"] for s in subs)
    e01 = [f for f in finds if f["rule"] == "E01"]
    assert [(f["file"].split("/")[-1], f["cells"]) for f in e01] == [
        (planted[0].file, ["3:2:natural"]),
        (planted[0].file, ["3:2:total"]),
    ]
    assert [f for f in finds if f["rule"] == "E02"] == []
    assert all(s["cell"].startswith("3:") for s in e01[0]["suspects"])
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["cross_year"] == {"reports_without_last_year": 0, "previous_reports": 12}
