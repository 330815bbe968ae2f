"""The parts of the validation the parse workers make ahead, chunk by chunk (nianbao.rules.ahead):
each part taken from the chunks is the one the run's process computes for the whole batch, and so
are the findings — for the bundled inbox, synthetic reports with planted errors, the real-shape
corpus (row issues, I11, traditional characters …), a subset in another order, a batch only
partly registered, a chunk whose part failed, and a report object given twice."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from nianbao.domain.model import ParsedReport, unreadable
from nianbao.read.grid import reading_confidences
from nianbao.read.load import load_bytes, load_file
from nianbao.rules.ahead import ChunkAhead, forget, list_parts, position_parts, register, registered
from nianbao.rules.families import AHEAD, analyse_chunk
from nianbao.rules.frames import layout_suspects, suspect_layout_frame
from nianbao.rules.prose.checks import fee_reports
from nianbao.testing.synth import SynthConfig, generate, render_text
from nianbao.validate.batch import validate_summarised
from tests.read.test_real_shapes import REPORTS, SHAPE_TEXTS, _content

ROOT = Path(__file__).resolve().parents[2]


def _bundled() -> list[ParsedReport]:
    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    return [load_file(p, p.relative_to(ROOT).as_posix()) for p in files]


def _synthetic() -> list[ParsedReport]:
    """60 synthetic reports of two years, half with a planted error, some with the fee statement
    outside section 六 or missing, or a wrong percentage."""
    docs, _ = generate(SynthConfig(counties=1, townships=30, years=(2022, 2023), defect_rate=0.5, seed=11))
    out = []
    for i, d in enumerate(docs):
        t = render_text(d)
        if i % 7 == 2:
            t = re.sub(r"(办结 \d+ 件，其中予以公开 \d+ 件)", r"\1，占比为 99%", t)
        if i % 6 == 3:
            t = t.replace("本年度未收取信息处理费。", "本年度无相关情况。").replace("信息处理费情况", "其他情况")
        out.append(load_bytes(f"{d.year}/{d.file_name}", t.encode("utf-8")))
    return out


def _shapes() -> list[ParsedReport]:
    """The real-shape corpus (tests/read/test_real_shapes.py): every report there, consistent or
    with planted errors, in every real-world shape (single spaces, one cell per line, traditional
    characters, Markdown, odd titles, label typos) and both formats."""
    return [
        load_bytes(f"{report}-{shape}-{fmt}.txt", print_(_content(report, fmt)).encode("utf-8"))
        for report in REPORTS
        for shape, print_ in SHAPE_TEXTS.items()
        for fmt in ("2021", "2019")
    ]


CORPORA: dict[str, Callable[[], list[ParsedReport]]] = {
    "bundled": _bundled,
    "synthetic": _synthetic,
    "shapes": _shapes,
}


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    forget()
    yield
    forget()


def _ahead(reports: Sequence[ParsedReport], size: int) -> list[ChunkAhead]:
    """As the parse workers do: each chunk's parts made on its own and registered for its reports."""
    made = []
    for start in range(0, len(reports), size):
        part = list(reports[start : start + size])
        made.append(analyse_chunk(part))
        register(part, made[-1])
    return made


def _with_unreadable(load: Callable[[], list[ParsedReport]]) -> list[ParsedReport]:
    reports = load()
    reports.insert(3, unreadable("坏文件.txt", "", 0, "无法读取"))
    return reports


def _assert_parts_equal(reports: Sequence[ParsedReport]) -> None:
    """Every part from the registrations equals the run's process's own computation."""
    reg = registered(reports)
    assert layout_suspects(reg).equals(suspect_layout_frame(reports))
    assert list_parts(reg, "reading", reading_confidences) == reading_confidences(reports)
    assert position_parts(reg, "fee", fee_reports) == fee_reports(reports)


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_the_parts_made_ahead_give_the_batchs_own_parts_and_findings(corpus: str) -> None:
    reports = _with_unreadable(CORPORA[corpus])
    own = validate_summarised(reports)
    assert own[0], "the corpus has findings to compare"
    if corpus == "shapes":
        assert any(r.row_issues for r in reports)  # (reports the reading confidence has to work out)
    made = _ahead(reports, 7)
    assert all(set(c.parts) == set(AHEAD) for c in made)
    _assert_parts_equal(reports)
    assert validate_summarised(reports) == own
    assert validate_summarised(reports, registrations=registered(reports)) == own


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_a_subset_a_partly_registered_batch_a_failed_part_and_a_report_twice(corpus: str) -> None:
    reports = _with_unreadable(CORPORA[corpus])
    # a subset of the parsed reports, in another order (e.g. stored reports left out)
    subset = reports[::-1][::2]
    want = validate_summarised(subset)
    _ahead(reports, 7)
    _assert_parts_equal(subset)
    assert validate_summarised(subset) == want
    # some reports registered, the others (e.g. from the store) computed here
    forget()
    half = len(reports) // 2
    _ahead(reports[half:], 5)
    assert registered(reports).parts("layout")[1] == [i for i, r in enumerate(reports[:half]) if r.readable]
    _assert_parts_equal(reports)
    # a chunk whose parts failed in the worker: those reports computed here
    forget()
    made = _ahead(reports, 6)
    for name in ("layout", "reading", "fee"):
        del made[1].parts[name]
    assert registered(reports).parts("layout")[1] == [i for i in range(6, 12) if reports[i].readable]
    _assert_parts_equal(reports)
    # the same report object twice in one batch: its second place computed here
    forget()
    _ahead(reports, 6)
    twice = [*reports, reports[0]]
    assert registered(twice).parts("reading")[1] == [len(reports)]
    _assert_parts_equal(twice)
    assert validate_summarised(reports) == validate_summarised(registered(reports).reports)
