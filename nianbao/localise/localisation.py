"""What localisation says of one report: its smallest change sets and its status."""

from __future__ import annotations

from dataclasses import dataclass, field

from nianbao.outcome import Suspect

# the status of a report's localisation, as findings.json ``localisation`` says it
STATUSES = (
    "located",  # one smallest set of cells
    "ambiguous",  # several equally small sets, all of them given
    "ambiguous_partial",  # more equally small sets than given (the first MAX_TIES)
    "too_many_inconsistencies",  # no set of at most MAX_SIZE cells can exist (screen or search)
    "search_limit",  # the report's work bound was reached before an answer
    "not_localised",  # the run's localisation budget was used up before this report
    "no_solution",  # no change of tables 三/四 makes every rule hold (e.g. against last year's report)
)


@dataclass
class Localisation:
    """The minimal change sets of one report (all of them when tied)."""

    report: int
    size: int  # cells per set; 0 when unknown
    sets: list[list[Suspect]] = field(default_factory=list)
    # ok | ties_cut (more tied sets than kept) | too_many_inconsistencies | search_limit |
    # not_localised | no_solution (see :data:`STATUSES` for what each means)
    status: str = "ok"
    cross_year: bool = False  # whether last year's 结转下年度 (rule E) was part of the rules

    @property
    def ambiguous(self) -> bool:
        return len(self.sets) > 1

    @property
    def outcome(self) -> str:
        """The status as findings.json says it (one of :data:`STATUSES`)."""
        if self.sets:
            if self.status == "ties_cut":
                return "ambiguous_partial"
            return "ambiguous" if self.ambiguous else "located"
        return self.status if self.status in STATUSES else "no_solution"

    def suspects(self) -> list[Suspect]:
        """Flat list; ``alternative`` says which equally small set a suspect belongs to."""
        out: list[Suspect] = []
        for k, s in enumerate(self.sets):
            for x in s:
                out.append(Suspect(x.cell, x.reported, x.suggested, x.cause, alternative=k))
        return out
