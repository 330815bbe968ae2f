"""The validation core: a batch of parsed reports -> findings, one pandera validation per schema.

No per-report loop runs a validation: all reports of a run are stacked into one frame per table
(and one long frame of cells, one of layout facts, one of report metadata), each frame is
validated once with ``lazy=True``, and every failure case (rule instance x row) becomes a finding.
Runs without Prefect; the flows call the same functions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from nianbao.catalogue import LinearRule, format_number, linear_rules
from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.registry import Agency
from nianbao.domain.spec import SECTIONS, Fmt, cell_label, table_name, tables
from nianbao.outcome import Finding, finding_for, plain_number
from nianbao.read.labels import edits
from nianbao.read.meta import agencies_from_registry
from nianbao.rules.base import SCHEMA_SECONDS, failing_rows
from nianbao.rules.frames import batch_arrays, cells_frame, layout_frame, meta_frame, table_frame
from nianbao.validate.families import beyond_findings, localise_all
from schemas import cells_schema, layout_schema, meta_schema, table_schema

BLANK = "空白（未填写）"


def _linear_findings(
    reports: Sequence[ParsedReport], fmt: Fmt, table: str, rows: Iterator[dict[str, Any]]
) -> list[Finding]:
    by_name: dict[str, LinearRule] = {r.name: r for r in linear_rules(fmt) if r.table == table}
    out: list[Finding] = []
    for d in rows:
        lr = by_name[d["check"]]
        ri = d["report"]
        rep = reports[ri]
        if _involves_unreadable(rep, lr.cells):
            continue  # a row/table that could not be read by columns (I07/I09) is not summed
        lhs = sum((rep.cells[c].value or 0.0) for c in lr.lhs)
        rhs = sum((rep.cells[c].value or 0.0) for c in lr.rhs)
        # a blank printed total is not "报告填写为 0": it was left empty
        blank = all(rep.cells[c].state is State.BLANK for c in lr.lhs)
        params = dict(lr.params) | {"expected": format_number(rhs), "actual": BLANK if blank else format_number(lhs)}
        lines = [rep.cells[c].line for c in lr.cells if rep.cells[c].line]
        out.append(
            finding_for(
                lr.code,
                rep,
                ri,
                cells=list(lr.cells),
                expected=plain_number(rhs),
                actual=plain_number(lhs),
                params=params,
                line=min(lines) if lines else None,
                where=next((w for c in lr.cells if (w := rep.cells[c].where)), None),
            )
        )
    return out


def _involves_unreadable(rep: ParsedReport, cells: Sequence[str]) -> bool:
    """Whether a sum rule reads a cell of a row (I07) or table (I09) not readable by columns."""
    if not rep.row_issues:
        return False
    parts = tuple(
        ri.element[:-1] if ri.code in ("I07", "I11") else ri.element[:2]
        for ri in rep.row_issues
        if ri.code in ("I07", "I09", "I11")
    )
    return bool(parts) and any(c.startswith(parts) for c in cells)


def _cell_findings(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    blanks: dict[tuple[int, str], list[tuple[str, int | None]]] = defaultdict(list)
    for d in rows:
        code = d["check"]
        ri = d["report"]
        rep = reports[ri]
        fmt = rep.fmt or Fmt.F2021
        cid = d["cell"]
        if code == "G04":
            blanks[(ri, cid.split(":")[0])].append((cid, d["line"]))
            continue
        raw = rep.cells[cid].raw
        params = {"cell_label": f"{table_name(cid[0])}“{cell_label(fmt, cid)}”", "raw": raw}
        actual = plain_number(d["value"]) if d["value"] is not None else raw
        params["actual"] = actual
        expected: object = {"G01": "数字", "G02": "≥ 0", "G03": "整数", "G05": "不超过 12 位的数字"}.get(code)
        out.append(
            finding_for(
                code,
                rep,
                ri,
                cells=[cid],
                expected=expected,
                actual=actual,
                params=params,
                line=d["line"],
                where=rep.cells[cid].where,
            )
        )
    for (ri, table), cl in blanks.items():
        rep = reports[ri]
        fmt = rep.fmt or Fmt.F2021
        ids = [c for c, _l in cl]
        shown = "、".join(f"“{cell_label(fmt, c)}”" for c in ids[:5]) + ("等" if len(ids) > 5 else "")
        params = {"table_name": table_name(table), "count": len(ids), "cell_list": shown}
        lines = [ln for _c, ln in cl if ln]
        out.append(
            finding_for(
                "G04",
                rep,
                ri,
                cells=ids,
                expected="数字（没有发生的填 0）",
                actual="空白",
                params=params,
                line=min(lines) if lines else None,
            )
        )
    return out


_SECTION = {s.number: s for s in SECTIONS}


def _layout_findings(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for d in rows:
        code = d["check"]
        ri = d["report"]
        rep = reports[ri]
        fmt = rep.fmt or Fmt.F2021
        el: str = d["element"]
        pos: int = d["pos"]
        n_facts = len(rep.layout)
        if pos < n_facts:
            fact = rep.layout[pos]
            statutory, printed, line, previous, raw = fact.statutory, fact.printed, fact.line, fact.previous, None
        else:
            ri_ = rep.row_issues[pos - n_facts]
            statutory, printed, line, previous, raw = "", None, ri_.line, None, ri_.raw
        params: dict[str, object] = {}
        cells: list[str] = []
        expected: object = statutory
        actual: object = None
        if el.startswith("sec:"):
            num = el[4:]
            params = {"section": num, "heading": _SECTION[num].heading, "previous": previous}
            expected = f"{num}、{_SECTION[num].heading}"
            actual = None if code == "I01" else printed or expected
        else:
            cells = [el]
            t, r_id, c_id = el.split(":")
            params["table_name"] = table_name(t)
            tdef = tables(fmt)[t]
            if r_id != "*":
                try:
                    params["row_label"] = tdef.row(r_id).label
                except KeyError:
                    params["row_label"] = r_id
            if c_id != "*":
                params["col_label"] = tdef.column(c_id).label
            if code in ("I07", "I08", "I09", "I10", "I11"):
                params["raw"] = (raw or "").replace("\t", " | ")[:200]
                params["line"] = line
                actual = raw
            if code == "I11":
                params["why"] = rep.row_issues[pos - n_facts].detail if pos >= n_facts else ""
                params["row_part"] = f"“{params['row_label']}”行" if "row_label" in params else "中有一组数字"
            if code == "I10":
                detail = rep.row_issues[pos - n_facts].detail if pos >= n_facts else None
                params["detail"] = detail
                params["row_part"] = f"“{params['row_label']}”行" if "row_label" in params else ""
                expected = detail
        if code == "I06":
            params |= {"printed": printed, "statutory": statutory}
            actual = printed
        elif code in ("I12", "I13"):
            ri_ = rep.row_issues[pos - n_facts]
            params["line"] = ri_.line
            if code == "I12":
                near = ri_.detail or ""
                params |= {
                    "printed": ri_.raw,
                    "statutory": near,
                    "distance": edits(ri_.raw, near),
                    "part": "列" if el.split(":")[1] == "*" else "行",
                }
                expected, actual = near, ri_.raw
            else:
                expected, actual = "（六）其他处理 1.、2.、3. 三行", ri_.raw
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
    return out


def _meta_findings(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for d in rows:
        code = d["check"]
        ri = d["report"]
        rep = reports[ri]
        year = d["year"]
        params: dict[str, object] = {"year": year if year is not None else "YYYY"}
        expected: object = None
        actual: object = None
        line = None
        if code == "P01":
            expected, actual, line = year, d["period_text"], d["period_line"]
            params |= {"expected": year, "actual": d["period_text"]}
        elif code == "P02":
            expected = f"本报告统计数据从 {params['year']} 年 1 月 1 日至 {params['year']} 年 12 月 31 日"
        elif code == "P03":
            missing = "、".join(x for x, v in (("机关名称", d["agency"]), ("报告年度", year)) if v is None)
            params |= {"missing": missing, "title": d["title"] or "（无标题）"}
            expected, actual, line = "机关名称和年度", d["title"], d["title_line"]
        elif code == "P04":
            source = "文件名对应的登记表机关" if d["agency_source"] == "registry" else "文件名"
            params |= {"source": source, "agency": d["agency"], "file": rep.file.replace("\\", "/").rsplit("/", 1)[-1]}
            expected, actual, line = "标题中的机关名称", d["agency"], d["title_line"]
        elif code == "R01":
            marks = (d["fmt_evidence"] or "表格布局").split("；")
            params |= {"evidence": "；".join(marks[:3]) + ("等" if len(marks) > 3 else "")}
            expected, actual = "2021", "2019"
        elif code == "U09":
            params |= {"detail": rep.bad_bytes_detail or f"{d['bad_bytes']} 处无效字节"}
            expected, actual = 0, d["bad_bytes"]
        out.append(
            finding_for(
                code,
                rep,
                ri,
                cells=[],
                expected=expected,
                actual=actual,
                params=params,
                line=line,
            )
        )
    return out


def validate_batch(
    reports: Sequence[ParsedReport],
    *,
    previous: Sequence[ParsedReport] = (),
    renames: Mapping[str, str] | None = None,
    registry: Sequence[Agency] | None = None,
    localise: bool = True,
    timings: dict[str, float] | None = None,
) -> list[Finding]:
    """Validate every readable report of the batch together and return the findings.

    Beyond each report's own rules: cross-year rules against the batch's own reports of year Y−1
    and ``previous`` (e.g. from the store), ``renames`` (normalised old name → new name), text vs
    tables, plausibility against peers (county/level from ``registry`` when given), and — unless
    ``localise`` is False — the suspects of every report breaking a sum rule (one pass at the end).
    ``timings`` (when given) receives the stage times of those steps.
    """
    SCHEMA_SECONDS[0] = 0.0
    agencies_from_registry(reports, registry)  # agencies read from file names: the registry's names
    arrays = batch_arrays(reports)
    cells = cells_frame(arrays)
    findings: list[Finding] = []
    findings += _cell_findings(reports, failing_rows(cells_schema(), cells))
    for fmt in Fmt:
        for table in ("2", "3", "4"):
            wide = table_frame(arrays, fmt, table)
            findings += _linear_findings(reports, fmt, table, failing_rows(table_schema(fmt, table), wide, ["report"]))
    layout = layout_frame(reports)
    findings += _layout_findings(reports, failing_rows(layout_schema(), layout))
    meta = meta_frame(reports)
    findings += _meta_findings(reports, failing_rows(meta_schema(), meta))
    del wide, layout, meta  # not needed by the rule families below
    handed = [cells]  # beyond_findings takes the only reference: the frame is freed before the text rules
    del cells
    findings += beyond_findings(
        reports, arrays, handed, previous=previous, renames=renames, registry=registry, timings=timings
    )
    if timings is not None:
        timings["schemas"] = SCHEMA_SECONDS[0]
    if localise:
        localise_all(findings, reports, previous=previous, renames=renames, timings=timings)
    return sort_findings(findings)


_SEV = {"error": 0, "warning": 1, "info": 2}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.report, _SEV.get(f.severity, 3), f.rule, f.cells))
