"""The bounded exact search for change sets of 3 or more cells (iterative deepening over the set
size, every tied set of the smallest size), bounded by a report's :class:`~nianbao.localise.budget.Work`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nianbao.localise.budget import (
    CHECK_UNITS,
    INTEGER_PROGRAM_UNITS,
    LINE_UNITS,
    MAX_SIZE,
    MAX_TIES,
    NODE_UNITS,
    QUICK_UNITS,
    Exhausted,
    Work,
)
from nianbao.localise.integral import integral_point, point_on_line
from nianbao.localise.problems import EPS, Change, Reduced


@dataclass(frozen=True)
class Structure:
    """What the search needs of a reduced matrix, whatever the figures: built once per matrix."""

    used: np.ndarray  # the free cells some rule holds
    live: np.ndarray  # the rules holding a free cell
    A: np.ndarray  # (live rules, used cells)
    rule_cells: tuple[tuple[int, ...], ...]
    cell_rules: tuple[tuple[int, ...], ...]
    G: np.ndarray  # AᵀA
    maxdeg: int


_STRUCTURES: dict[tuple[object, ...], Structure] = {}


def _structure(rd: Reduced) -> Structure:
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
    st = Structure(used, live, A, rule_cells, cell_rules, G, max((len(c) for c in cell_rules), default=1))
    if rd.key is not None:
        if len(_STRUCTURES) >= 256:
            _STRUCTURES.clear()
        _STRUCTURES[rd.key] = st
    return st


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


class Search:
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
    cells (:func:`integral_point`).  No big-M, no bound on the values beyond ``x ≥ 0``."""

    def __init__(self, rd: Reduced, work: Work) -> None:
        self.work = work
        st = _structure(rd)
        self.free = rd.free[st.used]
        self.x0 = rd.x0[st.used]
        r = rd.A[:, st.used] @ self.x0 - rd.b
        self.scale = 1.0 + float(np.abs(r).max(initial=0.0)) + float(np.abs(self.x0).max(initial=0.0))
        self.dead_broken = bool((np.abs(r[~st.live]) > EPS).any())  # a broken rule with no free cell
        self.A = st.A
        self.r = r[st.live]
        m, n = self.A.shape
        self.m, self.n = m, n
        self.viol = [bool(abs(v) > EPS) for v in self.r]
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
        self.forced = np.flatnonzero(self.x0 < -EPS).tolist()

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
                if abs(want[c] - new) > EPS:
                    return False
                continue
            if new < -EPS or abs(new - round(new)) > EPS or abs(new - self.x0[c]) < EPS:
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
        got = point_on_line(M, rhs, self.x0[S])
        if got is NotImplemented:  # more than one free direction: a small integer program
            self.work.spend(INTEGER_PROGRAM_UNITS)
            got = integral_point(M, rhs, self.x0[S])
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
            except Exhausted:
                if self.sols:  # some of the tied sets of the smallest size: what was found, said as partial
                    return sorted(self.sols)[:MAX_TIES], "ties_cut"
                return [], "search_limit"
            if self.sols:
                return sorted(self.sols)[:MAX_TIES], "ties_cut" if len(self.sols) > MAX_TIES else "ok"
        return [], "too_many_inconsistencies"


def search(rd: Reduced, work: Work, start: int = 1, max_size: int = MAX_SIZE) -> tuple[list[Change], str]:
    """Every minimal change set of a reduced problem (up to :data:`MAX_TIES` + 1 of them) and the
    status: ok | ties_cut | too_many_inconsistencies | search_limit | no_solution."""
    return Search(rd, work).run(start, max_size)
