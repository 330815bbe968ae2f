"""Excel workbooks (.xlsx): a filled-in template, the whole report on one sheet or one sheet per table.

Read with openpyxl in read-only, values-only mode (cached formula results) after the package
checks of :mod:`nianbao.io.ooxml`; openpyxl parses the sheets with defusedxml.  A merged range
keeps its value in the top-left cell and leaves the others empty — the grid a copy prints.  Each
row is a line; its cells are located as ``工作表“表三” B7``.  When the statutory tables are on
sheets of their own (named 表二/表三/表四, or recognised by their content), each table sheet is
read right after its section heading on the report sheet, so it is found in its section.
"""

from __future__ import annotations

import io
import math
import re
from datetime import date, datetime, time
from typing import Any

from nianbao.io.limits import Limits, Unreadable, check_cells, check_line_chars
from nianbao.io.lines import Line
from nianbao.io.ooxml import checked_package

SHORT = 60  # a single cell longer than this in a wide row is a paragraph, not a table row label
_HEADING = re.compile(r"^\s*([二三四])[、.]")
_SHEET_TABLE = (
    (re.compile(r"表\s*[二2]|主动公开"), "二"),
    (re.compile(r"表\s*[三3]|依申请|申请情况"), "三"),
    (re.compile(r"表\s*[四4]|复议|诉讼"), "四"),
)


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        if abs(v) >= 1e15:
            return format(v, "f").split(".")[0]
        return repr(v)
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    return str(v)


def _col_letter(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _sheet_lines(ws: Any, limits: Limits, seq: list[int]) -> list[Line]:
    name = ws.title
    out: list[Line] = []
    ws.reset_dimensions()  # the stored dimension may lie; read the rows that are there
    for r, row in enumerate(ws.iter_rows(values_only=True), 1):
        if r > limits.max_lines:
            raise Unreadable("U05", detail=f"工作表“{name}”超过 {limits.max_lines} 行")
        if len(row) > limits.max_cells_per_row:
            last = max((j for j, v in enumerate(row) if v is not None), default=-1)
            if last + 1 > limits.max_cells_per_row:
                check_cells(last + 1, f"工作表“{name}”第 {r} 行", limits)
            row = row[: last + 1]
        cells = [_text(v) for v in row]
        nonempty = [c for c in cells if c.strip()]
        if not nonempty and len(cells) < 2:
            continue  # (a row of formatted blank cells stays: it may be a table row left blank)
        if len(nonempty) == 1 and len(nonempty[0]) > SHORT:
            # a paragraph typed in a formatted sheet: not a table row, whatever the sheet's width
            while cells and not cells[-1].strip():
                cells.pop()
        for c in cells:
            if len(c) > limits.max_line_chars:
                check_line_chars(len(c), f"工作表“{name}”第 {r} 行", limits)
        seq[0] += 1
        where = f"工作表“{name}” 第{r}行"
        if len(cells) == 1:
            out.append(Line(cells, r, where=where, cell_where=[f"工作表“{name}” A{r}"]))
        else:
            out.append(
                Line(
                    cells,
                    r,
                    where=where,
                    table=True,
                    cell_where=[f"工作表“{name}” {_col_letter(j)}{r}" for j in range(1, len(cells) + 1)],
                )
            )
        if seq[0] > limits.max_lines:
            raise Unreadable("U05", detail=f"工作簿超过 {limits.max_lines} 行")
    return out


def _table_of(name: str, lines: list[Line]) -> str | None:
    for pat, num in _SHEET_TABLE:
        if pat.search(name):
            return num
    head = "".join("".join(ln.cells) for ln in lines[:6])
    if "第二十条" in head:
        return "二"
    if "申请人情况" in head or "本年新收" in head:
        return "三"
    if "行政复议" in head and "行政诉讼" in head:
        return "四"
    return None


def xlsx_lines(data: bytes, limits: Limits) -> list[Line]:
    checked_package(data, limits, "Excel ")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        seq = [0]
        sheets = [(ws.title, _sheet_lines(ws, limits, seq)) for ws in wb.worksheets]
    finally:
        wb.close()
    if len(sheets) == 1:
        return sheets[0][1]
    main: list[Line] = []
    tables: dict[str, list[Line]] = {}
    rest: list[Line] = []
    for name, lines in sheets:
        num = _table_of(name, lines)
        if num is not None and num not in tables and main:
            tables[num] = lines
        elif not main:
            main = lines
        else:
            rest.extend(lines)
    out: list[Line] = []
    for ln in main:
        out.append(ln)
        m = _HEADING.match(ln.cells[0]) if len(ln.cells) == 1 else None
        if m and m.group(1) in tables:
            out.extend(tables.pop(m.group(1)))
    for num in ("二", "三", "四"):
        out.extend(tables.pop(num, []))
    return out + rest
