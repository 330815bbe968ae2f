"""What the parse workers compute for the validation ahead of it, chunk by chunk, and the registry
that hands it to the run's process.

A parse worker reads a chunk of reports and, on its own core, computes the per-report parts of
the validation that need nothing but those reports (:data:`nianbao.rules.families.AHEAD`: the
text rules' analysis of the prose, the layout facts that may break a layout rule, the reading
confidence, the reports that must state the fee); it ships them back with the chunk as one
:class:`ChunkAhead`, and the run's process registers it for those report objects (:func:`register`).
The validation looks the batch's reports up once (:func:`registered`), takes each part from the
registered chunks (:meth:`Registered.parts`: each chunk with its map from chunk position to batch
position) and computes it itself only for the reports without one (e.g. reports from the store
beside the parsed ones): the same result either way (tests/rules/test_ahead.py).  At 100,000
reports the layout suspects and the reading confidence cost the workers ~0.4 CPU s and save the
validation ~0.3 s of the one thread that holds the GIL (the text rules' analysis, the first part
made ahead: ~0.7 s).

The registry holds the reports it knows (so an object id is never that of another report) until
the run has validated them (:func:`release`), and at most :data:`REGISTRY_CAP` of them: the oldest
registrations are dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, cast

import numpy as np
import polars as pl

from nianbao.domain.model import ParsedReport

# reports whose parts are kept at most (this year's and last year's of a large run)
REGISTRY_CAP = 400_000


@dataclass
class ChunkAhead:
    """The parts computed ahead for a chunk of ``n`` reports: part name → its value (a part
    missing from ``parts`` was not made — its computation failed — and the run's process makes it
    for these reports; a value may be None: made, nothing to say)."""

    n: int
    parts: dict[str, Any] = field(default_factory=dict)


# id(report) -> (report, its chunk's parts, its position in that chunk); the registrations in order
_known: OrderedDict[int, tuple[ParsedReport, ChunkAhead, int]] = OrderedDict()
_lock = threading.Lock()


def register(reports: Sequence[ParsedReport], ahead: ChunkAhead) -> None:
    """Remember ``ahead`` (computed over all ``reports``, in this order) for these report objects."""
    with _lock:
        for i, rep in enumerate(reports):
            _known.pop(id(rep), None)
            _known[id(rep)] = (rep, ahead, i)
        while len(_known) > REGISTRY_CAP:
            _known.popitem(last=False)


def release(reports: Sequence[ParsedReport]) -> None:
    """Drop the parts of these reports (the run calls it once they are validated: the registry
    then holds only reports parsed and not yet validated).  (A registered report is alive — the
    registry holds it —, so the id of a live report is its own registration's or none.)"""
    with _lock:
        deque(map(_known.pop, map(id, reports), repeat(None)), maxlen=0)  # (one C loop, no Python per report)


def forget() -> None:
    """Drop every registration (tests; a long-lived process between runs)."""
    with _lock:
        _known.clear()


@dataclass(frozen=True)
class Registered:
    """The registrations of a batch's reports, looked up once (:func:`registered`): the chunks they
    were registered with, in the order first met, each with its map (chunk position → batch
    position, -1 for a report of the chunk not in the batch), and each report's chunk (-1: none —
    not registered, or the same report object met again at an earlier place)."""

    reports: Sequence[ParsedReport]
    chunks: list[ChunkAhead]
    maps: list[np.ndarray]
    chunk_of: np.ndarray  # int64, per batch position
    readable: np.ndarray  # bool, per batch position

    def parts(self, name: str) -> tuple[list[tuple[Any, np.ndarray]], list[int]]:
        """Part ``name`` of the chunks, each with its map (a part that is None left out); and the
        positions of the readable reports without it — not registered, or their chunk's part not
        made — which the caller computes itself."""
        made = [
            (c.parts[name], to) for c, to in zip(self.chunks, self.maps, strict=True) if c.parts.get(name) is not None
        ]
        has = np.array([name in c.parts for c in self.chunks] + [False])  # (index -1: no chunk)
        return made, np.flatnonzero(self.readable & ~has[self.chunk_of]).tolist()


def registered(reports: Sequence[ParsedReport], look: bool = True) -> Registered:
    """The :class:`Registered` of a batch (``look`` False: as if none were registered).  (The
    registrations are looked up by one C loop and grouped by chunk with numpy: no Python
    statement per report.)"""
    with _lock:
        got = list(map(_known.get, map(id, reports))) if look else []
    readable = np.fromiter((rep.status == "validated" for rep in reports), bool, len(reports))
    chunk_of = np.full(len(reports), -1, dtype=np.int64)
    places = [pos for pos, g in enumerate(got) if g is not None]  # (none when not looked up)
    if not places:
        return Registered(reports, [], [], chunk_of, readable)
    regs = cast(list[tuple[ParsedReport, ChunkAhead, int]], [got[pos] for pos in places])
    pos_arr = np.array(places, dtype=np.int64)
    # a report object met twice: its first place only (the others computed by the caller)
    _u, first = np.unique(np.fromiter(map(id, map(itemgetter(0), regs)), np.int64, len(regs)), return_index=True)
    if len(first) < len(regs):
        first.sort()
        regs = [regs[j] for j in first.tolist()]
        pos_arr = pos_arr[first]
    chunks = list(map(itemgetter(1), regs))
    ids = list(map(id, chunks))
    number: dict[int, int] = {}  # id(chunk) -> its number, in the order first met
    order: list[ChunkAhead] = []
    for key, chunk in dict(zip(ids, chunks, strict=True)).items():  # (each chunk once)
        number[key] = len(order)
        order.append(chunk)
    of = np.fromiter(map(number.__getitem__, ids), np.int64, len(ids))
    at = np.fromiter(map(itemgetter(2), regs), np.int64, len(regs))
    chunk_of[pos_arr] = of
    maps = []
    for k, chunk in enumerate(order):
        sel = of == k
        to = np.full(chunk.n, -1, dtype=np.int64)
        to[at[sel]] = pos_arr[sel]
        maps.append(to)
    return Registered(reports, order, maps, chunk_of, readable)


def frame_parts(
    reg: Registered,
    name: str,
    compute: Callable[[Sequence[ParsedReport]], pl.DataFrame],
    order: Sequence[pl.Expr | str],
) -> pl.DataFrame:
    """A frame of the batch whose ``report`` column is the report's position (``compute(reports)``
    of any list of reports), made of part ``name`` of the registered chunks (each chunk's frame of
    its own reports, ``report`` its chunk position) and ``compute`` of the reports without one:
    the rows of the batch's reports at their batch positions, sorted by ``order`` (stable: each
    report's rows in the chunk's order) — the frame ``compute(reports)`` gives."""
    reports = reg.reports
    made, missing = reg.parts(name)
    if not made:
        return compute(reports)
    pieces = [moved(frame, to) for frame, to in made]
    if missing:
        pieces.append(moved(compute([reports[i] for i in missing]), np.array(missing, dtype=np.int64)))
    return pl.concat(pieces, how="vertical").sort(order, maintain_order=True)


def moved(frame: pl.DataFrame, to: np.ndarray) -> pl.DataFrame:
    """``frame`` with its ``report`` column mapped by ``to`` (rows mapped to -1 dropped)."""
    if not frame.height:
        return frame
    pos = to[frame.get_column("report").to_numpy()]
    keep = pos >= 0
    out = frame.with_columns(pl.Series("report", pos, dtype=pl.Int64))
    if not keep.all():
        out = out.filter(pl.Series(keep))
    return out.with_columns(pl.col("report").cast(frame.schema["report"]))


def list_parts(reg: Registered, name: str, compute: Callable[[Sequence[ParsedReport]], list[Any]]) -> list[Any]:
    """A value per report of the batch (``compute(reports)`` of any list of reports: one per
    report, in order), from part ``name`` of the registered chunks (a list per chunk) and
    ``compute`` of the readable reports without one; None for the others."""
    reports = reg.reports
    made, missing = reg.parts(name)
    if not made:
        return compute(reports)
    out = np.full(len(reports), None, dtype=object)
    for values, to in made:
        got = np.empty(len(values), dtype=object)
        got[:] = values
        keep = to >= 0
        out[to[keep]] = got[keep]
    if missing:
        got = np.empty(len(missing), dtype=object)
        got[:] = compute([reports[i] for i in missing])
        out[missing] = got
    return cast(list[Any], out.tolist())


def position_parts(reg: Registered, name: str, compute: Callable[[Sequence[ParsedReport]], list[int]]) -> list[int]:
    """The positions of the batch's reports a test picks (``compute(reports)`` of any list of
    reports: the positions it picks, ascending), from part ``name`` of the registered chunks (the
    chunk positions each picks) and ``compute`` of the readable reports without one; ascending."""
    reports = reg.reports
    made, missing = reg.parts(name)
    if not made:
        return compute(reports)
    picked = [to[np.asarray(chosen, dtype=np.int64)] for chosen, to in made]
    if missing:
        sub = compute([reports[i] for i in missing])
        picked.append(np.array(missing, dtype=np.int64)[np.asarray(sub, dtype=np.int64)])
    together = np.concatenate(picked)
    return cast(list[int], np.sort(together[together >= 0]).tolist())
