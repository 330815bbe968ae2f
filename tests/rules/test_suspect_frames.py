"""The cells and layout families validate the frames of their suspect rows only (schemas.cells.suspects,
layout_frame(suspects=True)): every row left out passes every rule, so the failures are those of
the whole frames."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import polars as pl

from nianbao.domain.model import STATES
from nianbao.domain.spec import Fmt, Kind, all_cells, cell_kind
from nianbao.outcome import InfoSummary
from nianbao.read.load import load_bytes
from nianbao.rules.base import failing_rows, failures
from nianbao.rules.cells import findings_of
from nianbao.rules.family import Batch
from nianbao.rules.frames import LAYOUT_WORDS, FmtArrays, batch_arrays, cells_frame, layout_frame
from nianbao.rules.layout import findings_of as findings_of_layout
from nianbao.rules.layout import layout_findings
from schemas.cells import cells_schema, suspects
from schemas.layout import layout_schema

ROOT = Path(__file__).resolve().parents[2]
VALUES = [np.nan, 0.0, -0.0, 1.0, 7.0, 0.5, 2.5, 1e-9, -1.0, -2.5, 1e11, 1e15 + 0.5, 2.0**60, np.inf, -np.inf]


def _grid() -> FmtArrays:
    """One report per (state, value), each with a cell of every kind (the 2019 format has all three)."""
    fmt = Fmt.F2019
    ids = tuple(next(c for c in all_cells(fmt) if cell_kind(fmt, c) is k) for k in Kind)
    combos = list(itertools.product(range(len(STATES)), VALUES))
    n, k = len(combos), len(ids)
    return FmtArrays(
        fmt,
        ids,
        np.arange(n, dtype=np.uint32),
        np.array([[v] * k for _s, v in combos], dtype=np.float64),
        np.array([[s] * k for s, _v in combos], dtype=np.uint8),
        np.ones((n, k), dtype=np.uint32),
        np.ones((n, k), dtype=np.uint16),
    )


def test_every_cell_breaking_a_rule_is_a_suspect_for_every_state_kind_and_sort_of_value() -> None:
    a = _grid()
    assert len(a.ids) == 3  # count, amount, delta
    full = cells_frame({a.fmt: a})
    fails = failures(cells_schema(), full)
    k = len(a.ids)
    mask = suspects(a)
    failing = {divmod(int(i), k) for i in fails["index"]}
    assert failing and all(mask[r, c] for r, c in failing)
    # each rule fails somewhere in the grid (the grid reaches every rule)
    assert set(fails["check"]) == {"G01", "G02", "G03", "G04", "G05"}
    # and the frame of the suspects alone fails the same cells by the same rules, in the same order
    cut = cells_frame({a.fmt: a}, where=suspects)
    assert cut.height == int(mask.sum()) < full.height

    def failing(frame: pl.DataFrame) -> list[tuple[str, int, str]]:
        got = failures(cells_schema(), frame)
        return list(
            zip(got["check"], frame["report"].gather(got["index"]), frame["cell"].gather(got["index"]), strict=True)
        )

    assert failing(cut) == failing(full)


def test_the_bundled_inbox_has_the_same_cell_findings_from_its_suspect_cells() -> None:
    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    reports = [load_bytes(str(p.relative_to(ROOT)), p.read_bytes()) for p in files]
    arrays = batch_arrays(reports)
    whole = findings_of(reports, failing_rows(cells_schema(), cells_frame(arrays)))
    cut = cells_frame(arrays, where=suspects)
    part = findings_of(reports, failing_rows(cells_schema(), cut))
    assert [f.to_json() for f in part] == [f.to_json() for f in whole]
    assert {f.rule for f in whole} >= {"G01", "G04"}
    assert cut.height < sum(x.values.size for x in arrays.values()) // 50


def test_a_layout_fact_found_in_order_and_printed_as_the_statute_passes_every_layout_rule() -> None:
    kinds = ["section", "table", "row", "column"]
    n = len(kinds)
    plain = pl.DataFrame(
        {
            "report": pl.Series(range(n), dtype=pl.UInt32),
            "pos": pl.Series([0] * n, dtype=pl.UInt32),
            "element": ["sec:一", "3:*:*", "3:3.1:*", "3:*:total"],
            "kind": kinds,
            "found": [True] * n,
            "printed": pl.Series([None] * n, dtype=pl.String),
            "in_order": [True] * n,
            "readable": [True] * n,
            "duplicate": [False] * n,
            "issue": pl.Series([None] * n, dtype=pl.String),
        }
    )
    assert failures(layout_schema(), plain).height == 0
    # and each way a fact is kept as a suspect breaks a rule
    for change in ({"found": False}, {"in_order": False}, {"printed": "别名"}):
        broken = plain.with_columns(pl.lit(v).alias(k) for k, v in change.items())
        assert failures(layout_schema(), broken).height > 0


def test_the_bundled_inbox_and_a_synthetic_batch_fail_the_same_layout_rows_from_their_suspect_rows() -> None:
    from nianbao.testing.synth import SynthConfig, generate, render_text
    from tests.helpers import parse

    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    reports = [load_bytes(str(p.relative_to(ROOT)), p.read_bytes()) for p in files]
    ds, _ = generate(SynthConfig(counties=2, townships=30, years=(2023,), defect_rate=0.5, seed=11))
    texts = [render_text(d) for d in ds]
    # a section heading missing (I01), table 三 moved after section 四 and gone (rows not found, row issues)
    texts[0] = texts[0].replace("五、存在的主要问题及改进情况", "")
    head, rest = texts[1].split("三、收到和处理政府信息公开申请情况", 1)
    table, tail = rest.split("四、政府信息公开行政复议", 1)
    texts[1] = head + "四、政府信息公开行政复议" + tail + "三、收到和处理政府信息公开申请情况" + table
    texts[2] = head + "四、政府信息公开行政复议" + tail
    reports += [parse(t, d.file_name) for t, d in zip(texts, ds, strict=True)]

    def failing(frame: pl.DataFrame) -> list[tuple[str, int, int]]:
        got = failures(layout_schema(), frame)
        at = got["index"]
        return list(zip(got["check"], frame["report"].gather(at), frame["pos"].gather(at), strict=True))

    whole, cut = layout_frame(reports), layout_frame(reports, suspects=True)
    assert failing(cut) == failing(whole)
    assert {c for c, _r, _p in failing(whole)} >= {"I01", "I04", "I06", "I08", "I11"}
    assert cut.height < whole.height // 10
    # the family gathers the facts with words of their own by their words (from the frame's
    # LAYOUT_WORDS), the other rows one by one: the same findings and summaries as row by row
    worded = layout_frame(reports, suspects=True, words=True)
    assert worded.drop(list(LAYOUT_WORDS)).equals(cut)
    assert worded.filter(pl.col("printed").is_not_null() & pl.col("statutory").is_null()).height == 0
    rows = failures(layout_schema(), cut)
    at = rows["index"]
    one_by_one = findings_of_layout(
        reports,
        zip(cut["report"].gather(at), rows["check"], cut["element"].gather(at), cut["pos"].gather(at), strict=True),
    )
    gathered = layout_findings(Batch(reports))
    assert [repr(x) for x in gathered] == [repr(x) for x in one_by_one]
    assert {x.rule for x in gathered} >= {"I01", "I04", "I06", "I08", "I11"}
    assert [len(x.reports) for x in gathered if isinstance(x, InfoSummary) and x.rule == "I06"]
