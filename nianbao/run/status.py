"""The state of the nightly runs at the reports root: ``<out>/status.json`` and ``<out>/index.html``.

A run folder is static: its overview cannot know, when opened, whether a newer run should exist.
So every run *attempt* records itself at the reports root — started, completed or failed — and
rewrites a small page there, the page auditors bookmark:

- the last completed run (its time, its counts, a link to ``latest/index.html``);
- the last attempt when it did not complete: 最近一次运行失败 (with the time and Prefect's reason)
  or 最近一次运行未完成 (a run still going, or killed before it could record anything);
- plainly, the date of the data shown, and what it means when that is not last night's.

A nightly run that never starts (the Prefect server down at the scheduled time) records nothing:
the page then shows an old date, and the Prefect automation in ``deploy/automations.yaml``
(no completed nightly run within 26 hours) is what notifies the ops engineer.

Writers: the flows' state hooks (``flows/nightly.py``: running, failed, crashed), :func:`attempt`
around a run without Prefect (``nianbao run --no-prefect``), ``nianbao run`` when it finds no
Prefect to run on, and the publish stage (completed).  Each write is atomic; a failure to write
the status never fails a run.
"""

from __future__ import annotations

import contextlib
import html
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from nianbao.domain import clock
from nianbao.domain.clock import TZ, now_iso
from nianbao.io.atomic import write_json, write_text

STATUS_JSON = "status.json"
INDEX_HTML = "index.html"
STALE_AFTER = timedelta(hours=26)  # a nightly run a day apart, plus two hours of slack
RUNNING, COMPLETED, FAILED = "running", "completed", "failed"


def zh_time(iso: str | None) -> str:
    """``2026-12-07T08:12:32+08:00`` → ``2026年12月7日 08:12`` (Beijing time); ``—`` when there is none."""
    return clock.zh_time(iso, empty="—")


def read(out: Path) -> dict[str, Any]:
    """The recorded status (an empty dict before the first record, or when unreadable)."""
    with contextlib.suppress(OSError, ValueError):
        data = json.loads((out / STATUS_JSON).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    return {}


def in_use(out: Path) -> bool:
    """A reports root with something in it (earlier runs, results so far, an earlier status): a
    folder this run created and left empty is removed by the CLI, so a start or a failure with
    nothing written records nothing (nianbao.cli.interrupt)."""
    if (out / STATUS_JSON).is_file():
        return True
    with contextlib.suppress(OSError):
        return any(not p.name.startswith(".") and p.name != INDEX_HTML for p in out.iterdir())
    return False


def record(
    out: Path,
    state: str,
    *,
    run: str | None = None,
    started_at: str | None = None,
    counts: dict[str, int] | None = None,
    message: str | None = None,
    flow_run: str | None = None,
    now: str | None = None,
) -> dict[str, Any]:
    """Record a run attempt's state at the reports root and rewrite its page (never raises).

    Only a completed run creates the reports root: a run that starts or fails before anything was
    written leaves no folder behind where there was none (nianbao.cli.interrupt)."""
    if state != COMPLETED and not in_use(out):
        return {}
    at = now or now_iso()
    status = read(out)
    attempt: dict[str, Any] = {"state": state, "at": at}
    if message:
        attempt["message"] = message[:500]
    if flow_run:
        attempt["flow_run"] = flow_run
    status["last_attempt"] = attempt
    if state == COMPLETED:
        status["last_completed"] = {"run": run, "started_at": started_at or at, "at": at, "counts": counts or {}}
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / STATUS_JSON, status)
        write_text(out / INDEX_HTML, render(status))
    except OSError:
        pass
    return status


@contextlib.contextmanager
def attempt(out: Path) -> Iterator[None]:
    """Around a run without Prefect's hooks (``nianbao run --no-prefect``): recorded as running
    when it starts, as failed (with the reason, in Chinese) when it raises; its publish stage
    records the completion."""
    record(out, RUNNING)
    try:
        yield
    except BaseException as e:
        why = "运行被中断（Ctrl+C）" if isinstance(e, KeyboardInterrupt) else str(e) or type(e).__name__
        record(out, FAILED, message=why)
        raise


def is_stale(status: dict[str, Any], now: datetime | None = None) -> bool:
    """No completed run within :data:`STALE_AFTER` (or none at all)."""
    done = (status.get("last_completed") or {}).get("at")
    if not done:
        return True
    try:
        t = datetime.fromisoformat(done)
    except ValueError:
        return True
    return (now or datetime.now(TZ)) - t > STALE_AFTER


def _counts_text(counts: dict[str, Any]) -> str:
    if not counts:
        return ""
    return (
        f"共 {counts.get('files', 0)} 份报告，错误 {counts.get('errors', 0)} 条，"
        f"警告 {counts.get('warnings', 0)} 条，无法读取 {counts.get('unreadable', 0)} 份。"
    )


def render(status: dict[str, Any]) -> str:
    """The reports root page (plain HTML, no script, no network)."""
    e = html.escape
    done = status.get("last_completed") or {}
    attempt = status.get("last_attempt") or {}
    parts: list[str] = []
    if attempt.get("state") == FAILED:
        why = f"原因：{e(attempt['message'])}" if attempt.get("message") else ""
        parts.append(
            f'<div class="alert" id="run-failed"><b>最近一次运行失败</b>（{e(zh_time(attempt.get("at")))}）。'
            f"{why}下面仍是上一次完成的运行的报告；请通知运维人员。</div>"
        )
    elif attempt.get("state") == RUNNING:
        parts.append(
            f'<div class="alert warn" id="run-unfinished"><b>最近一次运行未完成</b>：'
            f"开始于 {e(zh_time(attempt.get('at')))}，尚未结束（正在运行，或已中断）。"
            f"下面是上一次完成的运行的报告。</div>"
        )
    if done:
        when = zh_time(done.get("started_at"))
        parts.append(
            f'<p class="big" id="data-date">当前报告的数据来自 <b>{e(when)}</b> 的运行。</p>'
            f"<p>{e(_counts_text(done.get('counts') or {}))}</p>"
            '<p><a href="latest/index.html" id="latest-link">打开最新报告（latest/index.html）</a></p>'
            '<p class="muted">夜间校验每天运行一次：如果上面的日期不是今天（或昨夜），说明夜间校验没有按时运行，'
            "报告中的数据不是最新的，请通知运维人员。</p>"
        )
    else:
        parts.append('<p class="big" id="data-date">还没有完成过一次运行，暂无报告。</p>')
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>政府信息公开工作年度报告 · 数据质量报告 · 运行状态</title>
<style>
body {{ margin: 0; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
  sans-serif; color: #1d232b; background: #f6f7f9; line-height: 1.6; }}
header {{ background: #23344d; color: #fff; padding: 14px 28px; }} h1 {{ margin: 0; font-size: 1.4rem; }}
main {{ padding: 18px 28px; max-width: 900px; }} .big {{ font-size: 1.2rem; }} .muted {{ color: #5b6472; }}
.alert {{ background: #fde4e2; border: 1px solid #b42318; color: #7a1a12; padding: 10px 14px; border-radius: 4px; }}
.alert.warn {{ background: #fff1c2; border-color: #9a6700; color: #5c3d00; }}
</style>
</head>
<body>
<header><h1>政府信息公开工作年度报告 · 数据质量报告</h1></header>
<main>
{body}
<p class="muted">本页更新于 {e(zh_time(attempt.get("at")))}（每次运行开始、完成或失败时更新）。</p>
</main>
</body>
</html>
"""
