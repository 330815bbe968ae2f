"""Traditional characters: converted to simplified for matching, the printed text kept.

Sites offer a 繁體 switch, and a page copied from it prints ``政府信息公開工作年度報告`` and
``收到和處理政府信息公開申請情況``.  Labels, headings and the prose patterns are all simplified, so
the lines are converted with OpenCC's ``t2s`` dictionaries (the OpenCC project's own C++ library,
through its Python wheel) before they are read.  Only a text that has traditional characters is
converted (:func:`has_traditional`: one pass over the text against a set of characters that exist
only in traditional script), each distinct cell text once (cached).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

# characters of these reports that are written differently in traditional script (their
# simplified forms are the statutory vocabulary: 开 处 报 请 条 与 实 于 会 机 关 数 …)
_TRADITIONAL = frozenset(
    "開處報請條與實於會機關數據況結轉繼續辦總計複議訴訟維審組織構務權們這個為從來時間發現過當區鎮縣將對門網絡應體"
    "製項類規範許費陸屬絕內過資訊頁聯繫電話郵編稱標題負責規劃決議預統產業環節農業險諮詢動態圖書閱覽遞辦結"
    "備註單價費額補處罰強認確獲視頻導讀樣"
)


TRADITIONAL_CLASS = "".join(sorted(_TRADITIONAL))  # the characters, as the inside of a regex class
_FIND = re.compile("[" + TRADITIONAL_CLASS + "]")  # one scan in C, no object per character


def has_traditional(text: str) -> bool:
    """Whether the text has characters written only in traditional script."""
    return _FIND.search(text) is not None


@cache
def _converter() -> object:
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1 << 14)
def to_simplified(text: str) -> str:
    """The text in simplified characters (OpenCC t2s); unchanged when it has nothing to convert."""
    if not text or text.isascii():
        return text
    return str(_converter().convert(text))  # type: ignore[attr-defined]


__all__ = ["TRADITIONAL_CLASS", "has_traditional", "to_simplified"]
