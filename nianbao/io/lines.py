"""A line of cells: what every loader (:mod:`nianbao.io`) gives the parser (:mod:`nianbao.read.parse`).

A paragraph is a line with one cell, a table row a line with several.  The contract between the
io layer (bytes → lines of cells) and the reading of a report (lines of cells → a parsed report).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Line:
    cells: list[str]
    no: int  # 1-based line number (or running row number for non-text sources)
    where: str | None = None  # e.g. "表格2 第3行" for DOCX/HTML/XLSX sources
    table: bool = False  # a row of a table (several cells), not a paragraph
    # display-column span of each cell, for rows whose columns are aligned by spaces (pdftotext -layout)
    spans: list[tuple[int, int]] | None = None
    # the source location of each cell ("表格3 第4行第5格", "工作表“表三” B7"), for non-text sources
    cell_where: list[str] | None = None
    # cells split at single spaces by the grid reader: a blank cell left no trace, so the count of
    # values is all there is to place them by
    loose: bool = False

    @property
    def text(self) -> str:
        return "\t".join(self.cells)


def table_row(cells: list[str], no: int, where: str) -> Line:
    """A row of a document's table, each cell placed by the row's ``where`` and its number
    (“表格3 第4行” → “表格3 第4行第5格”): the Word, HTML and PDF readers' table rows."""
    return Line(cells, no, where=where, table=True, cell_where=[f"{where}第{j}格" for j in range(1, len(cells) + 1)])
