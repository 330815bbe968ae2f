"""The short Chinese summary printed at the end of a CLI run."""

from __future__ import annotations

from pathlib import Path

from nianbao.outcome import PASS_MEANS, STATE_ZH, RunOutcome


def states_line(outcome: RunOutcome) -> str:
    """报告：通过 N 份，仅有警告 N 份，有错误 N 份，无法读取 N 份（“通过”指…） — the same counts and
    words as the overview's cards and the county tables."""
    c = outcome.state_counts()
    return "报告：" + "，".join(f"{STATE_ZH[k]} {c[k]} 份" for k in STATE_ZH) + f"（{PASS_MEANS}）。"


def summary_lines(outcome: RunOutcome, out: Path | None = None) -> list[str]:
    validated = outcome.n_files - outcome.n_unreadable
    found = outcome.extra.get("discovered", outcome.n_files)
    dups = sum(1 for f in outcome.files if f.duplicate_of)
    lines = [
        f"校验完成：共发现 {found} 个文件，输出 {len(outcome.files)} 条文件记录；"
        f"已校验 {validated} 个，无法读取 {outcome.n_unreadable} 个"
        + (f"，其中 {dups} 个与其他文件内容完全相同" if dups else "")
        + "。",
        f"发现错误 {outcome.n_errors} 条，警告 {outcome.n_warnings} 条。",
        states_line(outcome),
    ]
    worst = outcome.worst(5)
    if worst:
        lines.append("问题最多的报告：")
        for k, f in enumerate(worst, 1):
            who = f.agency or "（未识别机关）"
            if f.status != "validated":
                lines.append(f"  {k}. {f.file}：无法读取 —— {f.reason}")
            else:
                lines.append(f"  {k}. {f.file}（{who} {f.year or ''}）：错误 {f.errors} 条，警告 {f.warnings} 条")
    if out is not None:
        lines.append(f"报告已写入：{out}")
    return lines
