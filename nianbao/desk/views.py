"""Findings as the desk's pages and the notice show them: the statutory words of the catalogue,
the cells by their printed labels, the likely fix of each suspect cell."""

from __future__ import annotations

from typing import Any

from nianbao.catalogue import catalogue
from nianbao.desk.db import DECISION_ZH, OPEN, Review
from nianbao.desk.review import when_zh
from nianbao.domain.spec import Fmt, cell_label, table_name
from nianbao.report.html import fmt_value
from nianbao.report.quality import SEVERITY_ZH, cause_zh

CELLS_SHOWN = 12


def fmt_of(format_: str | None) -> Fmt:
    return Fmt(format_) if format_ in ("2019", "2021") else Fmt.F2021


def cell_text(fmt: Fmt, cid: str) -> str:
    """表三“…”: where a cell is printed, in the report's words (the id when it is not a cell of the format)."""
    try:
        return f"{table_name(cid.split(':')[0])[:2]}“{cell_label(fmt, cid)}”"
    except (KeyError, ValueError, IndexError):
        return cid


def likely_fixes(fmt: Fmt, d: dict[str, Any]) -> list[str]:
    """把表三“…”由 25 改为 52（相邻两位数字颠倒） — one line per suspect cell (alternatives numbered)."""
    out: list[str] = []
    sus = d.get("suspects")
    if not isinstance(sus, list):
        return out
    alts = {int(s.get("alternative") or 0) for s in sus if isinstance(s, dict)}
    for s in sus[:CELLS_SHOWN]:
        if not isinstance(s, dict):
            continue
        rep = s.get("reported")
        was = f"由 {fmt_value(rep)} " if rep is not None else "由空白"
        line = f"把{cell_text(fmt, str(s.get('cell')))}{was}改为 {fmt_value(s.get('suggested'))}"
        cause = cause_zh(str(s.get("cause") or ""))
        if cause:
            line += f"（{cause}）"
        if len(alts) > 1:
            line = f"改法{int(s.get('alternative') or 0) + 1}：{line}"
        out.append(line)
    return out


def finding_view(k: int, d: dict[str, Any], fmt: Fmt, review: Review | None) -> dict[str, Any]:
    rule = catalogue().get(str(d["rule"]))
    cells = [str(c) for c in d.get("cells") or []]
    sev = str(d.get("severity") or "info")
    state = review.state if review is not None else OPEN
    return {
        "k": k,
        "id": f"f-{k}",
        "rule": d["rule"],
        "title": rule.title if rule else d["rule"],
        "citation": rule.citation if rule else "",
        "severity": sev,
        "sev_zh": SEVERITY_ZH.get(sev, sev),
        "message": str(d.get("message") or ""),
        "expected": fmt_value(d.get("expected")),
        "actual": fmt_value(d.get("actual")),
        "fix": str(d.get("fix") or ""),
        "quote": d.get("quote") if isinstance(d.get("quote"), str) else None,
        "line": d.get("line") if isinstance(d.get("line"), int) else None,
        "where": d.get("where") if isinstance(d.get("where"), str) else None,
        "cells": [cell_text(fmt, c) for c in cells[:CELLS_SHOWN]],
        "more_cells": max(0, len(cells) - CELLS_SHOWN),
        "likely": likely_fixes(fmt, d),
        "state": state,
        "state_zh": DECISION_ZH[state],
        "reason": review.reason if review is not None else "",
        "by": review.user if review is not None else "",
        "at": when_zh(review.updated_at) if review is not None else "",
        "version": review.version if review is not None else 0,
    }
