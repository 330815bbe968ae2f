"""Every rule family, in the order it runs, and the code → family map built from them.

Adding a family: one module under ``nianbao/rules/`` that declares ``FAMILY``
(:class:`nianbao.rules.family.Family`), one line in :data:`FAMILIES`, and fixtures for each of its
codes (``tests/rule_registry.py``).  ``tests/rules/test_rule_families.py`` checks that every
active catalogue code is implemented by exactly one family and has its fixtures.

The order is the order of the findings before they are sorted (and so of equal sort keys): the
per-report rules first, then the rules that read last year's reports, then the prose.
"""

from __future__ import annotations

from nianbao.catalogue import catalogue
from nianbao.outcome import Finding
from nianbao.rules import cells, copies, crossyear, expectations, layout, meta, plausibility, sums
from nianbao.rules.family import READ, VALIDATE, Batch, Family, fixed_codes
from nianbao.rules.prose import prose_findings


def _prose_findings(batch: Batch) -> list[Finding]:
    return prose_findings(batch.reports, lambda: batch.arrays)  # (the arrays once the texts are read)


# The text rules H and J (nianbao.rules.prose: the claims the prose makes against the tables).
PROSE = Family(
    "prose",
    fixed_codes(*(f"H{i:02d}" for i in range(1, 21)), "J01", "J02"),
    _prose_findings,
    reads=frozenset({"arrays"}),
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
