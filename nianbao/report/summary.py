"""The short Chinese summary printed at the end of a CLI run."""

from __future__ import annotations

from pathlib import Path

from nianbao.outcome import PASS_MEANS, STATE_ZH, RunOutcome
from nianbao.report.quality import agency_label


def states_line(outcome: RunOutcome) -> str:
    """报告：通过 N 份，仅有警告 N 份，有错误 N 份，无法读取 N 份（“通过”指…） — the same counts and
    words as the overview's cards and the county tables."""
    c = outcome.state_counts()
    return "报告：" + "，".join(f"{STATE_ZH[k]} {c[k]} 份" for k in STATE_ZH) + f"（{PASS_MEANS}）。"


def localisation_line(outcome: RunOutcome) -> str:
    """One line, only when some broken reports got no suspects because of a bound: too many
    inconsistencies, the report's own work bound, or the run's localisation budget."""
    c = outcome.info.localisation
    if not isinstance(c, dict):
        return ""
    parts = []
    if c.get("not_localised"):
        parts.append(
            f"{c['not_localised']} 份因本次运行的定位工作量已用完而未定位（可用环境变量 NIANBAO_LOCALISE_BUDGET 调大）"
        )
    if c.get("too_many_inconsistencies"):
        parts.append(f"{c['too_many_inconsistencies']} 份不一致之处过多，无法定位")
    if c.get("search_limit"):
        parts.append(f"{c['search_limit']} 份已达单份报告的定位计算上限")
    if not parts:
        return ""
    return "错误单元格定位：" + "；".join(parts) + "（这些报告的勾稽关系错误照常列出，只是没有“最可能的改法”）。"


def summary_lines(outcome: RunOutcome, out: Path | None = None) -> list[str]:
    validated = outcome.n_files - outcome.n_unreadable
    found = outcome.info.discovered if outcome.info.discovered is not None else outcome.n_files
    dups = sum(1 for f in outcome.files if f.duplicate_of)
    lines = [
        f"校验完成：共发现 {found} 个文件，输出 {len(outcome.files)} 条文件记录；"
        f"已校验 {validated} 个，无法读取 {outcome.n_unreadable} 个"
        + (f"，其中 {dups} 个与其他文件内容完全相同" if dups else "")
        + "。",
        f"发现错误 {outcome.n_errors} 条，警告 {outcome.n_warnings} 条。",
        states_line(outcome),
    ]
    loc = localisation_line(outcome)
    if loc:
        lines.append(loc)
    worst = outcome.worst(5)
    if worst:
        lines.append("问题最多的报告：")
        for k, f in enumerate(worst, 1):
            who = agency_label(f)
            if f.status != "validated":
                lines.append(f"  {k}. {f.file}：无法读取 —— {f.reason}")
            else:
                lines.append(f"  {k}. {f.file}（{who} {f.year or ''}）：错误 {f.errors} 条，警告 {f.warnings} 条")
    if out is not None:
        lines.append(f"报告已写入：{out}")
    return lines
