"""Rules G on every cell of every report at once (one pandera validation of the cells frame).

The expressions are :data:`schemas.cells.CELL_RULES`; the frame validated holds the cells that may
break one (:func:`schemas.cells.suspects`: every other cell passes them all), not every cell of the
batch.  Here each failing cell becomes a finding, and the blank cells of one table (G04) become one
finding per table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl

from nianbao.domain.model import ParsedReport
from nianbao.domain.spec import Fmt, cell_label, table_name
from nianbao.outcome import Finding, finding_for, plain_number
from nianbao.rules.base import failing_frame, with_reports
from nianbao.rules.family import Batch, Family
from schemas.cells import CELL_RULES, cells_schema

# what a cell breaking the rule should have held (the finding's ``expected``)
EXPECTED = {"G01": "数字", "G02": "≥ 0", "G03": "整数", "G05": "不超过 12 位的数字"}


def cell_findings(batch: Batch) -> list[Finding]:
    fails = failing_frame(cells_schema(), batch.suspect_cells, ["report", "cell", "value", "line"])
    blank = fails.get_column("check") == "G04"
    out = findings_of(batch.reports, fails.filter(~blank).iter_rows(named=True))
    # the blank cells (most failing rows: ~60,000 at 100,000 reports) gathered per report and table
    # at once, in the order of the rows (as findings_of gathers them one by one)
    tables = (
        fails.filter(blank)
        .with_columns(pl.col("cell").cast(pl.String))
        .group_by("report", pl.col("cell").str.split(":").list.first().alias("table"), maintain_order=True)
        .agg("cell", "line")
    )
    for ri, table, ids, lines in tables.iter_rows():
        out.append(blank_finding(batch.reports, ri, table, ids, lines))
    return out


def findings_of(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    """The findings of the failing rows of the cells frame."""
    out: list[Finding] = []
    blanks: dict[tuple[int, str], list[tuple[str, int | None]]] = defaultdict(list)
    for ri, rep, code, d in with_reports(reports, rows):
        fmt = rep.fmt or Fmt.F2021
        cid = d["cell"]
        if code == "G04":
            blanks[(ri, cid.split(":")[0])].append((cid, d["line"]))
            continue
        raw = rep.cells[cid].raw
        params: dict[str, Any] = {"cell_label": f"{table_name(cid[0])}“{cell_label(fmt, cid)}”", "raw": raw}
        actual = plain_number(d["value"]) if d["value"] is not None else raw
        params["actual"] = actual
        out.append(
            finding_for(
                code,
                rep,
                ri,
                cells=[cid],
                expected=EXPECTED.get(code),
                actual=actual,
                params=params,
                line=d["line"],
                where=rep.cells[cid].where,
            )
        )
    for (ri, table), cl in blanks.items():
        out.append(blank_finding(reports, ri, table, [c for c, _l in cl], [ln for _c, ln in cl]))
    return out


def blank_finding(
    reports: Sequence[ParsedReport], ri: int, table: str, ids: list[str], lines: Sequence[int | None]
) -> Finding:
    """The one G04 of a report's table: its blank cells ``ids`` (on ``lines``), in order."""
    rep = reports[ri]
    fmt = rep.fmt or Fmt.F2021
    shown = "、".join(f"“{cell_label(fmt, c)}”" for c in ids[:5]) + ("等" if len(ids) > 5 else "")
    params = {"table_name": table_name(table), "count": len(ids), "cell_list": shown}
    found = [ln for ln in lines if ln]
    return finding_for(
        "G04",
        rep,
        ri,
        cells=ids,
        expected="数字（没有发生的填 0）",
        actual="空白",
        params=params,
        line=min(found) if found else None,
    )


FAMILY = Family("cells", lambda: frozenset(CELL_RULES), cell_findings, reads=frozenset({"suspect_cells"}))
