"""Prefect tasks: each step of :func:`nianbao.run.steps.run_steps` run as a task, by a runner.

The orchestration is :func:`nianbao.run.steps.run_steps`, the same for ``--no-prefect``; here only
how a step becomes a task.  :class:`TaskRunner` (the flow's ``runner``) turns ``call(step, *args)``
into a task run of that step in the flow's process, and ``map`` into task runs submitted to the
task runner (the partitions' parsing, on a Dask cluster when configured).

Coarse on purpose (a task run costs ~20 ms): a task handles a whole batch — or, for parsing on a
Dask cluster, one county's files — never one file or one cell.  Only the I/O steps retry, with
exponential back-off (a share or disk that hiccups); parsing and validation are deterministic, a
retry would give the same answer.  Task results stay in memory (no result persistence, no
Prefect cache: the Parquet store and the memo are the caches).
"""

from __future__ import annotations

from nianbao.run import prefect_settings

prefect_settings.apply()  # before Prefect is imported (offline, quiet)

import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Generic, TypeVar  # noqa: E402

from prefect import get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.futures import wait  # noqa: E402
from prefect.tasks import exponential_backoff  # noqa: E402

from nianbao.outcome import RunOutcome  # noqa: E402
from nianbao.run import steps as stages  # noqa: E402

T = TypeVar("T")


class Held(Generic[T]):
    """A task result handed on to the next tasks as it is.

    Prefect walks every task parameter that is a list, dict or dataclass, all the way down, looking
    for futures to resolve — minutes for the objects of 100,000 reports, per task.  It does not
    walk into other objects: the steps' arguments and results travel in this holder (``prefect``'s own
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


def publish_summary(out: Path, run_dir: Path, outcome: RunOutcome) -> None:
    """The publish step, then the run's counts in the flow's log and the counties table as a
    Prefect artifact."""
    from prefect.artifacts import create_table_artifact

    from nianbao.report.summary import states_line

    stages.publish_stage(out, run_dir, outcome)
    # the run's counts in its log (the Prefect UI, and any log shipping the ops engineer set up)
    n_infos = outcome.n_infos  # (the summarised infos counted on each report they apply to)
    get_run_logger().info(
        "年报校验完成：文件 %d 个（无法读取 %d 个），错误 %d 条，警告 %d 条，提示 %d 条；报告：%s",
        outcome.n_files,
        outcome.n_unreadable,
        outcome.n_errors,
        outcome.n_warnings,
        n_infos,
        run_dir,
    )
    create_table_artifact(
        key="nianbao-county-summary",
        table=list(outcome.info.counties or ()),
        description=(
            f"年报校验：{outcome.n_files} 个文件，错误 {outcome.n_errors} 条，警告 {outcome.n_warnings} 条；"
            f"{states_line(outcome)}报告：{run_dir}"
        ),
    )


# a step (by name) → its task's name, options and, where Prefect adds to it, the task's body
STEPS: dict[str, tuple[str, dict[str, Any], Callable[..., Any] | None]] = {
    "discover_stage": ("discover", _IO, None),  # list the inbox, read the registry
    "plan_stage": ("load-changed", _IO, None),  # look the files up in the store
    "parse_stage": ("parse-changed", _PLAIN, None),  # parse one partition's new or changed files
    "save_stage": ("save-store", _IO, None),  # write them to the Parquet store
    "validate_stage": ("validate", _PLAIN, None),  # the whole batch at once, the memo around it
    "write_stage": ("write-reports", _IO, None),  # <out>/<run date>[-N]/, complete or not at all
    "publish_stage": ("publish-summary", _IO, publish_summary),  # latest; the counties artifact
}


def as_task(step: Callable[..., T]) -> Any:
    """``step`` as a Prefect task over :class:`Held` arguments and result (an unknown step — a
    test's stand-in — runs as a plain task under its own name)."""
    name, options, body = STEPS.get(step.__name__, (step.__name__, _PLAIN, None))
    run = body or step

    def held(*args: Held[Any]) -> Held[T]:
        return Held(run(*(a.value for a in args)))

    held.__name__ = held.__qualname__ = step.__name__  # (Prefect's task key)
    return task(name=name, **options)(held)


class TaskRunner:
    """The flow's runner for :func:`nianbao.run.steps.run_steps`: every step a task run."""

    def call(self, step: Callable[..., T], *args: Any) -> T:
        """A task run in the flow's process: on a cluster a whole-batch step would otherwise ship
        the 100,000 reports to a worker and back."""
        result: Held[T] = as_task(step)(*(Held(a) for a in args))
        return result.value

    def map(self, step: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> list[T]:
        """A task run per call, submitted to the task runner (the Dask cluster when configured)."""
        t = as_task(step)
        futures = [t.submit(*(Held(a) for a in args)) for args in calls]
        wait_interruptibly(futures)
        return [f.result().value for f in futures]


def wait_interruptibly(futures: list[Any]) -> None:
    """Wait for the task futures in short sleeps: a signal handler (Ctrl-C, SIGTERM) runs only when
    the main thread wakes, and a wait without a timeout may never wake it before the tasks end.
    (``done()``: both a thread pool's and a Dask cluster's futures have it.)"""
    while not all(f.wrapped_future.done() for f in futures):
        time.sleep(0.1)
    wait(futures)
