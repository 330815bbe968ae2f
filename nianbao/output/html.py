"""The HTML quality report: ``index.html`` (county overview), ``reports/*.html`` (one page per
submission, the statutory tables re-drawn with the flagged cells highlighted) and ``rules.html``
(the rule reference, generated from the catalogue).

Jinja2 with autoescape on: every text from a submission (agency, title, file name, cell text) is
escaped, and control characters are removed by the ``finalize`` hook.  The pages are
self-contained — CSS inline, charts as inline SVG, no script, no external font — and work from
``file://`` without network.  Page names come from :func:`nianbao.output.names.page_name` and are
checked to stay inside the output folder.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup, escape

from nianbao.catalogue import catalogue, format_number, ruleset_version
from nianbao.model import Cell, ParsedReport
from nianbao.normalize import State
from nianbao.outcome import FileOutcome, Finding, RunOutcome
from nianbao.output.atomic import UnsafePath, inside, write_text
from nianbao.output.history import ACKABLE, ACKED, CORRECTED, NEW, STILL, SUBMITTED, UNCHANGED
from nianbao.output.names import clean_text, page_path
from nianbao.output.quality import (
    REPORTS_DIR,
    SEV_RANK,
    SEVERITY_ZH,
    Flag,
    Quality,
    alternative,
    cause_zh,
    flags_of,
    prepare,
    registry_status,
)
from nianbao.registry import normalise_agency
from nianbao.spec import T3_COLUMNS, T4_COLUMNS, T4_ROWS, Fmt, cell_label, table_name, tables

STATUS_ZH = {NEW: "新发现", STILL: "仍存在", ACKED: "已复核"}
CHANGE_ZH = {SUBMITTED: "新报送", CORRECTED: "已更正", UNCHANGED: "", None: ""}
NEWS_LIMIT = 200  # rows per news list on the overview (the rest: findings.xlsx / changes.json)
CHART_ROWS = 30


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return clean_text(value)
    return value


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("nianbao.output", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_value
    return env


@cache
def _template(name: str) -> Template:
    return _env().get_template(name)


def fmt_value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return format_number(v)
    return str(v)


# ------------------------------------------------------------------ the printed tables (per format)


@dataclass(frozen=True, slots=True)
class Label:
    text: str
    rowspan: int = 1
    colspan: int = 1
    element: str | None = None  # the structural id a finding may name (e.g. "3:3.3.2:*")


@dataclass(frozen=True, slots=True)
class PRow:
    labels: tuple[Label, ...]
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class T2Block:
    title: str
    columns: tuple[tuple[str, str], ...]  # (column element id, label)
    rows: tuple[PRow, ...]


_BLOCK_TITLE = "第二十条第（{}）项"


@cache
def t2_blocks(fmt: Fmt) -> tuple[T2Block, ...]:
    t = tables(fmt)["2"]
    blocks: list[T2Block] = []
    order: list[str] = []
    by_block: dict[str, list[str]] = {}
    for r in t.rows:
        assert r.block is not None
        if r.block not in by_block:
            order.append(r.block)
            by_block[r.block] = []
        by_block[r.block].append(r.id)
    for b in order:
        first = t.row(by_block[b][0])
        cols = tuple((f"2:*:{c}", t.column(c).label) for c in first.columns)
        rows = tuple(
            PRow(
                (Label(t.row(rid).label, element=f"2:{rid}:*"),),
                tuple(f"2:{rid}:{c}" for c in t.row(rid).columns),
            )
            for rid in by_block[b]
        )
        blocks.append(T2Block(_BLOCK_TITLE.format(b), cols, rows))
    return tuple(blocks)


@cache
def t3_rows(fmt: Fmt) -> tuple[PRow, ...]:
    t = tables(fmt)["3"]
    outcome_rows = [r for r in t.rows if r.id.startswith("3.")]
    group_sizes = Counter(r.group for r in t.rows if r.group and r.group != "3")
    out: list[PRow] = []
    seen_groups: set[str] = set()
    for r in t.rows:
        labels: list[Label] = []
        el = f"3:{r.id}:*"
        if r.id == outcome_rows[0].id:
            labels.append(Label("三、本年度办理结果", rowspan=len(outcome_rows)))
        if r.group is None:
            labels.append(Label(r.label, colspan=3, element=el))
        elif r.group == "3":
            labels.append(Label(r.label, colspan=2, element=el))
        else:
            group_label, _, sub = r.label.partition(" ")
            if r.group not in seen_groups:
                seen_groups.add(r.group)
                labels.append(Label(group_label, rowspan=group_sizes[r.group]))
            labels.append(Label(sub or r.label, element=el))
        out.append(PRow(tuple(labels), tuple(f"3:{r.id}:{c.id}" for c in t.columns)))
    return tuple(out)


T3_HEAD = {c.id: c.label for c in T3_COLUMNS}
T4_HEAD = tuple((f"4:*:{c.id}", c.label) for c in T4_COLUMNS)
T4_CELLS = tuple(f"4:{r.id}:{c.id}" for r in T4_ROWS for c in T4_COLUMNS)


# ------------------------------------------------------------------ views of cells and findings


def _cell_text(c: Cell | None) -> tuple[str, str]:
    if c is None or c.state is State.MISSING:
        return "缺", "missing"
    if c.state is State.BLANK and not c.raw:
        return "", "blank"
    return c.raw or fmt_value(c.value), "v"


@cache
def _cell_titles(fmt: Fmt) -> dict[str, Markup]:
    return {cid: escape(f"{cell_label(fmt, cid)}（{cid}）") for t in tables(fmt).values() for cid in t.cells()}


def _esc(s: str) -> Markup | str:
    # digits (the common case) carry nothing to escape or clean
    return s if s.isdigit() else escape(clean_text(s))


def cell_views(rep: ParsedReport, fmt: Fmt, flags: dict[str, Flag], findings: dict[int, Finding]) -> dict[str, str]:
    """cell id -> its ``<td>``, as already-escaped HTML (built here rather than by a template macro:
    ~220 cells per page, and a macro call per cell dominated the rendering time).  Every text is
    escaped with markupsafe; only cell ids (from the spec), digits and our own class names go in
    unescaped.  Joined into rows by :func:`_rows_html`, which marks the result safe."""
    out: dict[str, str] = {}
    titles = _cell_titles(fmt)
    cells = rep.cells
    for cid, label in titles.items():
        c = cells.get(cid)
        text, cls = _cell_text(c)
        if c is None:
            where = ""
        elif c.where:
            where = escape(clean_text(c.where))
        elif c.line and c.col:
            where = f"源文件第 {c.line} 行第 {c.col} 格"
        elif c.line:
            where = f"源文件第 {c.line} 行"
        else:
            where = ""
        fl = flags.get(cid)
        if fl is None:  # the row and column labels are on screen: the tooltip only says where it was read
            tip = f' title="{where}"' if where else ""
            out[cid] = f'<td data-cell="{cid}" class="{cls}"{tip}>{_esc(text)}</td>'
            continue
        title = f"{label} ｜ {where}" if where else label
        cls += f" hl hl-{fl.severity}"
        if fl.suspect is not None:
            cls += " suspect"
        msgs = "".join(f"\n{findings[k].rule}：{findings[k].message}" for k in fl.findings[:3])
        badges = "".join(f'<a class="badge" href="#f-{k}">{escape(findings[k].rule)}</a>' for k in fl.primary)
        suggest = (
            f'<span class="suggest">建议 {escape(fmt_value(fl.suspect.suggested))}</span>'
            if fl.suspect is not None
            else ""
        )
        ids = " ".join(f"f-{k}" for k in fl.findings)
        out[cid] = (
            f'<td data-cell="{cid}" class="{cls}" title="{title}{escape(clean_text(msgs))}" data-findings="{ids}"'
            f' data-rules="{escape(" ".join(fl.rules))}">{_esc(text)}{badges}{suggest}</td>'
        )
    return out


def _rows_html(cells: dict[str, str], rows: Iterable[tuple[str, ...]]) -> list[Markup]:
    return [Markup("".join([cells[cid] for cid in r])) for r in rows]


def _element_flags(flags: dict[str, Flag]) -> dict[str, str]:
    """structural element id -> css classes (rows, columns, tables a finding names with ``*``)."""
    return {el: f"hl hl-{fl.severity}" for el, fl in flags.items() if "*" in el}


def _is_structural(f: Finding) -> bool:
    return not f.cells or any("*" in c for c in f.cells)


def _cells_text(fmt: Fmt, cells: list[str]) -> list[tuple[str, str]]:
    out = []
    for c in cells[:12]:
        try:
            out.append((c, f"{table_name(c.split(':')[0])[:2]}“{cell_label(fmt, c)}”"))
        except (KeyError, ValueError, IndexError):
            out.append((c, c))
    if len(cells) > 12:
        out.append(("", f"等共 {len(cells)} 格"))
    return out


def finding_view(q: Quality, k: int, f: Finding, fmt: Fmt, file_index: int | None) -> dict[str, Any]:
    rv = q.review
    r = catalogue().get(f.rule)
    status = rv.status[k]
    ack = rv.acks.get(k)
    suspects = [
        {
            "cell": s.cell,
            "label": _label_or_id(fmt, s.cell),
            "reported": fmt_value(s.reported) if s.reported is not None else "空白",
            "suggested": fmt_value(s.suggested),
            "cause": cause_zh(s.cause),
            "alternative": alternative(s) + 1,
        }
        for s in (f.suspects or [])
    ]
    return {
        "k": k,
        "id": f"f-{k}",
        "rule": f.rule,
        "title": r.title if r else f.rule,
        "severity": f.severity,
        "sev_zh": SEVERITY_ZH.get(f.severity, f.severity),
        "message": f.message,
        "expected": fmt_value(f.expected),
        "actual": fmt_value(f.actual),
        "fix": f.fix,
        "line": f.line,
        "where": getattr(f, "where", None),
        "quote": f.quote,
        "cells": _cells_text(fmt, f.cells),
        "status": status,
        "status_zh": STATUS_ZH[status],
        "corrected": status == STILL and file_index is not None and rv.report_change[file_index] == CORRECTED,
        "ack": ack,
        "ack_cmd": _ack_command(f) if f.severity in ACKABLE and ack is None else None,
        "suspects": suspects,
    }


def _ack_command(f: Finding) -> str:
    """The command an auditor runs to mark this finding as reviewed (shell-quoted: file names are hostile)."""
    parts = ["nianbao", "ack", "--acks", "acknowledgements.csv", "--file", f.file, "--rule", f.rule]
    for c in f.cells:
        parts += ["--cell", c]
    parts += ["--reviewer", "姓名", "--note", "复核说明"]
    return shlex.join(parts)


def _label_or_id(fmt: Fmt, cid: str) -> str:
    try:
        return cell_label(fmt, cid)
    except (KeyError, ValueError, IndexError):
        return cid


# ------------------------------------------------------------------ pages


def _file_row(q: Quality, i: int, fo: FileOutcome, prefix: str) -> dict[str, Any]:
    rv = q.review
    fs = q.file_findings(fo)
    new = sum(1 for k, _f in fs if rv.status[k] == NEW)
    acked = sum(1 for k, _f in fs if rv.status[k] == ACKED)
    if fo.status != "validated":
        state, state_cls = "无法读取", "unreadable"
    elif fo.errors:
        state, state_cls = "有错误", "error"
    elif fo.warnings:
        state, state_cls = "有警告", "warning"
    else:
        state, state_cls = "通过", "ok"
    return {
        "agency": fo.agency or "（未识别机关）",
        "year": fo.year,
        "file": fo.file,
        "format": fo.format,
        "status": fo.status,
        "state": state,
        "state_cls": state_cls,
        "reason": fo.reason,
        "errors": fo.errors,
        "warnings": fo.warnings,
        "infos": fo.infos,
        "new": new,
        "acked": acked,
        "change": CHANGE_ZH[rv.report_change[i]],
        "href": f"{prefix}{REPORTS_DIR}/{q.pages[i]}",
    }


def _worst_order(files: list[FileOutcome]) -> list[int]:
    return sorted(
        range(len(files)),
        key=lambda i: (
            files[i].status == "validated",
            -files[i].errors,
            -files[i].warnings,
            -files[i].infos,
            files[i].file,
        ),
    )


def _chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars of errors and warnings per report (inline SVG geometry, computed here)."""
    rows = [r for r in rows if r["errors"] or r["warnings"]][:CHART_ROWS]
    peak = max((r["errors"] + r["warnings"] for r in rows), default=0) or 1
    bar_x, bar_w, h = 230, 440, 22
    bars = []
    for n, r in enumerate(rows):
        we = bar_w * r["errors"] / peak
        ww = bar_w * r["warnings"] / peak
        name = f"{r['agency']} {r['year'] or ''}".strip()
        bars.append(
            {
                "y": n * h,
                "label": name if len(name) <= 16 else name[:15] + "…",
                "full": name,
                "we": round(we, 1),
                "ww": round(ww, 1),
                "xw": round(bar_x + we, 1),
                "xt": round(bar_x + we + ww + 6, 1),
                "errors": r["errors"],
                "warnings": r["warnings"],
            }
        )
    return {"bars": bars, "height": len(bars) * h + 4, "bar_x": bar_x, "width": bar_x + bar_w + 80}


def _registry_view(outcome: RunOutcome) -> dict[str, Any] | None:
    status = registry_status(outcome)
    if status is None:
        return None
    keys = {a.key for a in outcome.registry or []}
    unregistered = [f for f in outcome.files if f.agency and normalise_agency(f.agency) not in keys]
    return {"expected": len(keys), "years": status, "unregistered": unregistered}


def _county_rows(outcome: RunOutcome) -> dict[str, Any] | None:
    """The per-county table a run may carry (``outcome.extra["counties"]``: rows of named columns)."""
    rows = outcome.extra.get("counties")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        return None
    head = [str(k) for k in rows[0]]
    return {"head": head, "rows": [[fmt_value(r.get(k)) if r.get(k) is not None else "" for k in head] for r in rows]}


def _gx_link(outcome: RunOutcome, out: Path) -> dict[str, Any] | None:
    rel = outcome.extra.get("gx_docs")
    if not rel or not isinstance(rel, str):
        return None
    # a relative path inside the output folder, never a URL (no scheme such as javascript:)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", rel) or rel.startswith(("/", "\\")):
        return {"href": None, "text": rel, "state": "outside"}
    try:
        target = inside(out, rel)
    except UnsafePath:
        return {"href": None, "text": rel, "state": "outside"}
    text = Path(rel).as_posix()
    if not target.is_file():
        return {"href": None, "text": text, "state": "missing"}
    return {"href": quote(text, safe="/"), "text": text, "state": "ok"}


def _news(q: Quality) -> dict[str, Any]:
    o, rv = q.outcome, q.review
    new_ids = sorted(rv.new_findings(), key=lambda k: (SEV_RANK.get(o.findings[k].severity, 3), k))
    new_rows: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for k in new_ids:
        f = o.findings[k]
        rows = new_rows[f.severity == "info"]
        if len(rows) >= NEWS_LIMIT:
            continue
        page = q.page_of_finding(f)
        rows.append(
            {
                "agency": f.agency or "（未识别机关）",
                "year": f.year,
                "rule": f.rule,
                "severity": f.severity,
                "sev_zh": SEVERITY_ZH.get(f.severity, f.severity),
                "message": f.message,
                "href": f"{REPORTS_DIR}/{page}#f-{k}" if page else None,
            }
        )
    n_info = sum(1 for k in new_ids if o.findings[k].severity == "info")
    by_file = {fo.file: i for i, fo in enumerate(o.files)}
    resolved = []
    for pf in rv.resolved[:NEWS_LIMIT]:
        i = by_file.get(pf.get("now_file", ""))
        resolved.append(
            {
                "agency": pf.get("agency") or "（未识别机关）",
                "year": pf.get("year"),
                "rule": str(pf.get("rule")),
                "message": str(pf.get("message") or ""),
                "href": f"{REPORTS_DIR}/{q.pages[i]}" if i is not None else None,
            }
        )
    counts = rv.counts()
    return {
        "has_previous": rv.has_previous,
        "previous": str(rv.previous) if rv.previous else None,
        "previous_started_at": rv.previous_started_at,
        "counts": counts,
        "new": new_rows[False],
        "new_more": max(0, counts["new"] - n_info - NEWS_LIMIT),
        "new_info": new_rows[True],
        "new_info_count": n_info,
        "resolved": resolved,
        "resolved_more": max(0, counts["resolved"] - NEWS_LIMIT),
        "submitted": [_file_row(q, i, o.files[i], "") for i in rv.files_with(SUBMITTED)[:NEWS_LIMIT]],
        "corrected": [_file_row(q, i, o.files[i], "") for i in rv.files_with(CORRECTED)[:NEWS_LIMIT]],
        "withdrawn": [
            {"file": str(s.get("file")), "agency": s.get("agency") or "（未识别机关）", "year": s.get("year")}
            for s in rv.withdrawn[:NEWS_LIMIT]
        ],
    }


def _rules_rows(outcome: RunOutcome) -> list[dict[str, Any]]:
    n = Counter(f.rule for f in outcome.findings)
    reports: dict[str, set[int]] = {}
    for f in outcome.findings:
        reports.setdefault(f.rule, set()).add(f.report)
    cat = catalogue()
    rows: list[dict[str, Any]] = []
    for code, cnt in n.items():
        rule = cat.get(code)
        sev = rule.severity.value if rule else "info"
        rows.append(
            {
                "code": code,
                "title": rule.title if rule else code,
                "severity": sev,
                "sev_zh": SEVERITY_ZH.get(sev, sev),
                "count": cnt,
                "reports": len(reports[code]),
            }
        )
    rows.sort(key=lambda row: (SEV_RANK.get(row["severity"], 3), -row["count"], row["code"]))
    peak = max((row["count"] for row in rows), default=1)
    for row in rows:
        row["pct"] = round(100 * row["count"] / peak, 1)
    return rows


def index_context(q: Quality, out: Path) -> dict[str, Any]:
    o = q.outcome
    order = _worst_order(o.files)
    rows = [_file_row(q, i, o.files[i], "") for i in order]
    states = Counter(r["state_cls"] for r in rows)
    return {
        "run": {
            "started_at": o.started_at,
            "ruleset": o.ruleset_version,
            "inputs": o.inputs,
            "timings": {k: round(v, 2) for k, v in o.timings.items()},
        },
        "counts": {
            "files": o.n_files,
            "ok": states["ok"],
            "error": states["error"],
            "warning": states["warning"],
            "unreadable": states["unreadable"],
            "errors": o.n_errors,
            "warnings": o.n_warnings,
            "infos": sum(1 for f in o.findings if f.severity == "info"),
        },
        "news": _news(q),
        "registry": _registry_view(o),
        "rules": _rules_rows(o),
        "chart": _chart(rows),
        "reports": rows,
        "gx": _gx_link(o, out),
        "counties": _county_rows(o),
        "problems": q.review.problems,
    }


def report_context(q: Quality, i: int) -> dict[str, Any]:
    o = q.outcome
    fo = o.files[i]
    rep = o.reports[fo.report] if 0 <= fo.report < len(o.reports) else None
    fs = q.file_findings(fo)
    fmt = (rep.fmt if rep is not None else None) or Fmt.F2021
    flags = flags_of(fs)
    by_k = dict(fs)
    pairs = sorted(fs, key=lambda p: (SEV_RANK.get(p[1].severity, 3), p[1].rule, p[0]))
    views = [finding_view(q, k, f, fmt, i) for k, f in pairs]
    structural = [v for v, (_k, f) in zip(views, pairs, strict=True) if _is_structural(f)]
    per_table: dict[str, list[dict[str, Any]]] = {"2": [], "3": [], "4": []}
    for v, (_k, f) in zip(views, pairs, strict=True):
        if not _is_structural(f):
            per_table.setdefault(f.cells[0].split(":")[0], []).append(v)
    suspects: dict[tuple[int, str], dict[str, Any]] = {}
    for v in views:
        for s in v["suspects"]:
            entry = suspects.setdefault((s["alternative"], s["cell"]), s | {"rules": []})
            if v["rule"] not in [r for r, _a in entry["rules"]]:
                entry["rules"].append((v["rule"], v["id"]))
    readable = rep is not None and rep.readable
    cells = cell_views(rep, fmt, flags, by_k) if readable and rep is not None else {}
    if not cells:
        cells = dict.fromkeys(_cell_titles(fmt), "")
    return {
        "fo": fo,
        "rep": rep,
        "readable": readable,
        "fmt": fmt.value,
        "fmt_name": "2021 年格式（国办公开办函〔2021〕30号）"
        if fmt is Fmt.F2021
        else "2019 年格式（国办公开办函〔2019〕60号）",
        "row": _file_row(q, i, fo, "../"),
        "findings": views,
        "structural": structural,
        "per_table": per_table,
        "suspects": [suspects[key] for key in sorted(suspects)],
        "alternatives": len({a for a, _c in suspects}),
        "t2_html": [_rows_html(cells, (r.cells for r in b.rows)) for b in t2_blocks(fmt)],
        "t3_html": _rows_html(cells, (r.cells for r in t3_rows(fmt))),
        "t4_html": _rows_html(cells, [T4_CELLS])[0],
        "el": _element_flags(flags),
        "t2": t2_blocks(fmt),
        "t3": t3_rows(fmt),
        "t3_head": T3_HEAD,
        "t4_head": T4_HEAD,
        "t4_cells": T4_CELLS,
        "table_names": {t: table_name(t) for t in ("2", "3", "4")},
        "change": CHANGE_ZH[q.review.report_change[i]],
    }


def rules_context(outcome: RunOutcome | None = None) -> dict[str, Any]:
    n = Counter(f.rule for f in outcome.findings) if outcome is not None else Counter()
    rows = []
    for r in catalogue().values():
        rows.append(
            {
                "code": r.code,
                "family": r.family,
                "title": r.title,
                "severity": r.severity.value,
                "sev_zh": SEVERITY_ZH[r.severity.value],
                "citation": r.citation,
                "checks": r.checks,
                "why": r.why,
                "fix": r.fix,
                "message": r.message,
                "retired": r.retired,
                "count": n.get(r.code, 0),
            }
        )
    return {"rules": rows, "ruleset": ruleset_version()}


def _render(name: str, ctx: dict[str, Any]) -> str:
    return _template(name).render(ctx)


def render_index(q: Quality, out: Path) -> str:
    return _render("index.html.j2", index_context(q, out))


def render_report(q: Quality, i: int) -> str:
    return _render("report.html.j2", report_context(q, i))


def render_rules(outcome: RunOutcome | None = None) -> str:
    return _render("rules.html.j2", rules_context(outcome))


def write_html(
    outcome: RunOutcome,
    out: Path,
    previous: Path | None = None,
    acks: Path | None = None,
    *,
    quality: Quality | None = None,
    only: Iterable[int] | None = None,
) -> Quality:
    """Write ``out/index.html``, ``out/rules.html`` and ``out/reports/<page>.html`` (atomically).

    ``previous``: the folder of the previous run of the same inputs (for "what changed");
    ``acks``: the acknowledgements CSV.  ``only``: render the pages of these file indices only."""
    q = quality if quality is not None else prepare(outcome, out, previous, acks)
    out.mkdir(parents=True, exist_ok=True)
    write_text(inside(out, "rules.html"), render_rules(outcome))
    (out / REPORTS_DIR).mkdir(exist_ok=True)
    for i in only if only is not None else range(len(outcome.files)):
        write_text(page_path(out, REPORTS_DIR, q.pages[i]), render_report(q, i))
    write_text(inside(out, "index.html"), render_index(q, out))
    return q
