"""Hooks other packages register into without importing the outputs (cheap at the CLI's start).

``ACK_SOURCES``: further sources of acknowledgements (:class:`Ack`, the record of one, lives
here with its hook), each called with the run and its output folder by
:func:`nianbao.report.history.review` — the review desk registers the decisions of its database
here (:mod:`nianbao.desk.nightly`) when the command line starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nianbao.outcome import Finding, RunOutcome


@dataclass(frozen=True, slots=True)
class Ack:
    """An acknowledgement: a reviewer's decision that a finding of a report (by its SHA-256) stands."""

    sha256: str
    rule: str
    cells: tuple[str, ...]  # empty: every finding of the rule in that report
    reviewer: str
    note: str
    date: str
    line: int = 0  # line in the acknowledgements file
    any_severity: bool = False  # a review desk decision: errors too (a CSV row covers warnings and notes only)

    def matches(self, sha256: str, f: Finding) -> bool:
        if self.sha256 != sha256 or self.rule != f.rule:
            return False
        return not self.cells or sorted(self.cells) == sorted(f.cells)


ACK_SOURCES: list[Callable[[RunOutcome, Path | None], list[Ack]]] = []
