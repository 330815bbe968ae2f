"""Run folders under the reports root: ``<out>/<run date>[-N]/`` and the ``latest`` pointer.

A run writes into a hidden staging folder ``<out>/.run-<date>-<pid>-<random>/`` and renames it to
its final name only when every view is written, so a run folder that exists is always complete.
Several runs on one day get ``2026-12-01``, ``2026-12-01-2``, ``2026-12-01-3`` … (date in
Asia/Shanghai).  ``latest`` (a relative symlink, and ``latest.json`` for tools that do not follow
symlinks) then moves to it, each by an atomic rename — only ever to a completed run.

A run interrupted (Ctrl-C, SIGTERM) or failing in one stage renames its staging folder, holding
what it had done so far marked incomplete, to ``<date>[-N]-incomplete``: never a completed run,
never ``latest``; the next run completes the work.  A run killed half way (SIGKILL) leaves only
its staging folder, removed by the next run (the staging folder's lock is held by its live run,
so a running run's folder is never removed).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from nianbao.domain.clock import TZ as TZ  # Beijing time (re-exported for the flow)
from nianbao.io.atomic import write_json
from nianbao.run.hooks import checkpoint as checkpoint  # the run's named points (re-exported)

STAGING_PREFIX = ".run-"
LATEST = "latest"
LATEST_JSON = "latest.json"
INCOMPLETE_SUFFIX = "-incomplete"  # the folder of a run that did not finish: what it had done so far
_RUN_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:-(\d+))?$")


def run_date(now: datetime | None = None) -> str:
    return (now or datetime.now(TZ)).astimezone(TZ).strftime("%Y-%m-%d")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class Staging:
    """The staging folder of one run (holds its lock while the run lives)."""

    def __init__(self, out: Path, date: str) -> None:
        self.out = out
        self.date = date
        self.path = out / f"{STAGING_PREFIX}{date}-{os.getpid()}-{secrets.token_hex(4)}"
        self._lock: IO[str] | None = None

    def __enter__(self) -> Staging:
        self.out.mkdir(parents=True, exist_ok=True)
        clean_stale(self.out)
        self.path.mkdir()
        self._lock = (self.path / ".lock").open("a")
        fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        if self.path.exists():  # not published (an error): nothing half-written stays behind
            shutil.rmtree(self.path, ignore_errors=True)

    @property
    def gx_dir(self) -> Path:
        """Where the batch expectations keep their Data Docs (``<run>/gx``)."""
        return self.path / "gx"


def publish(staging: Path, out: Path, date: str, *, incomplete: bool = False) -> Path:
    """Rename a finished staging folder to the run's final name (``<date>``, ``<date>-2`` …); the
    results of a run that did not finish (:mod:`nianbao.run.interrupt`) get ``<name>-incomplete``,
    which is never a completed run and never ``latest``."""
    with _locked(out / ".runs.lock"):
        final = out / (next_run_name(out, date) + (INCOMPLETE_SUFFIX if incomplete else ""))
        (staging / ".lock").unlink(missing_ok=True)
        os.rename(staging, final)
    return final


def clean_stale(out: Path) -> list[Path]:
    """Remove staging folders of runs that died (their lock is free)."""
    removed = []
    for p in out.glob(f"{STAGING_PREFIX}*"):
        if not p.is_dir():
            continue
        lock = p / ".lock"
        try:
            with lock.open("a") as f:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live run
        except OSError:
            pass
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    for p in out.glob(f".{LATEST}*.tmp"):
        with contextlib.suppress(OSError):
            p.unlink()
    return removed


def next_run_name(out: Path, date: str) -> str:
    taken = {p.name.removesuffix(INCOMPLETE_SUFFIX) for p in out.iterdir()} if out.is_dir() else set()
    if date not in taken:
        return date
    n = 2
    while f"{date}-{n}" in taken:
        n += 1
    return f"{date}-{n}"


def completed_runs(out: Path) -> list[Path]:
    """Completed run folders, oldest first."""
    if not out.is_dir():
        return []
    runs = []
    for p in out.iterdir():
        m = _RUN_NAME.match(p.name)
        if m and p.is_dir() and not p.is_symlink():
            runs.append((m.group(1), int(m.group(2) or 1), p))
    return [p for _d, _n, p in sorted(runs)]


def latest(out: Path) -> Path | None:
    """The run ``latest`` points at (None before the first completed run)."""
    link = out / LATEST
    if link.is_symlink() or link.is_dir():
        target = link.resolve()
        if target.is_dir():
            return target
    j = out / LATEST_JSON
    if j.is_file():
        with contextlib.suppress(ValueError, OSError, KeyError, TypeError):
            p = out / json.loads(j.read_text(encoding="utf-8"))["run"]
            if p.is_dir():
                return p
    return None


def move_latest(out: Path, run: Path, info: dict[str, Any] | None = None) -> None:
    """Point ``latest`` (symlink) and ``latest.json`` at a completed run, atomically."""
    write_json(out / LATEST_JSON, {"run": run.name, **(info or {})})
    checkpoint("latest-json")
    tmp = out / f".{LATEST}.{secrets.token_hex(4)}.tmp"
    os.symlink(run.name, tmp)
    os.replace(tmp, out / LATEST)
