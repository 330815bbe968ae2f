"""Localisation after validation: the reports with a sum-rule finding are localised, and every such
finding gets its report's suspects, status and likely fix; run.json's counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nianbao.catalogue import sum_rule_codes
from nianbao.domain.model import ParsedReport
from nianbao.domain.spec import Fmt
from nianbao.localise.budget import WORK_PER_REPORT, batch_budget, budget_per_report
from nianbao.localise.descriptions import describe
from nianbao.localise.localisation import STATUSES, Localisation
from nianbao.localise.locate import localise
from nianbao.localise.problems import problem
from nianbao.outcome import Finding, Suspect


def attach(findings: Sequence[Finding], reports: Sequence[ParsedReport], locs: Mapping[int, Localisation]) -> None:
    """Give every sum-rule finding its report's suspects ([] when there are none), the status of
    its localisation and the likely fix (or why there is none)."""
    sums = sum_rule_codes()
    # a report's suspects, status and likely fix, made once for all its findings (each finding its
    # own list of the same Suspects: they are read, never changed)
    made: dict[int, tuple[list[Suspect], str, str]] = {}
    for f in findings:
        if f.rule not in sums:
            continue
        loc = locs.get(f.report)
        if loc is None:
            f.suspects, f.localisation = [], "no_solution"
            continue
        if f.rule == "E01" and not loc.cross_year:
            # this year's figures alone cannot be reconciled with last year's
            f.suspects, f.localisation = [], "no_solution"
            continue
        got = made.get(f.report)
        if got is None:
            fmt = reports[f.report].fmt or Fmt.F2021
            got = made[f.report] = (loc.suspects(), loc.outcome, describe(loc, fmt))
        suspects, f.localisation, text = got
        f.suspects = list(suspects)
        if text and not f.fix.startswith(text):
            f.fix = text + f.fix


def localise_findings(
    findings: Sequence[Finding],
    reports: Sequence[ParsedReport],
    prev_values: Mapping[int, Mapping[str, float | None]] | None = None,
    *,
    report_work: int = WORK_PER_REPORT,
    batch_work: int | None = None,
) -> dict[int, Localisation]:
    """One pass after validation: localise every report with a sum-rule finding, attach the
    suspects.  ``batch_work``: the batch's budget (default :func:`batch_budget` of the batch's size)."""
    sums = sum_rule_codes()
    broken = sorted({f.report for f in findings if f.rule in sums and f.report >= 0})
    prev_values = prev_values or {}
    probs = [p for ri in broken if (p := problem(ri, reports[ri], prev_values.get(ri))) is not None]
    if batch_work is None:
        batch_work = batch_budget(len(reports))
    locs = localise(probs, report_work=report_work, batch_work=batch_work)
    attach(findings, reports, locs)
    return locs


def localisation_counts(findings: Sequence[Finding]) -> dict[str, object]:
    """run.json ``localisation``: how many reports got each status, and the budget in force."""
    by_report: dict[int, str] = {}
    sums = sum_rule_codes()
    for f in findings:
        if f.rule in sums and f.localisation is not None and f.rule != "E01":
            by_report.setdefault(f.report, f.localisation)
    for f in findings:  # a report broken by rule E alone
        if f.rule == "E01" and f.localisation is not None:
            by_report.setdefault(f.report, f.localisation)
    counts = dict.fromkeys(STATUSES, 0)
    for st in by_report.values():
        counts[st] = counts.get(st, 0) + 1
    return {
        "reports": len(by_report),
        **counts,
        "work_per_report": WORK_PER_REPORT,
        "budget_per_report": budget_per_report(),
    }
