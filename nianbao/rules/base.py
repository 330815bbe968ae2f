"""Failing rows → findings: the one runner of the schemas' checks, shared by every rule family.

A family builds a frame (one row per thing checked), validates it once against its pandera schema
(every check, every row) and turns each failing row into a finding.  Running the schema and reading
its failures live here, once: :func:`failures` has pandera check the frame's structure and
evaluates the schema's rule checks together in one pass; :func:`failing_rows` gives the failing
rows themselves, each with the name of the check it fails (the rule code) under ``check``.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from nianbao.domain.model import ParsedReport
from schemas._pandera import errors, pa

# Data-level checks must run: never let an environment switch them off.
os.environ["PANDERA_VALIDATION_DEPTH"] = "SCHEMA_AND_DATA"
os.environ.setdefault("PANDERA_VALIDATION_ENABLED", "True")


def _strategies_without_hypothesis() -> None:
    """Load pandera's data-synthesis registry as it loads without Hypothesis installed.

    The first validation registers pandera's built-in checks, and with them their Hypothesis
    strategies (for ``schema.example()``, which nianbao never calls) when Hypothesis can be
    imported — in the development environment that pulls Hypothesis, trio and pytest into every
    run: ~0.25 CPU s (a second or more of wall time on a busy machine) and a full ``gc.collect``
    of the run's objects, inside the validation stage.  Hypothesis itself stays importable
    afterwards; only pandera's strategies are the placeholders a production install has.
    Nothing is done when either is already loaded, nor under pytest (Hypothesis is the tests'
    own tool there: left as it loads, trio's hook into it included)."""
    loaded = ("hypothesis", "pandera.strategies.base_strategies", "pytest")
    if any(m in sys.modules for m in loaded):
        return
    sys.modules["hypothesis"] = None  # type: ignore[assignment]  # import hypothesis -> ImportError
    try:
        import pandera.strategies.base_strategies  # noqa: F401
    finally:
        del sys.modules["hypothesis"]


_strategies_without_hypothesis()


class SchemaBroken(RuntimeError):
    """A frame did not even have the schema's columns/dtypes: a bug in nianbao, not in a report."""


# seconds spent validating frames against their schemas since the last reset (the schema validation
# proper, apart from building the frames and the findings): validate_batch reports it as "validate_schemas"
# (added under a lock: a family may run in a thread beside the others, nianbao.validate.batch)
SCHEMA_SECONDS = [0.0]
_SCHEMA_SECONDS_LOCK = threading.Lock()


@dataclass
class _Plan:
    """How a schema runs.  pandera validates the frame's structure in two parts: its ``shape``
    (columns, dtypes, strictness: data-free, so checked on the frame emptied, once per set of
    column dtypes — ``shapes_seen``) and its ``data`` (the columns that may not hold nulls, must be
    unique or have checks of their own, and any frame check that is not a rule expression, on
    those columns only).  The ``rules`` (name → expression of every
    :func:`schemas._compile.expr_check`) are evaluated together in one pass."""

    shape: pa.DataFrameSchema
    data: pa.DataFrameSchema
    data_columns: list[str] | None  # None: the data part reads the whole frame (a frame check)
    rules: tuple[tuple[str, pl.Expr], ...]
    shapes_seen: set[tuple[tuple[str, pl.DataType], ...]] = field(default_factory=set)

    def validate_structure(self, df: pl.DataFrame) -> None:
        """Raise :class:`pandera.errors.SchemaErrors` when ``df`` is not of the schema's structure."""
        shape = tuple(df.schema.items())
        if shape not in self.shapes_seen:
            self.shape.validate(df.clear(), lazy=True)
            self.shapes_seen.add(shape)
        self.data.validate(df if self.data_columns is None else df.select(self.data_columns), lazy=True)


_PLANS: dict[int, tuple[pa.DataFrameSchema, _Plan]] = {}


def _plan(schema: pa.DataFrameSchema) -> _Plan:
    got = _PLANS.get(id(schema))
    if got is not None and got[0] is schema:
        return got[1]
    rules = tuple((c.name, c.statistics["expr"]) for c in schema.checks if "expr" in (c.statistics or {}))
    names = [n for n, _e in rules]
    if len(set(names)) != len(names):
        raise SchemaBroken(f"schema {schema.name}: two checks share a name")
    frame_checks = [c for c in schema.checks if "expr" not in (c.statistics or {})]
    shape = copy.copy(schema)
    shape.checks = []
    data_columns = [n for n, c in schema.columns.items() if not c.nullable or c.unique or c.checks]
    # (pandera's select_columns deep-copies the whole schema, every rule check with it — 0.1 CPU s at
    # a run's first validation for the sum rules' tables: the few columns the data part checks are
    # copied alone)
    data = copy.copy(schema)
    data.columns = {n: copy.deepcopy(schema.columns[n]) for n in data_columns}
    data.checks = frame_checks
    data.strict = False
    plan = _Plan(shape, data, None if frame_checks else data_columns, rules)
    if len(_PLANS) >= 256:  # (schemas made again after a catalogue change: the old ones let go)
        _PLANS.clear()
    _PLANS[id(schema)] = (schema, plan)  # the schema kept alive with its plan: its id stays its own
    return plan


def _empty() -> pl.DataFrame:
    return pl.DataFrame({"check": pl.Series([], dtype=pl.String), "index": pl.Series([], dtype=pl.Int64)})


def failures(schema: pa.DataFrameSchema, df: pl.DataFrame) -> pl.DataFrame:
    """(check, index) of every failing row of every check, in the order of the schema's checks and
    then of the rows; empty when the frame is valid.

    pandera checks the frame's structure (a failure there raises :class:`SchemaBroken`); the rule
    checks — one named, null-safe boolean expression each — run as one ``select`` over the frame
    (pandera would collect each check on its own, twice, and turn every failing row into a dict),
    each still its own column: a row failing two rules is two failures, never an AND of them."""
    if df.height == 0:
        return _empty()
    plan = _plan(schema)
    t0 = time.perf_counter()
    try:
        try:
            plan.validate_structure(df)
        except errors.SchemaErrors as e:
            raise SchemaBroken(f"schema {schema.name}: {e.failure_cases.head(5)}") from e
        if not plan.rules:
            return _empty()
        names = [n for n, _e in plan.rules]
        bad = (
            df.lazy()
            .with_row_index("index")
            .select("index", *(e.fill_null(False).alias(n) for n, e in plan.rules))
            .filter(~pl.all_horizontal(names))
            .collect()
        )
        order = {n: i for i, n in enumerate(names)}
        return (
            bad.unpivot(index="index", on=names, variable_name="check", value_name="ok")
            .filter(~pl.col("ok"))
            .sort(pl.col("check").replace_strict(order, return_dtype=pl.UInt32), "index")
            .select("check", pl.col("index").cast(pl.Int64))
        )
    finally:
        with _SCHEMA_SECONDS_LOCK:
            SCHEMA_SECONDS[0] += time.perf_counter() - t0


def failing_rows(
    schema: pa.DataFrameSchema, frame: pl.DataFrame, columns: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Every row of ``frame`` that fails a check of ``schema``, as a dict of its columns (only
    ``columns`` when given) plus ``index`` (its row number) and ``check`` (the failing check's
    name: the rule code).  A row failing two checks comes twice; nothing when the frame is valid."""
    fails = failing_frame(schema, frame, columns)
    return fails.iter_rows(named=True) if fails.height else iter(())


def failing_frame(
    schema: pa.DataFrameSchema,
    frame: pl.DataFrame,
    columns: Sequence[str] | None = None,
    checked: Sequence[str] | None = None,
) -> pl.DataFrame:
    """The rows of :func:`failing_rows` as a frame (a family with many failing rows reads its
    columns as lists: no dict per row); ``checked``: the schema's columns of a frame that carries
    others for the findings (only those validated)."""
    fails = failures(schema, frame if checked is None else frame.select(checked))
    rows = frame if columns is None else frame.select(columns)
    return rows[fails["index"]].with_columns(fails["index"], fails["check"])


def with_reports(
    reports: Sequence[ParsedReport], rows: Iterable[dict[str, Any]]
) -> Iterator[tuple[int, ParsedReport, str, dict[str, Any]]]:
    """Each failing row (of :func:`failing_rows`) with its report: (report index, report, rule code
    — the failing check —, row), the start of every family's rows-to-findings loop."""
    for d in rows:
        ri = d["report"]
        yield ri, reports[ri], d["check"], d
