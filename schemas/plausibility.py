"""Plausibility (K) and copies of last year's report (L): checks on precomputed robust statistics.

- ``plausibility``: one row per (report, key figure) with the figure's peer statistics (same county,
  level and year; median and MAD on the log scale) and last year's value;
- ``copies``: one row per year pair whose table figures are identical, with the prose similarity.
The thresholds are data (``KEY_FIGURES``, ``MIN_PEERS`` …) shared with the code that fills the frames.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from schemas._compile import rule_schema
from schemas._pandera import pa

# key figure -> the volume below which it is not worth an auditor's look ("meaningful volume")
KEY_FIGURES: dict[str, float] = {
    "3:1:total": 20.0,
    "2:licensing:decisions": 20.0,
    "2:penalty:decisions": 20.0,
    "2:coercion:decisions": 20.0,
    "2:fees:amount": 50.0,  # 万元
}
MIN_PEERS = 8  # other agencies of the same county, level and year
Z_MAX = 3.5  # robust z on log1p(value): (x − median) / (1.4826 · MAD)
SIGMA_FLOOR = 0.5  # on the log scale: a group of near-identical peers is not made hypersensitive
JUMP_UP = 5.0  # this year ≥ ×5 last year (values + 1) ...
JUMP_DOWN = 0.2  # ... or ≤ ×0.2
COPY_SIMILARITY = 0.90  # prose similarity (years masked) at or above which identical figures are a copy

v = pl.col("value")
PLAUSIBILITY_RULES: dict[str, pl.Expr] = {
    "K01": pl.col("peers").is_null() | (pl.col("peers") < MIN_PEERS) | (v < pl.col("floor")) | (v <= pl.col("upper")),
    "K02": pl.col("previous").is_null()
    | (pl.max_horizontal(v, pl.col("previous")) < pl.col("floor"))
    | (((v + 1) / (pl.col("previous") + 1) < JUMP_UP) & ((v + 1) / (pl.col("previous") + 1) > JUMP_DOWN)),
}

COPY_RULES: dict[str, pl.Expr] = {
    "L01": ~(pl.col("same_figures") & (pl.col("similarity") >= COPY_SIMILARITY)),
}


@cache
def plausibility_schema() -> pa.DataFrameSchema:
    return rule_schema(
        {
            "report": pa.Column(pl.UInt32),
            "figure": pa.Column(pl.String, pa.Check.isin(list(KEY_FIGURES))),
            "value": pa.Column(pl.Float64),
            "floor": pa.Column(pl.Float64),
            "peers": pa.Column(pl.UInt32, nullable=True),
            "median": pa.Column(pl.Float64, nullable=True),
            "upper": pa.Column(pl.Float64, nullable=True),
            "peer_min": pa.Column(pl.Float64, nullable=True),
            "peer_max": pa.Column(pl.Float64, nullable=True),
            "prev": pa.Column(pl.UInt32, nullable=True),
            "previous": pa.Column(pl.Float64, nullable=True),
        },
        PLAUSIBILITY_RULES,
        name="plausibility",
        title="与同级机关、与上年相比的合理性",
    )


@cache
def copies_schema() -> pa.DataFrameSchema:
    return rule_schema(
        {
            "report": pa.Column(pl.UInt32, unique=True),
            "prev": pa.Column(pl.UInt32),
            "same_figures": pa.Column(pl.Boolean),
            "similarity": pa.Column(pl.Float64),
        },
        COPY_RULES,
        name="copies",
        title="与上年报告雷同",
    )
