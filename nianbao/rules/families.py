"""Every rule family, in the order it runs, and the code → family map built from them.

Adding a family: one module under ``nianbao/rules/`` that declares ``FAMILY``
(:class:`nianbao.rules.family.Family`), one line in :data:`FAMILIES`, and fixtures for each of its
codes (``tests/rule_registry.py``).  ``tests/rules/test_rule_families.py`` checks that every
active catalogue code is implemented by exactly one family and has its fixtures.

The order is the order of the findings before they are sorted (and so of equal sort keys): the
per-report rules first, then the rules that read last year's reports, then the prose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from nianbao.catalogue import catalogue
from nianbao.domain.model import ParsedReport
from nianbao.outcome import Finding
from nianbao.read.grid import reading_confidences
from nianbao.rules import cells, copies, crossyear, expectations, layout, meta, plausibility, sums
from nianbao.rules.ahead import ChunkAhead
from nianbao.rules.family import READ, VALIDATE, Batch, Family, fixed_codes
from nianbao.rules.frames import suspect_layout_frame
from nianbao.rules.prose import prose_findings
from nianbao.rules.prose.checks import fee_reports
from nianbao.rules.prose.chunks import analyse

log = logging.getLogger(__name__)


def _prose_findings(batch: Batch) -> list[Finding]:
    # (the arrays are asked for once the texts' own rules have run)
    return prose_findings(batch.reports, lambda: batch.arrays, registrations=batch.ahead)


# The text rules H and J (nianbao.rules.prose: the claims the prose makes against the tables).
PROSE = Family(
    "prose",
    fixed_codes(*(f"H{i:02d}" for i in range(1, 21)), "J01", "J02"),
    _prose_findings,
    reads=frozenset({"arrays", "ahead"}),
    timing="prose",
    beside=True,  # mostly polars (the texts' analyses were made by the parse workers): the second core
)

# A file that cannot be read at all (U01–U08): raised by the readers (nianbao.io) and kept on the
# report (ParsedReport.reason_code); such a report reaches no other family.
UNREADABLE = Family(
    "unreadable",
    fixed_codes(*(f"U{i:02d}" for i in range(1, 9))),
    None,
    stage=READ,
    runs_in="nianbao.io (the file readers raise Unreadable)",
)

FAMILIES: tuple[Family, ...] = (
    UNREADABLE,
    cells.FAMILY,
    sums.FAMILY,
    layout.FAMILY,
    meta.FAMILY,
    crossyear.FAMILY,
    plausibility.FAMILY,
    copies.FAMILY,
    PROSE,
    expectations.FAMILY,
)


def families(stage: str = VALIDATE) -> tuple[Family, ...]:
    """The families that run at ``stage``, in order."""
    return tuple(f for f in FAMILIES if f.stage == stage)


def family_of(code: str) -> Family:
    """The family that implements rule ``code`` (KeyError: none does)."""
    for f in FAMILIES:
        if code in f.codes():
            return f
    raise KeyError(f"no rule family implements {code}")


def claims() -> dict[str, list[str]]:
    """Every code any family claims → the names of the families claiming it."""
    out: dict[str, list[str]] = {}
    for f in FAMILIES:
        for code in sorted(f.codes()):
            out.setdefault(code, []).append(f.name)
    return out


def family_problems() -> list[str]:
    """What is wrong between the catalogue in use and the families: an active code no family
    implements, a code two families claim, a code no active catalogue rule has.  Empty when sound."""
    cat = catalogue()
    active = {code for code, r in cat.items() if not r.retired}
    by_code = claims()
    out = [f"{code}: no rule family implements it" for code in sorted(active - by_code.keys())]
    out += [f"{code}: claimed by {', '.join(names)}" for code, names in sorted(by_code.items()) if len(names) > 1]
    out += [
        f"{code}: claimed by {', '.join(names)}, but {'retired' if code in cat else 'not in the catalogue'}"
        for code, names in sorted(by_code.items())
        if code not in active
    ]
    return out


# What a parse worker computes of the chunk it has read, for the validation (nianbao.rules.ahead):
# part name → the function of a chunk's reports that makes it.  Each is a per-report part of the
# validation that reads nothing but the reports, and each has the same value computed in the
# run's process (its consumers take it from the chunks, the reports without one computed there).
# (Not the parts read from the cell arrays — the cell suspects, the tables' side of the text rules'
# claims: a chunk's arrays cost the worker as much as the parts save the run's process, where the
# arrays are built anyway, their copies without the GIL.)
AHEAD: dict[str, Callable[[Sequence[ParsedReport]], Any]] = {
    "prose": analyse,  # the text rules' analysis of the texts (nianbao.rules.prose.chunks)
    "fee": fee_reports,  # the reports that must state the fee (J01, J02)
    "layout": suspect_layout_frame,  # the layout facts that may break a layout rule
    "reading": reading_confidences,  # each report's reading confidence (the run's file rows)
}


def analyse_chunk(reports: Sequence[ParsedReport]) -> ChunkAhead:
    """Every part of :data:`AHEAD` of a chunk of reports; a part whose computation fails is left
    out (logged): the run's process makes it for these reports itself."""
    out = ChunkAhead(len(reports))
    for name, make in AHEAD.items():
        try:
            out.parts[name] = make(reports)
        except Exception:
            log.exception("the part %s of a parse chunk failed", name)
    return out
