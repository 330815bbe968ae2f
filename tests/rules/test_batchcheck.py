"""The batch as a whole with Great Expectations (rules M): submissions vs the registry, years,
formats, duplicates, bounds — in-process, offline, quiet, with Data Docs in the run's folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from nianbao.cli.app import app
from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import Agency
from nianbao.read.load import load_bytes
from nianbao.rules.expectations import check_batch, filed_as, row_checks_pass, run_expectations, submission_table
from nianbao.testing.synth import SynthConfig, generate, registry_csv, render_text
from tests import rule_registry

rule_registry.COVERED.update({f"M0{k}" for k in range(1, 9)})

pytestmark = pytest.mark.slow  # Great Expectations' import alone takes seconds

CFG = SynthConfig(counties=1, townships=12, years=(2023,), defect_rate=0.0, seed=5, mixed_encodings=False)


def county() -> tuple[list[tuple[str, str]], list[Agency]]:
    """(file name, text) of a clean synthetic county, and its registry."""
    ds, _ = generate(CFG)
    files = [(f"2023/{d.county}/{d.file_name}", render_text(d)) for d in ds]
    reg = [Agency(*row.split(",")) for row in registry_csv(ds).splitlines()[1:]]
    return files, reg


def parse_all(files: list[tuple[str, str]]) -> list[ParsedReport]:
    return [load_bytes(name, text.encode("utf-8")) for name, text in files]


def m_findings(reports: list[ParsedReport], tmp: Path, **kw: object) -> list[tuple[str, str, str, int | None]]:
    res = check_batch(reports, tmp / "gx", **kw)  # type: ignore[arg-type]
    return sorted((f.rule, f.severity, f.file.split("/")[-1], f.year) for f in res.findings)


def agency_of(text: str) -> str:
    m = re.match(r"\s*(\S+?) (\d{4}) 年", text)
    assert m
    return m.group(1)


def test_clean_batch_passes_every_expectation(tmp_path: Path) -> None:
    files, reg = county()
    res = check_batch(parse_all(files), tmp_path / "gx", registry=reg, registry_file="registry.csv")
    assert res.findings == []
    checks = res.statistics.pop("checks")
    assert res.statistics == {"submissions": 12, "expected": 12, "expectations": 15, "failed_expectations": 0}
    assert res.skipped == {}
    assert res.docs is not None and res.docs.is_file()
    # every expectation, in the auditor's words, for the overview's 批次检查 section
    assert len(checks) == 15 and all(c["ok"] and c["unexpected"] == 0 for c in checks)
    assert sorted({c["rule"] for c in checks}) == ["M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08"]
    assert {"rule": "M01", "what": "名册中的每个机关都报送了报告", "ok": True, "unexpected": 0} in checks


def test_each_batch_rule_fails_exactly(tmp_path: Path) -> None:
    files, reg = county()
    names = [agency_of(t) for _n, t in files]
    out = list(files)
    # M01: township 0 did not submit
    missing = names[0]
    out = [f for f in out if not f[0].endswith(f"{missing}_2023.txt")]
    # M02: township 1 submitted twice (a revised file with another name)
    n1, t1 = files[1]
    out.append((n1.replace("_2023.txt", "_2023_修订.txt"), t1.replace("高质量发展", "高质量发展。")))
    # M03: a report of an agency not in the registry (its own figures)
    _n2, t2 = files[2]
    new = t2.replace(names[2], "示例县新设镇")
    out.append(("2023/示例县/示例县新设镇_2023.txt", new.replace("0955-", "0956-")))
    # M04: township 3's file handed in again, filed as another township
    _n3, t3 = files[3]
    out.append(("2023/示例县/示例县甲乙镇_2023.txt", t3))
    # M05: township 5's report carries township 4's figures (title and text its own)
    _n4, t4 = files[4]
    n5, _t5 = files[5]
    out[next(k for k, f in enumerate(out) if f[0] == n5)] = (n5, t4.replace(names[4], names[5]))
    # M06: a report dated in the future; M07: a 2020 report in the 2021 format
    n6, t6 = files[6]
    out[next(k for k, f in enumerate(out) if f[0] == n6)] = (n6.replace("2023", "2031"), t6.replace("2023", "2031"))
    n7, t7 = files[7]
    out[next(k for k, f in enumerate(out) if f[0] == n7)] = (n7.replace("2023", "2020"), t7.replace("2023", "2020"))
    # M08: a count far beyond any township's (行政处罚 200000)
    n8, t8 = files[8]
    t8 = re.sub(r"(行政处罚\t)\d+", r"\g<1>200000", t8)
    out[next(k for k, f in enumerate(out) if f[0] == n8)] = (n8, t8)

    res = check_batch(parse_all(out), tmp_path / "gx", registry=reg, registry_file="data/registry.csv")
    got = sorted((f.rule, f.severity, f.file.split("/")[-1], f.agency, f.year) for f in res.findings)
    f1 = files[1][0].split("/")[-1]
    assert got == sorted(
        [
            ("M01", "error", "registry.csv", missing, 2023),
            ("M01", "error", "registry.csv", names[6], 2023),  # its only report is dated 2031
            ("M01", "error", "registry.csv", names[7], 2023),  # ... and this one's 2020
            ("M02", "error", f1, names[1], 2023),
            ("M02", "error", f1.replace("_2023.txt", "_2023_修订.txt"), names[1], 2023),
            ("M02", "error", files[3][0].split("/")[-1], names[3], 2023),
            ("M02", "error", "示例县甲乙镇_2023.txt", names[3], 2023),
            ("M03", "warning", "示例县新设镇_2023.txt", "示例县新设镇", 2023),
            ("M04", "error", files[3][0].split("/")[-1], names[3], 2023),
            ("M04", "error", "示例县甲乙镇_2023.txt", names[3], 2023),
            ("M05", "warning", files[2][0].split("/")[-1], names[2], 2023),
            ("M05", "warning", "示例县新设镇_2023.txt", "示例县新设镇", 2023),
            ("M05", "warning", files[4][0].split("/")[-1], names[4], 2023),
            ("M05", "warning", files[5][0].split("/")[-1], names[5], 2023),
            ("M06", "error", files[6][0].split("/")[-1].replace("2023", "2031"), names[6], 2031),
            ("M07", "info", files[7][0].split("/")[-1].replace("2023", "2020"), names[7], 2020),
            ("M08", "warning", files[8][0].split("/")[-1], names[8], 2023),
        ]
    )
    by = {(f.rule, f.file.split("/")[-1]): f for f in res.findings}
    m01 = next(f for f in res.findings if f.rule == "M01" and f.agency == missing)
    assert m01.message == f"示例县“{missing}”未提交 2023 年度政府信息公开工作年度报告。"
    assert (m01.file, m01.report, m01.expected, m01.actual) == ("data/registry.csv", -1, 1, 0)
    m08 = by[("M08", files[8][0].split("/")[-1])]
    assert (m08.cells, m08.expected, m08.actual) == (["2:penalty:decisions"], "≤ 100000", 200000)
    m04 = by[("M04", "示例县甲乙镇_2023.txt")]
    assert f"以“{names[3]}”名义提交的文件" in m04.message
    m02 = by[("M02", f1)]
    assert (m02.expected, m02.actual) == (1, 2) and "有 2 份报告" in m02.message


def test_without_registry_the_registry_checks_are_skipped(tmp_path: Path) -> None:
    files, _reg = county()
    res = check_batch(parse_all(files[1:]), tmp_path / "gx")
    assert res.findings == []
    assert set(res.skipped) == {"M01", "M03"} and "未提供登记表" in res.skipped["M01"]


def test_filed_as() -> None:
    assert filed_as("2023/示例县/示例县南川镇_2023.txt", "x", {}) == "示例县南川镇"
    assert filed_as("in/镇罗镇人民政府2023年度报告.docx", "x", {}) == "镇罗镇"
    assert filed_as("in/report-1.pdf", "沙坡头区镇罗镇", {}) == "沙坡头区镇罗镇"


def test_cli_writes_offline_data_docs_and_says_what_was_skipped(tmp_path: Path) -> None:
    files, reg = county()
    inbox = tmp_path / "in"
    for name, text in files[1:]:  # township 0 missing
        p = inbox / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    (tmp_path / "registry.csv").write_text(
        "county,agency,level\n" + "".join(f"{a.county},{a.agency},{a.level}\n" for a in reg), encoding="utf-8"
    )
    runner = CliRunner()
    out = tmp_path / "out"
    r = runner.invoke(app, ["validate", str(inbox), "--out", str(out), "--registry", str(tmp_path / "registry.csv")])
    assert r.exit_code == 1, r.output
    assert not re.search(r"Warning|Traceback|Calculating Metrics|%\|", r.output)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    docs = out / run["gx_docs"]
    assert run["gx_docs"] == "gx/gx/uncommitted/data_docs/local_site/index.html" and docs.is_file()
    assert "skipped_checks" not in run
    for page in docs.parent.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<(?:script|link|img)\b[^>]*(?:src|href)=[\"']https?://", html), page
    assert "analytics_enabled: false" in (out / "gx" / "gx" / "great_expectations.yml").read_text(encoding="utf-8")
    finds = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert [(f["rule"], f["agency"]) for f in finds if f["rule"] == "M01"] == [("M01", agency_of(files[0][1]))]
    # without --registry: the registry checks are said to be skipped, once, in run.json
    out2 = tmp_path / "out2"
    r2 = runner.invoke(app, ["validate", str(inbox), "--out", str(out2)])
    assert r2.exit_code == 0, r2.output
    run2 = json.loads((out2 / "run.json").read_text(encoding="utf-8"))
    assert set(run2["skipped_checks"]) == {"M01", "M03"}
    assert [f for f in json.loads((out2 / "findings.json").read_text(encoding="utf-8")) if f["rule"][0] == "M"] == []


def test_cli_rejects_a_missing_registry(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["validate", str(tmp_path), "--registry", str(tmp_path / "none.csv")])
    assert r.exit_code == 2 and "找不到机关登记表" in r.output


# ------------------------------------------------------------------ one report: GX only if it can say something


def _one(year: int, fmt: str | None, **figures: float | None) -> pl.DataFrame:
    files, _reg = county()
    table = submission_table(parse_all(files[:1]))
    return table.with_columns(
        pl.lit(year, dtype=pl.Int64).alias("year"),
        pl.lit(fmt, dtype=pl.String).alias("format"),
        *(pl.lit(v, dtype=pl.Float64).alias(c) for c, v in figures.items()),
    )


@pytest.mark.parametrize(
    ("year", "fmt", "figures", "passes"),
    [
        (2023, "2021", {}, True),
        (2031, "2021", {}, False),  # M06: a year to come
        (2007, "2021", {}, False),  # M06: before the first annual reports
        (2020, "2021", {}, False),  # M07: a 2020 report in the 2021 format
        (2020, "2019", {}, True),
        (2020, None, {}, False),  # no format up to 2020: counted as a possible M07, Great Expectations decides
        (2023, "2021", {"f_2_penalty_decisions": 200_000.0}, False),  # M08
        (2023, "2021", {"f_2_penalty_decisions": 100_000.0}, True),  # the bound itself passes
        (2023, "2021", {"f_2_penalty_decisions": None}, True),  # a blank figure: nothing to bound
    ],
)
def test_the_row_screen_agrees_with_great_expectations(
    tmp_path: Path, year: int, fmt: str | None, figures: dict[str, float | None], passes: bool
) -> None:
    """The screen that lets one report skip Great Expectations says "passes" only where GX finds nothing."""
    table = _one(year, fmt, **figures)
    assert set(figures) <= set(table.columns)
    assert row_checks_pass(table, None) is passes
    results, _docs = run_expectations(tmp_path / "gx", {"submissions": table}, None, None)
    gx_passes = all(r["success"] for v in results.values() for _code, r in v)
    assert gx_passes is passes or (fmt is None and gx_passes)  # the screen may only be more careful


def test_one_report_with_something_to_say_still_gets_its_batch_finding(tmp_path: Path) -> None:
    files, _reg = county()
    name, text = files[0]
    res = check_batch(parse_all([(name.replace("2023", "2031"), text.replace("2023", "2031"))]), tmp_path / "gx")
    assert [(f.rule, f.year) for f in res.findings] == [("M06", 2031)]
    assert res.docs is not None and "great_expectations" not in res.statistics
    clean = check_batch(parse_all(files[:1]), tmp_path / "gx2")
    assert clean.findings == [] and clean.docs is None
    assert clean.statistics["great_expectations"] == "not started: nothing to compare"
