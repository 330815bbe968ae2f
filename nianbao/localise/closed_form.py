"""Change sets of 0, 1 and 2 free cells in closed form, vectorised over the problems that share
one reduced matrix (numpy)."""

from __future__ import annotations

import numpy as np

from nianbao.localise.problems import EPS, Change, Problem, Reduced


def closed_form(group: list[tuple[Problem, Reduced]]) -> dict[int, list[Change] | None]:
    """Sizes 0, 1 and 2 (free cells) of problems sharing one reduced matrix; None: needs the search.

    The rows of one group are solved together: residuals ``R = X Aᵀ − B``, ``C = R A``; a single
    cell ``j`` works iff ``‖r‖² − c_j²/g_j = 0`` (g = diag AᵀA), a pair by the 2×2 normal equations."""
    out: dict[int, list[Change] | None] = {}
    A = group[0][1].A
    g = (A * A).sum(axis=0)  # diag(AᵀA); AᵀA itself only over the cells some rule holds (below)
    X = np.vstack([rd.x0 for _p, rd in group])
    B = np.vstack([rd.b for _p, rd in group])
    R = X @ A.T - B
    C = R @ A
    rr = (R * R).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(g > 0, -C / np.where(g > 0, g, 1.0), 0.0)
    resid1 = rr[:, None] + 2 * delta * C + delta * delta * g
    new1 = X + delta
    ok1 = (g > 0) & (np.abs(resid1) < EPS) & (np.abs(delta) > EPS)
    ok1 &= (new1 > -EPS) & (np.abs(new1 - np.round(new1)) < EPS)
    used = np.flatnonzero(g > 0)
    Au = A[:, used]
    Gu = Au.T @ Au  # (entries: sums of products of 0/±1 — the same whatever the order)
    gu = g[used]
    for k, (p, rd) in enumerate(group):
        if rr[k] < EPS:
            out[p.report] = [[]]  # the fixed cells alone make every rule hold
            continue
        js = np.flatnonzero(ok1[k])
        if len(js):
            out[p.report] = [[(int(rd.free[j]), float(new1[k, j]))] for j in js]
            continue
        # pairs: one of the two cells must be in a broken rule (else the broken rules stay broken)
        broken = np.abs(R[k]) > EPS
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
        ok = (np.abs(det) > EPS) & (np.abs(res) < EPS) & (np.abs(di) > EPS) & (np.abs(dj) > EPS)
        ok &= (ni > -EPS) & (nj > -EPS)
        ok &= (np.abs(ni - np.round(ni)) < EPS) & (np.abs(nj - np.round(nj)) < EPS)
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
