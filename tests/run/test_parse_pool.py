"""The parse pool (nianbao.run.parsing): chunks of at most CHUNK_MAX files, packed by the workers
(nianbao.read.bulk.pack_batch) and rebuilt in the run's process, give the reports one process
reads, in the submissions' order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nianbao.run import parsing
from nianbao.run.inputs import Submission
from tests.read.test_fast_read import differences

ROOT = Path(__file__).resolve().parents[2]


def test_chunks_are_bounded_and_the_pool_gives_the_reports_one_process_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    subs = [Submission(str(p), p.relative_to(ROOT).as_posix()) for p in files]
    subs.append(Submission(str(ROOT / "nowhere.txt"), "nowhere.txt", problem="文件无法读取"))
    alone = parsing.load_all(subs, 1)
    monkeypatch.setattr(parsing, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(parsing, "CHUNK_MAX", 4)
    assert parsing._chunk_size(len(subs), 2) == 4
    assert parsing._chunk_size(100_000, 2) == 4
    monkeypatch.setattr(parsing, "CHUNK_MAX", 2000)
    assert (parsing._chunk_size(100_000, 2), parsing._chunk_size(20_000, 2), parsing._chunk_size(60, 2)) == (
        2000,
        1250,
        50,
    )
    monkeypatch.setattr(parsing, "CHUNK_MAX", 4)
    pooled = parsing.load_all(subs, 2)
    assert [r.file for r in pooled] == [s.name for s in subs]
    assert [differences(a, b) for a, b in zip(alone, pooled, strict=True)] == [[]] * len(subs)
    assert (pooled[-1].status, pooled[-1].reason) == ("unreadable", "文件无法读取")
    assert sum(r.readable for r in pooled) == len(files)


def test_results_come_back_through_the_shared_slots_and_the_pipe_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk's result is read from its slot of the mapping the run's process shares with the
    workers (the packed buffers arrive as views of it); one that does not fit its slot comes
    back through the pool's pipe (as bytes); both give the reports one process reads."""
    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    subs = [Submission(str(p), p.relative_to(ROOT).as_posix()) for p in files]
    subs.append(Submission(str(ROOT / "nowhere.txt"), "nowhere.txt", problem="文件无法读取"))
    alone = parsing.load_all(subs, 1)
    monkeypatch.setattr(parsing, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(parsing, "CHUNK_MAX", 4)
    arrived: list[str] = []
    unpack = parsing.unpack_batch

    def seen(state: tuple[Any, ...]) -> Any:
        arrived.append(type(state[1][0]).__name__)
        return unpack(state)

    monkeypatch.setattr(parsing, "unpack_batch", seen)
    pooled = parsing.load_all(subs, 2)
    assert arrived == ["memoryview"] * 7
    assert [differences(a, b) for a, b in zip(alone, pooled, strict=True)] == [[]] * len(subs)
    # slots of 30,000 bytes: the six chunks of four seed reports (~42 KB each) do not fit, the
    # last one (a report and an unreadable file, ~14 KB) does
    monkeypatch.setattr(parsing, "SLOT_MIN", 30_000)
    monkeypatch.setattr(parsing, "SLOT_PER_FILE", 0)
    arrived.clear()
    mixed = parsing.load_all(subs, 2)
    assert arrived == ["bytes"] * 6 + ["memoryview"]
    assert [differences(a, b) for a, b in zip(alone, mixed, strict=True)] == [[]] * len(subs)
