"""Test hooks: named points of a run where a test can kill, fail or pause it, set by environment.

Each variable takes a comma-separated list of point names (``discovering``, ``discovered``,
``parse-chunk`` — in a parse worker process —, ``parsed``, ``store-partition``, ``stored``,
``validated``, ``views``, ``views-written``, ``run-published``, ``latest-json``,
``latest-moved``; see :mod:`nianbao.run.steps` and :mod:`nianbao.run.validation`):

- ``NIANBAO_CRASH_AT`` — the run kills itself there with SIGKILL (``tests/test_crash.py``);
- ``NIANBAO_FAIL_AT`` — a stage raises ``RuntimeError`` there (a crash in one stage);
- ``NIANBAO_PAUSE_AT`` — the run creates the file ``NIANBAO_PAUSE_MARK`` (when set) and sleeps
  there for up to 60 s, so that a test can send it a signal at a known point (the signal ends
  the pause).

Unset in normal runs (one environment lookup per point).  ``tests/test_interrupt.py`` uses them.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from nianbao.run.stopflag import STOP, check_stop

PAUSE_S = 60.0


def _at(var: str, name: str) -> bool:
    want = os.environ.get(var)
    return bool(want) and name in want.split(",")  # type: ignore[union-attr]


def checkpoint(name: str) -> None:
    """A named point of a run (see the module docstring)."""
    if _at("NIANBAO_CRASH_AT", name):
        os.kill(os.getpid(), signal.SIGKILL)
    if _at("NIANBAO_FAIL_AT", name):
        raise RuntimeError(f"test hook: failure at {name}")
    if _at("NIANBAO_PAUSE_AT", name):
        mark = os.environ.get("NIANBAO_PAUSE_MARK")
        if mark:
            Path(mark).write_text(name, encoding="utf-8")
        end = time.monotonic() + PAUSE_S
        while time.monotonic() < end and not STOP.is_set():  # a signal ends the pause
            time.sleep(0.05)
        check_stop()
