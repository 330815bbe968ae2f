"""The review desk in a real browser: Debian's Chromium driven through its WebDriver
(``chromium-driver``, Selenium), against ``nianbao serve``'s application on 127.0.0.1, on SQLite
and PostgreSQL.  An auditor logs in, confirms one finding, dismisses one as a false alarm, notifies
the township, prints its 整改通知单 (to PDF, text checked); the township corrects its report, the
nightly run finds it clean and the desk shows the township fixed.  Screenshots go to
``test-artifacts/desk/`` (git-ignored).

`.ci/run` installs ``chromium``, ``chromium-driver`` and ``fonts-noto-cjk`` when missing; where that
is impossible the test skips with a message saying what is missing.
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from nianbao.desk import auth
from nianbao.desk.app import create_app
from nianbao.desk.db import Database
from tests.deskhelp import FIXABLE, PASSWORD, db_url, make_inbox
from tests.helpers import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "desk"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _tools() -> None:
    if shutil.which("chromium") is None or not Path(CHROMEDRIVER).is_file():
        pytest.skip("Chromium or its WebDriver is not installed (Debian packages chromium, chromium-driver)")
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    if not fonts.stdout.strip():
        pytest.skip("no CJK font installed (Debian package fonts-noto-cjk): the Chinese text would not render")


class Served:
    """The desk's application served by uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app: object) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))  # type: ignore[arg-type]
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the desk did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    _tools()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-proxy-server",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def go(driver: object, element: object) -> None:
    """Click a link or a submit button and wait for the next page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")  # type: ignore[attr-defined]
    element.click()  # type: ignore[attr-defined]
    WebDriverWait(driver, 60).until(ec.staleness_of(old))  # type: ignore[arg-type]


def shot(driver: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / name))  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_auditor_workflow_in_chromium(
    kind: str, tmp_path: Path, browser: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selenium.webdriver.common.by import By

    d = browser
    inbox = make_inbox(tmp_path / "run", hostile=False)
    urls = db_url(kind, tmp_path)
    url = f"sqlite:///{inbox.reports / 'desk.sqlite3'}" if kind == "sqlite" else next(urls)
    if kind == "postgresql":
        monkeypatch.setenv("NIANBAO_DB", url)  # the nightly run reads the desk's decisions from here
    db = Database(url)
    auth.add_user(db, "张审", "county", "示例县", PASSWORD)
    css = By.CSS_SELECTOR
    with Served(create_app(inbox.reports, db)) as base:
        # without a session: the login page
        d.get(f"{base}/report?file={quote(FIXABLE, safe='')}")  # type: ignore[attr-defined]
        assert "/login" in d.current_url  # type: ignore[attr-defined]
        d.find_element(css, "#name").send_keys("张审")  # type: ignore[attr-defined]
        d.find_element(css, "#password").send_keys(PASSWORD)  # type: ignore[attr-defined]
        shot(d, f"login-{kind}.png")
        go(d, d.find_element(css, "button#login"))  # type: ignore[attr-defined]
        # back to the report asked for, its tables redrawn with the wrong cell flagged
        assert d.find_element(css, "#report-title").text == "示例县兴山镇 2023 年 政府信息公开工作年度报告"  # type: ignore[attr-defined]
        flagged = d.find_element(css, 'td[data-cell="3:3.3.6:social"]')  # type: ignore[attr-defined]
        assert "hl-error" in flagged.get_attribute("class") and flagged.text.startswith("不详")

        def decide(rule: str, state: str, reason: str = "") -> str:
            li = d.find_element(css, f'li[data-rule="{rule}"]')  # type: ignore[attr-defined]
            k = li.get_attribute("id").removeprefix("f-")
            form = d.find_element(css, f"#decide-{k}")  # type: ignore[attr-defined]
            form.find_element(css, f'input[value="{state}"]').click()
            if reason:
                box = form.find_element(css, 'input[name="reason"]')
                box.clear()
                box.send_keys(reason)
            go(d, form.find_element(css, 'button[type="submit"]'))
            return str(d.find_element(css, f"#state-{k}").text)  # type: ignore[attr-defined]

        assert decide("G01", "confirmed") == "已确认"
        assert decide("I06", "dismissed", "“社会组织”是本地通用简称") == "误报已排除"
        shot(d, f"report-{kind}.png")

        d.execute_script("document.getElementById('deadline').value = '2026-12-20'")  # type: ignore[attr-defined]
        d.find_element(css, "#how").send_keys("电话")  # type: ignore[attr-defined]
        d.find_element(css, "#contact").send_keys("王主任")  # type: ignore[attr-defined]
        go(d, d.find_element(css, "button#notify"))  # type: ignore[attr-defined]
        assert d.find_element(css, "#township-state").text == "已通知"  # type: ignore[attr-defined]
        go(d, d.find_element(css, "#nav-home"))  # type: ignore[attr-defined]
        row = d.find_element(css, f'tr[data-file="{FIXABLE}"]').text  # type: ignore[attr-defined]
        assert "已确认 1" in row and "误报 1" in row and "已通知" in row and "期限 2026年12月20日" in row
        shot(d, f"queue-{kind}.png")
        go(d, d.find_element(css, f'tr[data-file="{FIXABLE}"] a'))  # type: ignore[attr-defined]

        go(d, d.find_element(css, "#notice-link"))  # type: ignore[attr-defined]
        assert d.find_element(css, "#notice-count").text == "1"  # type: ignore[attr-defined]
        shot(d, f"notice-{kind}.png")
        pdf = base64.b64decode(d.print_page())  # type: ignore[attr-defined]
        assert pdf[:5] == b"%PDF-"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"notice-{kind}.pdf").write_bytes(pdf)
        if shutil.which("pdftotext"):
            text = subprocess.run(
                ["pdftotext", "-layout", str(ARTIFACTS / f"notice-{kind}.pdf"), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            flat = "".join(text.split())
            assert "政府信息公开工作年度报告整改通知单" in flat and "2026年12月20日" in flat
            assert "G01" in flat and "不是数字" in flat and "下载Word版" not in flat  # the links are not printed

        # the township corrects its report; the nightly run finds it clean
        inbox.fix()
        inbox.run()
        d.get(f"{base}/report?file={quote(FIXABLE, safe='')}")  # type: ignore[attr-defined]
        assert d.find_element(css, "#township-state").text == "已整改"  # type: ignore[attr-defined]
        go(d, d.find_element(css, "#nav-townships"))  # type: ignore[attr-defined]
        row = d.find_element(css, "#townships").text  # type: ignore[attr-defined]
        assert "示例县兴山镇" in row and "已整改" in row and "王主任" in row
        shot(d, f"townships-{kind}.png")
        go(d, d.find_element(css, "#nav-audit"))  # type: ignore[attr-defined]
        log = d.find_element(css, "#audit").text  # type: ignore[attr-defined]
        assert "自动标记为已整改" in log and "误报已排除：“社会组织”是本地通用简称" in log
        shot(d, f"audit-{kind}.png")
    db.dispose()
    for _ in urls:
        pass
