"""Word documents (.docx): paragraphs and tables in document order, merged cells as the grid prints them.

Read with python-docx after the package checks of :mod:`nianbao.io.ooxml`.  A table row is read
from the XML: ``w:gridBefore`` leaves empty leading cells, a cell spanning ``w:gridSpan`` columns
puts its text in the first and empties after it, a ``w:vMerge`` continuation cell is empty — the
same grid a copy from Word gives as tab-separated text.  Word's automatic numbering is resolved
(a heading numbered "一、" by a numbering definition has no "一、" in its text): the numbering
definitions' level texts (``%1、``, ``（%1）``) and formats (decimal, Chinese counting, …) give the
printed prefix.
"""

from __future__ import annotations

import io
from typing import Any

from nianbao.io.limits import Limits, check_cells, check_line_chars, check_lines
from nianbao.io.lines import Line, table_row
from nianbao.io.ooxml import checked_package

_CN = "零一二三四五六七八九"


def _chinese(n: int) -> str:
    if n <= 0:
        return str(n)
    if n < 10:
        return _CN[n]
    if n < 20:
        return "十" + (_CN[n - 10] if n > 10 else "")
    if n < 100:
        return _CN[n // 10] + "十" + (_CN[n % 10] if n % 10 else "")
    return str(n)


def _roman(n: int) -> str:
    vals = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
            (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))  # fmt: skip
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out


def _fmt_number(n: int, fmt: str) -> str:
    if fmt in ("decimal", "decimalZero"):
        return str(n)
    if fmt.startswith(("chinese", "ideograph", "japaneseCounting", "taiwanese")):
        return _chinese(n)
    if fmt == "decimalFullWidth" or fmt == "decimalFullWidth2":
        return "".join(chr(ord(c) + 0xFEE0) for c in str(n))
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt in ("lowerLetter", "upperLetter"):
        s = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return s.upper() if fmt == "upperLetter" else s
    if fmt in ("lowerRoman", "upperRoman"):
        s = _roman(n)
        return s.lower() if fmt == "lowerRoman" else s
    if fmt in ("bullet", "none"):
        return ""
    return str(n)


class _Numbering:
    """Printed prefixes of automatically numbered paragraphs."""

    def __init__(self, doc: Any) -> None:
        from docx.oxml.ns import qn

        self.qn = qn
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # numId -> ilvl -> (fmt, text, start)
        self.counters: dict[str, list[int]] = {}
        self.style_num: dict[str, tuple[str, int]] = {}
        try:
            numbering = doc.part.numbering_part.element
        except (NotImplementedError, KeyError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for an in numbering.findall(qn("w:abstractNum")):
            lv: dict[int, tuple[str, str, int]] = {}
            for lvl in an.findall(qn("w:lvl")):
                ilvl = int(lvl.get(qn("w:ilvl"), "0"))
                fmt = lvl.find(qn("w:numFmt"))
                text = lvl.find(qn("w:lvlText"))
                start = lvl.find(qn("w:start"))
                lv[ilvl] = (
                    fmt.get(qn("w:val"), "decimal") if fmt is not None else "decimal",
                    text.get(qn("w:val"), "") if text is not None else "",
                    int(start.get(qn("w:val"), "1")) if start is not None else 1,
                )
            abstract[an.get(qn("w:abstractNumId"), "")] = lv
        for num in numbering.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            if ref is not None:
                self.levels[num.get(qn("w:numId"), "")] = abstract.get(ref.get(qn("w:val"), ""), {})
        try:
            for style in doc.styles.element.findall(qn("w:style")):
                np_ = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
                if np_ is not None:
                    nid = np_.find(qn("w:numId"))
                    il = np_.find(qn("w:ilvl"))
                    if nid is not None:
                        self.style_num[style.get(qn("w:styleId"), "")] = (
                            nid.get(qn("w:val"), ""),
                            int(il.get(qn("w:val"), "0")) if il is not None else 0,
                        )
        except AttributeError:
            pass

    def prefix(self, p: Any) -> str:
        if not self.levels:
            return ""
        qn = self.qn
        ppr = p.find(qn("w:pPr"))
        num: tuple[str, int] | None = None
        if ppr is not None:
            np_ = ppr.find(qn("w:numPr"))
            if np_ is not None:
                nid = np_.find(qn("w:numId"))
                il = np_.find(qn("w:ilvl"))
                if nid is not None:
                    num = (nid.get(qn("w:val"), ""), int(il.get(qn("w:val"), "0")) if il is not None else 0)
            if num is None:
                ps = ppr.find(qn("w:pStyle"))
                if ps is not None:
                    num = self.style_num.get(ps.get(qn("w:val"), ""))
        if num is None or num[0] == "0" or num[0] not in self.levels:
            return ""
        nid, ilvl = num
        levels = self.levels[nid]
        if ilvl not in levels:
            return ""
        counters = self.counters.setdefault(nid, [0] * 10)
        ilvl = min(ilvl, 9)
        counters[ilvl] = counters[ilvl] + 1 if counters[ilvl] else levels[ilvl][2]
        for deeper in range(ilvl + 1, 10):
            counters[deeper] = 0
        fmt, text, _start = levels[ilvl]
        if fmt == "bullet":
            return ""
        out = text
        for k in range(ilvl, -1, -1):
            kfmt = levels.get(k, ("decimal", "", 1))[0]
            n = counters[k] or levels.get(k, ("decimal", "", 1))[2]
            out = out.replace(f"%{k + 1}", _fmt_number(n, kfmt))
        return out


def _tc_text(tc: Any, qn: Any) -> str:
    parts = []
    for p in tc.iter(qn("w:p")):
        parts.append("".join(t.text or "" for t in p.iter(qn("w:t"))))
    return " ".join(x for x in parts if x).strip()


def docx_lines(data: bytes, limits: Limits) -> list[Line]:
    checked_package(data, limits, "Word ")
    import docx
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    d = docx.Document(io.BytesIO(data))
    numbering = _Numbering(d)
    lines: list[Line] = []
    k = 0
    for block in d.iter_inner_content():
        if isinstance(block, Paragraph):
            text = numbering.prefix(block._p) + block.text
            check_line_chars(len(text), f"第 {len(lines) + 1} 段", limits)
            lines.append(Line([text], len(lines) + 1))
            continue
        if not isinstance(block, Table):
            continue
        k += 1
        cells_total = 0
        for r, tr in enumerate(block._tbl.tr_lst, 1):
            row: list[str] = [""] * (tr.grid_before or 0)
            for tc in tr.tc_lst:
                span = max(1, min(int(tc.grid_span or 1), limits.max_cells_per_row))
                text = "" if tc.vMerge == "continue" else _tc_text(tc, qn)
                check_line_chars(len(text), f"表格{k} 第{r}行", limits)
                row.append(text)
                row.extend([""] * (span - 1))
                if len(row) > limits.max_cells_per_row:
                    check_cells(len(row), f"表格{k} 第{r}行", limits)
            cells_total += len(row)
            if cells_total > limits.max_table_cells:
                from nianbao.io.limits import Unreadable

                raise Unreadable("U05", detail=f"表格{k}超过 {limits.max_table_cells} 个单元格")
            where = f"表格{k} 第{r}行"
            lines.append(table_row(row, len(lines) + 1, where))
        check_lines(len(lines), limits)
    return lines
