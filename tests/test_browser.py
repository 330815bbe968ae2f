"""The quality report in a real browser: headless Chromium (Debian's ``chromium``) from ``file://``
with networking disabled.  Asserts the highlighted cells and the escaping in the rendered DOM and
saves screenshots of the overview and report pages under ``test-artifacts/`` (git-ignored).

`.ci/run` installs ``chromium`` and ``fonts-noto-cjk`` when missing; where that is impossible the
tests here are skipped with a message saying what is missing.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from typer.testing import CliRunner

from nianbao.cli import app
from nianbao.output.names import county_page_name, page_name
from tests.helpers import ROOT, SCRIPT_AGENCY, write_hostile_reports

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
SAMPLE = ROOT / "data" / "submissions"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--no-pings",
    # no network at all: every host name fails to resolve, and any proxy is a dead port
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--hide-scrollbars",
)


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("Chromium is not installed (Debian package `chromium`; .ci/run installs it when it can)")
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    if not fonts.stdout.strip():
        pytest.skip("no CJK font installed (Debian package `fonts-noto-cjk`): the Chinese text would not render")
    return exe


def _browse(exe: str, profile: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile.mkdir(parents=True, exist_ok=True)
    cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def dump_dom(exe: str, profile: Path, page: Path) -> HTMLParser:
    r = _browse(exe, profile, page.as_uri(), "--dump-dom")
    return HTMLParser(r.stdout)


def screenshot(exe: str, profile: Path, page: Path, name: str, size: tuple[int, int]) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    target.unlink(missing_ok=True)
    _browse(exe, profile, page.as_uri(), f"--screenshot={target}", f"--window-size={size[0]},{size[1]}")
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == size
    return target


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    exe = _chromium()
    base = tmp_path_factory.mktemp("browser")
    hostile = write_hostile_reports(base / "hostile")
    out = base / "out"
    r = CliRunner().invoke(app, ["validate", str(SAMPLE), str(hostile["script.txt"]), "--out", str(out)])
    assert r.exit_code == 1, r.output
    subs = json.loads((out / "submissions.json").read_text(encoding="utf-8"))
    finds = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return {"exe": exe, "base": base, "out": out, "subs": subs, "finds": finds, "hostile": hostile}


def _page(rendered: dict, file: str) -> Path:
    s = next(s for s in rendered["subs"] if s["file"] == file)
    return rendered["out"] / "reports" / page_name(s["file"], s["agency"], s["year"])


def test_overview_in_chromium(rendered: dict) -> None:
    exe, base, out = rendered["exe"], rendered["base"], rendered["out"]
    t = dump_dom(exe, base / "profile", out / "index.html")
    assert t.css_first("h1").text() == "政府信息公开工作年度报告 · 数据质量报告"
    assert t.css("script") == []
    assert t.css_first("#n-files").text() == str(len(rendered["subs"]))
    names = [a.text() for a in t.css("a.report-link")]
    assert SCRIPT_AGENCY in names
    assert len(t.css("#chart svg rect")) > 0
    shot = screenshot(exe, base / "profile", out / "index.html", "overview.png", (1280, 2200))
    assert shot.stat().st_size > 50_000


def test_report_page_in_chromium(rendered: dict) -> None:
    exe, base = rendered["exe"], rendered["base"]
    file = str(SAMPLE / "2023" / "示例县" / "示例县南川镇_2023.txt")
    page = _page(rendered, file)
    t = dump_dom(exe, base / "profile", page)
    mine = [f for f in rendered["finds"] if f["file"] == file]
    want = {c for f in mine for c in f["cells"] if "*" not in c}
    got = {n.attributes["data-cell"] for n in t.css("td.hl")}
    assert got == want
    assert t.css_first('td[data-cell="3:3.3.7:total"]').css_first("a.badge").text() == "A01"
    assert t.css_first('td[data-cell="3:3.7:other"]').css_first("a.badge").text() == "B01"
    # the three tables drawn, every cell of the format present once
    assert len(t.css("table.stat.t3 td[data-cell]")) == 25 * 7
    assert len(t.css("table.stat.t4 td[data-cell]")) == 15
    shot = screenshot(exe, base / "profile", page, "report.png", (1280, 2600))
    assert shot.stat().st_size > 50_000


def test_hostile_title_is_literal_in_chromium(rendered: dict) -> None:
    exe, base = rendered["exe"], rendered["base"]
    page = _page(rendered, str(rendered["hostile"]["script.txt"]))
    t = dump_dom(exe, base / "profile", page)
    assert t.css("script") == []
    assert t.css_first("#report-title").text() == f"{SCRIPT_AGENCY} 2023 年 政府信息公开工作年度报告"
    assert t.css_first("title").text().startswith(SCRIPT_AGENCY)
    hl = {n.attributes["data-cell"] for n in t.css("td.hl")}
    assert "3:3.3.4:natural" in hl and "3:3.7:natural" in hl
    screenshot(exe, base / "profile", page, "report-hostile-title.png", (1280, 1200))


def test_county_page_in_chromium(rendered: dict) -> None:
    exe, base, out = rendered["exe"], rendered["base"], rendered["out"]
    t = dump_dom(exe, base / "profile", out / "index.html")
    names = [a.text() for a in t.css("#county-summary a.county-link")]
    assert names == sorted({Path(s["file"]).parent.name for s in rendered["subs"]})
    page = out / "counties" / county_page_name("示例县")
    t = dump_dom(exe, base / "profile", page)
    assert t.css("script") == []
    mine = [s for s in rendered["subs"] if Path(s["file"]).parent.name == "示例县"]
    rows = t.css("#county-report-list tr")[1:]
    assert sorted(r.css("td")[-1].text() for r in rows) == sorted(s["file"] for s in mine)
    assert len(t.css("#county-report-list a.report-link")) == len(mine) == 24  # a small batch: every report a page
    assert t.css_first("#c-files").text() == "24"
    shot = screenshot(exe, base / "profile", page, "county.png", (1280, 1800))
    assert shot.stat().st_size > 50_000
