"""A submitted file's bytes, read within the size limit, and its settled modification time."""

from __future__ import annotations

import os
import time

from nianbao.domain.model import ParsedReport
from nianbao.domain.oserrors import os_reason
from nianbao.io.limits import Limits
from nianbao.io.unreadable import failed, too_large

SETTLED_NS = 2_000_000_000  # a file unmodified this long before it was read is not being written


def read_bytes(path: str | os.PathLike[str], name: str, limits: Limits) -> tuple[bytes, os.stat_result] | ParsedReport:
    """The bytes of the file at ``path`` and its status taken before they were read, or the
    unreadable report of the file ``name`` (too large, or the system refused to read it).  A
    string path makes no ``Path`` (~5 µs a file of a run's listing)."""
    try:
        st = os.stat(path)
        if st.st_size > limits.max_file_bytes:
            return too_large(name, st.st_size, limits)
        with open(path, "rb") as fh:
            # as read(max_file_bytes + 1), without a buffer of that size made for every file (two
            # thirds of the reading's CPU): as much as the status says, then on if the file grew since
            want = st.st_size + 1
            data = fh.read(want)
            if len(data) == want and want <= limits.max_file_bytes:
                data += fh.read(limits.max_file_bytes + 1 - want)
    except OSError as e:
        return failed(name, None, "U01", detail=f"无法读取文件：{os_reason(e)}")
    if len(data) > limits.max_file_bytes:
        return too_large(name, len(data), limits)
    return data, st


def settled_mtime(st: os.stat_result) -> int | None:
    """The modification time taken *before* the bytes were read, when the file had been left alone
    for a while; None for a file modified just before (its content may be from either side of that
    write, so a later run must hash it rather than trust the time)."""
    return st.st_mtime_ns if time.time_ns() - st.st_mtime_ns > SETTLED_NS else None
