"""One broken report as a problem over the linear system: its printed cells, the rules in force,
the cells every minimal set must change (:func:`reduce`), and the system over the free cells."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from nianbao.catalogue import ROW_TOTAL, derived
from nianbao.domain.model import INDEX, STATES, ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt
from nianbao.localise.linear import system

EPS = 1e-6
Change = list[tuple[int, float]]  # (cell index in the system, new value)


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
    reported: list[float | None] = [None if v != v else v for v in vals.tolist()]  # NaN: not printed
    states: list[State | None] = [_STATE_OF[s] for s in sts.tolist()]
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


_STATE_OF: tuple[State | None, ...] = (*STATES, *([None] * (256 - len(STATES))))  # by state code


@derived
def _reduce_plan(fmt: Fmt) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """What :func:`reduce` reads of the format's system, in rule order: (rule, cell) of every rule
    over a single cell, and (rule, printed total's cell) of every A–D row total rule."""
    sysm = system(fmt)
    single = []
    for i in range(len(sysm.rules)):
        nz = np.flatnonzero(sysm.A[i])
        if len(nz) == 1:
            single.append((i, int(nz[0])))
    totals = tuple(
        (i, sysm.column(lr.lhs[0])) for i, lr in enumerate(sysm.rules[: sysm.n_static]) if lr.role == ROW_TOTAL
    )
    return tuple(single), totals


def reduce(p: Problem) -> None:
    """Fix the cells that every minimal set must change, before the search:

    - a rule over a single cell forces it (E01: this year's 上年结转 = last year's 结转下年度);
    - a broken row/group total rule (A01, D01) whose 总计 is blank: the blank is the missing total
      ("a blank that should hold the total"), filled with the sum of its parts (blanks are missing
      values to impute, as errorlocate/Banff treat them — not errors to explain by other cells).
    """
    A = system(p.fmt).A
    single, totals = _reduce_plan(p.fmt)
    x = p.x0.copy()
    for j, v in p.fixed.items():
        x[j] = v
    for i, j in single:
        if not p.active[i]:
            continue
        v = p.b[i] / A[i, j]
        if abs(x[j] - v) > EPS and v >= 0:
            p.fixed[j] = v
            x[j] = v
    for i, j in totals:
        if not p.active[i]:
            continue
        r_i = float(A[i] @ x - p.b[i])
        if abs(r_i) < EPS:
            continue
        if p.reported[j] is None and p.states[j] is State.BLANK and j not in p.fixed and x[j] - r_i >= 0:
            p.fixed[j] = x[j] - r_i
            x[j] -= r_i


@dataclass
class Reduced:
    """A problem with its fixed cells substituted: ``A x = b`` over the free cells only."""

    A: np.ndarray
    x0: np.ndarray
    b: np.ndarray
    free: np.ndarray  # the free cells' indices in the system
    key: tuple[object, ...] | None = None  # what A depends on (format, rules in force, fixed cells)


def reduced(p: Problem) -> Reduced:
    sysm = system(p.fmt)
    A = sysm.A[p.active]
    fixed = np.array(sorted(p.fixed), dtype=np.intp)
    free = np.array([j for j in range(len(sysm.cells)) if j not in p.fixed], dtype=np.intp)
    b = p.b[p.active].copy()
    if len(fixed):
        b -= A[:, fixed] @ np.array([p.fixed[j] for j in fixed])
    return Reduced(A[:, free], p.x0[free], b, free, (p.fmt, p.active.tobytes(), tuple(sorted(p.fixed))))
