"""The quality report at scale: county pages, the large-batch path (pages only for the reports an
auditor opens, the lean workbook), fast JSON, rename-only page writes.

The large-batch path is taken above ``nianbao.report.quality.LARGE_BATCH`` files (5,000); the
fixture lowers it to 20 so that 30 reports exercise it, and lowers the overview's worst-N list and
the values-sheet cap so that those cuts are exercised too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import openpyxl
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from nianbao.domain.registry import Agency
from nianbao.domain.spec import cell_words
from nianbao.io import atomic
from nianbao.io.atomic import UnsafePath, dumps
from nianbao.outcome import expand_summaries
from nianbao.report import excel, html, quality
from nianbao.report.names import PageDir, county_page_name, page_name
from nianbao.report.writer import write_all
from nianbao.run.steps import validate_paths
from nianbao.run.validation import validate_reports
from tests.helpers import parse, seed_text, set_cells

CLEAN = seed_text()
A01_ERROR = set_cells(CLEAN, {"3:3.3.4:natural": "1"})  # A01 (row) + B01 (column natural)
NEGATIVE = set_cells(CLEAN, {"3:4:legal": "-1"})  # A01, C01, G02
BLANK = set_cells(CLEAN, {"3:3.1:natural": ""})  # a G04 warning
UNREADABLE = "会议纪要\n今天开会。\n"
# county -> number of townships; township 1 of each county carries the defect below
COUNTIES = {"甲县": 12, "乙县": 10, "丙县": 8}
DEFECTS = {("甲县", 1): A01_ERROR, ("甲县", 2): BLANK, ("乙县", 1): UNREADABLE, ("丙县", 1): NEGATIVE}


NUMERALS = "一二三四五六七八九十"


def agency(county: str, n: int) -> str:
    cn = NUMERALS[n - 1] if n <= 10 else "十" + NUMERALS[n - 11]
    return f"{county}第{cn}镇"


def make_inbox(root: Path) -> Path:
    """``root/2023/<county>/<agency>_2023.txt`` for the 30 reports, and a registry that also lists
    one agency of 甲县 that did not submit."""
    rows = ["county,agency,level"]
    serial = 10
    for county, n in COUNTIES.items():
        folder = root / "2023" / county
        folder.mkdir(parents=True)
        for k in range(1, n + 1):
            text = DEFECTS.get((county, k), CLEAN)
            serial += 1  # no two reports alike (identical tables would be an M05 warning)
            if text != UNREADABLE:
                text = set_cells(text, {"2:rules:issued": str(serial)})
            name = agency(county, k)
            (folder / f"{name}_2023.txt").write_text(text.replace("沙坡头区镇罗镇", name, 1), encoding="utf-8")
            rows.append(f"{county},{name},township")
    rows.append("甲县,甲县未报镇,township")
    (root / "registry.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def dom(p: Path) -> HTMLParser:
    return HTMLParser(p.read_text(encoding="utf-8"))


def texts(nodes: list) -> list[str]:
    return [n.text(strip=True) for n in nodes]


def flagged(s: dict) -> bool:
    return s["status"] != "validated" or bool(s["errors"]) or bool(s["warnings"])


def run_validate(inbox: Path, out: Path) -> tuple[list[dict], list[dict]]:
    """What `nianbao validate DIR --registry FILE --out OUT` does, without the batch expectations
    (Great Expectations: seconds, and not what is tested here)."""
    outcome = validate_paths([inbox / "2023"], 1, registry=inbox / "registry.csv")
    write_all(outcome, out)
    subs = json.loads((out / "submissions.json").read_text(encoding="utf-8"))
    finds = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return subs, finds


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The 30 reports validated and written by every view, on the large-batch path."""
    base = tmp_path_factory.mktemp("scale")
    inbox = make_inbox(base / "inbox")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(quality, "LARGE_BATCH", 20)
        mp.setattr(html, "WORST_LIMIT", 5)
        mp.setattr(excel, "VALUES_MAX_REPORTS", 2)
        subs, finds = run_validate(inbox, base / "out")
    return {"out": base / "out", "subs": subs, "finds": finds, "inbox": inbox}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The same 30 reports on the default (small-batch) path."""
    base = tmp_path_factory.mktemp("small")
    inbox = make_inbox(base / "inbox")
    subs, finds = run_validate(inbox, base / "out")
    return {"out": base / "out", "subs": subs, "finds": finds, "inbox": inbox}


def county_of(s: dict) -> str:
    return Path(s["file"]).parent.name


def by_name(subs: list[dict]) -> dict[str, dict]:
    return {Path(s["file"]).stem.removesuffix("_2023"): s for s in subs}


# ------------------------------------------------------------------ the data is what the tests assume


def test_the_planted_reports_are_the_flagged_ones(large: dict) -> None:
    subs = by_name(large["subs"])
    assert len(subs) == 30
    assert sorted(n for n, s in subs.items() if flagged(s)) == sorted(
        ["甲县第一镇", "甲县第二镇", "乙县第一镇", "丙县第一镇"]
    )
    assert subs["乙县第一镇"]["status"] == "unreadable"
    assert (subs["甲县第二镇"]["errors"], subs["甲县第二镇"]["warnings"]) == (0, 1)
    rules = {
        n: sorted({f["rule"] for f in large["finds"] if f["file"] == subs[n]["file"] and f["severity"] == "error"})
        for n in ("甲县第一镇", "丙县第一镇")
    }
    assert rules == {"甲县第一镇": ["A01", "B01"], "丙县第一镇": ["A01", "C01", "G02"]}


# ------------------------------------------------------------------ large batch: pages


def test_large_batch_pages_only_for_flagged_reports(large: dict) -> None:
    out, subs = large["out"], large["subs"]
    want = sorted(page_name(s["file"], s["agency"], s["year"]) for s in subs if flagged(s))
    assert sorted(p.name for p in (out / "reports").iterdir()) == want
    assert len(want) == 4
    assert sorted(p.name for p in (out / "counties").iterdir()) == sorted(county_page_name(c) for c in COUNTIES)


def test_page_names_only_for_the_paged_files_and_distinct_among_them() -> None:
    """A file without a page gets no name (""); the names of the pages are page_name's, made
    distinct among the pages only (the same file listed twice: ``#2``)."""
    from nianbao.outcome import FileOutcome

    def row(file: str, agency: str | None) -> FileOutcome:
        return FileOutcome(file, "", "validated", None, agency, 2023, None)

    files = [row("a/x.txt", "甲镇"), row("a/y.txt", "乙镇"), row("a/x.txt", "甲镇"), row("a/x.txt", "甲镇")]
    assert quality.page_names(files, [True, False, False, True]) == [
        page_name("a/x.txt", "甲镇", 2023),
        "",
        "",
        page_name("a/x.txt#2", "甲镇", 2023),
    ]
    assert quality.page_names(files, [False, True, True, True]) == [
        "",
        page_name("a/y.txt", "乙镇", 2023),
        page_name("a/x.txt", "甲镇", 2023),
        page_name("a/x.txt#2", "甲镇", 2023),
    ]


def test_large_batch_overview_lists_the_worst_and_the_counties(large: dict) -> None:
    out, subs = large["out"], large["subs"]
    t = dom(out / "index.html")
    assert t.css_first("#n-files").text() == "30"
    rows = t.css("#report-list tr")[1:]
    assert len(rows) == 5  # WORST_LIMIT, lowered by the fixture
    # worst first: the unreadable file, then by errors, warnings
    # the unreadable file named after its file (issue 14.5), then by errors, warnings
    assert texts([r.css("td")[1] for r in rows])[:4] == [
        "乙县第一镇（据文件名）",
        "丙县第一镇",
        "甲县第一镇",
        "甲县第二镇",
    ]
    assert "另有 25 份报告" in t.css_first("#reports").text()
    # a flagged report links to its page, a clean one to its row on the county page
    hrefs = [r.css_first("a.report-link").attributes["href"] for r in rows]
    s = by_name(subs)
    assert hrefs[1] == f"reports/{page_name(s['丙县第一镇']['file'], '丙县第一镇', 2023)}"
    fifth = next(x for x in subs if x["file"].endswith(rows[4].css("td")[-1].text()))
    assert not flagged(fifth)
    i = subs.index(fifth)
    assert hrefs[4] == f"counties/{county_page_name(county_of(fifth))}#r-{i}"
    assert "只为有错误或警告的报告和无法读取的文件生成了报告页面（4 页）" in t.css_first("#overview").text()


def county_rows(t: HTMLParser) -> list[list[str]]:
    return [texts(r.css("td")) for r in t.css("#county-summary tr")[1:]]


def expected_county_rows(subs: list[dict], finds: list[dict]) -> list[list[str]]:
    out = []
    for c in sorted(COUNTIES):
        mine = [s for s in subs if county_of(s) == c]
        val = [s for s in mine if s["status"] == "validated"]
        expected = COUNTIES[c] + (1 if c == "甲县" else 0)
        submitted_agencies = {s["agency"] for s in val}
        missing = expected - len(submitted_agencies)
        new = sum(1 for f in finds if any(f["file"] == s["file"] for s in mine))
        out.append(
            [
                c,
                str(len(mine)),
                str(expected),
                str(missing),
                str(sum(1 for s in val if not s["errors"] and not s["warnings"])),
                str(sum(1 for s in val if s["errors"])),
                str(sum(1 for s in val if not s["errors"] and s["warnings"])),
                str(len(mine) - len(val)),
                str(sum(s["errors"] for s in mine)),
                str(sum(s["warnings"] for s in mine)),
                str(new),
            ]
        )
    return out


def test_county_summary_on_the_overview(large: dict) -> None:
    t = dom(large["out"] / "index.html")
    rows = county_rows(t)
    assert rows == expected_county_rows(large["subs"], large["finds"])
    # the figures the fixture planted, spelled out: 甲县 misses 甲县未报镇, 乙县 its unreadable file's agency
    assert [r[:8] for r in rows] == [
        ["丙县", "8", "8", "0", "7", "1", "0", "0"],
        ["乙县", "10", "10", "1", "9", "0", "0", "1"],
        ["甲县", "12", "13", "1", "10", "1", "1", "0"],
    ]
    links = [a.attributes["href"] for a in t.css("#county-summary a.county-link")]
    assert links == [f"counties/{county_page_name(c)}" for c in sorted(COUNTIES)]


def test_county_page_lists_its_reports_worst_first(large: dict) -> None:
    out, subs, finds = large["out"], large["subs"], large["finds"]
    page = out / "counties" / county_page_name("甲县")
    t = dom(page)
    assert t.css_first("#county-title").text().startswith("甲县")
    mine = [s for s in subs if county_of(s) == "甲县"]
    rows = t.css("#county-report-list tr")[1:]
    assert sorted(r.css("td")[-1].text() for r in rows) == sorted(s["file"] for s in mine)
    assert texts([r.css("td")[1] for r in rows])[:2] == ["甲县第一镇", "甲县第二镇"]
    errs = [int(r.css("td")[4].text()) for r in rows]
    assert errs == sorted(errs, reverse=True)
    # each row carries the id the overview links to, its counts, and a link only when it has a page
    for r in rows:
        s = next(x for x in subs if x["file"] == r.css("td")[-1].text())
        assert r.attributes["id"] == f"r-{subs.index(s)}"
        cells = texts(r.css("td"))
        assert cells[4:7] == [str(s["errors"]), str(s["warnings"]), str(s["infos"])]
        link = r.css_first("a.report-link")
        if flagged(s):
            assert link is not None
            assert link.attributes["href"] == f"../reports/{page_name(s['file'], s['agency'], s['year'])}"
        else:
            assert link is None and r.css_first(".report-name").text() == s["agency"]
    cards = {k: t.css_first(f"#c-{k}").text() for k in ("files", "missing", "ok", "error", "warning", "unreadable")}
    assert cards == {"files": "12", "missing": "1", "ok": "10", "error": "1", "warning": "1", "unreadable": "0"}
    assert [n.attributes["data-agency"] for n in t.css("#county-missing .tag")] == ["甲县未报镇"]
    by_rule = {r.attributes["data-rule"]: texts(r.css("td"))[3] for r in t.css("#county-rules tr[data-rule]")}
    want: dict[str, int] = {}
    for f in finds:
        if any(f["file"] == s["file"] for s in mine):
            want[f["rule"]] = want.get(f["rule"], 0) + 1
    assert by_rule == {k: str(v) for k, v in want.items()}


def test_every_link_of_the_large_batch_resolves(large: dict) -> None:
    out: Path = large["out"]
    pages = [out / "index.html", *sorted((out / "counties").iterdir()), *sorted((out / "reports").iterdir())]
    ids: dict[Path, set[str]] = {}
    checked = 0
    for page in pages:
        for a in dom(page).css("a[href]"):
            target, _, anchor = (a.attributes["href"] or "").partition("#")
            path = (page.parent / target).resolve() if target else page.resolve()
            assert path.is_file(), (page.name, a.attributes["href"])
            if anchor:
                if path not in ids:
                    ids[path] = {n.attributes["id"] or "" for n in dom(path).css("[id]")}
                assert anchor in ids[path], (page.name, a.attributes["href"])
                checked += 1
    assert checked > 30
    # the report page links back to its county
    s = by_name(large["subs"])["丙县第一镇"]
    t = dom(out / "reports" / page_name(s["file"], s["agency"], s["year"]))
    assert t.css_first("#county-link").attributes["href"] == f"../counties/{county_page_name('丙县')}"


# ------------------------------------------------------------------ large batch: workbook


def test_large_batch_workbook(large: dict) -> None:
    subs, finds = large["subs"], large["finds"]
    wb = openpyxl.load_workbook(large["out"] / "findings.xlsx")
    assert wb.sheetnames == ["汇总", "各县（区）", "报告清单", "问题清单", "数值"]
    # 报告清单: the flagged files only, in file order, numbered as in submissions.json
    rep = list(wb["报告清单"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[3]) for r in rep] == [(i + 1, s["file"]) for i, s in enumerate(subs) if flagged(s)]
    # 问题清单: every error and warning, none of the notes
    rows = list(wb["问题清单"].iter_rows(min_row=2, values_only=True))
    want = [
        (
            k + 1,
            f["rule"],
            "；".join(cell_words(c) for c in f["cells"][:20])
            + (f"等共 {len(f['cells'])} 格" if len(f["cells"]) > 20 else ""),
        )
        for k, f in enumerate(finds)
        if f["severity"] != "info"
    ]
    assert sorted((r[0], r[4], r[8]) for r in rows) == want  # errors first (tests/test_workbook.py)
    assert {r[5] for r in rows} == {"错误", "警告"}
    assert wb["问题清单"].auto_filter.ref == f"A1:S{len(want) + 1}"
    # 数值: the VALUES_MAX_REPORTS (2, lowered) worst readable reports
    assert [r[0] for r in wb["数值"].iter_rows(min_row=2, values_only=True)] == ["丙县第一镇", "甲县第一镇"]
    # 各县（区）: the overview's county rows
    counties = [list(r) for r in wb["各县（区）"].iter_rows(min_row=2, values_only=True)]
    assert [[str(v) for v in r[:10]] + [str(r[11])] for r in counties] == expected_county_rows(subs, finds)
    # 汇总 says what is left out
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if r[0]}
    n_infos = sum(s["infos"] for s in subs)  # (the summarised notes of run.json counted on each report)
    assert summary["问题清单"] == (
        f"全部错误和警告，共 {len(want)} 条；提示 {n_infos} 条未逐条列出"
        "（按规则的条数见下表，逐条见 findings.json，多份报告共有的提示见 run.json 的 summaries）"
    )
    assert summary["报告清单"] == "有错误或警告的报告和无法读取的文件，共 4 个（通过的报告见各县（区）页面）"
    assert summary["数值"] == "问题最多的 2 份报告（最多 2 份）的各单元格数值；其余报告的数值见其报告页面"
    assert summary["说明"].startswith("本次报告较多（30 份）")
    # … and counts every rule, the notes included
    cells = list(wb["汇总"].iter_rows(values_only=True))
    head = cells.index(("规则", "名称", "级别", "问题数", "涉及报告"))
    by_rule = {r[0]: r[3] for r in cells[head + 1 :] if isinstance(r[3], int)}
    want_rules: dict[str, int] = {}
    common = json.loads((large["out"] / "run.json").read_text(encoding="utf-8"))["summaries"]
    for f in finds + expand_summaries(common, subs):  # (the summarised notes: one per report)
        want_rules[f["rule"]] = want_rules.get(f["rule"], 0) + 1
    assert by_rule == want_rules and "I06" in by_rule


# ------------------------------------------------------------------ small batch


def test_small_batch_keeps_a_page_per_report_and_adds_county_pages(small: dict) -> None:
    out, subs = small["out"], small["subs"]
    assert sorted(p.name for p in (out / "reports").iterdir()) == sorted(
        page_name(s["file"], s["agency"], s["year"]) for s in subs
    )
    assert sorted(p.name for p in (out / "counties").iterdir()) == sorted(county_page_name(c) for c in COUNTIES)
    t = dom(out / "index.html")
    assert len(t.css("#report-list tr")) == 31 and "另有" not in t.css_first("#reports").text()
    assert county_rows(t) == expected_county_rows(subs, small["finds"])
    # on a small batch every row of a county page links to the report's page
    c = dom(out / "counties" / county_page_name("乙县"))
    assert len(c.css("#county-report-list a.report-link")) == 10 and c.css(".report-name") == []
    wb = openpyxl.load_workbook(out / "findings.xlsx")
    assert wb["报告清单"].max_row == 31 and wb["问题清单"].max_row == len(small["finds"]) + 1
    assert wb["数值"].max_row == 1 + 29  # every readable report
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if r[0]}
    common = json.loads((out / "run.json").read_text(encoding="utf-8"))["summaries"]
    n_common = {s["rule"]: sum(x["count"] for x in common if x["rule"] == s["rule"]) for s in common}
    readable = sum(1 for s in subs if s["status"] == "validated")
    assert n_common == {"E02": readable, "I06": readable}  # (every synthetic report: no 2022, 社会组织)
    assert summary["问题清单"] == (
        f"全部 {len(small['finds'])} 条问题；另有多份报告共有的提示（E02 {readable} 条、I06 {readable} 条）"
        "未逐条列出，见各报告页面和下表的按规则统计"
    )
    assert "说明" not in summary


# ------------------------------------------------------------------ counties without the inbox layout


def test_county_of_files_prefers_flow_then_registry_then_folder() -> None:
    reps = [
        parse(CLEAN.replace("沙坡头区镇罗镇", name, 1), f"in/{folder}/{name}.txt")
        for name, folder in [("甲县第一镇", "x"), ("乙县第一镇", "乙县"), ("不在名册镇", "丙县"), ("无文件夹镇", "")]
    ]
    reps[3].file = "无文件夹镇.txt"
    o = validate_reports(reps)
    o.files[1].county = "流程给出的县"
    o.registry = [Agency("甲县", "甲县第一镇", "township"), Agency("乙县", "乙县第一镇", "township")]
    assert quality.county_of_files(o) == ["甲县", "流程给出的县", "丙县", quality.NO_COUNTY]


# ------------------------------------------------------------------ JSON and writes


def test_orjson_output_is_the_standard_librarys(small: dict) -> None:
    for name in ("submissions.json", "findings.json", "run.json", "changes.json"):
        raw = (small["out"] / name).read_bytes()
        obj = json.loads(raw)
        assert raw == (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), name
    # what orjson refuses falls back to the standard library
    assert dumps({"big": 2**70, 1: "x"}) == b'{\n  "big": 1180591620717411303424,\n  "1": "x"\n}\n'
    assert json.loads(dumps({"a": Path("x/y"), "中": [1.5, None]})) == {"a": "x/y", "中": [1.5, None]}


def test_only_the_contract_files_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")).name.split(".")[1])
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    outcome = validate_reports([parse(A01_ERROR, "a.txt"), parse(CLEAN, "b.txt")])
    write_all(outcome, tmp_path)
    assert sorted(synced) == ["findings", "run", "submissions"]
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {"index.html", "rules.html", "findings.xlsx", "changes.json"} <= written
    assert sum(1 for w in written if w.startswith("reports/")) == 2
    assert [p for p in tmp_path.rglob("*.tmp")] == []


def test_page_dir_refuses_names_and_planted_folders(tmp_path: Path) -> None:
    d = PageDir(tmp_path, "reports")
    assert d.file("a.html") == (tmp_path / "reports" / "a.html").resolve()
    for bad in ("", ".", "..", "../a.html", "a/b.html", "a\\b.html", "a\x00.html"):
        with pytest.raises(UnsafePath):
            d.file(bad)
    (tmp_path / "elsewhere").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "counties").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(UnsafePath):
        PageDir(out, "counties")


def test_page_dir_writes_pages_atomically_and_safely(tmp_path: Path) -> None:
    """PageDir.write: the text as UTF-8, mode 0644 whatever the umask, an old page or a planted
    symlink of that name replaced (never followed), a temporary file of its own name left by a
    killed run no obstacle, no temporary file left, names checked as by file()."""
    d = PageDir(tmp_path, "reports")
    old = os.umask(0o077)
    try:
        d.write("a.html", "<p>甲</p>")
    finally:
        os.umask(old)
    page = tmp_path / "reports" / "a.html"
    assert page.read_bytes() == "<p>甲</p>".encode()
    assert page.stat().st_mode & 0o777 == 0o644
    d.write("a.html", "乙" * 100_000)  # replaced, and a text larger than one write
    assert page.read_text(encoding="utf-8") == "乙" * 100_000
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (tmp_path / "reports" / "b.html").symlink_to(victim)
    d.write("b.html", "b")
    assert victim.read_text(encoding="utf-8") == "keep"
    assert not (tmp_path / "reports" / "b.html").is_symlink()
    assert (tmp_path / "reports" / "b.html").read_text(encoding="utf-8") == "b"
    stale = tmp_path / "reports" / f".c.html.{os.getpid()}.tmp"
    stale.symlink_to(victim)  # a leftover (or planted) temporary name: not written through
    d.write("c.html", "c")
    assert (tmp_path / "reports" / "c.html").read_text(encoding="utf-8") == "c"
    assert victim.read_text(encoding="utf-8") == "keep"
    stale.unlink()
    for bad in ("", ".", "..", "../a.html", "a/b.html", "a\\b.html", "a\x00.html"):
        with pytest.raises(UnsafePath):
            d.write(bad, "x")
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["a.html", "b.html", "c.html"]


# ------------------------------------------------------------------ two processes


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _xlsx_parts(path: Path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(path) as z:  # docProps/core.xml carries the creation time
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def test_pages_shared_with_a_helper_process_are_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = make_inbox(tmp_path / "inbox")
    outcome = validate_paths([inbox / "2023"], 1, registry=inbox / "registry.csv")
    monkeypatch.setattr(html, "PAGE_CHUNK", 2)  # NIANBAO_VIEW_PROCESSES=2: a helper whatever the size
    used: list[bool] = []
    real = html.run_shared

    def spy(*a: object, **k: object) -> bool:
        used.append(real(*a, **k))  # type: ignore[arg-type]
        return used[-1]

    monkeypatch.setattr(html, "run_shared", spy)
    monkeypatch.setenv("NIANBAO_VIEW_PROCESSES", "2")
    write_all(outcome, tmp_path / "two")
    monkeypatch.setenv("NIANBAO_VIEW_PROCESSES", "1")
    write_all(outcome, tmp_path / "one")
    assert used == [True, False]
    one, two = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert sorted(one) == sorted(two) and sum(1 for n in one if n.startswith("reports/")) == 30
    assert {n for n in one if one[n] != two[n]} <= {"findings.xlsx"}  # its creation time may differ
    assert _xlsx_parts(tmp_path / "one" / "findings.xlsx") == _xlsx_parts(tmp_path / "two" / "findings.xlsx")


def test_what_a_failing_helper_leaves_is_done_here(tmp_path: Path) -> None:
    from nianbao.report.parallel import run_shared

    parent = os.getpid()

    def unit(k: int) -> object:
        def run() -> None:
            if os.getpid() != parent and k % 3 == 0:
                raise RuntimeError("the helper fails")
            if os.getpid() != parent and k == 7:
                os._exit(3)  # or dies outright
            (tmp_path / f"{k}.{'helper' if os.getpid() != parent else 'here'}").write_text("x")

        return run

    units = [unit(k) for k in range(40)]
    assert run_shared(units, lambda: (tmp_path / "own").write_text("x"), helper=True) is True
    done = sorted(int(p.name.split(".")[0]) for p in tmp_path.iterdir() if p.name != "own")
    assert sorted(set(done)) == list(range(40)) and (tmp_path / "own").is_file()
    # without a helper: in order, here
    (tmp_path / "serial").mkdir()
    order: list[int] = []
    assert run_shared([lambda k=k: order.append(k) for k in range(5)], lambda: order.append(-1), helper=False) is False
    assert order == [-1, 0, 1, 2, 3, 4]


def test_an_error_here_stops_the_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    import time as _time

    from nianbao.report import parallel

    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(parallel.os, "fork", fork)

    def boom() -> None:
        raise ValueError("own work failed")

    slow = [lambda: _time.sleep(0.05) for _ in range(200)]
    t0 = _time.monotonic()
    with pytest.raises(ValueError, match="own work failed"):
        parallel.run_shared(slow, boom, helper=True)
    assert _time.monotonic() - t0 < 5  # the helper was killed, not waited for (200 x 50 ms)
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)  # and reaped: no zombie left


def test_a_hostile_county_name_stays_text_and_inside(tmp_path: Path) -> None:
    outcome = validate_reports([parse(A01_ERROR, "in/a.txt"), parse(CLEAN, "in/b.txt")])
    evil = "<script>alert(1)</script>/../../x"
    outcome.files[0].county = evil
    write_all(outcome, tmp_path / "out")
    pages = sorted(p.name for p in (tmp_path / "out" / "counties").iterdir())
    assert pages == sorted([county_page_name(evil), county_page_name("in")])
    assert county_page_name(evil).startswith("script_alert_1_script_x-")
    t = dom(tmp_path / "out" / "index.html")
    assert t.css("script") == []
    assert [a.text() for a in t.css("#county-summary a.county-link")] == sorted([evil, "in"])
    c = dom(tmp_path / "out" / "counties" / county_page_name(evil))
    assert c.css("script") == [] and c.css_first("#county-title").text().startswith(evil)
    assert not (tmp_path / "x").exists()
