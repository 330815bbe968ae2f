"""Pages reused from the previous run (nianbao.report.reuse): what a rerun renders and what it links."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest

from nianbao.report import history, reuse
from nianbao.report.names import page_name
from tests.helpers import set_cells
from tests.report.test_history import A01_ERROR, BLANK, CLEAN, NEGATIVE, ack, load, validate, write

TEXTS = {"a.txt": CLEAN, "b.txt": A01_ERROR, "c.txt": BLANK, "d.txt": NEGATIVE}


def manifest(run: Path) -> dict:
    data = json.loads((run / reuse.MANIFEST).read_text(encoding="utf-8"))
    assert data["rendered"] == len(data["rendered_pages"])
    return data


def pages(run: Path) -> dict[str, str]:
    """stem of the report file (a, b, c, d) -> its page, relative to the run folder."""
    return {
        Path(s["file"]).stem: f"reports/{page_name(s['file'], s['agency'], s['year'])}"
        for s in load(run, "submissions.json")
    }


def county(run: Path) -> str:
    (page,) = (run / "counties").iterdir()
    return f"counties/{page.name}"


def run(inbox: Path, out: Path, previous: Path | None = None, *extra: str) -> dict:
    args = [str(inbox), "--out", str(out), *(("--previous", str(previous)) if previous else ()), *extra]
    code, output = validate(*args)
    assert code == 1, output  # the reports have findings
    return manifest(out)


@pytest.fixture
def three_runs(tmp_path: Path) -> tuple[Path, list[Path]]:
    """The inbox run three times: first, then twice unchanged (each against the one before)."""
    inbox = tmp_path / "inbox"
    write(inbox, TEXTS)
    runs = [tmp_path / f"run{k}" for k in (1, 2, 3)]
    run(inbox, runs[0])
    run(inbox, runs[1], runs[0])
    run(inbox, runs[2], runs[1])
    return inbox, runs


def test_unchanged_rerun_reuses_every_page_and_they_are_what_a_fresh_render_gives(
    three_runs: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, (run1, run2, run3) = three_runs
    p = pages(run1)
    everything = sorted([*p.values(), county(run1), "rules.html", "findings.xlsx", "index.html"])
    first = manifest(run1)
    assert (first["rendered"], first["reused"]) == (8, 0)
    assert first["rendered_pages"] == everything
    # the second run: every finding of the first run is now "still there" (仍存在, no longer 新发现;
    # the clean report has its notes, I06 and E02): every page that shows findings, the county page
    # (its counts of new findings) and the workbook change; the rules page does not
    second = manifest(run2)
    assert second["rendered_pages"] == sorted([*p.values(), county(run1), "findings.xlsx", "index.html"])
    assert second["reused"] == 1
    # the third: nothing changed, nothing but the overview (this run's time and stages) is rendered
    third = manifest(run3)
    assert (third["rendered"], third["reused"], third["rendered_pages"]) == (1, 7, ["index.html"])
    for rel in [*p.values(), county(run1), "rules.html", "findings.xlsx"]:
        assert (run3 / rel).stat().st_ino == (run2 / rel).stat().st_ino or rel == "findings.xlsx", rel

    # a fresh render of the same run (another code salt: nothing reused) is byte for byte the same
    monkeypatch.setattr(reuse, "code_salt", lambda: "another version of the code")
    fresh = tmp_path / "fresh"
    assert run(inbox, fresh, run2)["reused"] == 0
    for rel in [*p.values(), county(run1), "rules.html"]:
        assert (run3 / rel).read_bytes() == (fresh / rel).read_bytes(), rel
    # the workbook: every sheet after 汇总 as stored, 汇总 the same but for this run's time
    with zipfile.ZipFile(run3 / "findings.xlsx") as got, zipfile.ZipFile(fresh / "findings.xlsx") as want:
        assert sorted(got.namelist()) == sorted(want.namelist())
        differ = [n for n in want.namelist() if got.read(n) != want.read(n)]
        assert set(differ) <= {"xl/worksheets/sheet1.xml", "docProps/core.xml"}
    got_rows = list(openpyxl.load_workbook(run3 / "findings.xlsx")["汇总"].iter_rows(values_only=True))
    want_rows = list(openpyxl.load_workbook(fresh / "findings.xlsx")["汇总"].iter_rows(values_only=True))
    assert [r for r in got_rows if r[0] != "运行时间"] == [r for r in want_rows if r[0] != "运行时间"]
    run3_time = json.loads((run3 / "run.json").read_text(encoding="utf-8"))["started_at"]
    shown = next(r[1] for r in got_rows if r[0] == "运行时间")
    assert shown.isoformat(timespec="seconds") == run3_time[:19]  # this run's time, not the old workbook's


def test_one_changed_report_rerenders_its_page_and_the_pages_that_list_it(
    three_runs: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    inbox, (run1, _run2, run3) = three_runs
    p = pages(run1)
    # b gets one finding more (a blank cell: G04): the findings of c and d move one place down in
    # the run, but their pages number findings on their own (f-0, f-1 …): they are reused
    (inbox / "b.txt").write_text(
        set_cells(A01_ERROR, {"3:3.1:natural": ""}).replace("沙坡头区镇罗镇", "b镇", 1), encoding="utf-8"
    )
    run4 = tmp_path / "run4"
    got = run(inbox, run4, run3)
    assert got["rendered_pages"] == sorted([p["b"], county(run1), "rules.html", "findings.xlsx", "index.html"])
    assert got["reused"] == 3  # the pages of a, c and d
    for name in ("submissions.json", "findings.json"):  # other bytes: written, not linked
        assert (run4 / name).stat().st_ino != (run3 / name).stat().st_ino, name
    assert 'href="#f-0"' in (run4 / p["b"]).read_text(encoding="utf-8")
    # the anchors the overview links to are the page's own
    news = (run4 / "index.html").read_text(encoding="utf-8")
    assert f"{p['b']}#f-" in news and f"{p['b']}#f-{len(load(run4, 'findings.json'))}" not in news


def acknowledge_one_g04(run_dir: Path, tmp_path: Path) -> Path:
    """An acknowledgement file that accepts the first G04 finding of ``run_dir``."""
    acks = tmp_path / "acks.csv"
    g04 = next(f for f in load(run_dir, "findings.json") if f["rule"] == "G04")
    code, output = ack(
        "--acks", str(acks), "--file", g04["file"], "--rule", "G04", "--cell", g04["cells"][0],
        "--reviewer", "张三", "--note", "该格确无数据",
    )  # fmt: skip
    assert code == 0, output
    return acks


def test_a_change_of_review_state_rerenders_that_reports_page(
    three_runs: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    inbox, (run1, _run2, run3) = three_runs
    p = pages(run1)
    acks = acknowledge_one_g04(run3, tmp_path)
    run4 = tmp_path / "run4"
    got = run(inbox, run4, run3, "--acks", str(acks))
    # the county page shows no acknowledgement (its key is what it shows): reused with the others
    assert got["rendered_pages"] == sorted([p["c"], "findings.xlsx", "index.html"])
    assert got["reused"] == 5  # the pages of a, b, d, the county and rules.html
    assert "已由 张三 于" in (run4 / p["c"]).read_text(encoding="utf-8")


def test_a_change_of_code_or_templates_renders_everything_again(
    three_runs: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, (_run1, _run2, run3) = three_runs
    monkeypatch.setattr(reuse, "code_salt", lambda: "a template edited")
    got = run(inbox, tmp_path / "run4", run3)
    assert (got["rendered"], got["reused"]) == (8, 0)


def test_the_tree_hash_covers_code_templates_and_style(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "templates").mkdir(parents=True)
    files = {"mod.py": "x = 1\n", "templates/page.html.j2": "<p>{{ x }}</p>\n", "templates/_style.css": "p {}\n"}
    for name, text in files.items():
        (pkg / name).write_text(text, encoding="utf-8")
    salt = reuse.tree_hash(pkg)
    for name in files:
        before = (pkg / name).read_text(encoding="utf-8")
        (pkg / name).write_text(before + " ", encoding="utf-8")
        assert reuse.tree_hash(pkg) != salt, name
        (pkg / name).write_text(before, encoding="utf-8")
    assert reuse.tree_hash(pkg) == salt
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    assert reuse.tree_hash(pkg) == salt  # compiled files are not sources


def test_the_code_salt_is_the_whole_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reuse, "tree_hash", lambda root: str(root))
    reuse.code_salt.cache_clear()
    try:
        assert reuse.code_salt() == str(Path(reuse.__file__).resolve().parents[1])  # nianbao/, not report/
    finally:
        reuse.code_salt.cache_clear()


def test_an_unchanged_rerun_is_reviewed_as_the_full_matching_would(
    three_runs: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, (_run1, _run2, run3) = three_runs

    def not_read(path: Path | None) -> None:
        raise AssertionError("the previous run's JSON files were parsed")

    with monkeypatch.context() as m:  # the same contract files: nothing parsed, nothing matched
        m.setattr(history, "load_previous", not_read)
        fast = run(inbox, tmp_path / "fast", run3)
    with monkeypatch.context() as m:
        m.setattr(history, "same_contract", lambda previous, outcome, out=None: False)
        full = run(inbox, tmp_path / "full", run3)
    assert load(tmp_path / "fast", "changes.json") == load(tmp_path / "full", "changes.json")
    assert fast["pages"] == full["pages"]  # every page and the workbook show the same
    assert fast["rendered_pages"] == full["rendered_pages"] == ["index.html"]


def test_an_unchanged_rerun_takes_the_whole_run_without_keying_a_page(
    three_runs: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nianbao.report import excel, html

    inbox, (run1, run2, run3) = three_runs
    second, third = manifest(run2), manifest(run3)
    # the first run compares with nothing: its contract's digest is not needed (nor computed)
    assert manifest(run1)["views"] is None and manifest(run1)["contract"] is None
    assert second["views"] == third["views"] and second["contract"] == third["contract"]
    assert third["pages"] == second["pages"]

    def keyed(*args: object) -> str:
        raise AssertionError("a page was keyed")

    monkeypatch.setattr(html, "report_key", keyed)
    monkeypatch.setattr(html, "county_context", keyed)
    monkeypatch.setattr(excel, "workbook_key", keyed)
    run4 = tmp_path / "run4"
    got = run(inbox, run4, run3)
    assert (got["rendered"], got["reused"], got["rendered_pages"]) == (1, 7, ["index.html"])
    assert got["pages"] == third["pages"] and got["views"] == third["views"]
    for rel in third["pages"]:
        same = (run4 / rel).stat().st_ino == (run3 / rel).stat().st_ino
        assert same != (rel == "findings.xlsx"), rel  # the workbook: this run's 汇总, the rest as stored
    assert load(run4, "changes.json")["previous_run"] == str(run3)
    assert (run4 / "index.html").stat().st_ino != (run3 / "index.html").stat().st_ino  # this run's own
    # the contract files hold the same bytes: linked from the previous run, not written again
    for name in ("submissions.json", "findings.json"):
        assert (run4 / name).stat().st_ino == (run3 / name).stat().st_ino == (run1 / name).stat().st_ino


def test_the_whole_run_is_taken_only_when_the_review_is_the_same(
    three_runs: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    """One finding acknowledged (the contract files are the same): the views key changes, the
    pages are keyed one by one, and only those that show the acknowledgement are rendered."""
    inbox, (run1, _run2, run3) = three_runs
    acks = acknowledge_one_g04(run3, tmp_path)
    run4 = tmp_path / "run4"
    got = run(inbox, run4, run3, "--acks", str(acks))
    assert got["contract"] == manifest(run3)["contract"]  # the same reports and findings …
    assert got["views"] != manifest(run3)["views"]  # … reviewed otherwise
    assert pages(run1)["c"] in got["rendered_pages"] and got["reused"] >= 3


def test_a_summarised_info_acknowledged_is_not_taken_with_the_whole_run(
    three_runs: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    """A summarised info (run.json ``summaries``) acknowledged on one report in the same
    acknowledgements file: the contract files and run.json are the same, but that report's page
    shows the acknowledgement, so the whole run is not taken."""
    inbox, (_run1, _run2, run3) = three_runs
    acks = acknowledge_one_g04(run3, tmp_path)
    run4 = tmp_path / "run4"
    run(inbox, run4, run3, "--acks", str(acks))
    summary = load(run4, "run.json")["summaries"][0]
    file = load(run4, "submissions.json")[summary["submissions"][0]]["file"]
    code, output = ack(
        "--acks", str(acks), "--file", file, "--rule", summary["rule"], "--reviewer", "张三", "--note", "已知",
    )  # fmt: skip
    assert code == 0, output
    run5 = tmp_path / "run5"
    got = run(inbox, run5, run4, "--acks", str(acks))
    assert got["contract"] == manifest(run4)["contract"]
    assert got["views"] != manifest(run4)["views"]
    assert pages(run4)[Path(file).stem] in got["rendered_pages"]


def test_link_all_links_every_page_and_refuses_what_is_not_a_plain_regular_file(tmp_path: Path) -> None:
    prev, out = tmp_path / "prev", tmp_path / "out"
    for rel in ("index.html", "reports/a.html", "reports/b.html", "counties/c.html"):
        (prev / rel).parent.mkdir(parents=True, exist_ok=True)
        (prev / rel).write_text(rel, encoding="utf-8")
    (out / "reports").mkdir(parents=True)
    (out / "reports" / "b.html").write_text("stale", encoding="utf-8")  # replaced by the previous run's
    rels = ["reports/a.html", "reports/b.html", "counties/c.html", "index.html"]
    assert reuse._link_all(prev, out, rels) == rels
    for rel in rels:
        assert reuse.same_file(prev / rel, out / rel) and (out / rel).read_text(encoding="utf-8") == rel
    (prev / "reports" / "x.html").symlink_to(prev / "reports" / "a.html")  # planted: never linked
    assert reuse._link_all(prev, tmp_path / "out2", ["reports/x.html"]) is None
    assert reuse._link_all(prev, tmp_path / "out3", ["reports/missing.html"]) is None
    assert reuse._link_all(prev, tmp_path / "out4", ["../index.html"]) is None
    assert not (tmp_path / "out2" / "reports" / "x.html").exists()


@pytest.mark.parametrize("compiled", [True, False])
def test_link_all_runs_the_work_meanwhile_and_reports_failures_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compiled: bool
) -> None:
    """The links made in a thread by the compiled call (or, without it, in order in the caller's
    thread) while ``meanwhile`` runs: every page linked, a page already there replaced, a page the
    links cannot make copied; ``meanwhile`` not run when a page is missing; its error raised after
    the links, every descriptor closed."""
    if compiled and reuse._linkat_all is None:
        pytest.skip("nianbao.io.decode not built")
    if not compiled:
        monkeypatch.setattr(reuse, "_linkat_all", None)
    prev = tmp_path / "prev"
    rels = [f"reports/{i:03d}.html" for i in range(200)] + ["counties/c.html", "index.html"]
    for rel in rels:
        (prev / rel).parent.mkdir(parents=True, exist_ok=True)
        (prev / rel).write_text(rel, encoding="utf-8")
    out = tmp_path / "out"
    (out / "reports").mkdir(parents=True)
    (out / "reports" / "007.html").write_text("stale", encoding="utf-8")
    ran: list[str] = []
    assert reuse._link_all(prev, out, rels, lambda: ran.append("meanwhile")) == rels
    assert ran == ["meanwhile"]
    assert all(reuse.same_file(prev / rel, out / rel) for rel in rels)
    assert (out / "reports" / "007.html").read_text(encoding="utf-8") == "reports/007.html"

    # a page missing: None before anything is linked or run
    ran.clear()
    assert reuse._link_all(prev, tmp_path / "out2", [*rels, "reports/missing.html"], lambda: ran.append("x")) is None
    assert ran == [] and not (tmp_path / "out2" / "reports" / "000.html").exists()

    # the links failing otherwise (another file system, too many links): copies, as before
    if compiled:
        monkeypatch.setattr(reuse, "_linkat_all", lambda sfd, dfd, names: [(i, 18) for i in range(len(names))])
    else:

        def no_link(*args: object, **kwargs: object) -> None:
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(reuse.os, "link", no_link)
    out3 = tmp_path / "out3"
    assert reuse._link_all(prev, out3, rels, lambda: None) == rels
    copied = [rel for rel in rels if (out3 / rel).read_text(encoding="utf-8") == rel]
    assert copied == rels and not any(reuse.same_file(prev / rel, out3 / rel) for rel in rels)
    monkeypatch.undo()
    if not compiled:
        monkeypatch.setattr(reuse, "_linkat_all", None)

    # an error in the work meanwhile: raised once the links are made, no descriptor left open
    fds = len(os.listdir("/proc/self/fd"))

    def fail() -> None:
        raise RuntimeError("meanwhile")

    with pytest.raises(RuntimeError, match="meanwhile"):
        reuse._link_all(prev, tmp_path / "out4", rels, fail)
    assert len(os.listdir("/proc/self/fd")) == fds


def test_the_views_pause_the_collector_for_the_review_and_the_steady_rerun_and_restore_it(
    three_runs: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review (prepare), index.html and a steady rerun's whole views run with no cyclic
    collection (they make many objects that live on and no cycles); the collector is on again
    afterwards, and the outputs are those of a run with it on."""
    import gc

    from nianbao.report import html, writer

    inbox, (_run1, _run2, run3) = three_runs
    seen: dict[str, bool] = {}
    prepare, render_index, reuse_workbook = writer.prepare, html.render_index, writer.reuse_workbook

    def watch(name: str, fn):  # type: ignore[no-untyped-def]
        def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
            seen[name] = gc.isenabled()
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(writer, "prepare", watch("prepare", prepare))
    monkeypatch.setattr(html, "render_index", watch("index", render_index))
    monkeypatch.setattr(writer, "reuse_workbook", watch("workbook", reuse_workbook))

    def walks(*args: object) -> None:
        raise AssertionError("gc.get_freeze_count walks every frozen object; gc.unfreeze hands them back")

    monkeypatch.setattr(gc, "get_freeze_count", walks)
    monkeypatch.setattr(gc, "unfreeze", walks)
    assert gc.isenabled()
    run4 = tmp_path / "run4"
    got = run(inbox, run4, run3)
    assert seen == {"prepare": False, "index": False, "workbook": False}
    assert gc.isenabled()
    assert got["rendered_pages"] == ["index.html"] and got["pages"] == manifest(run3)["pages"]
    index3 = (run3 / "index.html").read_text(encoding="utf-8")
    index4 = (run4 / "index.html").read_text(encoding="utf-8")
    assert index4.count("<tr") == index3.count("<tr") and len(index4.splitlines()) == len(index3.splitlines())


def test_the_contract_files_are_linked_by_key_unless_changed_after_it(tmp_path: Path) -> None:
    import os

    prev, out, later = tmp_path / "prev", tmp_path / "out", tmp_path / "later"
    for d in (prev, out, later):
        d.mkdir()
    for name in reuse.CONTRACT:
        (prev / name).write_bytes(b"[]\n")
    reuse.record_contract(prev, "k" * 64)
    written = os.lstat(prev / reuse.CONTRACT_KEY).st_mtime_ns
    assert not reuse.link_contract(out, prev, "x" * 64)  # another key
    assert not reuse.link_contract(out, None, "k" * 64) and not reuse.link_contract(out, prev, None)
    assert sorted(p.name for p in out.iterdir()) == []
    assert reuse.link_contract(out, prev, "k" * 64)
    for name in (*reuse.CONTRACT, reuse.CONTRACT_KEY):
        assert reuse.same_file(prev / name, out / name)
    # a contract file edited by hand after its key was written: not linked on (written again)
    (prev / "findings.json").write_bytes(b'[{"rule": "A01"}]\n')
    os.utime(prev / "findings.json", ns=(written + 10**9, written + 10**9))
    assert not reuse.link_contract(later, prev, "k" * 64)
    assert sorted(p.name for p in later.iterdir()) == []
