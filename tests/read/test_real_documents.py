"""The two official PDFs of 淮安市洪泽区人民政府 (2023, 2024), read as published and as users extract them.

The documents are third-party: they are read from ``../shared/real`` when that folder exists (CI has
it) and never copied into the repository; without it the tests skip and say so.  Their text
extractions (``pdftotext``, ``pdftotext -layout``, pdfplumber's ``extract_text``) are made into the
test's temporary folder.

The truth below was established by reading the page images (``pdftoppm -r 80``) cell by cell; the
numbers are facts of the published tables.  Every column of table 三 other than 自然人 and 总计 is 0
in both reports.  Real inconsistencies of the tables: 2023 表四 prints 总计 0 for 行政复议
(10 + 1 + 0 + 0 = 11) and for 复议后起诉 (5 + 0 + 0 + 0 = 5) — two D01 errors; 2024's tables
balance, but 2024's text says 17 applications were received against 95 in table 三 (H01).  Both
print 三（六）其他处理 as one row without its three sub-rows (I13) and the label
“2.其他法律行政止公开” (three characters of 其他法律行政法规禁止公开 lost; read by its number and place, I12).
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import T3_COLUMNS, Fmt
from nianbao.read.grid import reading_confidence
from nianbao.read.load import load_file
from nianbao.validate.batch import validate_batch

REAL = Path(__file__).resolve().parents[3] / "shared" / "real"
SKIP_REAL = "../shared/real (the two official PDFs) is not on this machine: the real-document tests are skipped"

# table 三 rows -> (自然人, 总计); every other applicant column is 0.  3.6.3 holds the single printed
# （六）其他处理 row (read as the group's total, I13).
_T3 = {
    2023: {
        "1": 21, "2": 0, "3.1": 0, "3.2": 4,
        "3.3.1": 1, "3.3.2": 0, "3.3.3": 0, "3.3.4": 0, "3.3.5": 0, "3.3.6": 1, "3.3.7": 1, "3.3.8": 0,
        "3.4.1": 10, "3.4.2": 3, "3.4.3": 0,
        "3.5.1": 1, "3.5.2": 0, "3.5.3": 0, "3.5.4": 0, "3.5.5": 0,
        "3.6.3": 0, "3.7": 21, "4": 0,
    },
    2024: {
        "1": 95, "2": 0, "3.1": 50, "3.2": 9,
        "3.3.1": 0, "3.3.2": 0, "3.3.3": 1, "3.3.4": 0, "3.3.5": 0, "3.3.6": 1, "3.3.7": 1, "3.3.8": 0,
        "3.4.1": 31, "3.4.2": 1, "3.4.3": 0,
        "3.5.1": 1, "3.5.2": 0, "3.5.3": 0, "3.5.4": 0, "3.5.5": 0,
        "3.6.3": 0, "3.7": 95, "4": 0,
    },
}  # fmt: skip
_T2 = {
    2023: {
        "2:rules:issued": 0, "2:rules:repealed": 0, "2:rules:in_force": 0,
        "2:normative:issued": 0, "2:normative:repealed": 5, "2:normative:in_force": 5,
        "2:licensing:decisions": 550, "2:penalty:decisions": 4119, "2:coercion:decisions": 195,
        "2:fees:amount": 7730.28,
    },
    2024: {
        "2:rules:issued": 0, "2:rules:repealed": 0, "2:rules:in_force": 0,
        "2:normative:issued": 3, "2:normative:repealed": 0, "2:normative:in_force": 8,
        "2:licensing:decisions": 9487, "2:penalty:decisions": 2776, "2:coercion:decisions": 84,
        "2:fees:amount": 7545,
    },
}  # fmt: skip
_T4 = {  # (维持, 纠正, 其他, 尚未审结, 总计) of 行政复议, 未经复议直接起诉, 复议后起诉
    2023: ((10, 1, 0, 0, 0), (0, 0, 0, 0, 0), (5, 0, 0, 0, 0)),
    2024: ((1, 1, 0, 0, 2), (1, 0, 0, 0, 1), (2, 0, 1, 0, 3)),
}
AGENCY = {2023: "洪泽区人民政府", 2024: "淮安市洪泽区人民政府"}  # as each title prints it
# the real sum-rule errors: (rule, first cell, expected, actual)
REAL_SUM_ERRORS = {
    2023: {("D01", "4:review:total", 11.0, 0.0), ("D01", "4:suit_after_review:total", 5.0, 0.0)},
    2024: set(),
}
SUM_RULES = ("A01", "B01", "C01", "D01", "E01")


def truth(year: int) -> dict[str, float]:
    out: dict[str, float] = dict(_T2[year])
    for row, (nat) in _T3[year].items():
        for col in T3_COLUMNS:
            out[f"3:{row}:{col.id}"] = nat if col.id in ("natural", "total") else 0
    for rid, vals in zip(("review", "suit_direct", "suit_after_review"), _T4[year], strict=True):
        for col, v in zip(("upheld", "corrected", "other", "pending", "total"), vals, strict=True):
            out[f"4:{rid}:{col}"] = v
    return out


SOURCES = ("pdf", "pdftotext-layout", "pdfplumber", "pdftotext")
CASES = [(y, s) for y in (2023, 2024) for s in SOURCES]


def _pdf(year: int) -> Path:
    if not REAL.is_dir():
        pytest.skip(SKIP_REAL)
    p = REAL / f"淮安市洪泽区人民政府_{year}.pdf"
    if not p.is_file():
        pytest.skip(f"{p} is missing: the real-document tests are skipped")
    return p


@cache
def _extracted(year: int, source: str, folder: str) -> Path:
    pdf = _pdf(year)
    out = Path(folder) / f"淮安市洪泽区人民政府_{year}.{source}.txt"
    if source == "pdfplumber":
        import pdfplumber

        with pdfplumber.open(pdf) as doc:
            out.write_text("\n".join(page.extract_text() or "" for page in doc.pages), encoding="utf-8")
        return out
    args = ["pdftotext", "-layout"] if source == "pdftotext-layout" else ["pdftotext"]
    subprocess.run([*args, str(pdf), str(out)], check=True, capture_output=True, timeout=60)
    return out


@cache
def _read(year: int, source: str, folder: str) -> ParsedReport:
    if source == "pdf":
        return load_file(_pdf(year))
    if source.startswith("pdftotext") and shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: its extractions are not tested")
    return load_file(_extracted(year, source, folder))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("real"))


@pytest.mark.parametrize(("year", "source"), CASES)
def test_metadata(year: int, source: str, folder: str) -> None:
    rep = _read(year, source, folder)
    assert (rep.status, rep.agency, rep.year, rep.fmt) == ("validated", AGENCY[year], year, Fmt.F2021)


@pytest.mark.parametrize(("year", "source"), CASES)
def test_cells_are_the_printed_ones(year: int, source: str, folder: str) -> None:
    """Every cell read is the cell printed; the PDF and the extractions that keep rows read them all.

    ``pdftotext`` without ``-layout`` prints the sub-rows of 三 column by column, their labels after
    the numbers: those rows cannot be read for certain, so they are not read (I11) — never guessed."""
    rep = _read(year, source, folder)
    want = truth(year)
    got = {cid: rep.cells[cid] for cid in want}
    wrong = {cid: (c.value, c.state) for cid, c in got.items() if c.state is not State.MISSING and c.value != want[cid]}
    assert wrong == {}
    unread = sorted(cid for cid, c in got.items() if c.state is State.MISSING)
    confidence = reading_confidence(rep)
    if source != "pdftotext":
        assert unread == []
        assert confidence == {"2": 1.0, "3": 1.0, "4": 1.0}
        return
    assert confidence["2"] == confidence["4"] == 1.0
    assert confidence["3"] is not None and confidence["3"] < 0.5  # most of 三 printed column by column
    # the rows left unread are exactly those a reading finding names
    named = {ri.element.split(":")[1] for ri in rep.row_issues if ri.code == "I11"}
    assert {cid.split(":")[1] for cid in unread if cid.startswith("3:")} <= named
    assert [cid for cid in unread if not cid.startswith("3:")] == []  # tables 二 and 四 are read whole


@pytest.mark.parametrize(("year", "source"), CASES)
def test_only_the_real_sum_errors(year: int, source: str, folder: str) -> None:
    rep = _read(year, source, folder)
    fs = validate_batch([rep])
    sums = {(f.rule, f.cells[0], f.expected, f.actual) for f in fs if f.rule.startswith(SUM_RULES)}
    assert sums == REAL_SUM_ERRORS[year]
    errors = {f.rule for f in fs if f.severity == "error" and not f.rule.startswith(SUM_RULES)}
    # I13: the single （六）其他处理 row is a real layout defect of both reports; I11: rows of the
    # column-by-column extraction that could not be read; nothing else
    allowed = {"I13", "I11"} if source == "pdftotext" else {"I13"}
    assert errors <= allowed
    near = {(f.rule, tuple(f.cells)) for f in fs if f.rule == "I12"}
    if source != "pdftotext":
        assert "I13" in errors
        assert near == {("I12", ("3:3.3.2:*",))}  # “2.其他法律行政止公开”, read by its number and place


@pytest.mark.parametrize(("year", "source"), [c for c in CASES if c[1] != "pdftotext"])
def test_the_prose_is_read_against_the_tables(year: int, source: str, folder: str) -> None:
    """2024's section 一 says the office received 17 applications; table 三 prints 95 new ones (a real
    inconsistency, H01).  The sentence is wrapped over two printed lines in every extraction, and
    in the PDF the prose of pages 1–2 sits inside a ruled frame that is not a table."""
    rep = _read(year, source, folder)
    h = [(f.rule, f.cells, f.expected, f.actual) for f in validate_batch([rep]) if f.rule.startswith("H")]
    assert h == ([("H01", ["3:1:total"], 95.0, 17.0)] if year == 2024 else [])


def test_the_two_years_carry_over(folder: str) -> None:
    """2024's 上年结转 is 2023's 结转下年度 and its 现行有效 规范性文件 carry over (5 + 3 − 0 = 8).
    (2023's title names the agency without 淮安市: the rename table pairs the two.)"""
    reps = [_read(y, "pdf", folder) for y in (2023, 2024)]
    fs = validate_batch(reps, renames={"洪泽区": "淮安市洪泽区"})
    assert [f for f in fs if f.rule in ("E01", "F01")] == []
    assert not any(f.rule == "E02" and f.year == 2024 for f in fs)
