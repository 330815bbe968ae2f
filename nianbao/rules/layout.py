"""Rules I (layout) on the structural elements of every report at once: sections, tables, rows and
columns found or not, in order or not, readable or not (one pandera validation of the layout frame,
:data:`schemas.layout.LAYOUT_RULES`, of the rows that may break one: ``layout_frame(suspects=True)``).
``pos`` of a row leads back to the report's layout fact or, past them, to its reading issue (I07–I13).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import polars as pl

from nianbao.domain.model import ParsedReport, RowIssue
from nianbao.domain.spec import SECTIONS, Fmt, table_name, tables
from nianbao.outcome import Finding, InfoSummary, Summaries, finding_for
from nianbao.read.labels import edits
from nianbao.rules.base import failing_frame
from nianbao.rules.family import Batch, Family
from nianbao.rules.frames import LAYOUT_WORDS
from schemas.layout import LAYOUT_RULES, layout_schema


def layout_findings(batch: Batch) -> list[Finding | InfoSummary]:
    frame = batch.suspect_layout
    fails = failing_frame(layout_schema(), frame, _WORDED, checked=_SCHEMA)  # (LAYOUT_WORDS: not the schema's)
    summaries = Summaries()
    # a summarised rule's failing facts with words of their own (every report's I06): gathered by
    # their words' key (code, format, element, printed, statutory, previous) at once, each key worded
    # once; every other failing row, one by one
    gather = (
        pl.col("check").is_in(sorted(summaries.codes - _ROW_CODES))
        & pl.col("issue").is_null()
        & pl.col("statutory").is_not_null()
    )
    keyed = fails.filter(gather).group_by(_KEY, maintain_order=True).agg("report", "line")
    for code, fmt, el, printed, statutory, previous, reps, lines in keyed.iter_rows():
        cells, expected, actual, params = _fact_words(
            code, Fmt(fmt) if fmt else Fmt.F2021, el, printed, statutory, previous
        )
        summaries.add_many(code, reps, lines, cells=cells, expected=expected, actual=actual, params=params)
    rest = fails.filter(~gather)
    rows = zip(*(rest.get_column(c).to_list() for c in _COLUMNS), strict=True)
    return findings_of(batch.reports, rows, summaries)


_COLUMNS = ("report", "check", "element", "pos")  # a failing row as findings_of reads it
_SCHEMA = ["report", "pos", "element", "kind", "found", "printed", "in_order", "readable", "duplicate", "issue"]
_KEY = ["check", "fmt", "element", "printed", "statutory", "previous"]  # a fact's words
_WORDED = ["report", "pos", "element", "printed", "issue", *LAYOUT_WORDS]


_SECTION = {s.number: s for s in SECTIONS}


@cache
def _table_element_words(fmt: Fmt, el: str) -> tuple[tuple[str, str], ...]:
    """The words naming a table element (``3:3.1:*``): its table and, when given, its row and column."""
    t, r_id, c_id = el.split(":")
    tdef = tables(fmt)[t]
    out = [("table_name", table_name(t))]
    if r_id != "*":
        try:
            out.append(("row_label", tdef.row(r_id).label))
        except KeyError:
            out.append(("row_label", r_id))
    if c_id != "*":
        out.append(("col_label", tdef.column(c_id).label))
    return tuple(out)


# a summarised finding's words: cells, expected, actual, params
_Words = tuple[list[str], object, object, dict[str, object]]


def _fact_words(code: str, fmt: Fmt, el: str, printed: str | None, statutory: str, previous: str | None) -> _Words:
    """The words of a failing layout fact's finding: they depend on these alone (not on the row
    issues, the report or its line)."""
    cells: list[str] = []
    expected: object = statutory
    actual: object = None
    if el.startswith("sec:"):
        num = el[4:]
        params: dict[str, object] = {"section": num, "heading": _SECTION[num].heading, "previous": previous}
        expected = f"{num}、{_SECTION[num].heading}"
        actual = None if code == "I01" else printed or expected
    else:
        cells = [el]
        params = dict(_table_element_words(fmt, el))
    if code == "I06":
        params |= {"printed": printed, "statutory": statutory}
        actual = printed
    return cells, expected, actual, params


def _issue_words(code: str, fmt: Fmt, el: str, issue: RowIssue) -> _Words:
    """The words of a failing row issue's finding (I07–I13: its raw text, line and detail)."""
    if el.startswith("sec:"):  # (a row issue is of a table, row or column: never a section)
        return _fact_words(code, fmt, el, None, "", None)
    raw, line = issue.raw, issue.line
    cells = [el]
    params: dict[str, object] = dict(_table_element_words(fmt, el))
    expected: object = ""
    actual: object = None
    if code in ("I07", "I08", "I09", "I10", "I11"):
        params["raw"] = (raw or "").replace("\t", " | ")[:200]
        params["line"] = line
        actual = raw
    if code == "I11":
        params["why"] = issue.detail
        params["row_part"] = f"“{params['row_label']}”行" if "row_label" in params else "中有一组数字"
    if code == "I10":
        params["detail"] = issue.detail
        params["row_part"] = f"“{params['row_label']}”行" if "row_label" in params else ""
        expected = issue.detail
    if code == "I12":
        near = issue.detail or ""
        params |= {
            "line": line,
            "printed": raw,
            "statutory": near,
            "distance": edits(raw, near),
            "part": "列" if el.split(":")[1] == "*" else "行",
        }
        expected, actual = near, raw
    elif code == "I13":
        params["line"] = line
        expected, actual = "（六）其他处理 1.、2.、3. 三行", raw
    return cells, expected, actual, params


def findings_of(
    reports: Sequence[ParsedReport], rows: Iterable[tuple[int, str, str, int]], summaries: Summaries | None = None
) -> list[Finding | InfoSummary]:
    """The findings of the failing rows of the layout frame — (report, rule code, element, pos)
    each — (a summarised rule's: its summaries, with those ``summaries`` already has).  A fact's
    row (``pos`` below the report's count of facts) fails I01–I06, a row issue's I07–I13."""
    out: list[Finding | InfoSummary] = []
    summaries = summaries if summaries is not None else Summaries()
    # a summarised info of a layout fact has its words from (code, format, element, printed,
    # statutory, previous) alone: made once per such key, the other reports of the key gathered and
    # added at once (layout_findings gathers those of the facts with words of their own before)
    # key -> the first report's words (cells, expected, actual, params), the key's other reports and lines
    same: dict[tuple[Any, ...], tuple[_Words, list[int], list[int | None]]] = {}
    for ri, code, el, pos in rows:
        rep = reports[ri]
        fmt = rep.fmt or Fmt.F2021
        facts = rep.layout
        n_facts = len(facts)
        memo: tuple[Any, ...] | None = None
        if pos < n_facts:  # the fact's fields read where they are kept (no LayoutFact made)
            printed, previous, _el = facts.arrays()[3].get(pos, (None, None, None))
            statutory, line = facts.statutory()[pos], facts.lines()[pos] or None
            if summaries.takes(code):
                memo = (code, fmt, el, printed, statutory, previous)
                got = same.get(memo)
                if got is not None:
                    got[1].append(ri)
                    got[2].append(line)
                    continue
            cells, expected, actual, params = _fact_words(code, fmt, el, printed, statutory, previous)
        else:
            issue = rep.row_issues[pos - n_facts]
            line = issue.line
            cells, expected, actual, params = _issue_words(code, fmt, el, issue)
        if summaries.takes(code):  # (I06: one summary for the reports printing the same alias)
            summaries.add(code, ri, line, cells=cells, expected=expected, actual=actual, params=params)
            if memo is not None:
                same[memo] = ((cells, expected, actual, params), [], [])
            continue
        out.append(
            finding_for(
                code,
                rep,
                ri,
                cells=cells,
                expected=expected,
                actual=actual,
                params=params,
                line=line,
            )
        )
    for memo, ((cells, expected, actual, params), more, lines) in same.items():
        if more:
            summaries.add_many(memo[0], more, lines, cells=cells, expected=expected, actual=actual, params=params)
    return out + summaries.done()


# the codes whose words read the row itself (its raw text, line, detail): never gathered by key
_ROW_CODES = frozenset({"I07", "I08", "I09", "I10", "I11", "I12", "I13"})


FAMILY = Family("layout", lambda: frozenset(LAYOUT_RULES), layout_findings, reads=frozenset({"suspect_layout"}))
