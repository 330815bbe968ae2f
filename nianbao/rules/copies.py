"""Copies of last year's report (L01): this year's tables are figure-for-figure last year's and the
prose is near-identical with the years masked — the report was re-published with only the year
changed (内容雷同).

Candidates are the year pairs whose figure hashes are equal (:func:`figure_hashes`, one hash of all
table figures per report), confirmed figure by figure; their prose similarity is checked against
:data:`schemas.plausibility.COPY_SIMILARITY` by the ``copies`` schema.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import polars as pl

from nianbao.domain.model import ParsedReport
from nianbao.domain.spec import Fmt
from nianbao.outcome import Finding, finding_for
from nianbao.rules.base import failing_rows
from nianbao.rules.family import Batch, Family
from nianbao.rules.frames import FmtArrays
from nianbao.rules.years import YearPairs
from schemas.plausibility import COPY_RULES, copies_schema


def figure_hashes(arrays: Mapping[Fmt, FmtArrays], offset: int = 0, only: np.ndarray | None = None) -> pl.DataFrame:
    """Per report: a hash of all its table figures (blank ≠ 0) and whether any figure is non-zero;
    ``only``: just the reports of these indices (``report`` + ``offset``; a row's hash is its own).

    Equal hashes are confirmed figure by figure where they matter (:func:`same_figures`)."""
    parts = []
    for fmt, a in arrays.items():
        report, values = a.report.astype(np.int64) + offset, a.values
        if only is not None:
            keep = np.isin(report, only)
            report, values = report[keep], values[keep]
        if values.shape[0] == 0:
            continue
        blank = np.isnan(values)
        vals = np.where(blank, -1.5, values)  # a blank is not a 0
        h = pl.from_numpy(vals).hash_rows(seed=20231231)
        del vals
        nonzero = ((values != 0) & ~blank).any(axis=1)  # (no float temporaries of the whole table)
        parts.append(
            pl.DataFrame(
                {
                    "report": pl.Series(report, dtype=pl.UInt32),
                    "fmt": pl.Series([fmt.value] * len(report), dtype=pl.String),
                    "hash": h,
                    "nonzero": pl.Series(nonzero, dtype=pl.Boolean),
                }
            )
        )
    if not parts:
        return pl.DataFrame(schema={"report": pl.UInt32, "fmt": pl.String, "hash": pl.UInt64, "nonzero": pl.Boolean})
    return pl.concat(parts)


def same_figures(a: ParsedReport, b: ParsedReport) -> bool:
    """Figure-for-figure equality of two reports' tables (blank ≠ 0); same format only.  Tables of
    which not one figure was read (missing, blank or unreadable) are never "the same": there is
    nothing to compare."""
    if a.fmt is not b.fmt or a.fmt is None:
        return False
    va, *_ = a.cells.arrays()
    vb, *_ = b.cells.arrays()
    x = np.frombuffer(va, dtype=np.float64)
    y = np.frombuffer(vb, dtype=np.float64)
    nx = np.isnan(x)
    if nx.all():
        return False
    return bool(np.array_equal(nx, np.isnan(y)) and np.array_equal(np.nan_to_num(x), np.nan_to_num(y)))


_YEAR = re.compile(r"(?:19|20)\d{2}")
MIN_PROSE = 200  # characters of prose (years masked) below which two texts are not compared (L01)


def prose_text(rep: ParsedReport) -> str:
    """All the report's prose with years masked (a copy changes only the years)."""
    return _YEAR.sub("YYYY", "".join(rep.sections.joined().split()))  # split() cuts where \\s matches


def similarity(a: str, b: str, k: int = 4) -> float:
    """Near-identity of two texts: Jaccard overlap of their character k-grams (order-insensitive at
    the scale of a paragraph; 1.0 when only the masked years differ).  An empty text is like no other
    (0.0): two reports whose prose was not read are not "identical"."""
    if not a or not b:
        return 0.0
    sa = {a[i : i + k] for i in range(max(1, len(a) - k + 1))}
    sb = {b[i : i + k] for i in range(max(1, len(b) - k + 1))}
    return len(sa & sb) / len(sa | sb)


def copies_frame(yp: YearPairs, hashes: pl.DataFrame) -> pl.DataFrame:
    """Pairs whose figures are identical (same format), with their prose similarity."""
    h = hashes.select("report", "fmt", "hash")
    same = (
        yp.pairs.join(h, on="report", how="inner")
        .join(h.rename({"report": "prev", "fmt": "prev_fmt", "hash": "prev_hash"}), on="prev", how="inner")
        .filter((pl.col("fmt") == pl.col("prev_fmt")) & (pl.col("hash") == pl.col("prev_hash")))
        .select("report", "prev")
    )
    pairs: list[tuple[int, int]] = []
    sims: list[float] = []
    for r, p in same.iter_rows():
        if not same_figures(yp.reports[r], yp.reports[p]):
            continue
        a, b = prose_text(yp.reports[r]), prose_text(yp.reports[p])
        if min(len(a), len(b)) < MIN_PROSE:
            continue  # too little prose read to say the texts are the same
        pairs.append((r, p))
        sims.append(similarity(a, b))
    return pl.DataFrame(
        {
            "report": pl.Series([r for r, _p in pairs], dtype=pl.UInt32),
            "prev": pl.Series([p for _r, p in pairs], dtype=pl.UInt32),
            "same_figures": pl.Series([True] * len(pairs), dtype=pl.Boolean),
            "similarity": pl.Series(sims, dtype=pl.Float64),
        }
    )


def findings_of(yp: YearPairs, frame: pl.DataFrame) -> list[Finding]:
    """The findings of the failing rows of the copies frame."""
    out: list[Finding] = []
    for d in failing_rows(copies_schema(), frame):
        ri = d["report"]
        rep, prev = yp.reports[ri], yp.reports[d["prev"]]
        sim = math.floor(d["similarity"] * 1000) / 1000
        params = {"prev_year": prev.year, "prev_file": prev.file, "similarity": f"{sim:.3f}"}
        out.append(
            finding_for(
                "L01",
                rep,
                ri,
                cells=[],
                expected="与上年不同的本年度内容",
                actual=f"与 {prev.year} 年度报告雷同（相似度 {sim:.3f}）",
                params=params,
                line=rep.title_line,
            )
        )
    return out


def copy_findings(batch: Batch) -> list[Finding]:
    """L01 for every report that re-publishes its agency's report of last year (only the reports of
    a year pair are hashed: a batch of one year has none, and at 100,000 reports hashing every
    table was a third of a CPU second spent on a memory-bound copy of the whole batch's figures)."""
    pairs = batch.year_pairs.pairs
    if pairs.height == 0:
        return []
    paired = np.union1d(pairs["report"].to_numpy(), pairs["prev"].to_numpy()).astype(np.int64)
    hashes = figure_hashes(batch.arrays, only=paired)
    if batch.last_year_arrays is not None:
        hashes = pl.concat([hashes, figure_hashes(batch.last_year_arrays, offset=len(batch.reports), only=paired)])
    return findings_of(batch.year_pairs, copies_frame(batch.year_pairs, hashes))


FAMILY = Family(
    "copies",
    lambda: frozenset(COPY_RULES),
    copy_findings,
    reads=frozenset({"year_pairs", "arrays", "last_year_arrays"}),
    timing="plausibility",
)
