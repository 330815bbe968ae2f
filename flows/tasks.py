"""Prefect tasks: one per batch stage, thin wrappers over :mod:`nianbao.run.steps`.

Coarse on purpose (a task run costs ~20 ms): a task handles a whole batch — or, for parsing on a
Dask cluster, one county's files — never one file or one cell.  Only the I/O stages retry, with
exponential back-off (a share or disk that hiccups); parsing and validation are deterministic, a
retry would give the same answer.  Task results stay in memory (no result persistence, no
Prefect cache: the Parquet store is the cache, keyed on file hash + rule-set version).
"""

from __future__ import annotations

from nianbao.run import prefect_settings

prefect_settings.apply()  # before Prefect is imported (offline, quiet)

from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Generic, TypeVar  # noqa: E402

from prefect import get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.tasks import exponential_backoff  # noqa: E402

from nianbao.outcome import RunOutcome  # noqa: E402
from nianbao.run import steps as stages  # noqa: E402
from nianbao.run.inputs import Scope  # noqa: E402
from nianbao.run.validation import Submission  # noqa: E402

T = TypeVar("T")


class Held(Generic[T]):
    """A task result handed on to the next tasks as it is.

    Prefect walks every task parameter that is a list, dict or dataclass, all the way down, looking
    for futures to resolve — minutes for the objects of 100,000 reports, per task.  It does not
    walk into other objects: the stages' results travel in this holder (``prefect``'s own
    ``opaque`` annotation does the same locally, but does not survive a Dask worker)."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __getstate__(self) -> tuple[T]:
        return (self.value,)  # a tuple: never falsy (a falsy state would skip __setstate__)

    def __setstate__(self, state: tuple[T]) -> None:
        (self.value,) = state


def _io_error(_task: Any, _run: Any, state: Any) -> bool:
    """Retry on an I/O error only (a share or a disk that hiccups): a bug would fail again."""
    exc = state.data if isinstance(state.data, BaseException) else state.result(raise_on_failure=False)
    return isinstance(exc, OSError)


_PLAIN: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}
_IO: dict[str, Any] = {
    **_PLAIN,
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=1),  # 1 s, 2 s, 4 s
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": _io_error,
}


@task(name="discover", **_IO)
def discover(root: str, registry: str | None) -> Held[stages.Inventory]:
    """List the inbox (every file, with county and year from its path) and read the registry."""
    return Held(stages.discover_stage(Path(root), Path(registry) if registry else None))


@task(name="load-changed", **_IO)
def load_changed(inv: Held[stages.Inventory], store: str, scope: Scope, by_county: bool) -> Held[stages.Plan]:
    """Hash the files, rebuild the unchanged ones from the store, plan the parsing of the rest."""
    return Held(stages.plan_stage(inv.value, Path(store), scope, by_county))


@task(name="parse-changed", **_PLAIN)
def parse_changed(subs: Sequence[Submission], index: Sequence[int], workers: int | None = None) -> Held[stages.Parsed]:
    """Parse the new or changed files of one partition (whole counties, on a Dask cluster)."""
    return Held(stages.parse_stage(subs, index, workers))


@task(name="save-store", **_IO)
def save_store(
    store: str, inv: Held[stages.Inventory], plan: Held[stages.Plan], parsed: list[Held[stages.Parsed]]
) -> int:
    """Write the newly parsed reports to the Parquet store (atomically, per year partition)."""
    return stages.save_stage(Path(store), inv.value, plan.value, [p.value for p in parsed])


@task(name="validate", **_PLAIN)
def validate(
    inv_h: Held[stages.Inventory],
    plan_h: Held[stages.Plan],
    parsed_h: list[Held[stages.Parsed]],
    scope: Scope,
    store: str,
    gx_dir: str,
) -> Held[RunOutcome]:
    """Validate the whole batch at once (all townships together, one validation per schema; the
    batch expectations; last year's reports from the store for the cross-year rules)."""
    inv, plan, parsed = inv_h.value, plan_h.value, [p.value for p in parsed_h]
    reports = stages.merge(plan, parsed)
    timings, counts = stages.timings(inv, plan, parsed), stages.plan_counts(plan, parsed)
    return Held(stages.validate_stage(inv, reports, scope, timings, counts, Path(store), Path(gx_dir)))


@task(name="write-reports", **_IO)
def write_reports(outcome: Held[RunOutcome], out: str, root: str, staging: str, date: str) -> str:
    """Write the run's reports to ``<out>/<run date>[-N]/`` (complete, or not at all)."""
    return str(stages.write_stage(outcome.value, Path(out), Path(root), Path(staging), date))


@task(name="publish-summary", **_IO)
def publish_summary(out: str, run_dir: str, held: Held[RunOutcome]) -> list[dict[str, Any]]:
    """Move ``latest`` to the completed run; publish the counties table as a Prefect artifact."""
    from prefect.artifacts import create_table_artifact

    from nianbao.report.summary import states_line

    outcome = held.value

    stages.publish_stage(Path(out), Path(run_dir), outcome)
    # the run's counts in its log (the Prefect UI, and any log shipping the ops engineer set up)
    n_infos = sum(1 for f in outcome.findings if f.severity == "info")
    get_run_logger().info(
        "年报校验完成：文件 %d 个（无法读取 %d 个），错误 %d 条，警告 %d 条，提示 %d 条；报告：%s",
        outcome.n_files,
        outcome.n_unreadable,
        outcome.n_errors,
        outcome.n_warnings,
        n_infos,
        run_dir,
    )
    rows: list[dict[str, Any]] = outcome.extra.get("counties", [])
    create_table_artifact(
        key="nianbao-county-summary",
        table=rows,
        description=(
            f"年报校验：{outcome.n_files} 个文件，错误 {outcome.n_errors} 条，警告 {outcome.n_warnings} 条；"
            f"{states_line(outcome)}报告：{run_dir}"
        ),
    )
    return rows
