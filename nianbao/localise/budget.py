"""How much localisation may do: the size of a set and of its ties, and the work of a report and
of a batch, counted in units of the search's own steps (never timed)."""

from __future__ import annotations

import os
from dataclasses import dataclass

MAX_TIES = 30  # every tied set up to this many
# Beyond this many changed cells a "localisation" explains nothing (Banff's ``cardinality``): a
# report whose broken rules need more is "too many inconsistencies to localise"
MAX_SIZE = 6
# Work bounds, in units of the search's own steps weighted by their cost (a search node 1, the
# quick test of a full set 2, its linear algebra 10, a dependent set's point on its line 30, its
# integer program 1,000; ~1–3 µs of CPU per unit here): a report's search, and the batch's budget
# per report of the batch (env NIANBAO_LOCALISE_BUDGET, counted for at least BUDGET_MIN_REPORTS
# reports).  Measured on 1,000 damaged reports: a searched report needs 200 units at the median,
# 35,000 at the 99th percentile (benchmarks/fuzz_bench.py)
WORK_PER_REPORT = 50_000
BUDGET_ENV = "NIANBAO_LOCALISE_BUDGET"
BUDGET_PER_REPORT = 1_000
BUDGET_MIN_REPORTS = 1_000
NODE_UNITS, QUICK_UNITS, CHECK_UNITS = 1, 2, 10
INTEGER_PROGRAM_UNITS = 1_000
LINE_UNITS = 30  # a dependent set with one free direction: the exact point on its line
INTEGER_PROGRAM_NODES = 200  # and it is bounded by this many branch-and-bound nodes


class Exhausted(Exception):
    """The report's work bound is reached: the search stops without a proof."""


@dataclass
class Work:
    """A deterministic work counter (units: see :data:`WORK_PER_REPORT`).

    Counted, never timed: the same report gets the same answer on a fast machine, a loaded one and
    a Dask worker."""

    limit: int
    used: int = 0

    def spend(self, units: int = 1) -> None:
        self.used += units
        if self.used > self.limit:
            raise Exhausted


@dataclass
class Budget:
    """The batch's localisation budget in work units; reports are admitted in report order while a
    whole per-report bound is left (a report is searched with its full bound or not at all)."""

    limit: int
    used: int = 0

    def admits(self, units: int) -> bool:
        return self.used + units <= self.limit


def budget_per_report() -> int:
    """Work units the batch budget grants per report of the batch (``NIANBAO_LOCALISE_BUDGET``)."""
    raw = os.environ.get(BUDGET_ENV, "").strip()
    if raw.isdigit():
        return int(raw)
    return BUDGET_PER_REPORT


def batch_budget(n_reports: int, per_report: int | None = None) -> int:
    """The work budget of a batch of ``n_reports`` reports: ``per_report`` units per report, counted
    for at least :data:`BUDGET_MIN_REPORTS` reports (a small batch always has room for its few
    broken reports)."""
    per = budget_per_report() if per_report is None else per_report
    return per * max(n_reports, BUDGET_MIN_REPORTS)
