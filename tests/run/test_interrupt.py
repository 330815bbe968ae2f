"""Results always arrive: ``nianbao run`` (with and without Prefect) and ``nianbao validate``
stopped by Ctrl-C (SIGINT to the whole process group, as a terminal sends it), by SIGTERM, or by a
crash in one stage write what they had done so far, marked incomplete (``run.json``
``"complete": false``, the notice on the overview page, every file in ``submissions.json``),
print one Chinese line, exit 130 / 143 / 2, never move ``latest``, and the next run completes
the work.

The runs are stopped at named points by the test hooks of :mod:`nianbao.run.hooks`:
``NIANBAO_PAUSE_AT`` (the run pauses there and creates a mark file; the test then sends the
signal) and ``NIANBAO_FAIL_AT`` (a stage raises there).
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

import pytest

from nianbao.run.folders import INCOMPLETE_SUFFIX, completed_runs, latest, next_run_name
from nianbao.run.interrupt import NOT_PROCESSED
from tests.helpers import ROOT, copy_sample_inbox

pytestmark = [pytest.mark.slow]

HOOKS = ("NIANBAO_CRASH_AT", "NIANBAO_FAIL_AT", "NIANBAO_PAUSE_AT", "NIANBAO_PAUSE_MARK", "PREFECT_API_URL")
SIGNAL_EXIT_S = 30.0  # a stopped run ends within this (it writes its results so far first)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_sample_inbox(tmp_path_factory.mktemp("interrupt"))


@pytest.fixture(scope="module")
def reference(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One uninterrupted ``run``: its results, and its store (copied by the tests: reused reports
    and memoised findings make their runs quick)."""
    from nianbao.report.views import REPORT_VIEWS
    from nianbao.run.steps import RunSettings, run_direct

    base = tmp_path_factory.mktemp("reference")
    result = run_direct(RunSettings(inbox, base / "reports", base / "store"), REPORT_VIEWS)
    return {"results": results(result.run_dir), "store": base / "store", "run": result.run_dir}


def results(run_dir: Path) -> dict[str, Any]:
    return {n: json.loads((run_dir / n).read_text(encoding="utf-8")) for n in ("submissions.json", "findings.json")}


def run_json(folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    return out


def nianbao(
    args: list[str],
    tmp: Path,
    *,
    pause: str | None = None,
    sig: int = signal.SIGINT,
    fail: str | None = None,
    prefect_api: str | None = None,
) -> tuple[int, str, str]:
    """Run ``nianbao <args>`` in its own process group; with ``pause``, send ``sig`` to the whole
    group once the run has reached that point.  (exit code, stdout, stderr)"""
    env = {k: v for k, v in os.environ.items() if k not in HOOKS}
    if prefect_api:
        env["PREFECT_API_URL"] = prefect_api
    mark = tmp / "paused"
    mark.unlink(missing_ok=True)
    if pause:
        env |= {"NIANBAO_PAUSE_AT": pause, "NIANBAO_PAUSE_MARK": str(mark)}
    if fail:
        env["NIANBAO_FAIL_AT"] = fail
    cmd = [sys.executable, "-m", "nianbao.cli", *args]
    p = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        if pause:
            deadline = time.monotonic() + 240
            while not mark.exists():
                assert p.poll() is None, f"the run ended before {pause}: {p.communicate()}"
                assert time.monotonic() < deadline, f"the run did not reach {pause}"
                time.sleep(0.05)
            os.killpg(p.pid, sig)
            sent = time.monotonic()
            stdout, stderr = p.communicate(timeout=240)
            assert time.monotonic() - sent < SIGNAL_EXIT_S, "the stopped run took too long to end"
        else:
            stdout, stderr = p.communicate(timeout=600)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    _group_gone(p.pid)
    return p.returncode, stdout.decode(), stderr.decode()


def _group_gone(pgid: int) -> None:
    """No process of the run is left (parse workers, the guarded loader, an embedded server)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(pgid, signal.SIGKILL)
    raise AssertionError("processes of the stopped run were left behind")


def incomplete_folder(out: Path) -> Path:
    found = [p for p in out.iterdir() if p.name.endswith(INCOMPLETE_SUFFIX)]
    assert len(found) == 1, found
    return found[0]


CRASH = "错误：运行未能完成（RuntimeError: test hook: failure at views）"
NOT_VALIDATED = "尚未校验任何文件，全部文件列为“未处理”"
VALIDATED = "已校验的 25 个文件的结果见本报告"


def check_incomplete(folder: Path, stage: str, stage_zh: str, cause: str, what: str, done: str, code: int) -> None:
    info = run_json(folder)
    assert info["complete"] is False
    assert info["exit_code"] == code
    notice = f"本次运行未完成：在“{stage_zh}”阶段{what}。{done}；下次运行将完成全部校验。"
    assert info["incomplete"] == {"stage": stage, "cause": cause, "notice": notice}
    page = folder / "index.html"
    if stage == "write":  # the views were being written: no overview page claiming more
        assert not page.exists()
    else:
        assert f'<div class="note" id="incomplete">{notice}</div>' in page.read_text(encoding="utf-8")


def check_not_processed(folder: Path, names: list[str], stage_zh: str, what: str) -> None:
    subs = json.loads((folder / "submissions.json").read_text(encoding="utf-8"))
    assert [s["file"] for s in subs] == names
    reason = f"本次运行在“{stage_zh}”阶段{what}，未处理该文件；下次运行将处理"
    assert {(s["status"], s["reason"]) for s in subs} == {(NOT_PROCESSED, reason)}
    assert json.loads((folder / "findings.json").read_text(encoding="utf-8")) == []


def run_args(inbox: Path, out: Path, store: Path, prefect: bool = False) -> list[str]:
    args = ["run", "--root", str(inbox), "--out", str(out), "--store", str(store)]
    return args if prefect else [*args, "--no-prefect"]


def stopped(head: str, stage_zh: str, folder: Path) -> str:
    """The one line of a stopped run whose results so far are in ``folder`` (no ``latest`` yet)."""
    return (
        f"{head}：本次运行未完成（停在“{stage_zh}”阶段），已完成的部分写入 {folder}（run.json 中 complete 为 false）。"
    )


# ------------------------------------------------------------------ nianbao run


def test_run_interrupted_while_parsing_then_completed(inbox: Path, reference: dict[str, Any], tmp_path: Path) -> None:
    """Ctrl-C while the reports are parsed: one line, every file ``not_processed``, ``latest``
    still on the last completed run; the next run completes the work and moves ``latest``."""
    out, store = tmp_path / "reports", tmp_path / "store"
    shutil.copytree(reference["store"], store)
    assert nianbao(run_args(inbox, out, store), tmp_path)[0] == 1  # a first completed run
    first = latest(out)
    assert first is not None
    # (an empty store: every file is parsed)
    code, stdout, stderr = nianbao(run_args(inbox, out, tmp_path / "empty-store"), tmp_path, pause="parsed")
    assert code == 130 and stdout == ""
    folder = incomplete_folder(out)
    assert folder.name == f"{first.name}-2{INCOMPLETE_SUFFIX}"
    assert stderr.splitlines() == [
        f"已中断（Ctrl+C）：本次运行未完成（停在“解析报告”阶段），已完成的部分写入 {folder}"
        f"（run.json 中 complete 为 false）；latest 仍指向上一次完成的运行（{first}）。"
    ]
    names = [s["file"] for s in reference["results"]["submissions.json"]]
    check_not_processed(folder, names, "解析报告", "被中断（Ctrl+C）")
    check_incomplete(folder, "parse", "解析报告", "SIGINT", "被中断（Ctrl+C）", NOT_VALIDATED, 130)
    assert latest(out) == first and completed_runs(out) == [first]
    assert not list(out.glob(".run-*"))
    # the next run completes it
    code, stdout, stderr = nianbao(run_args(inbox, out, store), tmp_path)
    assert code == 1, stderr
    done = latest(out)
    assert done is not None and done.name == f"{first.name}-3" and completed_runs(out) == [first, done]
    assert run_json(done)["complete"] is True and "incomplete" not in run_json(done)
    assert results(done) == reference["results"]
    assert incomplete_folder(out) == folder  # kept, never latest


def test_run_terminated_while_writing_the_views(inbox: Path, reference: dict[str, Any], tmp_path: Path) -> None:
    """SIGTERM while the views are written: the validated results are written (the contract
    files), marked incomplete; exit 143; no run folder becomes ``latest``."""
    out, store = tmp_path / "reports", tmp_path / "store"
    shutil.copytree(reference["store"], store)
    code, stdout, stderr = nianbao(run_args(inbox, out, store), tmp_path, pause="views", sig=signal.SIGTERM)
    assert code == 143 and stdout == ""
    folder = incomplete_folder(out)
    assert stderr.splitlines() == [stopped("已终止（SIGTERM）", "写出报告", folder)]
    assert results(folder) == reference["results"]
    check_incomplete(folder, "write", "写出报告", "SIGTERM", "被终止（SIGTERM）", VALIDATED, 143)
    assert latest(out) is None and completed_runs(out) == []
    assert not (out / "latest").exists() and not (out / "latest.json").exists()


def test_run_whose_views_writer_crashes(inbox: Path, reference: dict[str, Any], tmp_path: Path) -> None:
    """A crash in one stage (the views writer raising): submissions.json and findings.json are
    still written, marked incomplete; exit 2 with one line naming the error."""
    out, store = tmp_path / "reports", tmp_path / "store"
    shutil.copytree(reference["store"], store)
    code, stdout, stderr = nianbao(run_args(inbox, out, store), tmp_path, fail="views")
    assert code == 2 and stdout == ""
    folder = incomplete_folder(out)
    assert stderr.splitlines() == [stopped(CRASH, "写出报告", folder)]
    assert results(folder) == reference["results"]
    what = "出错（RuntimeError: test hook: failure at views）"
    check_incomplete(folder, "write", "写出报告", "error", what, VALIDATED, 2)
    assert latest(out) is None


def test_run_interrupted_before_any_file_leaves_no_folder(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "reports"
    code, stdout, stderr = nianbao(run_args(inbox, out, tmp_path / "store"), tmp_path, pause="discovering")
    assert (code, stdout) == (130, "")
    assert stderr.splitlines() == ["已中断（Ctrl+C）：在“查找文件”阶段停止，尚未找到报告文件，未写出任何结果。"]
    assert not out.exists()


@pytest.mark.prefect
def test_run_through_prefect_interrupted_while_parsing(
    prefect_api: str, inbox: Path, reference: dict[str, Any], tmp_path: Path
) -> None:
    """The flow: Ctrl-C while a parse task runs in its thread — the run stops at once (the task
    sees the stop), Prefect's own crash report stays off the console."""
    out = tmp_path / "reports"
    args = run_args(inbox, out, tmp_path / "store", prefect=True)
    code, stdout, stderr = nianbao(args, tmp_path, pause="parsed", prefect_api=prefect_api)
    assert code == 130 and stdout == ""
    folder = incomplete_folder(out)
    assert stderr.splitlines() == [stopped("已中断（Ctrl+C）", "解析报告", folder)]
    names = [s["file"] for s in reference["results"]["submissions.json"]]
    check_not_processed(folder, names, "解析报告", "被中断（Ctrl+C）")
    check_incomplete(folder, "parse", "解析报告", "SIGINT", "被中断（Ctrl+C）", NOT_VALIDATED, 130)
    assert latest(out) is None


@pytest.mark.prefect
def test_run_through_prefect_whose_views_writer_crashes(
    prefect_api: str, inbox: Path, reference: dict[str, Any], tmp_path: Path
) -> None:
    out, store = tmp_path / "reports", tmp_path / "store"
    shutil.copytree(reference["store"], store)
    code, _stdout, stderr = nianbao(
        run_args(inbox, out, store, prefect=True), tmp_path, fail="views", prefect_api=prefect_api
    )
    assert code == 2
    folder = incomplete_folder(out)
    # (Prefect logs the failed task before the run stops: the last line is the run's)
    assert stderr.splitlines()[-1] == stopped(CRASH, "写出报告", folder)
    assert results(folder) == reference["results"]
    assert run_json(folder)["complete"] is False and latest(out) is None


# ------------------------------------------------------------------ nianbao validate


def test_validate_interrupted_while_parsing(inbox: Path, tmp_path: Path) -> None:
    target = tmp_path / "out"
    code, stdout, stderr = nianbao(["validate", str(inbox), "--out", str(target)], tmp_path, pause="parsed")
    assert (code, stdout) == (130, "")
    assert stderr.splitlines() == [stopped("已中断（Ctrl+C）", "解析报告", target)]
    names = sorted(str(p) for p in inbox.rglob("*") if p.is_file())
    check_not_processed(target, names, "解析报告", "被中断（Ctrl+C）")
    check_incomplete(target, "parse", "解析报告", "SIGINT", "被中断（Ctrl+C）", NOT_VALIDATED, 130)


def test_validate_whose_views_writer_crashes(inbox: Path, reference: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "out"
    code, stdout, stderr = nianbao(["validate", str(inbox), "--out", str(target)], tmp_path, fail="views")
    assert (code, stdout) == (2, "")
    assert stderr.splitlines() == [stopped(CRASH, "写出报告", target)]
    what = "出错（RuntimeError: test hook: failure at views）"
    check_incomplete(target, "write", "写出报告", "error", what, VALIDATED, 2)
    subs = json.loads((target / "submissions.json").read_text(encoding="utf-8"))
    ref = reference["results"]["submissions.json"]
    assert [(Path(s["file"]).name, s["status"], s["errors"]) for s in subs] == [
        (Path(s["file"]).name, s["status"], s["errors"]) for s in ref
    ]
    # the cell findings are those of the run (which also has a registry: its batch findings differ)
    found = json.loads((target / "findings.json").read_text(encoding="utf-8"))

    def cell_findings(fs: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
        return sorted((Path(f["file"]).name, f["rule"], f["cells"]) for f in fs if f["cells"])

    assert cell_findings(found) == cell_findings(reference["results"]["findings.json"])
    assert sum(s["errors"] for s in subs) == sum(1 for f in found if f["severity"] == "error")


def test_validate_interrupted_before_any_file_leaves_no_folder(inbox: Path, tmp_path: Path) -> None:
    target = tmp_path / "out"
    code, stdout, stderr = nianbao(["validate", str(inbox), "--out", str(target)], tmp_path, pause="discovering")
    assert (code, stdout) == (130, "")
    assert stderr.splitlines() == ["已中断（Ctrl+C）：在“查找文件”阶段停止，尚未找到报告文件，未写出任何结果。"]
    assert not target.exists()


def test_validate_interrupted_while_the_parse_pool_works(inbox: Path, tmp_path: Path) -> None:
    """≥ 400 files are parsed in a process pool: Ctrl-C reaches the workers too (the terminal
    signals the whole group) — they leave it to the run (no traceback each), the queued chunks are
    dropped and the workers ended at once, not after the queue."""
    from nianbao.run.parsing import PARALLEL_MIN_FILES

    many = tmp_path / "many"
    many.mkdir()
    sources = sorted(inbox.rglob("*.txt"))
    n = PARALLEL_MIN_FILES + 10
    for k in range(n):
        shutil.copy(sources[k % len(sources)], many / f"{k:04d}_{sources[k % len(sources)].name}")
    target = tmp_path / "out"
    args = ["validate", str(many), "--out", str(target), "--workers", "2"]
    code, stdout, stderr = nianbao(args, tmp_path, pause="parse-chunk")  # (the pause is in a worker)
    assert (code, stdout) == (130, "")
    assert stderr.splitlines() == [stopped("已中断（Ctrl+C）", "解析报告", target)]
    subs = json.loads((target / "submissions.json").read_text(encoding="utf-8"))
    assert len(subs) == n and {s["status"] for s in subs} == {NOT_PROCESSED}


# ------------------------------------------------------------------ run folders


def test_an_incomplete_run_is_numbered_but_never_a_completed_run(tmp_path: Path) -> None:
    for name in ("2026-12-07", f"2026-12-07-2{INCOMPLETE_SUFFIX}"):
        (tmp_path / name).mkdir()
    assert next_run_name(tmp_path, "2026-12-07") == "2026-12-07-3"
    assert completed_runs(tmp_path) == [tmp_path / "2026-12-07"]


def test_a_failed_store_write_does_not_stop_the_run_without_prefect(
    inbox: Path, reference: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the flow: the store is a cache and a mirror — its failure is said, the run completes."""
    from nianbao.report.views import REPORT_VIEWS
    from nianbao.run import steps as stages

    def broken(*_a: object, **_k: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(stages, "save_stage", broken)
    shutil.copytree(reference["store"], tmp_path / "store")
    result = stages.run_direct(stages.RunSettings(inbox, tmp_path / "reports", tmp_path / "store"), REPORT_VIEWS)
    assert result.warnings == ["报告存储（Parquet）写入失败：下次运行将重新解析本次解析的报告"]
    assert latest(tmp_path / "reports") == result.run_dir and run_json(result.run_dir)["complete"] is True
    assert results(result.run_dir) == reference["results"]


def test_run_failing_while_moving_latest(inbox: Path, reference: dict[str, Any], tmp_path: Path) -> None:
    """Stopped after its folder was complete, before ``latest`` moved: the folder stays a completed
    run (not marked incomplete), the line says so, and the next run moves ``latest``."""
    out, store = tmp_path / "reports", tmp_path / "store"
    shutil.copytree(reference["store"], store)
    code, stdout, stderr = nianbao(run_args(inbox, out, store), tmp_path, fail="latest-json")
    assert (code, stdout) == (2, "")
    [run] = completed_runs(out)
    assert stderr.splitlines() == [
        f"错误：运行未能完成（RuntimeError: test hook: failure at latest-json）：报告已完整写出 {run}，"
        "但 latest 尚未更新；下次运行将更新。"
    ]
    assert run_json(run)["complete"] is True and results(run) == reference["results"]
    assert not (out / "latest").exists() and not [p for p in out.iterdir() if p.name.endswith(INCOMPLETE_SUFFIX)]
    assert nianbao(run_args(inbox, out, store), tmp_path)[0] == 1
    assert latest(out) == out / f"{run.name}-2"
