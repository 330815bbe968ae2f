"""The nightly county run and the ad-hoc rerun: two Prefect flows over the same tasks.

Each run: discover the inbox → load the new or changed submissions (the rest come from the
Parquet store) → validate the whole batch at once → write ``reports/<run date>[-N]/`` → move
``latest`` and publish the counties x pass/fail/unreadable/missing table as an artifact.

``nightly`` re-reads everything; ``adhoc`` re-reads only a year, a county or an agency (a corrected
report came in) and takes the other submissions as the last run read them, so the report it
writes is again the whole inbox, with that part refreshed.

Scale-out: with a Dask scheduler address (``NIANBAO_DASK_ADDRESS`` or ``nianbao run --dask``) the
same flow runs its tasks on that cluster through ``prefect-dask``'s ``DaskTaskRunner``, parsing
whole counties in tasks of up to 2,000 files (``stages.bundle``); validation stays one task over
the whole batch.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from nianbao.run import prefect_settings

prefect_settings.apply()  # before Prefect is imported (offline, quiet)

from prefect import flow  # noqa: E402
from prefect.futures import wait  # noqa: E402
from prefect.logging import get_logger  # noqa: E402

from flows import tasks  # noqa: E402
from nianbao.run import folders as rundirs  # noqa: E402
from nianbao.run import interrupt  # noqa: E402
from nianbao.run import status as runstatus  # noqa: E402
from nianbao.run.inputs import Scope  # noqa: E402
from nianbao.run.steps import (  # noqa: E402
    STORE_FAILED,
    RunResult,
    default_store,
    files_found,
    incomplete_writer,
    partition_inputs,
)

DASK_ENV = "NIANBAO_DASK_ADDRESS"
NIGHTLY = "nianbao-nightly"
DEPLOYMENT = "nianbao-nightly"


def _body(
    root: str,
    out: str,
    store: str | None,
    registry: str | None,
    scope: Scope,
    by_county: bool,
    workers: int | None,
) -> RunResult:
    store_dir = store or str(default_store(Path(root)))
    # Stopped early (Ctrl-C, SIGTERM, a failed task), the run writes what it had done so far to
    # <out>/<date>[-N]-incomplete/ and raises interrupt.Incomplete (as stages.run_direct does).
    track = interrupt.Tracker(inputs=[root])
    with rundirs.Staging(Path(out), rundirs.run_date()) as st, interrupt.incomplete_run(track, incomplete_writer(st)):
        # Parsing is the one stage spread over the task runner (a Dask cluster when configured): a
        # task per partition.  The whole-batch stages run here, in the flow's process, as task runs
        # called directly: on a cluster each would otherwise ship the 100,000 reports to a worker
        # and back.  Results travel in a tasks.Held, which Prefect does not walk object by object.
        inv_h = tasks.discover(root, registry)
        track.found(files_found(inv_h.value))
        track.at("plan")
        plan_h = tasks.load_changed(inv_h, store_dir, scope, by_county)
        inv, plan = inv_h.value, plan_h.value
        parts = partition_inputs(inv, plan)
        # one parse task per partition: the whole batch locally (its own process pool); on Dask,
        # whole counties per task, each parsed in the worker's own process (the cluster is the
        # parallelism: a worker process is daemonic and may not start a pool of its own)
        track.at("parse")
        parsed_fs: Any = [tasks.parse_changed.submit(subs, idx, 1 if by_county else workers) for subs, idx in parts]
        _wait(parsed_fs)
        parsed_h = [f.result() for f in parsed_fs]
        # the report does not depend on the store being written (the store is a cache and a
        # mirror): a failed save is reported, not fatal
        track.at("store")
        saved: Any = tasks.save_store(store_dir, inv_h, plan_h, parsed_h, return_state=True)
        track.at("validate")
        outcome_h = tasks.validate(inv_h, plan_h, parsed_h, scope, store_dir, str(st.gx_dir))
        track.validated(outcome_h.value)
        track.at("write")
        run_dir = Path(tasks.write_reports(outcome_h, out, root, str(st.path), st.date))
        track.published = run_dir
        track.at("publish")
        tasks.publish_summary(out, str(run_dir), outcome_h)
    parsed = [h.value for h in parsed_h]
    counts = {"reused": plan.reused, "kept": plan.kept, "parsed": sum(len(p.index) for p in parsed)}
    result = RunResult(outcome_h.value, run_dir, counts)
    if saved.is_failed():
        result.warnings.append(STORE_FAILED)
    return result


def _run_name(kind: str) -> Any:
    """A short run name for the Prefect UI: what, when (Beijing time) and the inbox's folder name
    only — never the full inbox path (``夜间校验 12月07日 02:30 submissions``)."""

    def name() -> str:
        from prefect.runtime import flow_run

        root = str((flow_run.parameters or {}).get("root") or "")
        folder = Path(root).name[:24] if root else ""
        when = datetime.now(rundirs.TZ)
        return f"{kind} {when:%m月%d日 %H:%M} {folder}".strip()

    return name


def _out_of(flow_run: Any) -> Path | None:
    out = (getattr(flow_run, "parameters", None) or {}).get("out")
    return Path(out) if out else None


def _record_running(_flow: Any, flow_run: Any, _state: Any) -> None:
    """Flow hook: the attempt is recorded at the reports root (nianbao.run.status) as it starts."""
    out = _out_of(flow_run)
    if out is not None:
        runstatus.record(out, runstatus.RUNNING, flow_run=str(getattr(flow_run, "name", "")))


def _record_failed(_flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook (failed or crashed): 最近一次运行失败 at the reports root, with Prefect's reason."""
    out = _out_of(flow_run)
    if out is not None:
        message = str(getattr(state, "message", "") or getattr(state, "name", "") or "")
        runstatus.record(out, runstatus.FAILED, message=message, flow_run=str(getattr(flow_run, "name", "")))
    get_logger("nianbao").error("年报校验运行失败：%s", getattr(state, "message", "") or "")


_HOOKS: dict[str, Any] = {
    "on_running": [_record_running],
    "on_failure": [_record_failed],
    "on_crashed": [_record_failed],
}


def _wait(futures: list[Any]) -> None:
    """Wait for the task futures in short sleeps: a signal handler (Ctrl-C, SIGTERM) runs only when
    the main thread wakes, and a wait without a timeout may never wake it before the tasks end.
    (``done()``: both a thread pool's and a Dask cluster's futures have it.)"""
    while not all(f.wrapped_future.done() for f in futures):
        time.sleep(0.1)
    wait(futures)


@flow(name=NIGHTLY, flow_run_name=_run_name("夜间校验"), validate_parameters=False, **_HOOKS)
def nightly(
    root: str = "data/submissions",
    out: str = "reports",
    store: str | None = None,
    registry: str | None = None,
    by_county: bool = False,
    workers: int | None = None,
) -> RunResult:
    """年报夜间校验：读取收件目录中全部报告（未改动的从存储中复用），整体校验并写出报告。"""
    return _body(root, out, store, registry, Scope(), by_county, workers)


@flow(name="nianbao-adhoc", flow_run_name=_run_name("补充校验"), validate_parameters=False, **_HOOKS)
def adhoc(
    root: str = "data/submissions",
    out: str = "reports",
    store: str | None = None,
    registry: str | None = None,
    year: int | None = None,
    county: str | None = None,
    agency: str | None = None,
    by_county: bool = False,
    workers: int | None = None,
) -> RunResult:
    """年报补充校验：重新读取指定年度/县/机关的报告，其余沿用上次运行的结果，写出完整报告。"""
    return _body(root, out, store, registry, Scope(year, county, agency), by_county, workers)


def dask_address(explicit: str | None = None) -> str | None:
    return explicit or os.environ.get(DASK_ENV) or None


def with_runner(f: Any, address: str | None) -> Any:
    """The flow on the Dask cluster at ``address`` (unchanged when there is none)."""
    if not address:
        return f
    from prefect_dask import DaskTaskRunner

    return f.with_options(task_runner=DaskTaskRunner(address=address))


def run(
    root: Path,
    out: Path,
    store: Path | None = None,
    registry: Path | None = None,
    scope: Scope | None = None,
    dask: str | None = None,
    workers: int | None = None,
) -> RunResult:
    """Run the right flow (nightly for everything, adhoc for a part) — the CLI's entry point."""
    scope = scope or Scope()
    address = dask_address(dask)
    kw: dict[str, Any] = {
        "root": str(root),
        "out": str(out),
        "store": str(store) if store else None,
        "registry": str(registry) if registry else None,
        "by_county": bool(address),
        "workers": workers,
    }
    if scope.everything:
        result: RunResult = with_runner(nightly, address)(**kw)
    else:
        result = with_runner(adhoc, address)(**kw, year=scope.year, county=scope.county, agency=scope.agency)
    return result


def nightly_deployment(at: str = "02:30", **params: Any) -> Any:
    """The nightly deployment: a run every day at ``at`` (HH:MM, Asia/Shanghai)."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    hh, mm = (int(x) for x in at.split(":"))
    return nightly.to_deployment(
        name=DEPLOYMENT,
        schedule=Cron(f"{mm} {hh} * * *", timezone="Asia/Shanghai"),
        parameters={k: v for k, v in params.items() if v is not None},
        description="每天在指定时间（北京时间）校验收件目录中的全部年度报告。",
        tags=["nianbao"],
        entrypoint_type=EntrypointType.MODULE_PATH,  # flows.nightly.nightly: works from any folder
    )


def serve_nightly(at: str = "02:30", **params: Any) -> None:
    """Register the nightly deployment on the Prefect server and run its scheduled runs (blocks)."""
    from prefect import serve

    serve(nightly_deployment(at, **params), print_starting_message=False)
