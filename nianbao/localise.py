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
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nianbao.catalogue import (
    ROW_TOTAL,
    LinearRule,
    carry_over_rules,
    derived,
    format_number,
    linear_rules,
    sum_rule_codes,
    total_cells,
)
from nianbao.domain.model import INDEX, STATES, ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt, cell_words, tables
from nianbao.outcome import Finding, Suspect

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

# the status of a report's localisation, as findings.json ``localisation`` says it
STATUSES = (
    "located",  # one smallest set of cells
    "ambiguous",  # several equally small sets, all of them given
    "ambiguous_partial",  # more equally small sets than given (the first MAX_TIES)
    "too_many_inconsistencies",  # no set of at most MAX_SIZE cells can exist (screen or search)
    "search_limit",  # the report's work bound was reached before an answer
    "not_localised",  # the run's localisation budget was used up before this report
    "no_solution",  # no change of tables 三/四 makes every rule hold (e.g. against last year's report)
)
STATUS_ZH = {
    "too_many_inconsistencies": (
        f"不一致之处过多，无法定位错误单元格：要使各项勾稽关系都成立，至少需改动 {MAX_SIZE + 1} 个单元格，"
        "请逐项核对表格数字。"
    ),
    "search_limit": "此报告的错误定位已达计算上限，未能定位错误单元格，请逐项核对表格数字。",
    "not_localised": "本次运行的错误定位工作量已用完，此报告未定位错误单元格。",
}

CAUSES_ZH = {
    "digit_typo": "录入时一位数字写错、多写或漏写",
    "transposed": "相邻两位数字颠倒",
    "sign": "正负号错误",
    "misplaced": "数字填到了同一行或同一列的其他单元格",
    "blank_total": "总计栏空白，应填合计数",
    "blank": "单元格空白，应填数字",
    "non_numeric": "单元格填的不是数字",
    "wrong_value": "数字填写有误",
}


@dataclass(frozen=True)
class System:
    """The linear rules of one format over the cells of tables 三 and 四: ``A x = b``."""

    fmt: Fmt
    cells: tuple[str, ...]
    rules: tuple[LinearRule, ...]  # A–D, then the 7 E01 rules
    A: np.ndarray  # (m, n) float64 with entries 0/±1
    n_static: int  # rules[:n_static] are A–D (always on); the rest are E01 (need last year)
    prev_cells: tuple[str, ...]  # for each E rule: last year's cell that is its right-hand side

    def column(self, cid: str) -> int:
        return self.cells.index(cid)


@derived
def system(fmt: Fmt) -> System:
    ts = tables(fmt)
    cells = tuple(ts["3"].cells() + ts["4"].cells())
    col = {c: j for j, c in enumerate(cells)}
    static = linear_rules(fmt)
    cross = carry_over_rules()
    rules = static + cross
    A = np.zeros((len(rules), len(cells)))
    for i, lr in enumerate(rules):
        for c in lr.lhs:
            if c in col:
                A[i, col[c]] += 1.0
        for c in lr.rhs:
            if c in col:
                A[i, col[c]] -= 1.0
    return System(fmt, cells, rules, A, len(static), tuple(r.prev_cells[0] for r in cross))


@dataclass
class Localisation:
    """The minimal change sets of one report (all of them when tied)."""

    report: int
    size: int  # cells per set; 0 when unknown
    sets: list[list[Suspect]] = field(default_factory=list)
    # ok | ties_cut (more tied sets than kept) | too_many_inconsistencies | search_limit |
    # not_localised | no_solution (see :data:`STATUSES` for what each means)
    status: str = "ok"
    cross_year: bool = False  # whether last year's 结转下年度 (rule E) was part of the rules

    @property
    def ambiguous(self) -> bool:
        return len(self.sets) > 1

    @property
    def outcome(self) -> str:
        """The status as findings.json says it (one of :data:`STATUSES`)."""
        if self.sets:
            if self.status == "ties_cut":
                return "ambiguous_partial"
            return "ambiguous" if self.ambiguous else "located"
        return self.status if self.status in STATUSES else "no_solution"

    def suspects(self) -> list[Suspect]:
        """Flat list; ``alternative`` says which equally small set a suspect belongs to."""
        out: list[Suspect] = []
        for k, s in enumerate(self.sets):
            for x in s:
                out.append(Suspect(x.cell, x.reported, x.suggested, x.cause, alternative=k))
        return out


# ------------------------------------------------------------------ causes


def _digits(v: float) -> str:
    return str(int(abs(v)))


def _one_digit_apart(a: str, b: str) -> bool:
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    if abs(len(a) - len(b)) != 1:
        return False
    long, short = (a, b) if len(a) > len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _transposed(a: str, b: str) -> bool:
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _is_total(cell: str) -> bool:
    return cell in total_cells()


def _same_line(a: str, b: str) -> bool:
    ta, ra, ca = a.split(":")
    tb, rb, cb = b.split(":")
    if ta != tb:
        return False
    return ra == rb or ca == cb


def classify(
    cell: str, reported: float | None, suggested: float, state: State | None, others: Sequence[Suspect]
) -> str:
    """The likely cause of one suspect, given the other suspects of its set."""
    if reported is None:
        if state is State.NON_NUMERIC or state is State.TOO_LARGE:
            return "non_numeric"
        return "blank_total" if _is_total(cell) else "blank"
    for o in others:
        if o.cell != cell and reported != 0 and o.suggested == reported and _same_line(cell, o.cell):
            return "misplaced"
    if reported < 0 and suggested == -reported:
        return "sign"
    a, b = _digits(reported), _digits(suggested)
    if _transposed(a, b):
        return "transposed"
    if max(len(a), len(b)) >= 2 and _one_digit_apart(a, b):
        return "digit_typo"
    return "wrong_value"


# ------------------------------------------------------------------ problems


@dataclass
class Problem:
    """One broken report: its cells (blank = 0) and which rules apply."""

    report: int
    fmt: Fmt
    x0: np.ndarray  # (n,)
    reported: list[float | None]
    states: list[State | None]
    b: np.ndarray  # (m,) right-hand sides (0, or last year's value for E)
    active: np.ndarray  # (m,) bool: E rows only when last year is known; no rule over an unreadable row
    # cells every minimal set must change, with their new values (see ``reduce``)
    fixed: dict[int, float] = field(default_factory=dict)

    @property
    def cross_year(self) -> bool:
        return bool(self.active[system(self.fmt).n_static :].any())


def problem(ri: int, rep: ParsedReport, prev_values: Mapping[str, float | None] | None = None) -> Problem | None:
    if rep.fmt is None:
        return None
    sysm = system(rep.fmt)
    values, codes, _lines, _cols, _raw = rep.cells.arrays()
    pos = _positions(rep.fmt)
    vals = np.frombuffer(values, dtype=np.float64)[pos]
    sts = np.frombuffer(codes, dtype=np.uint8)[pos]
    reported: list[float | None] = [None if np.isnan(v) else float(v) for v in vals]
    states: list[State | None] = [STATES[s] if s < len(STATES) else None for s in sts]
    x0 = np.nan_to_num(vals, nan=0.0)
    m = len(sysm.rules)
    b = np.zeros(m)
    active = np.zeros(m, dtype=bool)
    active[: sysm.n_static] = True
    if prev_values is not None:
        for k, pc in enumerate(sysm.prev_cells):
            b[sysm.n_static + k] = prev_values.get(pc) or 0.0
        active[sysm.n_static :] = True
    # a row (I07) or table (I09) not readable by columns: its rules are not checked, nor used here
    unread = tuple(
        ri.element[:-1] if ri.code in ("I07", "I11") else ri.element[:2]
        for ri in rep.row_issues
        if ri.code in ("I07", "I09", "I11")
    )
    if unread:
        for i, lr in enumerate(sysm.rules):
            if any(c.startswith(unread) for c in lr.own_cells):
                active[i] = False
    return Problem(ri, rep.fmt, x0, reported, states, b, active)


@derived
def _positions(fmt: Fmt) -> np.ndarray:
    return np.array([INDEX[c] for c in system(fmt).cells], dtype=np.intp)


def reduce(p: Problem) -> None:
    """Fix the cells that every minimal set must change, before the search:

    - a rule over a single cell forces it (E01: this year's 上年结转 = last year's 结转下年度);
    - a broken row/group total rule (A01, D01) whose 总计 is blank: the blank is the missing total
      ("a blank that should hold the total"), filled with the sum of its parts (blanks are missing
      values to impute, as errorlocate/Banff treat them — not errors to explain by other cells).
    """
    sysm = system(p.fmt)
    A = sysm.A
    x = p.x0.copy()
    for j, v in p.fixed.items():
        x[j] = v
    for i in np.flatnonzero(p.active):
        nz = np.flatnonzero(A[i])
        if len(nz) == 1:
            j = int(nz[0])
            v = p.b[i] / A[i, j]
            if abs(x[j] - v) > _EPS and v >= 0:
                p.fixed[j] = v
                x[j] = v
    for i in np.flatnonzero(p.active[: sysm.n_static]):
        lr = sysm.rules[i]
        if lr.role != ROW_TOTAL:
            continue
        r_i = float(A[i] @ x - p.b[i])
        if abs(r_i) < _EPS:
            continue
        j = sysm.column(lr.lhs[0])
        if p.reported[j] is None and p.states[j] is State.BLANK and j not in p.fixed and x[j] - r_i >= 0:
            p.fixed[j] = x[j] - r_i
            x[j] -= r_i


@dataclass
class _Reduced:
    """A problem with its fixed cells substituted: ``A x = b`` over the free cells only."""

    A: np.ndarray
    x0: np.ndarray
    b: np.ndarray
    free: np.ndarray  # the free cells' indices in the system
    key: tuple[object, ...] | None = None  # what A depends on (format, rules in force, fixed cells)


def _reduced(p: Problem) -> _Reduced:
    sysm = system(p.fmt)
    A = sysm.A[p.active]
    fixed = np.array(sorted(p.fixed), dtype=np.intp)
    free = np.array([j for j in range(len(sysm.cells)) if j not in p.fixed], dtype=np.intp)
    b = p.b[p.active].copy()
    if len(fixed):
        b -= A[:, fixed] @ np.array([p.fixed[j] for j in fixed])
    return _Reduced(A[:, free], p.x0[free], b, free, (p.fmt, p.active.tobytes(), tuple(sorted(p.fixed))))


@dataclass(frozen=True)
class _Structure:
    """What the search needs of a reduced matrix, whatever the figures: built once per matrix."""

    used: np.ndarray  # the free cells some rule holds
    live: np.ndarray  # the rules holding a free cell
    A: np.ndarray  # (live rules, used cells)
    rule_cells: tuple[tuple[int, ...], ...]
    cell_rules: tuple[tuple[int, ...], ...]
    G: np.ndarray  # AᵀA
    maxdeg: int


_STRUCTURES: dict[tuple[object, ...], _Structure] = {}


def _structure(rd: _Reduced) -> _Structure:
    got = _STRUCTURES.get(rd.key) if rd.key is not None else None
    if got is not None:
        return got
    used = np.flatnonzero(np.abs(rd.A).sum(axis=0) > 0)
    A = rd.A[:, used]
    live = np.abs(A).sum(axis=1) > 0
    A = A[live]
    nz = A != 0
    rule_cells = tuple(tuple(np.flatnonzero(row).tolist()) for row in nz)
    cell_rules = tuple(tuple(np.flatnonzero(col).tolist()) for col in nz.T)
    G = np.einsum("ij,ik->jk", A, A)  # no BLAS threads for a 200 × 200 product
    st = _Structure(used, live, A, rule_cells, cell_rules, G, max((len(c) for c in cell_rules), default=1))
    if rd.key is not None:
        if len(_STRUCTURES) >= 256:
            _STRUCTURES.clear()
        _STRUCTURES[rd.key] = st
    return st


def _suspects(p: Problem, changes: Iterable[tuple[int, float]]) -> list[Suspect]:
    sysm = system(p.fmt)
    made = sorted({**{j: v for j, v in p.fixed.items()}, **dict(changes)}.items())
    made = [(j, float(round(v))) for j, v in made if p.reported[j] is None or abs(v - p.x0[j]) > _EPS]
    base = [Suspect(sysm.cells[j], p.reported[j], v, "") for j, v in made]
    out = []
    for (j, v), s in zip(made, base, strict=True):
        reported = p.reported[j]
        out.append(Suspect(s.cell, _num(reported), _num(v), classify(s.cell, reported, v, p.states[j], base)))  # type: ignore[arg-type]
    return out


def _num(v: float | None) -> float | None:
    if v is None:
        return None
    return int(v) if v == int(v) else v


_EPS = 1e-6
Change = list[tuple[int, float]]  # (cell index in the system, new value)


def _closed_form(group: list[tuple[Problem, _Reduced]]) -> dict[int, list[Change] | None]:
    """Sizes 0, 1 and 2 (free cells) of problems sharing one reduced matrix; None: needs the search.

    The rows of one group are solved together: residuals ``R = X Aᵀ − B``, ``C = R A``; a single
    cell ``j`` works iff ``‖r‖² − c_j²/g_j = 0`` (g = diag AᵀA), a pair by the 2×2 normal equations."""
    out: dict[int, list[Change] | None] = {}
    A = group[0][1].A
    G = A.T @ A
    g = np.diag(G)
    X = np.vstack([rd.x0 for _p, rd in group])
    B = np.vstack([rd.b for _p, rd in group])
    R = X @ A.T - B
    C = R @ A
    rr = (R * R).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(g > 0, -C / np.where(g > 0, g, 1.0), 0.0)
    resid1 = rr[:, None] + 2 * delta * C + delta * delta * g
    new1 = X + delta
    ok1 = (g > 0) & (np.abs(resid1) < _EPS) & (np.abs(delta) > _EPS)
    ok1 &= (new1 > -_EPS) & (np.abs(new1 - np.round(new1)) < _EPS)
    used = np.flatnonzero(g > 0)
    Gu = G[np.ix_(used, used)]
    gu = g[used]
    for k, (p, rd) in enumerate(group):
        if rr[k] < _EPS:
            out[p.report] = [[]]  # the fixed cells alone make every rule hold
            continue
        js = np.flatnonzero(ok1[k])
        if len(js):
            out[p.report] = [[(int(rd.free[j]), float(new1[k, j]))] for j in js]
            continue
        # pairs: one of the two cells must be in a broken rule (else the broken rules stay broken)
        broken = np.abs(R[k]) > _EPS
        inv = np.flatnonzero(np.abs(A[broken]).sum(axis=0)[used] > 0)
        c = C[k, used]
        x = X[k, used]
        gi, gj = gu[inv][:, None], gu[None, :]
        Gij = Gu[inv]
        ci, cj = c[inv][:, None], c[None, :]
        det = gi * gj - Gij * Gij
        with np.errstate(divide="ignore", invalid="ignore"):
            di = -(gj * ci - Gij * cj) / det
            dj = -(gi * cj - Gij * ci) / det
        res = rr[k] + 2 * di * ci + 2 * dj * cj + di * di * gi + 2 * di * dj * Gij + dj * dj * gj
        ni = x[inv][:, None] + di
        nj = x[None, :] + dj
        ok = (np.abs(det) > _EPS) & (np.abs(res) < _EPS) & (np.abs(di) > _EPS) & (np.abs(dj) > _EPS)
        ok &= (ni > -_EPS) & (nj > -_EPS)
        ok &= (np.abs(ni - np.round(ni)) < _EPS) & (np.abs(nj - np.round(nj)) < _EPS)
        ok &= inv[:, None] != np.arange(len(used))[None, :]
        seen: set[tuple[int, int]] = set()
        sets: list[Change] = []
        for a, bb in zip(*np.nonzero(ok), strict=True):
            ia, ib = int(used[inv[a]]), int(used[bb])
            key = (min(ia, ib), max(ia, ib))
            if key in seen:
                continue
            seen.add(key)
            sets.append([(int(rd.free[ia]), float(ni[a, bb])), (int(rd.free[ib]), float(nj[a, bb]))])
        out[p.report] = sets or None
    return out


class _Exhausted(Exception):
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
            raise _Exhausted


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


def _lower_bound(rule_cells: Sequence[Sequence[int]], viol: Sequence[bool]) -> int:
    """A lower bound on the size of any change set: broken rules with pairwise disjoint cells each
    need a changed cell of their own.  The larger of two greedy packings: smallest rules first, and
    the rule that shares cells with the fewest others first (the usual independent-set heuristic)."""
    broken = [i for i in range(len(viol)) if viol[i]]
    taken: set[int] = set()
    by_size = 0
    for i in sorted(broken, key=lambda i: (len(rule_cells[i]), i)):
        if taken.isdisjoint(rule_cells[i]):
            taken.update(rule_cells[i])
            by_size += 1
    cells = {i: set(rule_cells[i]) for i in broken}
    clash = {i: {j for j in broken if j != i and not cells[i].isdisjoint(cells[j])} for i in broken}
    left = set(broken)
    by_clash = 0
    while left:
        i = min(left, key=lambda i: (len(clash[i] & left), len(cells[i]), i))
        by_clash += 1
        left -= clash[i] | {i}
    return max(by_size, by_clash)


class _Search:
    """Exact search for the minimal change sets of one reduced problem, bounded by :class:`Work`.

    Iterative deepening on the set size k.  A set S of cells is searched only in the shape every
    minimal set has: each broken rule holds a cell of S, and no unbroken rule holds exactly one
    (its change would break it).  At a node, the unmet rule with the fewest free cells is branched
    on (branch i takes its i-th free cell and excludes the earlier ones: every set is met once).
    When every rule is met but the residual ``r`` is not in the span of S's columns, the
    least-squares residual ``e`` names the rules one of the remaining cells must lie in (for any
    extension S' ⊇ S, ``eᵀ A_{S'} = 0`` otherwise, and ``eᵀ r = ‖e‖² ≠ 0``).  A full set is checked
    by linear algebra: the unique change (full column rank) must be integral, keep every cell ≥ 0
    and change every cell; a rank-deficient set (rare) by a small integer program over its own
    cells (:func:`_integral_point`).  No big-M, no bound on the values beyond ``x ≥ 0``."""

    def __init__(self, rd: _Reduced, work: Work) -> None:
        self.work = work
        st = _structure(rd)
        self.free = rd.free[st.used]
        self.x0 = rd.x0[st.used]
        r = rd.A[:, st.used] @ self.x0 - rd.b
        self.scale = 1.0 + float(np.abs(r).max(initial=0.0)) + float(np.abs(self.x0).max(initial=0.0))
        self.dead_broken = bool((np.abs(r[~st.live]) > _EPS).any())  # a broken rule with no free cell
        self.A = st.A
        self.r = r[st.live]
        m, n = self.A.shape
        self.m, self.n = m, n
        self.viol = [bool(abs(v) > _EPS) for v in self.r]
        self.broken = [i for i, v in enumerate(self.viol) if v]
        self.unmet = set(self.broken)  # broken rules without a cell of the set, unbroken with one
        self.rule_cells = st.rule_cells
        self.cell_rules = st.cell_rules
        self.maxdeg = st.maxdeg
        self.G = st.G
        self.c = self.A.T @ self.r
        self.cnt = [0] * m
        self.excl = [False] * n
        self.ins = [False] * n
        self.chosen: list[int] = []
        self.sols: list[list[tuple[int, float]]] = []
        self.k = 0
        # every count stays ≥ 0 (x ≥ 0 is a rule too): a negative figure is in every change set
        self.forced = np.flatnonzero(self.x0 < -_EPS).tolist()

    def lower_bound(self) -> int:
        """The forced cells, and one more cell per broken rule of a disjoint packing of the rest."""
        hit = {i for c in self.forced for i in self.cell_rules[c]}
        return len(self.forced) + _lower_bound(self.rule_cells, [v and i not in hit for i, v in enumerate(self.viol)])

    # -- the set being built
    def _add(self, c: int) -> None:
        self.ins[c] = True
        self.chosen.append(c)
        self._recount(c, 1)

    def _drop(self, c: int) -> None:
        self.ins[c] = False
        self.chosen.pop()
        self._recount(c, -1)

    def _recount(self, c: int, step: int) -> None:
        cnt, viol, unmet = self.cnt, self.viol, self.unmet
        for i in self.cell_rules[c]:
            cnt[i] += step
            if (cnt[i] == 0 and viol[i]) or (cnt[i] == 1 and not viol[i]):
                unmet.add(i)
            else:
                unmet.discard(i)

    def _values_agree(self) -> bool:
        """A quick test of a full set before the linear algebra: a broken rule holding a single
        cell of the set fixes that cell's new value; two such rules must agree, and the value
        must be a count (integral, ≥ 0) that differs from the printed one."""
        self.work.spend(QUICK_UNITS)
        want: dict[int, float] = {}
        for i in self.broken:
            if self.cnt[i] != 1:
                continue
            for c in self.rule_cells[i]:
                if self.ins[c]:
                    break
            new = self.x0[c] - self.r[i] / self.A[i, c]
            if c in want:
                if abs(want[c] - new) > _EPS:
                    return False
                continue
            if new < -_EPS or abs(new - round(new)) > _EPS or abs(new - self.x0[c]) < _EPS:
                return False
            want[c] = new
        return True

    def _check(self) -> tuple[str, object]:
        """("ok", new values) | ("span", rules the rest must touch) | ("other", None).

        By the normal equations over the whole system (``G = AᵀA``, ``c = Aᵀr``: k×k work)."""
        self.work.spend(CHECK_UNITS)
        S = self.chosen
        G = self.G[S][:, S]
        c = self.c[S]
        if abs(np.linalg.det(G)) < 0.5:  # G is integral: singular, the set's columns are dependent
            return self._check_deficient()
        d = np.linalg.solve(G, -c)
        AS = self.A[:, S]
        e = self.r + AS @ d
        if float(np.abs(e).max(initial=0.0)) > 1e-7 * self.scale:
            return "span", np.flatnonzero(np.abs(e) > 1e-9 * self.scale).tolist()
        x0 = self.x0[S]
        new = np.round(x0 + d)  # the new values are counts: integral, ≥ 0, each one a change
        tol = 1e-6 * self.scale
        if np.abs(AS @ (new - x0) + self.r).max(initial=0.0) > tol or (new < 0).any() or (np.abs(new - x0) < tol).any():
            return "other", None
        return "ok", new

    def _check_deficient(self) -> tuple[str, object]:
        S = self.chosen
        rows = sorted({i for c in S for i in self.cell_rules[c]})
        M = self.A[rows][:, S]
        rhs = -self.r[rows]
        d, _res, _rank, _sv = np.linalg.lstsq(M, rhs, rcond=None)
        e = rhs - M @ d
        if float(np.abs(e).max(initial=0.0)) > 1e-7 * self.scale:
            return "span", [rows[t] for t in np.flatnonzero(np.abs(e) > 1e-9 * self.scale)]
        if len(S) < self.k:
            return "other", None
        self.work.spend(LINE_UNITS)
        got = _point_on_line(M, rhs, self.x0[S])
        if got is NotImplemented:  # more than one free direction: a small integer program
            self.work.spend(INTEGER_PROGRAM_UNITS)
            got = _integral_point(M, rhs, self.x0[S])
        return ("other", None) if got is None else ("ok", got)

    def _branch(self, cands: Sequence[int]) -> None:
        shut: list[int] = []
        for c in cands:
            self._add(c)
            try:
                self._node()
            finally:
                self._drop(c)
            if len(self.sols) > MAX_TIES:
                break
            self.excl[c] = True
            shut.append(c)
        for c in shut:
            self.excl[c] = False

    def _node(self) -> None:
        self.work.spend(NODE_UNITS)
        unmet = self.unmet
        slots = self.k - len(self.chosen)
        if unmet:
            if slots == 0 or -(-len(unmet) // self.maxdeg) > slots:
                return
            # each unmet rule needs one more cell among its free ones: rules with disjoint free
            # cells need one each (a lower bound on the cells still to add); branch on the rule
            # with the fewest free cells
            free: list[list[int]] = []
            for i in sorted(unmet):
                av = [c for c in self.rule_cells[i] if not self.excl[c] and not self.ins[c]]
                if not av:
                    return
                free.append(av)
            free.sort(key=len)
            taken: set[int] = set()
            need = 0
            for av in free:
                if taken.isdisjoint(av):
                    taken.update(av)
                    need += 1
                    if need > slots:
                        return
            if need == slots and len(free) > need:
                self.work.spend(len(free) * len(free) // 4 + 1)  # the second packing: ~b²/4 steps
                if _lower_bound(free, [True] * len(free)) > slots:
                    return
            self._branch(free[0])
            return
        if slots == 0 and not self._values_agree():
            return
        kind, got = self._check()
        if slots == 0:
            if kind == "ok":
                S = self.chosen
                self.sols.append([(int(self.free[c]), float(v)) for c, v in zip(S, got, strict=True)])  # type: ignore[call-overload]
            return
        # every rule is met but S is no answer (smaller sizes have none): S must grow, by a cell of
        # a rule with e ≠ 0 (see the class) or, when r is in the span but the change is no count,
        # by a cell of a rule S touches (a cell outside them leaves S's own change as it is)
        touched = {i for c in self.chosen for i in self.cell_rules[c]}
        rules = got if kind == "span" else sorted(touched)
        pool = sorted({c for i in rules for c in self.rule_cells[i]})  # type: ignore[attr-defined]
        self._branch([c for c in pool if not self.excl[c] and not self.ins[c]])

    def screen(self, max_size: int) -> tuple[list[Change], str] | None:
        """The answer without a search, when there is one: nothing broken, a broken rule with no
        cell left to change, or more disjoint broken rules than ``max_size`` cells can mend."""
        if self.dead_broken:
            return [], "no_solution"
        if not any(self.viol):
            return [[]], "ok"
        if self.lower_bound() > max_size:
            return [], "too_many_inconsistencies"
        return None

    def run(self, start: int, max_size: int) -> tuple[list[Change], str]:
        early = self.screen(max_size)
        if early is not None:
            return early
        lb = self.lower_bound()
        for c in self.forced:
            self._add(c)
        for k in range(max(start, lb, 1), max_size + 1):
            self.k = k
            try:
                self._node()
            except _Exhausted:
                if self.sols:  # some of the tied sets of the smallest size: what was found, said as partial
                    return sorted(self.sols)[:MAX_TIES], "ties_cut"
                return [], "search_limit"
            if self.sols:
                return sorted(self.sols)[:MAX_TIES], "ties_cut" if len(self.sols) > MAX_TIES else "ok"
        return [], "too_many_inconsistencies"


def _point_on_line(M: np.ndarray, rhs: np.ndarray, x0: np.ndarray) -> Any:
    """A rank-deficient set with one free direction (the usual case: a rectangle of cells in rows
    and columns that sum): the changes form a line ``x(t) = base + t·v``; the new values must be
    integral, ≥ 0 and differ from the printed ones.  The integral ``t`` moving the printed values
    least (Σ |x − x0|, then the smallest ``|t|``) is exact and cheap: the objective is convex and
    piecewise linear, its kinks are where a cell keeps its printed value.  ``None``: no such point;
    ``NotImplemented``: not a single integral direction (left to :func:`_integral_point`)."""
    k = M.shape[1]
    _u, sv, vt = np.linalg.svd(M)
    rank = int((sv > 1e-9 * max(1.0, float(sv.max(initial=0.0)))).sum())
    if k - rank != 1:
        return NotImplemented
    v = vt[-1]
    nz = np.abs(v) > 1e-9
    v = v / np.abs(v[nz]).min()
    vi = np.round(v)
    unit = np.flatnonzero(np.abs(vi) == 1)
    if np.abs(v - vi).max() > 1e-6 or not len(unit):
        return NotImplemented
    d = np.linalg.lstsq(M, rhs, rcond=None)[0]
    y = x0 + d
    j = int(unit[0])
    base = y + (round(y[j]) - y[j]) / vi[j] * vi
    if np.abs(base - np.round(base)).max() > 1e-6:
        return None  # every point of the line has the same fractional parts
    base = np.round(base)
    lo, hi = -np.inf, np.inf
    kinks: list[float] = []
    for b, w, x in zip(base, vi, x0, strict=True):
        if w > 0:
            lo = max(lo, float(np.ceil(-b / w)))
        elif w < 0:
            hi = min(hi, float(np.floor(b / -w)))
        elif b < 0 or b == x:
            return None  # a cell the line does not move: it must already be a changed count
        if w:
            kinks.append((x - b) / w)
    if lo > hi:
        return None
    cands = {t for kk in kinks for t in range(int(np.floor(kk)) - 3, int(np.ceil(kk)) + 4)}
    cands |= {0} | {int(t) for t in (lo, hi) if np.isfinite(t)}
    best: tuple[float, int, int] | None = None
    for t in sorted(cands):
        if not lo <= t <= hi:
            continue
        xt = base + t * vi
        if (xt == x0).any():
            continue
        key = (float(np.abs(xt - x0).sum()), abs(t), t)
        if best is None or key < best:
            best = key
    if best is None:
        return None
    return base + best[2] * vi


def _integral_point(M: np.ndarray, rhs: np.ndarray, x0: np.ndarray) -> np.ndarray | None:
    """A rank-deficient set: new integral values ``x ≥ 0`` of its cells with ``M (x − x0) = rhs``
    that move the printed values least (Σ |x − x0|), by a small integer program over the set's own
    cells (HiGHS, bounded by nodes).  The bounds come from the values: no cell needs to exceed the
    largest printed figure of the set plus the whole imbalance."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    k = M.shape[1]
    top = float(np.abs(x0).max(initial=0.0) + np.abs(rhs).sum()) + 1.0
    # variables: x (integral), p, q ≥ 0 with x − x0 = p − q; minimise Σ (p + q)
    cost = np.concatenate([np.zeros(k), np.ones(2 * k)])
    eye, zero = np.eye(k), np.zeros((M.shape[0], k))
    cons = [
        LinearConstraint(np.hstack([M, zero, zero]), rhs + M @ x0, rhs + M @ x0),
        LinearConstraint(np.hstack([eye, -eye, eye]), x0, x0),
    ]
    bounds = Bounds(
        np.zeros(3 * k), np.concatenate([np.full(k, top), np.full(2 * k, top + float(np.abs(x0).max(initial=0.0)))])
    )
    res = _quiet_milp(milp, cost, np.concatenate([np.ones(k), np.zeros(2 * k)]), bounds, cons)
    if res.status != 0 or res.x is None:
        return None
    x = np.round(res.x[:k])
    if np.abs(M @ (x - x0) - rhs).max(initial=0.0) > 1e-6 * top or (np.abs(x - x0) < 1e-9).any():
        return None
    return x


def _quiet_milp(milp, cost, integrality, bounds, cons):
    """HiGHS writes some diagnostics straight to fd 1; keep a run's output clean."""
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            return milp(
                cost,
                integrality=integrality,
                bounds=bounds,
                constraints=cons,
                options={"node_limit": INTEGER_PROGRAM_NODES, "disp": False},
            )
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def search(rd: _Reduced, work: Work, start: int = 1, max_size: int = MAX_SIZE) -> tuple[list[Change], str]:
    """Every minimal change set of a reduced problem (up to :data:`MAX_TIES` + 1 of them) and the
    status: ok | ties_cut | too_many_inconsistencies | search_limit | no_solution."""
    return _Search(rd, work).run(start, max_size)


def _localisation(p: Problem, sets: list[Change] | None, status: str) -> Localisation:
    if not sets:
        return Localisation(p.report, 0, [], status if status != "ok" else "no_solution", cross_year=p.cross_year)
    made = [_suspects(p, s) for s in sets[:MAX_TIES]]
    made = [s for s in made if s]
    if not made:
        return Localisation(p.report, 0, [], "no_solution", cross_year=p.cross_year)
    status = "ties_cut" if len(sets) > MAX_TIES else status
    return Localisation(p.report, len(made[0]), made, status, cross_year=p.cross_year)


def _without_last_year(p: Problem) -> Problem:
    q = Problem(p.report, p.fmt, p.x0, p.reported, p.states, p.b, p.active.copy())
    q.active[system(p.fmt).n_static :] = False
    reduce(q)
    return q


def localise(
    problems: Sequence[Problem],
    *,
    report_work: int = WORK_PER_REPORT,
    batch_work: int | None = None,
) -> dict[int, Localisation]:
    """Localise every problem: fixed cells first, closed form for 1–2 more cells (vectorised over
    the problems sharing a matrix), then — report by report, in report order — the bounded search.

    ``report_work``: the work bound of one report (its search and, when last year's report cannot
    be matched, the retry within itself); ``batch_work``: the batch's budget (None: unbounded).  A
    report the budget cannot admit with a whole bound is ``not_localised``.  A report that cannot
    be made consistent with last year's report (e.g. last year's own figures disagree) is localised
    within itself."""
    out: dict[int, Localisation] = {}
    for p in problems:
        reduce(p)
    closed: dict[int, list[Change] | None] = {}
    groups: dict[tuple[object, ...], list[tuple[Problem, _Reduced]]] = {}
    for p in problems:
        key = (p.fmt, p.active.tobytes(), tuple(sorted(p.fixed)))
        groups.setdefault(key, []).append((p, _reduced(p)))
    for group in groups.values():
        closed |= _closed_form(group)
    budget = Budget(batch_work) if batch_work is not None else None
    for p in sorted(problems, key=lambda q: q.report):
        gate = _Gate(Work(report_work), budget)
        loc = _attempt(p, closed.get(p.report), gate)
        if not loc.sets and p.cross_year and loc.status not in ("search_limit", "not_localised"):
            q = _without_last_year(p)
            loc = _attempt(q, _closed_form([(q, _reduced(q))]).get(q.report), gate)
        if budget is not None:
            budget.used += gate.work.used
        out[p.report] = loc
    return out


@dataclass
class _Gate:
    """One report's work counter, and whether the batch's budget has admitted it (asked only when
    the report needs a search — the closed form and the screen cost nothing worth counting)."""

    work: Work
    budget: Budget | None
    admitted: bool = False

    def admit(self) -> bool:
        if not self.admitted:
            self.admitted = self.budget is None or self.budget.admits(self.work.limit)
        return self.admitted


def _attempt(p: Problem, sets: list[Change] | None, gate: _Gate) -> Localisation:
    if sets is not None:
        return _localisation(p, sets, "ok")
    s = _Search(_reduced(p), gate.work)
    early = s.screen(MAX_SIZE)
    if early is not None:
        return _localisation(p, *early)
    if not gate.admit():
        return Localisation(p.report, 0, [], "not_localised", cross_year=p.cross_year)
    try:
        found, status = s.run(3, MAX_SIZE)
    except np.linalg.LinAlgError:  # numerically hopeless figures: no suspects rather than a crash
        found, status = [], "no_solution"
    return _localisation(p, found, status)


# ------------------------------------------------------------------ findings


def describe(loc: Localisation, fmt: Fmt) -> str:
    """中文: the likely fix, the tied alternatives ("无法唯一确定……"), or why there are no suspects
    (too many inconsistencies, the report's or the run's work bound).  Empty when no set exists."""
    if not loc.sets:
        return STATUS_ZH.get(loc.outcome, "")

    def one(s: Suspect) -> str:
        label = cell_words(s.cell, fmt)  # 表三“（一）予以公开”行“总计”列: as the report page names cells
        was = "空白" if s.reported is None else format_number(float(s.reported))
        return f"把{label}由 {was} 改为 {format_number(float(s.suggested))}（{CAUSES_ZH[s.cause]}）"

    if len(loc.sets) == 1 and loc.status != "ties_cut":
        return "最可能的改法：" + "，并".join(one(s) for s in loc.sets[0]) + "。"
    marks = "①②③④⑤⑥⑦⑧⑨⑩"
    shown = []
    for k, st in enumerate(loc.sets[:5]):
        shown.append(f"{marks[k]}" + "，并".join(one(s) for s in st))
    if loc.status == "ties_cut":  # the enumeration of the ties was cut short
        head = (
            f"无法唯一确定错误的单元格（改动同样少的方案可能不止所列 {len(loc.sets)} 种，每种改 {loc.size} 个单元格）："
        )
    else:
        more = f"等 {len(loc.sets)} 种" if len(loc.sets) > 5 else f" {len(loc.sets)} 种"
        head = f"无法唯一确定错误的单元格（改动同样少的方案有{more}，每种改 {loc.size} 个单元格）："
    return head + "；或".join(shown) + "。"


def attach(findings: Sequence[Finding], reports: Sequence[ParsedReport], locs: Mapping[int, Localisation]) -> None:
    """Give every sum-rule finding its report's suspects ([] when there are none), the status of
    its localisation and the likely fix (or why there is none)."""
    sums = sum_rule_codes()
    for f in findings:
        if f.rule not in sums:
            continue
        loc = locs.get(f.report)
        if loc is None:
            f.suspects, f.localisation = [], "no_solution"
            continue
        if f.rule == "E01" and not loc.cross_year:
            # this year's figures alone cannot be reconciled with last year's
            f.suspects, f.localisation = [], "no_solution"
            continue
        f.suspects = loc.suspects()
        f.localisation = loc.outcome
        fmt = reports[f.report].fmt or Fmt.F2021
        text = describe(loc, fmt)
        if text and not f.fix.startswith(text):
            f.fix = text + f.fix


def localise_findings(
    findings: Sequence[Finding],
    reports: Sequence[ParsedReport],
    prev_values: Mapping[int, Mapping[str, float | None]] | None = None,
    *,
    report_work: int = WORK_PER_REPORT,
    batch_work: int | None = None,
) -> dict[int, Localisation]:
    """One pass after validation: localise every report with a sum-rule finding, attach the
    suspects.  ``batch_work``: the batch's budget (default :func:`batch_budget` of the batch's size)."""
    sums = sum_rule_codes()
    broken = sorted({f.report for f in findings if f.rule in sums and f.report >= 0})
    prev_values = prev_values or {}
    probs = [p for ri in broken if (p := problem(ri, reports[ri], prev_values.get(ri))) is not None]
    if batch_work is None:
        batch_work = batch_budget(len(reports))
    locs = localise(probs, report_work=report_work, batch_work=batch_work)
    attach(findings, reports, locs)
    return locs


def localisation_counts(findings: Sequence[Finding]) -> dict[str, object]:
    """run.json ``localisation``: how many reports got each status, and the budget in force."""
    by_report: dict[int, str] = {}
    sums = sum_rule_codes()
    for f in findings:
        if f.rule in sums and f.localisation is not None and f.rule != "E01":
            by_report.setdefault(f.report, f.localisation)
    for f in findings:  # a report broken by rule E alone
        if f.rule == "E01" and f.localisation is not None:
            by_report.setdefault(f.report, f.localisation)
    counts = dict.fromkeys(STATUSES, 0)
    for st in by_report.values():
        counts[st] = counts.get(st, 0) + 1
    return {
        "reports": len(by_report),
        **counts,
        "work_per_report": WORK_PER_REPORT,
        "budget_per_report": budget_per_report(),
    }
