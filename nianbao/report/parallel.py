"""Both cores for the views of a large run: this process and one forked helper share the work.

The views of 100,000 reports are ~16 CPU-seconds of pure Python (Jinja pages, the workbook), all
of it reading one in-memory outcome.  :func:`run_shared` forks one helper process, which inherits
that outcome (copy-on-write: nothing is pickled), and the two claim *units* of work — the
workbook, ``index.html``, a first run's contract files, chunks of report pages — from a shared
counter until none is left.  This process first
does its own work (what must not run twice or must come last stays here), then claims units too.

The helper is used only when a second core is free (:func:`cores`): two processes do ~15 % more
work in total than one (copy-on-write faults, two template caches), which pays when the second
core would otherwise idle and costs when it is busy with other work.

Fork-safety: the helper only renders and writes files — no logging, no printing, no threads, no
network — and leaves with ``os._exit`` (no atexit handlers, no flushing of inherited buffers).  It
dies with this process (``PR_SET_PDEATHSIG``), so a run killed with SIGKILL leaves no orphan
writing into its folder.  Every unit is written atomically, so a unit done twice is harmless:
when the helper fails (any exception, a crash, or no exit within :data:`HELPER_TIMEOUT` after the
last unit was claimed) this process runs every unit the helper did not report done.  Without
``os.fork`` (or with ``NIANBAO_VIEW_PROCESSES=1``, or on one core) everything runs here, in order;
``NIANBAO_VIEW_PROCESSES=2`` forks the helper whatever the size (:func:`use_helper`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence

HELPER_TIMEOUT = 300.0  # seconds to wait for the helper once this process has no unit left
ENV = "NIANBAO_VIEW_PROCESSES"
FREE_CORE = 0.7  # idle cores (besides this process's) that count as a free second core


@contextlib.contextmanager
def frozen_gc() -> Iterator[None]:
    """The outcome's objects out of the garbage collector's sight while the views run.

    The views only read the outcome (tens of millions of objects for 100,000 reports) and make
    short-lived strings and dicts; without this, each of the collector's periodic full passes
    walks the whole outcome — seconds per pass at that size.  The objects stay frozen afterwards,
    as the run's own steps leave theirs (nianbao.run.steps, memo, validation: the outcome lives
    until the run ends).  Whether anything was frozen before is not asked:
    ``gc.get_freeze_count()`` walks every frozen object (~0.03 s at 100,000 reports), and
    unfreezing what a step froze would hand the next full collection all of it."""
    gc.freeze()
    yield


def use_helper(pages: int, minimum: int) -> bool:
    """Whether to fork a helper for ``pages`` report pages: ``NIANBAO_VIEW_PROCESSES=2`` always
    (whatever the size — that is how the tests and a dedicated machine ask for it), ``=1`` never,
    otherwise with at least ``minimum`` pages when :func:`cores` finds a second core free."""
    want = os.environ.get(ENV, "").strip()
    if want == "1":
        return False
    if want == "2":
        return hasattr(os, "fork")
    return pages >= minimum and cores() > 1


def cores() -> int:
    """The processes the views use: 1, or 2 when there is a second core and it is free now.

    ``NIANBAO_VIEW_PROCESSES=1|2`` decides instead.  "Free now" is measured, not assumed: the
    helper is used when at least :data:`FREE_CORE` of a core stood idle over the last 0.1 s
    (``/proc/stat``) besides the one this process is using."""
    want = os.environ.get(ENV, "").strip()
    if want.isdigit():
        return max(1, min(2, int(want)))
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    if n < 2 or not hasattr(os, "fork"):
        return 1
    idle = idle_cores()
    return 2 if idle is None or idle >= FREE_CORE else 1


def _read_stat() -> tuple[int, int]:
    """(all ticks, idle + iowait ticks) of the machine's cores, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        parts = f.readline().split()
    ticks = [int(x) for x in parts[1:]]
    return sum(ticks), ticks[3] + (ticks[4] if len(ticks) > 4 else 0)


# (monotonic time, process CPU time, /proc/stat ticks) when the views started (mark_idle)
_mark: tuple[float, float, tuple[int, int]] | None = None


def mark_idle() -> None:
    """Start measuring how idle the cores are (the views' writer does, first thing): when
    :func:`idle_cores` is asked later — after the contract files and the shared preparation — the
    interval since the mark is the sample, and no time is spent sleeping to take one."""
    global _mark
    try:
        _mark = (time.monotonic(), time.process_time(), _read_stat())
    except (OSError, ValueError, IndexError):
        _mark = None


def idle_cores(sample: float = 0.1) -> float | None:
    """How many cores stood idle over ``sample`` seconds (None where /proc/stat is not readable).

    After :func:`mark_idle`, the interval since the mark is the sample when it is long enough
    (this process's own CPU time in it counted as idle: the measure is what it would have been had
    this process slept, as without a mark); otherwise this process sleeps ``sample`` seconds."""
    global _mark
    mark, _mark = _mark, None
    try:
        if mark is not None and time.monotonic() - mark[0] >= sample / 2:
            t0, cpu0, (total0, idle0) = mark
            total1, idle1 = _read_stat()
            elapsed, own = time.monotonic() - t0, time.process_time() - cpu0
        else:
            total0, idle0 = _read_stat()
            time.sleep(sample)
            total1, idle1 = _read_stat()
            elapsed = own = 0.0
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    idle = (idle1 - idle0) / (total1 - total0) * (os.cpu_count() or 1)
    return idle + (min(1.0, own / elapsed) if elapsed > 0 else 0.0)


def run_shared(units: Sequence[Callable[[], object]], own: Callable[[], object], *, helper: bool) -> bool:
    """Run ``own`` here and every unit once, shared with a forked helper when ``helper`` is true.

    Returns whether a helper was used.  Exceptions of ``own`` and of units run here propagate
    (the helper is killed first); a failing helper only costs time."""
    if not helper or not units or not hasattr(os, "fork"):
        own()
        for u in units:
            u()
        return False
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("q", 0)
    done = ctx.Array("b", len(units), lock=False)

    def claim() -> int | None:
        with counter.get_lock():
            i = int(counter.value)
            if i >= len(units):
                return None
            counter.value = i + 1
            return i

    parent = os.getpid()
    tempfile.gettempdir()  # takes a module lock the first time: not in the helper
    # the helper's garbage collector then leaves the inherited objects (and their pages) alone;
    # they stay frozen here too (as frozen_gc leaves them: no count of what was frozen before)
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        own()
        for u in units:
            u()
        return False
    if pid == 0:  # the helper
        code = 1
        try:
            _die_with(parent)
            while (i := claim()) is not None:
                units[i]()
                done[i] = 1
            code = 0
        finally:
            os._exit(code)
    try:
        own()
        while (i := claim()) is not None:
            units[i]()
            done[i] = 1
    except BaseException:
        _kill(pid)
        raise
    if not _wait(pid, HELPER_TIMEOUT):
        _kill(pid)
    for i, u in enumerate(units):  # what the helper claimed but did not finish (it failed)
        if not done[i]:
            u()
            done[i] = 1
    return True


def _die_with(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux); leave if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _wait(pid: int, timeout: float) -> bool:
    """Reap the helper; False when it did not exit with status 0 within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return False
        if got == pid:
            return os.waitstatus_to_exitcode(status) == 0
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)
