"""The infos every report carries (E02 no last year's report, I06 an accepted alias) kept once per
run as summaries (catalogue ``summarised = true``, issue 16): built without a Finding per report,
counted on every report, and still told for each report concerned — the report page, run.json
``summaries`` (expanded back into findings.json's records), the workbook's counts, the memo."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from typer.testing import CliRunner

from nianbao import catalogue
from nianbao.cli.app import app
from nianbao.outcome import InfoSummary, RunOutcome, expand_summaries
from nianbao.run.memo import Memo
from nianbao.run.validation import NO_LAST_YEAR, check_rules, validate_reports
from nianbao.validate.batch import validate_batch
from tests.helpers import parse, seed_text

TOWNS = ("镇罗镇", "兴仁镇", "宣和镇")
E02_MESSAGE = (
    "未找到本机关 2022 年度的报告（本批次和上年数据中都没有该机关上一年度的报告），"
    "上年结转、文件存量、与上年对比等跨年度核对未进行。"
)
I06_MESSAGE = "“社会组织”与规定文字“社会公益组织”不同（可接受的别称）。"


def _texts() -> dict[str, str]:
    """The seed as three townships' reports (each prints 社会组织 and has no 2022 report)."""
    return {f"沙坡头区{t}_2023.txt": seed_text().replace("镇罗镇", t) for t in TOWNS}


def _outcome() -> RunOutcome:
    return validate_reports([parse(t, name) for name, t in _texts().items()])


@pytest.fixture
def temporary_catalogue() -> Iterator[None]:
    yield
    catalogue.use_catalogue(None)


def test_the_catalogue_says_which_rules_are_summarised(temporary_catalogue: None) -> None:
    assert catalogue.summarised_codes() == frozenset({"E02", "I06"})
    packaged = resources.files("nianbao.catalogue").joinpath("catalogue.toml").read_text(encoding="utf-8")
    bad = packaged.replace('code = "A01"\n', 'code = "A01"\nsummarised = true\n', 1)
    catalogue.use_catalogue(bad.encode("utf-8"))
    with pytest.raises(ValueError, match="rule A01: only an info can be summarised"):
        catalogue.catalogue()


def test_summaries_once_per_run_and_counted_on_every_report() -> None:
    o = _outcome()
    assert [(s.rule, s.reports, s.cells, s.expected, s.actual) for s in o.summaries] == [
        ("E02", [0, 1, 2], [], "2022 年度报告", None),
        ("I06", [0, 1, 2], ["3:*:social"], "社会公益组织", "社会组织"),
    ]
    assert [s.message for s in o.summaries] == [E02_MESSAGE, I06_MESSAGE]
    assert o.summaries[0].lines == [3, 3, 3]
    assert not [f for f in o.findings if f.rule in ("E02", "I06")]
    assert [fo.infos for fo in o.files] == [2, 2, 2]
    assert o.n_infos == 6
    assert o.rule_counts()["E02"] == 3 and o.rule_counts()["I06"] == 3
    assert o.info.cross_year is not None and o.info.cross_year.reports_without_last_year == 3


def test_no_report_loses_a_summarised_info() -> None:
    """Expanded, the summaries are exactly the findings the rules made one per report before."""
    o = _outcome()
    for i, name in enumerate(_texts()):
        mine = o.summarised_of(i)
        assert [(f.rule, f.file, f.report, f.message) for f in mine] == [
            ("E02", name, i, E02_MESSAGE),
            ("I06", name, i, I06_MESSAGE),
        ]
        assert {f.rule for f in o.findings_of(i)} >= {"E02", "I06"}
    expanded = validate_batch([parse(t, name) for name, t in _texts().items()])
    assert [f.to_json() for f in o.all_findings()] == [f.to_json() for f in expanded]
    assert sum(1 for f in expanded if f.rule in ("E02", "I06")) == 6


def test_run_json_summaries_expand_to_findings_json_records() -> None:
    o = _outcome()
    summaries = o.summaries_json()
    # each report by its position in submissions.json, not by its file's name
    assert [(s["rule"], s["count"], s["submissions"], s["message"]) for s in summaries] == [
        ("E02", 3, [0, 1, 2], E02_MESSAGE),
        ("I06", 3, [0, 1, 2], I06_MESSAGE),
    ]
    assert all("files" not in s for s in summaries)
    subs = [fo.to_json() for fo in o.files]
    assert [sub["file"] for sub in subs] == list(_texts())
    want = [f.to_json() for f in o.all_findings() if f.rule in ("E02", "I06")]
    got = expand_summaries(summaries, subs)
    key = lambda d: (d["file"], d["rule"])  # noqa: E731
    assert sorted(got, key=key) == sorted(want, key=key)
    # a run.json written before (the files by name) reads the same
    named = [{k: v for k, v in s.items() if k != "submissions"} | {"files": list(_texts())} for s in summaries]
    assert sorted(expand_summaries(named, subs), key=key) == sorted(want, key=key)
    assert expand_summaries("junk", subs) == [] and expand_summaries([{"rule": "E02"}], subs) == []
    assert expand_summaries([summaries[0] | {"submissions": [0, 3]}], subs) == []  # out of range: skipped


def test_a_report_without_its_own_record_is_found_by_its_record_or_named_by_file() -> None:
    o = _outcome()
    o.files.reverse()  # records not in the reports' order: each report found by its record's position
    assert [s["submissions"] for s in o.summaries_json()] == [[2, 1, 0], [2, 1, 0]]
    del o.files[0]  # the last report has no record: every summary naming it names its files
    assert [s["files"] for s in o.summaries_json()] == [list(_texts()), list(_texts())]
    assert all("submissions" not in s for s in o.summaries_json())
    o = _outcome()
    del o.files[2]  # the records in the reports' order, the last report without one
    assert [s["files"] for s in o.summaries_json()] == [list(_texts()), list(_texts())]


def test_the_memo_round_trips_the_summaries(tmp_path: Path) -> None:
    reports = [parse(t, name) for name, t in _texts().items()]
    result = check_rules(reports, NO_LAST_YEAR, None, None)
    memo = Memo(tmp_path)
    memo.put_validation("k", result)
    back = memo.get_validation("k")
    assert back is not None
    assert back.summaries == result.summaries and len(back.summaries) == 2
    made = InfoSummary("I06", {"printed": "x"}, [], None, None, [4], [None], words=("说", "改"))
    assert InfoSummary.from_memo(json.loads(json.dumps(made.to_memo()))) == made


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("summaries")
    inbox = tmp / "inbox"
    inbox.mkdir()
    for name, text in _texts().items():
        (inbox / name).write_text(text, encoding="utf-8")
    r = CliRunner().invoke(app, ["validate", str(inbox), "--out", str(tmp / "out")])
    assert r.exit_code in (0, 1), r.output
    return tmp / "out"


def _load(out: Path, name: str) -> Any:
    return json.loads((out / name).read_text(encoding="utf-8"))


def test_the_views_tell_each_report_its_summarised_infos(run_dir: Path) -> None:
    finds = _load(run_dir, "findings.json")
    assert not [f for f in finds if f["rule"] in ("E02", "I06")]
    run = _load(run_dir, "run.json")
    assert [(s["rule"], s["count"], s["submissions"]) for s in run["summaries"]] == [
        ("E02", 3, [0, 1, 2]),
        ("I06", 3, [0, 1, 2]),
    ]
    assert [s["infos"] for s in _load(run_dir, "submissions.json")] == [2, 2, 2]
    # every report page lists both, marked as shared by many reports
    pages = sorted((run_dir / "reports").glob("*.html"))
    assert len(pages) == 3
    for p in pages:
        dom = HTMLParser(p.read_text(encoding="utf-8"))
        shown = {n.attributes.get("data-rule"): n for n in dom.css("li[data-rule]")}
        assert {"E02", "I06"} <= set(shown)
        assert I06_MESSAGE in shown["I06"].text()
        assert shown["I06"].attributes.get("data-status") == "common"
        assert "多份报告共有" in shown["E02"].text()
    # the workbook counts them by rule on 汇总
    wb = openpyxl.load_workbook(run_dir / "findings.xlsx", read_only=True)
    rows = [r for r in wb["汇总"].iter_rows(values_only=True) if r and r[0] in ("E02", "I06", "提示（条）")]
    counts = {r[0]: (r[1] if r[0] == "提示（条）" else (r[3], r[4])) for r in rows}
    assert counts["E02"] == (3, 3) and counts["I06"] == (3, 3) and counts["提示（条）"] == 6


def test_validation_pauses_the_cyclic_gc_and_restores_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from nianbao.run import validation

    seen: list[bool] = []
    real_check, real_summarise = validation.check_rules, validation.summarise

    def check(*a: Any) -> Any:
        seen.append(gc.isenabled())
        return real_check(*a)

    def summarise(*a: Any) -> Any:
        seen.append(gc.isenabled())
        return real_summarise(*a)

    monkeypatch.setattr(validation, "check_rules", check)
    monkeypatch.setattr(validation, "summarise", summarise)
    reports = [parse(seed_text(), "a_2023.txt")]
    assert gc.isenabled()
    out = validate_reports(reports)
    assert seen == [False, False] and gc.isenabled()
    assert [f.errors for f in out.files] == [0]
    gc.disable()
    try:
        validate_reports(reports)
        assert not gc.isenabled()  # left off when it was off
    finally:
        gc.enable()


def test_the_rules_findings_come_sorted_so_no_batch_finding_means_no_sort(monkeypatch: pytest.MonkeyPatch) -> None:
    """validate_reports sorts the findings again only when batch checks add some: the rules' own
    (check_rules, a memo's) are in sort_findings' order already, and a sort keeps that order."""
    import random

    from nianbao.outcome import sort_findings
    from nianbao.run import validation
    from nianbao.run.inputs import discover
    from nianbao.run.parsing import load_all
    from tests.helpers import ROOT

    inbox = ROOT / "data" / "submissions"
    reports = load_all([f.sub for f in discover([inbox / "2023"])], 1)
    rules = check_rules(reports, NO_LAST_YEAR, None, None)
    assert len({f.report for f in rules.findings}) > 3 and rules.findings == sort_findings(rules.findings)
    shuffled = random.Random(7).sample(rules.findings, len(rules.findings))
    assert sort_findings(shuffled) == rules.findings  # (the order is the key's, not the list's)
    sorted_again: list[int] = []
    real = validation.sort_findings
    monkeypatch.setattr(validation, "sort_findings", lambda fs: sorted_again.append(len(fs)) or real(fs))
    findings, summaries = validation._summarised(rules.findings, rules.summaries, already_sorted=True)
    assert (findings, summaries, sorted_again) == (rules.findings, rules.summaries, [])
    assert findings is not rules.findings  # (a list of its own, as a sort gives)
    assert validation._summarised(shuffled, rules.summaries)[0] == rules.findings and sorted_again == [len(shuffled)]
