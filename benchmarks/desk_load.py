"""Load on the review desk: concurrent auditors browsing and deciding on a 10,000-report run.

    .venv/bin/python benchmarks/desk_load.py [--sessions 50] [--seconds 60] [--db URL] [--reuse]

1. A synthetic province (``nianbao synth``: 100 counties × 50 townships × 2 years = 10,000 reports)
   and one nightly run over it (``nianbao run --no-prefect``), under ``benchmarks/out/desk-load/``
   (kept with ``--reuse``).
2. ``nianbao serve`` in its own process on 127.0.0.1 (SQLite in the reports folder, or ``--db``),
   one county auditor account per county used, five sessions per county so that they contend for
   the same findings.
3. ``--sessions`` threads, each its own logged-in session, for ``--seconds``: open the county queue
   (a random page), open a report of it, decide on one of its findings (confirm / dismiss with a
   reason / reopen, with the version the page showed), now and then notify the township.  Bounded:
   at most ``--max-requests`` requests per session and a 30 s timeout per request.
4. Reported (JSON): requests by kind and status, page times (p50 / p95 / max), and the lost-update
   check: every decision the server accepted wrote exactly one version of its finding; the database
   row of each finding is the one written by the accepted decision with the highest version (so no
   accepted change was overwritten unseen), and the audit log has one row per accepted decision.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from html import unescape
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent
NIANBAO = str(ROOT / ".venv" / "bin" / "nianbao")
OUT = ROOT / "benchmarks" / "out" / "desk-load"
PASSWORD = "load-test-password"
PER_COUNTY = 5
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROW = re.compile(r'<tr data-file="([^"]+)">')
DECIDE = re.compile(r'<form method="post" action="/finding" class="decide" id="decide-(\d+)">(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')


def prepare(reuse: bool) -> tuple[Path, Path]:
    inbox, reports, store = OUT / "synth" / "submissions", OUT / "reports", OUT / "store"
    if reuse and (reports / "latest").is_dir():
        return inbox.parent, reports
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    t = time.perf_counter()
    subprocess.run(
        [NIANBAO, "synth", "--out", str(OUT / "synth"), "--counties", "100", "--townships", "50", "--utf8"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"synth: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    r = subprocess.run(
        [NIANBAO, "run", "--root", str(inbox), "--out", str(reports), "--store", str(store), "--no-prefect"],
        stdout=subprocess.DEVNULL,
        check=False,
    )
    assert r.returncode in (0, 1), r.returncode
    print(f"nightly run: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return inbox.parent, reports


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Session(threading.Thread):
    def __init__(self, base: str, user: str, county: str, until: float, max_requests: int, seed: int) -> None:
        super().__init__(daemon=True)
        self.base, self.user, self.county, self.until, self.max = base, user, county, until, max_requests
        self.rng = random.Random(seed)
        self.times: dict[str, list[float]] = defaultdict(list)
        self.status: Counter[tuple[str, int]] = Counter()
        self.accepted: list[tuple[str, int, int, str]] = []  # (file, finding k, version written, state)
        self.errors: list[str] = []
        self.n = 0

    def req(self, c: httpx.Client, kind: str, method: str, url: str, **kw: object) -> httpx.Response:
        self.n += 1
        t = time.perf_counter()
        r = c.request(method, url, **kw)  # type: ignore[arg-type]
        self.times[kind].append(time.perf_counter() - t)
        self.status[(kind, r.status_code)] += 1
        return r

    def run(self) -> None:
        try:
            self._run()
        except Exception as e:  # reported, not raised: the load goes on in the other sessions
            self.errors.append(f"{type(e).__name__}: {e}")

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30, follow_redirects=False) as c:
            page = self.req(c, "login", "GET", "/login")
            tok = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
            r = self.req(c, "login", "POST", "/login", data={"name": self.user, "password": PASSWORD, "csrf": tok})
            assert r.status_code == 303, r.status_code
            queue_url = f"/queue?county={quote(self.county, safe='')}"
            while time.monotonic() < self.until and self.n < self.max:
                q = self.req(c, "queue", "GET", queue_url)
                files = [unescape(f) for f in ROW.findall(q.text)]
                if not files:
                    break
                tok = CSRF.search(q.text).group(1)  # type: ignore[union-attr]
                # contention: the first reports of the queue are the ones everyone opens most
                file = files[min(int(self.rng.expovariate(0.5)), len(files) - 1)]
                p = self.req(c, "report", "GET", f"/report?file={quote(file, safe='')}")
                forms = DECIDE.findall(p.text)
                if not forms or time.monotonic() >= self.until:
                    continue
                k, body = self.rng.choice(forms[:3])
                data = {name: unescape(v) for name, v in HIDDEN.findall(body)}
                state = self.rng.choice(["confirmed", "dismissed", "open"])
                data |= {"state": state, "reason": f"{self.user} 第 {self.n} 次" if state == "dismissed" else ""}
                r = self.req(c, "decide", "POST", "/finding", data=data)
                if r.status_code == 303:
                    self.accepted.append((file, int(k), int(data["version"]) + 1, state))
                elif r.status_code != 409:
                    self.errors.append(f"decide: HTTP {r.status_code}")
                if self.rng.random() < 0.1:
                    m = re.search(r'<form method="post" action="/notify".*?name="version" value="(\d+)"', p.text, re.S)
                    if m:
                        self.req(
                            c,
                            "notify",
                            "POST",
                            "/notify",
                            data={
                                "csrf": tok,
                                "file": file,
                                "version": m.group(1),
                                "notified_on": "2026-12-07",
                                "how": "电话",
                                "deadline": "2026-12-31",
                                "contact": self.user,
                            },
                        )


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--max-requests", type=int, default=2000)
    ap.add_argument("--db", default=None, help="database URL (default: SQLite in the reports folder)")
    ap.add_argument("--reuse", action="store_true", help="reuse the synthetic run of a previous invocation")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))

    synth, reports = prepare(args.reuse)
    inbox = synth / "submissions"
    db = args.db or f"sqlite:///{OUT / f'desk-load-{os.getpid()}.sqlite3'}"
    run = (reports / "latest").resolve()
    subs = json.loads((run / "submissions.json").read_text(encoding="utf-8"))
    counties = sorted({s["county"] for s in subs if s.get("county") and (s["errors"] or s["warnings"])})
    n_counties = max(1, args.sessions // PER_COUNTY)
    used = counties[:n_counties]
    env = os.environ | {"NIANBAO_PASSWORD": PASSWORD}
    for i, c in enumerate(used):
        subprocess.run(
            [NIANBAO, "user", "add", f"auditor{i}", "--role", "county", "--county", c, "--db", db],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    port = free_port()
    server = subprocess.Popen(
        [NIANBAO, "serve", "--reports", str(reports), "--root", str(inbox), "--port", str(port), "--db", db],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None, "the desk did not start"
                time.sleep(0.2)
        # warm: the run's JSON is read on the first request
        t = time.perf_counter()
        httpx.get(f"{base}/login", timeout=60)
        with httpx.Client(base_url=base, timeout=120) as c:
            tok = CSRF.search(c.get("/login").text).group(1)  # type: ignore[union-attr]
            c.post("/login", data={"name": "auditor0", "password": PASSWORD, "csrf": tok})
            c.get(f"/queue?county={quote(used[0], safe='')}")
        first = time.perf_counter() - t
        until = time.monotonic() + args.seconds
        sessions = [
            Session(base, f"auditor{i % len(used)}", used[i % len(used)], until, args.max_requests, i)
            for i in range(args.sessions)
        ]
        t0 = time.perf_counter()
        for s in sessions:
            s.start()
        for s in sessions:
            s.join(args.seconds + 120)
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(30)

    times: dict[str, list[float]] = defaultdict(list)
    status: Counter[str] = Counter()
    accepted: list[tuple[str, int, int, str]] = []
    errors: list[str] = []
    for s in sessions:
        for k, v in s.times.items():
            times[k] += v
        for (k, code), n in s.status.items():
            status[f"{k} {code}"] += n
        accepted += s.accepted
        errors += s.errors
    pages = times["queue"] + times["report"]

    # the lost-update check, against the database
    from sqlalchemy import func, select

    from nianbao.desk.db import Audit, Database, Review
    from nianbao.desk.identity import finding_key, key_hash

    finds = json.loads((run / "findings.json").read_text(encoding="utf-8"))
    database = Database(db)
    with database.session() as s:
        rows = {r.key_hash: (r.version, r.state) for r in s.scalars(select(Review))}
        audit_reviews = int(s.scalar(select(func.count()).select_from(Audit).where(Audit.action == "review")) or 0)
    latest_write: dict[str, tuple[int, str]] = {}
    per_finding: Counter[str] = Counter()
    for _file, k, version, state in accepted:
        h = key_hash(finding_key(finds[k]))
        per_finding[h] += 1
        if version > latest_write.get(h, (0, ""))[0]:
            latest_write[h] = (version, state)
    lost = [h for h, (v, st) in latest_write.items() if rows.get(h) != (v, st)]
    gaps = [h for h, n in per_finding.items() if rows.get(h, (0, ""))[0] != n]
    report = {
        "sessions": args.sessions,
        "seconds": args.seconds,
        "wall_s": round(wall, 1),
        "reports_in_run": len(subs),
        "findings_in_run": len(finds),
        "counties_used": len(used),
        "first_request_after_start_s": round(first, 2),
        "requests": dict(sorted(status.items())),
        "requests_per_s": round(sum(status.values()) / wall, 1),
        "page_time_s": {
            kind: {"n": len(v), "p50": round(pct(v, 50), 3), "p95": round(pct(v, 95), 3), "max": round(max(v), 3)}
            for kind, v in sorted(times.items())
            if v
        }
        | {
            "all pages (queue + report)": {
                "n": len(pages),
                "p50": round(pct(pages, 50), 3),
                "p95": round(pct(pages, 95), 3),
                "mean": round(statistics.fmean(pages), 3) if pages else 0,
            }
        },
        "decisions_accepted": len(accepted),
        "decisions_refused_as_stale": status.get("decide 409", 0),
        "findings_decided": len(per_finding),
        "audit_rows_for_decisions": audit_reviews,
        "lost_updates": len(lost),
        "version_gaps": len(gaps),
        "client_errors": errors[:10],
        "database": database.dialect,
    }
    database.dispose()
    print(json.dumps(report, ensure_ascii=False, indent=2))
    ok = not lost and not gaps and audit_reviews == len(accepted) and not errors
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
