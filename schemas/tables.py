"""One pandera schema per statutory table and format (表二, 表三, 表四; 2021 and 2019 formats).

Each frame has one row per report and one Float64 column per canonical cell id of the table; the
sum rules A–D of the catalogue are checks on it.  Table 二 has no sum rule of its own: its
schema fixes the row/column structure (the cell-level rules G live in :mod:`schemas.cells`).
"""

from __future__ import annotations

from nianbao.catalogue import derived, linear_rules
from nianbao.domain.spec import Fmt, tables
from schemas._compile import linear_check, value_columns
from schemas._pandera import pa


@derived
def table_schema(fmt: Fmt, table: str) -> pa.DataFrameSchema:
    t = tables(fmt)[table]
    checks = [linear_check(r) for r in linear_rules(fmt) if r.table == table]
    return pa.DataFrameSchema(
        value_columns(t.cells()),
        checks=checks,
        name=f"table{table}_{fmt.value}",
        title=f"{t.title}（{fmt.value} 年格式）",
        strict=True,
    )
