"""The auditor's rule reference, generated from the catalogue (Markdown here; HTML in the report)."""

from __future__ import annotations

from nianbao.catalogue import catalogue, ruleset_version

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


def rules_markdown() -> str:
    out = [
        "# 校验规则说明（nianbao 规则目录）",
        "",
        "本页由 `nianbao rules` 根据规则目录 `nianbao/catalogue/catalogue.toml` 自动生成，请勿手工编辑。",
        f"规则集版本：`{ruleset_version()}`。",
        "",
        "| 代码 | 级别 | 规则 | 依据 |",
        "|---|---|---|---|",
    ]
    for r in catalogue().values():
        if r.retired:
            continue
        out.append(f"| [{r.code}](#{r.code.lower()}) | {SEVERITY_ZH[r.severity.value]} | {r.title} | {r.citation} |")
    out.append("")
    for r in catalogue().values():
        out += [
            f"## {r.code}",
            "",
            f"**{r.title}**（{SEVERITY_ZH[r.severity.value]}{'，已停用' if r.retired else ''}）",
            "",
            f"- 依据：{r.citation}",
            f"- 检查内容：{r.checks}",
            f"- 为什么重要：{r.why}",
            f"- 如何改正：{r.fix}",
            f"- 提示文字模板：{r.message}",
            "",
        ]
    return "\n".join(out)
