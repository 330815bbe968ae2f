"""Shared by the review desk's tests: a real nightly run over a copy of the bundled sample (plus
reports with hostile agency names), databases on SQLite and PostgreSQL, a logged-in client."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nianbao.cli.app import app as cli_app
from tests.helpers import ROOT, write_hostile_reports

with warnings.catch_warnings():  # starlette's TestClient over httpx (deprecated there, still the kept client)
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SAMPLE = ROOT / "data" / "submissions"
PG_ENV = "NIANBAO_TEST_PG_URL"
HOSTILE_COUNTY = '<b onmouseover="x">县'  # a county folder name with markup (no "/": it is a folder)
HOSTILE_COUNTY_ESCAPED = "&lt;b onmouseover=&#34;x&#34;&gt;县"
FIXABLE = "2023/示例县/示例县兴山镇_2023.txt"  # one G01 error: "不详" printed in a cell of 表三
PASSWORD = "correct horse battery"
UNREADABLE_NAME = "损坏的报告.docx"


@dataclass
class Inbox:
    base: Path
    root: Path
    reports: Path
    store: Path

    def run(self) -> Path:
        """A nightly run (``nianbao run --no-prefect``) of the inbox; returns its run folder."""
        res = CliRunner().invoke(
            cli_app,
            ["run", "--root", str(self.root), "--out", str(self.reports), "--store", str(self.store), "--no-prefect"],
        )
        assert res.exit_code in (0, 1), res.output
        latest = (self.reports / "latest").resolve()
        assert latest.is_dir()
        return latest

    def fix(self) -> None:
        """The township corrects its report: the number it could not give is now given."""
        p = self.root / FIXABLE
        text = p.read_text(encoding="utf-8")
        assert "不详" in text
        p.write_text(text.replace("不详", "0", 1), encoding="utf-8")


def make_inbox(base: Path, hostile: bool = True) -> Inbox:
    root = base / "inbox"
    shutil.copytree(SAMPLE, root)
    if hostile:
        write_hostile_reports(root / "2023" / HOSTILE_COUNTY)
        # a damaged Word file: unreadable, its agency unknown — the township is still to be told
        (root / "2023" / "示例县" / UNREADABLE_NAME).write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    inbox = Inbox(base, root, base / "reports", base / "store")
    inbox.run()
    return inbox


def db_url(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh, empty database of ``kind`` ("sqlite" or "postgresql"); dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / f'desk-{secrets.token_hex(4)}.sqlite3'}"
        return
    admin = os.environ.get(PG_ENV)
    if not admin:
        pytest.skip(f"PostgreSQL not configured: set {PG_ENV} (.ci/run starts a local server with .ci/postgres)")
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"desk_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log ``name`` in; returns the session's CSRF token."""
    page = client.get("/login")
    r = client.post("/login", data={"name": name, "password": password, "csrf": csrf_of(page.text), "next": "/"})
    assert r.status_code == 200, r.text
    return csrf_of(r.text)
