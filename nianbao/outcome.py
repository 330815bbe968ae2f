"""The outcome of a run — one object; the CLI summary, JSON, HTML and Excel are all views of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import Agency


@dataclass(slots=True)
class Suspect:
    """A cell error localisation suspects (see nianbao.localise): printed value, likely right value, cause."""

    cell: str
    reported: float | None
    suggested: float
    cause: str  # digit_typo | transposed | sign | misplaced | blank_total | blank | non_numeric | wrong_value
    # when several equally small sets of cells explain the errors: which set (0, 1, …) this one belongs to
    alternative: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "cell": self.cell,
            "reported": self.reported,
            "suggested": self.suggested,
            "cause": self.cause,
            "alternative": self.alternative,
        }


@dataclass(slots=True)
class Finding:
    file: str
    agency: str | None
    year: int | None
    rule: str
    severity: str
    cells: list[str]
    expected: Any
    actual: Any
    message: str
    line: int | None = None
    fix: str = ""
    quote: str | None = None  # the sentence a text rule is about
    suspects: list[Suspect] | None = None  # filled by error localisation for sum rules
    where: str | None = None  # source location of the first cell for non-text sources ("表格3 第4行第5格")
    report: int = -1  # index of the report in the run (not serialised)
    # sum rules: the status of the report's error localisation (nianbao.localise.STATUSES)
    localisation: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "agency": self.agency,
            "year": self.year,
            "rule": self.rule,
            "severity": self.severity,
            "cells": self.cells,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
            "line": self.line,
            "fix": self.fix,
        }
        if self.quote is not None:
            out["quote"] = self.quote
        if self.suspects is not None:
            out["suspects"] = [s.to_json() for s in self.suspects]
        if self.localisation is not None:
            out["localisation"] = self.localisation
        if self.where is not None:
            out["where"] = self.where
        return out


def plain_number(v: float | None) -> float | int | None:
    """A finding's value: a whole number as an int (``12``, not ``12.0``), others unchanged."""
    if v is None:
        return None
    return int(v) if v == int(v) and abs(v) < 1e15 else v


def finding_for(
    code: str,
    rep: ParsedReport,
    report: int,
    *,
    cells: list[str],
    expected: Any,
    actual: Any,
    params: dict[str, Any],
    line: int | None = None,
    **extra: Any,
) -> Finding:
    """A finding of catalogue rule ``code`` on a report: severity, message and fix from the catalogue."""
    return finding_on(
        code,
        rep.file,
        rep.agency,
        rep.year,
        report,
        cells=cells,
        expected=expected,
        actual=actual,
        params=params,
        line=line,
        **extra,
    )


def finding_on(
    code: str,
    file: str,
    agency: str | None,
    year: int | None,
    report: int,
    *,
    cells: list[str],
    expected: Any,
    actual: Any,
    params: dict[str, Any],
    line: int | None = None,
    **extra: Any,
) -> Finding:
    """:func:`finding_for` by file name (a finding about a file that is not a parsed report, such as
    the registry): the one place a Finding gets its severity, message and fix from the catalogue."""
    from nianbao.catalogue import rendered

    severity, message, fix = rendered(code, params)
    return Finding(
        file=file,
        agency=agency,
        year=year,
        rule=code,
        severity=severity,
        cells=cells,
        expected=expected,
        actual=actual,
        message=message,
        line=line,
        fix=fix,
        report=report,
        **extra,
    )


@dataclass(slots=True)
class FileOutcome:
    file: str
    sha256: str
    status: str  # validated | unreadable
    reason: str | None
    agency: str | None
    year: int | None
    format: str | None
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    size: int = 0
    source_type: str | None = None
    encoding: str | None = None
    county: str | None = None
    # the first file with the same content, when this file is a byte-identical duplicate of it
    duplicate_of: str | None = None
    reason_code: str | None = None  # the catalogue's U-rule when unreadable (U01 …), see docs/rules.md
    report: int = -1
    # table id -> share of its cells read for certain (None: table not printed); {} when unreadable
    reading: dict[str, float | None] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "status": self.status,
            "reason": self.reason,
            "agency": self.agency,
            "year": self.year,
            "format": self.format,
            "errors": self.errors,
            "warnings": self.warnings,
            "infos": self.infos,
            "size": self.size,
            "source_type": self.source_type,
            "encoding": self.encoding,
            "county": self.county,
            "duplicate_of": self.duplicate_of,
            "reason_code": self.reason_code,
            "reading": self.reading,
        }


# The state of a report: one definition and one wording for every view (the CLI summary and its
# county table, the Prefect artifact, the overview's cards and county rows, the county pages, the
# workbook).  通过 = read, with no error and no warning (notes allowed); 仅有警告 = warnings but no
# error; 有错误 = at least one error; 无法读取 = the file could not be read as a report.
STATE_ZH = {"ok": "通过", "warning": "仅有警告", "error": "有错误", "unreadable": "无法读取"}
PASS_MEANS = "“通过”指没有错误、也没有警告，可以有提示"


def report_state(fo: FileOutcome) -> str:
    """``ok`` | ``warning`` | ``error`` | ``unreadable`` (see :data:`STATE_ZH`)."""
    if fo.status != "validated":
        return "unreadable"
    if fo.errors:
        return "error"
    return "warning" if fo.warnings else "ok"


@dataclass(frozen=True, slots=True)
class CrossYear:
    """run.json ``cross_year``: the cross-year rules' reach."""

    reports_without_last_year: int  # reports with no last-year report to compare with (E02)
    previous_reports: int  # last year's reports read from elsewhere (the store, ``--last-year``)


@dataclass(frozen=True, slots=True)
class Unfinished:
    """run.json ``incomplete``: where and why a run stopped (nianbao.run.interrupt)."""

    stage: str  # nianbao.run.interrupt.STAGES_ZH
    cause: str  # SIGINT | SIGTERM | error
    notice: str  # 中文, shown first on the overview page


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What a run knows beside its files and findings, each fact declared with the step that
    writes it and serialised into ``run.json`` under its own name (None: not known, not written).

    Written by the steps of :mod:`nianbao.run` (``dataclasses.replace`` makes the next one), read
    by the views (:mod:`nianbao.report`), the CLI summary and the review desk (through run.json).
    """

    # the validation step (nianbao.run.validation)
    skipped_checks: dict[str, str] | None = None  # rule code -> why it did not run (only when some did not)
    batch_checks: dict[str, Any] | None = None  # the batch expectations' statistics
    gx_docs: str | None = None  # their Data Docs index, relative to the run folder
    cross_year: CrossYear | None = None
    localisation: dict[str, object] | None = None  # nianbao.localise.localisation_counts
    memo_hits: tuple[str, ...] | None = None  # the memoised steps reused (None: no memo in use)
    renames_file: str | None = None  # nianbao validate --renames (or the one beside --registry)
    discovered: int | None = None  # files found (both commands)
    # the inbox run (nianbao.run.steps)
    scope: str | None = None  # the part re-read, in words (全部 …)
    incremental: dict[str, int] | None = None  # reused / kept / parsed
    outside_layout: tuple[str, ...] | None = None  # files outside <year>/<county>/
    registry_file: str | None = None
    counties: tuple[dict[str, Any], ...] | None = None  # rows of nianbao.run.steps.COUNTY_COLUMNS
    missing: tuple[dict[str, Any], ...] | None = None  # (county, year, agency) of every agency missing
    # what the quality report compares with (the write step; nianbao validate --previous/--acks)
    previous_run: str | None = None
    acks_file: str | None = None
    # a run that did not finish (nianbao.run.interrupt)
    complete: bool = True
    incomplete: Unfinished | None = None
    exit_code: int | None = None  # the command's (130, 143, 2), when it is not the findings'

    def to_json(self) -> dict[str, Any]:
        """The facts as run.json holds them (the known ones; tuples as lists, records as objects)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, (CrossYear, Unfinished)):
                v = {g.name: getattr(v, g.name) for g in fields(v)}
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out


@dataclass(frozen=True, slots=True)
class Views:
    """How an outcome is written to a folder — the report layer's writers, handed to the run by
    the command line and the flows (the run layer sits below the views)."""

    contract: Callable[[RunOutcome, Path], None]  # submissions.json, findings.json, run.json
    write_all: Callable[[RunOutcome, Path], None]  # every view, the contract files included


@dataclass
class RunOutcome:
    files: list[FileOutcome]
    findings: list[Finding]
    reports: list[ParsedReport]
    ruleset_version: str
    started_at: str
    timings: dict[str, float] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    # the agencies expected to submit (when a registry is known), for "missing" views
    registry: list[Agency] | None = None
    # further facts of the run, declared (run.json's other keys)
    info: RunInfo = field(default_factory=RunInfo)

    @property
    def n_files(self) -> int:
        return len(self.files)

    @property
    def n_unreadable(self) -> int:
        return sum(1 for f in self.files if f.status != "validated")

    @property
    def n_errors(self) -> int:
        return sum(1 for x in self.findings if x.severity == "error")

    @property
    def n_warnings(self) -> int:
        return sum(1 for x in self.findings if x.severity == "warning")

    @property
    def exit_code(self) -> int:
        """0 when every file validated with no error-level finding, else 1."""
        return 1 if self.n_unreadable or self.n_errors else 0

    def state_counts(self) -> dict[str, int]:
        """How many reports are in each state of :data:`STATE_ZH` (in that order)."""
        counts = dict.fromkeys(STATE_ZH, 0)
        for f in self.files:
            counts[report_state(f)] += 1
        return counts

    def worst(self, n: int = 5) -> list[FileOutcome]:
        bad = [f for f in self.files if f.status != "validated" or f.errors or f.warnings]
        bad.sort(key=lambda f: (f.status == "validated", -f.errors, -f.warnings, f.file))
        return bad[:n]

    def findings_of(self, report: int) -> list[Finding]:
        return [f for f in self.findings if f.report == report]
