"""Compile catalogue rules into pandera checks: one named polars expression per rule (instance).

A check's name is the rule code (``G01``) or, for linear rules, ``CODE|instance`` (``A01|3:3.3.4:*``),
so that each failure case maps back to exactly one rule instance — never an AND of several.
Every expression is made null-safe (``fill_null(False)``) and checks run with ``ignore_na=False``:
a blank cell can never pass a rule by being null.  The expression is kept on the check (its
statistic ``expr``): :func:`nianbao.rules.base.failures` evaluates all of a schema's rule
expressions in one pass over the frame, each still its own column (pandera runs them one by one
when a schema is validated directly, with the same result).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from nianbao.catalogue import LinearRule, catalogue
from schemas._pandera import pa

TOLERANCE = 1e-6


def expr_check(name: str, expr: pl.Expr) -> pa.Check:
    code = name.split("|", 1)[0]
    if code not in catalogue():
        raise KeyError(f"check {name!r} names rule {code}, which is not in the catalogue")
    safe = expr.fill_null(False).alias(name)
    # the expression is the check's statistic ``expr``: pandera passes it to ``run`` when it runs the
    # check on its own, nianbao.rules.base evaluates the expressions of all a schema's checks together
    return pa.Check(_run, name=name, error=name, ignore_na=False, expr=safe)


def _run(data: pa.PolarsData, expr: pl.Expr) -> pl.LazyFrame:
    return data.lazyframe.select(expr)


def rule_schema(
    columns: dict[str, pa.Column], rules: Mapping[str, pl.Expr], *, name: str, title: str | None = None
) -> pa.DataFrameSchema:
    """A family's frame schema: its columns (strict: no others) and one check per rule."""
    return pa.DataFrameSchema(
        columns, checks=[expr_check(code, e) for code, e in rules.items()], name=name, title=title, strict=True
    )


def linear_expr(rule: LinearRule) -> pl.Expr:
    """True where ``sum(lhs) == sum(rhs)``, blanks counted as 0."""
    lhs = pl.sum_horizontal(*[pl.col(c) for c in rule.lhs])
    rhs = pl.sum_horizontal(*[pl.col(c) for c in rule.rhs])
    return (lhs - rhs).abs() <= TOLERANCE


def linear_check(rule: LinearRule) -> pa.Check:
    return expr_check(rule.name, linear_expr(rule))


def value_columns(ids: list[str]) -> dict[str, pa.Column]:
    cols: dict[str, pa.Column] = {"report": pa.Column(pl.UInt32, unique=True)}
    for c in ids:
        cols[c] = pa.Column(pl.Float64, nullable=True)
    return cols
