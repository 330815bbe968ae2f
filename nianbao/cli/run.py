"""``nianbao run`` and ``nianbao schedule``: the Prefect flows from the command line.

Registered on the ``nianbao`` app by :mod:`nianbao.cli.app`.  Messages for users are in 简体中文.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nianbao.cli.common import MAX_WORKERS, app, err, out_console
from nianbao.cli.errors import fail, need_dir, need_file, need_out_dir
from nianbao.domain.oserrors import error_text, os_error_text

if TYPE_CHECKING:
    from nianbao.run.steps import RunResult

SLOW_START_NOTICE_S = 3.0


def _start_embedded_prefect() -> tuple[object | None, str | None]:
    """The Prefect API to use: a configured server, or nianbao's embedded one (started here)."""
    from nianbao.run import prefect_settings as ps

    ps.apply()
    url = ps.configured_api_url()
    if url:
        if not ps.reachable(url):
            fail(
                f"连接不上 Prefect 服务器 {url}：请先启动它（prefect server start），"
                "或取消 PREFECT_API_URL 设置以使用内置的 Prefect 服务"
            )
        return None, url
    server = ps.EphemeralServer()
    try:
        server.start()
    except OSError as e:
        fail(f"内置 Prefect 服务无法启动：{os_error_text(e)}")
    _EMBEDDED.append(server)
    return server, None


def _wait_embedded(server: object) -> None:
    from nianbao.run import prefect_settings as ps

    assert isinstance(server, ps.EphemeralServer)
    done = threading.Event()
    text = start_notice(ps.first_use())

    def notice() -> None:
        if not done.wait(SLOW_START_NOTICE_S):
            err.print(text)

    threading.Thread(target=notice, daemon=True).start()
    try:
        url = server.wait_ready()
    except RuntimeError as e:
        done.set()
        fail(str(e))
    done.set()
    ps.use_ephemeral_server(server, url)


def start_notice(first_use: bool) -> str:
    """What a slow start of the embedded Prefect service prints: the database is created only the
    first time, so only then does it say so."""
    if first_use:
        return "正在启动内置 Prefect 服务…（首次使用，需创建其数据库，约 15 秒）"
    return "正在启动内置 Prefect 服务…"


@app.command()
def run(
    root: Annotated[Path, typer.Option("--root", help="报告收件目录（<年度>/<县>/<文件>）")] = Path("data/submissions"),
    out: Annotated[Path, typer.Option("--out", help="报告输出目录（每次运行写入 <日期>/ 子目录）")] = Path("reports"),
    year: Annotated[int | None, typer.Option("--year", help="只重新读取该年度的报告")] = None,
    county: Annotated[str | None, typer.Option("--county", help="只重新读取该县（区）的报告")] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="只重新读取该机关的报告（全称或简称）")] = None,
    store: Annotated[
        Path | None, typer.Option("--store", help="解析结果存储目录（默认 <收件目录>/.nianbao/store）")
    ] = None,
    registry: Annotated[Path | None, typer.Option("--registry", help="应报送机关名单 registry.csv")] = None,
    dask: Annotated[
        str | None, typer.Option("--dask", help="Dask 调度器地址（默认取环境变量 NIANBAO_DASK_ADDRESS）")
    ] = None,
    use_prefect: Annotated[
        bool, typer.Option("--prefect/--no-prefect", help="经 Prefect 流程运行（默认），或直接运行各步骤")
    ] = True,
    workers: Annotated[
        int | None, typer.Option("--workers", help="解析进程数（默认 CPU 核数）", min=1, max=MAX_WORKERS)
    ] = None,
) -> None:
    """运行校验流程：读取收件目录中新增或改动的报告，整体校验，写出 <输出目录>/<日期>/ 并更新 latest。

    给出 --year/--county/--agency 时只重新读取这一部分，其余报告沿用上次运行的结果。
    """
    t0 = time.perf_counter()
    need_dir(root, "报告收件目录")
    if registry is not None:
        need_file(registry, "应报送机关名单")
    if store is not None and store.exists() and not store.is_dir():
        fail(f"解析结果存储目录 {store} 是一个文件，应为文件夹")
    if dask and not use_prefect:
        fail("--dask 需要经 Prefect 流程运行（不能与 --no-prefect 同用）")
    existed = out.exists()  # an output folder this command creates is removed if left empty
    need_out_dir(out)

    from nianbao.cli.interrupt import run_guard
    from nianbao.domain.registry import RegistryError
    from nianbao.run.inputs import Scope

    def registry_error(e: BaseException) -> None:
        if isinstance(e, RegistryError):
            fail(str(e))

    scope = Scope(year, county, agency)
    try:
        # stopped early (Ctrl-C, SIGTERM, a failed stage): one line, the results so far in
        # <out>/<date>[-N]-incomplete, latest unmoved (nianbao.cli.interrupt)
        with run_guard(out, existed, registry_error):
            if use_prefect:
                result = _run_prefect(root, out, store, registry, scope, dask, workers)
            else:
                from nianbao.report.views import REPORT_VIEWS
                from nianbao.run.steps import RunSettings, default_store, run_direct

                cfg = RunSettings(root, out, store or default_store(root), registry, scope, workers)
                result = run_direct(cfg, REPORT_VIEWS)
    except RegistryError as e:
        fail(str(e))
    except typer.Exit as e:
        _exit(e.exit_code)  # at once: a parse task's thread may still be running
        raise
    except Exception as e:  # a bug or a broken environment: the run could not complete
        err.print(f"错误：运行未能完成（{error_text(e)}）；上一次完成的报告仍为 {out / 'latest'}")
        raise typer.Exit(2) from None
    _print_result(result, time.perf_counter() - t0)
    _exit(result.outcome.exit_code)


def _exit(code: int) -> None:
    """Exit at once once everything is written and sent: the interpreter's teardown of the
    libraries a run loads (Great Expectations, pandas, Prefect …) costs about a second."""
    import logging
    import os
    import sys

    from nianbao.run import prefect_settings as ps

    server = _EMBEDDED[0] if _EMBEDDED else None
    ps.finish(server if isinstance(server, ps.EphemeralServer) else None)
    if "pytest" in sys.modules or os.environ.get("NIANBAO_NO_FAST_EXIT"):
        raise typer.Exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


_EMBEDDED: list[object] = []  # the embedded Prefect server of this process, if one was started


def _run_prefect(
    root: Path,
    out: Path,
    store: Path | None,
    registry: Path | None,
    scope: object,
    dask: str | None,
    workers: int | None,
) -> RunResult:
    try:
        server, _url = _start_embedded_prefect()
        # imported while the embedded server starts (the two overlap on a multi-core machine)
        from flows import nightly as nightly_flows
        from nianbao.run.inputs import Scope

        assert isinstance(scope, Scope)
        if server is not None:
            _wait_embedded(server)
    except typer.Exit:
        _not_run(out)
        raise
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    # heartbeats let a server notice a crashed run; the embedded server ends with the run anyway
    updates = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None} if server is not None else {}
    with temporary_settings(updates=updates):
        result = nightly_flows.run(root, out, store, registry, scope, dask, workers)
    return result


def _not_run(out: Path) -> None:
    """No Prefect to run the flow on: the reports root page says the run did not happen (the flow's
    own hooks record the runs that start; nianbao.run.status)."""
    from nianbao.run import status as runstatus

    why = "本次没有运行校验：连接不上 Prefect 服务器，或内置 Prefect 服务无法启动（见运行日志）"
    runstatus.record(out, runstatus.FAILED, message=why)


def _print_result(result: RunResult, seconds: float) -> None:
    from rich.table import Table

    from nianbao.report.summary import summary_lines

    o = result.outcome
    for line in summary_lines(o, result.run_dir):
        out_console.print(line)
    p = result.plan
    scope = o.info.scope or "全部"
    out_console.print(
        f"本次重新读取范围：{scope}；解析 {p['parsed']} 个文件，未改动而复用 {p['reused']} 个"
        + (f"，范围之外沿用上次结果 {p['kept']} 个" if p["kept"] else "")
        + f"；用时 {seconds:.1f} 秒。"
    )
    rows = o.info.counties or ()
    if rows:
        t = Table(title="各县（区）报送情况", show_lines=False)
        for col in rows[0]:
            t.add_column(str(col), justify="left" if col == "县（区）" else "right")
        for r in rows:
            t.add_row(*("" if v is None else str(v) for v in r.values()))
        out_console.print(t)
    outside = o.info.outside_layout or ()
    if outside:
        out_console.print(f"注意：有 {len(outside)} 个文件不在“<年度>/<县>/”目录结构中（已照常校验）。")
    for w in result.warnings:
        err.print(f"注意：{w}")
    latest = result.run_dir.parent / "latest"
    out_console.print(f"最新报告：{latest} → {result.run_dir.name}")


_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@app.command()
def schedule(
    at: Annotated[str, typer.Option("--time", help="每天运行的时间 HH:MM（北京时间）")] = "02:30",
    root: Annotated[Path, typer.Option("--root", help="报告收件目录")] = Path("data/submissions"),
    out: Annotated[Path, typer.Option("--out", help="报告输出目录")] = Path("reports"),
    store: Annotated[Path | None, typer.Option("--store", help="解析结果存储目录")] = None,
    registry: Annotated[Path | None, typer.Option("--registry", help="应报送机关名单 registry.csv")] = None,
) -> None:
    """在 Prefect 服务器上登记并执行夜间校验（每天定时，北京时间）；按 Ctrl+C 停止。"""
    if not _TIME.match(at):
        fail(f"时间格式不对：{at}（应为 HH:MM，如 02:30）")
    need_dir(root, "报告收件目录")
    if registry is not None:
        need_file(registry, "应报送机关名单")
    if store is not None and store.exists() and not store.is_dir():
        fail(f"解析结果存储目录 {store} 是一个文件，应为文件夹")
    need_out_dir(out)
    from nianbao.run import prefect_settings as ps

    if not ps.configured_api_url():
        fail(
            "定时运行需要一个常驻的 Prefect 服务器：先运行 `prefect server start`，"
            "再设置 PREFECT_API_URL=http://127.0.0.1:4200/api（见 README“定时运行”一节）"
        )
    from flows.nightly import serve_nightly

    out_console.print(f"夜间校验已登记：每天 {at}（北京时间）校验 {root}，报告写入 {out}。按 Ctrl+C 停止。")
    serve_nightly(
        at,
        root=str(root.resolve()),
        out=str(out.resolve()),
        store=str(store.resolve()) if store else None,
        registry=str(registry.resolve()) if registry else None,
    )
