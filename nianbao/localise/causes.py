"""The likely cause of a suspect: digit typo, transposed digits, sign error, a value in the wrong
row/column, a blank that should hold the total, a blank or non-numeric cell, or a wrong value."""

from __future__ import annotations

from collections.abc import Sequence

from nianbao.catalogue import total_cells
from nianbao.domain.normalize import State
from nianbao.outcome import Suspect


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
    return cell in total_cells()


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
