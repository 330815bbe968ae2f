"""Year pairs: each report of the batch with the same agency's report of the previous year.

Agencies are matched on their normalised name (:func:`nianbao.domain.registry.normalise_agency`) after
the rename table (``renames.csv``: old name → current name) is applied, so a township that changed
its name keeps its history.  Last year's report comes from the same batch (reports of year Y−1 given
on the same command line) or from ``previous`` (e.g. the Parquet store of earlier runs); the batch
wins when both have it.  The cross-year, plausibility and copy rules and the error localisation
read the same pairs (built once per run on the :class:`nianbao.rules.family.Batch`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import normalise_agency


def agency_key(name: str | None, renames: Mapping[str, str]) -> str:
    """The matching key of an agency name: normalised, then followed through the rename table."""
    key = normalise_agency(name)
    seen: set[str] = set()
    while key in renames and key not in seen:
        seen.add(key)
        key = renames[key]
    return key


@dataclass
class YearPairs:
    """The batch (indices ``0..n-1``) followed by the previous-year reports given separately."""

    n: int
    reports: list[ParsedReport]
    keys: list[str]
    # report (batch index) -> prev (index into ``reports``), one row per report that has last year's report
    pairs: pl.DataFrame
    # batch reports of a known agency and year for which last year's report was not found
    missing: list[int]

    def prev_of(self) -> dict[int, int]:
        return dict(zip(self.pairs["report"].to_list(), self.pairs["prev"].to_list(), strict=True))


def pair_years(
    reports: Sequence[ParsedReport],
    previous: Sequence[ParsedReport] = (),
    renames: Mapping[str, str] | None = None,
) -> YearPairs:
    renames = renames or {}
    everything = list(reports) + list(previous)
    norm = normalise_agency  # (agency_key without the rename table's walk when there is none)
    keys = [
        (agency_key(r.agency, renames) if renames else norm(r.agency)) if r.status == "validated" else ""
        for r in everything
    ]
    meta = pl.DataFrame(
        {
            "idx": pl.Series(range(len(everything)), dtype=pl.UInt32),
            "key": pl.Series(keys, dtype=pl.String),
            "year": pl.Series([r.year if r.status == "validated" else None for r in everything], dtype=pl.Int32),
        }
    ).filter((pl.col("key") != "") & pl.col("year").is_not_null())
    this = meta.filter(pl.col("idx") < len(reports))
    # the first report of (key, year) — batch reports come first, so the batch wins
    last = (
        meta.group_by("key", "year")
        .agg(pl.col("idx").min().alias("prev"))
        .with_columns((pl.col("year") + 1).alias("year"))
    )
    joined = this.join(last, on=["key", "year"], how="left")
    pairs = joined.filter(pl.col("prev").is_not_null()).select(pl.col("idx").alias("report"), "prev").sort("report")
    missing = joined.filter(pl.col("prev").is_null())["idx"].sort().to_list()
    return YearPairs(len(reports), everything, keys, pairs, missing)
