"""The Parquet store: lossless round trip of parsed reports, atomic partitions, damaged files."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from nianbao.domain.model import Cell, LayoutFact, ParsedReport, RowIssue, unreadable
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt
from nianbao.run.inputs import discover
from nianbao.run.parsing import load_all
from nianbao.run.store import MODEL, PARTITION_FILE, SCHEMA, Entry, Store, entries_frame, load_year, reports_from_frame
from tests.helpers import ROOT

SAMPLE = ROOT / "data" / "submissions"


def read_all(paths: list[Path]) -> list[ParsedReport]:
    return load_all([f.sub for f in discover(paths)])


def canonical(r: ParsedReport) -> dict[str, Any]:
    """Every field of a report, with cells and layout as plain values."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(r):
        v = getattr(r, f.name)
        if f.name == "cells":
            v = {cid: dataclasses.astuple(c) for cid, c in v.items()}
        elif f.name in ("layout", "row_issues"):
            v = [dataclasses.astuple(x) for x in v]
        out[f.name] = v
    return out


def odd_report() -> ParsedReport:
    """A report using every corner of the model: located cells, an unknown cell id, layout
    aliases and out-of-order sections, row issues, prose, 2019 evidence, bad bytes."""
    rep = ParsedReport(
        file="x/odd.docx",
        sha256="ab" * 32,
        size=1234,
        encoding="gb18030",
        source_type="docx",
        agency="某某镇",
        year=2021,
        title="某某镇2021年政府信息公开工作年度报告",
        title_line=1,
        period_text="本报告统计期为2021年",
        period_start_year=2021,
        period_end_year=2021,
        period_full_year=False,
        period_line=3,
        fmt=Fmt.F2019,
        fmt_evidence_2019=["本年新制作数量", "本年新公开数量"],
    )
    rep.cells["3:1:natural"] = Cell(12.0, "12", State.VALUE, 40, 2, "表格3 第2行第2格")
    rep.cells["3:1:total"] = Cell(None, "—", State.BLANK, 40, 9)
    rep.cells["3:2:natural"] = Cell(0.0, "0", State.ZERO, None, None)
    rep.cells["3:3.1:natural"] = Cell(None, "若干", State.NON_NUMERIC, 45, 3)
    rep.cells["2:fees:amount"] = Cell(2.4252311082, "24252.311082元", State.RECOVERED, 20, 2)
    rep.cells["9:odd:id"] = Cell(1.0, "1", State.VALUE, 99, 1)  # not a cell of either format
    rep.layout.append(LayoutFact("sec:三", "section", True, "收到和处理政府信息公开申请情况", "收到和处理申请情况", 30))
    rep.layout.append(LayoutFact("sec:二", "section", True, "主动公开政府信息情况", None, 35, False, "三"))
    rep.layout.append(LayoutFact("3:3.3.7:*", "row", False, "（七）其他"))
    rep.layout.append(LayoutFact("9:*:*", "table", True, "not a statutory element"))
    rep.row_issues.append(RowIssue("I07", "3:3.3.4:*", "4. 不予公开\tx", 50))
    rep.row_issues.append(RowIssue("I10", "3:1:*", "64002 0470", 41, "64|0|0|2|0|4|70"))
    rep.sections["一"] = [(5, "总体情况第一句。"), (6, "第二句，含 \t 制表符与 emoji 🙂。")]
    rep.sections["引言"] = [(2, "前言")]
    if hasattr(rep, "bad_bytes"):
        rep.bad_bytes = 3
        rep.bad_bytes_detail = "第 7 行"
    return rep


def test_round_trip_is_lossless_for_every_field() -> None:
    reports = read_all([SAMPLE])
    reports += [odd_report(), unreadable("bad.bin", "cd" * 32, 10, "无法识别文件编码")]
    back = reports_from_frame(entries_frame([Entry(f"r{i}", r) for i, r in enumerate(reports)]))
    assert len(back) == len(reports)
    for a, b in zip(reports, back, strict=True):
        assert canonical(b) == canonical(a), a.file
    odd = back[-2]
    assert odd.cells["3:1:natural"].where == "表格3 第2行第2格"
    assert odd.cells["9:odd:id"] == Cell(1.0, "1", State.VALUE, 99, 1)
    assert odd.fmt is Fmt.F2019 and isinstance(odd.cells["3:1:total"].state, State)


def test_store_has_every_model_field() -> None:
    """A field added to ParsedReport is stored (or the model signature changes and old rows are not reused)."""
    names = set(SCHEMA)
    for f in dataclasses.fields(ParsedReport):
        packed = {"cells": "cells_value", "layout": "layout_code", "sections": "section_text", "row_issues": "sparse"}
        assert f.name in names or packed.get(f.name) in names, f.name


def _entries(reports: list[ParsedReport]) -> list[Entry]:
    return [Entry(r.file, r, "县", r.year) for r in reports]


def test_partitions_by_year_and_load_year(tmp_path: Path) -> None:
    reports = read_all([SAMPLE])
    store = Store(tmp_path / "store")
    store.save([*_entries(reports), Entry("junk.txt", unreadable("junk.txt", "", 0, "文件为空"))])
    parts = sorted(p.parent.name for p in store.partitions())
    assert parts == ["year=2022", "year=2023", "year=none"]
    y2022 = load_year(tmp_path / "store", 2022)
    assert sorted(r.file for r in y2022) == sorted(r.file for r in reports if r.year == 2022)
    assert len(y2022) == 12
    want = {r.file: canonical(r) for r in reports if r.year == 2022}
    assert {r.file: canonical(r) for r in y2022} == want
    assert load_year(store, 2030) == []


def test_upsert_delete_and_move_between_partitions(tmp_path: Path) -> None:
    reports = read_all([SAMPLE / "2023" / "沙坡头区"])
    store = Store(tmp_path)
    store.save(_entries(reports))
    rep = reports[0]
    moved = dataclasses.replace(rep, year=2024)
    store.save([Entry(rep.file, moved, "县", 2023)])
    df = store.read()
    assert df.height == 1 and df["year"].to_list() == [2024]
    assert [p.parent.name for p in store.partitions()] == ["year=2024"]  # the emptied partition is gone
    store.save([], delete=[rep.file])
    assert store.read().height == 0 and store.partitions() == []


def test_a_row_left_in_two_partitions_resolves_to_the_latest_write(tmp_path: Path) -> None:
    """A run killed between rewriting two partitions can leave a row twice: the newer one wins."""
    rep = read_all([SAMPLE / "2023" / "沙坡头区"])[0]
    old = entries_frame([Entry("a.txt", rep)], written_ns=1)
    new = entries_frame([Entry("a.txt", dataclasses.replace(rep, year=2024))], written_ns=2)
    for part, df in (("2023", old), ("2024", new)):
        (tmp_path / f"year={part}").mkdir()
        df.write_parquet(tmp_path / f"year={part}" / PARTITION_FILE)
    df = Store(tmp_path).read()
    assert df.height == 1 and df["year"].to_list() == [2024]


def test_a_damaged_partition_is_ignored_then_rewritten(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    reports = read_all([SAMPLE / "2022"])
    store = Store(tmp_path)
    store.save(_entries(reports))
    part = tmp_path / "year=2022" / PARTITION_FILE
    part.write_bytes(part.read_bytes()[:200])  # truncated
    assert store.read().height == 0
    assert "无法读取" in caplog.text
    store.save(_entries(reports[:1]))
    assert store.read()["file"].to_list() == [reports[0].file]
    pl.read_parquet(part)


def test_writes_are_atomic_and_temporary_files_are_cleaned(tmp_path: Path) -> None:
    reports = read_all([SAMPLE / "2022"])
    store = Store(tmp_path)
    store.save(_entries(reports))
    stale = tmp_path / "year=2022" / f".{PARTITION_FILE}.abc.tmp"
    stale.write_bytes(b"half a file")  # what a write killed before its rename leaves
    assert store.read().height == 12  # readers never see it
    store.save(_entries(reports[:2]))
    assert not stale.exists()
    assert sorted(p.name for p in (tmp_path / "year=2022").iterdir()) == [PARTITION_FILE]


def test_rows_of_another_store_format_are_not_reused(tmp_path: Path) -> None:
    from nianbao.run.store import current_model, reusable

    reports = read_all([SAMPLE / "2023" / "沙坡头区"])
    df = entries_frame(_entries(reports))
    assert df["model"].to_list() == [current_model()] and current_model().startswith(MODEL)
    assert reusable(df).height == 1
    assert reusable(df.with_columns(pl.lit("old-format").alias("model"))).height == 0
    assert reusable(df.with_columns(pl.lit("old-rules").alias("ruleset"))).height == 0


def test_a_partition_written_in_chunks_reads_back_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first save streams a partition a chunk of reports at a time (a row group each)."""
    import pyarrow.parquet as pq

    import nianbao.run.store

    reports = read_all([SAMPLE / "2023"])
    monkeypatch.setattr(nianbao.run.store, "SAVE_CHUNK", 3)
    store = Store(tmp_path)
    store.save(_entries(reports))
    path = tmp_path / "year=2023" / PARTITION_FILE
    assert pq.ParquetFile(path).num_row_groups == -(-len(reports) // 3)
    back = {r.file: canonical(r) for r in load_year(store, 2023)}
    assert back == {r.file: canonical(r) for r in reports}
    store.save(_entries(reports[:1]))  # an upsert rewrites the partition from the old rows and the new
    assert {r.file: canonical(r) for r in load_year(store, 2023)} == back


def test_rebuild_reads_only_the_rows_asked_for_in_their_order(tmp_path: Path) -> None:
    reports = read_all([SAMPLE])
    store = Store(tmp_path)
    store.save(_entries(reports))
    index = store.read(columns=["sha256"])
    assert set(index.columns) == {"rel", "written_ns", "sha256", "_part"} and index.height == len(reports)
    pick = index.sort("rel", descending=True)[::3]  # a few rows of both year partitions, reversed
    assert set(pick["_part"]) == {"2022", "2023"}
    back = store.rebuild(pick)
    by_file = {r.file: r for r in reports}
    assert [r.file for r in back] == pick["rel"].to_list()
    assert [canonical(r) for r in back] == [canonical(by_file[r.file]) for r in back]
    with pytest.raises(RuntimeError, match="not in the store"):
        store.rebuild(pick.with_columns(pl.col("written_ns") + 1))


def test_rebuild_reads_only_the_row_groups_that_hold_the_rows_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nianbao.run.store

    reports = read_all([SAMPLE / "2023"])
    monkeypatch.setattr(nianbao.run.store, "SAVE_CHUNK", 4)
    store = Store(tmp_path)
    store.save(_entries(reports))
    store.save(_entries(reports[:1]))  # an upsert rewrites the partition: still row groups of 4
    index = store.read(columns=["sha256"]).sort("rel")  # the partition is sorted by rel
    assert index.height == len(reports) > 8
    read: list[tuple[int, int]] = []
    scan = pl.scan_parquet

    def counting(path: Any) -> Any:
        lazy = scan(path)

        class Sliced:
            def slice(self, start: int, n: int) -> Any:
                read.append((start, n))
                return lazy.slice(start, n)

        return Sliced()

    monkeypatch.setattr(nianbao.run.store.pl, "scan_parquet", counting)
    pick = index[[5, 1]]  # rows of the first and second row group, in this order
    back = store.rebuild(pick)
    assert [r.file for r in back] == pick["rel"].to_list()
    by_file = {r.file: r for r in reports}
    assert [canonical(r) for r in back] == [canonical(by_file[r.file]) for r in back]
    assert read == [(0, 4), (4, 4)]  # the row groups holding them, and no other


def test_column_values_are_to_list_and_a_one_value_column_repeats_that_value() -> None:
    """column_values gives what to_list gives; a column of one value (or all null) is that value
    repeated, the same object in every row; a list column is never shared."""
    import polars as pl

    from nianbao.run.store import column_values

    cases = [
        pl.Series(["a", "a", "a"]),
        pl.Series(["a", "b", "a"]),
        pl.Series(["a", None, "a"]),
        pl.Series([None, None], dtype=pl.String),
        pl.Series([7, 7, 7]),
        pl.Series([True, True]),
        pl.Series([True, False]),
        pl.Series(["x"]),
        pl.Series([], dtype=pl.String),
        pl.Series([["p"], ["p"]]),
    ]
    for s in cases:
        assert column_values(s) == s.to_list(), s
    same = column_values(pl.Series(["甲县", "甲县", "甲县"]))
    assert len({id(v) for v in same}) == 1
    lists = column_values(pl.Series([["p"], ["p"]]))
    assert lists[0] is not lists[1]


def test_report_years_are_the_years_of_the_readable_reports() -> None:
    from types import SimpleNamespace

    from nianbao.run.steps import report_years

    def rep(year: int | None, ok: bool) -> SimpleNamespace:
        return SimpleNamespace(year=year, readable=ok)

    reports = [rep(2023, True), rep(2022, False), rep(None, True), rep(2021, False), rep(2021, True), rep(2023, False)]
    assert report_years(reports) == {2023, 2021}  # type: ignore[arg-type]
    assert report_years([rep(2022, False)]) == set()  # type: ignore[list-item]
    assert report_years([]) == set()


def test_county_table_counts_each_county_and_year_with_the_files_in_any_order() -> None:
    """county_table's counts per (county, year): the files of a county need not come together
    (a county folder met again counts on the same row), a file outside the layout has the report's
    year, the rows sorted by county and year."""
    from types import SimpleNamespace

    from nianbao.outcome import FileOutcome
    from nianbao.run.inputs import inbox_file
    from nianbao.run.steps import COUNTY_COLUMNS, county_table

    def row(status: str, errors: int, warnings: int, year: int | None) -> FileOutcome:
        return FileOutcome("f", "", status, None, "a", year, None, errors, warnings)

    files = [
        (inbox_file("p", "2023/甲县/a.txt", None, "甲县", 2023, None), row("validated", 1, 0, 2023)),
        (inbox_file("p", "2023/乙县/b.txt", None, "乙县", 2023, None), row("validated", 0, 0, 2023)),
        (inbox_file("p", "2023/甲县/c.txt", None, "甲县", 2023, None), row("unreadable", 0, 0, None)),
        (inbox_file("p", "x.txt", None, None, None, None), row("validated", 0, 2, 2022)),
        (inbox_file("p", "2022/甲县/d.txt", None, "甲县", 2022, None), row("validated", 0, 0, 2022)),
    ]
    inv = SimpleNamespace(files=[f for f, _ in files], registry=None, renames={})
    outcome = SimpleNamespace(files=[o for _, o in files])
    rows, missing = county_table(inv, outcome)  # type: ignore[arg-type]
    got = [tuple(r[c] for c in COUNTY_COLUMNS) for r in rows]
    # (county, year, then the states in STATE_ZH's order: ok, warning, error, unreadable; 未提交, 文件数)
    want_of = {
        ("甲县", 2022): {"ok": 1},
        ("甲县", 2023): {"error": 1, "unreadable": 1},
        ("乙县", 2023): {"ok": 1},
        ("（目录结构之外）", 2022): {"warning": 1},
    }
    from nianbao.outcome import STATE_ZH

    want = sorted(
        ((c, y, *(n.get(k, 0) for k in STATE_ZH), 0, sum(n.values())) for (c, y), n in want_of.items()),
        key=lambda t: (t[0], t[1]),
    )
    assert got == want and missing == []
