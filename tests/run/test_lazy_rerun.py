"""An unchanged rerun's cheap path: one listing pass (discover keeps each file's stat for the plan),
reports reused from the store rebuilt whole only when something reads their cells, layout, rows
or prose (nianbao.run.store.StoredReport), the reading confidence kept in the validation memo."""

from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path

from nianbao.domain.model import ParsedReport
from nianbao.report.views import REPORT_VIEWS
from nianbao.run import steps as stages
from nianbao.run import store as st
from nianbao.run.inputs import SPECIAL, SYMLINK, discover
from nianbao.run.memo import Memo
from tests.helpers import copy_sample_inbox


def fields_of(r: ParsedReport) -> tuple[object, ...]:
    """Every field of the report, the layout as its list of facts (a LayoutList compares by identity)."""
    return tuple(list(r.layout) if f.name == "layout" else getattr(r, f.name) for f in dataclasses.fields(r))


def run(inbox: Path, tmp_path: Path, name: str) -> tuple[stages.RunResult, int]:
    before = st.rebuilt["reports"]
    r = stages.run_direct(stages.RunSettings(inbox, tmp_path / name, tmp_path / "store", workers=1), REPORT_VIEWS)
    return r, st.rebuilt["reports"] - before


def test_a_steady_rerun_rebuilds_no_report_from_the_store(tmp_path: Path) -> None:
    inbox = copy_sample_inbox(tmp_path)
    first, n1 = run(inbox, tmp_path, "out")
    second, _ = run(inbox, tmp_path, "out")
    third, n3 = run(inbox, tmp_path, "out")
    files = len(first.outcome.files)
    assert files == 25 and first.plan == {"reused": 0, "kept": 0, "parsed": 25} and n1 == 0
    assert third.plan == {"reused": 25, "kept": 0, "parsed": 0}
    assert third.outcome.info.memo_hits == ("validate", "batch_expectations")
    assert n3 == 0  # the memo hit and the reused pages need no report's cells
    assert all(type(r) is st.StoredReport for r in third.outcome.reports)
    # the same files, findings and reading confidence as the first run
    assert third.outcome.findings == first.outcome.findings
    assert [f.reading for f in third.outcome.files] == [f.reading for f in first.outcome.files]
    assert [f.reading for f in second.outcome.files] == [f.reading for f in first.outcome.files]
    # reading one report's cells rebuilds the whole look-up at once, once
    before = st.rebuilt["reports"]
    reps = third.outcome.reports
    assert reps[3].cells == first.outcome.reports[3].cells
    assert st.rebuilt["reports"] - before == 25
    # every field, the heavy ones rebuilt (a LayoutList compares by identity: by its facts here)
    assert [(fields_of(r), list(r.layout)) for r in reps] == [
        (fields_of(r), list(r.layout)) for r in first.outcome.reports
    ]
    assert st.rebuilt["reports"] - before == 25


def test_a_stored_report_equals_and_pickles_as_the_rebuilt_one(tmp_path: Path) -> None:
    inbox = copy_sample_inbox(tmp_path)
    run(inbox, tmp_path, "out")
    store = st.Store(tmp_path / "store")
    rows = store.read(columns=("sha256", *st.SCALAR_COLUMNS))
    lazy = st.stored_reports(store, rows)
    whole = store.rebuild(rows)
    assert len(lazy) == len(whole) == 25
    before = st.rebuilt["reports"]
    back = pickle.loads(pickle.dumps(lazy[0]))  # pickling reads every field: rebuilds the look-up
    assert st.rebuilt["reports"] - before == 25
    assert list(back.layout) == list(whole[0].layout)
    assert fields_of(back) == fields_of(whole[0])
    assert [fields_of(r) for r in lazy] == [fields_of(r) for r in whole]
    assert [fields_of(r) for r in whole] == [fields_of(r) for r in lazy]


def test_discover_keeps_the_stat_of_regular_files_only(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    (root / "2023" / "甲县" / "sub").mkdir(parents=True)
    a = root / "2023" / "甲县" / "a.txt"
    a.write_text("x", encoding="utf-8")
    (root / "2023" / "甲县" / "sub" / "b.txt").write_text("yy", encoding="utf-8")
    (root / "2023" / "甲县" / "link.txt").symlink_to(a)
    (root / "2023" / "甲县" / "dir-link").symlink_to(root / "2023" / "甲县" / "sub")
    os.mkfifo(root / "2023" / "pipe")
    (root / "registry.csv").write_text("county,agency,level\n", encoding="utf-8")
    found = discover([root], inbox=root)
    assert [(f.rel, f.county, f.year, f.sub.problem) for f in found] == [
        ("2023/pipe", None, None, SPECIAL),
        ("2023/甲县/dir-link", "甲县", 2023, SYMLINK),
        ("2023/甲县/a.txt", "甲县", 2023, None),
        ("2023/甲县/link.txt", "甲县", 2023, SYMLINK),
        ("2023/甲县/sub/b.txt", "甲县", 2023, None),
    ]
    st_a = a.stat()
    assert [f.stat for f in found] == [
        None,
        None,
        (1, st_a.st_mtime_ns),
        None,
        (2, found[4].sub.path.stat().st_mtime_ns),
    ]


def test_the_validation_memo_keeps_the_reading_confidence(tmp_path: Path) -> None:
    inbox = copy_sample_inbox(tmp_path)
    first, _ = run(inbox, tmp_path, "out")
    entries = list((tmp_path / "store" / "memo").glob("validate-*.json"))
    assert len(entries) == 1
    key = entries[0].name.removeprefix("validate-").removesuffix(".json")
    got = Memo(tmp_path / "store").get_validation(key)
    assert got is not None and got.reading == [f.reading for f in first.outcome.files]
    assert sum(1 for r in got.reading if r is not None) == sum(
        1 for f in first.outcome.files if f.status == "validated"
    )


def test_a_forked_views_helper_reads_stored_reports_without_hanging(tmp_path: Path, monkeypatch) -> None:
    """The views' helper process (nianbao.report.parallel) is forked after polars ran here: were the
    stored reports rebuilt there (polars), it would wait for ever — so they are rebuilt before the fork."""
    import time

    from nianbao.report import parallel

    inbox = copy_sample_inbox(tmp_path)
    run(inbox, tmp_path, "out")
    st.load_pending()  # look-ups other tests of this process left pending: not counted below
    store = st.Store(tmp_path / "store")
    lazy = st.stored_reports(store, store.read(columns=("sha256", *st.SCALAR_COLUMNS)))
    monkeypatch.setattr(parallel, "HELPER_TIMEOUT", 5.0)
    marks = [tmp_path / f"unit-{i}" for i in range(2)]

    def unit(i: int) -> None:
        marks[i].write_text(f"{os.getpid()} {len(lazy[i].cells)}", encoding="utf-8")

    def own() -> None:  # leave both units to the helper (a bounded wait)
        deadline = time.monotonic() + 60
        while not all(m.exists() for m in marks) and time.monotonic() < deadline:
            time.sleep(0.01)

    before = st.rebuilt["reports"]
    assert parallel.run_shared([lambda: unit(0), lambda: unit(1)], own, helper=True)
    assert st.rebuilt["reports"] - before == 25  # rebuilt once, here, before the fork
    pids = {m.read_text(encoding="utf-8").split()[0] for m in marks}
    assert str(os.getpid()) not in pids and len(pids) == 1  # the helper did both units
    assert [int(m.read_text(encoding="utf-8").split()[1]) for m in marks] == [len(r.cells) for r in lazy[:2]]


def test_stored_reports_take_the_names_given_and_every_other_field_stored(tmp_path: Path) -> None:
    """stored_reports(…, files): each report's ``file`` the name given (the plan's: the file's name
    in this run), every other field the stored one; as many names as rows, or none."""
    import pytest

    inbox = copy_sample_inbox(tmp_path)
    run(inbox, tmp_path, "out")
    store = st.Store(tmp_path / "store")
    rows = store.read(columns=("sha256", *st.SCALAR_COLUMNS))
    names = [f"moved/{k}.txt" for k in range(rows.height)]
    named = st.stored_reports(store, rows, names)
    plain = st.stored_reports(store, rows)
    assert [r.file for r in named] == names and [r.file for r in plain] != names
    at = [f.name for f in dataclasses.fields(ParsedReport)].index("file")
    assert [fields_of(r)[:at] + fields_of(r)[at + 1 :] for r in named] == [
        fields_of(r)[:at] + fields_of(r)[at + 1 :] for r in plain
    ]
    with pytest.raises(ValueError):
        st.stored_reports(store, rows, names[:-1])


def test_a_stored_reports_later_scalars_are_decoded_together_on_first_use(tmp_path: Path) -> None:
    inbox = copy_sample_inbox(tmp_path)
    first, _ = run(inbox, tmp_path, "out")
    store = st.Store(tmp_path / "store")
    rows = store.read(columns=st.SCALAR_COLUMNS)
    lazy = st.stored_reports(store, rows)
    whole = store.rebuild(rows)
    assert "title" in st.LATER and "file" not in st.LATER and set(st.LATER) <= set(st.SCALAR_COLUMNS)
    slot = ParsedReport.__dict__["title"]
    assert not any(_is_set(slot, r) for r in lazy)  # none decoded yet
    # one report's title decodes the look-up's LATER fields of every report, none of the heavy ones
    before = st.rebuilt["reports"]
    assert lazy[4].title == whole[4].title and lazy[4].title
    assert all(_is_set(slot, r) for r in lazy) and st.rebuilt["reports"] == before
    later = [[getattr(r, n) for n in st.LATER] for r in lazy]
    assert later == [[getattr(r, n) for n in st.LATER] for r in whole]
    assert [r.period_start_year for r in lazy] == [r.period_start_year for r in first.outcome.reports]
    # before a fork every look-up's columns are decoded (polars is not used in the child)
    again = st.stored_reports(store, rows)
    st.load_pending()
    assert all(_is_set(slot, r) for r in again)


def _is_set(slot: object, r: ParsedReport) -> bool:
    try:
        slot.__get__(r, type(r))  # type: ignore[attr-defined]
    except AttributeError:
        return False
    return True
