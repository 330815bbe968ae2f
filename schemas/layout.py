"""Rule I (layout) on the structural elements of every report at once."""

from __future__ import annotations

from functools import cache

import polars as pl

from schemas._compile import rule_schema
from schemas._pandera import pa

kind = pl.col("kind")
found = pl.col("found")

LAYOUT_RULES: dict[str, pl.Expr] = {
    "I01": (kind != "section") | found,
    "I02": pl.col("in_order"),
    "I03": (kind != "table") | found,
    "I04": (kind != "row") | found,
    "I05": (kind != "column") | found,
    "I06": pl.col("printed").is_null(),
    "I07": pl.col("readable"),
    "I08": ~pl.col("duplicate"),
    "I09": pl.col("issue").ne_missing("I09"),
    "I10": pl.col("issue").ne_missing("I10"),
    "I11": pl.col("issue").ne_missing("I11"),
    "I12": pl.col("issue").ne_missing("I12"),
    "I13": pl.col("issue").ne_missing("I13"),
}


@cache
def layout_schema() -> pa.DataFrameSchema:
    return rule_schema(
        {
            "report": pa.Column(pl.UInt32),
            "pos": pa.Column(pl.UInt32),
            "element": pa.Column(pl.String),
            "kind": pa.Column(pl.String, pa.Check.isin(["section", "table", "row", "column"])),
            "found": pa.Column(pl.Boolean),
            "printed": pa.Column(pl.String, nullable=True),
            "in_order": pa.Column(pl.Boolean),
            "readable": pa.Column(pl.Boolean),
            "duplicate": pa.Column(pl.Boolean),
            "issue": pa.Column(pl.String, nullable=True),
        },
        LAYOUT_RULES,
        name="layout",
    )
