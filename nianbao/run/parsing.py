"""The parse step's engine: submissions → parsed reports, in a process pool when there are many."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from nianbao.domain.model import ParsedReport, unreadable
from nianbao.read.load import load_file
from nianbao.run.hooks import checkpoint
from nianbao.run.inputs import Submission
from nianbao.run.interrupt import check_stop, quiet_worker

PARALLEL_MIN_FILES = 400


def load_one(sub: Submission) -> ParsedReport:
    if sub.problem is not None:
        return unreadable(sub.name, "", 0, sub.problem)
    return load_file(sub.path, sub.name)


def _load_chunk(subs: Sequence[Submission]) -> list[ParsedReport]:
    checkpoint("parse-chunk")  # a test hook (nianbao.run.hooks), in the worker process
    return [load_one(s) for s in subs]


def load_all(
    subs: Sequence[Submission],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ParsedReport]:
    """Parse every submission; in a process pool (both cores) when there are many."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if multiprocessing.current_process().daemon:
        workers = 1  # e.g. a Dask worker process: daemonic processes may not have children
    if workers <= 1 or len(subs) < PARALLEL_MIN_FILES:
        reports = []
        for s in subs:
            check_stop()  # a Prefect parse task's thread: the run was stopped (Ctrl-C, SIGTERM)
            reports.append(load_one(s))
            if progress:
                progress(1)
        return reports
    size = max(50, len(subs) // (workers * 8))
    chunks = [subs[i : i + size] for i in range(0, len(subs), size)]
    out: list[ParsedReport] = []
    # The parsed reports are long-lived: the cyclic GC rescanning them on every generation-2 pass
    # costs seconds at 100,000 reports and frees nothing, so it is paused while they arrive.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        ex = ProcessPoolExecutor(max_workers=workers, initializer=quiet_worker)
        try:
            for part in ex.map(_load_chunk, chunks):
                check_stop()
                out.extend(part)
                if progress:
                    progress(len(part))
        except BaseException:  # Ctrl-C, SIGTERM, a broken pool: the run stops now, not after the queue
            _stop_pool(ex)
            raise
        ex.shutdown()
    finally:
        if was_enabled:
            gc.enable()
        gc.freeze()
    return out


def _stop_pool(ex: ProcessPoolExecutor) -> None:
    """Drop the queued chunks and end the workers at once (``shutdown`` alone would wait for the
    chunks they are parsing; the executor keeps its processes in ``_processes``)."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
