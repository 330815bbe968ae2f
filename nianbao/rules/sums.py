"""Sum rules (A–D) on one wide frame per statutory table and format.

The rules are data: each catalogue entry with ``[rule.sum]`` terms compiles into one linear rule
per row or column (:func:`nianbao.catalogue.linear_rules`), a pandera check of
:func:`schemas.tables.table_schema` each; this family claims every such code of the catalogue in use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

import numpy as np

from nianbao.catalogue import LinearRule, catalogue, format_number, linear_rules
from nianbao.domain.model import INDEX, STATE_CODE, ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt, tables
from nianbao.outcome import Finding, finding_for, plain_number
from nianbao.rules.base import failing_rows
from nianbao.rules.family import Batch, Family
from nianbao.rules.frames import FmtArrays, table_frame
from schemas.tables import table_schema

BLANK = "空白（未填写）"


def sum_codes() -> frozenset[str]:
    """The active catalogue rules with sum terms."""
    return frozenset(code for code, r in catalogue().items() if r.sum is not None and not r.retired)


def sum_findings(batch: Batch) -> list[Finding]:
    out: list[Finding] = []
    for fmt in Fmt:
        for table in tables(fmt):
            if not any(lr.table == table for lr in linear_rules(fmt)):
                continue  # a table without a sum rule (table 一, 二): nothing to check here
            wide = table_frame(batch.arrays, fmt, table)
            rows = failing_rows(table_schema(fmt, table), wide, ["report"])
            out += findings_of(batch.reports, batch.arrays[fmt], table, rows)
    return out


def findings_of(
    reports: Sequence[ParsedReport], arrays: FmtArrays, table: str, rows: Iterator[dict[str, Any]]
) -> list[Finding]:
    """The findings of the failing rows of one table's wide frame (the cells' values, states and
    lines read from the format's arrays)."""
    fmt = arrays.fmt
    by_name: dict[str, LinearRule] = {r.name: r for r in linear_rules(fmt) if r.table == table}
    failing = list(rows)
    if not failing:
        return []
    # per rule, its failing rows' cells gathered at once (their rows of the arrays found for all
    # rows in one search) and reduced with numpy: the printed and summed totals (a blank or unread
    # cell counts as 0, the terms added left to right as Python's sum adds them), whether every
    # printed term is blank, and the first source line
    at = np.searchsorted(arrays.report, np.array([d["report"] for d in failing], dtype=np.int64))
    of_rule: dict[str, list[int]] = {}
    for j, d in enumerate(failing):
        of_rule.setdefault(d["check"], []).append(j)
    got: list[tuple[float, float, bool, int]] = [(0.0, 0.0, False, 0)] * len(failing)
    for name, js in of_rule.items():
        lr = by_name[name]
        cols = np.array([arrays.column(c) for c in lr.cells], dtype=np.intp)
        sel = np.ix_(at[js], cols)
        vals = arrays.values[sel]
        vals[np.isnan(vals)] = 0.0  # (a copy: the gather)
        lhs_at, rhs_at = _terms(lr)
        lhs, rhs = np.zeros(len(js)), np.zeros(len(js))
        for i in lhs_at:
            lhs += vals[:, i]
        for i in rhs_at:
            rhs += vals[:, i]
        blank = (arrays.states[sel][:, lhs_at] == _BLANK).all(axis=1)
        lines = arrays.lines[sel]
        none = np.iinfo(lines.dtype).max
        first = np.where(lines > 0, lines, none).min(axis=1)
        first[first == none] = 0
        reduced = zip(lhs.tolist(), rhs.tolist(), blank.tolist(), first.tolist(), strict=True)
        for j, row in zip(js, reduced, strict=True):
            got[j] = row
    out: list[Finding] = []
    for d, (lhs_v, rhs_v, blank_v, line) in zip(failing, got, strict=True):
        lr = by_name[d["check"]]
        ri = d["report"]
        rep = reports[ri]
        ids = lr.cells
        if involves_unreadable(rep, ids):
            continue  # a row/table that could not be read by columns (I07/I09) is not summed
        # a blank printed total is not "报告填写为 0": it was left empty
        actual = BLANK if blank_v else format_number(lhs_v)
        params = dict(lr.params) | {"expected": format_number(rhs_v), "actual": actual}
        out.append(
            finding_for(
                lr.code,
                rep,
                ri,
                cells=list(ids),
                expected=plain_number(rhs_v),
                actual=plain_number(lhs_v),
                params=params,
                line=line or None,
                where=_where(rep, ids),
            )
        )
    return out


_BLANK = STATE_CODE[State.BLANK]


@cache
def _terms(lr: LinearRule) -> tuple[list[int], list[int]]:
    """The places of the rule's printed terms and parts among its cells (a cell named twice: its
    last place, as a dict of the cells would keep it)."""
    at = {c: i for i, c in enumerate(lr.cells)}
    return [at[c] for c in lr.lhs], [at[c] for c in lr.rhs]


def _where(rep: ParsedReport, ids: Sequence[str]) -> str | None:
    """The source location of the first of ``ids`` that has one (a text report's cells have none)."""
    where = rep.cells.sparse()[1]
    return next((w for c in ids if (w := where.get(INDEX[c]))), None) if where else None


def involves_unreadable(rep: ParsedReport, cells: Sequence[str]) -> bool:
    """Whether a sum rule reads a cell of a row (I07) or table (I09) not readable by columns."""
    if not rep.row_issues:
        return False
    parts = tuple(
        ri.element[:-1] if ri.code in ("I07", "I11") else ri.element[:2]
        for ri in rep.row_issues
        if ri.code in ("I07", "I09", "I11")
    )
    return bool(parts) and any(c.startswith(parts) for c in cells)


FAMILY = Family("sums", sum_codes, sum_findings, reads=frozenset({"arrays"}))
