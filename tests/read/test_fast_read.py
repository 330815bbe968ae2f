"""The fast reading path (nianbao.read.fast) gives exactly the tolerant reader's report, or none.

Both paths run over the synthetic corpus (every planted defect, several seeds, two years, mixed
encodings and CRLF), its 2019-layout twins, the seed, and the real-shape corpus of
``tests/test_real_shapes.py`` (every shape of every report, both formats); the two reports are
compared field by field (cells with their printed text, line, column and state; layout facts;
row issues; sections; title, agency, year, period, format and its evidence).  The fast path must
read the well-formed reports and leave every other shape to the tolerant reader.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import State
from nianbao.io.text import text_lines
from nianbao.io.textio import decode_text
from nianbao.read import fast
from nianbao.read.load import load_bytes
from nianbao.testing.render import as_2019, content_from_report, document_from_content, to_text
from nianbao.testing.synth import SynthConfig, encode, generate, render_text
from tests.helpers import busy_seed, seed_text
from tests.read.test_real_shapes import REPORTS, SHAPE_TEXTS, _content


def _plain(v: Any) -> Any:
    return "NaN" if isinstance(v, float) and math.isnan(v) else v


def differences(a: ParsedReport, b: ParsedReport) -> list[str]:
    """Every field in which two parsed reports differ (empty: the same report)."""
    out: list[str] = []
    for f in dataclasses.fields(ParsedReport):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "cells":
            if set(x.keys()) != set(y.keys()):
                out.append(f"cells: ids {sorted(set(x.keys()) ^ set(y.keys()))}")
                continue
            for cid in x:
                cx = tuple(_plain(v) for v in dataclasses.astuple(x[cid]))
                cy = tuple(_plain(v) for v in dataclasses.astuple(y[cid]))
                if cx != cy:
                    out.append(f"cell {cid}: {cx} != {cy}")
        elif f.name == "layout":
            if list(x) != list(y):
                out.append(f"layout: {list(x)} != {list(y)}")
        elif f.name == "sections":
            if list(x.items()) != list(y.items()):
                out.append(f"sections: {list(x.items())} != {list(y.items())}")
        elif _plain(x) != _plain(y):
            out.append(f"{f.name}: {x!r} != {y!r}")
    return out


def _both(name: str, data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[ParsedReport, ParsedReport]:
    monkeypatch.setenv(fast.ENV, "0")
    tolerant = load_bytes(name, data)
    monkeypatch.setenv(fast.ENV, "1")
    return tolerant, load_bytes(name, data)


def _fast_reads(name: str, data: bytes) -> bool:
    """Whether the fast path reads this file (rather than leaving it to the tolerant reader)."""
    dec = decode_text(data)
    rep = ParsedReport(file=name, sha256="", size=len(data), source_type="text")
    return fast.read(text_lines(dec.text), rep) is not None


@cache
def _synthetic() -> tuple[tuple[str, bytes, tuple[str, ...]], ...]:
    """(file name, bytes, planted defects) of three synthetic corpora."""
    out: list[tuple[str, bytes, tuple[str, ...]]] = []
    for seed in (1, 2, 3):
        cfg = SynthConfig(counties=2, townships=20, years=(2022, 2023), defect_rate=0.5, seed=seed)
        reports, planted = generate(cfg)
        kinds: dict[str, list[str]] = {}
        for p in planted:
            kinds.setdefault(p.file, []).append(p.defect)
        for d in reports:
            out.append((f"s{seed}/{d.file_name}", encode(d, render_text(d)), tuple(kinds.get(d.file_name, ()))))
    return tuple(out)


def _corpus() -> Iterator[tuple[str, bytes]]:
    for name, data, _kinds in _synthetic():
        yield name, data
    for name, data, _kinds in _synthetic()[:40]:  # the same reports in the 2019 layout
        c = content_from_report(load_bytes(name, data))
        yield f"2019/{name}", to_text(document_from_content(as_2019(c))).encode("utf-8")
    yield "seed.txt", seed_text().encode("utf-8")
    yield "busy.txt", busy_seed().encode("utf-8")
    for report in REPORTS:
        for fmt in ("2021", "2019"):
            c = _content(report, fmt)
            yield f"{report}-{fmt}-twin.txt", to_text(document_from_content(c)).encode("utf-8")
            for shape, printed in SHAPE_TEXTS.items():
                yield f"{report}-{fmt}-{shape}.txt", printed(c).encode("utf-8")


def test_both_paths_give_the_same_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    n = read_fast = 0
    for name, data in _corpus():
        tolerant, quick = _both(name, data, monkeypatch)
        assert differences(tolerant, quick) == [], name
        n += 1
        read_fast += _fast_reads(name, data)
    assert n > 400, n
    assert read_fast > 200, read_fast  # the check is not vacuous: the fast path read (and matched) hundreds


def test_the_well_formed_reports_are_read_fast() -> None:
    corpus = _synthetic()
    fast_share = sum(_fast_reads(name, data) for name, data, _k in corpus) / len(corpus)
    assert fast_share > 0.75
    for name, data, kinds in corpus:
        if not kinds:  # a report without a planted defect is in the template's shape exactly
            assert _fast_reads(name, data), name
    for report in REPORTS:
        for fmt in ("2021", "2019"):
            twin = to_text(document_from_content(_content(report, fmt))).encode("utf-8")
            assert _fast_reads(f"{report}-{fmt}.txt", twin), (report, fmt)


# every shape but the clean twin's (a title or page chrome in another form is still read fast)
FALLBACK_SHAPES = sorted(s for s in SHAPE_TEXTS if s not in ("title-year-first",))


@pytest.mark.parametrize("shape", FALLBACK_SHAPES)
def test_other_shapes_go_to_the_tolerant_reader(shape: str) -> None:
    for report in ("seed", "busy", "synthetic-1"):
        for fmt in ("2021", "2019"):
            text = SHAPE_TEXTS[shape](_content(report, fmt))
            assert not _fast_reads(f"{shape}.txt", text.encode("utf-8")), (report, fmt)


def test_doubtful_rows_go_to_the_tolerant_reader() -> None:
    """A row with a blank cell not printed or one number alone, a missing row, a row printed twice,
    a non-text source: never read fast."""
    seed = seed_text()
    lines = seed.split("\n")
    row = next(i for i, ln in enumerate(lines) if ln.startswith("(七) 总计\t"))
    short = [*lines[:row], "(七) 总计\t0\t0\t0\t0\t0\t0", *lines[row + 1 :]]  # six cells for seven columns
    lone = [*lines[:row], "(七) 总计\t\t0\t\t\t\t\t\t\t", *lines[row + 1 :]]  # perhaps digits run together
    twice = [*lines[: row + 1], lines[row], *lines[row + 1 :]]
    missing = [*lines[:row], *lines[row + 1 :]]
    for text in ("\n".join(short), "\n".join(lone), "\n".join(twice), "\n".join(missing)):
        assert not _fast_reads("x.txt", text.encode("utf-8"))
    assert _fast_reads("seed.txt", seed.encode("utf-8"))
    rep = ParsedReport(file="x.csv", sha256="", size=0, source_type="csv")
    assert fast.read(text_lines(seed), rep) is None
    assert not rep.layout and not rep.cells.keys() and rep.title is None  # untouched


def _blank_totals(text: str, other: str) -> str:
    """``text`` (the seed's layout) with the 总计 column of 表三's outcome rows left blank (the synthetic
    total_blank defect, a shape of real reports) and the row 3.其他 printing ``other`` (six numbers)."""
    out = []
    for ln in text.split("\n"):
        cells = ln.split("\t")
        if ln.startswith("3.其他\t"):
            ln = "\t".join(["3.其他", "", *other.split(), "", ""])
        elif len(cells) >= 8 and any(
            c.startswith(("(一)", "(二)", "1.", "2.", "3.", "4.", "5.", "6.", "7.", "8.")) for c in cells
        ):
            ln = "\t".join([*cells[:-1], ""]) if cells[-1] else "\t".join([*cells[:-2], "", ""])
        out.append(ln)
    return "\n".join(out)


BLANK_TOTALS = {  # the row 3.其他 in three windows: its numbers choose (fit_values' sum rule), not its cells
    "under 自然人": "1 0 0 0 0 0",  # neither window adds up: the blanks at the end
    "shifted": "1 0 0 0 0 1",  # five numbers adding up to the sixth: the blank under 自然人
    "zeros": "0 0 0 0 0 0",  # both add up: the blanks at the end
}


def test_blank_cells_read_fast_as_the_tolerant_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows with blank cells printed (a 总计 left blank) are read fast, each value in the window the
    tolerant reader fits; a row whose window its numbers choose is chosen again for every report of
    the skeleton (its plan is not kept by skeleton alone)."""
    seed = busy_seed()
    texts = {k: _blank_totals(seed, v) for k, v in BLANK_TOTALS.items()}
    fast._PLANS.clear()
    fast._PARTS.clear()
    for name in [*texts, *texts]:  # a second round reads the parts made by the first
        data = texts[name].encode("utf-8")
        assert _fast_reads(name, data), name
        tolerant, quick = _both(name, data, monkeypatch)
        assert differences(tolerant, quick) == [], name
    got = {k: load_bytes(k, t.encode("utf-8")).cells for k, t in texts.items()}
    row = [f"3:3.6.3:{c}" for c in ("natural", "commercial", "other", "total")]
    assert [(got["under 自然人"][c].raw, got["under 自然人"][c].col) for c in row] == [
        ("1", 3),
        ("0", 4),
        ("0", 8),
        ("", 9),
    ]
    assert [(got["shifted"][c].raw, got["shifted"][c].col) for c in row] == [("", 2), ("1", 3), ("0", 7), ("1", 8)]
    assert [(got["zeros"][c].raw, got["zeros"][c].col) for c in row] == [("0", 3), ("0", 4), ("0", 8), ("", 9)]
    assert (got["zeros"]["3:3.1:total"].raw, got["zeros"]["3:3.1:total"].state) == ("", State.BLANK)
    assert not any(p.chosen or p.cacheable for k, p in fast._PLANS.items())  # no plan kept for these skeletons


def test_the_switch_turns_the_fast_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fast.ENV, "0")
    assert not fast.enabled()
    monkeypatch.delenv(fast.ENV)
    assert fast.enabled()
