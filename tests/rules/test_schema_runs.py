"""How a schema runs (nianbao.rules.base.failures): pandera checks the frame's structure, the rule
checks run together in one pass — with exactly the failures pandera's own validation gives."""

from __future__ import annotations

from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from pandera.errors import SchemaErrors

from nianbao.domain.registry import load_registry, load_renames
from nianbao.read.load import load_bytes
from nianbao.rules import base
from nianbao.rules.families import families
from nianbao.rules.family import Batch
from schemas._compile import rule_schema

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def _pandera_failures(schema: pa.DataFrameSchema, df: pl.DataFrame) -> list[tuple[str, int]]:
    """(check, index) of every failing row as pandera's own validation reports it."""
    names = [c.name for c in schema.checks]
    try:
        schema.validate(df, lazy=True)
    except SchemaErrors as e:
        fc = e.failure_cases.filter(pl.col("check").is_in(names))
        got = {(c, int(i)) for c, i in fc.select("check", "index").iter_rows()}
        return sorted(got, key=lambda x: (names.index(x[0]), x[1]))
    return []


def test_every_schema_of_the_bundled_inbox_fails_the_rows_pandera_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[pa.DataFrameSchema, pl.DataFrame, pl.DataFrame]] = []
    real = base.failures

    def recording(schema: pa.DataFrameSchema, df: pl.DataFrame) -> pl.DataFrame:
        out = real(schema, df)
        seen.append((schema, df, out))
        return out

    monkeypatch.setattr(base, "failures", recording)
    files = sorted((DATA / "submissions").rglob("*.txt"))
    read = [load_bytes(str(p.relative_to(ROOT)), p.read_bytes()) for p in files]
    batch = Batch(
        [r for r in read if r.year == 2023],
        [r for r in read if r.year == 2022],
        load_renames(DATA / "renames.csv"),
        load_registry(DATA / "registry.csv"),
    )
    for family in families():
        assert family.check is not None
        family.check(batch)
    failing = set()
    for schema, df, out in seen:
        got = list(out.iter_rows())
        assert got == _pandera_failures(schema, df), schema.name
        if got:
            failing.add(schema.name)
    assert {s.name for s, _df, _out in seen} - failing <= {"prose_sums", "fee", "table3_2019", "table4_2019"}
    assert failing >= {"cells", "layout", "meta", "table3_2021", "table4_2021", "cross_year_E", "cross_year_F"}
    assert failing >= {"plausibility", "copies", "prose"}


SCHEMA = rule_schema(
    {"report": pa.Column(pl.UInt32), "a": pa.Column(pl.Float64, nullable=True), "b": pa.Column(pl.Float64)},
    {"G01": pl.col("a") > 0, "G02": pl.col("a") < pl.col("b")},
    name="test",
)


def test_a_null_fails_a_rule_and_a_row_failing_two_rules_fails_each() -> None:
    df = pl.DataFrame(
        {
            "report": pl.Series([0, 1, 2, 3], dtype=pl.UInt32),
            "a": [1.0, None, -5.0, 9.0],
            "b": [2.0, 2.0, -9.0, 1.0],
        }
    )
    expected = [("G01", 1), ("G01", 2), ("G02", 1), ("G02", 2), ("G02", 3)]
    assert list(base.failures(SCHEMA, df).iter_rows()) == expected
    assert _pandera_failures(SCHEMA, df) == expected
    rows = list(base.failing_rows(SCHEMA, df, ["report"]))
    assert rows == [{"report": r, "index": i, "check": c} for c, i in expected for r in [i]]


def test_a_frame_not_of_the_schema_is_a_bug_not_a_finding() -> None:
    wrong_dtype = pl.DataFrame({"report": pl.Series([0], dtype=pl.UInt32), "a": [1.0], "b": [1]})
    with pytest.raises(base.SchemaBroken, match="test"):
        base.failures(SCHEMA, wrong_dtype)
    extra = pl.DataFrame({"report": pl.Series([0], dtype=pl.UInt32), "a": [1.0], "b": [2.0], "c": [0]})
    with pytest.raises(base.SchemaBroken, match="test"):
        base.failures(SCHEMA, extra)
    a_null_where_none_may_be = pl.DataFrame({"report": pl.Series([0], dtype=pl.UInt32), "a": [1.0], "b": [None]})
    with pytest.raises(base.SchemaBroken, match="test"):
        base.failures(SCHEMA, a_null_where_none_may_be.cast({"b": pl.Float64}))


def test_batch_arrays_hold_every_report_cell_by_format() -> None:
    import math

    from nianbao.domain.spec import Fmt
    from nianbao.rules.frames import STATE_NAMES, batch_arrays
    from tests.helpers import busy_seed, parse
    from tests.rules.test_rules import _to_2019_layout

    files = sorted((DATA / "submissions").rglob("*.txt"))
    read = [load_bytes(str(p.relative_to(ROOT)), p.read_bytes()) for p in files[:6]]
    read[2:2] = [parse(_to_2019_layout(busy_seed()), "old_2023.txt")]  # a 2019-format report among them
    read.append(parse("not a report", "x_2023.txt"))
    arrays = batch_arrays(read)
    assert list(arrays) == list(Fmt)
    readable = {f: [i for i, r in enumerate(read) if r.readable and r.fmt is f] for f in Fmt}
    assert readable[Fmt.F2019] == [2] and len(readable[Fmt.F2021]) == 6
    for fmt, a in arrays.items():
        assert a.report.tolist() == readable[fmt]
        # row-major (a format that is one run of the canonical ids: a view of the joined buffer)
        assert a.values.shape == (len(readable[fmt]), len(a.ids)) and a.values.strides[1] == a.values.itemsize
        for j, ri in enumerate(a.report.tolist()):
            for k, cid in enumerate(a.ids):
                cell = read[ri].cells.get(cid)
                assert cell is not None
                v = a.values[j, k]
                assert (math.isnan(v) and cell.value is None) or v == cell.value, (fmt, ri, cid)
                assert STATE_NAMES[a.states[j, k]] == cell.state.value, (fmt, ri, cid)
                assert (a.lines[j, k] or None) == cell.line, (fmt, ri, cid)
