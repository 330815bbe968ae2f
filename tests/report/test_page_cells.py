"""The report pages' table cells read straight from a report's column arrays (html.cell_views on a
CellMap) are the cells the general path renders from :class:`Cell` objects (a plain dict of cells)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from nianbao.domain.model import Cell, CellMap
from nianbao.domain.normalize import State
from nianbao.report import html
from nianbao.report.quality import flags_of, prepare
from nianbao.run.steps import validate_paths
from tests.helpers import ROOT


def test_cell_views_from_arrays_equal_cell_views_from_cells(tmp_path: Path) -> None:
    outcome = validate_paths([ROOT / "data" / "submissions"], 1)
    q = prepare(outcome, tmp_path, None, None)
    findings = dict(enumerate(outcome.findings))
    compared = flagged = joined = 0
    for f in outcome.files:
        rep = outcome.reports[f.report] if f.report is not None else None
        if rep is None or rep.fmt is None:
            continue
        assert isinstance(rep.cells, CellMap)
        flags = flags_of(q.file_findings(f))
        fast = html.cell_views(rep, rep.fmt, flags, findings)
        plain = copy.copy(rep)
        plain.cells = dict(rep.cells.items())  # type: ignore[assignment]  # (the constructor would make a CellMap)
        general = html.cell_views(plain, rep.fmt, flags, findings)
        assert fast == general, f.file
        # the tables joined from the list of cells (html.page_tables) are the skeletons filled from them
        el = html._element_flags(flags)
        filled = {t: html.skeleton(rep.fmt, t).fill(general, el) for t in ("2", "3", "4")}
        assert html.page_tables(rep, rep.fmt, flags, findings) == filled, f.file
        assert html.page_tables(plain, rep.fmt, flags, findings) == filled, f.file
        joined += not el
        compared += len(fast)
        flagged += len(flags)
    assert compared >= 5000 and flagged > 0  # every cell of every readable sample, some flagged
    assert joined > 0  # (a page with a highlighted row or column fills the skeletons as before)


def test_cell_views_of_odd_cells_equal_the_general_path(tmp_path: Path) -> None:
    """The cells cell_views' common-case loop does not make (a printed text of their own, a source
    location, a number with no short text, no line or no position, a blank, a missing cell, one
    not in the report), some of them flagged, give the general path's ``<td>``, in the same order."""
    outcome = validate_paths([ROOT / "data" / "submissions"], 1)
    q = prepare(outcome, tmp_path, None, None)
    findings = dict(enumerate(outcome.findings))
    readable = [f for f in outcome.files if f.report >= 0 and outcome.reports[f.report].fmt is not None]
    f = max(readable, key=lambda f: len(flags_of(q.file_findings(f))))  # the most cells flagged
    rep = copy.copy(outcome.reports[f.report])
    assert isinstance(rep.cells, CellMap) and rep.fmt is not None
    flags = flags_of(q.file_findings(f))
    ids = list(html.cell_views(rep, rep.fmt, {}, findings))  # the format's cells, in order
    cells = CellMap()
    for cid, c in rep.cells.items():
        cells[cid] = c
    rep.cells = cells
    odd = [
        Cell(12.0, "１２", State.VALUE, 7, 2),  # a printed text that is not the plain one
        Cell(3.0, "3", State.VALUE, 8, 1, "表格2 第3行第4格"),  # a richer source location
        Cell(123456.0, "123456", State.VALUE, 9, 3),  # no short text kept for it
        Cell(-4.0, "-4", State.VALUE, 10, 3),
        Cell(2.5, "2.5", State.VALUE, 11, 4),
        Cell(5.0, "5", State.VALUE, None, None),  # no line
        Cell(6.0, "6", State.VALUE, 12, None),  # a line, no position
        Cell(None, "", State.BLANK, 13, 2),
        Cell(None, "", State.MISSING, None, None),
        Cell(None, "<b>&", State.NON_NUMERIC, 14, 5),
        Cell(0.0, "0", State.ZERO, 70000, 2),  # beyond the tooltips kept for the first lines
    ]
    flagged = [cid for cid in ids if cid in flags][:3]
    unflagged = [cid for cid in ids if cid not in flags][: len(odd)]
    assert len(flagged) == 3 and len(unflagged) == len(odd)
    for cid, c in zip(flagged + unflagged, odd[:3] + odd, strict=True):
        cells[cid] = c
    gone = next(cid for cid in reversed(ids) if cid not in flags and cid not in unflagged)
    del cells[gone]  # not in the report
    plain = copy.copy(rep)
    plain.cells = dict(cells.items())  # type: ignore[assignment]
    fast = html.cell_views(rep, rep.fmt, flags, findings)
    assert list(fast.items()) == list(html.cell_views(plain, rep.fmt, flags, findings).items())
    el = html._element_flags(flags)
    filled = {t: html.skeleton(rep.fmt, t).fill(fast, el) for t in ("2", "3", "4")}
    assert html.page_tables(rep, rep.fmt, flags, findings) == filled
    assert fast[unflagged[0]] == f'<td data-cell="{unflagged[0]}" class="v" title="源文件第 7 行第 2 格">１２</td>'
    assert fast[unflagged[1]] == f'<td data-cell="{unflagged[1]}" class="v" title="表格2 第3行第4格">3</td>'
    assert fast[gone] == f'<td data-cell="{gone}" class="missing">缺</td>'


def test_the_tooltips_kept_by_place_are_bounded() -> None:
    html._AT_TEXT.clear()
    for line in range(1, html._AT_LINES):
        for col in range(1, 12):
            assert html._at_text(line, col) == f'" title="源文件第 {line} 行第 {col} 格">'
    assert len(html._AT_TEXT) == html._AT_MAX
    assert html._AT_TEXT[(1 << 16) | 1] == '" title="源文件第 1 行第 1 格">'
    assert html._at_text(5000, 3) == '" title="源文件第 5000 行第 3 格">'  # past the lines kept: made, not kept
    assert len(html._AT_TEXT) == html._AT_MAX
    html._AT_TEXT.clear()


def _reference_flagged_cell(
    cid: str, label: str, text: str, cls: str, where: str, fl: Any, findings: dict[int, Any]
) -> str:
    """A flagged cell's <td> as html._flagged_cell made it before its pieces were kept per page."""
    from markupsafe import escape

    from nianbao.report.names import clean_text

    title = f"{label} ｜ {where}" if where else label
    cls += f" hl hl-{fl.severity}"
    key = html.key_severity(fl, findings)
    if key is not None:
        cls += f" key key-{key}"
    if fl.suspect is not None:
        cls += " suspect"
    msgs = "".join(f"\n{findings[k].rule}：{findings[k].message}" for k in fl.findings[:3])
    ids = " ".join(f"f-{k}" for k in fl.findings)
    suggest = (
        f'<span class="suggest">建议 {escape(html.fmt_value(fl.suspect.suggested))}</span>'
        if fl.suspect is not None
        else ""
    )
    return (
        f'<td data-cell="{cid}" class="{cls}" title="{title}{escape(clean_text(msgs))}" data-findings="{ids}"'
        f' data-rules="{escape(" ".join(fl.rules))}">{text}{html.badges_html(fl, findings)}{suggest}</td>'
    )


def test_flagged_cells_equal_the_reference_markup(tmp_path: Path) -> None:
    """html._flagged_cell (the pieces shared by the cells of the same findings kept per page) makes
    every flagged cell of the sample as it was made cell by cell, whatever order the cells come in."""
    outcome = validate_paths([ROOT / "data" / "submissions"], 1)
    q = prepare(outcome, tmp_path, None, None)
    findings = dict(enumerate(outcome.findings))
    compared = suspects = 0
    for f in outcome.files:
        flags = flags_of(q.file_findings(f))
        memo = html._FlagMemo()
        for n, (cid, fl) in enumerate([*flags.items(), *reversed(flags.items())]):
            text, cls, where = (f"{n}", "v", "源文件第 3 行") if n % 2 else ("&lt;", "blank", "")
            got = html._flagged_cell(cid, f"标签{cid}", text, cls, where, fl, findings, memo)
            assert got == _reference_flagged_cell(cid, f"标签{cid}", text, cls, where, fl, findings), cid
            compared += 1
            suspects += fl.suspect is not None
    assert compared > 100 and suspects > 0
