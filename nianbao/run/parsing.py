"""The parse step's engine: submissions → parsed reports, in a process pool when there are many."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import mmap
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import reduction
from typing import Any

from nianbao.domain.model import ParsedReport, unreadable
from nianbao.read.bulk import ReportBatch, load_files, pack_batch, polars_pool_running, unpack_batch
from nianbao.read.load import load_file
from nianbao.rules.ahead import ChunkAhead, register
from nianbao.rules.families import analyse_chunk
from nianbao.run.collector import gc_paused
from nianbao.run.hooks import checkpoint
from nianbao.run.inputs import Submission
from nianbao.run.interrupt import check_stop, quiet_worker

PARALLEL_MIN_FILES = 400
BULK_STEP = 250  # files read together (nianbao.read.bulk) between two stop checks, without a pool
# files a parse worker reads together at most: its memory (and the run's, for its result) reused
# chunk after chunk rather than fresh pages (at 20,000 reports, chunks of 6,250 rather than 1,250:
# ~20 µs a report more kernel time between the two, before the shared result slots); 4,000 rather
# than 2,000 since the slots and the bulk reader's frames of 250: at 100,000 reports ~4.5 µs a
# report less CPU (the chunk's fixed costs: the text rules' polars frames, the packing), the
# workers' peak RSS ~340 -> ~490 MB each, the run's ~+75 MB (its slots)
CHUNK_MAX = 4000
TAPER_MIN = 250  # the fewest files in one of the smaller last chunks (see _chunks)
# A chunk's result comes back through a slot of one shared mapping that the run's process makes
# before the workers start (see :func:`_results`): bytes a slot holds per file of its chunk (a
# report of the benchmark's inbox takes ~9 KB, one of ~20,000 characters of prose ~45 KB; only the
# pages a result writes are ever touched, the rest is address space), at least SLOT_MIN; a result
# that does not fit comes back through the pool's pipe.
SLOT_PER_FILE = 48 << 10
SLOT_MIN = 4 << 20
_slots: list[mmap.mmap | None] = [None]  # in a parse worker: the run's result slots (inherited, or its memory file)
_inherited: list[Sequence[Submission]] = [()]  # in a forked parse worker: the run's submissions

# a worker's answer: (packed, ahead) through the pipe, or the sizes of its parts in its slot
_Answer = tuple[Any, ChunkAhead] | list[int]


def load_one(sub: Submission) -> ParsedReport:
    if sub.problem is not None:
        return unreadable(sub.name, "", 0, sub.problem)
    return load_file(sub.path, sub.name)


def _load_chunk(subs: Sequence[Submission] | range, slot: tuple[int, int] | None = None) -> _Answer:
    """A chunk read in a worker process, with the parts of the validation that read nothing but its
    reports (made here, on the worker's core, instead of in the run's process: the text rules'
    analysis of the prose, the layout suspects … nianbao.rules.ahead):
    ``(the reports packed by nianbao.read.bulk.pack_batch, ChunkAhead)``; or, given a ``slot`` of
    the run's shared mapping (offset, bytes) that it fits in, all of that written there
    (:func:`_put`) and the sizes of its parts returned.  Else the pool pickles it: a few flat
    buffers and lists (no object per report but a tuple of its scalar fields), taken as they are
    by the run's process.  ``subs`` a range: those of the run's submissions the worker inherited
    (not pickled for it: ~2.4 µs a report less on both sides).

    The cyclic GC is paused throughout, the packing included: its passes over the chunk's young
    objects found nothing to free and cost more than the pickling itself.  The reports are freed
    before it is back on, so its next pass walks only the packed state."""
    checkpoint("parse-chunk")  # a test hook (nianbao.run.hooks), in the worker process
    if isinstance(subs, range):
        subs = _inherited[0][subs.start : subs.stop]
    with gc_paused():
        batch = _read_part(subs)
        ahead = analyse_chunk(batch)  # (a part that fails is made by the run's process: the same result)
        packed = pack_batch(batch)
        del batch  # freed before the GC is back on: else its next pass walks them
        shared = _slots[0]
        if slot is not None and shared is not None:
            sizes = _put(shared, slot, packed, ahead)
            if sizes is not None:
                return sizes
    return packed, ahead


def _put(shared: mmap.mmap, slot: tuple[int, int], packed: tuple[Any, ...], ahead: ChunkAhead) -> list[int] | None:
    """The chunk written into its slot of the shared mapping: its lists and the analysis pickled,
    then pack_batch's buffers as they are; the sizes of these parts (None: they do not fit)."""
    meta, buffers = packed
    head = pickle.dumps((meta, ahead), protocol=pickle.HIGHEST_PROTOCOL)
    sizes = [len(head), *map(len, buffers)]
    at, room = slot
    if sum(sizes) > room:
        return None
    for part in (head, *buffers):
        shared[at : at + len(part)] = part
        at += len(part)
    return sizes


def _read_part(subs: Sequence[Submission]) -> ReportBatch:
    """The plain-text reports of these files read together (nianbao.read.bulk), every other file one by one.

    The cyclic GC is paused meanwhile: reading makes many short-lived containers (lines, cells)
    and no cycles worth a collection; its passes cost a tenth of the reading."""
    with gc_paused():
        read = iter(load_files([(s.location, s.name) for s in subs if s.problem is None]))
        return ReportBatch(load_one(s) if s.problem is not None else next(read) for s in subs)


def load_all(
    subs: Sequence[Submission],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ParsedReport]:
    """Parse every submission; in a process pool (both cores) when there are many."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if multiprocessing.current_process().daemon:
        workers = 1  # e.g. a Dask worker process: daemonic processes may not have children
    if workers <= 1 or len(subs) < PARALLEL_MIN_FILES:
        reports: list[ParsedReport] = []
        step = BULK_STEP if len(subs) >= PARALLEL_MIN_FILES else 1  # many files: read in bulk, a step at a time
        for i in range(0, len(subs), step):
            check_stop()  # a Prefect parse task's thread: the run was stopped (Ctrl-C, SIGTERM)
            few = subs[i : i + step]
            reports.extend(_read_part(few) if step > 1 else [load_one(few[0])])
            if progress:
                progress(len(few))
        return reports
    chunks = _chunks(len(subs), workers)
    size = max(len(c) for c in chunks)
    out: list[ParsedReport] = []
    # The chunks' results arrive one after the other, alike: their memory reused, not mapped anew
    # (at 20,000 reports: 7.6 -> 3.8 page faults, ~7 µs of kernel time a report in this process).
    _reuse_memory(64 << 20)
    ctx = _pool_context()
    window = min(len(chunks), workers + 2)  # chunks given out and not yet taken back
    room = max(SLOT_MIN, size * SLOT_PER_FILE)
    # the results' slots: an anonymous mapping the workers forked from this process inherit, or a
    # memory file's mapping a fork server's workers are given (its descriptor passed at their start)
    forked = ctx is None and multiprocessing.get_start_method() == "fork"
    shared, fd = _slots_for(window * room, forked, ctx is not None)
    # The parsed reports are long-lived: the cyclic GC rescanning them on every generation-2 pass
    # costs seconds at 100,000 reports and frees nothing, so it is paused while they arrive, and
    # they are frozen (gc.freeze) before it is back on: else the first allocation after that
    # collects the youngest generation — every object made since, ~3 µs a report.
    try:
        with gc_paused():
            try:
                if ctx is None:
                    ex = ProcessPoolExecutor(
                        max_workers=workers, initializer=_worker_init, initargs=(shared, subs if forked else ())
                    )
                else:
                    given: Any = _SlotsFile(fd, window * room) if fd is not None else None  # (a mapping there)
                    ex = ProcessPoolExecutor(
                        workers, ctx, initializer=_fresh_worker, initargs=(dict(os.environ), given)
                    )
                try:
                    for packed, ahead in _results(ex, subs, chunks, window, shared, room, forked):
                        check_stop()
                        part = unpack_batch(packed)
                        del packed  # (a slot's views: the slot is given out again for the next chunk)
                        register(part, ahead)
                        out.extend(part)
                        if progress:
                            progress(len(part))
                except BaseException:  # Ctrl-C, SIGTERM, a broken pool: the run stops now, not after the queue
                    _stop_pool(ex)
                    raise
                # the workers end (their memory freed) on the other core while the run goes on: the
                # pool's own thread joins them (at 100,000 reports ~40 ms less of the parse's wall)
                ex.shutdown(wait=False)
            finally:
                gc.freeze()
    finally:
        if fd is not None:
            os.close(fd)
        if shared is not None:
            with contextlib.suppress(BufferError):  # a view still held (an exception's frame): unmapped with it
                shared.close()
    return out


def _results(
    ex: ProcessPoolExecutor,
    subs: Sequence[Submission],
    chunks: Sequence[range],
    window: int,
    shared: mmap.mmap | None,
    room: int,
    forked: bool,
) -> Iterator[tuple[Any, ChunkAhead]]:
    """The chunks' ``(packed, ahead)`` in order, at most ``window`` chunks given out at
    once.  With a ``shared`` mapping (``window`` slots of ``room`` bytes, the workers' too), each
    chunk goes out with a slot of its own, and its result is read from there: the pack's buffers
    as views of the slot (no pipe, no pickled copy of them on either side, and the same pages
    chunk after chunk, none mapped anew); the slot is given out again when the caller asks for the
    next result (it has rebuilt the reports by then: nianbao.read.bulk.unpack_batch copies what it
    keeps).  Nothing is named in the file system, so nothing outlives the processes.  A chunk goes
    out as its range of ``subs`` when the workers were ``forked`` after ``subs`` was made (they
    have it), else as its submissions, pickled."""
    view = memoryview(shared) if shared is not None else None
    todo = iter(chunks)
    given: deque[tuple[Future[_Answer], int]] = deque()

    def give(slot: int) -> None:
        chunk = next(todo, None)
        if chunk is not None:
            where = (slot * room, room) if view is not None else None
            given.append((ex.submit(_load_chunk, chunk if forked else subs[chunk.start : chunk.stop], where), slot))

    for slot in range(window):
        give(slot)
    while given:
        fut, slot = given.popleft()
        got = fut.result()
        if isinstance(got, list):
            assert view is not None
            at = slot * room
            parts = []
            for n in got:
                parts.append(view[at : at + n])
                at += n
            meta, ahead = pickle.loads(parts[0])
            yield (meta, parts[1:]), ahead
            del parts
        else:
            yield got
        give(slot)


def _chunk_size(n: int, workers: int) -> int:
    """Files a worker reads together: eight chunks a worker (the last ones even out the workers'
    ends), at least 50; at most CHUNK_MAX, and then as many chunks as make a whole number a
    worker, of even sizes (100,000 files: 26 of 3,847 rather than 25 of 4,000, whose last one a
    worker would read alone while the other waited: ~4 % of the parse's wall time)."""
    size = max(50, n // (workers * 8))
    if size <= CHUNK_MAX:
        return size
    count = -(-n // CHUNK_MAX)  # the fewest chunks of at most CHUNK_MAX
    count += -count % workers  # a whole number a worker
    return -(-n // count)


def _chunks(n: int, workers: int) -> list[range]:
    """The chunks of ``n`` files, in order: of :func:`_chunk_size`, but for the last ``workers``
    chunks' worth of files, read in chunks of halving sizes, ``workers`` of each size, while a half
    holds at least TAPER_MIN files, the rest in chunks of the last size.  The workers take chunks
    as they finish one, so they end at most a chunk apart, one core idle meanwhile: the smallest
    chunk rather than a whole one (100,000 files, two workers: 24 chunks of 3,847, then 2 of 1,924,
    2 of 962, 4 of ~475; the workers' ends measured 0.00-0.08 s apart rather than 0.00-0.31 s, for 6
    chunks' fixed costs more, ~15 ms of CPU each)."""
    size = _chunk_size(n, workers)
    whole = -(-n // size)
    if size // 2 < TAPER_MIN or whole < 2 * workers:
        return [range(i, min(i + size, n)) for i in range(0, n, size)]
    at = (whole - workers) * size  # files in chunks of ``size``; the rest in smaller ones
    out = [range(i, i + size) for i in range(0, at, size)]
    step = size
    while at < n:
        rest = n - at
        if step // 2 >= TAPER_MIN:
            step = -(-step // 2)
        more = step // 2 >= TAPER_MIN and rest > workers * step  # another level after this one
        take = workers * step if more else rest
        count = -(-take // step)
        even = -(-take // count)
        for i in range(at, at + take, even):
            out.append(range(i, min(i + even, at + take)))
        at += take
    return out


def _pool_context() -> multiprocessing.context.ForkServerContext | None:
    """How the workers start: forked from this process (None, the default), unless polars' thread
    pool runs here (e.g. the nightly job read its store with polars first): a worker forked from it
    could not use polars, and nianbao.read.bulk would read report by report there; then they are
    forked from a fresh server process (``forkserver``, started once, ~0.2 s)."""
    if not polars_pool_running():
        return None
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["nianbao.run.parsing"])
    return ctx


def _fresh_worker(environ: dict[str, str], shared: mmap.mmap | None = None) -> None:
    """Initializer of a worker forked from the fork server: this run's environment (limits, test
    hooks; the server keeps the one it started with), then as any worker (``shared``: the run's
    result slots, mapped from the memory file it was given: :class:`_SlotsFile`)."""
    os.environ.clear()
    os.environ.update(environ)
    _worker_init(shared)


def _slots_for(size: int, forked: bool, served: bool) -> tuple[mmap.mmap | None, int | None]:
    """The result slots' mapping of ``size`` bytes and, for workers started from a fork server
    (``served``), the memory file's descriptor it maps (Linux: ``os.memfd_create``); (None, None)
    when neither can be made (the results come back through the pipe)."""
    if forked:
        return mmap.mmap(-1, size), None
    if not served or not hasattr(os, "memfd_create"):
        return None, None
    fd = -1
    try:
        fd = os.memfd_create("nianbao-parse-results", os.MFD_CLOEXEC)
        os.ftruncate(fd, size)
        return mmap.mmap(fd, size), fd
    except OSError:
        if fd >= 0:
            os.close(fd)
        return None, None


class _SlotsFile:
    """The result slots' memory file as a worker's start argument: pickled for a fork server's
    worker, the descriptor goes with the process (``multiprocessing.reduction.DupFd``, while the
    pool starts it) and the worker maps the file while its arguments are unpickled."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd, self.size = fd, size

    def __reduce__(self) -> tuple[Any, ...]:
        return (_mapped, (reduction.DupFd(self.fd), self.size))


def _mapped(dup: Any, size: int) -> mmap.mmap:
    """The memory file given to this worker (a :class:`_SlotsFile`), mapped; its descriptor closed."""
    fd = dup.detach()
    try:
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


def _worker_init(shared: mmap.mmap | None = None, subs: Sequence[Submission] = ()) -> None:
    """A parse worker's start: quiet (nianbao.run.interrupt), its allocator told to keep what a
    chunk freed for the next one (the heap's top kept up to 256 MB: see :func:`_reuse_memory`; the
    worker ends with the parse, so nothing else runs with it).  At 20,000 reports: 13 -> 9 page
    faults and ~6 µs of kernel time a report.  ``shared``: the run's result slots, ``subs``: its
    submissions (both inherited by the fork, never pickled)."""
    quiet_worker()
    _reuse_memory(256 << 20)
    _slots[0] = shared
    _inherited[0] = subs


def _reuse_memory(keep: int) -> None:
    """The C allocator (glibc) told to serve blocks of up to 32 MB from its heap rather than map and
    unmap each (a parse chunk's result, a worker's buffers: fresh pages faulted in every time), and
    to keep up to ``keep`` bytes freed at the heap's top.  glibc raises its own thresholds towards
    these (at most 32 MB / 64 MB) as it frees large mapped blocks; set, they stay for the process
    (the run's: 64 MB, the bound glibc would reach itself).  Another C library (no ``mallopt``, or
    one that ignores these) is left as it is."""
    with contextlib.suppress(OSError, AttributeError, TypeError):  # TypeError: no CDLL(None) (Windows)
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
        mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        mallopt(_M_TRIM_THRESHOLD, keep)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


def _stop_pool(ex: ProcessPoolExecutor) -> None:
    """Drop the queued chunks and end the workers at once (``shutdown`` alone would wait for the
    chunks they are parsing; the executor keeps its processes in ``_processes``)."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
