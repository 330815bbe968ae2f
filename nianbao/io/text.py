"""Plain-text reports: tables as tab-separated cells inside the text (what a copy from Word gives),
and what PDF/OCR converters print instead of tabs — markdown pipe tables (``| 一、本年新收… | 705 | 3 |``)
and columns aligned by runs of spaces (``pdftotext -layout``).  A page break (form feed) is a line
break; the parser reads by labels, so repeated header rows and page furniture between the rows of a
table do not matter.
"""

from __future__ import annotations

import re
import unicodedata

from nianbao.domain.normalize import State, parse_number
from nianbao.io.limits import Limits, check_cells, check_line_chars, check_lines
from nianbao.io.lines import Line

_PIPE_SEP = re.compile(r"^:?-{2,}:?$")
_MD_MARKS = re.compile(r"^#{1,6}\s+|^\*\*|\*\*$")
_FIELD = re.compile(r"\S+(?: \S+)*")  # fields of a space-aligned line: separated by 2+ spaces (or a tab/U+3000)
_SENTENCE_END = ("。", "；", "！", "？")
_PROSE_MARK = re.compile(r"[，。；！？]")
DEFAULT_LIMITS = Limits()


def display_width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pipe_cells(s: str) -> list[str] | None:
    """Cells of a markdown pipe-table row; [] for its separator row; None if not a pipe row."""
    body = s.strip()
    if len(body) < 2 or not body.startswith("|"):
        return None
    inner = body[1:-1] if body.endswith("|") else body[1:]
    cells = [c.strip() for c in inner.split("|")]
    if all(_PIPE_SEP.match(c) or not c for c in cells):
        return []
    return cells


def _aligned(raw: str) -> tuple[list[str], list[tuple[int, int]]] | None:
    """Fields and display-column spans of a line whose columns are aligned by runs of spaces.

    Only lines that look like table rows are split: at least one field reads as a table value, or
    three or more short label fields with no sentence in them (a header row).  Prose with a double
    space stays one paragraph.
    """
    ms = list(_FIELD.finditer(raw))
    if len(ms) < 2:
        return None
    fields = [m.group(0) for m in ms]
    if any(len(f) > 80 or (len(f) > 20 and f.endswith(_SENTENCE_END)) for f in fields):
        return None
    valued = any(parse_number(f)[1] is not State.NON_NUMERIC for f in fields[1:])
    if not valued:
        if any(len(f) > 40 or _PROSE_MARK.search(f) for f in fields):
            return None
        # two label fields only when far apart (a header row "行政复议      行政诉讼"), not a double space
        if len(fields) == 2 and ms[1].start() - ms[0].end() < 3:
            return None
    spans: list[tuple[int, int]] = []
    for m in ms:
        start = display_width(raw[: m.start()])
        spans.append((start, start + display_width(m.group(0))))
    return fields, spans


def text_lines(text: str, limits: Limits = DEFAULT_LIMITS) -> list[Line]:
    """Split a decoded text into lines of cells (tab-separated, pipe table or space-aligned)."""
    raws = text.splitlines()
    check_lines(len(raws), limits)
    out: list[Line] = []
    max_chars = limits.max_line_chars
    max_cells = limits.max_cells_per_row
    for no, raw in enumerate(raws, 1):
        if len(raw) > max_chars:
            check_line_chars(len(raw), f"第 {no} 行", limits)
        if "\t" in raw:
            cells = raw.split("\t")
            if len(cells) > max_cells:
                check_cells(len(cells), f"第 {no} 行", limits)
            out.append(Line(cells, no, table=True))
            continue
        s = raw.lstrip()
        if s.startswith(("#", "**")):
            # markdown heading / bold line of a PDF-to-markdown conversion: the text without its marks
            raw = _MD_MARKS.sub("", s).strip()
            s = raw
        if s.startswith("|"):
            pipe = _pipe_cells(s)
            if pipe is not None:
                if len(pipe) > max_cells:
                    check_cells(len(pipe), f"第 {no} 行", limits)
                out.append(Line(pipe, no, table=True) if pipe else Line([""], no))
                continue
        elif s.rstrip().endswith("|") and s.count("|") >= 1 and "|" not in s[:1]:
            # a web table copied as "label | 58 | 7 | … | 66 |" (no leading pipe): cells between pipes
            cells = [c.strip() for c in s.rstrip()[:-1].split("|")]
            if len(cells) > max_cells:
                check_cells(len(cells), f"第 {no} 行", limits)
            out.append(Line(cells, no, table=len(cells) > 1))
            continue
        if "  " in s or "\u3000" in s:
            al = _aligned(raw)
            if al is not None:
                if len(al[0]) > max_cells:
                    check_cells(len(al[0]), f"第 {no} 行", limits)
                out.append(Line(al[0], no, table=True, spans=al[1]))
                continue
        out.append(Line([raw], no))
    return out
