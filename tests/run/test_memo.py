"""Stage memos (nianbao.run.memo): an unchanged rerun reuses the findings; any changed input misses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import nianbao.catalogue
import nianbao.run.memo
from nianbao.outcome import CrossYear, Finding, Suspect
from nianbao.report.views import REPORT_VIEWS
from nianbao.run import steps as stages
from nianbao.run.memo import KEEP, Memo
from nianbao.run.validation import RuleResult
from tests.helpers import ROOT, copy_sample_inbox, set_cells

SAMPLE = ROOT / "data" / "submissions"
TARGET = Path("2023") / "示例县" / "示例县南川镇_2023.txt"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return copy_sample_inbox(tmp_path)


def run(inbox: Path, tmp_path: Path, name: str) -> stages.RunResult:
    return stages.run_direct(stages.RunSettings(inbox, tmp_path / name, tmp_path / "store", workers=1), REPORT_VIEWS)


def _no_recompute(monkeypatch: pytest.MonkeyPatch) -> None:
    import nianbao.rules.expectations
    import nianbao.validate.batch

    def boom(*a: Any, **k: Any) -> Any:
        raise AssertionError("recomputed on a memo hit")

    monkeypatch.setattr(nianbao.validate.batch, "validate_batch", boom)
    monkeypatch.setattr(nianbao.rules.expectations, "check_batch", boom)


def test_unchanged_rerun_reuses_both_memos_with_identical_output(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run(inbox, tmp_path, "out1")
    assert first.outcome.info.memo_hits == ()
    _no_recompute(monkeypatch)
    second = run(inbox, tmp_path, "out2")
    assert second.outcome.info.memo_hits == ("validate", "batch_expectations")
    a, b = first.run_dir, second.run_dir
    assert (b / "findings.json").read_bytes() == (a / "findings.json").read_bytes()
    assert (b / "submissions.json").read_bytes() == (a / "submissions.json").read_bytes()
    finds = json.loads((a / "findings.json").read_text(encoding="utf-8"))
    assert len(finds) == len(first.outcome.findings) > 0
    assert any("suspects" in f for f in finds) and any("quote" in f for f in finds)
    assert [f.report for f in second.outcome.findings] == [f.report for f in first.outcome.findings]
    assert second.outcome.findings == first.outcome.findings
    for k in ("batch_checks", "skipped_checks", "cross_year", "gx_docs"):
        assert getattr(second.outcome.info, k) == getattr(first.outcome.info, k), k
    docs = second.outcome.info.gx_docs
    assert docs is not None
    assert (b / docs).is_file() and (b / docs).read_bytes() == (a / docs).read_bytes()
    assert [f.errors for f in second.outcome.files] == [f.errors for f in first.outcome.files]


def test_a_memo_hit_does_not_import_great_expectations(inbox: Path, tmp_path: Path) -> None:
    run(inbox, tmp_path, "out1")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from nianbao.report.views import REPORT_VIEWS\n"
        "from nianbao.run import steps as stages\n"
        f"r = stages.run_direct(stages.RunSettings(Path({str(inbox)!r}), Path({str(tmp_path / 'out2')!r}),"
        f" Path({str(tmp_path / 'store')!r}), workers=1), REPORT_VIEWS)\n"
        "print(list(r.outcome.info.memo_hits), 'great_expectations' in sys.modules)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "['validate', 'batch_expectations'] False"


def test_a_changed_file_misses(inbox: Path, tmp_path: Path) -> None:
    first = run(inbox, tmp_path, "out1")
    path = inbox / TARGET
    path.write_text(set_cells(path.read_text(encoding="utf-8"), {"3:3.1:natural": "999"}), encoding="utf-8")
    second = run(inbox, tmp_path, "out2")
    assert second.outcome.info.memo_hits == ()
    assert second.plan["parsed"] == 1
    assert second.outcome.findings != first.outcome.findings
    third = run(inbox, tmp_path, "out3")  # the new state is memoised in turn
    assert third.outcome.info.memo_hits == ("validate", "batch_expectations")
    assert (third.run_dir / "findings.json").read_bytes() == (second.run_dir / "findings.json").read_bytes()


def _same_size_edit(path: Path, digit: str) -> None:
    """Set one cell of the file to a one-digit value in place, keeping the file's size."""
    size = path.stat().st_size
    text = path.read_text(encoding="utf-8")
    edited = set_cells(text, {"3:3.1:natural": digit})
    assert len(edited.encode()) == size and edited != text
    path.write_text(edited, encoding="utf-8")


def test_rerun_trusts_size_and_modification_time(inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unchanged rerun does not hash the files: same size and time as when read is unchanged.
    A file edited in place is re-read (its time changed); NIANBAO_VERIFY=hash hashes every file."""
    run(inbox, tmp_path, "out1")
    hashed: list[Path] = []
    real = stages.file_sha256
    monkeypatch.setattr(stages, "file_sha256", lambda p, m=None: hashed.append(p) or real(p, m))
    assert run(inbox, tmp_path, "out2").plan["parsed"] == 0 and hashed == []
    path = inbox / TARGET
    _same_size_edit(path, "1")
    settled = time.time_ns() - 60 * 10**9  # written a minute ago (a time just written is never trusted)
    os.utime(path, ns=(settled, settled))
    assert run(inbox, tmp_path, "out3").plan["parsed"] == 1 and hashed == [path]
    assert run(inbox, tmp_path, "out3b").plan["parsed"] == 0 and hashed == [path]
    # an edit that even restores the old time is caught only by hashing (as git, make and rsync do)
    _same_size_edit(path, "2")
    os.utime(path, ns=(settled, settled))
    assert run(inbox, tmp_path, "out4").plan["parsed"] == 0
    # a file modified just before it was read is hashed on the next run, whatever its time
    _same_size_edit(path, "3")
    assert run(inbox, tmp_path, "out5").plan["parsed"] == 1
    fresh = path.stat().st_mtime_ns
    _same_size_edit(path, "4")
    os.utime(path, ns=(fresh, fresh))
    assert run(inbox, tmp_path, "out6").plan["parsed"] == 1
    _same_size_edit(path, "5")
    os.utime(path, ns=(settled, settled))
    monkeypatch.setenv(stages.VERIFY_ENV, "hash")
    assert run(inbox, tmp_path, "out7").plan["parsed"] == 1


def test_a_changed_catalogue_misses(inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(inbox, tmp_path, "out1")
    real = nianbao.catalogue._catalogue_bytes()
    monkeypatch.setattr(nianbao.catalogue, "_catalogue_bytes", lambda: real + b"\n# edited\n")
    before = nianbao.catalogue.ruleset_version()
    nianbao.catalogue.ruleset_version.cache_clear()
    try:
        assert nianbao.catalogue.ruleset_version() != before
        assert run(inbox, tmp_path, "out2").outcome.info.memo_hits == ()
    finally:
        monkeypatch.undo()
        nianbao.catalogue.ruleset_version.cache_clear()


def test_a_code_change_misses(inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(inbox, tmp_path, "out1")
    monkeypatch.setattr(nianbao.run.memo, "code_hash", lambda: "another revision")
    assert run(inbox, tmp_path, "out2").outcome.info.memo_hits == ()


def test_a_changed_registry_misses(inbox: Path, tmp_path: Path) -> None:
    first = run(inbox, tmp_path, "out1")
    reg = inbox.parent / "registry.csv"
    reg.write_text(reg.read_text(encoding="utf-8") + "示例县,示例县新设镇,township\n", encoding="utf-8")
    second = run(inbox, tmp_path, "out2")
    assert second.outcome.info.memo_hits == ()
    assert second.plan["parsed"] == 0  # the files are unchanged: only the stages are recomputed
    new = [f for f in second.outcome.findings if f not in first.outcome.findings]
    assert [(f.rule, f.agency) for f in new] == [("M01", "示例县新设镇"), ("M01", "示例县新设镇")]


def test_code_hash_covers_the_rule_modules() -> None:
    nianbao.run.memo.code_hash.cache_clear()
    h = nianbao.run.memo.code_hash()
    assert len(h) == 64 and h == nianbao.run.memo.code_hash()


def test_keys_cover_last_year_and_expected_years(inbox: Path, tmp_path: Path) -> None:
    reports = run(inbox, tmp_path, "out1").outcome.reports
    base = nianbao.run.memo.validation_key(reports, [], None, {})
    assert nianbao.run.memo.validation_key(reports, [[2022, "a.txt", "00", "m", "validated"]], None, {}) != base
    assert nianbao.run.memo.validation_key(reports, [], None, {"旧": "新"}) != base
    g = nianbao.run.memo.gx_key(reports, None, None, {}, [2023])
    assert nianbao.run.memo.gx_key(reports, None, None, {}, [2022, 2023]) != g
    assert nianbao.run.memo.gx_key(reports, None, "other/registry.csv", {}, [2023]) != g


def test_memo_storage_is_bounded_and_round_trips(tmp_path: Path) -> None:
    memo = Memo(tmp_path)
    f = Finding(
        "a.txt", "甲", 2023, "A01", "error", ["3:1:total"], 5, 4.5, "合计不符", 3, "改", None,
        [Suspect("3:1:natural", 1.0, 2.0, "digit_typo", 1)], "表格3", 7,
    )  # fmt: skip
    for i in range(KEEP + 3):
        memo.put_validation(f"k{i}", RuleResult([f], CrossYear(0, i), {}))
        os.utime(memo.root / f"validate-k{i}.json", ns=(i * 10**9, i * 10**9))
    memo.put_validation("last", RuleResult([f], CrossYear(1, 2), {"located": 1}))
    left = sorted(p.name for p in memo.root.iterdir())
    assert len(left) == KEEP and "validate-last.json" in left and "validate-k0.json" not in left
    got = memo.get_validation("last")
    assert got is not None and got.findings == [f] and got.findings[0].report == 7
    assert (got.cross_year, got.localisation, got.timings) == (CrossYear(1, 2), {"located": 1}, None)
    assert memo.get_validation("k0") is None


def test_summarise_gives_each_field_of_a_file_row_by_position() -> None:
    """summarise builds FileOutcome by position: the fields in the order it gives them, and the
    rows of two copies of one report (the second a duplicate) field by field."""
    from dataclasses import fields

    from nianbao.outcome import FileOutcome
    from nianbao.run.inputs import Submission
    from nianbao.run.parsing import load_all
    from nianbao.run.validation import summarise
    from tests.helpers import SEED

    assert [f.name for f in fields(FileOutcome)] == [
        *("file", "sha256", "status", "reason", "agency", "year", "format", "errors", "warnings", "infos"),
        *("size", "source_type", "encoding", "county", "duplicate_of", "reason_code", "report", "reading"),
    ]
    a, b = load_all([Submission(str(SEED), "a.txt"), Submission(str(SEED), "b.txt")], 1)
    finding = Finding("b.txt", b.agency, b.year, "A01", "error", ["x"], 1, 2, "m", report=1)
    rows = summarise([a, b], [finding], [{"1": 1.0}, None])
    want = [
        FileOutcome(
            file=r.file,
            sha256=r.sha256,
            status=r.status,
            reason=r.reason,
            agency=r.agency,
            year=r.year,
            format=r.fmt.value if r.fmt else None,
            errors=k,
            warnings=0,
            infos=0,
            size=r.size,
            source_type=r.source_type,
            encoding=r.encoding,
            duplicate_of="a.txt" if k else None,
            reason_code=r.reason_code,
            report=k,
            reading=read,
        )
        for k, (r, read) in enumerate(zip((a, b), ({"1": 1.0}, None), strict=True))
    ]
    assert rows == want and rows[1].duplicate_of == "a.txt" and rows[0].format is not None


def test_the_contract_key_is_both_parts_keys_and_every_files_county(tmp_path: Path) -> None:
    from nianbao.run.memo import contract_key

    memo = Memo(tmp_path)
    assert contract_key(memo, ["甲县"]) is None  # no part keyed yet
    memo.keys["validate"] = "v"
    assert contract_key(memo, ["甲县"]) is None  # the batch expectations not keyed (not run)
    memo.keys["batch_expectations"] = "g"
    key = contract_key(memo, ["甲县", None])
    assert key is not None and key == contract_key(memo, ["甲县", None])
    assert len({key, contract_key(memo, ["甲县", ""]), contract_key(memo, ["乙县", None])}) == 3
    memo.keys["validate"] = "v2"
    assert contract_key(memo, ["甲县", None]) != key


def test_a_finding_round_trips_the_memo_field_by_field() -> None:
    """finding_from_json builds a Finding and its suspects by position: their fields in the order it
    reads them, and a finding with every field set (and one with the optional ones unset) back
    equal from the memo's JSON."""
    from dataclasses import fields

    import orjson

    from nianbao.run.memo import finding_from_json, finding_from_row, finding_row, finding_to_json

    assert [f.name for f in fields(Finding)] == [
        *("file", "agency", "year", "rule", "severity", "cells", "expected", "actual", "message", "line"),
        *("fix", "quote", "suspects", "where", "report", "localisation"),
    ]
    assert [f.name for f in fields(Suspect)] == ["cell", "reported", "suggested", "cause", "alternative"]
    full = Finding(
        "a.txt", "甲", 2023, "A01", "error", ["3:1:total"], 5, 4.5, "合计不符", 3, "改", "原句",
        [Suspect("3:1:natural", 1.0, 2.0, "digit_typo", 1), Suspect("3:1:legal", 3, None, "swap", None)],
        "表格3 第4行第5格", 7, "located",
    )  # fmt: skip
    bare = Finding("b.txt", None, None, "P01", "info", [], None, None, "m")
    for f in (full, bare):
        assert finding_from_json(orjson.loads(orjson.dumps(finding_to_json(f)))) == f
        assert finding_from_row(orjson.loads(orjson.dumps(finding_row(f)))) == f  # the validation entry's rows


def test_the_reading_confidences_are_kept_as_distinct_values_and_come_back_each_its_own() -> None:
    """The validation entry keeps every report's reading confidence as the distinct values and an
    index; they come back equal, in order, each dict a new one (as reading_confidence gives)."""
    import orjson

    from nianbao.run.memo import _distinct, _undistinct

    whole = {"2": 1.0, "3": 1.0, "4": 1.0}
    reading = [whole, None, {"2": 0.5, "3": None}, dict(whole), {}, whole]
    kept = orjson.loads(orjson.dumps(_distinct(reading)))
    assert kept == {"values": [whole, None, {"2": 0.5, "3": None}, {}], "index": [0, 1, 2, 0, 3, 0]}
    back = _undistinct(kept)
    assert back == reading and back is not None
    assert len({id(v) for v in back if v is not None}) == 5
    assert _undistinct(None) is None


def test_validation_entry_shares_repeated_values(tmp_path: Path) -> None:
    """The validation entry writes a finding's repeated fields (fix text, message, cells, suspects,
    file, agency, quote) once each, as indexes among its distinct values: the findings read back are
    equal to those written, each with its own list of cells; a field orjson cannot write keeps the
    plain rows (read back as before)."""
    import orjson

    from nianbao.outcome import CrossYear, Finding, Suspect
    from nianbao.run.memo import Memo
    from nianbao.run.validation import RuleResult

    def finding(i: int, fix: str = "按表格填写", **kw: Any) -> Finding:
        return Finding(
            f"县{i % 2}/a.txt", "某局", 2024, "A01", "error", ["表三.一.自然人"], 3, 4 + i, "合计不符", i, fix,
            None, [Suspect("表三.一.自然人", 4, 3.5, "cause", None)], None, i, "located", **kw,
        )  # fmt: skip

    memo = Memo(tmp_path / "store")
    found = [finding(i) for i in range(4)] + [finding(9, fix="另一条")]
    memo.put_validation("k", RuleResult(found, CrossYear(0, 1), {}))
    raw = orjson.loads(next((tmp_path / "store" / "memo").glob("validate-k.json")).read_bytes())
    assert raw["values"].count("按表格填写") == 1 and "另一条" in raw["values"]
    assert raw["findings"][0][10] == raw["findings"][3][10] != raw["findings"][4][10]
    got = memo.get_validation("k")
    assert got is not None and got.findings == found
    assert got.findings[0].cells is not got.findings[1].cells
    assert got.findings[0].suspects is not got.findings[1].suspects
    odd = [finding(0), finding(1, fix=Path("改/此处"))]  # type: ignore[arg-type]
    memo.put_validation("odd", RuleResult(odd, CrossYear(0, 1), {}))
    raw = orjson.loads((tmp_path / "store" / "memo" / "validate-odd.json").read_bytes())
    assert "values" not in raw
    back = memo.get_validation("odd")
    assert back is not None and [f.fix for f in back.findings] == ["按表格填写", "改/此处"]
