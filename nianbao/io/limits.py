"""Limits that keep a hostile or broken submission from exhausting the machine, and the loader error.

Every limit is configurable through the environment (the CLI options set these variables, so the
worker processes see the same values):

=============================  =======  ===========================================================
variable                       default  what
=============================  =======  ===========================================================
``NIANBAO_MAX_FILE_MB``        50       size of one submitted file
``NIANBAO_MAX_UNZIPPED_MB``    200      total uncompressed size of a .docx/.xlsx package
``NIANBAO_MAX_ZIP_ENTRIES``    2000     number of members of a .docx/.xlsx package
``NIANBAO_PARSE_TIMEOUT``      60       seconds to parse one file (the worker is killed after it)
``NIANBAO_MAX_CELLS_PER_ROW``  300      cells in one table row (a statutory row has at most 18)
``NIANBAO_MAX_TABLE_CELLS``    200000   cells of one table (rows x columns, merged cells expanded)
``NIANBAO_MAX_LINES``          200000   lines (paragraphs + table rows) of one report
``NIANBAO_MAX_LINE_CHARS``     200000   characters of one line or paragraph
``NIANBAO_MAX_PDF_PAGES``      300      pages of one PDF
=============================  =======  ===========================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

# field of Limits → the environment variable that sets it
ENV = {
    "max_file_mb": "NIANBAO_MAX_FILE_MB",
    "max_unzipped_mb": "NIANBAO_MAX_UNZIPPED_MB",
    "max_zip_entries": "NIANBAO_MAX_ZIP_ENTRIES",
    "parse_timeout": "NIANBAO_PARSE_TIMEOUT",
    "max_cells_per_row": "NIANBAO_MAX_CELLS_PER_ROW",
    "max_table_cells": "NIANBAO_MAX_TABLE_CELLS",
    "max_lines": "NIANBAO_MAX_LINES",
    "max_line_chars": "NIANBAO_MAX_LINE_CHARS",
    "max_pdf_pages": "NIANBAO_MAX_PDF_PAGES",
}


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_mb: float = 50.0
    max_unzipped_mb: float = 200.0
    max_zip_entries: int = 2000
    parse_timeout: float = 60.0
    max_cells_per_row: int = 300
    max_table_cells: int = 200_000
    max_lines: int = 200_000
    max_line_chars: int = 200_000
    max_pdf_pages: int = 300

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_unzipped_bytes(self) -> int:
        return int(self.max_unzipped_mb * 1024 * 1024)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        env = os.environ if environ is None else environ
        kw: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV[f.name])
            if raw is None or not raw.strip():
                continue
            default = f.default
            try:
                value = float(raw) if isinstance(default, float) else int(raw)
            except ValueError:
                continue  # a malformed setting keeps the default (the CLI validates its own options)
            if value > 0:
                kw[f.name] = value
        return cls(**kw)


_cached: tuple[tuple[str | None, ...], Limits] | None = None


def current_limits() -> Limits:
    """The limits of this process (from the environment, re-read when it changes)."""
    global _cached
    key = tuple(os.environ.get(v) for v in ENV.values())
    if _cached is None or _cached[0] != key:
        _cached = (key, Limits.from_env())
    return _cached[1]


def env_name(field: str) -> str:
    return ENV[field]


class Unreadable(Exception):
    """A loader cannot read the file.  ``code`` is a U-rule of the catalogue, ``params`` fill its message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def check_cells(n: int, where: str, limits: Limits) -> None:
    """A table row of ``n`` cells: refuse absurd widths before any per-cell work."""
    if n > limits.max_cells_per_row:
        raise Unreadable("U05", detail=f"{where}有 {n} 个单元格，超过上限 {limits.max_cells_per_row} 个")


def check_line_chars(n: int, where: str, limits: Limits) -> None:
    if n > limits.max_line_chars:
        raise Unreadable("U05", detail=f"{where}长达 {n} 个字符，超过上限 {limits.max_line_chars} 个")


def check_lines(n: int, limits: Limits) -> None:
    if n > limits.max_lines:
        raise Unreadable("U05", detail=f"文件有 {n} 行（段落和表格行），超过上限 {limits.max_lines} 行")
