"""Beyond one report's arithmetic: the rules that need other reports or the prose (E, F, H, J, K, L),
and the error localisation that runs after every rule, in one pass over the broken reports.

Called by :func:`nianbao.validate.batch.validate_batch` with the frames it already built; the previous
year's reports are the batch's own reports of year Y−1 and/or ``previous`` (e.g. from the store).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import polars as pl

from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import Agency
from nianbao.domain.spec import Fmt
from nianbao.localise import localise_findings
from nianbao.outcome import Finding
from nianbao.rules.crossyear import cross_year_findings, pair_years, table_presence
from nianbao.rules.frames import FmtArrays, batch_arrays, cells_frame
from nianbao.rules.plausibility import (
    copies_frame,
    copy_findings,
    county_level,
    figure_hashes,
    plausibility_findings,
    plausibility_frame,
)
from nianbao.rules.prose import prose_findings


def _tick(timings: dict[str, float] | None, name: str, t0: float) -> float:
    now = time.perf_counter()
    if timings is not None:
        timings[name] = timings.get(name, 0.0) + now - t0
    return now


def beyond_findings(
    reports: Sequence[ParsedReport],
    arrays: Mapping[Fmt, FmtArrays],
    cells: pl.DataFrame | list[pl.DataFrame],
    *,
    previous: Sequence[ParsedReport] = (),
    renames: Mapping[str, str] | None = None,
    registry: Sequence[Agency] | None = None,
    timings: dict[str, float] | None = None,
) -> list[Finding]:
    """E, F, H, J, K and L findings of the batch (``cells`` is the batch's long cells frame).

    The rules that read the long frame run first; a caller that hands it over in a one-element
    list (its only reference) has it freed before the text rules, which do not read it (at
    100,000 reports the frame is 1.1 GB)."""
    t = time.perf_counter()
    n = len(reports)
    yp = pair_years(reports, previous, renames)
    batch_cells = cells.pop() if isinstance(cells, list) else cells
    if previous:
        prev_cells = cells_frame(previous).with_columns((pl.col("report") + n).cast(pl.UInt32))
        all_cells = pl.concat([batch_cells, prev_cells], how="vertical")
        del prev_cells
        prev_arrays = batch_arrays(previous)
    else:
        all_cells, prev_arrays = batch_cells, None
    del batch_cells
    presence = table_presence(all_cells)
    out = cross_year_findings(yp, all_cells, presence)
    t = _tick(timings, "cross_year", t)
    groups = county_level(yp.keys, registry)
    out += plausibility_findings(yp, plausibility_frame(yp, all_cells, groups))
    del all_cells
    hashes = figure_hashes(arrays)
    if prev_arrays is not None:
        hashes = pl.concat([hashes, figure_hashes(prev_arrays, offset=n)])
    out += copy_findings(yp, copies_frame(yp, hashes))
    t = _tick(timings, "plausibility", t)
    out += prose_findings(reports, arrays)
    _tick(timings, "prose", t)
    return out


def prev_values(
    reports: Sequence[ParsedReport],
    previous: Sequence[ParsedReport] = (),
    renames: Mapping[str, str] | None = None,
) -> dict[int, dict[str, float | None]]:
    """For each batch report whose last year is known and has table 三: last year's ``3:4:*`` values."""
    yp = pair_years(reports, previous, renames)
    out: dict[int, dict[str, float | None]] = {}
    for ri, pi in yp.prev_of().items():
        last = yp.reports[pi]
        cells = {c: last.cells.get(c) for c in (f"3:4:{k}" for k in _T3_COLS)}
        if all(c is None or c.state.value == "missing" for c in cells.values()):
            continue
        out[ri] = {k: (c.value if c is not None else None) for k, c in cells.items()}
    return out


_T3_COLS = ("natural", "commercial", "research", "social", "legal", "other", "total")


def localise_all(
    findings: Sequence[Finding],
    reports: Sequence[ParsedReport],
    *,
    previous: Sequence[ParsedReport] = (),
    renames: Mapping[str, str] | None = None,
    timings: dict[str, float] | None = None,
) -> None:
    """Attach suspects to every sum-rule finding (A–D, and E when last year is known)."""
    t = time.perf_counter()
    localise_findings(findings, reports, prev_values(reports, previous, renames))
    _tick(timings, "localise", t)
