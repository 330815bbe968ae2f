"""Loaders: a submitted file (bytes) to a :class:`~nianbao.domain.model.ParsedReport`.

The type is detected from the content (:mod:`nianbao.io.sniff`), not only from the extension.
Every loader turns its input into lines of cells (:class:`nianbao.io.lines.Line`) and the one parser
reads the report from them, so a report gives the same canonical cells whatever it was written in.
Every failure becomes an ``unreadable`` report whose reason is a U-rule of the catalogue (code and
Chinese message naming what went wrong and what to send instead); nothing raises to the caller.

Heavy formats (PDF, Word, Excel, HTML) are parsed in a guarded worker process with a time limit
(:mod:`nianbao.io.guard`); their libraries are imported only there, when such a file is met.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nianbao.domain.model import ParsedReport, unreadable
from nianbao.domain.oserrors import os_reason
from nianbao.io.guard import guarded_load
from nianbao.io.limits import Limits, Unreadable
from nianbao.io.lines import Line
from nianbao.io.sniff import HEAVY, image_label, sniff
from nianbao.io.text import parse_text
from nianbao.io.textio import Decoded, DecodeError, decode_text
from nianbao.read.parse import NotAReport, parse_lines

SOURCE_TYPES = ("text", "csv", "html", "pdf", "docx", "xlsx")

_INSTEAD_DOC = "请另存为 .docx 或导出为文字版 PDF 后重新提交"
_UNSUPPORTED: dict[str, str] = {
    "doc": "文件是旧版 Word 文档（.doc/.wps 二进制格式）",
    "xls": "文件是旧版 Excel 工作簿（.xls/.et 二进制格式）",
    "ole2": "文件是旧版 Office 二进制文档（OLE2 格式）",
    "rtf": "文件是 RTF 格式",
    "pptx": "文件是 PowerPoint 演示文稿",
    "ofd": "文件是 OFD 版式文件",
    "zip": "文件是压缩包（或已损坏的 Office 文档）",
}
_INSTEAD: dict[str, str] = {
    "xls": "请另存为 .xlsx 后重新提交",
    "zip": "请解压后分别提交其中的报告文件（.docx、.xlsx、文字版 PDF、.html 或 .txt）",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def reason_for(code: str, **params: Any) -> str:
    from nianbao.catalogue import rule

    return rule(code).render(**params)


def failed(name: str, data: bytes | None, code: str, source_type: str = "text", **params: Any) -> ParsedReport:
    """The unreadable report of a file, with the U-rule ``code`` and its Chinese reason."""
    digest = sha256(data) if data is not None else ""
    rep = unreadable(name, digest, len(data) if data is not None else 0, reason_for(code, **params), source_type)
    rep.reason_code = code
    return rep


_cached: tuple[tuple[str | None, ...], Limits] | None = None


def current_limits() -> Limits:
    """The limits of this process (from the environment, re-read when it changes)."""
    global _cached
    from nianbao.io.limits import ENV

    key = tuple(os.environ.get(v) for v in ENV.values())
    if _cached is None or _cached[0] != key:
        _cached = (key, Limits.from_env())
    return _cached[1]


def _size_mb(n: int) -> str:
    mb = n / 1024 / 1024
    return f"{mb:.1f}" if mb >= 1 else f"{mb:.3f}"


def _too_large(name: str, size: int, limits: Limits, data: bytes | None = None) -> ParsedReport:
    rep = failed(name, data, "U02", size_mb=_size_mb(size), limit_mb=f"{limits.max_file_mb:g}", size=size)
    rep.size = size
    return rep


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt pure-Python parsing after ``seconds`` (main thread only; elsewhere the guard's
    worker process enforces the limit)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(_sig: int, _frm: object) -> None:
        raise _Timeout

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class _Timeout(Exception):
    pass


# what a file's extension promises, for a file whose bytes turn out to be neither that nor text
_OFFICE_EXT = {"docx": "Word", "doc": "Word", "wps": "Word", "xlsx": "Excel", "xls": "Excel", "et": "Excel"}


def _damaged_office(name: str) -> str | None:
    """Word or Excel, when the file name promises an Office document (``.docx``, ``.xlsx`` …)."""
    return _OFFICE_EXT.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None


def _parse_text_kind(name: str, data: bytes, kind: str, limits: Limits) -> ParsedReport:
    try:
        dec = decode_text(data)
    except DecodeError as e:
        if what := _damaged_office(name):  # a .docx that is neither a Word package nor text: damaged
            return failed(name, data, "U01", kind, detail=f"{what} 文件已损坏（内容不是有效的 {what} 文件格式）")
        return failed(name, data, "U07", kind, detail=str(e))
    rep = ParsedReport(file=name, sha256=sha256(data), size=len(data), encoding=dec.encoding, source_type=kind)
    if dec.damage:
        rep.bad_bytes = dec.damage
        rep.bad_bytes_detail = dec.damage_detail()
    if kind == "csv":
        from nianbao.io.csvfile import csv_lines

        return parse_lines(csv_lines(dec.text, limits), rep)
    return parse_text(dec.text, rep, limits)


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs"}


def _declared(data: bytes) -> Decoded | None:
    """A page in the charset its <meta> declares (when that is not UTF-8 and decodes cleanly)."""
    m = _CHARSET.search(data[:4096])
    if m is None:
        return None
    name = m.group(1).decode("ascii").lower()
    enc = _SUPERSET.get(name, name)
    try:
        if codecs.lookup(enc).name in ("utf-8", "utf-16", "utf-16-le", "utf-16-be"):
            return None
        return Decoded(data.decode(enc), enc)
    except (LookupError, UnicodeDecodeError):
        return None


def parse_kind(name: str, data: bytes, kind: str, limits: Limits) -> ParsedReport:
    """Parse ``data`` of a detected ``kind`` in this process; raises Unreadable / NotAReport."""
    if kind in ("text", "csv"):
        return _parse_text_kind(name, data, kind, limits)
    lines: list[Line]
    rep = ParsedReport(file=name, sha256=sha256(data), size=len(data), source_type=kind)
    if kind == "html":
        from nianbao.io.html import html_lines

        # clean UTF-8 wins (a page re-encoded by its CMS often keeps a stale charset); else the declared one
        try:
            dec = decode_text(data)
        except DecodeError as e:
            declared = _declared(data)
            if declared is None:
                raise Unreadable("U07", detail=str(e)) from e
            dec = declared
        if not (dec.encoding.startswith("utf") and not dec.damage):
            dec = _declared(data) or dec
        rep.encoding = dec.encoding
        if dec.damage:
            rep.bad_bytes, rep.bad_bytes_detail = dec.damage, dec.damage_detail()
        lines = html_lines(dec.text, limits)
    elif kind == "docx":
        from nianbao.io.docx import docx_lines

        lines = docx_lines(data, limits)
    elif kind == "xlsx":
        from nianbao.io.xlsx import xlsx_lines

        lines = xlsx_lines(data, limits)
    elif kind == "pdf":
        from nianbao.io.pdf import pdf_lines

        lines = pdf_lines(data, limits)
    else:  # pragma: no cover - the dispatcher only sends readable kinds here
        raise Unreadable("U03", detail=f"文件类型 {kind}", instead=_INSTEAD_DOC)
    return parse_lines(lines, rep)


def load_bytes(name: str, data: bytes, limits: Limits | None = None) -> ParsedReport:
    """Parse one submission in this process.  ``name`` is the file name shown in the outputs."""
    lim = limits or current_limits()
    if len(data) > lim.max_file_bytes:
        return _too_large(name, len(data), lim, data)
    if not data.strip():
        return failed(name, data, "U01", detail="文件为空")
    kind = sniff(data, name)
    source_type = kind if kind in SOURCE_TYPES else "text"
    if kind == "zip" and (what := _damaged_office(name)):  # a .docx/.xlsx whose package is broken
        return failed(name, data, "U01", source_type, detail=f"{what} 文件已损坏（压缩包结构不完整，无法打开）")
    if kind in _UNSUPPORTED:
        return failed(
            name, data, "U03", source_type, detail=_UNSUPPORTED[kind], instead=_INSTEAD.get(kind, _INSTEAD_DOC)
        )
    if kind == "image":
        return failed(name, data, "U03", source_type, detail=f"文件是 {image_label(data)} 图片", instead=_INSTEAD_DOC)
    try:
        with _deadline(lim.parse_timeout):
            return parse_kind(name, data, kind, lim)
    except Unreadable as e:
        return failed(name, data, e.code, source_type, **e.params)
    except NotAReport as e:
        return failed(name, data, "U08", source_type, detail=str(e))
    except _Timeout:
        return failed(name, data, "U06", source_type, limit=f"{lim.parse_timeout:g}")
    except RecursionError:
        return failed(name, data, "U05", source_type, detail="文件结构嵌套过深")
    except MemoryError:
        return failed(name, data, "U05", source_type, detail="解析所需内存超出上限")
    except Exception as e:  # a library failing on a damaged file: the file is unreadable, the run goes on
        return failed(name, data, "U01", source_type, detail=f"文件已损坏或格式异常（{type(e).__name__}）")


def load_file(path: Path, name: str | None = None, limits: Limits | None = None) -> ParsedReport:
    """Parse one file; heavy formats in the guarded worker process (time limit, crash containment)."""
    display = name if name is not None else str(path)
    lim = limits or current_limits()
    try:
        st = path.stat()
        if st.st_size > lim.max_file_bytes:
            return _too_large(display, st.st_size, lim)
        with path.open("rb") as fh:
            data = fh.read(lim.max_file_bytes + 1)
    except OSError as e:
        return failed(display, None, "U01", detail=f"无法读取文件：{os_reason(e)}")
    if len(data) > lim.max_file_bytes:
        return _too_large(display, len(data), lim)
    if data.strip() and sniff(data[: 1 << 16] if not data.startswith(b"PK") else data, display) in HEAVY:
        rep = guarded_load(display, data, lim, load_bytes, failed)
    else:
        rep = load_bytes(display, data, lim)
    rep.mtime_ns = settled_mtime(st)
    return rep


SETTLED_NS = 2_000_000_000  # a file unmodified this long before it was read is not being written


def settled_mtime(st: os.stat_result) -> int | None:
    """The modification time taken *before* the bytes were read, when the file had been left alone
    for a while; None for a file modified just before (its content may be from either side of that
    write, so a later run must hash it rather than trust the time)."""
    return st.st_mtime_ns if time.time_ns() - st.st_mtime_ns > SETTLED_NS else None


__all__ = ["Limits", "current_limits", "failed", "load_bytes", "load_file", "parse_kind", "sha256"]
