"""The nightly county run and the ad-hoc rerun: two Prefect flows over the one orchestration of
the run's steps (:func:`nianbao.run.steps.run_steps`), each step a task (:mod:`flows.tasks`).

Each run: discover the inbox → load the new or changed submissions (the rest come from the
Parquet store) → validate the whole batch at once → write ``reports/<run date>[-N]/`` → move
``latest`` and publish the counties x pass/fail/unreadable/missing table as an artifact.

``nightly`` re-reads everything; ``adhoc`` re-reads only a year, a county or an agency (a corrected
report came in) and takes the other submissions as the last run read them, so the report it
writes is again the whole inbox, with that part refreshed.

Scale-out: with a Dask scheduler address (``NIANBAO_DASK_ADDRESS`` or ``nianbao run --dask``) the
same flow runs its tasks on that cluster through ``prefect-dask``'s ``DaskTaskRunner``, parsing
whole counties in tasks of up to 2,000 files (``steps.bundle``); validation stays one task over
the whole batch.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from nianbao.run import prefect_settings

prefect_settings.apply()  # before Prefect is imported (offline, quiet)

from prefect import flow  # noqa: E402
from prefect.logging import get_logger  # noqa: E402

from flows.tasks import TaskRunner  # noqa: E402
from nianbao.report.views import REPORT_VIEWS  # noqa: E402
from nianbao.run import folders as rundirs  # noqa: E402
from nianbao.run import status as runstatus  # noqa: E402
from nianbao.run.inputs import Scope  # noqa: E402
from nianbao.run.steps import RunResult, RunSettings, default_store, run_steps  # noqa: E402

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
    cfg = RunSettings(
        Path(root),
        Path(out),
        Path(store) if store else default_store(Path(root)),
        Path(registry) if registry else None,
        scope,
        workers,
        by_county,
    )
    return run_steps(cfg, REPORT_VIEWS, TaskRunner())


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
