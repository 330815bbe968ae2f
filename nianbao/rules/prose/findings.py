"""The prose rules' findings: one builder per frame (claims, paragraph sums, fee) and the H19/H20
findings of the few sentences parsed in Python.  Each finding quotes the sentence (or line) it is about.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

import polars as pl

from nianbao.catalogue import format_number
from nianbao.domain.model import ParsedReport
from nianbao.domain.spec import Fmt, all_cells
from nianbao.outcome import Finding, finding_for
from nianbao.rules.base import with_reports
from nianbao.rules.prose.checks import target_cells
from nianbao.rules.prose.claims import CATEGORIES, CLAIM
from nianbao.rules.prose.extract import PercentError, PubSum
from nianbao.rules.prose.text import split_sentences


def _quote_of(rep: ParsedReport, line: int, sent: int | None) -> str:
    text = _line_text(rep, line)
    if sent is None:
        return text.strip()
    ss = split_sentences(text)
    return ss[sent].strip() if 0 <= sent < len(ss) else text.strip()


def _line_text(rep: ParsedReport, line: int) -> str:
    """The text of the report's prose line ``line`` (outside the 引言), "" when there is none:
    looked up in the packed sections (no list of every line)."""
    names, counts, nos, lens, text = rep.sections.packed()
    intro: list[range] = []
    first = 0
    for name, n in zip(names, counts, strict=True):
        if name == "引言":
            intro.append(range(first, first + n))
        first += n
    j = -1
    while True:
        try:
            j = nos.index(line, j + 1)
        except ValueError:
            return ""
        if not any(j in r for r in intro):
            start = sum(lens[:j])
            return text[start : start + lens[j]]


def _finding(
    rep: ParsedReport,
    ri: int,
    code: str,
    cells: list[str],
    expected: object,
    actual: object,
    params: dict[str, object],
    line: int | None,
    quote: str | None,
) -> Finding:
    shown = {k: (format_number(v) if isinstance(v, float) else v) for k, v in params.items()}
    return finding_for(
        code,
        rep,
        ri,
        cells=cells,
        expected=expected,
        actual=actual,
        params=shown,
        line=line,
        quote=quote,
    )


def _int(v: float | None) -> int | float | None:
    if v is None:
        return None
    return int(v) if v == int(v) else v


_GROUPS_ZH = {"review": "行政复议", "suits": "行政诉讼"}


@cache
def _cell_order() -> dict[str, int]:
    """Every canonical cell id → its position (2021 format first): the order cells are listed in."""
    return {c: k for k, c in enumerate(all_cells(Fmt.F2021) + all_cells(Fmt.F2019))}


def _sort_cells(cells: list[str]) -> list[str]:
    """The distinct cells in the order of the canonical ids (a fresh list: a finding's own)."""
    return list(_sorted_cells(tuple(cells)))


@lru_cache(maxsize=4096)  # a claim's cells are a kind's target cells: the same few lists, finding after finding
def _sorted_cells(cells: tuple[str, ...]) -> tuple[str, ...]:
    order = _cell_order()
    return tuple(sorted(set(cells), key=lambda c: order.get(c, 10**6)))


def claim_findings(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    # a table-四 statement naming both groups gives one claim per group: merge them into one finding
    merged: dict[tuple[int, int, int, int, str], dict[str, object]] = {}
    for d in rows:
        ri = d["report"]
        rep = reports[ri]
        kind: str = d["kind"]
        code: str = d["rule"]
        cells = list(target_cells(rep.fmt)[kind]) if rep.fmt is not None else []
        if code in ("H17", "H18"):
            key = (ri, d["line"], d["sent"], d["pos"], code)
            m = merged.setdefault(key, {"groups": [], "cells": [], "table": 0.0, "d": d})
            m["groups"].append(kind.split("_", 1)[1])  # type: ignore[attr-defined]
            m["cells"].extend(cells)  # type: ignore[attr-defined]
            m["table"] = float(m["table"]) + float(d["table"])  # type: ignore[arg-type]
            continue
        stated, table = d["stated"], d["table"]
        hint = ""
        nat = d["natural"]
        if d["check_kind"] == "equal" and nat is not None and stated == nat and nat != table:
            hint = "（正文的数字与表三“自然人”列相同，可能只写了自然人一类申请人的数字。）"
        params = {"stated": stated, "table": table, "hint": hint}
        expected: object = _int(table)
        actual: object = _int(stated)
        if d["check_kind"] == "zero":
            expected, actual = 0, _int(table)
        out.append(
            _finding(
                rep,
                ri,
                code,
                _sort_cells(cells),
                expected,
                actual,
                params,
                d["line"],
                _quote_of(rep, d["line"], d["sent"]),
            )
        )
    for (ri, line, sent, _pos, code), m in merged.items():
        rep = reports[ri]
        groups = "、".join(_GROUPS_ZH[g] for g in m["groups"])  # type: ignore[attr-defined]
        table = float(m["table"])  # type: ignore[arg-type]
        params = {"groups": groups, "table": table}
        out.append(
            _finding(
                rep,
                ri,
                code,
                _sort_cells(m["cells"]),  # type: ignore[arg-type]
                0,
                _int(table),
                params,
                line,
                _quote_of(rep, line, sent),
            )
        )
    return out


_CAT_ZH = {c: CLAIM[c].label for c in CATEGORIES}


def sum_findings(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for ri, rep, code, d in with_reports(reports, rows):
        quote = _quote_of(rep, d["line"], None)
        if code == "H13":
            listed = "、".join(f"{_CAT_ZH[c]} {d[c]} 件" for c in CATEGORIES if d[c] is not None)
            params: dict[str, object] = {"parts": d["parts"], "part_list": listed, "stated": d["handled"]}
            out.append(_finding(rep, ri, code, [], d["handled"], d["parts"], params, d["line"], quote))
        else:
            lhs = d["received"] + d["carried"]
            rhs = d["handled"] + d["forwarded"]
            params = {k: d[k] for k in ("received", "carried", "handled", "forwarded")} | {"lhs": lhs, "rhs": rhs}
            out.append(_finding(rep, ri, code, [], rhs, lhs, params, d["line"], quote))
    return out


def _lines_with(lines: pl.DataFrame, tids: Collection[int]) -> Iterator[tuple[int, int, int]]:
    """(report, line, text id) of every line whose text is one of ``tids`` (the wrong ones)."""
    if not tids:
        return iter(())
    return lines.filter(pl.col("tid").is_in(list(tids))).select("report", "line", "tid").iter_rows()


def publication_findings(
    reports: Sequence[ParsedReport], lines: pl.DataFrame, wrong: Mapping[int, PubSum]
) -> list[Finding]:
    """H19 (主动公开 total vs parts): a finding on every line whose text is one of the ``wrong``
    ones (text id → its sum, :func:`~nianbao.rules.prose.extract.wrong_publication_sums`)."""
    out: list[Finding] = []
    for ri, line, tid in _lines_with(lines, wrong):
        ps = wrong[tid]
        total = sum(n for n, _u in ps.parts)
        listed = "、".join(f"{n} {u}" for n, u in ps.parts)
        params: dict[str, object] = {"stated": ps.total, "parts": total, "part_list": listed}
        out.append(_finding(reports[ri], ri, "H19", [], ps.total, total, params, line, ps.quote))
    return out


def percent_findings(
    reports: Sequence[ParsedReport], lines: pl.DataFrame, wrong: Mapping[int, list[tuple[int, PercentError]]]
) -> list[Finding]:
    """H20 (percentages): a finding per wrong percentage on every line whose text states it
    (``wrong``: text id → (sentence, error), :func:`~nianbao.rules.prose.extract.wrong_percentages`)."""
    out: list[Finding] = []
    for ri, line, tid in _lines_with(lines, wrong):
        rep = reports[ri]
        for sent, e in wrong[tid]:
            params = {
                "part": e.part,
                "stated": str(e.stated),
                "base_label": "办结" if e.base_kind == "handled" else "收到",
                "base": e.base,
                "expected": str(e.expected),
            }
            quote = _quote_of(rep, line, sent)
            out.append(_finding(rep, ri, "H20", [], float(e.expected), float(e.stated), params, line, quote))
    return out


def fee_findings(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for ri, rep, code, d in with_reports(reports, rows):
        six = rep.sections.get("六") or []
        if code == "J01":
            line = six[0][0] - 1 if six else None
            out.append(_finding(rep, ri, code, [], "信息处理费收取情况", None, {}, line, None))
        else:
            params = {"section": d["other_section"], "line": d["other_line"]}
            quote = _quote_of(rep, d["other_line"], None)
            out.append(
                _finding(rep, ri, code, [], "第六部分", f"第{d['other_section']}部分", params, d["other_line"], quote)
            )
    return out
