"""The text rules' analyses made ahead (by the parse workers, per chunk): the findings are the ones
the family finds analysing the texts itself, for the whole batch, a subset in another order, a
batch only partly analysed ahead, and with unreadable reports."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from nianbao.domain.model import ParsedReport, unreadable
from nianbao.outcome import Finding
from nianbao.read.load import load_bytes, load_file
from nianbao.rules.ahead import ChunkAhead, forget, register, registered
from nianbao.rules.frames import batch_arrays
from nianbao.rules.prose import prose_findings
from nianbao.rules.prose.chunks import ahead, analyse, precomputed
from nianbao.testing.synth import SynthConfig, generate, render_text

ROOT = Path(__file__).resolve().parents[2]


def _bundled() -> list[ParsedReport]:
    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    return [load_file(p, p.relative_to(ROOT).as_posix()) for p in files]


def _synthetic() -> list[ParsedReport]:
    """80 synthetic reports, some with a wrong 主动公开 sum (H19), a wrong percentage (H20), the fee
    statement missing (J01) or outside section 六 (J02)."""
    docs, _ = generate(SynthConfig(counties=1, townships=40, years=(2022, 2023), defect_rate=0.5, seed=7))
    out = []
    for i, d in enumerate(docs):
        t = render_text(d)
        if i % 5 == 1:
            t = re.sub(r"共 (\d+) 条。其中", lambda m: f"共 {int(m.group(1)) + 1} 条。其中", t)
        if i % 7 == 2:
            t = re.sub(r"(办结 \d+ 件，其中予以公开 \d+ 件)", r"\1，占比为 99%", t)
        if i % 6 in (3, 4):
            t = t.replace("本年度未收取信息处理费。", "本年度无相关情况。").replace("信息处理费情况", "其他情况")
        if i % 6 == 3:
            t = t.replace("结转下年度继续办理", "本年度未收取信息处理费，结转下年度继续办理", 1)
        out.append(load_bytes(f"{d.year}/{d.file_name}", t.encode("utf-8")))
    return out


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    forget()
    yield
    forget()


def _own(reports: Sequence[ParsedReport]) -> list[Finding]:
    """The findings with the family analysing the texts itself."""
    forget()
    assert precomputed(reports) is None or not any(r.readable for r in reports)
    return prose_findings(reports, batch_arrays(reports))


def _ahead(reports: Sequence[ParsedReport], size: int) -> None:
    """As the parse workers do: each chunk analysed on its own and registered for its reports."""
    for start in range(0, len(reports), size):
        part = list(reports[start : start + size])
        register(part, ChunkAhead(len(part), {"prose": analyse(part)}))


@pytest.mark.parametrize("load", [_bundled, _synthetic], ids=["bundled", "synthetic"])
def test_findings_from_the_analyses_made_ahead_are_the_familys_own(load: object) -> None:
    reports = load()  # type: ignore[operator]
    reports.insert(3, unreadable("坏文件.txt", "", 0, "无法读取"))
    expected = _own(reports)
    assert len(expected) >= 4 and "H01" in {f.rule for f in expected}
    if load is _synthetic:
        assert {"H19", "H20", "J01", "J02"} <= {f.rule for f in expected}
    _ahead(reports, 7)
    assert precomputed(reports) is not None
    assert prose_findings(reports, batch_arrays(reports)) == expected
    # a subset of the parsed reports, in another order (e.g. stored reports left out)
    subset = reports[::-1][::2]
    want = _own(subset)
    _ahead(reports, 7)
    assert prose_findings(subset, batch_arrays(subset)) == want
    # some reports analysed ahead, the others (e.g. from the store) read by the family
    forget()
    _ahead(reports[len(reports) // 2 :], 7)
    made, missing = ahead(registered(reports))
    assert made and missing == [i for i, r in enumerate(reports[: len(reports) // 2]) if r.readable]
    assert prose_findings(reports, batch_arrays(reports)) == expected


def test_a_report_has_an_analysis_only_when_that_object_was_registered() -> None:
    reports = _bundled()
    _ahead(reports[:-1], 5)
    assert precomputed(reports[:-1]) is not None
    assert precomputed(reports) is None
    # the same text parsed again is another report: no analysis of its own
    again = [*reports[:-1], load_file(ROOT / reports[-1].file, reports[-1].file)]
    _ahead([reports[-1]], 5)
    assert precomputed(again) is None
