"""Cross-year rules E (carry-over) and F (document stock) on one frame of year pairs.

Each row is one report of year Y joined with the same agency's report of year Y−1; last year's cells
are columns named ``prev:<cell id>``.  The checks are compiled from the catalogue's linear rule
definitions (:func:`nianbao.catalogue.carry_over_rules`, :func:`nianbao.catalogue.stock_rules`) —
the same definitions the error localisation uses.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from nianbao.catalogue import LinearRule, carry_over_rules, stock_rules
from schemas._compile import linear_check
from schemas._pandera import pa


def _rules(family: str) -> tuple[LinearRule, ...]:
    return {"E": carry_over_rules(), "F": stock_rules()}[family]


def cross_year_columns(family: str) -> list[str]:
    """The value columns of the pair frame of a family: this year's cells, then ``prev:`` cells."""
    out: list[str] = []
    for r in _rules(family):
        for c in r.cells:
            if c not in out:
                out.append(c)
    return out


@cache
def cross_year_schema(family: str) -> pa.DataFrameSchema:
    cols: dict[str, pa.Column] = {
        "report": pa.Column(pl.UInt32, unique=True),
        "prev": pa.Column(pl.UInt32),
    }
    for c in cross_year_columns(family):
        cols[c] = pa.Column(pl.Float64, nullable=True)
    return pa.DataFrameSchema(
        cols,
        checks=[linear_check(r) for r in _rules(family)],
        name=f"cross_year_{family}",
        title="跨年度核对（上年结转）" if family == "E" else "跨年度核对（文件存量）",
        strict=True,
    )
