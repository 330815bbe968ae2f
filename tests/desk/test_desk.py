"""The review desk (``nianbao serve``) through Starlette's TestClient, on SQLite and PostgreSQL,
over a real nightly run of the bundled sample (and reports with hostile agency names)."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from nianbao.cli.app import app as cli_app
from nianbao.desk import auth
from nianbao.desk.app import create_app
from nianbao.desk.db import Database
from tests.deskhelp import (
    FIXABLE,
    HOSTILE_COUNTY,
    HOSTILE_COUNTY_ESCAPED,
    PASSWORD,
    UNREADABLE_NAME,
    Inbox,
    TestClient,
    csrf_of,
    db_url,
    login,
    make_inbox,
)
from tests.helpers import SCRIPT_AGENCY

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Inbox:
    return make_inbox(tmp_path_factory.mktemp("desk"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    for url in db_url(request.param, tmp_path):
        database = Database(url)
        auth.add_user(database, "省审", "province", None, PASSWORD)
        auth.add_user(database, "张审", "county", "示例县", PASSWORD)
        auth.add_user(database, "李审", "county", "沙坡头区", PASSWORD)
        try:
            yield database
        finally:
            database.dispose()


def client_for(inbox: Inbox, db: Database) -> TestClient:
    return TestClient(create_app(inbox.reports, db), follow_redirects=True)


def report_url(file: str) -> str:
    return f"/report?file={quote(file, safe='')}"


def finding_of(page: str, rule: str) -> dict[str, str]:
    """The decision form of the first finding of ``rule`` on a report page."""
    li = re.search(rf'<li id="f-(\d+)"[^>]*data-rule="{rule}".*?</li>', page, re.S)
    assert li, f"no {rule} finding on the page"
    form = li.group(0)
    return {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form)}


def test_every_page_needs_a_session(inbox: Inbox, db: Database) -> None:
    c = TestClient(create_app(inbox.reports, db), follow_redirects=False)
    for path in ("/", "/queue", report_url(FIXABLE), "/notice?file=x", "/townships", "/audit"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    r = c.post("/finding", data={"file": FIXABLE, "k": "0", "state": "confirmed", "version": "0"})
    assert r.status_code == 401
    page = c.get("/login")
    assert page.status_code == 200 and "登录" in page.text
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "default-src 'none'" in page.headers["content-security-policy"]
    bad = c.post("/login", data={"name": "张审", "password": "wrong", "csrf": csrf_of(page.text), "next": "/"})
    assert bad.status_code == 401 and "用户名或密码不对" in bad.text


def test_county_queue_worst_first_and_scoped(inbox: Inbox, db: Database) -> None:
    c = client_for(inbox, db)
    login(c, "张审")
    q = c.get("/")
    assert q.url.path == "/queue" and "示例县 · 待复核报告" in q.text
    files = re.findall(r'<tr data-file="([^"]+)">', q.text)
    # unreadable first, then errors (东湖镇 2023: 4 errors), then warnings; reports without either are not queued
    assert files[:2] == [f"2023/示例县/{UNREADABLE_NAME}", "2023/示例县/示例县东湖镇_2023.txt"]
    assert FIXABLE in files and "2023/示例县/示例县福关镇_2023.txt" not in files
    assert all(f.split("/")[1] == "示例县" for f in files)
    # another county's report and queue: 403
    assert c.get(report_url("2023/沙坡头区/沙坡头区镇罗镇_2023.txt")).status_code == 403
    assert c.get("/queue?county=" + quote("沙坡头区")).status_code == 403


def test_confirm_dismiss_and_audit(inbox: Inbox, db: Database) -> None:
    c = client_for(inbox, db)
    login(c, "张审")
    page = c.get(report_url(FIXABLE)).text
    assert 'data-cell="3:3.3.6:social"' in page  # the tables are redrawn, the wrong cell flagged
    g01 = finding_of(page, "G01")
    r = c.post("/finding", data=g01 | {"state": "confirmed", "reason": ""})
    assert r.status_code == 200
    assert f'id="state-{g01["k"]}">已确认' in r.text
    i06 = finding_of(r.text, "I06")
    # a false alarm needs its reason
    assert c.post("/finding", data=i06 | {"state": "dismissed", "reason": " "}).status_code == 400
    r = c.post("/finding", data=i06 | {"state": "dismissed", "reason": "“社会组织”是本地通用简称"})
    assert f'id="state-{i06["k"]}">误报已排除' in r.text and "张审 于 " in r.text
    # the form drawn before the change is stale: refused, nothing overwritten
    stale = c.post("/finding", data=g01 | {"state": "dismissed", "reason": "覆盖"})
    assert stale.status_code == 409 and "刷新页面" in stale.text
    page = c.get(report_url(FIXABLE)).text
    assert f'id="state-{g01["k"]}">已确认' in page
    q = c.get("/queue").text
    row = re.search(rf'<tr data-file="{re.escape(FIXABLE)}">.*?</tr>', q, re.S)
    assert row and "已确认 1" in row.group(0) and "误报 1" in row.group(0)
    audit = c.get("/audit").text
    assert audit.count("示例县兴山镇 2023 年度报告 的 ") == 2
    assert "误报已排除：“社会组织”是本地通用简称" in audit and "张审" in audit
    # the province auditor sees the county's audit log too; the other county's auditor does not
    c2 = client_for(inbox, db)
    login(c2, "李审")
    assert "示例县兴山镇" not in c2.get("/audit").text
    c3 = client_for(inbox, db)
    login(c3, "省审")
    assert "误报已排除" in c3.get("/audit").text


def test_post_without_csrf_is_refused(inbox: Inbox, db: Database) -> None:
    c = client_for(inbox, db)
    login(c, "张审")
    g01 = finding_of(c.get(report_url(FIXABLE)).text, "G01")
    for token in (None, "", "forged-token-forged-token-forged-token"):
        data = {k: v for k, v in g01.items() if k != "csrf"} | {"state": "dismissed", "reason": "x"}
        if token is not None:
            data["csrf"] = token
        r = c.post("/finding", data=data)
        assert r.status_code == 403 and "安全校验码" in r.text
    assert f'id="state-{g01["k"]}">待复核' in c.get(report_url(FIXABLE)).text
    assert "示例县兴山镇" not in c.get("/audit").text


def test_notify_and_notice(inbox: Inbox, db: Database) -> None:
    c = client_for(inbox, db)
    tok = login(c, "张审")
    r = c.post(
        "/notify",
        data={
            "csrf": tok,
            "file": FIXABLE,
            "version": "0",
            "notified_on": "2026-12-07",
            "how": "电话",
            "deadline": "2026-12-20",
            "contact": "王主任",
        },
    )
    assert r.status_code == 200
    assert 'id="township-state">已通知' in r.text and "整改期限 2026年12月20日" in r.text
    notice = c.get("/notice?file=" + quote(FIXABLE, safe="")).text
    assert "政府信息公开工作年度报告整改通知单" in notice and "于 <b>2026年12月20日</b> 前" in notice
    items = re.findall(r'<tr data-rule="(\w+)">', notice)
    assert items == ["G01"]  # errors and warnings only; the note (I06) is not something to fix
    assert "“不详”不是数字" in notice and "（三）不予公开 6.属于四类过程性信息" in notice
    docx = c.get("/notice.docx?file=" + quote(FIXABLE, safe=""))
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    from docx import Document

    text = "\n".join(
        cell.text for t in Document(io.BytesIO(docx.content)).tables for row in t.rows for cell in row.cells
    )
    assert "“不详”不是数字" in text
    tw = c.get("/townships").text
    assert "示例县兴山镇" in tw and "已通知" in tw and "王主任" in tw
    # the deadline before the notice date is refused
    bad = c.post(
        "/notify",
        data={
            "csrf": tok,
            "file": FIXABLE,
            "version": "1",
            "notified_on": "2026-12-07",
            "how": "电话",
            "deadline": "2026-12-01",
            "contact": "",
        },
    )
    assert bad.status_code == 400 and "整改期限不能早于通知日期" in bad.text


def test_hostile_names_and_text_are_escaped(inbox: Inbox, db: Database) -> None:
    c = client_for(inbox, db)
    tok = login(c, "省审")
    home = c.get("/").text
    assert HOSTILE_COUNTY not in home and HOSTILE_COUNTY_ESCAPED in home
    q = c.get("/queue?county=" + quote(HOSTILE_COUNTY, safe="")).text
    files = [html.unescape(f) for f in re.findall(r'<tr data-file="([^"]+)">', q)]
    assert files, "the hostile reports are queued"
    assert "<script>" not in q and "&lt;script&gt;alert(1)&lt;/script&gt;" in q
    script_file = next(f for f in files if f.endswith("script.txt"))
    page = c.get(report_url(script_file)).text
    assert SCRIPT_AGENCY not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    f = finding_of(page, re.search(r'data-rule="(\w+)"', page).group(1))  # type: ignore[union-attr]
    r = c.post("/finding", data=f | {"csrf": tok, "state": "dismissed", "reason": "<img src=x onerror=alert(2)>"})
    assert r.status_code == 200
    audit = c.get("/audit").text
    assert "<img src=x" not in audit and "&lt;img src=x onerror=alert(2)&gt;" in audit
    assert "<script>" not in c.get("/notice?file=" + quote(script_file, safe="")).text


def test_user_commands(inbox: Inbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    run = CliRunner().invoke
    env = {"NIANBAO_PASSWORD": PASSWORD}
    r = run(cli_app, ["user", "add", "管理员", "--role", "admin", "--db", url], env=env)
    assert r.exit_code == 0 and "已添加账号 管理员（管理员）" in r.output
    r = run(cli_app, ["user", "add", "管理员", "--role", "admin", "--db", url], env=env)
    assert r.exit_code == 2 and "用户 管理员 已存在" in r.output
    r = run(cli_app, ["user", "add", "县审", "--role", "county", "--db", url], env=env)
    assert r.exit_code == 2 and "须用 --county 指定所属县" in r.output
    r = run(cli_app, ["user", "add", "短", "--role", "province", "--db", url], env={"NIANBAO_PASSWORD": "123"})
    assert r.exit_code == 2 and "密码至少 8 位" in r.output
    r = run(cli_app, ["user", "add", "县审", "--role", "county", "--county", "示例县", "--db", url], env=env)
    assert r.exit_code == 0
    r = run(cli_app, ["user", "list", "--db", url])
    assert r.exit_code == 0 and "管理员" in r.output and "县级审核员" in r.output and "示例县" in r.output
    db = Database(url)
    who = auth.verify(db, "县审", PASSWORD)
    assert who is not None and who.county == "示例县" and auth.verify(db, "县审", "wrong") is None
    from sqlalchemy import select

    from nianbao.desk.db import User

    with db.session() as s:
        h = s.scalar(select(User.password_hash).where(User.name == "县审"))
    assert h is not None and h.startswith("$argon2id$") and PASSWORD not in h
    db.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_fixed_after_clean_rerun_and_the_nightly_run_shows_decisions(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Notify two townships; one corrects its report: the next nightly run finds it clean and the
    desk moves it to fixed (the other stays notified); the run's report shows the desk's decisions."""
    import json

    inbox = make_inbox(tmp_path / "run", hostile=False)
    urls = db_url(kind, tmp_path)
    url = f"sqlite:///{inbox.reports / 'desk.sqlite3'}" if kind == "sqlite" else next(urls)
    if kind == "postgresql":
        monkeypatch.setenv("NIANBAO_DB", url)
    db = Database(url)
    auth.add_user(db, "张审", "county", "示例县", PASSWORD)
    c = client_for(inbox, db)
    tok = login(c, "张审")
    worst = "2023/示例县/示例县东湖镇_2023.txt"
    for file in (FIXABLE, worst):
        r = c.post(
            "/notify",
            data={
                "csrf": tok,
                "file": file,
                "version": "0",
                "notified_on": "2026-12-07",
                "how": "公文",
                "deadline": "",
            },
        )
        assert 'id="township-state">已通知' in r.text
    page = c.get(report_url(FIXABLE)).text
    assert "已确认" in c.post("/finding", data=finding_of(page, "G01") | {"state": "confirmed"}).text
    page = c.get(report_url(FIXABLE)).text
    c.post("/finding", data=finding_of(page, "I06") | {"state": "dismissed", "reason": "本地通用简称"})
    bad = finding_of(c.get(report_url(worst)).text, "A01")
    assert "已确认" in c.post("/finding", data=bad | {"state": "confirmed"}).text

    inbox.fix()
    run2 = inbox.run()  # the nightly run reads the desk's decisions from the database
    page = c.get(report_url(FIXABLE)).text
    assert 'id="township-state">已整改' in page and f"校验运行 {run2.name} 中更正后的报告已无问题" in page
    assert 'id="township-state">已通知' in c.get(report_url(worst)).text
    tw = c.get("/townships").text
    assert tw.count("已整改") >= 1 and "示例县东湖镇" in tw
    audit = c.get("/audit").text
    assert "系统（夜间校验）" in audit and "自动标记为已整改" in audit

    changes = json.loads((run2 / "changes.json").read_text(encoding="utf-8"))
    acked = {(a["finding"]["file"], a["finding"]["rule"]): a for a in changes["acknowledged"]}
    assert acked[(FIXABLE, "I06")]["note"] == "审核台：误报已排除（本地通用简称）"
    assert acked[(FIXABLE, "I06")]["reviewer"] == "张审"
    assert acked[(worst, "A01")]["note"] == "审核台：已确认"  # an error: the desk's decisions cover every severity
    assert (FIXABLE, "G01") not in acked  # corrected: the finding is gone
    html_pages = list((run2 / "reports").glob("*.html"))
    assert any("审核台：误报已排除（本地通用简称）" in p.read_text(encoding="utf-8") for p in html_pages)
    from openpyxl import load_workbook

    wb = load_workbook(run2 / "findings.xlsx", read_only=True)
    cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert any("审核台：已确认" in v for v in cells)
    db.dispose()
    for _ in urls:  # drop the PostgreSQL database
        pass


def test_sso_header_province_overview_and_no_run(inbox: Inbox, db: Database, tmp_path: Path) -> None:
    import json

    app = create_app(inbox.reports, db, sso_header="X-Remote-User")
    c = TestClient(app, follow_redirects=False)
    home = c.get("/", headers={"X-Remote-User": "省审".encode()})  # UTF-8 bytes, as a proxy sends them
    assert home.status_code == 200
    # the province's overview: one row per county, counted from the run
    subs = json.loads(((inbox.reports / "latest") / "submissions.json").read_text(encoding="utf-8"))
    mine = [s for s in subs if s["county"] == "示例县"]
    queued = [s for s in mine if s["errors"] or s["warnings"] or s["status"] != "validated"]
    row = re.search(r'<tr><td><a href="/queue\?county=[^"]+">示例县</a></td>(.*?)</tr>', home.text, re.S)
    assert row, "示例县 is listed"
    nums = [int(n) for n in re.findall(r'<td class="n">(\d+)</td>', row.group(1))]
    assert nums == [len(mine), len(queued), sum(s["errors"] for s in mine), sum(s["warnings"] for s in mine), 0, 0]

    def via_sso(name: str) -> int:
        return TestClient(app, follow_redirects=False).get("/", headers={"X-Remote-User": quote(name)}).status_code

    assert via_sso("省审") == 200  # percent-encoded
    # a name the desk does not know is not let in; without SSO configured the header is ignored
    assert via_sso("陌生人") == 303
    plain = TestClient(create_app(inbox.reports, db), follow_redirects=False)
    assert plain.get("/", headers={"X-Remote-User": quote("省审")}).status_code == 303
    # a reports folder without a completed run: said plainly
    empty = TestClient(create_app(tmp_path / "no-runs", db), follow_redirects=True)
    page = empty.get("/login")
    r = empty.post("/login", data={"name": "省审", "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"})
    assert r.status_code == 503 and "还没有完成的校验运行" in r.text


def test_csv_acknowledgements_import(inbox: Inbox, db: Database, tmp_path: Path) -> None:
    run = CliRunner().invoke
    file = "2023/示例县/示例县通昌镇_2023.txt"
    acks = tmp_path / "acknowledgements.csv"
    r = run(
        cli_app,
        [
            "ack",
            "--file",
            str(inbox.root / file),
            "--rule",
            "F01",
            "--reviewer",
            "赵审",
            "--acks",
            str(acks),
            "--note",
            "上年数据有误，已核实",
        ],
    )
    assert r.exit_code == 0, r.output
    args = ["import-acks", str(acks), "--reports", str(inbox.reports), "--db", db.url]
    r = run(cli_app, args)
    assert r.exit_code == 0 and "已导入 1 条复核结论" in r.output and "找不到对应问题的确认记录 0 条" in r.output
    r = run(cli_app, args)
    assert "已导入 0 条复核结论" in r.output and "已有结论未覆盖 1 条" in r.output
    c = client_for(inbox, db)
    login(c, "张审")
    page = c.get(report_url(file)).text
    li = re.search(r'<li id="f-\d+"[^>]*data-rule="F01".*?</li>', page, re.S)
    assert li and "误报已排除" in li.group(0) and "赵审 于 " in li.group(0)
    assert "由确认记录导入" in li.group(0) and "上年数据有误，已核实" in li.group(0)


def test_password_reset_and_disable_end_sessions(inbox: Inbox, db: Database) -> None:
    run = CliRunner().invoke
    c = client_for(inbox, db)
    login(c, "张审")
    assert c.get("/queue").status_code == 200
    new = "another long password"
    r = run(cli_app, ["user", "passwd", "张审", "--db", db.url], env={"NIANBAO_PASSWORD": new})
    assert r.exit_code == 0 and "已重设 张审 的密码" in r.output
    assert c.get("/queue").url.path == "/login"  # the session signed in with the old password ended
    login(c, "张审", new)
    r = run(cli_app, ["user", "disable", "张审", "--db", db.url])
    assert r.exit_code == 0 and "已停用账号 张审" in r.output
    assert c.get("/queue").url.path == "/login"
    page = c.get("/login")
    bad = c.post("/login", data={"name": "张审", "password": new, "csrf": csrf_of(page.text), "next": "/"})
    assert bad.status_code == 401
    assert run(cli_app, ["user", "disable", "张审", "--enable", "--db", db.url]).exit_code == 0
    login(c, "张审", new)
    r = run(cli_app, ["user", "passwd", "无此人", "--db", db.url], env={"NIANBAO_PASSWORD": new})
    assert r.exit_code == 2 and "没有用户 无此人" in r.output


def test_repeated_failed_logins_are_refused_for_a_while(inbox: Inbox, db: Database) -> None:
    from nianbao.desk.app import LOCKOUT_FAILURES

    c = client_for(inbox, db)
    for _ in range(LOCKOUT_FAILURES):
        page = c.get("/login")
        r = c.post("/login", data={"name": "张审", "password": "guess", "csrf": csrf_of(page.text), "next": "/"})
        assert r.status_code == 401
    page = c.get("/login")
    r = c.post("/login", data={"name": "张审", "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"})
    assert r.status_code == 429 and "登录失败次数过多，请 15 分钟后再试" in r.text


def test_migrations_run_at_start_and_again_change_nothing(db: Database) -> None:
    from sqlalchemy import inspect, text

    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001_desk"
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "reviews", "townships", "audit_log", "settings", "seen_runs", "alembic_version"} <= tables
    again = Database(db.url)  # a second start: the schema is current, nothing changes, no data lost
    assert auth.verify(again, "张审", PASSWORD) is not None
    again.dispose()


def test_login_never_redirects_to_another_site(inbox: Inbox, db: Database) -> None:
    for target, expected in (
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example", "/"),
        ("/audit", "/audit"),
    ):
        c = TestClient(create_app(inbox.reports, db), follow_redirects=False)
        page = c.get("/login")
        r = c.post("/login", data={"name": "省审", "password": PASSWORD, "csrf": csrf_of(page.text), "next": target})
        assert r.status_code == 303 and r.headers["location"] == expected, target


def test_an_unreadable_file_can_be_notified(inbox: Inbox, db: Database) -> None:
    c = client_for(inbox, db)
    tok = login(c, "张审")
    file = f"2023/示例县/{UNREADABLE_NAME}"
    page = c.get(report_url(file)).text
    assert 'id="unreadable-reason">无法读取：' in page and f"（未识别机关）{UNREADABLE_NAME}" in page
    r = c.post(
        "/notify",
        data={"csrf": tok, "file": file, "version": "0", "notified_on": "2026-12-07", "how": "电话", "deadline": ""},
    )
    assert 'id="township-state">已通知' in r.text
    tw = c.get("/townships").text
    assert f"（未识别机关）{UNREADABLE_NAME}" in tw and "2023" in tw


def test_the_readme_command_for_the_first_admin_works(tmp_path: Path) -> None:
    """The one documented command that creates the first account, run as the README spells it."""
    import shlex

    from tests.helpers import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "nianbao user add 管理员 --role admin"
    line = next(x for x in readme.splitlines() if command in x and "NIANBAO_PASSWORD=" in x)
    words = shlex.split(line.split("#")[0])
    env = dict(w.split("=", 1) for w in words if w.startswith("NIANBAO_PASSWORD="))
    args = [w for w in words if "=" not in w][1:]  # after .venv/bin/nianbao
    url = f"sqlite:///{tmp_path / 'first.sqlite3'}"
    r = CliRunner().invoke(cli_app, [*args, "--db", url], env=env)
    assert r.exit_code == 0 and "已添加账号 管理员（管理员）" in r.output, r.output
    db = Database(url)
    assert auth.verify(db, "管理员", env["NIANBAO_PASSWORD"]) is not None
    db.dispose()
