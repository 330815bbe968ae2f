"""When a run does not finish — Ctrl-C (SIGINT), SIGTERM, or a crash in one stage — the results
still arrive: what was validated so far is written, marked incomplete.

- ``run.json`` has ``"complete": false`` and ``"incomplete"`` (the stage, the cause and a Chinese
  notice, which the overview page shows too); a finished run has ``"complete": true``.
- ``submissions.json`` lists every input file found: the validated ones with their status, the
  others ``not_processed`` with the reason in Chinese; ``findings.json`` has the findings of the
  validated files (validation runs over the whole batch at once: all of them, or none).
- ``nianbao run`` writes them to ``<out>/<date>[-N]-incomplete/`` (:func:`nianbao.run.folders.publish`):
  never ``latest``, which moves only to a completed run; the next run completes the work (the
  reports parsed before the interruption are in the store when the store stage was reached).
  ``nianbao validate`` writes them to its output folder.
- The command prints one Chinese line (no traceback) and exits 130 (SIGINT), 143 (SIGTERM) or 2
  (an error); nothing found yet means nothing written and no empty output folder.

A :class:`Tracker` follows the run (stage reached, files found, the validated outcome);
:func:`incomplete_outcome` turns it into the outcome to write.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

from nianbao.domain.oserrors import error_text
from nianbao.outcome import FileOutcome, RunInfo, RunOutcome, Unfinished, Views
from nianbao.run.stopflag import STOP, Stopped, check_stop  # the stop flag (re-exported)

log = logging.getLogger("nianbao.run.interrupt")

NOT_PROCESSED = "not_processed"

STAGES_ZH = {
    "discover": "查找文件",
    "plan": "比对存储",
    "parse": "解析报告",
    "store": "写入存储",
    "validate": "校验",
    "write": "写出报告",
    "publish": "更新 latest",
}

EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143, "error": 2}


class Terminated(BaseException):
    """SIGTERM, raised in the main thread (as Python raises KeyboardInterrupt for SIGINT)."""


# Set while a stopped run writes its incomplete results: Prefect's own report of the stop (the
# "Crash detected!" of the task and flow runs) stays off the console, which gets one line.
_MUTE = threading.Event()
_PREFECT_RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs", "prefect.nianbao")  # (flows.nightly's hooks)


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (STOP.is_set() or _MUTE.is_set())


class Incomplete(BaseException):
    """A run that did not finish, after its incomplete results were written (``path``; None when
    nothing had been found yet).  Raised from the interruption or error (``__cause__``)."""

    def __init__(self, cause: str, stage: str, path: Path | None, error: BaseException, published: Path | None = None):
        # its text (what Prefect records for the flow run, and its status page shows): in Chinese
        super().__init__(f"本次运行未完成：在“{STAGES_ZH.get(stage, stage)}”阶段{_what(cause, error)}")
        self.cause = cause  # SIGINT | SIGTERM | error
        self.stage = stage
        self.path = path
        self.error = error
        self.published = published  # a run folder already complete (interrupted while moving latest)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.cause]


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    STOP.set()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


@contextlib.contextmanager
def signals() -> Iterator[None]:
    """While the block runs, SIGINT raises KeyboardInterrupt and SIGTERM :class:`Terminated` in the
    main thread, and both set :data:`STOP` for the other threads; Prefect's run loggers are muted
    once the run stops.  Elsewhere than the main thread, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    quiet = _Quiet()
    for name in _PREFECT_RUN_LOGGERS:
        logging.getLogger(name).addFilter(quiet)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        for name in _PREFECT_RUN_LOGGERS:
            logging.getLogger(name).removeFilter(quiet)
        STOP.clear()
        _MUTE.clear()


def quiet_worker() -> None:
    """Initializer of a worker process: Ctrl-C (sent to the whole process group by a terminal) is
    the parent's to handle — no traceback per worker — and SIGTERM ends it at once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def cause_of(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "SIGINT"
    if isinstance(exc, Terminated):
        return "SIGTERM"
    return "error"


def _what(cause: str, exc: BaseException) -> str:
    if cause == "SIGINT":
        return "被中断（Ctrl+C）"
    if cause == "SIGTERM":
        return "被终止（SIGTERM）"
    return f"出错（{error_text(exc)}）"


@dataclass
class Tracker:
    """How far a run got: the stage it is in, the files it found, the validated outcome."""

    inputs: list[str] = field(default_factory=list)
    stage: str = "discover"
    # (name as in the outputs, county) of each file found: any collection of them, iterated only
    # when the run stops before its validation (an inbox run passes a view of its listing)
    files: Collection[tuple[str, str | None]] | None = None
    outcome: RunOutcome | None = None
    published: Path | None = None  # the completed run folder, once renamed (then only latest moves)

    def at(self, stage: str) -> None:
        self.stage = stage

    def found(self, files: Collection[tuple[str, str | None]]) -> None:
        self.files = files

    def validated(self, outcome: RunOutcome) -> None:
        self.outcome = outcome


def incomplete_outcome(tracker: Tracker, exc: BaseException) -> RunOutcome | None:
    """The outcome to write for a run that stopped at ``tracker.stage`` (None: no file found yet)."""
    from nianbao.catalogue import ruleset_version
    from nianbao.run.status import now_iso

    cause = cause_of(exc)
    stage_zh = STAGES_ZH.get(tracker.stage, tracker.stage)
    outcome = tracker.outcome
    if outcome is None:
        if tracker.files is None:
            return None
        reason = f"本次运行在“{stage_zh}”阶段{_what(cause, exc)}，未处理该文件；下次运行将处理"
        files = [
            FileOutcome(name, "", NOT_PROCESSED, reason, None, None, None, county=county)
            for name, county in tracker.files
        ]
        info = RunInfo(discovered=len(files))
        outcome = RunOutcome(files, [], [], ruleset_version(), now_iso(), inputs=list(tracker.inputs), info=info)
        done = "尚未校验任何文件，全部文件列为“未处理”"
    else:
        done = f"已校验的 {outcome.n_files} 个文件的结果见本报告"
    notice = f"本次运行未完成：在“{stage_zh}”阶段{_what(cause, exc)}。{done}；下次运行将完成全部校验。"
    outcome.info = replace(
        outcome.info,
        complete=False,
        incomplete=Unfinished(tracker.stage, cause, notice),
        exit_code=EXIT_CODES[cause],
    )
    return outcome


def write_incomplete(outcome: RunOutcome, folder: Path, stage: str, views: Views) -> None:
    """The contract files first (``submissions.json``, ``findings.json``, ``run.json``), then the
    other views — unless the views themselves were being written when the run stopped (they failed,
    or the user wants out): then a stale overview page is removed rather than left claiming more."""
    folder.mkdir(parents=True, exist_ok=True)
    views.contract(outcome, folder)
    if stage == "write":
        (folder / "index.html").unlink(missing_ok=True)
        return
    try:
        views.write_all(outcome, folder)
    except Exception:  # the contract files are written; the pages are a view of them
        log.warning("未完成运行的报告页面未能写出", exc_info=True)
        (folder / "index.html").unlink(missing_ok=True)


@contextlib.contextmanager
def incomplete_run(
    tracker: Tracker, write: Callable[[RunOutcome], Path], passthrough: tuple[type[BaseException], ...] = ()
) -> Iterator[Tracker]:
    """Run the block; when it stops early (any exception, Ctrl-C, SIGTERM), write what was done so
    far with ``write`` (which returns the folder) and raise :class:`Incomplete` from the cause;
    ``passthrough``: exceptions that are not a stop (the CLI's own exit).

    A second Ctrl-C while the incomplete results are written stops that too (the contract files
    are written first)."""
    try:
        yield tracker
    except Incomplete:
        raise
    except BaseException as exc:
        if isinstance(exc, (GeneratorExit, SystemExit, *passthrough)):
            raise
        _MUTE.set()  # (cleared by signals(); without it no filter reads it)
        path: Path | None = None
        if tracker.published is None:
            outcome = incomplete_outcome(tracker, exc)
            if outcome is not None:
                try:
                    path = write(outcome)
                except Exception:
                    log.warning("未完成运行的结果未能写出", exc_info=True)
        raise Incomplete(cause_of(exc), tracker.stage, path, exc, tracker.published) from exc


def message(inc: Incomplete, *, latest: Path | None = None) -> str:
    """The one Chinese line the CLI prints for a run that did not finish."""
    head = {"SIGINT": "已中断（Ctrl+C）", "SIGTERM": "已终止（SIGTERM）"}.get(inc.cause)
    if head is None:
        head = f"错误：运行未能完成（{error_text(inc.error)}）"
    stage_zh = STAGES_ZH.get(inc.stage, inc.stage)
    tail = f"；latest 仍指向上一次完成的运行（{latest}）" if latest is not None else ""
    if inc.published is not None:  # (latest.json may have moved already: no word on where latest is)
        return f"{head}：报告已完整写出 {inc.published}，但 latest 尚未更新；下次运行将更新。"
    if inc.path is None:
        return f"{head}：在“{stage_zh}”阶段停止，尚未找到报告文件，未写出任何结果{tail}。"
    return (
        f"{head}：本次运行未完成（停在“{stage_zh}”阶段），已完成的部分写入 {inc.path}"
        f"（run.json 中 complete 为 false）{tail}。"
    )


__all__ = [
    "STOP",
    "Incomplete",
    "RunOutcome",
    "Stopped",
    "Terminated",
    "Tracker",
    "check_stop",
    "incomplete_outcome",
    "incomplete_run",
    "message",
]
