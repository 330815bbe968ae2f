"""Change sets of 0, 1 and 2 free cells in closed form, vectorised over the problems that share
one reduced matrix (numpy)."""

from __future__ import annotations

import numpy as np

from nianbao.localise.problems import EPS, Change, Problem, Reduced

# below this Σr² (and whole residuals), a pair that leaves a broken rule as it is has a computed
# res within ~0.1 of its exact value, at least 1 (every term of res stays below ~10¹⁴)
_COVER_RR = 1e6


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
    nonzero = A[:, used] != 0  # (rules x used cells): the cells each rule holds
    inv_of: dict[bytes, np.ndarray] = {}  # the broken rules -> the cells in them (of ``used``)
    # (the broken rules, whether only the pairs covering them are tested) -> the pairs tested and
    # what they read of the matrix alone
    by_broken: dict[tuple[bytes, bool], tuple[np.ndarray, ...]] = {}
    for k, (p, rd) in enumerate(group):
        if rr[k] < EPS:
            out[p.report] = [[]]  # the fixed cells alone make every rule hold
            continue
        js = np.flatnonzero(ok1[k])
        if len(js):
            out[p.report] = [[(int(rd.free[j]), float(new1[k, j]))] for j in js]
            continue
        # pairs: one of the two cells must be in a broken rule (else the broken rules stay broken)
        bad = np.abs(R[k]) > EPS
        broken = bad.tobytes()
        inv = inv_of.get(broken)
        if inv is None:
            inv = inv_of[broken] = np.flatnonzero(np.abs(A[bad]).sum(axis=0)[used] > 0)
        c = C[k, used]
        x = X[k, used]
        # the pairs (a, b) tested (a: a cell of a broken rule, b: any cell), first for the
        # conditions on cell a (its change di must make it a whole figure ≥ 0: few pairs pass), then
        # those left for the rest — each value computed by the same operations as over every pair,
        # so the same pairs pass.  Whole residuals (|r| ≥ 1 where broken) with Σr² < 10⁶: only the
        # pairs whose two cells cover every broken rule (another pair leaves a broken rule's r as
        # it is: its res, computed within ~0.1, is ≥ 1 — it never passes); else every pair.
        # What depends on the broken rules alone is made once for the problems sharing them.
        whole = rr[k] < _COVER_RR and bool((R[k] == R[k].round()).all())
        got = by_broken.get((broken, whole))
        if got is None:
            if whole:  # a pair covers rule r when a or b is in it: no broken rule without either
                outside = (~nonzero[bad]).astype(np.int64)  # (broken rules x used cells)
                a_all, b_all = np.nonzero((outside[:, inv].T @ outside) == 0)
            else:
                a_all = np.repeat(np.arange(len(inv)), len(used))
                b_all = np.tile(np.arange(len(used)), len(inv))
            gi, gj, Gij = gu[inv][a_all], gu[b_all], Gu[inv[a_all], b_all]
            det = gi * gj - Gij * Gij
            got = by_broken[(broken, whole)] = (a_all, b_all, gi, gj, Gij, det, np.abs(det) > EPS)
        a_all, b_all, gi, gj, Gij, det, det_ok = got
        ci, cj = c[inv][a_all], c[b_all]
        with np.errstate(divide="ignore", invalid="ignore"):
            di = -(gj * ci - Gij * cj) / det
        ni = x[inv][a_all] + di
        ok = det_ok & (np.abs(di) > EPS) & (ni > -EPS) & (np.abs(ni - np.round(ni)) < EPS)
        at = np.flatnonzero(ok)  # (the pairs in row-major order: a, then b)
        if not len(at):
            out[p.report] = None
            continue
        a_at, b_at = a_all[at], b_all[at]
        di, ni, det, Gij = di[at], ni[at], det[at], Gij[at]
        gi, gj, ci, cj = gi[at], gj[at], ci[at], cj[at]
        with np.errstate(divide="ignore", invalid="ignore"):
            dj = -(gi * cj - Gij * ci) / det
        res = rr[k] + 2 * di * ci + 2 * dj * cj + di * di * gi + 2 * di * dj * Gij + dj * dj * gj
        nj = x[b_at] + dj
        ok2 = (np.abs(res) < EPS) & (np.abs(dj) > EPS) & (nj > -EPS) & (np.abs(nj - np.round(nj)) < EPS)
        ok2 &= inv[a_at] != b_at
        a_at, b_at, ni, nj = a_at[ok2], b_at[ok2], ni[ok2], nj[ok2]
        seen: set[tuple[int, int]] = set()
        sets: list[Change] = []
        for a, bb, vi, vj in zip(a_at.tolist(), b_at.tolist(), ni.tolist(), nj.tolist(), strict=True):
            ia, ib = int(used[inv[a]]), int(used[bb])
            key = (min(ia, ib), max(ia, ib))
            if key in seen:
                continue
            seen.add(key)
            sets.append([(int(rd.free[ia]), vi), (int(rd.free[ib]), vj)])
        out[p.report] = sets or None
    return out
