"""Loaders: a submitted file (bytes) to a :class:`~nianbao.model.ParsedReport`.

The type is detected from the content, not only from the extension.  Every failure becomes an
``unreadable`` report with a Chinese reason naming what went wrong; nothing raises to the caller.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from nianbao.loaders.text import parse_text
from nianbao.model import ParsedReport, unreadable
from nianbao.parse import NotAReport
from nianbao.textio import DecodeError, decode


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_bytes(name: str, data: bytes) -> ParsedReport:
    """Parse one submission.  ``name`` is the file name shown in the outputs."""
    digest = sha256(data)
    size = len(data)
    if not data.strip():
        return unreadable(name, digest, size, "文件为空")
    try:
        text, encoding = decode(data)
    except DecodeError as e:
        return unreadable(name, digest, size, f"无法识别文件编码：{e}")
    rep = ParsedReport(file=name, sha256=digest, size=size, encoding=encoding)
    try:
        return parse_text(text, rep)
    except NotAReport as e:
        return unreadable(name, digest, size, str(e))


def load_file(path: Path, name: str | None = None) -> ParsedReport:
    display = name if name is not None else str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        return unreadable(display, "", 0, f"无法读取文件：{e.strerror or e}")
    return load_bytes(display, data)
