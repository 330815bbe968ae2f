"""pandera schemas (polars backend) of the statutory format, compiled from the rule catalogue."""

from schemas.cells import CELL_RULES, cells_schema
from schemas.layout import LAYOUT_RULES, layout_schema
from schemas.meta import META_RULES, meta_schema
from schemas.tables import table_schema

__all__ = [
    "CELL_RULES",
    "LAYOUT_RULES",
    "META_RULES",
    "cells_schema",
    "layout_schema",
    "meta_schema",
    "table_schema",
]
