"""The outcome of a run — one object; the CLI summary, JSON, HTML and Excel are all views of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from nianbao.catalogue import rendered, summarised_codes
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
class InfoSummary:
    """The info of a summarised rule (catalogue ``summarised = true``: E02 no last year's report, I06
    an accepted alias) with the same words on many reports, kept once for all of them: the shared
    parameters of its message and fix, its cells, expected and actual, and the reports it applies
    to (report indices of the run, ascending) with the line it points to on each.  Message and fix
    are rendered when read; :meth:`finding` is the one report's finding, as the rule would have
    made it (nothing is lost: the views, the desk and findings' comparisons expand it)."""

    rule: str
    params: dict[str, Any]
    cells: list[str]
    expected: Any
    actual: Any
    reports: list[int] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    # (message, fix) when the summary was made from findings already rendered (Summaries.add_finding)
    words: tuple[str, str] | None = None

    def texts(self) -> tuple[str, str, str]:
        """(severity, message, fix), rendered from the catalogue on first need (cached there)."""
        if self.words is not None:
            return rendered(self.rule, {})[0], self.words[0], self.words[1]
        return rendered(self.rule, self.params)

    @property
    def severity(self) -> str:
        return self.texts()[0]

    @property
    def message(self) -> str:
        return self.texts()[1]

    @property
    def fix(self) -> str:
        return self.texts()[2]

    def finding(self, k: int, file: str, agency: str | None, year: int | None) -> Finding:
        """The finding on the ``k``-th of :attr:`reports` (its file, agency and year given)."""
        severity, message, fix = self.texts()
        return Finding(
            file=file,
            agency=agency,
            year=year,
            rule=self.rule,
            severity=severity,
            cells=list(self.cells),
            expected=self.expected,
            actual=self.actual,
            message=message,
            line=self.lines[k],
            fix=fix,
            report=self.reports[k],
        )

    def to_json(self, subs: Sequence[int] | None, files: Sequence[str] = ()) -> dict[str, Any]:
        """run.json ``summaries``: the words once, then the reports it applies to and the line on
        each — ``submissions``: each report's position in ``submissions.json`` (0-based; a short
        number instead of the file's name, at 100,000 reports megabytes less to write and read
        every run); ``files`` (each report's file name) instead when ``subs`` is None (a report
        with no record there)."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
            "cells": self.cells,
            "expected": self.expected,
            "actual": self.actual,
            "count": len(self.reports),
            **({"files": list(files)} if subs is None else {"submissions": list(subs)}),
            "lines": self.lines,
        }

    def to_memo(self) -> dict[str, Any]:
        """The summary as the validation memo keeps it (:meth:`from_memo` reads it back)."""
        return {
            "rule": self.rule,
            "params": self.params,
            "cells": self.cells,
            "expected": self.expected,
            "actual": self.actual,
            "reports": self.reports,
            "lines": self.lines,
            "words": self.words,
        }

    @classmethod
    def from_memo(cls, d: dict[str, Any]) -> InfoSummary:
        words = d["words"]
        return cls(
            d["rule"],
            d["params"],
            d["cells"],
            d["expected"],
            d["actual"],
            d["reports"],
            d["lines"],
            (words[0], words[1]) if words is not None else None,
        )


def _words_key(
    code: str, params: dict[str, Any], cells: list[str], expected: Any, actual: Any, words: tuple[str, str] | None
) -> Any:
    """What makes two reports' infos the same summary: the rule and every word of it."""
    key = (
        code,
        tuple(params.items()),
        tuple(map(type, params.values())),  # 1, 1.0 and True render apart
        tuple(cells),
        expected,
        type(expected),
        actual,
        type(actual),
        words,
    )
    try:
        hash(key)
    except TypeError:  # an unhashable parameter: its words as the key
        return repr(key)
    return key


class Summaries:
    """Builds a run's :class:`InfoSummary` list: a family adds each report a summarised rule applies
    to (:meth:`add`, no Finding made), or any finding of such a rule (:meth:`add_finding`); the
    reports with the same words share one summary."""

    def __init__(self) -> None:
        self.codes = summarised_codes()
        self._by_words: dict[Any, InfoSummary] = {}

    def takes(self, code: str) -> bool:
        """Whether rule ``code`` is summarised (the catalogue says so)."""
        return code in self.codes

    def add(
        self,
        code: str,
        report: int,
        line: int | None,
        *,
        cells: list[str],
        expected: Any,
        actual: Any,
        params: dict[str, Any],
        words: tuple[str, str] | None = None,
    ) -> None:
        """Report ``report`` carries the info ``code`` with these words (``words``: its message and
        fix already rendered, else rendered from ``params`` when read)."""
        key = _words_key(code, params, cells, expected, actual, words)
        s = self._by_words.get(key)
        if s is None:
            s = self._by_words[key] = InfoSummary(code, dict(params), list(cells), expected, actual, words=words)
        s.reports.append(report)
        s.lines.append(line)

    def add_many(
        self,
        code: str,
        reports: Sequence[int],
        lines: Sequence[int | None],
        *,
        cells: list[str],
        expected: Any,
        actual: Any,
        params: dict[str, Any],
    ) -> None:
        """:meth:`add` for many reports with the same words at once (their key made once)."""
        key = _words_key(code, params, cells, expected, actual, None)
        s = self._by_words.get(key)
        if s is None:
            s = self._by_words[key] = InfoSummary(code, dict(params), list(cells), expected, actual)
        s.reports += reports
        s.lines += lines

    def add_finding(self, f: Finding) -> bool:
        """A finding of a summarised rule made as a Finding (by a family that does not summarise);
        False (not taken) for one that says more than its words (a quote, suspects, a location)."""
        if f.rule not in self.codes or f.quote or f.suspects is not None or f.where or f.localisation:
            return False
        self.add(
            f.rule,
            f.report,
            f.line,
            cells=f.cells,
            expected=f.expected,
            actual=f.actual,
            params={},
            words=(f.message, f.fix),
        )
        return True

    def extend(self, items: Iterable[InfoSummary]) -> None:
        """Summaries made elsewhere (another family's, a memo's), merged with those of the same words."""
        for s in items:
            key = _words_key(s.rule, s.params, s.cells, s.expected, s.actual, s.words)
            mine = self._by_words.get(key)
            if mine is None:
                self._by_words[key] = InfoSummary(
                    s.rule, s.params, s.cells, s.expected, s.actual, list(s.reports), list(s.lines), s.words
                )
            else:
                mine.reports += s.reports
                mine.lines += s.lines

    def done(self) -> list[InfoSummary]:
        """The summaries, each one's reports ascending, in order of rule and first report."""
        out = list(self._by_words.values())
        for s in out:
            if any(a > b for a, b in zip(s.reports, s.reports[1:], strict=False)):
                order = sorted(range(len(s.reports)), key=s.reports.__getitem__)
                s.reports = [s.reports[i] for i in order]
                s.lines = [s.lines[i] for i in order]
        out.sort(key=lambda s: (s.rule, s.reports[0] if s.reports else -1, s.message))
        return out


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
    # the infos of summarised rules (E02, I06 …), once per run with the reports they apply to;
    # counted in each FileOutcome's ``infos``, not in ``findings``
    summaries: list[InfoSummary] = field(default_factory=list)
    _summary_index: dict[int, list[tuple[InfoSummary, int]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # what the contract files are a function of, when the run knows it (nianbao.run.memo.contract_key):
    # the contract writer links the previous run's files made under the same key, not serialised again
    contract_key: str | None = field(default=None, repr=False, compare=False)

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

    def summarised_of(self, report: int) -> list[Finding]:
        """The summarised infos that apply to ``report``, as that report's findings (in the order
        of the summaries)."""
        if self._summary_index is None:
            index: dict[int, list[tuple[InfoSummary, int]]] = {}
            for s in self.summaries:
                for k, r in enumerate(s.reports):
                    index.setdefault(r, []).append((s, k))
            self._summary_index = index
        hits = self._summary_index.get(report)
        if not hits:
            return []
        file, agency, year = self._named(report)
        return [s.finding(k, file, agency, year) for s, k in hits]

    def file_of_report(self, report: int) -> FileOutcome | None:
        if 0 <= report < len(self.files) and self.files[report].report == report:
            return self.files[report]
        return next((f for f in self.files if f.report == report), None)

    def _named(self, report: int) -> tuple[str, str | None, int | None]:
        """(file, agency, year) of ``report``: its FileOutcome's, else the parsed report's."""
        fo = self.file_of_report(report)
        if fo is not None:
            return fo.file, fo.agency, fo.year
        rep = self.reports[report]
        return rep.file, rep.agency, rep.year

    def findings_of(self, report: int) -> list[Finding]:
        """Every finding of ``report``, the summarised infos included (sorted as the run sorts)."""
        return sort_findings([f for f in self.findings if f.report == report] + self.summarised_of(report))

    def rule_counts(self) -> dict[str, int]:
        """How many findings of each rule, a summary counting once per report it applies to."""
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.rule] = out.get(f.rule, 0) + 1
        for s in self.summaries:
            out[s.rule] = out.get(s.rule, 0) + len(s.reports)
        return out

    @property
    def n_infos(self) -> int:
        """Infos of the run, each summarised info counted once per report it applies to."""
        return sum(1 for x in self.findings if x.severity == "info") + sum(len(s.reports) for s in self.summaries)

    def all_findings(self) -> list[Finding]:
        """Every finding, the summaries expanded into one finding per report (sorted as the run
        sorts): what the run found before summarising, for comparisons and small runs."""
        out = list(self.findings)
        for s in self.summaries:
            for k, r in enumerate(s.reports):
                out.append(s.finding(k, *self._named(r)))
        return sort_findings(out)

    def summaries_json(self) -> list[dict[str, Any]]:
        """run.json ``summaries``: each summary's words once, with the files it applies to."""
        out = []
        n = len(self.files)
        aligned = all(f.report == i for i, f in enumerate(self.files)) if self.summaries else False
        at: dict[int, int] | None = None  # report -> its position in files (when not aligned)
        for s in self.summaries:
            subs: list[int]
            if aligned and all(0 <= r < n for r in (min(s.reports, default=0), max(s.reports, default=0))):
                subs = list(s.reports)  # every report is its own record's position
            else:
                if at is None:
                    at = {f.report: i for i, f in enumerate(self.files) if f.report >= 0}
                subs = [i for r in s.reports if (i := at.get(r, -1)) >= 0]
            if len(subs) < len(s.reports):  # a report with no record in submissions.json: its file
                files = [self._named(r)[0] for r in s.reports]
                out.append(s.to_json(None, files))
            else:
                out.append(s.to_json(subs))
        return out


_SEV = {"error": 0, "warning": 1, "info": 2}


def sort_key(f: Finding) -> tuple[int, int, str, list[str]]:
    """The order of a run's findings: by report, severity, rule, cells."""
    return (f.report, _SEV.get(f.severity, 3), f.rule, f.cells)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """By report, severity, rule, cells (:func:`sort_key`)."""
    return sorted(findings, key=sort_key)


def expand_summaries(summaries: Any, submissions: Any) -> list[dict[str, Any]]:
    """The records of ``findings.json`` that run.json ``summaries`` stand for (one per file a
    summary names, as ``Finding.to_json`` writes them), agency and year from ``submissions.json``;
    for a reader of the JSON contract (the desk, ``nianbao ack``, the findings comparison).
    Anything malformed is skipped."""
    if not isinstance(summaries, list):
        return []
    by_file: dict[str, dict[str, Any]] = {}
    subs: list[dict[str, Any]] = []
    if isinstance(submissions, list):
        subs = [sub if isinstance(sub, dict) else {} for sub in submissions]
        for sub in subs:
            if isinstance(sub.get("file"), str):
                by_file.setdefault(sub["file"], sub)
    out: list[dict[str, Any]] = []
    for s in summaries:
        if not isinstance(s, dict):
            continue
        at = s.get("submissions")  # positions in submissions.json (else "files": file names)
        if isinstance(at, list):
            if not all(isinstance(i, int) and 0 <= i < len(subs) for i in at):
                continue
            named = [(subs[i].get("file"), subs[i]) for i in at]
        elif isinstance(s.get("files"), list):
            named = [(file, by_file.get(file, {})) for file in s["files"]]
        else:
            continue
        lines = s.get("lines")
        if not isinstance(lines, list) or len(lines) != len(named):
            lines = [None] * len(named)
        for (file, sub), line in zip(named, lines, strict=True):
            out.append(
                {
                    "file": file,
                    "agency": sub.get("agency"),
                    "year": sub.get("year"),
                    "rule": s.get("rule"),
                    "severity": s.get("severity"),
                    "cells": s.get("cells"),
                    "expected": s.get("expected"),
                    "actual": s.get("actual"),
                    "message": s.get("message"),
                    "line": line,
                    "fix": s.get("fix"),
                }
            )
    return out
