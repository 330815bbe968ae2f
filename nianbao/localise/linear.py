"""The linear system of one format: the catalogue's sum rules (A–D) and carry-over rules (E01)
written once as a matrix ``A x = b`` over the cells of tables 三 and 四."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nianbao.catalogue import LinearRule, carry_over_rules, derived, linear_rules
from nianbao.domain.spec import Fmt, tables


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
