"""The text rules' batch machinery: the tables' side of each claim gathered by (report, kind), the
paragraph sums, and the prose handed to polars without changing the reports' own strings."""

from __future__ import annotations

import sys

import polars as pl

from nianbao.rules.frames import batch_arrays
from nianbao.rules.prose import CLAIM_SCHEMA, prose_lines
from nianbao.rules.prose.checks import claim_checks, paragraph_sums, table_targets
from tests.helpers import busy_seed, parse


def test_claim_checks_gathers_the_table_values_of_each_claims_report_and_kind() -> None:
    rep = parse(busy_seed())
    arrays = batch_arrays([rep])
    a = next(iter(arrays.values()))
    claims = pl.DataFrame(
        [
            (0, "三", 20, 0, 0, "received", 13),
            (0, "三", 20, 0, 1, "handled", 14),
            (1, "三", 20, 0, 0, "received", 13),  # a report without tables: no row
        ],
        schema=CLAIM_SCHEMA,
        orient="row",
    )
    checked = claim_checks(claims, table_targets(arrays))
    total, natural = a.column("3:1:total"), a.column("3:1:natural")
    handled = a.column("3:3.7:total")
    assert checked.select("report", "kind", "rule", "check_kind", "stated").rows() == [
        (0, "received", "H01", "equal", 13.0),
        (0, "handled", "H03", "equal", 14.0),
    ]
    assert checked.get_column("table").to_list() == [a.values[0, total], a.values[0, handled]]
    assert checked.get_column("natural").to_list() == [a.values[0, natural], a.values[0, a.column("3:3.7:natural")]]
    assert checked.get_column("table_line").to_list() == [a.lines[0, total], a.lines[0, handled]]


def test_paragraph_sums_leave_out_a_paragraph_stating_a_kind_twice() -> None:
    claims = pl.DataFrame(
        [
            (0, "一", 5, 0, 0, "received", 13),
            (0, "一", 5, 0, 1, "carried", 2),
            (0, "一", 5, 1, 0, "handled", 14),
            (0, "一", 5, 1, 1, "forwarded", 1),
            (0, "一", 5, 1, 2, "open", 8),
            (0, "一", 5, 1, 3, "partial", 2),
            (0, "一", 7, 0, 0, "handled", 3),
            (0, "一", 7, 0, 1, "handled", 4),  # stated twice: line 7 is ambiguous
            (1, "三", 2, 2, 0, "received", 1),
        ],
        schema=CLAIM_SCHEMA,
        orient="row",
    )
    sums = paragraph_sums(claims)
    assert sums.select("report", "line", "section", "sent", "received", "handled", "open", "refused").rows() == [
        (0, 5, "一", 0, 13, 14, 8, None),
        (1, 2, "三", 2, 1, None, None, None),
    ]
    assert sums.get_column("n_categories").to_list() == [2, 0]
    assert sums.get_column("parts").to_list() == [10, 0]


def test_prose_lines_leave_the_reports_strings_as_they_were() -> None:
    """polars gets the texts as UTF-8 bytes: a ``str`` handed over would keep a UTF-8 copy of
    itself cached for the report's life (its size grows by ~2.8 bytes per Chinese character)."""
    rep = parse(busy_seed())
    text = rep.sections.joined()
    size = sys.getsizeof(text)
    lines = prose_lines([rep])
    assert lines.height > 10 and "".join(lines.get_column("text").to_list()) in text
    assert sys.getsizeof(text) == size
