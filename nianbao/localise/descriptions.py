"""The Chinese words of localisation: each status without suspects, each cause, and the likely fix."""

from __future__ import annotations

from nianbao.catalogue import format_number
from nianbao.domain.spec import Fmt, cell_words
from nianbao.localise.budget import MAX_SIZE
from nianbao.localise.localisation import Localisation
from nianbao.outcome import Suspect

STATUS_ZH = {
    "too_many_inconsistencies": (
        f"不一致之处过多，无法定位错误单元格：要使各项勾稽关系都成立，至少需改动 {MAX_SIZE + 1} 个单元格，"
        "请逐项核对表格数字。"
    ),
    "search_limit": "此报告的错误定位已达计算上限，未能定位错误单元格，请逐项核对表格数字。",
    "not_localised": "本次运行的错误定位工作量已用完，此报告未定位错误单元格。",
}

CAUSES_ZH = {
    "digit_typo": "录入时一位数字写错、多写或漏写",
    "transposed": "相邻两位数字颠倒",
    "sign": "正负号错误",
    "misplaced": "数字填到了同一行或同一列的其他单元格",
    "blank_total": "总计栏空白，应填合计数",
    "blank": "单元格空白，应填数字",
    "non_numeric": "单元格填的不是数字",
    "wrong_value": "数字填写有误",
}


def describe(loc: Localisation, fmt: Fmt) -> str:
    """中文: the likely fix, the tied alternatives ("无法唯一确定……"), or why there are no suspects
    (too many inconsistencies, the report's or the run's work bound).  Empty when no set exists."""
    if not loc.sets:
        return STATUS_ZH.get(loc.outcome, "")

    def one(s: Suspect) -> str:
        label = cell_words(s.cell, fmt)  # 表三“（一）予以公开”行“总计”列: as the report page names cells
        was = "空白" if s.reported is None else format_number(float(s.reported))
        return f"把{label}由 {was} 改为 {format_number(float(s.suggested))}（{CAUSES_ZH[s.cause]}）"

    if len(loc.sets) == 1 and loc.status != "ties_cut":
        return "最可能的改法：" + "，并".join(one(s) for s in loc.sets[0]) + "。"
    marks = "①②③④⑤⑥⑦⑧⑨⑩"
    shown = []
    for k, st in enumerate(loc.sets[:5]):
        shown.append(f"{marks[k]}" + "，并".join(one(s) for s in st))
    if loc.status == "ties_cut":  # the enumeration of the ties was cut short
        head = (
            f"无法唯一确定错误的单元格（改动同样少的方案可能不止所列 {len(loc.sets)} 种，每种改 {loc.size} 个单元格）："
        )
    else:
        more = f"等 {len(loc.sets)} 种" if len(loc.sets) > 5 else f" {len(loc.sets)} 种"
        head = f"无法唯一确定错误的单元格（改动同样少的方案有{more}，每种改 {loc.size} 个单元格）："
    return head + "；或".join(shown) + "。"
