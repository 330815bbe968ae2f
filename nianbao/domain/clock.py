"""Beijing time, the one time zone of the project: ``TZ`` and the run's ``now_iso``.

The auditors read every time in Beijing time (``2026年12月7日 08:12``); the run records its times
as ISO strings with the +08:00 offset.  A plain utility of the domain layer: everything may use it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def now_iso() -> str:
    """The current time in Beijing time, to the second: ``2026-12-07T08:12:32+08:00``."""
    return datetime.now(TZ).isoformat(timespec="seconds")
