"""The new values of a rank-deficient change set: integral, ≥ 0, each one a change — the exact
point on its line (one free direction) or a small integer program (HiGHS, bounded by nodes)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from nianbao.localise.budget import INTEGER_PROGRAM_NODES


def point_on_line(M: np.ndarray, rhs: np.ndarray, x0: np.ndarray) -> Any:
    """A rank-deficient set with one free direction (the usual case: a rectangle of cells in rows
    and columns that sum): the changes form a line ``x(t) = base + t·v``; the new values must be
    integral, ≥ 0 and differ from the printed ones.  The integral ``t`` moving the printed values
    least (Σ |x − x0|, then the smallest ``|t|``) is exact and cheap: the objective is convex and
    piecewise linear, its kinks are where a cell keeps its printed value.  ``None``: no such point;
    ``NotImplemented``: not a single integral direction (left to :func:`integral_point`)."""
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


def integral_point(M: np.ndarray, rhs: np.ndarray, x0: np.ndarray) -> np.ndarray | None:
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
