"""The run's stop flag: set by the signal handlers of :func:`nianbao.run.interrupt.signals`, checked by
work running outside the main thread (a Prefect parse task, a test hook's pause) at its next check.

Apart from :mod:`nianbao.run.interrupt` (which re-exports these) so that the low-level points of a run
(:mod:`nianbao.run.hooks`) can see a stop without importing the run's interruption handling.
"""

from __future__ import annotations

import threading


class Stopped(BaseException):
    """Raised in a worker thread (a Prefect task's) that sees :data:`STOP`: the run is stopping."""


# Set by the signal handlers of interrupt.signals(): work running outside the main thread (a Prefect
# parse task) stops at its next check (nianbao.run.parsing.load_all, per file or per chunk).
STOP = threading.Event()


def check_stop() -> None:
    """Raise :class:`Stopped` when the run is stopping (outside the main thread: there the signal
    handler has raised already)."""
    if STOP.is_set() and threading.current_thread() is not threading.main_thread():
        raise Stopped()
