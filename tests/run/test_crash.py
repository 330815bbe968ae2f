"""Crash safety: ``nianbao run`` killed with SIGKILL at any point, then run again, gives the same
final outputs as a run that was never interrupted; ``latest`` only ever names a completed run,
and the Parquet store stays readable.

The run is killed at named points (``NIANBAO_CRASH_AT``: the run kills itself there with SIGKILL)
and after a sweep of delays; both through Prefect (against the session's test server) and
without it (``--no-prefect``, the same stages).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from nianbao.run.folders import completed_runs, latest
from nianbao.run.store import Store
from tests.helpers import ROOT, copy_sample_inbox, set_cells

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

OUTPUTS = ("submissions.json", "findings.json")  # the run's results (run.json has times, changes.json the history)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_sample_inbox(tmp_path_factory.mktemp("crash"))


def nianbao_run(
    root: Path, out: Path, store: Path, *, prefect_api: str | None, crash_at: str | None = None, kill_after: float = 0
) -> int:
    cmd = [sys.executable, "-m", "nianbao.cli", "run", "--root", str(root), "--out", str(out), "--store", str(store)]
    env = {k: v for k, v in os.environ.items() if k not in ("NIANBAO_CRASH_AT", "PREFECT_API_URL")}
    if prefect_api:
        env["PREFECT_API_URL"] = prefect_api
    else:
        cmd.append("--no-prefect")
    if crash_at:
        env["NIANBAO_CRASH_AT"] = crash_at
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    if kill_after:
        try:
            p.wait(kill_after)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
    stdout, stderr = p.communicate(timeout=120)
    if p.returncode not in (0, 1, -signal.SIGKILL):
        raise AssertionError(f"nianbao run failed ({p.returncode}):\n{stdout.decode()}\n{stderr.decode()}")
    if p.returncode in (0, 1):
        assert b"Traceback" not in stderr and b"ERROR" not in stderr, stderr.decode()
    return p.returncode


def results(run_dir: Path) -> dict[str, Any]:
    return {name: json.loads((run_dir / name).read_text(encoding="utf-8")) for name in OUTPUTS}


def store_rows(store: Path) -> list[dict[str, Any]]:
    df = Store(store).read()
    return df.drop("written_ns").sort("rel").to_dicts()


def check_consistent(out: Path, store: Path) -> None:
    """What a killed run may leave: only complete run folders, ``latest`` on one of them or absent,
    a store whose every partition file is a whole Parquet file."""
    runs = completed_runs(out)
    for r in runs:
        for name in (*OUTPUTS, "run.json"):
            assert (r / name).is_file(), f"{r.name} is a run folder without {name}"
    cur = latest(out)
    assert cur is None or cur in runs
    if (out / "latest").is_symlink():
        assert (out / "latest").resolve() in runs
    for part in Store(store).partitions():
        pl.read_parquet(part)  # raises on a half-written file


@pytest.fixture(scope="module")
def reference(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One uninterrupted run: its results and store."""
    from nianbao.report.views import REPORT_VIEWS
    from nianbao.run.steps import RunSettings, run_direct

    base = tmp_path_factory.mktemp("reference")
    result = run_direct(RunSettings(inbox, base / "reports", base / "store"), REPORT_VIEWS)
    return {"results": results(result.run_dir), "store": store_rows(base / "store")}


def assert_recovers(inbox: Path, case: Path, reference: dict[str, Any], prefect_api: str | None, **kill: Any) -> int:
    out, store = case / "reports", case / "store"
    code = nianbao_run(inbox, out, store, prefect_api=prefect_api, **kill)
    check_consistent(out, store)
    # the rerun in this process (quicker than a second `nianbao run`): the flow, or the same stages
    if prefect_api:
        from flows.nightly import run

        assert run(inbox, out, store).outcome.exit_code == 1  # the sample's planted defects
    else:
        from nianbao.report.views import REPORT_VIEWS
        from nianbao.run.steps import RunSettings, run_direct

        assert run_direct(RunSettings(inbox, out, store), REPORT_VIEWS).outcome.exit_code == 1
    check_consistent(out, store)
    cur = latest(out)
    assert cur is not None and results(cur) == reference["results"]
    assert store_rows(store) == reference["store"]
    check_stat_hints(inbox, store)
    assert not list(out.glob(".run-*")), "a killed run's staging folder was not cleaned up"
    return code


# Points of a run, in order (see nianbao.run.steps / nianbao.run.store / nianbao.run.folders); the earlier
# ones ("discovered", "parsed": nothing written yet) are covered by the delay sweep.
POINTS = (
    "store-partition",  # after the first year partition of the store is replaced
    "validated",
    "views-written",  # every view written in the staging folder, not yet renamed
    "run-published",  # the run folder has its final name, latest not moved yet
    "latest-json",  # latest.json moved, the symlink not yet
)


@pytest.mark.parametrize("point", POINTS)
def test_killed_at_a_point_without_prefect(inbox: Path, tmp_path: Path, reference: dict[str, Any], point: str) -> None:
    code = assert_recovers(inbox, tmp_path, reference, None, crash_at=point)
    assert code == -signal.SIGKILL


@pytest.mark.parametrize("point", ["store-partition", "views-written"])
def test_killed_at_a_point_in_the_prefect_flow(
    prefect_api: str, inbox: Path, tmp_path: Path, reference: dict[str, Any], point: str
) -> None:
    code = assert_recovers(inbox, tmp_path, reference, prefect_api, crash_at=point)
    assert code == -signal.SIGKILL


@pytest.mark.parametrize("delay", [0.5, 2.0])
def test_killed_after_a_delay(inbox: Path, tmp_path: Path, reference: dict[str, Any], delay: float) -> None:
    assert_recovers(inbox, tmp_path, reference, None, kill_after=delay)


def test_killed_while_replacing_a_changed_report(inbox: Path, tmp_path: Path) -> None:
    """A second run, with a corrected report, killed while it rewrites the store: the previous run
    stays ``latest``; the next run gives what an uninterrupted second run gives."""
    from nianbao.io.textio import decode
    from nianbao.report.views import REPORT_VIEWS
    from nianbao.run.steps import RunSettings, run_direct

    root = tmp_path / "inbox"
    shutil.copytree(inbox, root, ignore=shutil.ignore_patterns(".nianbao"))
    ref = tmp_path / "ref"
    first = run_direct(RunSettings(root, ref / "reports", ref / "store"), REPORT_VIEWS)
    case = tmp_path / "case"
    shutil.copytree(ref, case, symlinks=True)
    target = root / "2023" / "示例县" / "示例县南川镇_2023.txt"
    text, _enc = decode(target.read_bytes())
    target.write_bytes(set_cells(text, {"3:3.3.7:other": "0"}).encode("utf-8"))
    # The corrected file's modification time, a minute back: settled for every run below.  Left at
    # "just now", the store would record it (mtime_ns) only in a run that reads the file more than
    # loaders.SETTLED_NS after the write — the killed `nianbao run` under load (interpreter start,
    # imports), not the in-process reference run — and the two stores would differ in that column
    # by timing alone (the failure seen under load; both stores are right: None means "hash it").
    settled = time.time_ns() - 60 * 10**9
    os.utime(target, ns=(settled, settled))
    second = run_direct(RunSettings(root, ref / "reports", ref / "store"), REPORT_VIEWS)
    assert second.plan["parsed"] == 1
    code = nianbao_run(root, case / "reports", case / "store", prefect_api=None, crash_at="store-partition")
    assert code == -signal.SIGKILL
    check_consistent(case / "reports", case / "store")
    assert latest(case / "reports") == case / "reports" / first.run_dir.name
    assert nianbao_run(root, case / "reports", case / "store", prefect_api=None) == 1
    assert results(latest(case / "reports") or case) == results(second.run_dir)
    assert store_rows(case / "store") == store_rows(ref / "store")
    row = next(r for r in store_rows(case / "store") if r["rel"] == "2023/示例县/示例县南川镇_2023.txt")
    assert row["mtime_ns"] == settled
    check_stat_hints(root, case / "store")


def test_a_report_read_just_after_it_was_written_is_hashed_next_time(inbox: Path, tmp_path: Path) -> None:
    """The store records a file's modification time only when the file had been left alone for
    ``SETTLED_NS`` before it was read: a report read just after it was written has no time in the
    store (the next run hashes it), one left alone has its time — the one column in which two
    correct stores of the same files may differ, by timing alone (made deterministic here: every
    file a minute old, the one "just written" with a time ahead of the clock)."""
    from nianbao.report.views import REPORT_VIEWS
    from nianbao.run.steps import RunSettings, run_direct

    root = tmp_path / "inbox"
    shutil.copytree(inbox, root, ignore=shutil.ignore_patterns(".nianbao"))
    now = time.time_ns()
    for f in root.rglob("*"):
        if f.is_file():
            os.utime(f, ns=(now - 60 * 10**9, now - 60 * 10**9))
    target = root / "2023" / "示例县" / "示例县南川镇_2023.txt"
    os.utime(target, ns=(now + 3600 * 10**9, now + 3600 * 10**9))
    run_direct(RunSettings(root, tmp_path / "reports", tmp_path / "store"), REPORT_VIEWS)
    rows = {r["rel"]: r for r in store_rows(tmp_path / "store")}
    assert rows.pop("2023/示例县/示例县南川镇_2023.txt")["mtime_ns"] is None
    assert rows and all(r["mtime_ns"] == now - 60 * 10**9 for r in rows.values())
    check_stat_hints(root, tmp_path / "store")
    # the next run hashes the unsettled file: a digit changed in place (same size), with the time
    # the other files have, is seen; the others are taken by their time
    from nianbao.run.inputs import Scope
    from nianbao.run.steps import discover_stage, plan_stage

    data = target.read_bytes()
    k = data.index(b"1")
    target.write_bytes(data[:k] + b"2" + data[k + 1 :])
    os.utime(target, ns=(now - 60 * 10**9, now - 60 * 10**9))
    inv = discover_stage(root)
    plan = plan_stage(inv, tmp_path / "store", Scope())
    assert [[inv.files[i].rel for i in part] for part in plan.partitions] == [["2023/示例县/示例县南川镇_2023.txt"]]
    assert plan.reused == len(inv.files) - 1


def check_stat_hints(root: Path, store: Path) -> None:
    """No stored (size, modification time) vouches for bytes other than the stored SHA-256: a rerun
    that trusts the stat of an unchanged file gets the report of exactly that file's bytes."""
    import hashlib

    for r in store_rows(store):
        path = root / r["rel"]
        if r["mtime_ns"] is None or not path.is_file():
            continue
        st = path.stat()
        if (st.st_size, st.st_mtime_ns) == (r["size"], r["mtime_ns"]):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == r["sha256"], r["rel"]


def test_a_killed_run_leaves_no_prefect_server_behind(tmp_path: Path, inbox: Path) -> None:
    """The embedded Prefect server of ``nianbao run`` dies with the run, even on SIGKILL."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux-only")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    cmd = [sys.executable, "-m", "nianbao.cli", "run", "--root", str(inbox), "--out", str(tmp_path / "r")]
    cmd += ["--store", str(tmp_path / "s")]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    child = None
    deadline = time.monotonic() + 30
    while child is None and time.monotonic() < deadline:
        child = _server_child(p.pid)
        time.sleep(0.05)
    assert child is not None, "the embedded server was not started"
    p.send_signal(signal.SIGKILL)
    p.wait()
    deadline = time.monotonic() + 20
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, "the embedded Prefect server outlived its run"


def _server_child(pid: int) -> int | None:
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for c in children:
            cmdline = Path(f"/proc/{c}/cmdline").read_bytes()
            if b"uvicorn" in cmdline:
                return int(c)
    return None


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.split(")")[-1].split()[0] != "Z"
