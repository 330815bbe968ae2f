"""The quality report in a real browser: headless Chromium (Debian's ``chromium``) from ``file://``
with networking disabled.  Asserts the highlighted cells and the escaping in the rendered DOM and
saves screenshots of the overview and report pages under ``test-artifacts/`` (git-ignored).

`.ci/run` installs ``chromium`` and ``fonts-noto-cjk`` when missing; where that is impossible the
tests here are skipped with a message saying what is missing.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from typer.testing import CliRunner

from nianbao.cli.app import app
from nianbao.report.names import county_page_name, page_name
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


# ---------------------------------------------------------------- printed (A4) and narrow (800 px) pages

BROKEN_DOCX = b"PK\x03\x04" + b"\x00" * 26 + "这不是一个完整的 Word 文件".encode()
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)</word>')
_PAGE = re.compile(r"<page\b")


@pytest.fixture(scope="module")
def auditor(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample batch plus a corrupt Word file, validated: the pages an auditor opens and prints."""
    exe = _chromium()
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed (pdftotext, pdftoppm; .ci/run installs it when it can)")
    base = tmp_path_factory.mktemp("auditor")
    inbox = base / "inbox" / "2023" / "示例县"
    inbox.mkdir(parents=True)
    broken = inbox / "示例县坏文件镇_2023.docx"
    broken.write_bytes(BROKEN_DOCX)
    out = base / "out"
    r = CliRunner().invoke(app, ["validate", str(SAMPLE), str(broken), "--out", str(out)])
    assert r.exit_code == 1, r.output
    subs = json.loads((out / "submissions.json").read_text(encoding="utf-8"))
    worst = max((s for s in subs if s["status"] == "validated"), key=lambda s: (s["errors"], s["warnings"]))
    assert worst["errors"] > 0
    bad = next(s for s in subs if s["file"] == str(broken))
    assert bad["status"] != "validated"
    pages = {
        "overview": out / "index.html",
        "county": out / "counties" / county_page_name("示例县"),
        "report": out / "reports" / page_name(worst["file"], worst["agency"], worst["year"]),
        "unreadable": out / "reports" / page_name(bad["file"], bad["agency"], bad["year"]),
    }
    for p in pages.values():
        assert p.is_file(), p
    return {"exe": exe, "base": base, "out": out, "pages": pages}


def print_pdf(exe: str, profile: Path, page: Path, target: Path) -> Path:
    """Print ``page`` as Chromium prints it (the page's own @page size), without header/footer."""
    target.unlink(missing_ok=True)
    _browse(exe, profile, page.as_uri(), "--no-pdf-header-footer", f"--print-to-pdf={target}")
    assert target.read_bytes()[:5] == b"%PDF-"
    return target


def pdf_words(pdf: Path) -> list[tuple[int, float, float, str]]:
    """(page, y, x, word) of every word of the PDF in reading order (pdftotext's bounding boxes)."""
    r = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True)
    words: list[tuple[int, float, float, str]] = []
    for n, chunk in enumerate(_PAGE.split(r.stdout)[1:], 1):
        words += [(n, float(y), float(x), html.unescape(t)) for x, y, t in _WORD.findall(chunk)]
    return sorted(words)


def _page_size(pdf: Path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert m, info
    return float(m.group(1)), float(m.group(2))


def _marked_copy(page: Path, spacer_before_t3: bool, tables: str = "stat") -> tuple[Path, list[list[str]]]:
    """A copy of a report page with a marker paragraph before and after each statutory table (to find
    the table's words in the PDF), optionally pushing table 三 to the lower half of a fresh page so
    that it must continue on the next one.  Returns the copy and each table's header texts."""
    doc = page.read_text(encoding="utf-8")
    tree = HTMLParser(doc)
    heads = [
        [th.text(strip=True) for th in t.css("th") if "rl" not in (th.attributes.get("class") or "").split()]
        for t in tree.css(f"table.{tables}")
    ]
    parts = re.split(rf'(<table class="{tables}[ "][^>]*>)', doc)
    out = [parts[0]]
    for k, i in enumerate(range(1, len(parts), 2)):
        spacer = '<div style="break-before:page;height:150mm"></div>' if spacer_before_t3 and "t3" in parts[i] else ""
        head, _sep, tail = parts[i + 1].partition("</table>")
        out.append(f"{spacer}<p>〔表始{k}〕</p>{parts[i]}{head}</table><p>〔表终{k}〕</p>{tail}")
    copy = page.with_name(page.stem + ".marked.html")
    copy.write_text("".join(out), encoding="utf-8")
    return copy, heads


def _table_words(words: list[tuple[int, float, float, str]], k: int) -> list[tuple[int, float, float, str]]:
    i = next(i for i, w in enumerate(words) if w[3] == f"〔表始{k}〕")
    j = next(j for j, w in enumerate(words) if w[3] == f"〔表终{k}〕")
    return words[i + 1 : j]


@pytest.mark.parametrize("which", ["overview", "county"])
def test_printed_lists_keep_every_column(auditor: dict[str, Any], which: str) -> None:
    """The overview and county pages printed to A4: every column header of every printed list is on paper."""
    exe, base = auditor["exe"], auditor["base"]
    copy, heads = _marked_copy(auditor["pages"][which], spacer_before_t3=False, tables="list")
    pdf = print_pdf(exe, base / "profile", copy, base / f"{which}.pdf")
    w, _h = _page_size(pdf)
    words = pdf_words(pdf)
    marks = {t for _p, _y, _x, t in words}
    printed = [k for k in range(len(heads)) if f"〔表始{k}〕" in marks]  # a table in a closed <details> is not
    assert len(printed) >= 2
    for k in printed:
        got = [t for _p, _y, _x, t in _table_words(words, k)]
        for label in {x for x in heads[k] if x}:
            assert sum(t.count(label) for t in got) >= heads[k].count(label), (k, label, got[:30])
    assert all(0 <= x < w for _p, _y, x, _t in words)


def test_printed_report_keeps_every_column(auditor: dict[str, Any]) -> None:
    """Printed to A4: every header of every statutory table is on paper (表四's 复议后起诉 … 总计 included)."""
    exe, base = auditor["exe"], auditor["base"]
    page = auditor["pages"]["report"]
    copy, heads = _marked_copy(page, spacer_before_t3=False)
    assert len(heads) >= 3 and all(heads)
    pdf = print_pdf(exe, base / "profile", copy, base / "report.pdf")
    w, h = _page_size(pdf)
    assert (round(w), round(h)) == (595, 842), "A4 portrait (the page's @page rule)"
    words = pdf_words(pdf)
    for k, head in enumerate(heads):
        got = [t for _p, _y, _x, t in _table_words(words, k)]
        for label in set(head):
            want = head.count(label)
            assert sum(t.count(label) for t in got) >= want, (k, label, got)
    t4 = [t for _p, _y, _x, t in _table_words(words, len(heads) - 1)]
    assert sum(t.count("复议后起诉") for t in t4) == 1
    assert sum(t.count("总计") for t in t4) == 3  # 行政复议, 未经复议直接起诉 and 复议后起诉 each have one
    assert sum(t.count("尚未审结") for t in t4) == 3
    # every word inside the page (nothing drawn into the margin or beyond it)
    assert all(0 <= x < w for _p, _y, x, _t in words)


def test_printed_table_three_repeats_its_header(auditor: dict[str, Any]) -> None:
    """Table 三 continued on the next page carries its header rows there too (thead as table-header-group)."""
    exe, base = auditor["exe"], auditor["base"]
    page = auditor["pages"]["report"]
    t = HTMLParser(page.read_text(encoding="utf-8"))
    assert len(t.css("table.stat.t3 thead tr")) == 3
    assert len(t.css("table.stat.t3 tbody tr")) == 25
    copy, _heads = _marked_copy(page, spacer_before_t3=True)
    k3 = next(k for k, node in enumerate(t.css("table.stat")) if "t3" in node.attributes.get("class", ""))
    pdf = print_pdf(exe, base / "profile", copy, base / "report-t3.pdf")
    words = _table_words(pdf_words(pdf), k3)
    pages = sorted({p for p, _y, _x, _t in words})
    assert len(pages) >= 2, "the spacer makes table 三 continue on a second page"
    for p in pages:
        got = [t for q, _y, _x, t in words if q == p]
        for label in ("申请人情况", "自然人", "法人或其他组织", "商业企业", "科研机构", "社会公益组织", "法律服务机构"):
            assert any(label in g for g in got), (p, label, got[:40])
    # the table's last row (（七）总计) is on the continuation page, under the repeated header
    assert "（七）" in "".join(t for p, _y, _x, t in words if p == pages[-1])


def _overflow_probe(exe: str, profile: Path, page: Path, width: int) -> str:
    """Open a copy of ``page`` at ``width`` px with a probe script (the copy only: the pages have no
    scripts) listing every table wider than the window or scrolling inside its box."""
    doc = page.read_text(encoding="utf-8")
    doc = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", doc)
    probe = (
        "<script>var o=[],cw=document.documentElement.clientWidth;"
        "document.querySelectorAll('table').forEach(function(t){var p=t.parentElement,r=t.getBoundingClientRect();"
        "if(r.right>cw+1||p.scrollWidth>p.clientWidth+1)o.push((t.id||t.className)+':'+Math.round(r.right));});"
        "if(document.documentElement.scrollWidth>cw+1)o.push('page:'+document.documentElement.scrollWidth);"
        "document.body.setAttribute('data-overflow',o.join(' ')||'none');</script>"
    )
    copy = page.with_name(page.stem + f".probe{width}.html")
    copy.write_text(doc.replace("</body>", probe + "</body>"), encoding="utf-8")
    r = _browse(exe, profile, copy.as_uri(), "--dump-dom", f"--window-size={width},1000")
    return HTMLParser(r.stdout).css_first("body").attributes.get("data-overflow") or "?"


@pytest.mark.parametrize("which", ["overview", "county", "report", "unreadable"])
def test_no_horizontal_scrolling_at_800px(auditor: dict[str, Any], which: str) -> None:
    exe, base = auditor["exe"], auditor["base"]
    assert _overflow_probe(exe, base / "profile", auditor["pages"][which], 800) == "none"


def test_screenshots_for_the_auditor(auditor: dict[str, Any]) -> None:
    """Screenshots of what an auditor opens and prints, under the test's temporary folder (paths
    printed: look at them) — overview, county page, report with errors, unreadable file, printed PDF."""
    exe, base = auditor["exe"], auditor["base"]
    shots = base / "screenshots"
    shots.mkdir(exist_ok=True)
    made: list[Path] = []
    for name, size in (("overview", (1280, 2400)), ("county", (1280, 1600)), ("report", (1280, 3000))):
        made.append(_shot(exe, base / "profile", auditor["pages"][name], shots / f"{name}.png", size))
    made.append(_shot(exe, base / "profile", auditor["pages"]["report"], shots / "report-800.png", (800, 2400)))
    made.append(_shot(exe, base / "profile", auditor["pages"]["unreadable"], shots / "unreadable.png", (1280, 900)))
    pdf = print_pdf(exe, base / "profile", auditor["pages"]["report"], shots / "report.pdf")
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(shots / "printed")], check=True)
    printed = sorted(shots.glob("printed*.png"))
    assert len(printed) == 1 and printed[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    made.append(printed[0])
    for p in made:
        print(f"screenshot: {p}")
        assert p.stat().st_size > 20_000, p


def _shot(exe: str, profile: Path, page: Path, target: Path, size: tuple[int, int]) -> Path:
    target.unlink(missing_ok=True)
    _browse(exe, profile, page.as_uri(), f"--screenshot={target}", f"--window-size={size[0]},{size[1]}")
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == size
    return target


def test_unreadable_page_in_chromium(auditor: dict[str, Any]) -> None:
    """Issue 14.5, as the browser shows it: the page of a damaged Word file is named after its file,
    says it could not be read and why (Word 文件已损坏), and never "错误 0 条"."""
    exe, base = auditor["exe"], auditor["base"]
    t = dump_dom(exe, base / "profile", auditor["pages"]["unreadable"])
    assert t.css_first("#report-title").text() == "示例县坏文件镇（据文件名） 2023 年 政府信息公开工作年度报告"
    assert (
        t.css_first("#unreadable-reason").text()
        == "原因：无法读取文件：Word 文件已损坏（压缩包结构不完整，无法打开）。"
    )
    summary = t.css_first("#summary").text()
    assert "错误 0 条" not in summary and "没有校验其中的数字和文字" in summary
