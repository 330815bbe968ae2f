"""The review desk as a Starlette application (served by uvicorn, see :mod:`nianbao.desk.cli`).

Pages (all 简体中文, in the static report's look, no script): ``/login``; ``/`` the counties (or the
auditor's own county); ``/queue`` a county's reports with findings, worst first, with their review
state; ``/report`` one report: its tables redrawn, each finding to confirm / dismiss / leave open,
the township's notification; ``/notice`` (``/notice.docx``) the 整改通知单; ``/townships`` the
follow-up list; ``/audit`` who changed what and when.

Access: a signed session cookie (HttpOnly, SameSite=Lax) names the user; every POST carries the
session's CSRF token; a county auditor sees and changes only their county (another county's page
answers 403).  Without a session a page redirects to ``/login`` and a POST answers 401.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from jinja2 import ChoiceLoader, Environment, PackageLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from nianbao.desk import auth, review
from nianbao.desk.db import DECISION_ZH, FIXED, NOTIFIED, ROLE_ZH, TOWNSHIP_ZH, Database
from nianbao.desk.notice import notice_context, notice_docx
from nianbao.desk.review import Conflict, Invalid, date_zh, when_zh
from nianbao.desk.runs import Report, Run, RunMissing, Runs, to_finding
from nianbao.desk.views import finding_view, fmt_of
from nianbao.report.html import template_env

SESSION_COOKIE = "nianbao_desk"
SESSION_HOURS = 12
PER_PAGE = 100
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _iso_zh(v: str) -> str:
    """An ISO time of run.json as 2026年12月7日 08:12 (Beijing time)."""
    from datetime import datetime

    try:
        return when_zh(datetime.fromisoformat(v))
    except ValueError:
        return ""


@cache
def _env() -> Environment:
    env = template_env(
        ChoiceLoader([PackageLoader("nianbao.desk", "templates"), PackageLoader("nianbao.report", "templates")])
    )
    env.filters["when"] = when_zh
    env.filters["day"] = date_zh
    env.filters["iso_zh"] = _iso_zh
    env.globals["quote"] = lambda s: quote(str(s), safe="")
    return env


class NeedLogin(Exception):
    pass


LOCKOUT_FAILURES = 10  # failed logins of one name (or from one address) within the window
LOCKOUT_MINUTES = 15


class Throttle:
    """Failed logins per user name and per client address in the last :data:`LOCKOUT_MINUTES`
    (in memory; bounded: at most ``KEYS`` names and addresses are tracked)."""

    KEYS = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fails: dict[str, list[float]] = {}

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._fails.get(key, []) if now - t < LOCKOUT_MINUTES * 60]
        if times:
            self._fails[key] = times
        else:
            self._fails.pop(key, None)
        return times

    def blocked(self, name: str, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= LOCKOUT_FAILURES for k in (f"u:{name}", f"c:{client}"))

    def failed(self, name: str, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._fails) >= self.KEYS:
                self._fails.clear()
            for k in (f"u:{name}", f"c:{client}"):
                self._fails.setdefault(k, []).append(now)

    def clear(self, name: str) -> None:
        with self._lock:
            self._fails.pop(f"u:{name}", None)


@dataclass
class Desk:
    db: Database
    runs: Runs
    sso_header: str | None = None

    synced: set[str] = field(default_factory=set)
    throttle: Throttle = field(default_factory=Throttle)

    def run(self) -> Run:
        """The latest run; the first time it is seen, townships it finds fixed are moved to fixed."""
        run = self.runs.current()
        if run.name not in self.synced:
            review.sync_fixed(self.db, run)
            self.synced.add(run.name)
        return run


def _desk(request: Request) -> Desk:
    d = request.app.state.desk
    assert isinstance(d, Desk)
    return d


def page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    who = request.scope.get("nianbao_user")
    html = _env().get_template(template).render(who=who, role_zh=ROLE_ZH, csrf=request.session.get("csrf", ""), **ctx)
    return HTMLResponse(html, status_code=status)


def _csrf(request: Request) -> str:
    tok = request.session.get("csrf")
    if not isinstance(tok, str) or len(tok) < 32:
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return tok


def _header_text(raw: str) -> str:
    """A header's user name: UTF-8 bytes (as a proxy passes a Chinese name) or percent-encoded."""
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        text = raw
    return unquote(text).strip()


async def user(request: Request) -> auth.Who:
    """The signed-in user (or an intranet SSO header when configured), else NeedLogin."""
    d = _desk(request)
    uid = request.session.get("uid")
    who = await run_in_threadpool(auth.by_id, d.db, uid) if isinstance(uid, int) else None
    if who is not None and request.session.get("stamp") != who.stamp:
        who = None  # the password changed since this session signed in
    if who is None and d.sso_header:
        name = _header_text(request.headers.get(d.sso_header, ""))
        if name:
            who = await run_in_threadpool(auth.by_name, d.db, name)
            if who is not None:
                request.session["uid"] = who.id
                request.session["stamp"] = who.stamp
    if who is None:
        request.session.pop("uid", None)
        raise NeedLogin
    _csrf(request)
    request.scope["nianbao_user"] = who
    return who


async def posted(request: Request) -> FormData:
    """The form of a POST whose CSRF token is the session's (else 403)."""
    form = await request.form()
    sent = form.get("csrf")
    tok = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(tok, str) or not hmac.compare_digest(sent, tok):
        raise HTTPException(403, "表单已过期或来源不明（缺少有效的安全校验码），请刷新页面后重试")
    return form


def _s(form: FormData, key: str) -> str:
    v = form.get(key)
    return v if isinstance(v, str) else ""


def _i(v: str) -> int:
    try:
        return int(v)
    except ValueError:
        raise HTTPException(400, "表单内容不完整") from None


def _report(run: Run, who: auth.Who, file: str) -> Report:
    r = run.report(file)
    if r is None:
        raise HTTPException(404, "在最新一次校验中找不到这份报告（可能已撤回或改名）")
    if not who.may_see(r.county):
        raise HTTPException(403, f"您没有查看 {r.county} 报告的权限")
    return r


def _back(file: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/report?{urlencode({'file': file})}{anchor}", status_code=303)


# ------------------------------------------------------------------ login


def _local(target: str) -> str:
    """A path of this site to go to after login (never another site: ``//host``, ``/\\host``)."""
    ok = target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target
    return target if ok else "/"


async def login_page(request: Request) -> Response:
    _csrf(request)
    nxt = request.query_params.get("next", "/")
    return page(request, "login.html.j2", next=_local(nxt))


async def login(request: Request) -> Response:
    d = _desk(request)
    form = await posted(request)
    name, password = _s(form, "name"), _s(form, "password")
    nxt = _s(form, "next")
    client = request.client.host if request.client else ""
    if d.throttle.blocked(name, client):
        msg = f"登录失败次数过多，请 {LOCKOUT_MINUTES} 分钟后再试"
        return page(request, "login.html.j2", status=429, error=msg, next=nxt, name=name)
    who = await run_in_threadpool(auth.verify, d.db, name, password)
    if who is None:
        d.throttle.failed(name, client)
        return page(request, "login.html.j2", status=401, error="用户名或密码不对", next=nxt, name=name)
    d.throttle.clear(name)
    request.session.clear()
    request.session["uid"] = who.id
    request.session["stamp"] = who.stamp
    request.session["csrf"] = secrets.token_urlsafe(32)
    await run_in_threadpool(review.log, d.db, who.name, who.county or "", "login", "登录", "")
    target = _local(nxt)
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    await user(request)
    await posted(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# ------------------------------------------------------------------ counties and queue


def _progress(run: Run, reports: list[Report], d: Desk) -> dict[int, dict[str, Any]]:
    """Per report: confirmed / dismissed / open findings and the township's state."""
    hashes = [run.hashes[k] for r in reports for k in r.findings]
    decided = review.decisions(d.db, hashes)
    ts = review.townships(d.db, [(r.follow_key, r.follow_year) for r in reports])
    out = {}
    for r in reports:
        c: dict[str, Any] = {"confirmed": 0, "dismissed": 0, "open": 0}
        for k in r.findings:
            rv = decided.get(run.hashes[k])
            c[rv.state if rv is not None else "open"] += 1
        t = ts.get((r.follow_key, r.follow_year))
        c["township"] = t
        c["township_zh"] = TOWNSHIP_ZH[t.state if t else None]
        out[r.i] = c
    return out


async def home(request: Request) -> Response:
    who = await user(request)
    if not who.sees_all:
        return RedirectResponse(f"/queue?{urlencode({'county': who.county or ''})}", status_code=303)
    d = _desk(request)
    run = await run_in_threadpool(d.run)

    def counts() -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {
            c: {"name": c, "reports": 0, "queued": 0, "errors": 0, "warnings": 0, "notified": 0, "fixed": 0}
            for c in run.counties
        }
        for r in run.reports:
            row = rows[r.county]
            row["reports"] += 1
            if r.status != "validated" or r.errors or r.warnings:
                row["queued"] += 1
                row["errors"] += r.errors
                row["warnings"] += r.warnings
        for (county, state), n in review.township_counts(d.db).items():
            if county in rows and state in (NOTIFIED, FIXED):
                rows[county][state] = n
        return list(rows.values())

    return page(request, "home.html.j2", run=run, counties=await run_in_threadpool(counts))


async def queue(request: Request) -> Response:
    who = await user(request)
    d = _desk(request)
    run = await run_in_threadpool(d.run)
    county = request.query_params.get("county") or None
    if county is None and not who.sees_all:
        county = who.county
    if county is not None and not who.may_see(county):
        raise HTTPException(403, f"您没有查看 {county} 报告的权限")
    pg = max(0, _i(request.query_params.get("page", "0")))
    rows = run.queue(county)
    shown = rows[pg * PER_PAGE : (pg + 1) * PER_PAGE]
    prog = await run_in_threadpool(_progress, run, shown, d)
    return page(
        request,
        "queue.html.j2",
        run=run,
        county=county,
        rows=shown,
        prog=prog,
        total=len(rows),
        page_no=pg,
        pages=(len(rows) + PER_PAGE - 1) // PER_PAGE,
        per=PER_PAGE,
    )


# ------------------------------------------------------------------ one report


async def report_page(request: Request) -> Response:
    who = await user(request)
    d = _desk(request)
    run = await run_in_threadpool(d.run)
    r = _report(run, who, request.query_params.get("file", ""))

    def build() -> dict[str, Any]:
        fmt = fmt_of(r.format)
        decided = review.decisions(d.db, [run.hashes[k] for k in r.findings])
        views = [finding_view(k, run.findings[k], fmt, decided.get(run.hashes[k])) for k in r.findings]
        objs = [(k, to_finding(run.findings[k])) for k in r.findings]
        tables, why = d.runs.tables(run, r, objs)
        per_table: dict[str, list[dict[str, Any]]] = {"2": [], "3": [], "4": []}
        other: list[dict[str, Any]] = []
        for v in views:
            cells = run.findings[v["k"]].get("cells") or []
            t = str(cells[0]).split(":")[0] if cells and not any("*" in str(c) for c in cells) else ""
            (per_table[t] if tables is not None and t in per_table else other).append(v)
        ts = review.townships(d.db, [(r.follow_key, r.follow_year)])
        return {
            "views": views,
            "tables": tables,
            "tables_why": why,
            "per_table": per_table,
            "other": other,
            "t": ts.get((r.follow_key, r.follow_year)),
        }

    ctx = await run_in_threadpool(build)
    return page(
        request,
        "report.html.j2",
        run=run,
        r=r,
        state=r.state,
        decision_zh=DECISION_ZH,
        township_zh=TOWNSHIP_ZH,
        today=review.today().isoformat(),
        msg=request.query_params.get("msg", ""),
        **ctx,
    )


@dataclass(frozen=True)
class _Posted:
    """A review action's request: who posts, the form, and the report it is about."""

    who: auth.Who
    form: FormData
    desk: Desk
    run: Run
    file: str
    report: Report


async def _posted_report(request: Request) -> _Posted:
    who = await user(request)
    form = await posted(request)
    d = _desk(request)
    run = await run_in_threadpool(d.run)
    file = _s(form, "file")
    return _Posted(who, form, d, run, file, _report(run, who, file))


async def _save(request: Request, p: _Posted, change: Callable[[], object], anchor: str) -> Response:
    """Run a review change; its refusal is a 400, a concurrent edit a 409 page, else back to the report."""
    try:
        await run_in_threadpool(change)
    except Invalid as e:
        raise HTTPException(400, str(e)) from None
    except Conflict as e:
        return _conflict(request, p.file, str(e))
    return _back(p.file, anchor)


async def decide(request: Request) -> Response:
    p = await _posted_report(request)
    form = p.form
    k = _i(_s(form, "k"))
    if _s(form, "run") != p.run.name:
        return _conflict(request, p.file, "有新的校验结果，页面已过期，请重新打开报告后再操作")
    if k not in p.report.findings:
        raise HTTPException(400, "该问题不属于这份报告")
    state, reason, seen = _s(form, "state"), _s(form, "reason"), _i(_s(form, "version"))
    return await _save(
        request, p, lambda: review.decide(p.desk.db, p.run, k, state, reason, p.who.name, seen), f"#f-{k}"
    )


async def notify(request: Request) -> Response:
    p = await _posted_report(request)
    form = p.form
    return await _save(
        request,
        p,
        lambda: review.notify(
            p.desk.db,
            p.report,
            notified_on=_s(form, "notified_on"),
            how=_s(form, "how"),
            deadline=_s(form, "deadline"),
            contact=_s(form, "contact"),
            user=p.who.name,
            seen=_i(_s(form, "version")),
        ),
        "#township",
    )


def _conflict(request: Request, file: str, msg: str) -> HTMLResponse:
    return page(
        request,
        "error.html.j2",
        status=409,
        title="操作未保存",
        message=msg,
        back=f"/report?{urlencode({'file': file})}",
    )


# ------------------------------------------------------------------ notice


async def _notice_ctx(request: Request) -> dict[str, Any]:
    who = await user(request)
    d = _desk(request)
    run = await run_in_threadpool(d.run)
    r = _report(run, who, request.query_params.get("file", ""))

    def build() -> dict[str, Any]:
        decided = review.decisions(d.db, [run.hashes[k] for k in r.findings])
        ts = review.townships(d.db, [(r.follow_key, r.follow_year)])
        return notice_context(run, r, decided, ts.get((r.follow_key, r.follow_year)))

    return await run_in_threadpool(build)


async def notice_page(request: Request) -> Response:
    return page(request, "notice.html.j2", **(await _notice_ctx(request)))


async def notice_file(request: Request) -> Response:
    ctx = await _notice_ctx(request)
    data = await run_in_threadpool(notice_docx, ctx)
    r: Report = ctx["r"]
    name = f"整改通知单_{r.name}_{r.year or ''}.docx"
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f"attachment; filename=\"notice.docx\"; filename*=UTF-8''{quote(name)}"},
    )


# ------------------------------------------------------------------ follow-up list and audit log


async def township_page(request: Request) -> Response:
    who = await user(request)
    d = _desk(request)
    rows = await run_in_threadpool(review.township_list, d.db, who.scope)
    return page(request, "townships.html.j2", rows=rows, township_zh=TOWNSHIP_ZH)


async def audit_page(request: Request) -> Response:
    who = await user(request)
    d = _desk(request)
    pg = max(0, _i(request.query_params.get("page", "0")))
    rows, total = await run_in_threadpool(review.audit_page, d.db, who.scope, pg)
    return page(request, "audit.html.j2", rows=rows, total=total, page_no=pg, pages=(total + 99) // 100)


# ------------------------------------------------------------------ errors and headers


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    titles = {400: "请求有误", 401: "请先登录", 403: "没有权限", 404: "找不到页面", 405: "不支持的操作"}
    return page(
        request,
        "error.html.j2",
        status=exc.status_code,
        title=titles.get(exc.status_code, "出错了"),
        message=exc.detail if exc.detail and not str(exc.detail).isascii() else titles.get(exc.status_code, "出错了"),
        back="/",
    )


async def _need_login(request: Request, exc: Exception) -> Response:
    if request.method != "GET":
        return page(
            request, "error.html.j2", status=401, title="请先登录", message="登录已失效，请重新登录", back="/login"
        )
    nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': nxt})}", status_code=303)


async def _no_run(request: Request, exc: Exception) -> Response:
    return page(request, "error.html.j2", status=503, title="还没有校验结果", message=str(exc), back="/")


class Headers:
    """Security headers on every response (no script, no framing, no caching of pages)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with(message: Any) -> None:
            if message["type"] == "http.response.start":
                h = list(message.get("headers", []))
                h += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                ]
                message["headers"] = h
            await send(message)

        await self.app(scope, receive, send_with)


def create_app(reports: Path, db: Database, root: Path | None = None, sso_header: str | None = None) -> Starlette:
    secret = db.setting("session_secret", lambda: secrets.token_hex(32))
    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home, methods=["GET"]),
        Route("/queue", queue, methods=["GET"]),
        Route("/report", report_page, methods=["GET"]),
        Route("/finding", decide, methods=["POST"]),
        Route("/notify", notify, methods=["POST"]),
        Route("/notice", notice_page, methods=["GET"]),
        Route("/notice.docx", notice_file, methods=["GET"]),
        Route("/townships", township_page, methods=["GET"]),
        Route("/audit", audit_page, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(Headers),
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_HOURS * 3600,
                same_site="lax",
                https_only=False,
            ),
        ],
        exception_handlers={HTTPException: _http_error, NeedLogin: _need_login, RunMissing: _no_run},
    )
    app.state.desk = Desk(db, Runs(reports, root), sso_header)
    return app
