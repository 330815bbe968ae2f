"""Validate a batch: build the :class:`~nianbao.rules.family.Batch` once, run every rule family of
the ``validate`` stage in the order of :data:`nianbao.rules.families.FAMILIES`, then the error
localisation of every report breaking a sum rule (one pass at the end).

No per-report loop runs a validation: each family validates one frame of the whole batch (per
table, per kind of fact) with pandera, once.  A frame is freed after the last family that reads it.
Runs without Prefect; the flows call the same functions.  (The batch checks — Great Expectations —
run in the run's batch-checks step: :func:`nianbao.rules.expectations.check_batch`.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import Agency
from nianbao.localise import localise_findings
from nianbao.outcome import Finding, InfoSummary, Summaries, sort_findings
from nianbao.read.meta import agencies_from_registry
from nianbao.rules.ahead import Registered
from nianbao.rules.base import SCHEMA_SECONDS
from nianbao.rules.families import families
from nianbao.rules.family import Batch, Family
from nianbao.rules.years import YearPairs, pair_years


def validate_batch(
    reports: Sequence[ParsedReport],
    *,
    previous: Sequence[ParsedReport] = (),
    renames: Mapping[str, str] | None = None,
    registry: Sequence[Agency] | None = None,
    localise: bool = True,
    timings: dict[str, float] | None = None,
) -> list[Finding]:
    """Validate every readable report of the batch together and return the findings, sorted, the
    summarised infos as one finding per report (:func:`validate_summarised` keeps them summarised).

    Beyond each report's own rules: cross-year rules against the batch's own reports of year Y−1
    and ``previous`` (e.g. from the store), ``renames`` (normalised old name → new name), text vs
    tables, plausibility against peers (county/level from ``registry`` when given), and — unless
    ``localise`` is False — the suspects of every report breaking a sum rule.
    ``timings`` (when given) receives the stage times of those steps.
    """
    findings, summaries = validate_summarised(
        reports, previous=previous, renames=renames, registry=registry, localise=localise, timings=timings
    )
    return expand(findings, summaries, reports)


def validate_summarised(
    reports: Sequence[ParsedReport],
    *,
    previous: Sequence[ParsedReport] = (),
    renames: Mapping[str, str] | None = None,
    registry: Sequence[Agency] | None = None,
    localise: bool = True,
    timings: dict[str, float] | None = None,
    registrations: Registered | None = None,
) -> tuple[list[Finding], list[InfoSummary]]:
    """:func:`validate_batch`, the infos of summarised rules (catalogue ``summarised = true``) kept
    as :class:`~nianbao.outcome.InfoSummary` (once per run for all their reports), the other
    findings sorted (``registrations``: what the parse workers made for the reports, when already
    looked up: :mod:`nianbao.rules.ahead`)."""
    SCHEMA_SECONDS[0] = 0.0
    agencies_from_registry(reports, registry)  # agencies read from file names: the registry's names
    batch = Batch(reports, previous, renames or {}, registry, registrations)
    findings, summaries = run_families(batch, timings)
    if timings is not None:
        timings["schemas"] = SCHEMA_SECONDS[0]
    if localise:
        localise_all(findings, reports, previous=previous, renames=renames, timings=timings, pairs=batch.year_pairs)
    return sort_findings(findings), summaries


def run_families(batch: Batch, timings: dict[str, float] | None = None) -> tuple[list[Finding], list[InfoSummary]]:
    """The findings and summaries of every family of the ``validate`` stage, in order; each frame
    of the batch is released after its last reader (the year pairs are kept for the localisation).
    A finding of a summarised rule that a family made as a Finding joins its summary too.

    The families ``beside`` the others (``Family.beside``) run one after the other in a thread of
    their own from the start, their frames kept until they are done; the others run here
    meanwhile (at 100,000 reports the text rules beside the rest: the validation 2.99-3.27 ->
    2.46-2.56 s on the eleventh session's machine).  Every family's results are taken in the order
    of the families whichever ran where, so the findings and summaries are those of running them
    one after the other (an exception in the thread is raised here, once the families here are
    done)."""
    order = families()
    made: list[Sequence[Finding | InfoSummary] | None] = [None] * len(order)
    running: dict[int, Future[Sequence[Finding | InfoSummary]]] = {}
    pool = None
    for i, family in enumerate(order):
        if family.beside:  # (a frame both threads ask for is built once: nianbao.rules.family.frame)
            pool = pool or ThreadPoolExecutor(
                max_workers=sum(f.beside for f in order), thread_name_prefix="nianbao-family"
            )
            running[i] = pool.submit(_run_family, family, batch, timings)
    try:
        for i, family in enumerate(order):
            if i not in running:
                made[i] = _run_family(family, batch, timings)
            later = (f.reads for j, f in enumerate(order) if j > i or j in running)
            batch.release(keep={"year_pairs"}.union(*later))
        for i, fut in running.items():
            made[i] = fut.result()
    except BaseException:  # (Ctrl-C, a family here failed): raised at once, the thread left to finish on its own
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    if pool is not None:
        pool.shutdown()
    batch.release(keep={"year_pairs"})
    out: list[Finding] = []
    summaries = Summaries()
    for got in made:
        assert got is not None
        for x in got:
            if isinstance(x, InfoSummary):
                summaries.extend((x,))
            elif not (x.rule in summaries.codes and summaries.add_finding(x)):
                out.append(x)
    return out, summaries.done()


def _run_family(family: Family, batch: Batch, timings: dict[str, float] | None) -> list[Finding | InfoSummary]:
    """One family's findings and summaries over the batch (its seconds added to ``timings``)."""
    assert family.check is not None  # a validate-stage family has one (Family checks it)
    t0 = time.perf_counter()
    got = list(family.check(batch))
    if timings is not None and family.timing is not None:
        with _TIMINGS_LOCK:  # (two families may add to one key from two threads)
            timings[family.timing] = timings.get(family.timing, 0.0) + time.perf_counter() - t0
    return got


_TIMINGS_LOCK = threading.Lock()


def expand(findings: list[Finding], summaries: Sequence[InfoSummary], reports: Sequence[ParsedReport]) -> list[Finding]:
    """``findings`` with every summary as one finding per report it applies to, sorted."""
    out = list(findings)
    for s in summaries:
        for k, r in enumerate(s.reports):
            rep = reports[r]
            out.append(s.finding(k, rep.file, rep.agency, rep.year))
    return sort_findings(out)


def prev_values(
    reports: Sequence[ParsedReport],
    previous: Sequence[ParsedReport] = (),
    renames: Mapping[str, str] | None = None,
    pairs: YearPairs | None = None,
) -> dict[int, dict[str, float | None]]:
    """For each batch report whose last year is known and has table 三: last year's ``3:4:*`` values
    (``pairs``: the batch's year pairs when already built)."""
    yp = pairs if pairs is not None else pair_years(reports, previous, renames)
    out: dict[int, dict[str, float | None]] = {}
    for ri, pi in yp.prev_of().items():
        last = yp.reports[pi]
        cells = {c: last.cells.get(c) for c in (f"3:4:{k}" for k in _T3_COLS)}
        if all(c is None or c.state.value == "missing" for c in cells.values()):
            continue
        out[ri] = {k: (c.value if c is not None else None) for k, c in cells.items()}
    return out


_T3_COLS = ("natural", "commercial", "research", "social", "legal", "other", "total")


def localise_all(
    findings: Sequence[Finding],
    reports: Sequence[ParsedReport],
    *,
    previous: Sequence[ParsedReport] = (),
    renames: Mapping[str, str] | None = None,
    timings: dict[str, float] | None = None,
    pairs: YearPairs | None = None,
) -> None:
    """Attach suspects to every sum-rule finding (A–D, and E when last year is known)."""
    t = time.perf_counter()
    localise_findings(findings, reports, prev_values(reports, previous, renames, pairs))
    if timings is not None:
        timings["localise"] = timings.get("localise", 0.0) + time.perf_counter() - t
