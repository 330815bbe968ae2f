"""Error localisation (Fellegi–Holt): which cells are most likely wrong, and what they should be.

For a report that breaks the linear rules (A–D, and E when last year's report is known), find the
smallest set of cells of tables 三 and 四 whose change makes *every* rule hold, and *all* sets of
that size when there is a tie ("ambiguous: X or Y" — never a random pick).  The rules are the
catalogue's own definitions (:func:`nianbao.catalogue.linear_rules`, :func:`carry_over_rules`),
written once as a matrix ``A x = b`` over the cells (``b`` holds last year's 结转下年度 for E).

Solving, exactly:

- size 1 and 2 in closed form, vectorised over all broken reports (numpy): a set ``S`` fixes every
  rule iff the residual ``r = A x − b`` lies in the span of the columns of ``S``; every such set
  with integral, non-negative new values is returned;
- size ≥ 3 with a small MILP per report (``scipy.optimize.milp``/HiGHS): integer cells ``x ≥ 0``,
  binary change indicators ``z`` with big-M links ``|x − x0| ≤ M z``, minimise ``Σ z``; ties are
  enumerated with no-good cuts ``Σ_{j∈S} z_j ≤ |S| − 1``.  Each solve is bounded by work
  (:data:`NODE_LIMIT` branch-and-bound nodes — the same answer on any machine and under any load;
  a clock limit is only a safety net), the enumeration by :data:`MAX_MILP_SOLUTIONS`; a report
  whose first solve reaches the limit without a proof gets no suspects (``[]``: unknown).

Each suspect is classified: digit typo (one digit changed, inserted or dropped), transposed digits,
sign error, value in the wrong row/column (it is the right value of another suspect in the same
row/column), a blank that should hold the total, a blank or non-numeric cell, or a wrong value.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from nianbao.catalogue import LinearRule, carry_over_rules, format_number, linear_rules
from nianbao.model import INDEX, STATES, ParsedReport
from nianbao.normalize import State
from nianbao.outcome import Finding, Suspect
from nianbao.spec import Fmt, cell_label, table_name, tables

SUM_RULES = frozenset({"A01", "B01", "C01", "D01", "E01"})

MAX_TIES = 30  # closed-form sizes 1–2: every tied set up to this many
MAX_MILP_SOLUTIONS = 10  # size ≥ 3: tied sets enumerated by no-good cuts
# Each MILP solve is bounded by work (branch-and-bound nodes), not by the clock, so the suspects
# are the same on a fast machine, a loaded one and a Dask worker; the clock limit is a safety net
NODE_LIMIT = 5_000  # per MILP solve
TIME_LIMIT_S = 30.0  # per MILP solve, only for a pathological problem
MAX_SIZE = 12  # beyond this many changed cells a "localisation" explains nothing

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


@cache
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
    status: str = "ok"  # ok | unknown (no set within the limits) | too_many (more tied sets than shown)
    cross_year: bool = False  # whether last year's 结转下年度 (rule E) was part of the rules

    @property
    def ambiguous(self) -> bool:
        return len(self.sets) > 1

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
    t, row, col = cell.split(":")
    return col == "total" or (t == "3" and row == "3.7")


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
        ri.element[:-1] if ri.code == "I07" else ri.element[:2] for ri in rep.row_issues if ri.code in ("I07", "I09")
    )
    if unread:
        for i, lr in enumerate(sysm.rules):
            if any(c.startswith(unread) for c in lr.own_cells):
                active[i] = False
    return Problem(ri, rep.fmt, x0, reported, states, b, active)


@cache
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
        if lr.code not in ("A01", "D01"):
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


def _reduced(p: Problem) -> _Reduced:
    sysm = system(p.fmt)
    A = sysm.A[p.active]
    fixed = np.array(sorted(p.fixed), dtype=np.intp)
    free = np.array([j for j in range(len(sysm.cells)) if j not in p.fixed], dtype=np.intp)
    b = p.b[p.active].copy()
    if len(fixed):
        b -= A[:, fixed] @ np.array([p.fixed[j] for j in fixed])
    return _Reduced(A[:, free], p.x0[free], b, free)


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
    """Sizes 0, 1 and 2 (free cells) of problems sharing one reduced matrix; None: needs the MILP.

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


def _milp(rd: _Reduced, time_limit: float, max_solutions: int) -> tuple[list[Change], str]:
    """All minimal sets (up to ``max_solutions``) of a reduced problem by MILP with no-good cuts."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    used = np.flatnonzero(np.abs(rd.A).sum(axis=0) > 0)
    A = rd.A[:, used]
    x0 = rd.x0[used]
    b = rd.b
    n = len(used)
    r = A @ x0 - b
    # a cell's right value stays within a few times the largest printed figure plus the imbalance
    ub = 7.0 * float(x0.max(initial=0.0)) + float(np.abs(r).sum()) + 10.0
    M = ub
    cost = np.concatenate([np.zeros(n), np.ones(n)])
    eye = np.eye(n)
    cons = [
        LinearConstraint(np.hstack([A, np.zeros((A.shape[0], n))]), b, b),
        LinearConstraint(np.hstack([eye, -M * eye]), -np.inf, x0),
        LinearConstraint(np.hstack([-eye, -M * eye]), -np.inf, -x0),
    ]
    bounds = Bounds(np.zeros(2 * n), np.concatenate([np.full(n, ub), np.ones(n)]))
    integrality = np.ones(2 * n)
    sets: list[Change] = []
    size = 0
    while True:
        if len(sets) >= max_solutions:
            return sets, "too_many"
        res = _quiet_milp(milp, cost, integrality, bounds, cons, time_limit)
        if res.status == 1:  # the work limit was reached without a proof: what was found so far
            return sets, "too_many" if sets else "unknown"
        if res.status != 0 or res.x is None:  # infeasible: every minimal set has been found
            return sets, "ok" if sets else "unknown"
        xs = res.x[:n]
        changed = [k for k in range(n) if abs(xs[k] - x0[k]) > 0.5]
        if size and len(changed) > size:
            return sets, "ok"  # the next best set is larger: every minimal set has been found
        if not changed or len(changed) > MAX_SIZE:
            return sets, "ok" if sets else "unknown"
        size = len(changed)
        sets.append([(int(rd.free[used[k]]), float(xs[k])) for k in changed])
        cut = np.zeros(2 * n)
        cut[[n + k for k in changed]] = 1.0
        cons.append(LinearConstraint(cut, -np.inf, size - 1))


def _quiet_milp(milp, cost, integrality, bounds, cons, time_limit):
    """HiGHS writes some diagnostics straight to fd 1; keep a run's output clean."""
    import os

    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            return milp(
                cost,
                integrality=integrality,
                bounds=bounds,
                constraints=cons,
                options={"time_limit": time_limit, "node_limit": NODE_LIMIT, "disp": False},
            )
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _localisation(p: Problem, sets: list[Change] | None, status: str) -> Localisation:
    if not sets:
        return Localisation(p.report, 0, [], "unknown", cross_year=p.cross_year)
    made = [_suspects(p, s) for s in sets[:MAX_TIES]]
    made = [s for s in made if s]
    if not made:
        return Localisation(p.report, 0, [], "unknown", cross_year=p.cross_year)
    status = "too_many" if len(sets) > MAX_TIES else status
    return Localisation(p.report, len(made[0]), made, status, cross_year=p.cross_year)


def localise(
    problems: Sequence[Problem],
    time_limit: float = TIME_LIMIT_S,
    max_solutions: int = MAX_MILP_SOLUTIONS,
    budget_s: float | None = None,
) -> dict[int, Localisation]:
    """Localise every problem: fixed cells first, closed form for 1–2 more cells (vectorised over
    the problems sharing a matrix), the MILP for the rest.  A report that cannot be made consistent
    with last year's report (e.g. last year's own figures disagree) is localised within itself."""
    out: dict[int, Localisation] = {}
    start = time.perf_counter()
    todo = list(problems)
    for p in todo:
        reduce(p)
    retry: list[Problem] = []
    for attempt in (0, 1):
        groups: dict[tuple[object, ...], list[tuple[Problem, _Reduced]]] = {}
        for p in todo:
            key = (p.fmt, p.active.tobytes(), tuple(sorted(p.fixed)))
            groups.setdefault(key, []).append((p, _reduced(p)))
        for group in groups.values():
            solved = _closed_form(group)
            for p, rd in group:
                sets = solved.get(p.report)
                status = "ok"
                if sets is None:
                    if budget_s is not None and time.perf_counter() - start > budget_s:
                        out[p.report] = Localisation(p.report, 0, [], "unknown", cross_year=p.cross_year)
                        continue
                    sets, status = _milp(rd, time_limit, max_solutions)
                loc = _localisation(p, sets, status)
                if not loc.sets and p.cross_year and attempt == 0:
                    retry.append(p)
                    continue
                out[p.report] = loc
        if not retry:
            break
        todo = []
        for p in retry:
            q = Problem(p.report, p.fmt, p.x0, p.reported, p.states, p.b, p.active.copy())
            q.active[system(p.fmt).n_static :] = False
            reduce(q)
            todo.append(q)
        retry = []
    return out


# ------------------------------------------------------------------ findings


def describe(loc: Localisation, fmt: Fmt) -> str:
    """中文: the likely fix, or the tied alternatives ("无法唯一确定……").  Empty when unknown."""
    if not loc.sets:
        return ""

    def one(s: Suspect) -> str:
        label = f"{table_name(s.cell[0])[:2]}“{cell_label(fmt, s.cell)}”"
        was = "空白" if s.reported is None else format_number(float(s.reported))
        return f"把{label}由 {was} 改为 {format_number(float(s.suggested))}（{CAUSES_ZH[s.cause]}）"

    if len(loc.sets) == 1:
        return "最可能的改法：" + "，并".join(one(s) for s in loc.sets[0]) + "。"
    marks = "①②③④⑤⑥⑦⑧⑨⑩"
    shown = []
    for k, st in enumerate(loc.sets[:5]):
        shown.append(f"{marks[k]}" + "，并".join(one(s) for s in st))
    more = f"等 {len(loc.sets)} 种" if len(loc.sets) > 5 else f" {len(loc.sets)} 种"
    head = f"无法唯一确定错误的单元格（改动同样少的方案有{more}，每种改 {loc.size} 个单元格）："
    return head + "；或".join(shown) + "。"


def attach(findings: Sequence[Finding], reports: Sequence[ParsedReport], locs: Mapping[int, Localisation]) -> None:
    """Give every sum-rule finding its report's suspects ([] when unknown) and the likely fix."""
    for f in findings:
        if f.rule not in SUM_RULES:
            continue
        loc = locs.get(f.report)
        if loc is None:
            f.suspects = []
            continue
        if f.rule == "E01" and not loc.cross_year:
            f.suspects = []  # this year's figures alone cannot be reconciled with last year's
            continue
        f.suspects = loc.suspects()
        fmt = reports[f.report].fmt or Fmt.F2021
        text = describe(loc, fmt)
        if text and not f.fix.startswith(text):
            f.fix = text + f.fix


def localise_findings(
    findings: Sequence[Finding],
    reports: Sequence[ParsedReport],
    prev_values: Mapping[int, Mapping[str, float | None]] | None = None,
    time_limit: float = TIME_LIMIT_S,
    budget_s: float | None = None,
) -> dict[int, Localisation]:
    """One pass after validation: localise every report with a sum-rule finding, attach the suspects."""
    broken = sorted({f.report for f in findings if f.rule in SUM_RULES and f.report >= 0})
    prev_values = prev_values or {}
    probs = [p for ri in broken if (p := problem(ri, reports[ri], prev_values.get(ri))) is not None]
    locs = localise(probs, time_limit=time_limit, budget_s=budget_s)
    attach(findings, reports, locs)
    return locs
