"""findings.xlsx as an auditor uses it: 问题清单 worst first with links to the report pages, filters
on the Chinese header rows, A4 print setup on every sheet, times as real Excel date-times."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from nianbao.cli.app import app
from nianbao.report.excel import FINDING_COLUMNS, _column_label, _value_columns
from nianbao.report.names import county_page_name, page_name
from tests.helpers import ROOT

SAMPLE = ROOT / "data" / "submissions"
SEV = {"错误": 0, "警告": 1, "提示": 2}
COL = {h: i for i, (h, _w) in enumerate(FINDING_COLUMNS)}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("workbook") / "out"
    r = CliRunner().invoke(app, ["validate", str(SAMPLE), "--out", str(out)])
    assert r.exit_code == 1, r.output
    return {
        "out": out,
        "wb": openpyxl.load_workbook(out / "findings.xlsx"),
        "subs": json.loads((out / "submissions.json").read_text(encoding="utf-8")),
        "finds": json.loads((out / "findings.json").read_text(encoding="utf-8")),
        "run": json.loads((out / "run.json").read_text(encoding="utf-8")),
    }


def test_findings_sorted_by_severity_then_county_and_agency(book: dict[str, Any]) -> None:
    ws = book["wb"]["问题清单"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(book["finds"])
    keys = [(SEV[r[COL["级别"]]], r[COL["县（区）"]] or "", r[COL["机关"]] or "", r[COL["年度"]] or 0) for r in rows]
    assert keys == sorted(keys)
    assert {r[COL["级别"]] for r in rows} >= {"错误", "警告"}
    # the same findings as findings.json (序号 is the finding's number there)
    assert sorted((r[COL["序号"]], r[COL["规则"]]) for r in rows) == [
        (k + 1, f["rule"]) for k, f in enumerate(book["finds"])
    ]
    by_file = {s["file"]: s for s in book["subs"]}
    for r in rows:
        f = book["finds"][r[COL["序号"]] - 1]
        if f["file"] in by_file:
            assert r[COL["县（区）"]] == Path(f["file"]).parent.name


def test_findings_link_to_their_report_pages(book: dict[str, Any]) -> None:
    ws = book["wb"]["问题清单"]
    out, subs = book["out"], {s["file"]: s for s in book["subs"]}
    linked = 0
    for row in ws.iter_rows(min_row=2):
        f = book["finds"][row[COL["序号"]].value - 1]
        cell = row[COL["机关"]]
        s = subs.get(f["file"])
        if s is None:  # a batch finding (an agency that did not submit): no page of its own
            assert cell.hyperlink is None
            continue
        assert cell.value == f["agency"] and cell.data_type == "s"
        assert cell.hyperlink is not None, cell.coordinate
        target = cell.hyperlink.target.replace("\\", "/")  # Excel keeps relative file links Windows-style
        assert target == f"reports/{page_name(s['file'], s['agency'], s['year'])}"
        assert (out / target).is_file()  # relative to the workbook: opens beside it
        linked += 1
    assert linked >= 10
    # 报告清单 and 数值 link their reports too
    rep = book["wb"]["报告清单"]
    for row in rep.iter_rows(min_row=2):
        s = book["subs"][row[0].value - 1]
        assert row[1].hyperlink is not None
        target = row[1].hyperlink.target.replace("\\", "/")
        assert (out / target).is_file() and target.endswith(page_name(s["file"], s["agency"], s["year"]))
    assert county_page_name("示例县")  # (the county pages are the fallback target in a large batch)


def test_values_filter_on_the_chinese_header(book: dict[str, Any]) -> None:
    ws = book["wb"]["数值"]
    head = [c.value for c in ws[1]]
    assert head[:4] == ["机关", "年度", "文件", "格式"]
    assert head[4:] == [_column_label(c) for c in _value_columns()]
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
    assert ws.freeze_panes == "E2"
    # no row of code ids: the second row is a report
    second = [c.value for c in ws[2]]
    assert second[0] in {s["agency"] for s in book["subs"]}
    assert not any(isinstance(v, str) and v.count(":") >= 2 for v in second[4:])
    for name in ("各县（区）", "报告清单", "问题清单"):
        assert book["wb"][name].auto_filter.ref.startswith("A1:"), name


def test_every_sheet_prints_on_a4_landscape_with_its_header(book: dict[str, Any]) -> None:
    for ws in book["wb"].worksheets:
        ps = ws.page_setup
        assert ps.orientation == "landscape", ws.title
        assert str(ps.paperSize) == "9", ws.title  # A4
        assert ws.print_title_rows == "$1:$1", ws.title
        if ws.title == "数值":  # ~420 columns: the report's own columns repeat instead
            assert ws.print_title_cols == "$A:$D"
        else:
            assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert ps.fitToWidth in (None, 1) and ps.fitToHeight == 0, ws.title  # 1 page wide (1: the default)


def test_times_are_excel_datetimes(book: dict[str, Any]) -> None:
    ws = book["wb"]["汇总"]
    cells = {r[0].value: r[1] for r in ws.iter_rows(min_row=1, max_col=2) if r[0].value}
    started = cells["运行时间"]
    assert isinstance(started.value, datetime)
    assert started.value == datetime.fromisoformat(book["run"]["started_at"]).replace(tzinfo=None)
    assert started.number_format == 'yyyy"年"m"月"d"日" hh:mm'
    for ws in book["wb"].worksheets:  # no ISO time left as text anywhere
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert not (isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] == "T"), (ws.title, v)


def test_values_sheet_fast_rows_write_xlsxwriters_own_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows written by excel._fast_rows (数值's plain numbers, the list sheets' strings and
    numbers) give the same workbook as xlsxwriter writing each cell, on a batch with errors,
    warnings and flagged cells."""
    import zipfile

    from nianbao.report import excel
    from nianbao.report.quality import prepare
    from nianbao.run.steps import validate_paths

    outcome = validate_paths([SAMPLE], 1)
    assert {f.severity for f in outcome.findings} >= {"error", "warning"}
    q = prepare(outcome, tmp_path, None, None)
    books = {}
    for fast in (False, True):
        monkeypatch.setattr(excel, "FAST_ROWS", fast)
        excel.build_workbook(q, tmp_path / f"{fast}.xlsx")
        with zipfile.ZipFile(tmp_path / f"{fast}.xlsx") as z:
            books[fast] = {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}  # core: the time
    assert books[True] == books[False]
    assert b"<v>" in books[True]["xl/worksheets/sheet5.xml"]  # 数值 holds numbers


def test_fast_rows_write_each_number_as_xlsxwriter_does(tmp_path: Path) -> None:
    """_fast_rows' number texts (looked up once per value; zero by its sign) are xlsxwriter's own:
    0 and -0, integers, fractions, large and small magnitudes, repeated."""
    import zipfile

    import xlsxwriter

    from nianbao.report import excel

    numbers = [0.0, -0.0, 0, 1.0, -0.0, 0.0, 12.5, 12.5, 1e20, -3, 1e-7, 2**53 + 1.0, 0.1 + 0.2, -0.0]
    books = {}
    for fast in (False, True):
        path = tmp_path / f"{fast}.xlsx"
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        ws = wb.add_worksheet()
        if fast:
            excel._fast_rows(ws, len(numbers))
        for r in range(3):
            for c, v in enumerate(numbers):
                ws.write_number(r, c, v)
        wb.close()
        with zipfile.ZipFile(path) as z:
            books[fast] = z.read("xl/worksheets/sheet1.xml")
    assert books[True] == books[False]
    assert b"<v>-0</v>" in books[True] and b"<v>0</v>" in books[True]


def test_plain_string_agrees_with_the_pattern() -> None:
    """excel._plain_string (str methods first, the pattern for the rest) says of every string what
    _ODD_STRING says: each character alone, at either end and inside text, and the escapes."""
    from nianbao.report import excel

    chars = [chr(c) for c in range(0x250)] + ["\u2028", "\u3000", "\xa0", "\ufeff", "\ufffd", "\ufffe", "\uffff"]
    samples = ["", "办公室", "=1+1", "_x00A0_", "_x00a0", "_xZZZZ_", "a_x0041_b", "<r>a", "a<r>", "x\ny", "年 度"]
    for ch in chars:
        samples += [ch, f"{ch}年度", f"年度{ch}", f"年{ch}度", f"_x{ch}"]
    for s in samples:
        assert excel._plain_string(s) is (excel._ODD_STRING.search(s) is None), repr(s)


def test_list_rows_write_what_the_cell_by_cell_path_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """excel._ListRows (a list sheet's rows written whole, its links, the fast <hyperlinks> and
    .rels) gives the workbook the cell-by-cell path gives (FAST_ROWS False), byte for byte, on
    hostile values: markup and control characters, formula starts, edge whitespace, _xHHHH_,
    strings past half Excel's limit, -0.0, infinities, NaN, large numbers, booleans, empty cells,
    links repeated, without a page or a text, with a text that starts a formula, rows that fall
    back to the usual path between rows written whole."""
    import zipfile

    from nianbao.report import excel

    texts = ["办公室", 'a"b', "a&b<c>", "x\x01y", "=SUM(A1)", "+1", "-2", "@x", " lead", "trail ", "_x0041_", "年 度"]
    texts += ["长" * 20000, "", "\ufffe", "<r>rich</r>"]
    numbers: list[Any] = [0, 0.0, -0.0, 1, 12.5, 1e16, -1e15, float("inf"), float("nan"), 2**53 + 1, True, None]
    rows = []
    for k in range(60):
        vals = [k + 1, texts[k % len(texts)], numbers[k % len(numbers)], texts[(k * 5) % len(texts)]]
        vals += [None, numbers[(k * 7) % len(numbers)], texts[(k * 3) % len(texts)]]
        href = None if k % 9 == 4 else f"reports/p{k % 5}.html"
        severity = ["错误", "警告", "=x", "a<b"][k % 4]
        rows.append((tuple(vals), href, severity, ["error", "warning", None, "info"][k % 4]))
    books = {}
    for fast in (False, True):
        monkeypatch.setattr(excel, "FAST_ROWS", fast)
        path = tmp_path / f"{fast}.xlsx"
        wb = excel._new_workbook(path)
        w = excel._Writer(wb)
        columns = tuple((f"c{c}", 8) for c in range(7))
        ws = excel._list_sheet(w, "清单", columns)
        lister = excel._ListRows(w, ws, len(columns))
        assert lister.ok is fast
        fallbacks = 0
        for r, (vals, href, sev, fill) in enumerate(rows, 1):
            if lister.write(r, vals, link=(1, href), styled=(4, sev, w.fmt(fill))):
                continue
            fallbacks += 1
            w.row(ws, r, vals[:1])
            w.link(ws, r, 1, href, vals[1])
            w.row(ws, r, (None, None, *vals[2:]))
            ws.write_string(r, 4, sev, w.fmt(fill))
        excel._filtered(ws, len(rows), len(columns), 0)
        excel._closed(wb)
        if fast:
            assert 0 < fallbacks < len(rows)  # both paths used, row after row
        with zipfile.ZipFile(path) as z:
            books[fast] = {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}
    assert books[True] == books[False]
    assert b"<hyperlink " in books[True]["xl/worksheets/sheet1.xml"]
    assert books[True]["xl/worksheets/_rels/sheet1.xml.rels"].count(b"<Relationship ") > 40
