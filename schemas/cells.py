"""Rule G on every cell of every report at once: the long frame of canonical cells."""

from __future__ import annotations

from functools import cache

import pandera.polars as pa
import polars as pl

from nianbao.rules.frames import CELL_DTYPE, FMT_DTYPE, KIND_DTYPE, STATE_DTYPE
from schemas._compile import rule_schema

value = pl.col("value")
state = pl.col("state")
kind = pl.col("kind")

# rule code -> the expression that must hold on each cell row
CELL_RULES: dict[str, pl.Expr] = {
    "G01": state != "non_numeric",
    "G02": value.is_null() | (value >= 0) | (kind == "delta"),
    "G03": value.is_null() | (kind == "amount") | (value == value.round(0)),
    "G04": state != "blank",
    "G05": state != "too_large",
}


@cache
def cells_schema() -> pa.DataFrameSchema:
    return rule_schema(
        {
            "report": pa.Column(pl.UInt32),
            "cell": pa.Column(CELL_DTYPE),
            "fmt": pa.Column(FMT_DTYPE),
            "kind": pa.Column(KIND_DTYPE),
            "value": pa.Column(pl.Float64, nullable=True),
            "state": pa.Column(STATE_DTYPE),
            "line": pa.Column(pl.UInt32, nullable=True),
            "pos": pa.Column(pl.UInt32, nullable=True),
        },
        CELL_RULES,
        name="cells",
    )
