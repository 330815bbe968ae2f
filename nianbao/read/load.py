"""A submitted file (bytes) to a :class:`~nianbao.domain.model.ParsedReport`: the io readers give its
lines of cells, the one parser reads the report from them.

The type is detected from the content (:mod:`nianbao.io.sniff`), not only from the extension, so a
report gives the same canonical cells whatever it was written in.  Every failure becomes an
``unreadable`` report whose reason is a U-rule of the catalogue (:mod:`nianbao.io.unreadable`: code
and Chinese message naming what went wrong and what to send instead); nothing raises to the caller.

Heavy formats (PDF, Word, Excel, HTML) are parsed in a guarded worker process with a time limit
(:mod:`nianbao.io.guard`, serving :func:`load_bytes` from :mod:`nianbao.read.worker`); their
libraries are imported only there, when such a file is met.
"""

from __future__ import annotations

import os

from nianbao.domain.model import ParsedReport
from nianbao.io.deadline import ParseTimeout, deadline
from nianbao.io.files import read_bytes, settled_mtime
from nianbao.io.guard import guarded_load
from nianbao.io.limits import Limits, Unreadable, current_limits
from nianbao.io.readers import lines_of
from nianbao.io.sniff import HEAVY, sniff
from nianbao.io.unreadable import failed, refused, source_type, too_large
from nianbao.read.parse import NotAReport, parse_lines


def parse_kind(name: str, data: bytes, kind: str, limits: Limits) -> ParsedReport:
    """Parse ``data`` of a detected ``kind`` in this process; raises Unreadable / NotAReport."""
    lines, rep = lines_of(name, data, kind, limits)
    return parse_lines(lines, rep)


def load_bytes(name: str, data: bytes, limits: Limits | None = None) -> ParsedReport:
    """Parse one submission in this process.  ``name`` is the file name shown in the outputs."""
    lim = limits or current_limits()
    if len(data) > lim.max_file_bytes:
        return too_large(name, len(data), lim, data)
    if not data.strip():
        return failed(name, data, "U01", detail="文件为空")
    kind = sniff(data, name)
    refusal = refused(name, data, kind)
    if refusal is not None:
        return refusal
    st = source_type(kind)
    try:
        with deadline(lim.parse_timeout):
            return parse_kind(name, data, kind, lim)
    except Unreadable as e:
        return failed(name, data, e.code, st, **e.params)
    except NotAReport as e:
        return failed(name, data, "U08", st, detail=str(e))
    except ParseTimeout:
        return failed(name, data, "U06", st, limit=f"{lim.parse_timeout:g}")
    except RecursionError:
        return failed(name, data, "U05", st, detail="文件结构嵌套过深")
    except MemoryError:
        return failed(name, data, "U05", st, detail="解析所需内存超出上限")
    except Exception as e:  # a library failing on a damaged file: the file is unreadable, the run goes on
        return failed(name, data, "U01", st, detail=f"文件已损坏或格式异常（{type(e).__name__}）")


def load_file(path: str | os.PathLike[str], name: str | None = None, limits: Limits | None = None) -> ParsedReport:
    """Parse one file; heavy formats in the guarded worker process (time limit, crash containment)."""
    display = name if name is not None else str(path)
    lim = limits or current_limits()
    got = read_bytes(path, display, lim)
    if isinstance(got, ParsedReport):
        return got
    data, stat = got
    if data.strip() and sniff(data[: 1 << 16] if not data.startswith(b"PK") else data, display) in HEAVY:
        rep = guarded_load(display, data, lim, load_bytes, failed)
    else:
        rep = load_bytes(display, data, lim)
    rep.mtime_ns = settled_mtime(stat)
    return rep


__all__ = ["load_bytes", "load_file", "parse_kind"]
