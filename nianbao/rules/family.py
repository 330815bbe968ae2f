"""The one interface of every rule family, over one :class:`Batch` built once per run.

A *rule family* (cells, sums, layout, meta, cross-year, plausibility, copies, prose, the batch
checks …) is one module that declares a :class:`Family`: its name, the catalogue codes it
implements and a ``check(batch) -> list[Finding]`` (an info the catalogue summarises may come as
:class:`~nianbao.outcome.InfoSummary`, one for all its reports).  :mod:`nianbao.rules.families` lists the
families in the order they run and maps every code to its family; :mod:`nianbao.validate.batch`
builds the :class:`Batch`, runs every family of the ``validate`` stage, then the localisation.

The :class:`Batch` holds what the families read — the reports, last year's reports, the rename
table, the registry's agencies — and the frames built from them, each built on its first use (once,
under a lock: two threads may ask for it, :class:`frame`) and kept until :meth:`Batch.release`
drops it: a family names the frames it reads (``Family.reads``) so that the run frees a frame
after its last reader (at 100,000 reports the cell arrays are ~0.4 GB); a frame another one is
built from is kept until that one is built (``SOURCES``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

import polars as pl

from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import Agency
from nianbao.domain.spec import Fmt
from nianbao.outcome import Finding, InfoSummary
from nianbao.rules.ahead import Registered, registered
from nianbao.rules.frames import FmtArrays, batch_arrays, cells_frame, layout_suspects, meta_frame
from nianbao.rules.years import YearPairs, pair_years
from schemas.cells import suspects

T = TypeVar("T")

# When a family runs.
READ = "read"  # while a file is read (nianbao.io): a file that cannot be read at all
VALIDATE = "validate"  # over the Batch, by nianbao.validate.batch.validate_batch
BATCH_CHECKS = "batch_checks"  # the run's batch-checks step (Great Expectations, in the run's gx folder)
STAGES = (READ, VALIDATE, BATCH_CHECKS)


class frame(cached_property[T]):
    """A Batch frame: ``functools.cached_property`` built under a lock of its own (per batch and
    frame), so that a family in a thread beside the others (``Family.beside``) and the caller's
    families may ask for the same frame at once: one builds it, the other waits for it (Python
    3.12 dropped cached_property's own lock, which serialised every instance's builds)."""

    def __get__(self, instance: object, owner: type | None = None) -> T:  # type: ignore[override]
        if instance is None:
            return self  # type: ignore[return-value]
        d = instance.__dict__
        name = self.attrname
        assert name is not None
        if name in d:
            return d[name]
        with _LOCKS_LOCK:
            lock = d.setdefault("_frame_locks", {}).setdefault(name, threading.Lock())
        with lock:
            if name not in d:  # (else built meanwhile by the other thread)
                d[name] = self.func(instance)
            return d[name]


_LOCKS_LOCK = threading.Lock()


@dataclass
class Batch:
    """Everything a rule family reads about one run's batch; frames are built on first use, once."""

    reports: Sequence[ParsedReport]
    previous: Sequence[ParsedReport] = ()  # last year's reports given apart from the batch (e.g. the store)
    renames: Mapping[str, str] = field(default_factory=dict)  # normalised old agency name -> new name
    registry: Sequence[Agency] | None = None  # the expected agencies (county, level), when given
    registered: Registered | None = None  # what the parse workers made for the reports, when looked up

    @frame
    def ahead(self) -> Registered:
        """What the parse workers made for the batch's reports (:mod:`nianbao.rules.ahead`), looked up once."""
        return self.registered if self.registered is not None else registered(self.reports)

    @frame
    def arrays(self) -> dict[Fmt, FmtArrays]:
        """The cells of the batch's readable reports as 2-D arrays per format."""
        return batch_arrays(self.reports)

    @frame
    def suspect_cells(self) -> pl.DataFrame:
        """One row per (report, cell) of the batch that may break a cell rule
        (:func:`schemas.cells.suspects`: a forbidden state, a negative value, a fraction): the long
        frame of every cell (20 million rows at 100,000 reports) cut to the few the rules can fail."""
        return cells_frame(self.arrays, where=suspects)

    @frame
    def suspect_layout(self) -> pl.DataFrame:
        """One row per structural element of each report that may break a layout rule (not found,
        out of order, words of its own, a row issue: :func:`nianbao.rules.frames.layout_frame`), with
        the words of the facts with words of their own."""
        return layout_suspects(self.ahead)  # (made by the parse workers where they read the reports)

    @frame
    def meta(self) -> pl.DataFrame:
        """One row per report: agency, year, period, format."""
        return meta_frame(self.reports)

    @frame
    def year_pairs(self) -> YearPairs:
        """Each report with the same agency's report of last year (from the batch or ``previous``)."""
        return pair_years(self.reports, self.previous, self.renames)

    @frame
    def last_year_arrays(self) -> dict[Fmt, FmtArrays] | None:
        """The cells of ``previous`` as arrays (their ``report`` indices count from 0); None without."""
        return batch_arrays(self.previous) if self.previous else None

    @frame
    def arrays_with_last_year(self) -> list[FmtArrays]:
        """The cell arrays of the batch followed by ``previous``'s (``report`` = index in
        ``year_pairs.reports``), per format."""
        out = list(self.arrays.values())
        if self.last_year_arrays is not None:
            out += [a.shifted(len(self.reports)) for a in self.last_year_arrays.values()]
        return out

    def release(self, keep: Iterable[str] = ()) -> None:
        """Drop every built frame that is not in ``keep`` and not needed to build one of ``keep``
        (a dropped frame is built again if read again)."""
        needed: set[str] = set()
        todo = list(keep)
        while todo:
            name = todo.pop()
            if name not in needed:
                needed.add(name)
                if name not in vars(self):  # not built yet: its sources are still needed
                    todo += SOURCES.get(name, ())
        for name in [n for n in vars(self) if n in FRAMES and n not in needed]:
            del self.__dict__[name]


# a frame built from others: the frames it is built from
SOURCES: dict[str, tuple[str, ...]] = {
    "suspect_cells": ("arrays",),
    "suspect_layout": ("ahead",),
    "arrays_with_last_year": ("arrays", "last_year_arrays"),
}
# the Batch's cached frames (the names a Family may list in ``reads``)
FRAMES = frozenset(n for n, v in vars(Batch).items() if isinstance(v, frame))


@dataclass(frozen=True)
class Family:
    """A rule family: the catalogue codes it implements and how it checks a :class:`Batch`.

    ``codes`` is a function: a family whose rules are data (the sum rules' terms in the catalogue)
    claims the codes of the catalogue in use.  ``check`` is None for a family that runs elsewhere
    (``stage`` says where, ``runs_in`` names the code).  ``reads``: the Batch frames ``check`` reads;
    ``timing``: the ``timings`` key its seconds are added to (None: only the schema time counts).
    ``beside``: ``check`` runs in a thread beside the other families (from the start of the stage,
    its ``reads`` built first; the families beside run one after the other there;
    nianbao.validate.batch): for a family that spends most of its time in polars, which leaves the
    GIL, so that the validation uses the second core; its findings still join in its place of the
    order."""

    name: str
    codes: Callable[[], frozenset[str]]
    check: Callable[[Batch], Sequence[Finding | InfoSummary]] | None  # summaries: nianbao.outcome.Summaries
    stage: str = VALIDATE
    reads: frozenset[str] = frozenset()
    timing: str | None = None
    runs_in: str = ""
    beside: bool = False

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"family {self.name}: stage {self.stage!r} is not one of {STAGES}")
        if (self.check is None) != (self.stage != VALIDATE):
            raise ValueError(f"family {self.name}: a check exactly when it runs at the {VALIDATE} stage")
        if unknown := self.reads - FRAMES:
            raise ValueError(f"family {self.name}: reads {sorted(unknown)}, not frames of the Batch")


def fixed_codes(*codes: str) -> Callable[[], frozenset[str]]:
    """``Family.codes`` of a family whose codes are written in its module."""
    out = frozenset(codes)
    return lambda: out
