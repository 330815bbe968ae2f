"""What PDF/OCR/web converters print instead of clean tab-separated tables, and the 2019 format.

Pipe tables, space-aligned columns (blank cells vanish), tables cut by page breaks with repeated
headers, labels detached from their values, sentences cut by page breaks, run-together digits —
each read into the same canonical cells as the clean text where the labels (and, for run-together
digits, the sum rules) make the reading unambiguous, and reported with the raw text where not.
"""

from __future__ import annotations

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import T3_COLUMNS, T4_COLUMNS, T4_ROWS, Fmt, all_cells
from nianbao.io.text import display_width
from nianbao.read.rundigits import Split, split_groups, split_row
from nianbao.testing.render import (
    ReportContent,
    as_2019,
    content_from_report,
    document_from_content,
    to_layout_text,
    to_markdown,
    to_text,
)
from nianbao.validate.batch import validate_batch
from tests import rule_registry
from tests.helpers import busy_seed, parse, set_cells

rule_registry.COVERED.update({"I09", "I10"})

T3 = [c.id for c in T3_COLUMNS]
BLANKS = (
    {f"3:{r}:total": "" for r in ("3.1", "3.2", "3.4.1")}
    | {
        "3:3.3.4:legal": "",
        "4:review:pending": "",
        "2:rules:repealed": "",
        "2:penalty:decisions": "",
    }
    | {f"3:3.3.2:{c}": "" for c in T3}
)


def cells_of(rep: ParsedReport) -> dict[str, tuple[float | None, State]]:
    return {k: (c.value, c.state) for k, c in rep.cells.items()}


def findings_of(rep: ParsedReport) -> list[tuple[str, tuple[str, ...], str, str]]:
    return sorted((f.rule, tuple(f.cells), str(f.expected), str(f.actual)) for f in validate_batch([rep]))


def _content(edits: dict[str, str]) -> tuple[ParsedReport, ReportContent]:
    text = parse(set_cells(busy_seed(), edits))
    return text, content_from_report(text)


@pytest.mark.parametrize("edits", [{}, BLANKS], ids=["filled", "with-blanks"])
@pytest.mark.parametrize("writer", [to_markdown, to_layout_text], ids=["pipe-table", "space-aligned"])
def test_pipe_and_space_aligned_extractions_read_as_the_text(writer: object, edits: dict[str, str]) -> None:
    text, content = _content(edits)
    extracted = writer(document_from_content(content))  # type: ignore[operator]
    if writer is to_markdown:
        assert "| 一、本年新收政府信息公开申请数量 |" in extracted and "|---|" in extracted
    else:
        assert "\t" not in extracted and "\f" in extracted
    rep = parse(extracted)
    assert cells_of(rep) == cells_of(text)
    assert findings_of(rep) == findings_of(text)


def test_space_aligned_value_not_under_a_column_is_reported_not_guessed() -> None:
    text, content = _content(BLANKS)
    lines = to_layout_text(document_from_content(content)).split("\n")
    k = next(i for i, ln in enumerate(lines) if ln.strip().startswith("规章"))
    # the first value slides half way towards the next column: no column is clearly its own
    head = next(ln for ln in lines if "本年制发件数" in ln)
    a, b = head.index("本年制发件数"), head.index("本年废止件数")
    mid = (display_width(head[:a]) + display_width(head[:b])) // 2 + 6
    first = lines[k].index("0")
    lines[k] = (lines[k][:first] + " ").ljust(mid) + "0" + lines[k][first + 1 :].lstrip().rjust(len(lines[k]) - mid - 1)
    rep = parse("\n".join(lines))
    i07 = [f for f in validate_batch([rep]) if f.rule == "I07"]
    assert [(f.cells, f.actual) for f in i07] == [(["2:rules:*"], "规章\t0\t0")]
    assert {rep.cells[f"2:rules:{c}"].state for c in ("issued", "repealed", "in_force")} == {State.MISSING}
    # the rest of the report is read and checked as before
    assert {k: v for k, v in cells_of(rep).items() if not k.startswith("2:rules:")} == {
        k: v for k, v in cells_of(text).items() if not k.startswith("2:rules:")
    }


def test_table_cut_by_page_breaks_with_repeated_headers() -> None:
    clean = busy_seed()
    lines = clean.split("\n")
    head = [i for i, ln in enumerate(lines) if "申请人情况" in ln or "\t自然人\t" in ln or "\t商业企业\t" in ln]
    assert len(head) == 3
    header = [lines[i] for i in head]
    k = next(i for i, ln in enumerate(lines) if "4.保护第三方合法权益" in ln)
    j = next(i for i, ln in enumerate(lines) if "2.重复申请" in ln)
    cut = [
        *lines[: k + 1],
        "\f",
        "- 3 -",
        "续表",
        *header,
        *lines[k + 1 : j],
        "",
        "第 4 页 共 6 页",
        *header,
        *lines[j:],
    ]
    rep = parse("\n".join(cut))
    assert cells_of(rep) == cells_of(parse(clean))
    assert findings_of(rep) == findings_of(parse(clean))


def test_labels_detached_from_their_values() -> None:
    """pdftotext prints a long label on its own line(s) and the values on the next."""
    text, content = _content({})
    lines = to_layout_text(document_from_content(content)).split("\n")
    k = next(i for i, ln in enumerate(lines) if "（二）部分公开" in ln)
    label_end = lines[k].index("）", lines[k].index("情形")) + 1
    lines[k : k + 1] = [lines[k][:label_end], " " * label_end + lines[k][label_end:]]
    m = next(i for i, ln in enumerate(lines) if "1.申请人无正当理由逾期不补正" in ln)
    cut = lines[m].index("行政机关")
    lines[m : m + 1] = [lines[m][:cut], " " * cut + lines[m][cut:]]
    rep = parse("\n".join(lines))
    assert cells_of(rep) == cells_of(text)
    assert findings_of(rep) == findings_of(text)


def test_sentence_cut_by_a_page_break() -> None:
    clean = busy_seed()
    cut = clean.replace("至 2023 年 12 月 31 日。", "至\n\f\n- 1 -\n\n2023 年 12 月 31 日。")
    assert cut != clean
    rep = parse(cut)
    assert (rep.period_text, rep.period_full_year) == ("2023年1月1日至2023年12月31日", True)
    assert findings_of(rep) == findings_of(parse(clean))


def test_title_wrapped_onto_two_lines() -> None:
    clean = busy_seed()
    rep = parse(clean.replace("2023 年政府信息公开 工作年度报告", "2023 年政府信息公开\n工作年度报告", 1))
    assert (rep.agency, rep.year) == ("沙坡头区镇罗镇", 2023)


# ------------------------------------------------------------------ run-together digits


def _run_together(text: str, label: str, digits: str) -> str:
    lines = text.split("\n")
    k = next(i for i, ln in enumerate(lines) if ln.startswith(label))
    lines[k] = f"{label}\t\t{digits}"
    return "\n".join(lines)


def test_split_search_counts() -> None:
    row = tuple(f"3:1:{c}" for c in T3)
    assert split_row("640020470", row).parts == ("64", "0", "0", "2", "0", "4", "70")
    assert split_row("111000012", row).count == 2  # 11|1|…|12 and 1|11|…|12
    assert split_row("1234567", row).count == 0
    assert split_groups("0" * 40, (6,)).count == 0  # leading zeros: no count is printed "00"
    t4 = tuple(f"4:{r.id}:{c.id}" for r in T4_ROWS for c in T4_COLUMNS)
    assert split_row("200130100100000", t4).parts == tuple("200130100100000")
    assert split_row("9" * 500, row).count == 0  # hundreds of digits: no search at all


def test_split_search_is_bounded_by_work() -> None:
    """The split is found in 32 steps; with fewer the search stops, unsettled (one split found, its
    uniqueness unproven): not recovered, on any machine."""
    assert split_groups("640020470", (6,), max_steps=32) == Split(("64", "0", "0", "2", "0", "4", "70"), 1)
    assert split_groups("640020470", (6,), max_steps=31) == Split(None, 1, complete=False)
    assert split_groups("640020470", (6,), max_steps=5) == Split(None, 0, complete=False)


def test_run_together_row_with_a_unique_split_is_recovered() -> None:
    clean = parse(busy_seed())
    rep = parse(_run_together(busy_seed(), "一、本年新收政府信息公开申请数量", "103000013"))
    for c, v in zip(T3, (10, 3, 0, 0, 0, 0, 13), strict=True):
        assert (rep.cells[f"3:1:{c}"].value, rep.cells[f"3:1:{c}"].state) == (v, State.RECOVERED)
    fs = validate_batch([rep])
    i10 = [f for f in fs if f.rule == "I10"]
    assert [(f.cells, f.expected, f.actual, f.severity) for f in i10] == [
        (["3:1:*"], "10|3|0|0|0|0|13", "103000013", "warning")
    ]
    assert "103000013" in i10[0].message and "10|3|0|0|0|0|13" in i10[0].message
    # every other finding is the clean report's
    assert [x for x in findings_of(rep) if x[0] != "I10"] == findings_of(clean)


def test_run_together_row_with_several_splits_is_reported_and_the_rest_checked() -> None:
    text = _run_together(busy_seed(), "一、本年新收政府信息公开申请数量", "111000012")
    text = set_cells(text, {"4:review:total": "4"})  # a defect elsewhere must still be found
    rep = parse(text)
    fs = validate_batch([rep])
    i07 = [f for f in fs if f.rule == "I07"]
    assert [(f.cells, f.actual) for f in i07] == [(["3:1:*"], "一、本年新收政府信息公开申请数量\t\t111000012")]
    assert "111000012" in i07[0].message
    assert {rep.cells[f"3:1:{c}"].state for c in T3} == {State.MISSING}
    # no sum rule reads the unreadable row; the others still run
    assert not [f for f in fs if f.rule in ("A01", "C01") and any(c.startswith("3:1:") for c in f.cells)]
    assert [(f.rule, f.cells[0], f.expected, f.actual) for f in fs if f.rule == "D01"] == [
        ("D01", "4:review:total", 3, 4)
    ]


def test_run_together_table_four_row() -> None:
    clean = parse(busy_seed())
    text = busy_seed().replace("2\t0\t0\t1\t3\t0\t1\t0\t0\t1\t0\t0\t0\t0\t0", "200130100100000")
    rep = parse(text)
    assert rep.cells["4:review:pending"].value == 1 and rep.cells["4:review:pending"].state is State.RECOVERED
    assert [x for x in findings_of(rep) if x[0] != "I10"] == findings_of(clean)
    assert [x[:2] for x in findings_of(rep) if x[0] == "I10"] == [("I10", ("4:*:*",))]
    # a one-line table 四 whose digits admit no split is not machine-readable as a whole (I09)
    bad = parse(busy_seed().replace("2\t0\t0\t1\t3\t0\t1\t0\t0\t1\t0\t0\t0\t0\t0", "200130100100001"))
    i09 = [f for f in validate_batch([bad]) if f.rule == "I09"]
    assert [(f.cells, f.actual, f.severity) for f in i09] == [(["4:*:*"], "200130100100001", "error")]
    assert not [f for f in validate_batch([bad]) if f.rule in ("D01", "I03")]


def test_table_level_code_passes_on_a_readable_table() -> None:
    assert not [f for f in validate_batch([parse(busy_seed())]) if f.rule in ("I09", "I10")]


# ------------------------------------------------------------------ the 2019 format


def _report_2019(year: int, edits: dict[str, str] | None = None) -> str:
    c = as_2019(content_from_report(parse(busy_seed())))
    c.values |= edits or {}
    c.title = c.title.replace("2023", str(year))
    c.intro = [p.replace("2023", str(year)).replace("〔2021〕30", "〔2019〕60") for p in c.intro]
    c.prose = {k: [p.replace("2023", str(year)) for p in v] for k, v in c.prose.items()}
    return to_text(document_from_content(c))


def test_2019_report_is_read_into_2019_cells_and_checked_by_2019_rules() -> None:
    text = _report_2019(2019, {"2:licensing:change": "-3", "2:procurement:amount": "12.5"})
    rep = parse(text)
    assert (rep.year, rep.fmt) == (2019, Fmt.F2019)
    assert set(rep.cells) >= set(all_cells(Fmt.F2019))
    assert rep.cells["2:licensing:change"].value == -3  # 本年增/减 may be negative
    assert rep.cells["2:procurement:amount"].value == 12.5
    assert rep.cells["3:3.6:total"].state is State.ZERO
    assert "3:3.6.1:total" not in rep.cells
    rules = {f.rule for f in validate_batch([rep])}
    assert not rules & {"R01", "G02", "I03", "I04", "I05", "A01", "B01", "C01"}, rules


def test_2019_only_row_is_checked_by_the_2019_rules() -> None:
    rep = parse(_report_2019(2020, {"3:3.6:natural": "2", "2:penalty:decisions": "-1"}))
    fs = validate_batch([rep])
    a01 = [f for f in fs if f.rule == "A01"]
    assert [(f.cells[0], f.expected, f.actual) for f in a01] == [("3:3.6:total", 2, 0)]
    assert [f.cells for f in fs if f.rule == "G02"] == [["2:penalty:decisions"]]
    assert not [f for f in fs if f.rule == "R01"]


def test_2023_report_in_the_2019_layout_is_outdated_and_still_checked() -> None:
    rep = parse(_report_2019(2023, {"3:3.3.4:commercial": "2", "3:3.3.4:total": "2"}))
    assert (rep.year, rep.fmt) == (2023, Fmt.F2019)
    fs = validate_batch([rep])
    r01 = [f for f in fs if f.rule == "R01"]
    assert [(f.expected, f.actual, f.severity) for f in r01] == [("2021", "2019", "error")]
    assert "表二列“本年新制作数量”" in r01[0].message
    b01 = [f for f in fs if f.rule == "B01"]
    assert [(f.cells[0], f.expected, f.actual) for f in b01] == [("3:3.7:commercial", 4, 3), ("3:3.7:total", 15, 14)]
    assert "3:3.6:commercial" in b01[0].cells  # the 2019 outcome rows, with the single （六） row
