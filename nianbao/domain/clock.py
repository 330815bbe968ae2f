"""Beijing time, the one time zone of the project: ``TZ``, the run's ``now_iso`` and the auditor's wording.

The auditors read every time in Beijing time (``2026年12月7日 08:12``); the run records its times
as ISO strings with the +08:00 offset.  A plain utility of the domain layer: everything may use it.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def now_iso() -> str:
    """The current time in Beijing time, to the second: ``2026-12-07T08:12:32+08:00``."""
    return datetime.now(TZ).isoformat(timespec="seconds")


def zh_date(d: date) -> str:
    """A date as the auditor reads it: ``2026年12月7日``."""
    return f"{d.year}年{d.month}月{d.day}日"


def zh_minute(t: datetime) -> str:
    """A time to the minute as the auditor reads it, as given (convert to Beijing time first):
    ``2026年12月7日 08:12``."""
    return f"{zh_date(t)} {t.hour:02d}:{t.minute:02d}"


def zh_time(iso: str | None, empty: str = "") -> str:
    """An ISO time in Beijing time, to the minute: ``2026-12-07T08:12:32+08:00`` → ``2026年12月7日 08:12``
    (a date alone: ``2026年12月7日``); ``empty`` when there is none, the text unchanged when it is
    not a time."""
    if not iso:
        return empty
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if len(iso) <= 10:
        return zh_date(t)
    if t.tzinfo is not None:
        t = t.astimezone(TZ)
    return zh_minute(t)
