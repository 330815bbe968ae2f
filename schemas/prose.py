"""Text-vs-table rules H and J: checks on the claims the prose makes (frames: :mod:`nianbao.rules.prose.checks`).

- ``prose``: one row per claim (a number or a statement the prose makes) joined with the sum of
  the table cells it is about; one named check per rule code (H01 … H18);
- ``prose_sums``: one row per paragraph with its stated application figures (H13, H14: the prose's
  own arithmetic);
- ``fee``: one row per 2021-format report: where the 信息处理费 statement is (J01, J02).
"""

from __future__ import annotations

from functools import cache

import polars as pl

from schemas._compile import TOLERANCE, rule_schema
from schemas._pandera import pa


def claim_expr(code: str) -> pl.Expr:
    """True where a claim of rule ``code`` agrees with the tables (rows of other rules pass)."""
    agrees = (
        pl.when(pl.col("check_kind") == "equal")
        .then((pl.col("stated") - pl.col("table")).abs() <= TOLERANCE)
        .otherwise(pl.col("table").abs() <= TOLERANCE)
    )
    return (pl.col("rule") != code) | agrees


@cache
def prose_schema(rules: tuple[str, ...]) -> pa.DataFrameSchema:
    """The claims frame's schema: one check per rule code in ``rules`` (the claim kinds' rules,
    :data:`nianbao.rules.prose.claims.CLAIM_RULES`)."""
    return rule_schema(
        {
            "report": pa.Column(pl.UInt32),
            "section": pa.Column(pl.String),
            "line": pa.Column(pl.UInt32),
            "sent": pa.Column(pl.Int64),
            "pos": pa.Column(pl.Int64),
            "kind": pa.Column(pl.String),
            "rule": pa.Column(pl.String),
            "check_kind": pa.Column(pl.String, pa.Check.isin(["equal", "zero"])),
            "stated": pa.Column(pl.Float64),
            "table": pa.Column(pl.Float64),
            "natural": pa.Column(pl.Float64, nullable=True),
            "table_line": pa.Column(pl.UInt32, nullable=True),
        },
        {code: claim_expr(code) for code in rules},
        name="prose",
        title="正文所述数字与统计表",
    )


_CATS = ("open", "partial", "refused", "unable", "not_processed", "other_processing")

SUM_RULES: dict[str, pl.Expr] = {
    # the listed outcome categories never exceed the stated handled total; all six must add up to it
    "H13": pl.col("handled").is_null()
    | (pl.col("n_categories") < 2)
    | (
        (pl.col("parts") <= pl.col("handled"))
        & ((pl.col("n_categories") < len(_CATS)) | (pl.col("parts") == pl.col("handled")))
    ),
    # received + carried = handled + forwarded, when the paragraph states all four
    "H14": pl.any_horizontal(pl.col(c).is_null() for c in ("received", "carried", "handled", "forwarded"))
    | ((pl.col("received") + pl.col("carried")) == (pl.col("handled") + pl.col("forwarded"))),
}


@cache
def prose_sums_schema() -> pa.DataFrameSchema:
    kinds = ["received", "carried", "handled", "forwarded", *_CATS]
    cols: dict[str, pa.Column] = {
        "report": pa.Column(pl.UInt32),
        "line": pa.Column(pl.UInt32),
        "section": pa.Column(pl.String),
        "sent": pa.Column(pl.Int64),
    }
    cols |= {k: pa.Column(pl.Int64, nullable=True) for k in kinds}
    cols |= {"n_categories": pa.Column(pl.UInt32), "parts": pa.Column(pl.Int64)}
    return rule_schema(
        cols,
        SUM_RULES,
        name="prose_sums",
        title="正文数字自身的算术",
    )


FEE_RULES: dict[str, pl.Expr] = {
    "J01": pl.col("in_six") | pl.col("elsewhere"),
    "J02": pl.col("in_six") | ~pl.col("elsewhere"),
}


@cache
def fee_schema() -> pa.DataFrameSchema:
    return rule_schema(
        {
            "report": pa.Column(pl.UInt32, unique=True),
            "in_six": pa.Column(pl.Boolean),
            "elsewhere": pa.Column(pl.Boolean),
            "other_section": pa.Column(pl.String, nullable=True),
            "other_line": pa.Column(pl.UInt32, nullable=True),
        },
        FEE_RULES,
        name="fee",
        title="信息处理费收取情况的说明",
    )
