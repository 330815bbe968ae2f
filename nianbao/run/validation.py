"""The validation step: a batch of parsed reports → the run's outcome (files, findings, run info).

Both commands run this one step — ``nianbao run`` (:func:`nianbao.run.steps.validate_stage`, the
inbox's facts added after it) and ``nianbao validate`` (:func:`nianbao.run.steps.validate_paths`).
It has two parts, each a function of its inputs only:

- :func:`check_rules`: every rule family over the batch and error localisation
  (:func:`nianbao.validate.batch.validate_summarised`), with last year's reports for the cross-year rules;
- :func:`check_expectations`: the batch expectations (Great Expectations) and their Data Docs.

A cache policy wraps each part (``cache.around(name, part)``, as Prefect's cache policies wrap a
task): :data:`NO_CACHE` runs them, :class:`nianbao.run.memo.Memo` keys them on their inputs and
reuses the last identical result.  The parts themselves live here only.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from nianbao.catalogue import ruleset_version
from nianbao.domain.clock import now_iso
from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import Agency
from nianbao.localise import localisation_counts
from nianbao.outcome import (
    CrossYear,
    FileOutcome,
    Finding,
    InfoSummary,
    RunInfo,
    RunOutcome,
    Summaries,
    sort_findings,
)
from nianbao.read.grid import reading_confidence, reading_confidences
from nianbao.rules.ahead import list_parts, registered
from nianbao.rules.ahead import release as release_ahead
from nianbao.run.collector import gc_paused
from nianbao.validate.batch import validate_summarised

if TYPE_CHECKING:
    from nianbao.rules.expectations import BatchResult

P = ParamSpec("P")
T = TypeVar("T")


# ------------------------------------------------------------------ the inputs


@dataclass(frozen=True, slots=True)
class LastYear:
    """Last year's reports the cross-year rules read, from outside the batch: what identifies them
    (a memo key reads it, never the reports) and how to get them (called only when the rules run)."""

    identity: list[list[Any]]
    load: Callable[[], list[ParsedReport]]

    @classmethod
    def of(cls, reports: Sequence[ParsedReport]) -> LastYear:
        """Reports at hand (``nianbao validate --last-year``)."""
        given = list(reports)
        return cls([[r.file, r.sha256, r.status] for r in given], lambda: given)


NO_LAST_YEAR = LastYear([], list)


# ------------------------------------------------------------------ the two parts


@dataclass(frozen=True, slots=True)
class RuleResult:
    """What :func:`check_rules` finds."""

    findings: list[Finding]
    cross_year: CrossYear
    localisation: dict[str, object]
    timings: dict[str, float] | None = None  # the families' and localisation's times (None: reused)
    # every report's reading confidence (None: not validated), kept with the findings so that a
    # reuse does not rebuild the reports' layout from the store to compute it again
    reading: list[dict[str, float | None] | None] | None = None
    # the infos of summarised rules (E02, I06 …), once per run for the reports they apply to
    summaries: list[InfoSummary] = field(default_factory=list)


def check_rules(
    reports: Sequence[ParsedReport],
    last_year: LastYear,
    registry: Sequence[Agency] | None,
    renames: Mapping[str, str] | None,
) -> RuleResult:
    """Every rule family over the batch, then error localisation."""
    t0 = time.perf_counter()
    previous = last_year.load()
    stages: dict[str, float] = {"last_year": time.perf_counter() - t0}  # (not validation time)
    try:
        reg = registered(reports)  # what the parse workers made for these reports
        findings, summaries = validate_summarised(
            reports, previous=previous, renames=renames, registry=registry, timings=stages, registrations=reg
        )
        reading = list_parts(reg, "reading", reading_confidences)  # (most made by the parse workers)
    finally:
        release_ahead(reports)  # what the parse workers made for these reports is used once
    e02 = sum(1 for f in findings if f.rule == "E02") + sum(len(s.reports) for s in summaries if s.rule == "E02")
    cross = CrossYear(e02, len(previous))
    return RuleResult(findings, cross, localisation_counts(findings), stages, reading, summaries)


def check_expectations(
    reports: Sequence[ParsedReport],
    gx_dir: Path,
    registry: Sequence[Agency] | None,
    registry_file: str | None,
    renames: Mapping[str, str] | None,
    expected_years: Sequence[int] | None,
) -> BatchResult:
    """The batch expectations (Great Expectations), their Data Docs written under ``gx_dir``."""
    from nianbao.rules.expectations import check_batch  # (great_expectations: only when they run)

    return check_batch(
        reports, gx_dir, registry=registry, registry_file=registry_file, renames=renames, expected_years=expected_years
    )


# ------------------------------------------------------------------ cache policies


class CachePolicy(Protocol):
    """Wraps a part of the step: the same function, its result perhaps reused."""

    @property
    def hits(self) -> list[str] | None:
        """The names of the parts whose result was reused (None: the policy keeps nothing)."""
        ...

    def around(self, name: str, part: Callable[P, T]) -> Callable[P, T]: ...


class NoCache:
    """Every part runs."""

    hits = None

    def around(self, name: str, part: Callable[P, T]) -> Callable[P, T]:
        return part


NO_CACHE = NoCache()


# ------------------------------------------------------------------ the step


def validate_reports(
    reports: list[ParsedReport],
    inputs: Sequence[str] = (),
    timings: Mapping[str, float] | None = None,
    *,
    previous: Sequence[ParsedReport] = (),
    last_year: LastYear | None = None,
    registry: Sequence[Agency] | None = None,
    registry_file: str | None = None,
    renames: Mapping[str, str] | None = None,
    gx_dir: Path | None = None,
    expected_years: Sequence[int] | None = None,
    cache: CachePolicy = NO_CACHE,
    counties: Sequence[str | None] | None = None,
) -> RunOutcome:
    """Validate the batch.  ``previous`` (or ``last_year``, to load them only when the rules run):
    last year's reports from elsewhere for the cross-year rules; ``registry``/``renames``: the
    expected agencies and old → new names; ``gx_dir``: run the batch expectations there — normally
    ``DIR/gx`` of the run's output folder ``DIR`` — and link their Data Docs as ``info.gx_docs``
    (relative to DIR); ``cache``: the policy around each part (:mod:`nianbao.run.memo`);
    ``counties``: each report's county (an inbox's folder), in batch order, for its file row."""
    times = dict(timings or {})
    ly = last_year if last_year is not None else (LastYear.of(previous) if previous else NO_LAST_YEAR)
    t0 = time.perf_counter()
    with gc_paused():
        rules = cache.around("validate", check_rules)(reports, ly, registry, renames)
    elapsed = time.perf_counter() - t0
    if rules.timings is None:
        times["validate"] = elapsed
    else:
        stages = dict(rules.timings)
        times["localise"] = stages.pop("localise", 0.0)
        times["validate"] = elapsed - times["localise"] - stages.pop("last_year", 0.0)
        times |= {f"validate_{k}": v for k, v in stages.items()}
    findings = rules.findings
    summaries = rules.summaries
    skipped: dict[str, str] = {}
    statistics: dict[str, Any] | None = None
    docs: str | None = None
    if gx_dir is not None:
        t1 = time.perf_counter()
        batch = cache.around("batch_expectations", check_expectations)(
            reports, gx_dir, registry, registry_file, renames, expected_years
        )
        if batch.findings:  # (else the rules' findings stay as they are: sorted by validate_summarised)
            findings, summaries = _summarised(findings + batch.findings, summaries)
        else:
            findings, summaries = _summarised(findings, summaries, already_sorted=True)
        times["batch_expectations"] = time.perf_counter() - t1
        skipped |= batch.skipped
        statistics = batch.statistics
        if batch.docs is not None:
            docs = os.path.relpath(batch.docs, gx_dir.parent).replace(os.sep, "/")
    else:
        from nianbao.rules.expectations import BATCH_RULES, NOT_RUN

        skipped |= dict.fromkeys(BATCH_RULES, NOT_RUN)
    info = RunInfo(
        skipped_checks=skipped or None,
        batch_checks=statistics,
        gx_docs=docs,
        cross_year=rules.cross_year,
        localisation=rules.localisation,
        memo_hits=tuple(cache.hits) if cache.hits is not None else None,
    )
    with gc_paused():
        files = summarise(reports, findings, rules.reading, summaries, counties)
        if cache.hits is not None and len(cache.hits) == (2 if gx_dir is not None else 1):
            # every part reused (an unchanged rerun: no rule made cyclic garbage): the file rows,
            # which live as long as the run, frozen before the collector is back on — else the
            # collections their allocations set off walk 100,000 rows twice (~0.14 s)
            gc.freeze()
    return RunOutcome(
        files=files,
        findings=findings,
        reports=reports,
        ruleset_version=ruleset_version(),
        started_at=now_iso(),
        timings=times,
        inputs=list(inputs),
        registry=list(registry) if registry is not None else None,
        info=info,
        summaries=summaries,
    )


def _summarised(
    findings: list[Finding], summaries: list[InfoSummary], already_sorted: bool = False
) -> tuple[list[Finding], list[InfoSummary]]:
    """The findings sorted, a summarised rule's (a batch check's, should one be) joining the summaries;
    ``already_sorted``: the findings are in :func:`sort_findings`'s order (the rules' own, as
    :func:`check_rules` gives them): not sorted again (a sort of sorted findings keeps their order;
    ~0.02 s of sort keys at 100,000 reports)."""
    acc = Summaries()
    if any(f.rule in acc.codes for f in findings):
        acc.extend(summaries)
        findings = [f for f in findings if not (f.rule in acc.codes and acc.add_finding(f))]
        summaries = acc.done()
    return (list(findings) if already_sorted else sort_findings(findings)), summaries


def summarise(
    reports: Sequence[ParsedReport],
    findings: Sequence[Finding],
    reading: Sequence[dict[str, float | None] | None] | None = None,
    summaries: Sequence[InfoSummary] = (),
    counties: Sequence[str | None] | None = None,
) -> list[FileOutcome]:
    """Every report's status and counts of findings (the summarised infos counted on each report
    they apply to), in batch order; ``reading``: the reports' reading confidence when known
    (:attr:`RuleResult.reading`); ``counties``: each report's county (None: none)."""
    # errors, warnings, notes of each report, a list each (a summarised info applies to every
    # report of a run: 100,000 counts each, no dict entry a report)
    size = len(reports)
    per: tuple[list[int], list[int], list[int]] = ([0] * size, [0] * size, [0] * size)
    col = {"error": 0, "warning": 1}
    for f in findings:
        ri = f.report
        if 0 <= ri < size:  # (a finding about no report of the batch counts on none)
            per[col.get(f.severity, 2)][ri] += 1
    for s in summaries:
        target = per[col.get(s.severity, 2)]
        for ri in s.reports:
            if 0 <= ri < size:
                target[ri] += 1
    files: list[FileOutcome] = []
    add = files.append
    first_by_hash: dict[str, str] = {}
    fmt_value: dict[Any, str | None] = {None: None}  # (an enum's value looked up, not its property)
    row = FileOutcome  # by position, ~2x faster than by keyword (tests/run/test_memo.py holds the order)
    in_county = repeat(None, size) if counties is None else counties
    for i, r, e, w, n, county in zip(range(size), reports, *per, in_county, strict=True):
        sha, fmt = r.sha256, r.fmt
        fv = fmt_value.get(fmt, "")
        if fv == "":
            fv = fmt_value[fmt] = fmt.value if fmt else None
        add(
            row(
                r.file,
                sha,
                r.status,
                r.reason,
                r.agency,
                r.year,
                fv,
                e,
                w,
                n,
                r.size,
                r.source_type,
                r.encoding,
                county,  # the inbox's (run.steps)
                first_by_hash.get(sha) if sha else None,  # duplicate_of
                r.reason_code,
                i,  # report
                reading[i] if reading is not None else reading_confidence(r) if r.status == "validated" else None,
            )
        )
        if sha:
            first_by_hash.setdefault(sha, r.file)
    return files
