"""``nianbao serve`` and ``nianbao user``: the review desk from the command line.

Registered on the ``nianbao`` app by one line in :mod:`nianbao.cli.app`.  Messages in 简体中文.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nianbao.desk.words import DB_ENV, ROLE_ZH
from nianbao.domain.oserrors import os_error_text

if TYPE_CHECKING:
    from nianbao.desk.db import Database

PASSWORD_ENV = "NIANBAO_PASSWORD"
SSO_ENV = "NIANBAO_SSO_HEADER"
ADMIN_CLI = "管理员（命令行）"  # who the audit log names for account changes made here
DEFAULT_PORT = 8321

user_app = typer.Typer(
    help="审核台账号：添加、列出。", no_args_is_help=True, add_completion=False, rich_markup_mode=None
)


def _console() -> tuple[Any, Any]:
    """The consoles for output and errors: no markup or emoji codes (names come from submissions)."""
    from rich.console import Console

    return (
        Console(highlight=False, soft_wrap=True, markup=False, emoji=False),
        Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False),
    )


def _fail(msg: str) -> None:
    _console()[1].print(f"错误：{msg}")
    raise typer.Exit(2)


def _open_db(reports: Path, db: str | None) -> Database:
    from sqlalchemy.exc import SQLAlchemyError

    from nianbao.desk.db import Database, default_url, describe_url

    url = db or default_url(reports)
    try:
        return Database(url)
    except (SQLAlchemyError, OSError, ValueError) as e:
        _fail(f"无法打开审核台数据库 {describe_url(url)}：{_db_reason(e)}")
    raise AssertionError  # unreachable


def _db_reason(e: Exception) -> str:
    """Why the database did not open, in Chinese where it is the user's to fix (a path, an address)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if isinstance(e, OSError):
        return os_error_text(e)
    if isinstance(e, ArgumentError | NoSuchModuleError):
        return "数据库地址无法识别（应为 sqlite:///文件路径 或 postgresql://用户@主机/库名）"
    first = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {first}"  # the database's own words, for its administrator


ReportsOpt = Annotated[Path, typer.Option("--reports", help="夜间校验的报告输出目录（默认 reports）")]
DbOpt = Annotated[
    str | None, typer.Option("--db", help=f"数据库地址（默认环境变量 {DB_ENV}，否则为报告目录中的 desk.sqlite3）")
]


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="用户名")],
    role: Annotated[str, typer.Option("--role", help="admin（管理员）、province（省级）或 county（县级）")],
    county: Annotated[str | None, typer.Option("--county", help="县级审核员所属县（区），如 示例县")] = None,
    reports: ReportsOpt = Path("reports"),
    db: DbOpt = None,
) -> None:
    """添加审核台账号；密码取自环境变量 NIANBAO_PASSWORD，未设置时提示输入。"""
    from nianbao.desk import auth, review

    out, _err = _console()
    password = _password()
    database = _open_db(reports, db)
    try:
        u = auth.add_user(database, name, role, county, password)
    except auth.AccountError as e:
        _fail(str(e))
        return
    review.log(database, ADMIN_CLI, u.county or "", "user", f"账号 {u.name}", f"添加{ROLE_ZH[u.role]}")
    out.print(f"已添加账号 {u.name}（{ROLE_ZH[u.role]}{'，' + u.county if u.county else ''}）。")


def _password(prompt: str = "密码：") -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        return password
    try:
        password = getpass.getpass(prompt)
        again = getpass.getpass("再输入一次：")
    except (EOFError, KeyboardInterrupt):
        _fail(f"未输入密码（也可用环境变量 {PASSWORD_ENV} 提供）")
        raise AssertionError from None
    if password != again:
        _fail("两次输入的密码不一致")
    return password


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="用户名")],
    reports: ReportsOpt = Path("reports"),
    db: DbOpt = None,
) -> None:
    """重设账号的密码（取自环境变量 NIANBAO_PASSWORD，未设置时提示输入）；该账号已登录的会话随即失效。"""
    from nianbao.desk import auth

    out, _err = _console()
    password = _password("新密码：")
    _change_account(reports, db, name, lambda d: auth.set_password(d, name, password), "重设密码")
    out.print(f"已重设 {name} 的密码。")


@user_app.command("disable")
def user_disable(
    name: Annotated[str, typer.Argument(help="用户名")],
    enable: Annotated[bool, typer.Option("--enable", help="重新启用")] = False,
    reports: ReportsOpt = Path("reports"),
    db: DbOpt = None,
) -> None:
    """停用账号（--enable 重新启用）；停用后其会话随即失效。"""
    from nianbao.desk import auth

    out, _err = _console()
    what = "启用" if enable else "停用"
    _change_account(reports, db, name, lambda d: auth.set_active(d, name, enable), what)
    out.print(f"已{what}账号 {name}。")


def _change_account(reports: Path, db: str | None, name: str, change: Callable[[Database], object], what: str) -> None:
    """Change account ``name`` in the desk's database and log it (a refused change: the error, exit 2)."""
    from nianbao.desk import auth, review

    database = _open_db(reports, db)
    try:
        change(database)
    except auth.AccountError as e:
        _fail(str(e))
    review.log(database, ADMIN_CLI, "", "user", f"账号 {name}", what)


@user_app.command("list")
def user_list(reports: ReportsOpt = Path("reports"), db: DbOpt = None) -> None:
    """列出审核台账号。"""
    from rich.table import Table

    from nianbao.desk import auth
    from nianbao.desk.review import when_zh

    out, _err = _console()
    database = _open_db(reports, db)
    users = auth.list_users(database)
    if not users:
        out.print("还没有账号。添加第一个管理员：NIANBAO_PASSWORD=… nianbao user add 管理员 --role admin")
        return
    t = Table(title="审核台账号")
    for col in ("用户名", "角色", "县（区）", "状态", "创建时间"):
        t.add_column(col)
    for u in users:
        t.add_row(
            u.name, ROLE_ZH.get(u.role, u.role), u.county or "", "启用" if u.active else "停用", when_zh(u.created_at)
        )
    out.print(t)


def serve(
    reports: ReportsOpt = Path("reports"),
    host: Annotated[str, typer.Option("--host", help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口")] = DEFAULT_PORT,
    db: DbOpt = None,
    root: Annotated[
        Path | None, typer.Option("--root", help="报告收件目录（默认取校验运行记录的输入目录；用于重绘统计表）")
    ] = None,
) -> None:
    """启动审核台（网页）：审核员登录后逐条确认或排除问题、登记通知乡镇、打印整改通知单。"""
    from nianbao.desk.app import create_app
    from nianbao.desk.db import describe_url

    out, _err = _console()
    if not reports.is_dir():
        _fail(f"找不到报告目录：{reports}（先运行 nianbao run，或用 --reports 指定）")
    if root is not None and not root.is_dir():
        _fail(f"找不到报告收件目录：{root}")
    if not 0 < port < 65536:
        _fail(f"端口不对：{port}")
    database = _open_db(reports, db)
    from nianbao.desk import auth

    if not auth.list_users(database):
        out.print(
            "注意：还没有账号。先添加第一个管理员：NIANBAO_PASSWORD=… nianbao user add 管理员 --role admin"
            + (" --db …" if db else "")
        )
    app = create_app(reports, database, root, os.environ.get(SSO_ENV) or None)
    import uvicorn

    out.print(f"审核台已启动：http://{host}:{port}/ （数据库 {describe_url(database.url)}）；按 Ctrl+C 停止。")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)


def import_acks(
    acks: Annotated[Path, typer.Argument(help="确认记录文件 acknowledgements.csv（nianbao ack 写出的）")],
    reports: ReportsOpt = Path("reports"),
    db: DbOpt = None,
) -> None:
    """把 CSV 确认记录导入审核台：所涉问题记为“误报已排除”，理由为记录中的说明（已有结论的不覆盖）。"""
    from nianbao.desk import review
    from nianbao.desk.runs import RunMissing, Runs
    from nianbao.report.history import load_acks

    out, err = _console()
    if not acks.is_file():
        _fail(f"找不到确认记录文件：{acks}")
    entries, problems = load_acks(acks)
    for p in problems:
        err.print(f"注意：{p}")
    database = _open_db(reports, db)
    try:
        run = Runs(reports).current()
    except RunMissing as e:
        _fail(str(e))
        return
    imported, kept, missing = review.import_acks(database, run, entries)
    out.print(
        f"已导入 {imported} 条复核结论（校验运行 {run.name}）；已有结论未覆盖 {kept} 条；"
        f"在该次运行中找不到对应问题的确认记录 {missing} 条。"
    )


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``user`` to the ``nianbao`` command; let its runs read the desk's decisions."""
    from nianbao.desk import nightly

    app.command("serve")(serve)
    app.command("import-acks")(import_acks)
    app.add_typer(user_app, name="user")
    nightly.register()
