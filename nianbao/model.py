"""Canonical data of one parsed report: metadata, cells keyed by cell id, layout facts."""

from __future__ import annotations

from dataclasses import dataclass, field

from nianbao.normalize import State
from nianbao.spec import Fmt


@dataclass(slots=True)
class Cell:
    """One printed number, keyed by its canonical id."""

    value: float | None
    raw: str
    state: State
    line: int | None = None  # 1-based line in the source text (or row in a sheet)
    col: int | None = None  # 1-based cell position within that line
    where: str | None = None  # a richer location for non-text sources ("表格2 第3行第4格", "第2页")


@dataclass(slots=True)
class LayoutFact:
    """A structural element of the statutory format, and what the report has of it.

    ``element`` is a cell id with ``*`` (``3:3.3.7:*``, ``4:*:*``) or ``sec:三`` for sections.
    ``kind`` is section|table|row|column.  ``found`` False means it is missing.
    ``printed`` is the label as printed when it differs from the statutory one (an alias).
    """

    element: str
    kind: str
    found: bool
    statutory: str
    printed: str | None = None
    line: int | None = None
    in_order: bool = True
    previous: str | None = None  # for sections out of order: the section that came before


@dataclass(slots=True)
class RowIssue:
    """A table row the parser found but could not read by columns, or that was printed twice."""

    code: str  # I07 or I08
    element: str  # "3:3.3.4:*"
    raw: str
    line: int | None


@dataclass(slots=True)
class ParsedReport:
    file: str
    sha256: str
    size: int
    status: str = "validated"  # validated | unreadable
    reason: str | None = None  # Chinese, when unreadable
    encoding: str | None = None
    source_type: str = "text"
    agency: str | None = None
    year: int | None = None
    title: str | None = None
    title_line: int | None = None
    period_text: str | None = None
    period_start_year: int | None = None
    period_end_year: int | None = None
    period_full_year: bool | None = None
    period_line: int | None = None
    fmt: Fmt | None = None
    fmt_evidence_2019: list[str] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)
    layout: list[LayoutFact] = field(default_factory=list)
    row_issues: list[RowIssue] = field(default_factory=list)
    # Text of the report, kept as (line, text) pairs per section for the text-vs-table rules.
    sections: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    @property
    def readable(self) -> bool:
        return self.status == "validated"


def unreadable(file: str, sha256: str, size: int, reason: str, source_type: str = "text") -> ParsedReport:
    return ParsedReport(
        file=file, sha256=sha256, size=size, status="unreadable", reason=reason, source_type=source_type
    )
