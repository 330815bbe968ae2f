"""The Prefect flows end to end, on the bundled sample inbox: nightly run, incremental reruns,
ad-hoc reruns of a part, broken files, the Dask task runner, the run summary artifact."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nianbao.domain.registry import load_registry
from nianbao.run import steps as stages
from nianbao.run.folders import run_date
from nianbao.run.inputs import Scope, discover
from nianbao.run.parsing import load_all
from nianbao.run.validation import validate_reports
from tests.helpers import ROOT, copy_sample_inbox, set_cells

pytestmark = pytest.mark.prefect

SAMPLE = ROOT / "data" / "submissions"
N_SAMPLE = 25  # 12 townships x 2 years of 示例县, plus the seed under 沙坡头区


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """A copy of the bundled inbox, with its registry next to it (as data/registry.csv is)."""
    return copy_sample_inbox(tmp_path)


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the files the run hands to the parser."""
    calls: list[str] = []
    real = stages.load_all

    def counting(subs: Any, workers: Any = None, *a: Any, **k: Any) -> Any:
        calls.extend(s.name for s in subs)
        return real(subs, workers, *a, **k)

    monkeypatch.setattr(stages, "load_all", counting)
    yield calls


def run_flow(prefect_api: str, root: Path, out: Path, scope: Scope | None = None, dask: str | None = None) -> Any:
    from flows.nightly import run

    return run(root, out, scope=scope, dask=dask)


def load(run_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    subs = json.loads((run_dir / "submissions.json").read_text(encoding="utf-8"))
    finds = json.loads((run_dir / "findings.json").read_text(encoding="utf-8"))
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return subs, finds, run


def by_file(finds: list[dict[str, Any]]) -> dict[str, list[tuple[str, tuple[str, ...], Any, Any]]]:
    out: dict[str, list[tuple[str, tuple[str, ...], Any, Any]]] = {}
    for f in finds:
        out.setdefault(f["file"], []).append((f["rule"], tuple(f["cells"]), f["expected"], f["actual"]))
    return out


def test_nightly_run_on_the_sample(prefect_api: str, inbox: Path, tmp_path: Path, parse_calls: list[str]) -> None:
    out = tmp_path / "reports"
    result = run_flow(prefect_api, inbox, out)
    assert result.run_dir == out / run_date()
    assert (out / "latest").resolve() == result.run_dir
    assert json.loads((out / "latest.json").read_text(encoding="utf-8"))["run"] == run_date()
    subs, finds, run = load(result.run_dir)
    assert len(subs) == N_SAMPLE == run["files"] == run["discovered"]
    assert sorted(parse_calls) == sorted(s["file"] for s in subs)
    assert result.plan == {"reused": 0, "kept": 0, "parsed": N_SAMPLE}
    # county and year from the path, for every file
    for s in subs:
        year, county, _name = s["file"].split("/")
        assert (s["county"], s["year"], s["status"]) == (county, int(year), "validated"), s["file"]
    assert sum(s["county"] == "示例县" for s in subs) == 24
    assert [s["file"] for s in subs if s["county"] == "沙坡头区"] == ["2023/沙坡头区/沙坡头区镇罗镇_2023.txt"]
    # the same findings as the one-shot core run over the same files, registry and batch checks
    reg = inbox.parent / "registry.csv"
    core = validate_reports(
        load_all([f.sub for f in discover([inbox])]),
        registry=load_registry(reg),
        registry_file=str(reg),
        renames={},
        gx_dir=tmp_path / "gx",
        expected_years=[2022, 2023],
    )
    prefix = str(inbox) + "/"
    want = by_file([f.to_json() | {"file": f.file.removeprefix(prefix)} for f in core.findings])
    assert by_file(finds) == want
    # planted defects are reported on the planted cell
    typo = [f for f in finds if f["file"] == "2023/示例县/示例县南川镇_2023.txt" and f["rule"] == "A01"]
    assert [f["cells"][0] for f in typo] == ["3:3.3.7:total"]
    assert any("3:3.3.7:other" in f["cells"] for f in typo)
    missing = [(f["file"], f["agency"], f["year"]) for f in finds if f["rule"] == "M01"]
    assert missing == [(str(reg), "沙坡头区镇罗镇", 2022)]
    # counties x pass/fail/unreadable/missing, consistent with submissions.json; the seed's county
    # has no 2022 report: one agency missing
    table = {(r["县（区）"], r["年度"]): r for r in run["counties"]}
    assert set(table) == {("沙坡头区", 2022), ("沙坡头区", 2023), ("示例县", 2022), ("示例县", 2023)}
    assert table[("沙坡头区", 2022)] == {
        "县（区）": "沙坡头区",
        "年度": 2022,
        "通过": 0,
        "仅有警告": 0,
        "有错误": 0,
        "无法读取": 0,
        "未提交": 1,
        "文件数": 0,
    }
    assert run["missing"] == [{"county": "沙坡头区", "year": 2022, "agency": "沙坡头区镇罗镇"}]
    for (county, year), r in table.items():
        mine = [s for s in subs if s["county"] == county and s["year"] == year]
        assert r["文件数"] == len(mine)
        assert r["通过"] == sum(1 for s in mine if s["status"] == "validated" and not s["errors"] and not s["warnings"])
        assert r["仅有警告"] == sum(1 for s in mine if s["status"] == "validated" and not s["errors"] and s["warnings"])
        assert r["有错误"] == sum(1 for s in mine if s["status"] == "validated" and s["errors"])
        assert r["无法读取"] == 0
    assert table[("示例县", 2023)]["有错误"] >= 7  # the planted defects of 2023 that are error rules
    _check_artifact(prefect_api, run["counties"])


def _check_artifact(prefect_api: str, rows: list[dict[str, Any]]) -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        art = client.read_latest_artifacts()
        mine = [a for a in art if a.key == "nianbao-county-summary"]
        assert mine and mine[0].type == "table"
        data = mine[0].data if not isinstance(mine[0].data, str) else json.loads(mine[0].data)
        assert data == rows


def test_second_run_parses_nothing(prefect_api: str, inbox: Path, tmp_path: Path, parse_calls: list[str]) -> None:
    out = tmp_path / "reports"
    first = run_flow(prefect_api, inbox, out)
    parse_calls.clear()
    second = run_flow(prefect_api, inbox, out)
    assert parse_calls == []
    assert second.plan == {"reused": N_SAMPLE, "kept": 0, "parsed": 0}
    assert second.run_dir == out / f"{run_date()}-2"
    assert (out / "latest").resolve() == second.run_dir
    s1, f1, _ = load(first.run_dir)
    s2, f2, r2 = load(second.run_dir)
    assert f1 == f2 and s1 == s2  # reports rebuilt from the store validate exactly as parsed ones
    assert r2["incremental"] == {"reused": N_SAMPLE, "kept": 0, "parsed": 0}


def _edit(path: Path, edits: dict[str, str]) -> None:
    raw = path.read_bytes()
    from nianbao.io.textio import decode

    text, _enc = decode(raw)
    path.write_bytes(set_cells(text, edits).encode("utf-8"))


def test_changed_file_is_parsed_alone(prefect_api: str, inbox: Path, tmp_path: Path, parse_calls: list[str]) -> None:
    out = tmp_path / "reports"
    first = run_flow(prefect_api, inbox, out)
    target = "2022/示例县/示例县通昌镇_2022.txt"
    _edit(inbox / target, {"3:3.1:natural": "999"})
    parse_calls.clear()
    second = run_flow(prefect_api, inbox, out)
    assert parse_calls == [target]
    assert second.plan == {"reused": N_SAMPLE - 1, "kept": 0, "parsed": 1}
    _, f1, _ = load(first.run_dir)
    _, f2, _ = load(second.run_dir)
    b1, b2 = by_file(f1), by_file(f2)
    assert {k: v for k, v in b1.items() if k != target} == {k: v for k, v in b2.items() if k != target}
    assert b1.get(target, []) == [x for x in b2[target] if x[0] not in ("A01", "B01")]
    sums = [(r, c[0], e, a) for r, c, e, a in b2[target] if r in ("A01", "B01")]
    assert sums == [("A01", "3:3.1:total", 1000, 2), ("B01", "3:3.7:natural", 1001, 3)]


def test_catalogue_change_reparses_everything(
    prefect_api: str, inbox: Path, tmp_path: Path, parse_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "reports"
    run_flow(prefect_api, inbox, out)
    import nianbao.run.store

    monkeypatch.setattr(nianbao.run.store, "ruleset_version", lambda: "another-ruleset")
    parse_calls.clear()
    again = run_flow(prefect_api, inbox, out)
    assert len(parse_calls) == N_SAMPLE and again.plan["parsed"] == N_SAMPLE


def test_rerun_of_one_agency(prefect_api: str, inbox: Path, tmp_path: Path, parse_calls: list[str]) -> None:
    """Only the named agency is read again; the others are as the last run read them."""
    out = tmp_path / "reports"
    first = run_flow(prefect_api, inbox, out)
    fixed = "2023/示例县/示例县南川镇_2023.txt"  # its digit typo: corrected
    other = "2023/示例县/示例县福关镇_2023.txt"  # changed too, but not part of the rerun
    _edit(inbox / fixed, {"3:3.3.7:other": "0"})
    _edit(inbox / other, {"3:3.1:natural": "999"})
    parse_calls.clear()
    rerun = run_flow(prefect_api, inbox, out, Scope(agency="南川镇"))
    assert parse_calls == [fixed]
    # 南川镇 of 2022 is in the scope too (unchanged: rebuilt from the store)
    assert rerun.plan == {"reused": 1, "kept": N_SAMPLE - 2, "parsed": 1}
    s1, f1, _ = load(first.run_dir)
    s2, f2, r2 = load(rerun.run_dir)
    assert len(s2) == N_SAMPLE and r2["scope"] == "南川镇"
    b1, b2 = by_file(f1), by_file(f2)
    assert [(r, c[0], e, a) for r, c, e, a in b1[fixed] if r in ("A01", "B01")] == [
        ("A01", "3:3.3.7:total", 4, 0),
        ("B01", "3:3.7:other", 4, 0),
    ]
    assert [x for x in b2.get(fixed, []) if x[0] in ("A01", "B01")] == []  # corrected
    assert b2.get(other) == b1.get(other)  # not re-read: as the last run read it
    sha = {s["file"]: s["sha256"] for s in s2}
    assert sha[other] == {s["file"]: s["sha256"] for s in s1}[other]
    # the next nightly run reads the other change
    parse_calls.clear()
    nightly = run_flow(prefect_api, inbox, out)
    assert parse_calls == [other]
    _, f3, _ = load(nightly.run_dir)
    assert ("A01", "3:3.1:total", 999, 1) in [(r, c[0], e, a) for r, c, e, a in by_file(f3)[other]]


def test_a_corrupted_file_is_unreadable_and_the_run_completes(prefect_api: str, inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    bad = inbox / "2023" / "示例县" / "示例县通昌镇_2023.txt"
    bad.write_bytes(b"\x00\xff\xfe" * 50 + bytes(range(256)) * 20)
    (inbox / "2023" / "示例县" / "empty.txt").write_bytes(b"")
    (inbox / "stray.txt").write_text("not a report\n", encoding="utf-8")
    result = run_flow(prefect_api, inbox, out)
    subs, _finds, run = load(result.run_dir)
    status = {s["file"]: s for s in subs}
    assert len(subs) == N_SAMPLE + 2
    for name in ("2023/示例县/示例县通昌镇_2023.txt", "2023/示例县/empty.txt", "stray.txt"):
        assert status[name]["status"] == "unreadable" and status[name]["reason"], name
    assert status["stray.txt"]["county"] is None and run["outside_layout"] == ["stray.txt"]
    assert sum(s["status"] == "validated" for s in subs) == N_SAMPLE - 1
    table = {(r["县（区）"], r["年度"]): r for r in run["counties"]}
    assert table[("示例县", 2023)]["无法读取"] == 2
    assert result.outcome.exit_code == 1


def test_a_failed_store_write_is_reported_and_the_report_written(
    prefect_api: str, inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nianbao.run import steps as stages

    def broken(*a: Any, **k: Any) -> int:
        raise RuntimeError("store unavailable")  # not an I/O error: no retries

    monkeypatch.setattr(stages, "save_stage", broken)
    result = run_flow(prefect_api, inbox, tmp_path / "out")
    assert result.warnings == ["报告存储（Parquet）写入失败：下次运行将重新解析本次解析的报告"]
    subs, _finds, _run = load(result.run_dir)
    assert len(subs) == N_SAMPLE
    assert (tmp_path / "out" / "latest").resolve() == result.run_dir.resolve()


def test_counties_are_bundled_into_parse_partitions() -> None:
    from nianbao.run.steps import bundle

    groups = {"b": [3, 4], "a": [0, 1, 2], "c": [5], "d": [6, 7, 8, 9]}
    assert bundle(groups, 4) == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    assert bundle(groups, 1) == [[0, 1, 2], [3, 4], [5], [6, 7, 8, 9]]  # a county is never split
    assert bundle(groups, 100) == [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]


def test_dask_task_runner(prefect_api: str, inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import LocalCluster

    from nianbao.run import steps as stages

    local = run_flow(prefect_api, inbox, tmp_path / "local")
    shutil.rmtree(inbox / ".nianbao")
    monkeypatch.setattr(stages, "PARTITION_FILES", 20)  # the sample counties: 24 files and 1
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        on_dask = run_flow(prefect_api, inbox, tmp_path / "dask", dask=cluster.scheduler_address)
    assert on_dask.plan == {"reused": 0, "kept": 0, "parsed": N_SAMPLE}
    s1, f1, _ = load(local.run_dir)
    s2, f2, _ = load(on_dask.run_dir)
    assert (s1, f1) == (s2, f2)
    names = _task_names(prefect_api)
    assert names.count("parse-changed") == 2  # one partition per county (沙坡头区 1 file, 示例县 24)


def _task_names(prefect_api: str) -> list[str]:
    """Task run names of the most recent flow run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        fr = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1)[0]
        trs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[fr.id])))
        return [t.name.rsplit("-", 1)[0] for t in trs]


def _load_in_daemon(root: str, q: Any) -> None:
    from nianbao.run import parsing
    from nianbao.run.inputs import discover

    parsing.PARALLEL_MIN_FILES = 1  # would start a pool anywhere else
    reports = parsing.load_all([f.sub for f in discover([Path(root)])], 2)
    q.put([r.status for r in reports])


def test_parsing_in_a_daemonic_worker_process_stays_in_that_process() -> None:
    """A Dask worker process is daemonic: a parse task there may not start a process pool."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_load_in_daemon, args=(str(ROOT / "data" / "submissions"), q), daemon=True)
    p.start()
    statuses = q.get(timeout=120)
    p.join(timeout=60)
    assert p.exitcode == 0
    assert len(statuses) == N_SAMPLE and statuses.count("validated") == N_SAMPLE


def test_task_results_travel_unwalked() -> None:
    """Prefect walks list/dict/dataclass task parameters object by object (minutes for 100,000
    reports): the stages' results are passed in a holder it does not walk into."""
    from prefect.utilities.collections import visit_collection

    from flows.tasks import Held
    from nianbao.run.steps import discover_stage

    inv = discover_stage(SAMPLE)
    seen: list[Any] = []

    def visit(x: Any) -> Any:
        seen.append(x)
        return x

    visit_collection(inv, visit, return_data=False)
    assert len(seen) > 5 * N_SAMPLE  # the bare result: every file, path and field is visited
    seen.clear()
    visit_collection(Held(inv), visit, return_data=False)
    assert len(seen) == 1
    import pickle

    assert pickle.loads(pickle.dumps(Held(inv))).value == inv  # and it crosses to a Dask worker
