"""Plain-text reports: tables as tab-separated cells inside the text (what a copy from Word gives)."""

from __future__ import annotations

from nianbao.model import ParsedReport
from nianbao.parse import Line, parse_lines


def text_lines(text: str) -> list[Line]:
    """Split a decoded text into lines of cells (tab-separated)."""
    out: list[Line] = []
    for no, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw:
            out.append(Line(raw.split("\t"), no, table=True))
        else:
            out.append(Line([raw], no))
    return out


def parse_text(text: str, report: ParsedReport) -> ParsedReport:
    return parse_lines(text_lines(text), report)
