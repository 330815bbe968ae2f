"""A submitted file's bytes, read within the size limit, and its settled modification time."""

from __future__ import annotations

import os
import time

from nianbao.domain.model import ParsedReport
from nianbao.domain.oserrors import os_reason
from nianbao.io.limits import Limits
from nianbao.io.unreadable import failed, too_large

try:  # a regular file's bytes by one C call (nianbao/io/decode.c), when built
    from nianbao.io.decode import slurp
except ImportError:  # pragma: no cover - an install without a C compiler
    slurp = None  # type: ignore[assignment]

SETTLED_NS = 2_000_000_000  # a file unmodified this long before it was read is not being written
_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def read_bytes(path: str | os.PathLike[str], name: str, limits: Limits) -> tuple[bytes, os.stat_result] | ParsedReport:
    """The bytes of the file at ``path`` and its status taken before they were read, or the
    unreadable report of the file ``name`` (too large, or the system refused to read it).

    One open, one ``fstat`` of the open file and its reads, by the file descriptor (no Python file
    object, no second look-up of the path: ~6 µs a file less than ``stat`` + ``open``).  A file
    that cannot be opened so is read by its path (:func:`_by_path`: too large before unreadable)."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError:
        return _by_path(path, name, limits)
    try:
        st = os.fstat(fd)
        if st.st_size > limits.max_file_bytes:
            return too_large(name, st.st_size, limits)
        # as much as the status says and one byte more, then on to the limit if the file grew since
        # (no buffer of the limit's size made for every file); a read that gives all the status
        # said is taken as the whole file (no second read to see its end: ~0.6 us), a shorter one
        # is read on to the end
        want = st.st_size + 1
        data = os.read(fd, want)
        if len(data) < st.st_size:
            data += _read(fd, want - len(data))
        if len(data) == want and want <= limits.max_file_bytes:
            data += _read(fd, limits.max_file_bytes + 1 - want)
    except OSError as e:
        return failed(name, None, "U01", detail=f"无法读取文件：{os_reason(e)}")
    finally:
        os.close(fd)
    if len(data) > limits.max_file_bytes:
        return too_large(name, len(data), limits)
    return data, st


def _read(fd: int, n: int) -> bytes:
    """Up to ``n`` bytes of ``fd``: fewer only at its end (as a buffered file's ``read(n)``)."""
    data = os.read(fd, n)
    if len(data) in (0, n):
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = os.read(fd, n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _by_path(path: str | os.PathLike[str], name: str, limits: Limits) -> tuple[bytes, os.stat_result] | ParsedReport:
    """:func:`read_bytes` by the path, for a file that could not be opened by its descriptor: its
    status first (too large before unreadable), then a buffered read."""
    try:
        st = os.stat(path)
        if st.st_size > limits.max_file_bytes:
            return too_large(name, st.st_size, limits)
        with open(path, "rb") as fh:
            want = st.st_size + 1
            data = fh.read(want)
            if len(data) == want and want <= limits.max_file_bytes:
                data += fh.read(limits.max_file_bytes + 1 - want)
    except OSError as e:
        return failed(name, None, "U01", detail=f"无法读取文件：{os_reason(e)}")
    if len(data) > limits.max_file_bytes:
        return too_large(name, len(data), limits)
    return data, st


def read_file(path: str | os.PathLike[str], name: str, limits: Limits) -> tuple[bytes, int] | ParsedReport:
    """:func:`read_bytes`'s bytes and the modification time (ns) of the status taken before them:
    a regular file within the limit read as a whole by one compiled call (the same syscalls, ~1 us
    a file less), any other by :func:`read_bytes` (which then says what is wrong)."""
    if slurp is not None and (got := slurp(path, limits.max_file_bytes)) is not None:
        return got
    read = read_bytes(path, name, limits)
    return read if isinstance(read, ParsedReport) else (read[0], read[1].st_mtime_ns)


def settled_mtime(st: os.stat_result) -> int | None:
    """The modification time taken *before* the bytes were read, when the file had been left alone
    for a while; None for a file modified just before (its content may be from either side of that
    write, so a later run must hash it rather than trust the time)."""
    return settled_ns(st.st_mtime_ns)


def settled_ns(mtime_ns: int) -> int | None:
    """:func:`settled_mtime` of a status' modification time ``mtime_ns``."""
    return mtime_ns if time.time_ns() - mtime_ns > SETTLED_NS else None
