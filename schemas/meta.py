"""Report-level rules (title, statistical period, format version) on one row per report."""

from __future__ import annotations

from functools import cache

import polars as pl

from schemas._compile import rule_schema
from schemas._pandera import pa

year = pl.col("year")
stated = pl.col("period_text").is_not_null()

META_RULES: dict[str, pl.Expr] = {
    "P01": ~stated
    | year.is_null()
    | ((pl.col("period_start_year") == year) & (pl.col("period_end_year") == year) & pl.col("period_full_year")),
    "P02": stated,
    "P03": pl.col("agency").is_not_null() & year.is_not_null(),
    "P04": pl.col("agency_source").is_null(),
    "R01": ~((pl.col("fmt") == "2019") & (year >= 2021)),
    "U09": pl.col("bad_bytes") == 0,
}


@cache
def meta_schema() -> pa.DataFrameSchema:
    return rule_schema(
        {
            "report": pa.Column(pl.UInt32, unique=True),
            "agency": pa.Column(pl.String, nullable=True),
            "agency_source": pa.Column(pl.String, pa.Check.isin(["file", "registry"]), nullable=True),
            "year": pa.Column(pl.Int32, nullable=True),
            "title": pa.Column(pl.String, nullable=True),
            "title_line": pa.Column(pl.UInt32, nullable=True),
            "fmt": pa.Column(pl.String, pa.Check.isin(["2021", "2019"])),
            "fmt_evidence": pa.Column(pl.String, nullable=True),
            "period_text": pa.Column(pl.String, nullable=True),
            "period_start_year": pa.Column(pl.Int32, nullable=True),
            "period_end_year": pa.Column(pl.Int32, nullable=True),
            "period_full_year": pa.Column(pl.Boolean, nullable=True),
            "period_line": pa.Column(pl.UInt32, nullable=True),
            "bad_bytes": pa.Column(pl.UInt32),
        },
        META_RULES,
        name="meta",
    )
