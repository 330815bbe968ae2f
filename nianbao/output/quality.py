"""The auditor's quality report: what the HTML pages and the Excel workbook share.

:func:`prepare` computes, once per run, the review against the previous run and the
acknowledgements, the page name of every submission, and which cells each finding flags.
:func:`write_quality_report` writes ``index.html``, ``rules.html``, ``reports/*.html``,
``findings.xlsx`` and ``changes.json``; :func:`quality_view` is the default view registered in
:data:`nianbao.output.writer.VIEWS` (it reads ``outcome.extra["previous_run"]`` and
``outcome.extra["acks_file"]`` when set).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from nianbao.catalogue import linear_rules
from nianbao.outcome import FileOutcome, Finding, RunOutcome, Suspect
from nianbao.output.history import Review, review
from nianbao.output.names import page_name
from nianbao.registry import Agency, normalise_agency
from nianbao.spec import Fmt

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


def cause_zh(cause: str) -> str:
    """The Chinese wording of an error-localisation cause code (``digit_typo`` …)."""
    try:
        from nianbao.localise import CAUSES_ZH
    except ImportError:  # localisation not installed: show the code as it is
        return cause
    return str(CAUSES_ZH.get(cause, cause))


def alternative(s: Suspect) -> int:
    """Which of several equally small explanations a suspect belongs to (0 when there is one)."""
    return int(getattr(s, "alternative", 0) or 0)


SEV_RANK = {"error": 0, "warning": 1, "info": 2}
REPORTS_DIR = "reports"


@dataclass(slots=True)
class Flag:
    """What the findings of a report say about one cell (or one structural element)."""

    severity: str
    findings: list[int] = field(default_factory=list)  # indices in outcome.findings
    rules: list[str] = field(default_factory=list)
    primary: list[int] = field(default_factory=list)  # findings for which this cell is the one to look at
    suspect: Suspect | None = None

    def add(self, k: int, f: Finding, primary: bool) -> None:
        if SEV_RANK.get(f.severity, 3) < SEV_RANK.get(self.severity, 3):
            self.severity = f.severity
        self.findings.append(k)
        if f.rule not in self.rules:
            self.rules.append(f.rule)
        if primary:
            self.primary.append(k)


@cache
def _sum_rule_codes() -> frozenset[str]:
    return frozenset(lr.code for fmt in Fmt for lr in linear_rules(fmt))


def flags_of(findings: list[tuple[int, Finding]]) -> dict[str, Flag]:
    """cell id (or ``*`` element id) -> its flag, for the findings of one report.

    Every cell a finding involves is flagged; for a sum rule the printed side (its first cell) and
    the suspects found by error localisation are the *primary* cells (they carry the rule badge)."""
    out: dict[str, Flag] = {}
    sums = _sum_rule_codes()
    for k, f in findings:
        suspects: dict[str, Suspect] = {}
        for s in f.suspects or []:
            if s.cell not in suspects or alternative(s) < alternative(suspects[s.cell]):
                suspects[s.cell] = s
        for i, cid in enumerate(f.cells):
            fl = out.get(cid)
            if fl is None:
                fl = out[cid] = Flag(f.severity)
            primary = f.rule not in sums or i == 0 or cid in suspects
            fl.add(k, f, primary)
            if cid in suspects and (fl.suspect is None or alternative(suspects[cid]) < alternative(fl.suspect)):
                fl.suspect = suspects[cid]
        for cid, s in suspects.items():  # a suspect outside the finding's cells is still shown
            if cid not in f.cells:
                fl = out.get(cid) or out.setdefault(cid, Flag(f.severity))
                fl.add(k, f, True)
                fl.suspect = fl.suspect or s
    return out


@dataclass
class Quality:
    outcome: RunOutcome
    review: Review
    pages: list[str]  # per file: page name under reports/
    by_report: dict[int, list[tuple[int, Finding]]]  # report index -> (finding index, finding)
    file_index: dict[int, int]  # report index -> file index

    def file_findings(self, fo: FileOutcome) -> list[tuple[int, Finding]]:
        return self.by_report.get(fo.report, []) if fo.report >= 0 else []

    def page_of_finding(self, f: Finding) -> str | None:
        i = self.file_index.get(f.report)
        return self.pages[i] if i is not None else None


def registry_status(outcome: RunOutcome) -> list[dict[str, Any]] | None:
    """Per report year of the run: how many registered agencies submitted, and who is missing.

    ``None`` when no registry is known.  When the run already worked out the missing agencies
    (``outcome.extra["missing"]``: rows of county, year, agency — the nightly flow does, with the
    rename table applied), that list is used; otherwise agencies are matched by normalised name."""
    if outcome.registry is None:
        return None
    expected = outcome.registry
    given = outcome.extra.get("missing")
    if isinstance(given, list) and all(isinstance(r, dict) and isinstance(r.get("agency"), str) for r in given):
        by_agency = {(a.county, a.agency): a for a in expected}
        per: dict[int | None, list[Agency]] = defaultdict(list)
        for r in given:
            year = r.get("year") if isinstance(r.get("year"), int) else None
            county = str(r.get("county") or "")
            per[year].append(by_agency.get((county, r["agency"])) or Agency(county, r["agency"], ""))
        years: list[int | None] = []
        years += sorted({f.year for f in outcome.files if f.year is not None} | {y for y in per if y is not None})
        return [
            {"year": y, "submitted": len(expected) - len(per.get(y, [])), "missing": per.get(y, [])}
            for y in years or [None]
        ]
    keys = {a.key for a in expected}
    by_year: dict[int | None, set[str]] = defaultdict(set)
    for f in outcome.files:
        if f.agency:
            by_year[f.year].add(normalise_agency(f.agency))
    out = []
    run_years: list[int | None] = []
    run_years += sorted(y for y in by_year if y is not None)
    for y in run_years or [None]:
        got = by_year.get(y, set()) if y is not None else set().union(*by_year.values())
        out.append({"year": y, "submitted": len(keys & got), "missing": [a for a in expected if a.key not in got]})
    return out


def prepare(outcome: RunOutcome, out: Path, previous: Path | None = None, acks: Path | None = None) -> Quality:
    rv = review(outcome, previous, acks, out=out)
    pages: list[str] = []
    seen: set[str] = set()
    for f in outcome.files:
        name = page_name(f.file, f.agency, f.year)
        k = 2
        while name in seen:  # the same file listed twice: keep pages distinct
            name = page_name(f"{f.file}#{k}", f.agency, f.year)
            k += 1
        seen.add(name)
        pages.append(name)
    by_report: dict[int, list[tuple[int, Finding]]] = defaultdict(list)
    for k, fnd in enumerate(outcome.findings):
        by_report[fnd.report].append((k, fnd))
    file_index = {fo.report: i for i, fo in enumerate(outcome.files) if fo.report >= 0}
    return Quality(outcome, rv, pages, dict(by_report), file_index)


def write_quality_report(
    outcome: RunOutcome, out: Path, previous: Path | None = None, acks: Path | None = None
) -> Quality:
    """Write the HTML report, the Excel workbook and ``changes.json`` into ``out``."""
    from nianbao.output.atomic import inside, write_json
    from nianbao.output.excel import write_excel
    from nianbao.output.history import changes_json
    from nianbao.output.html import write_html

    q = prepare(outcome, out, previous, acks)
    write_json(inside(out, "changes.json"), changes_json(outcome, q.review))
    write_excel(outcome, out, quality=q)
    write_html(outcome, out, quality=q)  # index.html last: it only links to what exists
    return q


def quality_view(outcome: RunOutcome, out: Path) -> None:
    prev = outcome.extra.get("previous_run")
    acks = outcome.extra.get("acks_file")
    write_quality_report(outcome, out, Path(prev) if prev else None, Path(acks) if acks else None)
