"""Across years (rules E, F): each report against the same agency's report of the previous year.

The pairs are the Batch's :attr:`~nianbao.rules.family.Batch.year_pairs` (agencies matched by
normalised name through the rename table, see :mod:`nianbao.rules.years`).  All pairs are evaluated
at once: one polars frame of pairs per kind (E carry-over, F document stock), one pandera validation
each, with checks compiled from the catalogue's linear rule definitions; an E02 (info) for every
report whose last year is unknown (summarised: one per reason and year, naming the reports).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import polars as pl

from nianbao.catalogue import PREV, LinearRule, carry_over_rules, format_number, stock_rules
from nianbao.domain.spec import Fmt
from nianbao.outcome import Finding, InfoSummary, Summaries, finding_for, plain_number
from nianbao.rules.base import failing_rows
from nianbao.rules.family import Batch, Family, fixed_codes
from nianbao.rules.frames import STATE_NAMES, FmtArrays, cell_values
from nianbao.rules.years import YearPairs
from schemas.crossyear import cross_year_columns, cross_year_schema

# ------------------------------------------------------------------ frames of pairs


_T2_STOCK = re.compile(r"^2:(rules|normative):(issued|repealed|in_force)$")
_MISSING = STATE_NAMES.index("missing")


def table_presence(arrays: Iterable[FmtArrays]) -> pl.DataFrame:
    """Per readable report: does it have a readable table 三 (``t3``) / table 二 第（一）项 in the
    2021 layout (``t2``): a cell of it not missing."""
    parts = []
    for a in arrays:
        found = a.states != _MISSING
        t3 = found[:, [i for i, c in enumerate(a.ids) if c.startswith("3:")]].any(axis=1)
        t2_cols = [i for i, c in enumerate(a.ids) if _T2_STOCK.match(c)] if a.fmt is Fmt.F2021 else []
        t2 = found[:, t2_cols].any(axis=1)
        parts.append(pl.DataFrame({"report": pl.Series(a.report, dtype=pl.UInt32), "t3": t3, "t2": t2}))
    return pl.concat(parts) if parts else pl.DataFrame(schema={"report": pl.UInt32, "t3": pl.Boolean, "t2": pl.Boolean})


def pair_frame(yp: YearPairs, arrays: Sequence[FmtArrays], family: str, presence: pl.DataFrame) -> pl.DataFrame:
    """One row per pair where both reports have the family's table; this year's and ``prev:`` columns."""
    cols = cross_year_columns(family)
    own = [c for c in cols if not c.startswith(PREV)]
    prev = [c[len(PREV) :] for c in cols if c.startswith(PREV)]
    flag = "t3" if family == "E" else "t2"
    ok = presence.filter(pl.col(flag)).select("report")
    pairs = yp.pairs.join(ok, on="report", how="semi").join(ok.rename({"report": "prev"}), on="prev", how="semi")
    if not pairs.height:  # (no pair: no cell read, e.g. a batch of one year without last year's reports)
        return pl.DataFrame(schema={"report": pl.UInt32, "prev": pl.UInt32, **dict.fromkeys(cols, pl.Float64)})
    this = cell_values(arrays, own)
    last = cell_values(arrays, prev).rename({"report": "prev", **{c: PREV + c for c in prev}})
    return pairs.join(this, on="report", how="left").join(last, on="prev", how="left").select("report", "prev", *cols)


# ------------------------------------------------------------------ findings


def _finding(yp: YearPairs, lr: LinearRule, row: dict[str, float | None]) -> Finding:
    ri = int(row["report"])  # type: ignore[arg-type]
    pi = int(row["prev"])  # type: ignore[arg-type]
    rep, last = yp.reports[ri], yp.reports[pi]
    v = {c: (row[c] or 0.0) for c in lr.cells}
    params: dict[str, object] = dict(lr.params) | {"prev_year": last.year, "prev_file": last.file}
    if lr.code == "F01":
        row_id = lr.key.split(":")[1]
        issued, repealed = v[f"2:{row_id}:issued"], v[f"2:{row_id}:repealed"]
        prev_in_force = v[f"{PREV}2:{row_id}:in_force"]
        actual: float = v[f"2:{row_id}:in_force"]
        expected: float = prev_in_force + issued - repealed
        params |= {"issued": issued, "repealed": repealed, "prev_in_force": prev_in_force}
        cells = [f"2:{row_id}:in_force", f"2:{row_id}:issued", f"2:{row_id}:repealed"]
    else:
        actual = sum(v[c] for c in lr.lhs)
        expected = sum(v[c] for c in lr.rhs)
        cells = list(lr.own_cells)
    params |= {"actual": format_number(actual), "expected": format_number(expected)}
    params = {k: (format_number(x) if isinstance(x, float) else x) for k, x in params.items()}
    lines = [ln for c in cells if c in rep.cells and (ln := rep.cells[c].line)]
    return finding_for(
        lr.code,
        rep,
        ri,
        cells=cells,
        expected=plain_number(expected),
        actual=plain_number(actual),
        params=params,
        line=min(lines) if lines else None,
    )


def cross_year_findings(batch: Batch) -> list[Finding | InfoSummary]:
    """E01, F01 for every pair and E02 (info) for every report whose last year is unknown."""
    yp = batch.year_pairs
    arrays = batch.arrays_with_last_year  # report = index in yp.reports (batch and previous)
    presence = table_presence(arrays)
    out: list[Finding | InfoSummary] = []
    for family, rules in (("E", carry_over_rules()), ("F", stock_rules())):
        frame = pair_frame(yp, arrays, family, presence)
        by_name = {r.name: r for r in rules}
        for d in failing_rows(cross_year_schema(family), frame):
            out.append(_finding(yp, by_name[d["check"]], d))
    out += missing_last_year(yp, presence)
    return out


def missing_last_year(yp: YearPairs, presence: pl.DataFrame) -> list[Finding | InfoSummary]:
    """E02 for every report whose last year is unknown: a summary per reason and year when the
    catalogue summarises E02, else one finding each."""
    no_t3 = set(presence.filter(~pl.col("t3"))["report"].to_list())
    reasons: list[tuple[int, str]] = [(i, "本批次和上年数据中都没有该机关上一年度的报告") for i in yp.missing]
    for ri, pi in yp.prev_of().items():
        if pi in no_t3 and ri not in no_t3:
            reasons.append((ri, f"上一年度报告 {yp.reports[pi].file} 中没有可读的表三"))
    summaries = Summaries()
    out: list[Finding | InfoSummary] = []
    if summaries.takes("E02"):  # the reports of each (last year, reason) gathered at once, in order
        reports = yp.reports
        frame = pl.DataFrame(
            {
                "report": pl.Series([ri for ri, _r in reasons], dtype=pl.Int64),
                "reason": pl.Series([r for _ri, r in reasons], dtype=pl.String),
                "prev_year": pl.Series([(reports[ri].year or 0) - 1 for ri, _r in reasons], dtype=pl.Int64),
                "line": pl.Series([reports[ri].title_line for ri, _r in reasons], dtype=pl.Int64),
            }
        )
        groups = (
            frame.sort("report", "reason").group_by("prev_year", "reason", maintain_order=True).agg("report", "line")
        )
        for prev_year, reason, reps, lines in groups.iter_rows():
            params = {"prev_year": prev_year, "reason": reason}
            summaries.add_many(
                "E02", reps, lines, cells=[], expected=f"{prev_year} 年度报告", actual=None, params=params
            )
        out += summaries.done()
        return out
    for ri, reason in sorted(reasons):
        rep = yp.reports[ri]
        prev_year = (rep.year or 0) - 1
        params = {"prev_year": prev_year, "reason": reason}
        out.append(
            finding_for(
                "E02",
                rep,
                ri,
                cells=[],
                expected=f"{prev_year} 年度报告",
                actual=None,
                params=params,
                line=rep.title_line,
            )
        )
    return out


FAMILY = Family(
    "crossyear",
    fixed_codes("E01", "E02", "F01"),
    cross_year_findings,
    reads=frozenset({"year_pairs", "arrays_with_last_year"}),
    timing="cross_year",
)
