"""One broken report as a problem over the linear system: its printed cells, the rules in force,
the cells every minimal set must change (:func:`reduce`), and the system over the free cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

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
    states: Sequence[State | None]
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
    vals = np.frombuffer(values, dtype=np.float64)[pos]  # (a copy: the problem's own x0)
    sts = np.frombuffer(codes, dtype=np.uint8)[pos]
    reported: list[float | None] = vals.tolist()
    blank = np.flatnonzero(np.isnan(vals))
    for j in blank.tolist():
        reported[j] = None  # NaN: not printed
    states = _States(sts.tobytes())
    x0 = vals
    x0[blank] = 0.0
    if not np.isfinite(x0).all():
        x0 = np.nan_to_num(x0)  # (±inf: the largest finite figure, as nan_to_num makes it)
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


class _States(Sequence[State | None]):
    """A problem's cells' states read from their codes when asked (a few of them: the cells a
    total is filled in or a suspect is classified by), not made into a list of 190 each."""

    __slots__ = ("_codes",)

    def __init__(self, codes: bytes) -> None:
        self._codes = codes

    def __len__(self) -> int:
        return len(self._codes)

    @overload
    def __getitem__(self, j: int) -> State | None: ...
    @overload
    def __getitem__(self, j: slice) -> Sequence[State | None]: ...
    def __getitem__(self, j: int | slice) -> State | Sequence[State | None] | None:
        if isinstance(j, slice):
            return [_STATE_OF[c] for c in self._codes[j]]
        return _STATE_OF[self._codes[j]]


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
    active = p.active.tolist()  # (read a rule at a time: as Python bools)
    for i, j in single:
        if not active[i]:
            continue
        v = p.b[i] / A[i, j]
        if abs(x[j] - v) > EPS and v >= 0:
            p.fixed[j] = v
            x[j] = v
    # Whole figures (the common case) add up exactly in any order: every total rule's residual at
    # once, and only the broken ones looked at one by one until a total is filled in (after which
    # each residual is taken as before).  Other figures: each residual on its own, as always.
    whole = bool((x == x.round()).all()) and float(abs(x).max(initial=0.0)) < _EXACT  # (methods: no dispatch)
    at_once = (_total_rules(p.fmt) @ x - p.b[_total_rows(p.fmt)]).tolist() if whole else None
    filled = False
    for k, (i, j) in enumerate(totals):
        if not active[i]:
            continue
        if at_once is not None and not filled and abs(at_once[k]) < EPS:
            continue  # (the same residual as the one below: exact)
        r_i = float(A[i] @ x - p.b[i])
        if abs(r_i) < EPS:
            continue
        if p.reported[j] is None and p.states[j] is State.BLANK and j not in p.fixed and x[j] - r_i >= 0:
            p.fixed[j] = x[j] - r_i
            x[j] -= r_i
            filled = True


# below this, sums of a rule's whole figures (at most a few hundred terms of ±1) are exact in floats
_EXACT = float(2**44)


@derived
def _total_rows(fmt: Fmt) -> np.ndarray:
    return np.array([i for i, _j in _reduce_plan(fmt)[1]], dtype=np.intp)


@derived
def _total_rules(fmt: Fmt) -> np.ndarray:
    """The rows of the system's matrix of the total rules :func:`reduce` reads, in its order."""
    return np.ascontiguousarray(system(fmt).A[_total_rows(fmt)])


@dataclass
class Reduced:
    """A problem with its fixed cells substituted: ``A x = b`` over the free cells only."""

    A: np.ndarray
    x0: np.ndarray
    b: np.ndarray
    free: np.ndarray  # the free cells' indices in the system
    key: tuple[object, ...] | None = None  # what A depends on (format, rules in force, fixed cells)


def reduced(p: Problem) -> Reduced:
    key = (p.fmt, p.active.tobytes(), tuple(sorted(p.fixed)))
    A_free, A_fixed, free, fixed = _split(key, p)
    b = p.b[p.active]
    if len(fixed):
        b -= A_fixed @ np.array([p.fixed[j] for j in fixed])
    return Reduced(A_free, p.x0[free], b, free, key)


_SPLITS: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}


def _split(key: tuple[object, ...], p: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rules in force over the free cells and over the fixed cells, and the two sets of cells,
    of every problem with the same ``key`` (format, rules in force, fixed cells): made once each.
    (Read only: the problems sharing a key share the arrays.)"""
    got = _SPLITS.get(key)
    if got is None:
        sysm = system(p.fmt)
        A = sysm.A[p.active]
        fixed = np.array(sorted(p.fixed), dtype=np.intp)
        is_free = np.ones(len(sysm.cells), dtype=bool)
        is_free[fixed] = False
        free = np.flatnonzero(is_free)
        got = (A[:, free], A[:, fixed], free, fixed)
        if len(_SPLITS) >= 256:
            _SPLITS.clear()
        _SPLITS[key] = got
    return got
