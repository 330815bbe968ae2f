"""The nightly job's unchanged rerun (nianbao.report.reuse: the whole run at once): every file of the
run folder the previous run wrote with the same content is the previous run's (a hard link), and
only what is this run's own is written; a changed input file renews exactly its own outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nianbao import outcome
from nianbao.report import reuse
from nianbao.report.names import page_name
from nianbao.report.views import REPORT_VIEWS
from nianbao.run import steps as stages
from nianbao.run import store
from tests.helpers import copy_sample_inbox

# what an unchanged rerun writes anew: its time and stages (overview, run.json, 汇总 of the workbook),
# what it compared with (changes.json) and its page manifest
OWN = {"index.html", "run.json", "changes.json", "pages.json", "findings.xlsx"}


def nightly(inbox: Path, tmp_path: Path) -> Path:
    r = stages.run_direct(stages.RunSettings(inbox, tmp_path / "out", tmp_path / "store", workers=1), REPORT_VIEWS)
    return r.run_dir


def inodes(run: Path) -> dict[str, int]:
    """Every regular file of a run folder (relative name) -> its inode."""
    out = {}
    for dirpath, _dirs, files in os.walk(run):
        for name in files:
            p = Path(dirpath) / name
            out[p.relative_to(run).as_posix()] = p.stat().st_ino
    return out


def renewed(before: Path, after: Path) -> set[str]:
    """The files of ``after`` that are not the same file as in ``before``."""
    old, new = inodes(before), inodes(after)
    return {rel for rel, ino in new.items() if old.get(rel) != ino}


def test_an_unchanged_rerun_writes_only_what_is_its_own(tmp_path: Path) -> None:
    inbox = copy_sample_inbox(tmp_path)
    runs = [nightly(inbox, tmp_path) for _ in range(4)]
    pages = [json.loads((r / "pages.json").read_text(encoding="utf-8")) for r in runs]
    # the first run renders everything; the second every page showing findings (新发现 -> 仍存在);
    # from the third on, the whole run is taken at once
    assert pages[0]["reused"] == 0 and pages[1]["views"] is not None and pages[1]["views"] != pages[0]["views"]
    for k in (2, 3):
        assert pages[k]["rendered_pages"] == ["index.html"] and pages[k]["views"] == pages[1]["views"]
        assert renewed(runs[k - 1], runs[k]) == OWN
    assert len(inodes(runs[3])) > 30  # the pages, the contract files, the batch checks' Data Docs …


def test_a_changed_report_renews_its_own_page_and_what_lists_it(tmp_path: Path) -> None:
    inbox = copy_sample_inbox(tmp_path)
    runs = [nightly(inbox, tmp_path) for _ in range(3)]
    subs = json.loads((runs[-1] / "submissions.json").read_text(encoding="utf-8"))
    target = next(s for s in subs if s["status"] == "validated" and s["errors"] == 0)
    page = {s["file"]: f"reports/{page_name(s['file'], s['agency'], s['year'])}" for s in subs}
    path = inbox / target["file"]
    path.write_bytes(path.read_bytes() + b"\n")  # other bytes (a new SHA-256), the same report
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 10**10))  # settled: its stat is trusted later
    after = nightly(inbox, tmp_path)
    got = renewed(runs[-1], after)
    assert OWN | {"submissions.json", page[target["file"]]} <= got
    other_pages = {p for f, p in page.items() if f != target["file"] and (after / p).exists()}
    assert other_pages and not other_pages & got  # every other report's page is the previous run's
    assert len({rel for rel in got if rel.startswith("counties/")}) <= 1  # its county's page at most
    # and the rerun after that is unchanged again: it writes only its own files
    steady = [nightly(inbox, tmp_path) for _ in range(2)]
    assert renewed(steady[0], steady[1]) == OWN
    # the earlier runs' stored reports whose rows the changed file's replaced are not rebuilt before
    # a fork of this process (the views' helper): that would fail, not hang or mislead
    store.load_pending()


def contract(run: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    subs = json.loads((run / "submissions.json").read_text(encoding="utf-8"))
    finds = json.loads((run / "findings.json").read_text(encoding="utf-8"))
    return subs, finds


def test_an_unchanged_rerun_links_the_contract_files_without_serialising_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = copy_sample_inbox(tmp_path)
    runs = [nightly(inbox, tmp_path) for _ in range(2)]
    key = (runs[1] / reuse.CONTRACT_KEY).read_text(encoding="ascii").strip()
    assert len(key) == 64 and (runs[0] / reuse.CONTRACT_KEY).read_text(encoding="ascii").strip() == key

    def never(*_: object) -> dict[str, object]:
        raise AssertionError("a contract row serialised on an unchanged rerun")

    monkeypatch.setattr(outcome.FileOutcome, "to_json", never)
    monkeypatch.setattr(outcome.Finding, "to_json", never)
    third = nightly(inbox, tmp_path)
    for name in (*reuse.CONTRACT, reuse.CONTRACT_KEY):
        assert reuse.same_file(runs[1] / name, third / name)
    assert renewed(runs[1], third) == OWN


def test_a_removed_or_added_report_renews_the_contract_files(tmp_path: Path) -> None:
    inbox = copy_sample_inbox(tmp_path)
    runs = [nightly(inbox, tmp_path) for _ in range(2)]
    subs, finds = contract(runs[-1])
    gone = next(s for s in subs if s["errors"])
    body = (inbox / str(gone["file"])).read_bytes()
    (inbox / str(gone["file"])).unlink()
    removed = nightly(inbox, tmp_path)
    assert {"submissions.json", "findings.json", reuse.CONTRACT_KEY} <= renewed(runs[-1], removed)
    subs2, finds2 = contract(removed)
    assert [s["file"] for s in subs2] == [s["file"] for s in subs if s["file"] != gone["file"]]
    assert [f for f in finds2 if f["file"] == gone["file"]] == []
    assert len(finds2) < len(finds)
    # the file back (a copy: other modification time, the same bytes): listed again, as it was
    (inbox / str(gone["file"])).write_bytes(body)
    back = nightly(inbox, tmp_path)
    assert {"submissions.json", "findings.json", reuse.CONTRACT_KEY} <= renewed(removed, back)
    assert contract(back) == (subs, finds)
