"""Run-together digits: a table row printed as one digit string ("640020470" for 64|0|0|2|0|4|70).

Some web extractions drop the cell borders of a row.  Such a row can be read back only where the
sum rules leave exactly one possibility: the printed cells of the row are grouped by the linear
rules of the catalogue (rule A for a row of 表三: six applicant columns then 总计; rule D for 表四:
four outcomes then 总计, three groups in the one-line layout), every cell is a plain count (no
leading zeros, at most ``MAX_PART_DIGITS`` digits) and every group's total equals the sum of its
parts.  :func:`split_row` returns the unique split, or says how many there are (0 or "more than 1").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from nianbao.catalogue import ROW_TOTAL, LinearRule, derived, linear_rules
from nianbao.domain.spec import Fmt

MAX_PART_DIGITS = 6  # a township's count of one kind never reaches a million
MAX_SEARCH_DIGITS = 120  # longer strings are not a row of counts
MAX_STEPS = 200_000  # candidate parts tried for one string (a real row needs a few hundred)


@dataclass(frozen=True, slots=True)
class Split:
    parts: tuple[str, ...] | None  # the unique split, or None
    count: int  # number of splits found (0, 1, or 2 meaning "two or more")
    complete: bool = True  # False: the work bound stopped the search (parts is None)


class _Bound(Exception):
    pass


class _Steps:
    __slots__ = ("left",)

    def __init__(self, n: int) -> None:
        self.left = n

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _Bound


def _number_ok(s: str) -> bool:
    return 0 < len(s) <= MAX_PART_DIGITS and (s[0] != "0" or len(s) == 1)


def _parts(s: str, k: int, target: int, steps: _Steps) -> Iterator[list[str]]:
    """Split ``s`` into ``k`` counts summing to ``target``."""
    steps.take()
    if k == 1:
        if _number_ok(s) and int(s) == target:
            yield [s]
        return
    longest = min(MAX_PART_DIGITS, len(s) - (k - 1))
    for n in range(1, longest + 1):
        head = s[:n]
        if n > 1 and head[0] == "0":
            break
        v = int(head)
        if v > target:
            break
        for rest in _parts(s[n:], k - 1, target - v, steps):
            yield [head, *rest]


def _group(s: str, k: int, steps: _Steps) -> Iterator[list[str]]:
    """Split ``s`` into ``k`` parts followed by their total."""
    for t in range(1, min(MAX_PART_DIGITS, len(s) - k) + 1):
        tot = s[-t:]
        if not _number_ok(tot):
            continue
        for p in _parts(s[:-t], k, int(tot), steps):
            yield [*p, tot]


def split_groups(s: str, shape: Sequence[int], max_steps: int = MAX_STEPS) -> Split:
    """Split ``s`` into consecutive groups; group ``g`` is ``shape[g]`` parts then their total."""
    if not s.isascii() or not s.isdigit() or len(s) > MAX_SEARCH_DIGITS:
        return Split(None, 0)
    found: list[list[str]] = []
    steps = _Steps(max_steps)

    def rec(i: int, g: int, acc: list[str]) -> None:
        if g == len(shape):
            if i == len(s):
                found.append(acc)
            return
        rest_min = sum(k + 1 for k in shape[g + 1 :])
        k = shape[g]
        longest = (k + 1) * MAX_PART_DIGITS
        for e in range(i + k + 1, min(len(s) - rest_min, i + longest) + 1):
            for sp in _group(s[i:e], k, steps):
                rec(e, g + 1, acc + sp)
                if len(found) > 1:
                    return

    try:
        rec(0, 0, [])
    except _Bound:
        return Split(None, len(found), complete=False)
    if len(found) == 1:
        return Split(tuple(found[0]), 1)
    return Split(None, len(found))


@derived
def _rules_by_cells() -> dict[frozenset[str], LinearRule]:
    out: dict[frozenset[str], LinearRule] = {}
    for fmt in Fmt:
        for r in linear_rules(fmt):
            if r.role == ROW_TOTAL:
                out.setdefault(frozenset(r.cells), r)
    return out


@derived
def row_shape(cells: tuple[str, ...]) -> tuple[int, ...] | None:
    """The group shape of a printed row of ``cells`` (canonical ids in printed order), from the rules.

    Each group must be exactly the cells of one row-total rule (A, D: the catalogue's role
    ``row_total``), printed as its parts then its total.
    ``None`` when the printed order does not follow the rules (no recovery is attempted).
    """
    rules = _rules_by_cells()
    shape: list[int] = []
    i = 0
    while i < len(cells):
        for r in rules.values():
            n = len(r.cells)
            group = cells[i : i + n]
            if len(group) == n and group[:-1] == r.rhs and group[-1] == r.lhs[0]:
                shape.append(len(r.rhs))
                i += n
                break
        else:
            return None
    return tuple(shape)


def split_row(digits: str, cells: tuple[str, ...]) -> Split:
    shape = row_shape(cells)
    if shape is None:
        return Split(None, 0)
    return split_groups(digits, shape)
