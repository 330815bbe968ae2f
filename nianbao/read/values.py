"""The values of a table row: the printed cells after its label fitted into the row's columns,
space-aligned values placed under their columns, and where each value was printed."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nianbao.domain.normalize import nfkc, parse_number
from nianbao.io.lines import Line


def fit_values(
    cells: Sequence[tuple[int, str]],
    n: int,
    prefer: Callable[[list[str]], bool] | None = None,
) -> list[tuple[int | None, str]] | None:
    """Place the cells after a row label into ``n`` columns.

    Merged label cells leave empty cells before the values, and extractions often add empty cells
    after them.  A window of ``n`` cells is chosen so that every cell left out is empty; when
    several windows fit, the one for which ``prefer`` holds (the row's own sum rule) wins, then the
    one that puts blanks at the end (a blank 总计 column is the common case).  ``None`` when the
    printed values cannot be placed (more than ``n`` non-empty cells).
    """
    r: list[tuple[int | None, str]] = [(pos, raw.strip()) for pos, raw in cells]
    if len(r) == n:
        return r  # the one window (the common row: as many cells as columns)
    while len(r) < n:
        r.append((None, ""))
    candidates = [r[s : s + n] for s in _starts([raw for _p, raw in r], n)]
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    if prefer is not None:
        good = [c for c in candidates if prefer([raw for _p, raw in c])]
        if good:
            return good[-1]
    return candidates[-1]


def _starts(stripped: Sequence[str], n: int) -> range:
    """Where the windows of ``n`` cells that fit start (``stripped``: the cells' texts, at least
    ``n``): a window fits when every non-empty cell is inside it, so it starts at or before the
    first one and ends at or after the last one (in order, as trying each start gives them)."""
    full = [k for k, raw in enumerate(stripped) if raw]
    lo, hi = (full[-1] - n + 1, full[0]) if full else (0, len(stripped) - n)
    return range(max(lo, 0), min(hi, len(stripped) - n) + 1)


def fitting_windows(cells: Sequence[str], n: int) -> int:
    """How many windows :func:`fit_values` chooses among for these printed cells (at least ``n``):
    one, the window is the cells' shape alone; several, the row's numbers choose (its sum rule)."""
    return 1 if len(cells) == n else len(_starts([c.strip() for c in cells], n))


def sum_rule(parts: int) -> Callable[[list[str]], bool]:
    def ok(vals: list[str]) -> bool:
        nums = [parse_number(v)[0] or 0.0 for v in vals]
        return abs(sum(nums[:parts]) - nums[parts]) < 1e-9

    return ok


# a space-aligned value belongs to a column when its centre is within this share of the column
# spacing from the column's centre; farther (between two columns) it is not machine-readable
AMBIGUOUS_SHARE = 0.35


@dataclass(slots=True)
class Value:
    """One value read from a row: its text and where it was printed."""

    raw: str
    line: int | None
    pos: int | None  # 1-based cell position in its line
    where: str | None


@dataclass(slots=True)
class RowRead:
    values: list[Value]  # one per column (empty: the row could not be read by columns)
    line: int
    printed: str
    recovered: bool = False  # split from run-together digits
    src: Line | None = None


def location(ln: Line, pos: int | None) -> str | None:
    if pos is not None and ln.cell_where is not None and 0 < pos <= len(ln.cell_where):
        return ln.cell_where[pos - 1]
    return ln.where


def values_of(ln: Line, fitted: Sequence[tuple[int | None, str]]) -> list[Value]:
    if ln.cell_where is None:  # every value is where its line is (text): location's answer, without its call
        no, where = ln.no, ln.where
        return [Value(raw, no, pos, where) for pos, raw in fitted]
    return [Value(raw, ln.no, pos, location(ln, pos)) for pos, raw in fitted]


def lone_digits(after: Sequence[tuple[int, str]], n: int) -> tuple[int, str] | None:
    """The one digit string a run-together row prints instead of ``n`` cells, if that is what it is."""
    nonempty = [(p, c) for p, c in after if c.strip()]
    if len(nonempty) != 1:
        return None
    pos, raw = nonempty[0]
    digits = nfkc(raw).strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) < n:
        return None
    return pos, digits


def center(ln: Line, pos: int) -> float:
    assert ln.spans is not None
    a, b = ln.spans[pos - 1]
    return (a + b) / 2


def place(ln: Line, cells: Sequence[tuple[int, str]], centers: Sequence[float]) -> list[Value] | None:
    """Values of a space-aligned line placed under the columns at ``centers`` (display columns);
    None when a value is not clearly under one column (or two values fall under the same one)."""
    if ln.spans is None or not centers:
        return None
    gap = min((b - a for a, b in itertools.pairwise(centers)), default=8.0)
    placed: dict[int, Value] = {}
    for pos, raw in cells:
        if not raw.strip():
            continue
        c = center(ln, pos)
        j = min(range(len(centers)), key=lambda k: abs(centers[k] - c))
        if abs(centers[j] - c) > gap * AMBIGUOUS_SHARE or j in placed:
            return None
        placed[j] = Value(raw, ln.no, pos, location(ln, pos))
    return [placed.get(j, Value("", ln.no, None, ln.where)) for j in range(len(centers))]
