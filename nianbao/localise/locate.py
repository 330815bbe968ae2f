"""Localising a batch of problems: fixed cells first, the closed form for 1–2 more cells, then —
report by report, in report order — the bounded search within the batch's budget; change sets
become suspects with their causes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from nianbao.localise.budget import MAX_SIZE, MAX_TIES, WORK_PER_REPORT, Budget, Work
from nianbao.localise.causes import classify
from nianbao.localise.closed_form import closed_form
from nianbao.localise.exact import Search
from nianbao.localise.linear import system
from nianbao.localise.localisation import Localisation
from nianbao.localise.problems import EPS, Change, Problem, Reduced, reduce, reduced
from nianbao.outcome import Suspect


def _suspects(p: Problem, changes: Iterable[tuple[int, float]]) -> list[Suspect]:
    sysm = system(p.fmt)
    made = sorted({**{j: v for j, v in p.fixed.items()}, **dict(changes)}.items())
    made = [(j, float(round(v))) for j, v in made if p.reported[j] is None or abs(v - p.x0[j]) > EPS]
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
    groups: dict[tuple[object, ...], list[tuple[Problem, Reduced]]] = {}
    for p in problems:
        key = (p.fmt, p.active.tobytes(), tuple(sorted(p.fixed)))
        groups.setdefault(key, []).append((p, reduced(p)))
    for group in groups.values():
        closed |= closed_form(group)
    budget = Budget(batch_work) if batch_work is not None else None
    for p in sorted(problems, key=lambda q: q.report):
        gate = _Gate(Work(report_work), budget)
        loc = _attempt(p, closed.get(p.report), gate)
        if not loc.sets and p.cross_year and loc.status not in ("search_limit", "not_localised"):
            q = _without_last_year(p)
            loc = _attempt(q, closed_form([(q, reduced(q))]).get(q.report), gate)
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
    s = Search(reduced(p), gate.work)
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
