"""Rule G on every cell of every report at once: the long frame of canonical cells."""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl

from nianbao.rules.frames import CELL_DTYPE, FMT_DTYPE, KIND_DTYPE, STATE_DTYPE, STATE_NAMES, FmtArrays
from schemas._compile import rule_schema
from schemas._pandera import pa

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


# the states a rule above forbids: with a negative value and a value with a fraction, what a cell
# that breaks a rule must have (whatever its kind); every other cell passes every rule
# (tests/rules/test_suspect_frames.py tries each state x kind x sort of value against CELL_RULES)
SUSPECT_STATES = ("non_numeric", "blank", "too_large")
_SUSPECT_CODE = np.isin(np.arange(256), [STATE_NAMES.index(s) for s in SUSPECT_STATES])
_BLOCK = 512  # rows at a time: the temporaries stay in the cache (a format's values: ~170 MB at 100,000 reports)


def suspects(a: FmtArrays) -> np.ndarray:
    """The report x cell mask of ``a``'s cells that may break a rule of :data:`CELL_RULES` (a
    superset of those that do): the family validates the frame of these cells only.

    A value is suspect when ``|v| - floor(v) > 0``: a fraction, or a negative value (NaN — no
    value — gives NaN, never suspect by its value; +inf gives NaN, -inf +inf)."""
    out = np.empty(a.states.shape, dtype=bool)
    for lo in range(0, len(out), _BLOCK):
        v = a.values[lo : lo + _BLOCK]
        t = np.floor(v)
        with np.errstate(invalid="ignore"):
            np.subtract(np.abs(v), t, out=t)
            bad = np.greater(t, 0, out=out[lo : lo + _BLOCK])
        bad |= _SUSPECT_CODE[a.states[lo : lo + _BLOCK]]
    return out


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
