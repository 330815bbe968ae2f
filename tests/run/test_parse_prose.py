"""The parse workers analyse the prose of the chunk they read (nianbao.rules.prose.chunks): the
run's process gets the analyses with the reports, and the text rules' findings are the ones the
family finds analysing the texts itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nianbao.rules.ahead import forget, registered
from nianbao.rules.frames import batch_arrays
from nianbao.rules.prose import prose_findings
from nianbao.rules.prose.chunks import ahead, precomputed
from nianbao.run import parsing
from nianbao.run.inputs import Submission

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    forget()
    yield
    forget()


def test_the_pool_ships_each_chunks_prose_analysis_and_the_findings_stay_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    subs = [Submission(str(p), p.relative_to(ROOT).as_posix()) for p in files]
    monkeypatch.setattr(parsing, "PARALLEL_MIN_FILES", 2)  # a pool of two workers for 25 files
    reports = parsing.load_all(subs, 2)
    assert [r.file for r in reports] == [s.name for s in subs]
    assert precomputed(reports) is not None
    ahead = prose_findings(reports, batch_arrays(reports))
    forget()
    assert precomputed(reports) is None
    own = prose_findings(reports, batch_arrays(reports))
    assert ahead == own and [f.rule for f in own].count("H01") >= 1
    # one file read on its own (no pool): no analysis ahead, the family reads its text itself
    assert precomputed(parsing.load_all(subs[:1], 1)) is None


def test_the_run_releases_the_analyses_of_the_reports_it_has_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    from nianbao.run.validation import validate_reports

    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    subs = [Submission(str(p), p.relative_to(ROOT).as_posix()) for p in files]
    monkeypatch.setattr(parsing, "PARALLEL_MIN_FILES", 2)
    reports = parsing.load_all(subs, 2)
    assert precomputed(reports) is not None
    validate_reports(reports, [str(ROOT / "data" / "submissions")])
    assert ahead(registered(reports)) == ([], [i for i, r in enumerate(reports) if r.readable])  # none kept


def test_the_pool_ships_every_part_made_ahead_and_the_findings_stay_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from nianbao.rules.ahead import registered
    from nianbao.rules.families import AHEAD
    from nianbao.validate.batch import validate_summarised

    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    subs = [Submission(str(p), p.relative_to(ROOT).as_posix()) for p in files]
    monkeypatch.setattr(parsing, "PARALLEL_MIN_FILES", 2)
    reports = parsing.load_all(subs, 2)
    reg = registered(reports)
    assert reg.chunks and all(set(c.parts) == set(AHEAD) for c in reg.chunks)
    assert all(reg.parts(name)[1] == [] for name in AHEAD)  # every readable report has every part
    ahead = validate_summarised(reports)
    forget()
    assert validate_summarised(reports) == ahead and ahead[0]
