"""The corpus of real-world shapes: every report, printed in every shape, reads as its clean twin.

The seed and synthetic reports (consistent ones, ones with planted errors, 2019-format ones) are
printed in the statutory layout (the clean twin: tab-separated cells) and in each shape of
:mod:`nianbao.testing.shapes` — single spaces with wrapped headers, one cell per line, traditional
characters, Markdown sub-tables — and every shape must give the twin's cells and exactly its
error-level findings.  The shapes were studied on published report pages and their extractions;
no third-party text is in the repository.

Also here: the grid reader's own cases (I11: numbers that cannot be given to a row for certain,
never read as a guess; no sum rule fires on them) and the bounds of traditional-character detection.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt
from nianbao.read import grid
from nianbao.read.chars import _TRADITIONAL, has_traditional, to_simplified
from nianbao.read.load import load_bytes
from nianbao.testing.render import Document, ReportContent, as_2019, content_from_report, document_from_content, to_text
from nianbao.testing.shapes import SHAPES, label_typo, title_agency_above, title_year_first, traditional
from nianbao.testing.synth import SynthConfig, generate, render_text
from nianbao.validate.batch import validate_batch
from tests import rule_registry
from tests.helpers import busy_seed, seed_text, set_cells

rule_registry.COVERED.add("I11")


def _parse(text: str, name: str = "report.txt") -> ParsedReport:
    return load_bytes(name, text.encode("utf-8"))


@cache
def _synthetic() -> tuple[str, ...]:
    reports, _planted = generate(
        SynthConfig(townships=6, years=(2023,), defect_rate=1.0, seed=7, mixed_encodings=False)
    )
    return tuple(render_text(d) for d in reports[:3])


REPORTS: dict[str, Callable[[], str]] = {
    "seed": seed_text,
    "busy": busy_seed,
    "busy-B01": lambda: set_cells(busy_seed(), {"3:3.1:natural": "7"}),  # outcome rows no longer add up
    "busy-A01-D01": lambda: set_cells(busy_seed(), {"3:1:total": "31", "4:review:total": "4"}),
    "synthetic-1": lambda: _synthetic()[0],
    "synthetic-2": lambda: _synthetic()[1],
    "synthetic-3": lambda: _synthetic()[2],
}


@cache
def _content(report: str, fmt: str) -> ReportContent:
    c = content_from_report(_parse(REPORTS[report]()))
    return as_2019(c) if fmt == "2019" else c


def _printed(fn: Callable[[Document], str]) -> Callable[[ReportContent], str]:
    return lambda c: fn(document_from_content(c))


SHAPE_TEXTS: dict[str, Callable[[ReportContent], str]] = {name: _printed(fn) for name, fn in SHAPES.items()}
SHAPE_TEXTS["traditional-tabs"] = lambda c: traditional(to_text(document_from_content(c)))
SHAPE_TEXTS["traditional-single_space"] = lambda c: traditional(SHAPES["single_space"](document_from_content(c)))
SHAPE_TEXTS["traditional-one_per_line"] = lambda c: traditional(SHAPES["one_per_line"](document_from_content(c)))

# title variants and a label typo (read by the title and near-label readers), alone and in a shape
SHAPE_TEXTS["title-year-first"] = lambda c: to_text(title_year_first(document_from_content(c)))
SHAPE_TEXTS["title-agency-above-single_space"] = lambda c: SHAPES["single_space"](
    title_agency_above(document_from_content(c))
)
SHAPE_TEXTS["label-typo"] = lambda c: label_typo(to_text(document_from_content(c)))
SHAPE_TEXTS["label-typo-one_per_line"] = lambda c: label_typo(SHAPES["one_per_line"](document_from_content(c)))

CASES = [(r, s, f) for r in REPORTS for s in SHAPE_TEXTS for f in ("2021", "2019")]


def _cells(rep: ParsedReport) -> dict[str, tuple[float | None, State]]:
    return {cid: (c.value, c.state) for cid, c in rep.cells.items()}


def _errors(rep: ParsedReport) -> list[tuple[str, tuple[str, ...], object, object]]:
    return sorted(
        ((f.rule, tuple(f.cells), f.expected, f.actual) for f in validate_batch([rep]) if f.severity == "error"),
        key=str,
    )


@pytest.mark.parametrize(("report", "shape", "fmt"), CASES)
def test_every_shape_reads_as_its_clean_twin(report: str, shape: str, fmt: str) -> None:
    c = _content(report, fmt)
    twin = _parse(to_text(document_from_content(c)), "twin.txt")
    got = _parse(SHAPE_TEXTS[shape](c), f"{shape}.txt")
    assert (got.status, got.fmt, got.year) == ("validated", Fmt(fmt), twin.year)
    assert got.agency == (to_simplified(twin.agency or "") or None)
    assert _cells(got) == _cells(twin)
    assert _errors(got) == _errors(twin)
    if shape.startswith("label-typo"):  # the near label is read, and said (a warning, never an error)
        assert [f.rule for f in validate_batch([got]) if f.rule == "I12"] == ["I12"]


def test_the_corpus_has_errors_to_compare() -> None:
    """The twins of the planted reports do have sum errors (the corpus would prove nothing otherwise)."""
    rules = {f[0] for f in _errors(_parse(to_text(document_from_content(_content("busy-A01-D01", "2021")))))}
    assert {"A01", "D01"} <= rules
    assert "B01" in {f[0] for f in _errors(_parse(to_text(document_from_content(_content("busy-B01", "2021")))))}


# ------------------------------------------------------------------ I11: never a guess


def _table3_text(rows: list[str]) -> str:
    head = busy_seed().split("三、收到和处理政府信息公开申请情况")[0]
    tail = "四、政府信息公开行政复议、行政诉讼情况" + busy_seed().split("四、政府信息公开行政复议、行政诉讼情况")[1]
    header = ["申请人情况", "自然人 商业企业 科研机构 社会公益组织 法律服务机构 其他 总计"]
    return head + "三、收到和处理政府信息公开申请情况\n" + "\n".join(header + rows) + "\n" + tail


_ROWS = [
    ("一、本年新收政府信息公开申请数量", "10 3 0 0 0 0 13"),
    ("二、上年结转政府信息公开申请数量", "2 0 0 0 0 0 2"),
    ("（一）予以公开", "6 2 0 0 0 0 8"),
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "2 0 0 0 0 0 2"),
    ("（三）不予公开 1.属于国家秘密", "0 0 0 0 0 0 0"),
    ("2.其他法律行政法规禁止公开", "0 0 0 0 0 0 0"),
    ("3.危及“三安全一稳定”", "0 0 0 0 0 0 0"),
    ("4.保护第三方合法权益", "0 1 0 0 0 0 1"),
    ("5.属于三类内部事务信息", "0 0 0 0 0 0 0"),
    ("6.属于四类过程性信息", "0 0 0 0 0 0 0"),
    ("7.属于行政执法案卷", "0 0 0 0 0 0 0"),
    ("8.属于行政查询事项", "0 0 0 0 0 0 0"),
    ("（四）无法提供 1.本机关不掌握相关政府信息", "1 0 0 0 0 0 1"),
    ("2.没有现成信息需要另行制作", "0 0 0 0 0 0 0"),
    ("3.补正后申请内容仍不明确", "0 0 0 0 0 0 0"),
    ("（五）不予处理 1.信访举报投诉类申请", "0 0 0 0 0 0 0"),
    ("2.重复申请", "2 0 0 0 0 0 2"),
    ("3.要求提供公开出版物", "0 0 0 0 0 0 0"),
    ("4.无正当理由大量反复申请", "0 0 0 0 0 0 0"),
    ("5.要求行政机关确认或重新出具已获取信息", "0 0 0 0 0 0 0"),
    ("（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "0 0 0 0 0 0 0"),
    ("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "0 0 0 0 0 0 0"),
    ("3.其他", "0 0 0 0 0 0 0"),
    ("（七）总计", "11 3 0 0 0 0 14"),
    ("四、结转下年度继续办理", "1 0 0 0 0 0 1"),
]


def _rows(edit: Callable[[list[tuple[str, str]]], list[str]] | None = None) -> list[str]:
    return edit(list(_ROWS)) if edit else [f"{lab} {vals}" for lab, vals in _ROWS]


def test_single_space_rows_read_and_balance() -> None:
    rep = _parse(_table3_text(_rows()))
    assert rep.cells["3:3.3.4:commercial"].value == 1 and rep.cells["3:3.7:total"].value == 14
    assert [f.rule for f in validate_batch([rep]) if f.severity == "error"] == []


def test_a_row_with_too_few_numbers_is_one_reading_finding_and_no_sum_error() -> None:
    """“2 2” for a row of seven: the blanks left no trace, which number is which column is unknown."""

    def short(rows: list[tuple[str, str]]) -> list[str]:
        return [f"{lab} {'2 2' if lab.startswith('（二）部分公开') else vals}" for lab, vals in rows]

    rep = _parse(_table3_text(_rows(short)))
    fs = [f for f in validate_batch([rep]) if f.severity == "error"]
    assert [(f.rule, f.cells) for f in fs] == [("I11", ["3:3.2:*"])]
    assert "印有 2 个数字，应为 7 个" in fs[0].message and "（二）部分公开" in fs[0].message
    assert all(rep.cells[f"3:3.2:{c}"].state is State.MISSING for c in ("natural", "total"))
    # one row of 25 not read: the reading confidence of table 三 says so (submissions.json "reading")
    # a report of the same format read whole (its answer is kept per format and absent tables) does not
    # stand in for this one, before or after
    whole = _parse(_table3_text(_rows()))
    assert grid.reading_confidence(whole) == {"2": 1.0, "3": 1.0, "4": 1.0}
    assert grid.reading_confidence(rep) == {"2": 1.0, "3": round(1 - 7 / 175, 3), "4": 1.0}
    assert grid.reading_confidence(whole) == {"2": 1.0, "3": 1.0, "4": 1.0}
    # the batch's (the run's: one lookup for the reports read whole): the same, an unreadable file None
    broken = load_bytes("broken.txt", b"hello")
    assert grid.reading_confidences([whole, rep, broken, whole]) == [
        {"2": 1.0, "3": 1.0, "4": 1.0},
        {"2": 1.0, "3": round(1 - 7 / 175, 3), "4": 1.0},
        None,
        {"2": 1.0, "3": 1.0, "4": 1.0},
    ]


def test_numbers_between_two_bare_labels_are_not_guessed() -> None:
    """Two labels without numbers and one line of numbers between them: it could be either's."""

    def between(rows: list[tuple[str, str]]) -> list[str]:
        out = []
        for lab, vals in rows:
            if lab.startswith("6.属于四类"):
                out += [lab, vals]
            elif lab.startswith("7.属于行政执法"):
                out += [lab]
            else:
                out.append(f"{lab} {vals}")
        return out

    rep = _parse(_table3_text(_rows(between)))
    fs = [f for f in validate_batch([rep]) if f.severity == "error"]
    assert sorted((f.rule, tuple(f.cells)) for f in fs) == [("I11", ("3:3.3.6:*",)), ("I11", ("3:3.3.7:*",))]
    assert "可能属于上一行，也可能属于下一行" in fs[0].message


def test_numbers_above_their_label_and_one_per_line_are_read() -> None:
    def shapes(rows: list[tuple[str, str]]) -> list[str]:
        out = []
        for lab, vals in rows:
            if lab.startswith("（三）不予公开"):
                out += [vals, lab]  # above the label, the row before has its own numbers
            elif lab.startswith("（七）"):
                out += [lab, *vals.split()]  # one per line
            else:
                out.append(f"{lab} {vals}")
        return out

    rep = _parse(_table3_text(_rows(shapes)))
    assert [f.rule for f in validate_batch([rep]) if f.severity == "error"] == []
    assert rep.cells["3:3.7:total"].value == 14 and rep.cells["3:3.3.1:total"].state is State.ZERO


def test_attach_is_order_preserving_and_names_ties() -> None:
    fits = lambda _lab, _v: True  # noqa: E731
    res = grid.attach("LVVL", [7, 7, 7, 7], fits, lambda _l: False, lambda _v: True)
    assert res.pairs == {0: 1, 3: 2} and res.uncertain == {}
    res = grid.attach("LVLVL", [7] * 5, fits, lambda _l: False, lambda _v: True)
    assert res.pairs == {} and set(res.uncertain) == {0, 2, 4}
    res = grid.attach("LVFVL", [7] * 5, fits, lambda _l: False, lambda _v: True)
    assert res.pairs == {0: 1, 4: 3}


def test_header_labels_printed_in_pieces() -> None:
    lines = [
        ["自然人", "社会", "法律", "总计"],
        ["商业", "科研"],
        ["公益", "服务", "其他"],
        ["企业", "机构"],
        ["组织", "机构"],
    ]
    for label in ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"):
        assert grid.assembled(label, lines), label
    assert not grid.assembled("结果维持", lines)
    assert grid.assembled("总计", [["总", "计"]])


# ------------------------------------------------------------------ traditional characters


def test_traditional_marks_are_only_traditional() -> None:
    """Every character that marks a text as traditional is converted by t2s (none is simplified),
    and the seed has none of them."""
    assert all(to_simplified(ch) != ch for ch in _TRADITIONAL)
    assert not has_traditional(seed_text())
    assert has_traditional(traditional(seed_text()))


def test_a_traditional_report_keeps_its_printed_title() -> None:
    rep = _parse(traditional(seed_text()))
    assert rep.agency == "沙坡头区镇罗镇" and rep.title is not None and "報告" in rep.title


# The seed's own printed text (not re-rendered: its group labels keep their half-width brackets and the
# space inside, “(三) 不予公开”), cut into the two shapes a copy or an extraction makes of it.
RAW_SHAPES: dict[str, Callable[[str], str]] = {
    "one_cell_per_line": lambda t: "\n".join(c.strip() for line in t.splitlines() for c in line.split("\t")) + "\n",
    "single_spaces": lambda t: (
        "\n".join(" ".join(c.strip() for c in line.split("\t") if c.strip()) for line in t.splitlines()) + "\n"
    ),
}


@pytest.mark.parametrize("report", ["seed", "busy", "busy-B01", "busy-A01-D01"])
@pytest.mark.parametrize("shape", sorted(RAW_SHAPES))
def test_the_printed_seed_cut_into_a_shape_reads_as_printed(report: str, shape: str) -> None:
    text = REPORTS[report]()
    twin = _parse(text, "twin.txt")
    got = _parse(RAW_SHAPES[shape](text), f"{shape}.txt")
    assert (got.status, got.fmt, got.year, got.agency) == ("validated", twin.fmt, twin.year, twin.agency)
    assert _cells(got) == _cells(twin)
    assert _errors(got) == _errors(twin)
    assert not [f for f in validate_batch([got]) if f.rule in ("I04", "I11")]  # no row lost, none guessed
