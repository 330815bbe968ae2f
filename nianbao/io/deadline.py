"""A time limit on pure-Python parsing in this process (the guard's worker process enforces it
elsewhere)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ParseTimeout(Exception):
    """The time limit of :func:`deadline` has passed."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Interrupt pure-Python parsing after ``seconds`` (main thread only; elsewhere the guard's
    worker process enforces the limit)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(_sig: int, _frm: object) -> None:
        raise ParseTimeout

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
