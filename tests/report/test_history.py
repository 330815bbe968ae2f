"""What changed since the previous run, and the auditors' acknowledgements (``nianbao ack``)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import openpyxl
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from typer.testing import CliRunner

from nianbao.cli.app import app
from nianbao.report.history import ACK_FIELDS, Ack, AckError, append_ack, load_acks, today
from nianbao.report.names import page_name
from tests.helpers import seed_text, set_cells

runner = CliRunner()

CLEAN = seed_text()
A01_ERROR = set_cells(CLEAN, {"3:3.3.4:natural": "1"})  # A01 (row) + B01 (column natural)
NEGATIVE = set_cells(CLEAN, {"3:4:legal": "-1"})  # A01, C01, G02
BLANK = set_cells(CLEAN, {"3:3.1:natural": ""})  # a G04 warning
TEXT_CELL = set_cells(CLEAN, {"2:rules:issued": "若干"})  # G01


def validate(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, ["validate", *args])
    return r.exit_code, r.output


def ack(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, ["ack", *args])
    return r.exit_code, r.output


def load(out: Path, name: str) -> list | dict:
    return json.loads((out / name).read_text(encoding="utf-8"))


def write(folder: Path, texts: dict[str, str]) -> None:
    """Write each text as ``folder/name``, titled with its own agency (``<stem>镇``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text.replace("沙坡头区镇罗镇", f"{Path(name).stem}镇", 1), encoding="utf-8")


def keys(findings: list[dict]) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(Path(f["file"]).name, f["rule"], tuple(f["cells"])) for f in findings}


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def dom(p: Path) -> HTMLParser:
    return HTMLParser(p.read_text(encoding="utf-8"))


@pytest.fixture
def two_runs(tmp_path: Path) -> dict[str, Path]:
    """Run 1 on a, b, c, e; then b corrected, a broken, d added, e removed; run 2 with --previous."""
    inbox = tmp_path / "inbox"
    write(inbox, {"a.txt": CLEAN, "b.txt": A01_ERROR, "c.txt": BLANK, "e.txt": CLEAN})
    assert validate(str(inbox), "--out", str(tmp_path / "run1"))[0] == 1
    write(inbox, {"a.txt": NEGATIVE, "b.txt": CLEAN, "d.txt": TEXT_CELL})
    (inbox / "e.txt").unlink()
    code, output = validate(str(inbox), "--out", str(tmp_path / "run2"), "--previous", str(tmp_path / "run1"))
    assert code == 1, output
    return {"inbox": inbox, "run1": tmp_path / "run1", "run2": tmp_path / "run2"}


def test_changes_since_previous_run(two_runs: dict[str, Path]) -> None:
    run1, run2, inbox = two_runs["run1"], two_runs["run2"], two_runs["inbox"]
    f1, f2 = keys(load(run1, "findings.json")), keys(load(run2, "findings.json"))
    ch = load(run2, "changes.json")
    assert isinstance(ch, dict)
    assert ch["previous_run"] == str(run1)
    assert ch["submitted"] == [str(inbox / "d.txt")]
    assert ch["corrected"] == [str(inbox / "a.txt"), str(inbox / "b.txt")]
    assert ch["withdrawn"] == [str(inbox / "e.txt")]
    new = keys(ch["new"])
    resolved = keys(ch["resolved"])
    # new: every finding of the new report d, and those of a that were not there before
    a_new = {k for k in f2 if k[0] == "a.txt"} - f1
    d_all = {k for k in f2 if k[0] == "d.txt"}
    assert new == a_new | d_all
    assert {r for _f, r, _c in a_new} >= {"A01", "C01", "G02"}
    assert {r for _f, r, _c in d_all} >= {"G01"}
    # the notes nearly every report carries (I06, E02) are summarised once per run (run.json
    # "summaries"), not followed from run to run: d's I06 is there, neither new nor resolved
    i06 = next(s for s in load(run2, "run.json")["summaries"] if s["rule"] == "I06")
    subs = load(run2, "submissions.json")
    assert str(inbox / "d.txt") in [subs[i]["file"] for i in i06["submissions"]]
    assert not {r for _f, r, _c in new | resolved} & {"I06", "E02"}
    # resolved: b's sum-rule errors (b was corrected); e's findings are not "resolved", e is gone
    assert resolved == {k for k in f1 if k[0] in ("a.txt", "b.txt", "c.txt")} - f2
    assert {r for f, r, _c in resolved if f == "b.txt"} == {"A01", "B01"}
    # the rest persists: e.g. c's blank-cell warning
    still = f2 - new
    assert still == {k for k in f1 if k[0] in ("a.txt", "b.txt", "c.txt")} & f2
    assert ("c.txt", "G04") in {(f, r) for f, r, _c in still}
    assert ch["counts"] == {
        "new": len(new),
        "still": len(still),
        "acked": 0,
        "resolved": len(resolved),
        "submitted": 1,
        "corrected": 2,
        "withdrawn": 1,
    }
    idx = dom(run2 / "index.html")
    shown = {k: idx.css_first(f"#n-{k}").text() for k in ("new", "resolved", "submitted", "corrected", "acked")}
    assert shown == {
        "new": str(len(new)),
        "resolved": str(len(resolved)),
        "submitted": "1",
        "corrected": "2",
        "acked": "0",
    }
    # today's news comes first on the overview, errors before the notes
    assert idx.css("section")[0].attributes["id"] == "news"
    sev = {(Path(f["file"]).name, f["rule"], tuple(f["cells"])): f["severity"] for f in ch["new"]}
    new_rows = idx.css("#new-findings tr")[1:]
    assert sorted(r.css("td")[3].text() for r in new_rows) == sorted(k[1] for k in new if sev[k] != "info")
    info_rows = idx.css("#new-infos tr")[1:]
    assert sorted(r.css("td")[3].text() for r in info_rows) == sorted(k[1] for k in new if sev[k] == "info")
    levels = [r.css("td")[2].text() for r in new_rows]
    assert levels == sorted(levels, key=["错误", "警告"].index)  # errors first
    got_resolved = sorted(r.css("td")[2].text() for r in idx.css("#resolved-findings tr")[1:])
    assert got_resolved == sorted(k[1] for k in resolved)
    assert [r.css("td")[2].text() for r in idx.css("#withdrawn-reports tr")[1:]] == [str(inbox / "e.txt")]
    # the report page marks each finding's status
    subs = {Path(s["file"]).name: s for s in load(run2, "submissions.json")}
    page = run2 / "reports" / page_name(subs["c.txt"]["file"], subs["c.txt"]["agency"], subs["c.txt"]["year"])
    statuses = {li.attributes["data-rule"]: li.attributes["data-status"] for li in dom(page).css("li[data-rule]")}
    assert {s for r, s in statuses.items() if r not in ("I06", "E02")} == {"still"}
    assert statuses["I06"] == statuses["E02"] == "common"  # (summarised: shared by many reports)
    wb = openpyxl.load_workbook(run2 / "findings.xlsx")
    status = {(Path(r[3]).name, r[4], r[7]) for r in wb["问题清单"].iter_rows(min_row=2, values_only=True)}
    assert ("a.txt", "G02", "新发现") in status and ("c.txt", "G04", "仍存在") in status


def test_renamed_file_is_matched_by_agency_and_year(tmp_path: Path) -> None:
    (tmp_path / "in1").mkdir()
    (tmp_path / "in1" / "镇罗镇.txt").write_text(A01_ERROR, encoding="utf-8")
    validate(str(tmp_path / "in1"), "--out", str(tmp_path / "r1"))
    (tmp_path / "in2").mkdir()
    (tmp_path / "in2" / "镇罗镇_更正版.txt").write_text(CLEAN, encoding="utf-8")
    validate(str(tmp_path / "in2"), "--out", str(tmp_path / "r2"), "--previous", str(tmp_path / "r1"))
    ch = load(tmp_path / "r2", "changes.json")
    assert isinstance(ch, dict)
    assert ch["submitted"] == [] and ch["withdrawn"] == []
    assert ch["corrected"] == [str(tmp_path / "in2" / "镇罗镇_更正版.txt")]
    assert {f["rule"] for f in ch["resolved"]} >= {"A01", "B01"}
    assert {f["rule"] for f in ch["new"]} & {"A01", "B01", "G04"} == set()


def test_without_previous_everything_is_new(tmp_path: Path) -> None:
    write(tmp_path / "in", {"b.txt": A01_ERROR})
    validate(str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    ch = load(tmp_path / "out", "changes.json")
    assert isinstance(ch, dict)
    assert ch["previous_run"] is None
    assert keys(ch["new"]) == keys(load(tmp_path / "out", "findings.json"))
    assert "没有可比较的上一次运行结果" in dom(tmp_path / "out" / "index.html").css_first("#news").text()


def test_previous_option_errors(tmp_path: Path) -> None:
    write(tmp_path / "in", {"a.txt": CLEAN})
    code, output = validate(str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--previous", str(tmp_path / "nope"))
    assert code == 2 and "找不到上一次运行的目录" in output
    (tmp_path / "o").mkdir()
    code, output = validate(str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--previous", str(tmp_path / "o"))
    assert code == 2 and "不能与 --out 是同一个目录" in output
    # a previous folder that is not a run: noted on the overview, the run goes on
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "submissions.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "junk" / "findings.json").write_text("[]", encoding="utf-8")
    code, _ = validate(str(tmp_path / "in"), "--out", str(tmp_path / "o2"), "--previous", str(tmp_path / "junk"))
    assert code == 0
    notes = [n.text() for n in dom(tmp_path / "o2" / "index.html").css(".note")]
    assert len(notes) == 1 and notes[0].startswith(f"上一次运行的结果无法读取：{tmp_path / 'junk'}")


# ------------------------------------------------------------------ acknowledgements


def test_ack_keeps_a_warning_listed_but_out_of_new(tmp_path: Path) -> None:
    inbox, acks = tmp_path / "inbox", tmp_path / "inbox" / "acknowledgements.csv"
    write(inbox, {"c.txt": BLANK})
    c = inbox / "c.txt"
    validate(str(c), "--out", str(tmp_path / "run1"))
    g04 = next(f for f in load(tmp_path / "run1", "findings.json") if f["rule"] == "G04")
    args = ["--file", str(c), "--rule", "g04", "--reviewer", "张三", "--note", "该格确无数据", "--acks", str(acks)]
    cells = [x for cell in g04["cells"] for x in ("--cell", cell)]
    code, output = ack(*args, *cells, "--run", str(tmp_path / "run1"))
    assert code == 0, output
    assert "已记录复核" in output and "张三" in output
    rows = list(csv.reader(acks.read_text(encoding="utf-8-sig").splitlines()))
    assert rows == [list(ACK_FIELDS), [sha(c), "G04", " ".join(g04["cells"]), "张三", "该格确无数据", today()]]
    assert acks.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel/WPS show the Chinese right
    # the same acknowledgement twice is recorded once
    assert ack(*args, *cells)[0] == 0
    assert len(acks.read_text(encoding="utf-8-sig").splitlines()) == 2

    code, _ = validate(
        str(c), "--out", str(tmp_path / "run2"), "--previous", str(tmp_path / "run1"), "--acks", str(acks)
    )
    ch = load(tmp_path / "run2", "changes.json")
    assert isinstance(ch, dict)
    assert [a["finding"]["rule"] for a in ch["acknowledged"]] == ["G04"]
    assert ch["acknowledged"][0]["reviewer"] == "张三"
    assert ch["counts"]["acked"] == 1 and ch["new"] == []
    subs = load(tmp_path / "run2", "submissions.json")
    page = tmp_path / "run2" / "reports" / page_name(subs[0]["file"], subs[0]["agency"], subs[0]["year"])
    li = dom(page).css_first('li[data-rule="G04"]')
    assert li.attributes["data-status"] == "acked"
    assert "已由 张三 于" in li.text() and "该格确无数据" in li.text()
    assert dom(tmp_path / "run2" / "index.html").css_first("#n-acked").text() == "1"
    wb = openpyxl.load_workbook(tmp_path / "run2" / "findings.xlsx")
    row = next(r for r in wb["问题清单"].iter_rows(min_row=2, values_only=True) if r[4] == "G04")
    assert (row[7], row[16], row[17]) == ("已复核", "张三", "该格确无数据")

    # the report changes (another cell edited): the acknowledgement no longer applies
    c.write_text(set_cells(BLANK, {"3:3.3.1:natural": "0 "}), encoding="utf-8")
    validate(str(c), "--out", str(tmp_path / "run3"), "--previous", str(tmp_path / "run2"), "--acks", str(acks))
    ch3 = load(tmp_path / "run3", "changes.json")
    assert isinstance(ch3, dict)
    assert ch3["counts"]["acked"] == 0 and ch3["corrected"] == [str(c)]
    g04_now = next(f for f in load(tmp_path / "run3", "findings.json") if f["rule"] == "G04")
    assert g04_now["cells"] == g04["cells"]
    subs3 = load(tmp_path / "run3", "submissions.json")
    page3 = tmp_path / "run3" / "reports" / page_name(subs3[0]["file"], subs3[0]["agency"], subs3[0]["year"])
    li3 = dom(page3).css_first('li[data-rule="G04"]')
    assert li3.attributes["data-status"] == "still" and "报告已更正，问题仍在" in li3.text()


def test_ack_without_previous_run_still_leaves_new_view(tmp_path: Path) -> None:
    write(tmp_path, {"c.txt": BLANK})
    acks = tmp_path / "acks.csv"
    assert ack("--file", str(tmp_path / "c.txt"), "--rule", "G04", "--reviewer", "李四", "--acks", str(acks))[0] == 0
    validate(str(tmp_path / "c.txt"), "--out", str(tmp_path / "out"), "--acks", str(acks))
    ch = load(tmp_path / "out", "changes.json")
    assert isinstance(ch, dict)
    assert "G04" not in {f["rule"] for f in ch["new"]}  # no cells given: every G04 of the report
    assert [a["finding"]["rule"] for a in ch["acknowledged"]] == ["G04"]
    assert keys(ch["new"]) == {k for k in keys(load(tmp_path / "out", "findings.json")) if k[1] != "G04"}


def test_ack_refusals(tmp_path: Path) -> None:
    write(tmp_path, {"b.txt": A01_ERROR, "c.txt": BLANK})
    validate(str(tmp_path / "b.txt"), str(tmp_path / "c.txt"), "--out", str(tmp_path / "run"))
    acks = tmp_path / "acks.csv"
    base = ["--reviewer", "张三", "--acks", str(acks)]
    code, output = ack("--file", str(tmp_path / "b.txt"), "--rule", "A01", *base)
    assert code == 2 and "错误级别，不能标记为已复核" in output
    code, output = ack("--file", str(tmp_path / "b.txt"), "--rule", "Z99", *base)
    assert code == 2 and "规则代码 Z99 不在规则目录中" in output
    code, output = ack("--file", str(tmp_path / "c.txt"), "--rule", "G04", "--cell", "9:x:y", *base)
    assert code == 2 and "单元格编号无效：9:x:y" in output
    code, output = ack("--file", str(tmp_path / "nope.txt"), "--rule", "G04", *base)
    assert code == 2 and "找不到报告文件" in output
    code, output = ack("--file", str(tmp_path / "b.txt"), "--rule", "G04", *base, "--run", str(tmp_path / "run"))
    assert code == 2 and "该报告没有 G04 问题" in output
    (tmp_path / "c.txt").write_text(BLANK + "\n", encoding="utf-8")  # changed since the run
    code, output = ack("--file", str(tmp_path / "c.txt"), "--rule", "G04", *base, "--run", str(tmp_path / "run"))
    assert code == 2 and "文件可能已修改" in output
    assert not acks.exists()


def test_load_acks_reports_bad_rows(tmp_path: Path) -> None:
    p = tmp_path / "acks.csv"
    good = "a" * 64
    p.write_text(
        "sha256,rule,cells,reviewer,note,date\n"
        f"{good},G04,3:3.1:total,张三,ok,2024-01-02\n"
        "abc,G04,,张三,,\n"
        f"{good},A01,,张三,,\n"
        f"{good},G04,3:nope:total,张三,,\n"
        f"{good},G04,,,,\n"
        "short,row\n"
        "\n",
        encoding="utf-8",
    )
    acks, problems = load_acks(p)
    assert acks == [Ack(good, "G04", ("3:3.1:total",), "张三", "ok", "2024-01-02", 2)]
    assert problems == [
        f"确认记录文件 {p}：第 3 行sha256 应为 64 位十六进制小写字符，已跳过",
        f"确认记录文件 {p}：第 4 行规则 A01 为错误级别，不能标记为已复核，已跳过",
        f"确认记录文件 {p}：第 5 行单元格编号无效：3:nope:total，已跳过",
        f"确认记录文件 {p}：第 6 行缺少复核人，已跳过",
        f"确认记录文件 {p}：第 7 行应有 6 列，已跳过",
    ]
    p.write_text("who,what\n", encoding="utf-8")
    assert load_acks(p) == ([], [f"确认记录文件 {p}：第 1 行应为表头 sha256,rule,cells,reviewer,note,date"])
    with pytest.raises(AckError, match="第 1 行应为表头"):
        append_ack(p, Ack(good, "G04", (), "张三", "", "2024-01-02"))
    assert load_acks(tmp_path / "missing.csv") == ([], [])


def test_ack_note_with_commas_and_quotes_round_trips(tmp_path: Path) -> None:
    p = tmp_path / "acks.csv"
    a = Ack("b" * 64, "G04", ("3:3.1:total", "3:3.2:total"), "王五", '已核实, "无数据"\n第二行', "2024-03-04")
    append_ack(p, a)
    append_ack(p, Ack("c" * 64, "I06", (), "王五", "", "2024-03-04"))
    got, problems = load_acks(p)
    assert problems == []
    assert [(x.sha256, x.rule, x.cells, x.note) for x in got] == [
        (a.sha256, "G04", a.cells, a.note.strip()),
        ("c" * 64, "I06", (), ""),
    ]


ROOT = Path(__file__).resolve().parents[2]


def test_identical_runs_have_nothing_new_and_a_missing_report_is_the_same_problem(tmp_path: Path) -> None:
    """Issue 14.1: the demo inbox (one registered report removed: an M01 on the registry) run twice
    gives zero new and zero resolved findings; a file moved and renamed keeps its findings."""
    import shutil

    inbox = tmp_path / "submissions"
    shutil.copytree(ROOT / "data" / "submissions", inbox)
    (inbox / "2023" / "示例县" / "示例县福关镇_2023.txt").unlink()
    reg = str(ROOT / "data" / "registry.csv")
    assert validate(str(inbox), "--registry", reg, "--out", str(tmp_path / "r1"))[0] == 1
    m01 = [f for f in load(tmp_path / "r1", "findings.json") if f["rule"] == "M01"]
    assert [(f["agency"], f["year"], f["file"]) for f in m01] == [("示例县福关镇", 2023, reg)]
    # every new finding is counted in a county's 新问题, the missing report's in its county's
    idx = dom(tmp_path / "r1" / "index.html")
    rows = [[c.text() for c in r.css("td")] for r in idx.css("#county-summary tr")[1:]]
    assert (
        sum(int(r[-1]) for r in rows)
        == int(idx.css_first("#n-new").text())
        == len(load(tmp_path / "r1", "findings.json"))
    )
    code, output = validate(
        str(inbox), "--registry", reg, "--out", str(tmp_path / "r2"), "--previous", str(tmp_path / "r1")
    )
    assert code == 1, output
    ch = load(tmp_path / "r2", "changes.json")
    assert isinstance(ch, dict)
    n = len(load(tmp_path / "r2", "findings.json"))
    assert ch["counts"] == {
        "new": 0, "still": n, "acked": 0, "resolved": 0, "submitted": 0, "corrected": 0, "withdrawn": 0
    }  # fmt: skip
    idx = dom(tmp_path / "r2" / "index.html")
    assert (idx.css_first("#n-new").text(), idx.css_first("#n-resolved").text()) == ("0", "0")
    # moved to another folder under another name (same bytes): its findings are still there
    moved = inbox / "2023" / "改名" / "南川镇年报.txt"
    moved.parent.mkdir()
    (inbox / "2023" / "示例县" / "示例县南川镇_2023.txt").rename(moved)
    # and the missing report arrives: its M01 is resolved, nothing else changes
    shutil.copy(ROOT / "data" / "submissions" / "2023" / "示例县" / "示例县福关镇_2023.txt", inbox / "2023" / "示例县")
    validate(str(inbox), "--registry", reg, "--out", str(tmp_path / "r3"), "--previous", str(tmp_path / "r2"))
    ch = load(tmp_path / "r3", "changes.json")
    assert isinstance(ch, dict)
    assert [(f["rule"], f["agency"]) for f in ch["resolved"]] == [("M01", "示例县福关镇")]
    assert ch["new"] == [] or {f["file"] for f in ch["new"]} == {
        str(inbox / "2023" / "示例县" / "示例县福关镇_2023.txt")
    }
    assert ch["submitted"] == [str(inbox / "2023" / "示例县" / "示例县福关镇_2023.txt")]
    nanchuan = [f for f in load(tmp_path / "r3", "findings.json") if f["file"] == str(moved)]
    assert {f["rule"] for f in nanchuan} >= {"A01"}
    assert ch["corrected"] == [] and ch["withdrawn"] == []
    assert not any(f["file"] == str(moved) for f in ch["new"])
