"""CSV submissions (a filled-in template saved as CSV by Excel/WPS): one record per line of cells.

The delimiter is the one the first lines use most (comma, tab or semicolon).  Trailing empty fields
are dropped (Excel pads every record to the sheet's width); a record with one field left is a
paragraph, a longer one a table row — as in the text loader.
"""

from __future__ import annotations

import csv
import io

from nianbao.io.limits import Limits, check_cells, check_line_chars, check_lines
from nianbao.io.lines import Line

SHORT = 60  # one short field in a padded record may be a table row label (a row of blank cells)


def _delimiter(text: str) -> str:
    head = text[:20000]
    counts = {d: head.count(d) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def csv_lines(text: str, limits: Limits) -> list[Line]:
    csv.field_size_limit(max(limits.max_line_chars + 1, 1024))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    out: list[Line] = []
    start = 1
    try:
        for rec in reader:
            no = start
            start = reader.line_num + 1
            nonempty = [c for c in rec if c.strip()]
            if len(nonempty) <= 1 and (not nonempty or len(nonempty[0]) > SHORT or not rec[0].strip()):
                # Excel pads every record to the sheet's width: a paragraph is one field
                while rec and not rec[-1].strip():
                    rec.pop()
            if len(rec) > limits.max_cells_per_row:
                check_cells(len(rec), f"第 {no} 行", limits)
            for field in rec:
                if len(field) > limits.max_line_chars:
                    check_line_chars(len(field), f"第 {no} 行", limits)
            if len(rec) <= 1:
                out.append(Line([rec[0] if rec else ""], no))
            else:
                out.append(Line(rec, no, table=True, cell_where=[f"第 {no} 行第 {j + 1} 列" for j in range(len(rec))]))
            if len(out) > limits.max_lines:
                check_lines(len(out), limits)
    except csv.Error as e:
        from nianbao.io.limits import Unreadable

        raise Unreadable("U01", detail=f"CSV 格式错误（第 {reader.line_num} 行：{e}）") from e
    return out
