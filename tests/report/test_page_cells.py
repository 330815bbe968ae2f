"""The report pages' table cells read straight from a report's column arrays (html.cell_views on a
CellMap) are the cells the general path renders from :class:`Cell` objects (a plain dict of cells)."""

from __future__ import annotations

import copy
from pathlib import Path

from nianbao.domain.model import CellMap
from nianbao.report import html
from nianbao.report.quality import flags_of, prepare
from nianbao.run.steps import validate_paths
from tests.helpers import ROOT


def test_cell_views_from_arrays_equal_cell_views_from_cells(tmp_path: Path) -> None:
    outcome = validate_paths([ROOT / "data" / "submissions"], 1)
    q = prepare(outcome, tmp_path, None, None)
    findings = dict(enumerate(outcome.findings))
    compared = flagged = 0
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
        compared += len(fast)
        flagged += len(flags)
    assert compared >= 5000 and flagged > 0  # every cell of every readable sample, some flagged
