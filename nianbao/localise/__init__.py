"""Error localisation (Fellegi–Holt): which cells are most likely wrong, and what they should be.

For a report that breaks the linear rules (A–D, and E when last year's report is known), find the
smallest set of cells of tables 三 and 四 whose change makes *every* rule hold, and *all* sets of
that size when there is a tie ("ambiguous: X or Y" — never a random pick).  The rules are the
catalogue's own definitions (:func:`nianbao.catalogue.linear_rules`, :func:`carry_over_rules`),
written once as a matrix ``A x = b`` over the cells (``b`` holds last year's 结转下年度 for E).

Solving, exactly, with a deterministic bound on the work of every report and of the batch:

- size 1 and 2 in closed form, vectorised over all broken reports (numpy): a set ``S`` fixes every
  rule iff the residual ``r = A x − b`` lies in the span of the columns of ``S``; every such set
  with integral, non-negative new values is returned;
- a screen: broken rules with pairwise disjoint cells each need a cell of their own, so more than
  :data:`MAX_SIZE` of them prove that no small set exists — "too many inconsistencies to localise"
  (``too_many_inconsistencies``) at once, without a search;
- size ≥ 3 by an exact search of our own (:class:`_Search`, iterative deepening over the set
  size, branching on the rules a minimal set must touch, each candidate set checked by linear
  algebra), every tied set of the smallest size enumerated (up to :data:`MAX_TIES`).  The search
  of a report is bounded by :data:`WORK_PER_REPORT` work units (search nodes and checked sets —
  counted, never timed: the same answer on any machine and under any load); a report that reaches
  it gets ``search_limit`` and no suspects, never a guess;
- the batch: reports are searched in report order from one budget (``NIANBAO_LOCALISE_BUDGET``
  units per report of the batch, :func:`batch_budget`); a report it can no longer admit with a
  whole bound is ``not_localised``.

R errorlocate (a MILP per record, lpSolve's ``timeout``) and Banff's errorloc (``time_per_obs``)
stop each record by the clock, so what a record gets depends on the machine and its load; Banff
also caps the number of fields to change (``cardinality``) — the role of :data:`MAX_SIZE` and the
screen here.

Each suspect is classified: digit typo (one digit changed, inserted or dropped), transposed digits,
sign error, value in the wrong row/column (it is the right value of another suspect in the same
row/column), a blank that should hold the total, a blank or non-numeric cell, or a wrong value.

The package: :mod:`~nianbao.localise.linear` (the system from the catalogue's rules),
:mod:`~nianbao.localise.problems` (a broken report as a problem, its fixed cells),
:mod:`~nianbao.localise.closed_form` (1–2 cells), :mod:`~nianbao.localise.exact` (the bounded search)
and :mod:`~nianbao.localise.integral` (a rank-deficient set's new values),
:mod:`~nianbao.localise.budget` (sizes and work bounds), :mod:`~nianbao.localise.locate` (a batch of
problems), :mod:`~nianbao.localise.causes`, :mod:`~nianbao.localise.descriptions` (the Chinese words),
:mod:`~nianbao.localise.localisation` (a report's result) and :mod:`~nianbao.localise.findings` (the
pass after validation).
"""

from __future__ import annotations

from nianbao.localise.budget import (
    BUDGET_ENV,
    BUDGET_MIN_REPORTS,
    BUDGET_PER_REPORT,
    MAX_SIZE,
    MAX_TIES,
    WORK_PER_REPORT,
    Budget,
    Work,
    batch_budget,
    budget_per_report,
)
from nianbao.localise.causes import classify
from nianbao.localise.descriptions import CAUSES_ZH, STATUS_ZH, describe
from nianbao.localise.exact import search
from nianbao.localise.findings import attach, localisation_counts, localise_findings
from nianbao.localise.linear import System, system
from nianbao.localise.localisation import STATUSES, Localisation
from nianbao.localise.locate import localise
from nianbao.localise.problems import Problem, problem, reduce

__all__ = [
    "BUDGET_ENV",
    "BUDGET_MIN_REPORTS",
    "BUDGET_PER_REPORT",
    "CAUSES_ZH",
    "MAX_SIZE",
    "MAX_TIES",
    "STATUSES",
    "STATUS_ZH",
    "WORK_PER_REPORT",
    "Budget",
    "Localisation",
    "Problem",
    "System",
    "Work",
    "attach",
    "batch_budget",
    "budget_per_report",
    "classify",
    "describe",
    "localisation_counts",
    "localise",
    "localise_findings",
    "problem",
    "reduce",
    "search",
    "system",
]
