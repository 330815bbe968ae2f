"""Report-level rules on one row per report: title and agency (P03, P04), statistical period (P01,
P02), the format version for the year (R01), invalid bytes in a text file (U09) —
:data:`schemas.meta.META_RULES`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from nianbao.domain.model import ParsedReport
from nianbao.outcome import Finding, finding_for
from nianbao.rules.base import failing_rows, with_reports
from nianbao.rules.family import Batch, Family
from schemas.meta import META_RULES, meta_schema


def meta_findings(batch: Batch) -> list[Finding]:
    return findings_of(batch.reports, failing_rows(meta_schema(), batch.meta))


def findings_of(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    """The findings of the failing rows of the meta frame (one row per report)."""
    out: list[Finding] = []
    for ri, rep, code, d in with_reports(reports, rows):
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


FAMILY = Family("meta", lambda: frozenset(META_RULES), meta_findings, reads=frozenset({"meta"}))
