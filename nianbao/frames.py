"""Canonical data of a whole batch as polars frames (built column-wise, one frame per kind).

- ``cells``: one row per (report, cell id) — value, raw text, state, kind, source location;
- ``table_frame(cells, fmt, table)``: one row per report, one column per cell id of that table;
- ``layout``: one row per structural element of each report (sections, tables, rows, columns);
- ``meta``: one row per report (agency, year, period, format).
``report`` is the index of the report in the batch list.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from nianbao.model import ParsedReport
from nianbao.spec import Fmt, all_cells, cell_kind, tables

STATES = ["value", "zero", "blank", "non_numeric", "too_large", "recovered", "missing"]
STATE_DTYPE = pl.Enum(STATES)


def cells_frame(reports: Sequence[ParsedReport], idx: Sequence[int] | None = None) -> pl.DataFrame:
    """Long frame of every canonical cell of the readable reports."""
    rep_col: list[int] = []
    cell_col: list[str] = []
    value_col: list[float | None] = []
    raw_col: list[str] = []
    state_col: list[str] = []
    kind_col: list[str] = []
    fmt_col: list[str] = []
    line_col: list[int | None] = []
    pos_col: list[int | None] = []
    where_col: list[str | None] = []
    indices = range(len(reports)) if idx is None else idx
    for i in indices:
        rep = reports[i]
        if not rep.readable or rep.fmt is None:
            continue
        fmt = rep.fmt
        ids = all_cells(fmt)
        n = len(ids)
        cells = rep.cells
        rep_col.extend([i] * n)
        cell_col.extend(ids)
        fmt_col.extend([fmt.value] * n)
        kind_col.extend(cell_kind(fmt, c).value for c in ids)
        for cid in ids:
            c = cells[cid]
            value_col.append(c.value)
            raw_col.append(c.raw)
            state_col.append(c.state.value)
            line_col.append(c.line)
            pos_col.append(c.col)
            where_col.append(c.where)
    return pl.DataFrame(
        {
            "report": pl.Series(rep_col, dtype=pl.UInt32),
            "cell": pl.Series(cell_col, dtype=pl.String),
            "fmt": pl.Series(fmt_col, dtype=pl.String),
            "kind": pl.Series(kind_col, dtype=pl.String),
            "value": pl.Series(value_col, dtype=pl.Float64),
            "raw": pl.Series(raw_col, dtype=pl.String),
            "state": pl.Series(state_col, dtype=STATE_DTYPE),
            "line": pl.Series(line_col, dtype=pl.UInt32),
            "pos": pl.Series(pos_col, dtype=pl.UInt32),
            "where": pl.Series(where_col, dtype=pl.String),
        }
    )


def table_frame(cells: pl.DataFrame, fmt: Fmt, table: str) -> pl.DataFrame:
    """Wide frame of one statutory table: one row per report, one Float64 column per cell id."""
    ids = list(tables(fmt)[table].cells())
    sub = cells.filter((pl.col("fmt") == fmt.value) & pl.col("cell").str.starts_with(f"{table}:"))
    if sub.height == 0:
        return pl.DataFrame(
            {"report": pl.Series([], dtype=pl.UInt32), **{c: pl.Series([], dtype=pl.Float64) for c in ids}}
        )
    wide = sub.pivot(on="cell", index="report", values="value", on_columns=ids)
    return wide.select("report", *ids).sort("report")


def layout_frame(reports: Sequence[ParsedReport]) -> pl.DataFrame:
    cols: dict[str, list[object]] = {
        k: []
        for k in (
            "report",
            "element",
            "kind",
            "found",
            "statutory",
            "printed",
            "line",
            "in_order",
            "previous",
            "readable",
            "duplicate",
            "raw",
        )
    }

    def add(i: int, **kw: object) -> None:
        for k in cols:
            cols[k].append(kw.get(k, i if k == "report" else None))

    for i, rep in enumerate(reports):
        if not rep.readable:
            continue
        for f in rep.layout:
            add(
                i,
                element=f.element,
                kind=f.kind,
                found=f.found,
                statutory=f.statutory,
                printed=f.printed,
                line=f.line,
                in_order=f.in_order,
                previous=f.previous,
                readable=True,
                duplicate=False,
                raw=None,
            )
        for ri in rep.row_issues:
            add(
                i,
                element=ri.element,
                kind="row",
                found=True,
                statutory="",
                printed=None,
                line=ri.line,
                in_order=True,
                previous=None,
                readable=ri.code != "I07",
                duplicate=ri.code == "I08",
                raw=ri.raw,
            )
    schema = {
        "report": pl.UInt32,
        "element": pl.String,
        "kind": pl.String,
        "found": pl.Boolean,
        "statutory": pl.String,
        "printed": pl.String,
        "line": pl.UInt32,
        "in_order": pl.Boolean,
        "previous": pl.String,
        "readable": pl.Boolean,
        "duplicate": pl.Boolean,
        "raw": pl.String,
    }
    return pl.DataFrame(cols, schema=schema)


def meta_frame(reports: Sequence[ParsedReport]) -> pl.DataFrame:
    rows = [
        (
            i,
            r.agency,
            r.year,
            r.title,
            r.title_line,
            r.fmt.value if r.fmt else None,
            "；".join(dict.fromkeys(r.fmt_evidence_2019)) or None,
            r.period_text,
            r.period_start_year,
            r.period_end_year,
            r.period_full_year,
            r.period_line,
        )
        for i, r in enumerate(reports)
        if r.readable
    ]
    schema = {
        "report": pl.UInt32,
        "agency": pl.String,
        "year": pl.Int32,
        "title": pl.String,
        "title_line": pl.UInt32,
        "fmt": pl.String,
        "fmt_evidence": pl.String,
        "period_text": pl.String,
        "period_start_year": pl.Int32,
        "period_end_year": pl.Int32,
        "period_full_year": pl.Boolean,
        "period_line": pl.UInt32,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")
