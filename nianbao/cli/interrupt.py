"""``nianbao validate`` and ``nianbao run`` stopped early (Ctrl-C, SIGTERM, an error in a stage):
one Chinese line on stderr, no traceback, the exit code of :mod:`nianbao.run.interrupt` (130, 143, 2),
the results so far written and marked incomplete, and no empty output folder left behind."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import typer

from nianbao.cli.common import err
from nianbao.run import interrupt


def _say(line: str) -> None:
    err.print(line)


def _remove_if_empty(folder: Path, existed: bool) -> None:
    """The output folder this command created, when nothing was written into it."""
    if existed or not folder.is_dir():
        return
    with contextlib.suppress(OSError):
        if not any(p.is_file() for p in folder.rglob("*")):
            shutil.rmtree(folder)


def _latest(out: Path) -> Path | None:
    from nianbao.run.folders import latest

    return latest(out)


@contextlib.contextmanager
def validate_guard(track: interrupt.Tracker, target: Path, existed: bool) -> Iterator[None]:
    """Around ``nianbao validate``'s stages: stopped early, the results so far go to ``target``."""

    def write(outcome: interrupt.RunOutcome) -> Path:
        from nianbao.report.views import REPORT_VIEWS

        interrupt.write_incomplete(outcome, target, track.stage, REPORT_VIEWS)
        return target

    try:
        with interrupt.signals(), interrupt.incomplete_run(track, write, passthrough=(typer.Exit,)):
            yield
    except interrupt.Incomplete as inc:
        if inc.path is None:
            _remove_if_empty(target, existed)
        _say(interrupt.message(inc))
        raise typer.Exit(inc.exit_code) from None
    except (KeyboardInterrupt, interrupt.Terminated) as e:  # while the incomplete results were written
        _remove_if_empty(target, existed)
        _say(_bare(e))
        raise typer.Exit(interrupt.EXIT_CODES[interrupt.cause_of(e)]) from None


def _bare(e: BaseException) -> str:
    head = "已中断（Ctrl+C）" if isinstance(e, KeyboardInterrupt) else "已终止（SIGTERM）"
    return f"{head}：本次运行未完成，未写出结果。"


def run_guard(
    out: Path, existed: bool, on_error: Callable[[BaseException], None]
) -> contextlib.AbstractContextManager[None]:
    """Around ``nianbao run``: the stages raise :class:`nianbao.run.interrupt.Incomplete` (their
    results so far already written to ``<out>/<date>[-N]-incomplete``); ``on_error`` may turn an
    expected error (a bad registry) into the command's own message first."""

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            with interrupt.signals():
                yield
        except interrupt.Incomplete as inc:
            if inc.cause == "error":
                on_error(inc.error)
            _remove_if_empty(out, existed)
            _say(interrupt.message(inc, latest=_latest(out)))
            raise typer.Exit(inc.exit_code) from None
        except (KeyboardInterrupt, interrupt.Terminated) as e:  # before the stages (start-up)
            _remove_if_empty(out, existed)
            _say(_bare(e))
            raise typer.Exit(interrupt.EXIT_CODES[interrupt.cause_of(e)]) from None

    return guard()
