"""Failing rows → findings: the one reader of pandera's failure cases, shared by every rule family.

A family builds a frame (one row per thing checked), validates it once against its pandera schema
(``lazy=True``: every check, every row) and turns each failing row into a finding.  The reading of
the failure cases lives here, once: :func:`failing_rows` gives the failing rows themselves, each
with the name of the check it fails (the rule code) under ``check``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from nianbao.domain.model import ParsedReport

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


# seconds spent inside pandera's validate() since the last reset (the schema validation proper,
# apart from building the frames and the findings): validate_batch reports it as "validate_schemas"
SCHEMA_SECONDS = [0.0]


def failures(schema: pa.DataFrameSchema, df: pl.DataFrame) -> pl.DataFrame:
    """(check, index) of every failing row of every check; empty when the frame is valid."""
    empty = pl.DataFrame({"check": pl.Series([], dtype=pl.String), "index": pl.Series([], dtype=pl.Int64)})
    if df.height == 0:
        return empty
    t0 = time.perf_counter()
    try:
        try:
            schema.validate(df, lazy=True)
        finally:
            SCHEMA_SECONDS[0] += time.perf_counter() - t0
    except SchemaErrors as e:
        fc = e.failure_cases
        checks = {c.name for c in schema.checks}
        ours = fc.filter(pl.col("check").is_in(list(checks)) & pl.col("index").is_not_null())
        other = fc.filter(~pl.col("check").is_in(list(checks)))
        if other.height:
            raise SchemaBroken(f"schema {schema.name}: {other.head(5)}") from e
        return ours.select("check", pl.col("index").cast(pl.Int64)).unique(maintain_order=True)
    return empty


def failing_rows(
    schema: pa.DataFrameSchema, frame: pl.DataFrame, columns: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Every row of ``frame`` that fails a check of ``schema``, as a dict of its columns (only
    ``columns`` when given) plus ``index`` (its row number) and ``check`` (the failing check's
    name: the rule code).  A row failing two checks comes twice; nothing when the frame is valid."""
    fails = failures(schema, frame)
    if fails.height == 0:
        return iter(())
    rows = frame if columns is None else frame.select(columns)
    joined = rows.with_row_index("index").join(
        fails.with_columns(pl.col("index").cast(pl.UInt32)), on="index", how="inner"
    )
    return joined.iter_rows(named=True)


def with_reports(
    reports: Sequence[ParsedReport], rows: Iterable[dict[str, Any]]
) -> Iterator[tuple[int, ParsedReport, str, dict[str, Any]]]:
    """Each failing row (of :func:`failing_rows`) with its report: (report index, report, rule code
    — the failing check —, row), the start of every family's rows-to-findings loop."""
    for d in rows:
        ri = d["report"]
        yield ri, reports[ri], d["check"], d
