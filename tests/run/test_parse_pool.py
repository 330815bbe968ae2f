"""The parse pool (nianbao.run.parsing): chunks of at most CHUNK_MAX files, packed by the workers
(nianbao.read.bulk.pack_batch) and rebuilt in the run's process, give the reports one process
reads, in the submissions' order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    # capped: a whole number of chunks a worker, of even sizes (not 25 of 4,000 for two workers)
    monkeypatch.setattr(parsing, "CHUNK_MAX", 4000)
    assert (parsing._chunk_size(100_000, 2), parsing._chunk_size(100_000, 3), parsing._chunk_size(64_000, 2)) == (
        3847,  # 26 chunks, the last 3,825
        3704,  # 27 chunks
        4000,  # 16 chunks
    )
    monkeypatch.setattr(parsing, "CHUNK_MAX", 4)
    pooled = parsing.load_all(subs, 2)
    assert [r.file for r in pooled] == [s.name for s in subs]
    assert [differences(a, b) for a, b in zip(alone, pooled, strict=True)] == [[]] * len(subs)
    assert (pooled[-1].status, pooled[-1].reason) == ("unreadable", "文件无法读取")
    assert sum(r.readable for r in pooled) == len(files)


@pytest.mark.parametrize(
    ("n", "workers", "tail"),
    [
        # 100,000 files, two workers: 24 chunks of 3,847, then halving sizes two by two, the last
        # size in as many chunks as the rest takes
        (100_000, 2, [3847, 3847, 1924, 1924, 962, 962, 475, 475, 475, 475]),
        (100_000, 3, [3704, 3704, 3704, 1852, 1852, 1852, 926, 926, 926, 462, 462, 462, 462, 462, 460]),
        (20_000, 2, [1250, 1250, 625, 625, 313, 313, 313, 311]),
        (64_000, 2, [4000, 4000, 2000, 2000, 1000, 1000, 500, 500, 250, 250, 250, 250]),
        # chunks of less than twice TAPER_MIN: all of one size, as _chunk_size gives them
        (1_000, 2, [62, 62, 62, 8]),
        (400, 2, [50, 50, 50, 50]),
    ],
)
def test_the_last_chunks_halve_so_the_workers_end_together(n: int, workers: int, tail: list[int]) -> None:
    chunks = parsing._chunks(n, workers)
    sizes = [len(c) for c in chunks]
    assert sizes[-len(tail) :] == tail
    assert [c.start for c in chunks] == [0, *[c.stop for c in chunks[:-1]]]  # in order, none skipped
    assert chunks[-1].stop == n
    head = sizes[: -len(tail)]
    assert set(head) <= {parsing._chunk_size(n, workers)}


def test_results_come_back_through_the_shared_slots_and_the_pipe_alike() -> None:
    """A chunk's result is read from its slot of the mapping the run's process shares with the
    workers (the packed buffers arrive as views of it), forked from it or from the fork server
    (once polars' thread pool runs in the run's process: the memory file's descriptor given to
    them); one that does not fit its slot comes back through the pool's pipe (as bytes); all give
    the reports one process reads.  (In a fresh process, where polars has not run yet.)"""
    got = subprocess.run(
        [sys.executable, "-c", _SLOTS_SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert (got.returncode, got.stderr) == (0, "")
    assert got.stdout.splitlines() == [
        "memoryview " * 7 + "same",
        # slots of 30,000 bytes: the six chunks of four seed reports (~45 KB each, with the parts
        # made ahead: nianbao.rules.ahead) do not fit, the last one (a report and an unreadable
        # file, ~21 KB) does
        "bytes " * 6 + "memoryview same",
        "forkserver " + "memoryview " * 7 + "same",
    ]


_SLOTS_SCRIPT = """
from pathlib import Path
from nianbao.run import parsing
from nianbao.run.inputs import Submission
from tests.read.test_fast_read import differences

ROOT = Path.cwd()
files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
subs = [Submission(str(p), p.relative_to(ROOT).as_posix()) for p in files]
subs.append(Submission(str(ROOT / "nowhere.txt"), "nowhere.txt", problem="文件无法读取"))
alone = parsing.load_all(subs, 1)
parsing.PARALLEL_MIN_FILES, parsing.CHUNK_MAX = 2, 4
arrived = []
unpack = parsing.unpack_batch


def seen(state):
    arrived.append(type(state[1][0]).__name__)
    return unpack(state)


parsing.unpack_batch = seen
for room in (None, 30_000, 4 << 20):
    if room:
        parsing.SLOT_MIN, parsing.SLOT_PER_FILE = room, 0
    if room == 4 << 20:  # polars' thread pool started here: the workers start from the fork server
        import polars as pl

        df = pl.DataFrame({"a": list(range(100_000)), "b": ["x"] * 100_000})
        df.group_by("b").agg(pl.col("a").sum())
        assert parsing._pool_context() is not None
        print("forkserver", end=" ")
    arrived.clear()
    pooled = parsing.load_all(subs, 2)
    same = all(differences(a, b) == [] for a, b in zip(alone, pooled, strict=True)) and len(pooled) == len(subs)
    print(" ".join(arrived), "same" if same else "different")
"""


def test_rebuilt_reports_share_their_layout_lists_until_one_changes() -> None:
    """The reports a chunk brings back share the layout facts' kinds and labels (and an empty
    sparse part): a fact added to one report's layout is its own; a pickle of both alike."""
    import pickle

    from nianbao.domain.model import LayoutFact, ParsedReport
    from nianbao.read.bulk import pack_batch, unpack_batch

    facts = [LayoutFact("sec:一", "section", True, "一、总体情况", line=3), LayoutFact("2:*:*", "table", False, "表二")]
    reps = [ParsedReport(file=f"{i}.txt", sha256="0", size=1, layout=list(facts)) for i in range(2)]
    for back in (unpack_batch(pack_batch(reps)), pickle.loads(pickle.dumps(list(unpack_batch(pack_batch(reps)))))):
        a, b = back
        assert a.layout.arrays()[2] is b.layout.arrays()[2] and a.layout.statutory() is b.layout.statutory()
        a.layout.append(LayoutFact("3:*:*", "table", True, "表三", printed="表 三", line=9))
        assert (list(a.layout), list(b.layout)) == (
            [*facts, LayoutFact("3:*:*", "table", True, "表三", printed="表 三", line=9)],
            facts,
        )
        assert (len(a.layout.statutory()), len(b.layout.statutory()), b.layout.arrays()[3]) == (3, 2, {})


def test_rebuilt_reports_decode_their_prose_when_first_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """unpack_batch keeps each report's prose encoded (one copy of the chunk's buffer: the slot it
    came in is written over by the next chunk) and a report decodes its own when it is first read,
    once, by any of the ways a Sections is read."""
    import pickle

    from nianbao.domain import model
    from nianbao.domain.model import ParsedReport, Sections
    from nianbao.read.bulk import pack_batch, unpack_batch

    prose = [
        {"一": [(3, "本年度共发布信息 12 条。"), (4, "其中政策文件 5 条")], "二": [(9, "表后说明")]},
        {"一": [(5, "")]},  # no text at all
        {"五": [(40, "存在的问题：无")]},
    ]
    reps = [
        ParsedReport(file=f"{i}.txt", sha256="0", size=1, sections=Sections({k: list(v) for k, v in p.items()}))
        for i, p in enumerate(prose)
    ]
    meta, buffers = pack_batch(reps)
    slot = [bytearray(b) for b in buffers]
    back = unpack_batch((meta, [memoryview(b) for b in slot]))
    for b in slot:  # the next chunk arrives in the same slot
        b[:] = b"\xff" * len(b)
    decoded: list[int] = []
    real = model._utf16
    monkeypatch.setattr(model, "_utf16", lambda b: decoded.append(len(b)) or real(b))
    assert [list(r.sections) for r in back] == [list(p) for p in prose] and decoded == []
    first, empty, last = back
    assert first.sections["二"] == [(9, "表后说明")] and decoded == [
        2 * len("本年度共发布信息 12 条。其中政策文件 5 条表后说明")
    ]
    assert (
        dict(first.sections) == prose[0]
        and first.sections.joined() == "本年度共发布信息 12 条。其中政策文件 5 条表后说明"
    )
    assert dict(empty.sections) == prose[1] and len(decoded) == 1  # nothing to decode
    assert pickle.loads(pickle.dumps(last)).sections == prose[2] and last.sections.packed()[4] == "存在的问题：无"
    assert len(decoded) == 2
    assert [dict(r.sections) for r in unpack_batch(pack_batch(back))] == prose  # packed again as read


@pytest.mark.parametrize(
    "texts",
    [
        ["一、总体情况", "abc", "", "é\u00ff"],  # one UTF-16 unit a character: joined at once
        ["年报", "\U0001f600 beyond U+FFFF"],  # a surrogate pair in UTF-16: text by text
        ["ok", "a lone \ud800 surrogate"],  # kept as it is
    ],
)
def test_prose_texts_pack_alike_with_and_without_the_compiled_join(
    texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pack_batch's texts (UTF-16, by decode.c's ``utf16le_join`` when built, else by the codec)
    are the same bytes either way, and unpack_batch gives each report its own texts back."""
    from nianbao.domain.model import ParsedReport, Sections
    from nianbao.read import bulk

    reps = [
        ParsedReport(file=f"{i}.txt", sha256="0", size=1, sections=Sections({"一": [(i + 1, t)]}))
        for i, t in enumerate(texts)
    ]
    packed = bulk.pack_batch(reps)
    monkeypatch.setattr(bulk, "cdecode", None)
    assert bulk.pack_batch(reps) == packed
    assert [dict(r.sections) for r in bulk.unpack_batch(packed)] == [{"一": [(i + 1, t)]} for i, t in enumerate(texts)]


def test_real_reports_pack_alike_with_and_without_the_compiled_joins(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled submissions (cells, layout facts, prose, unreadable files) packed by decode.c's
    ``joined`` and ``utf16le_join`` and by Python alone: the same buffers, and the same reports back."""
    from nianbao.read import bulk

    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    reps = list(bulk.load_files([(p, p.name) for p in files]))
    assert sum(r.readable and len(r.cells) > 100 for r in reps) >= 10
    packed = bulk.pack_batch(reps)
    monkeypatch.setattr(bulk, "cdecode", None)
    assert bulk.pack_batch(reps) == packed
    back = bulk.unpack_batch(packed)
    assert [differences(a, b) for a, b in zip(reps, back, strict=True)] == [[]] * len(reps)
