"""The ``unreadable`` report of a file: its U-rule of the catalogue and the Chinese reason (what went
wrong and what to send instead), for a file too large, empty, of a kind no reader takes, or damaged."""

from __future__ import annotations

import hashlib
from typing import Any

from nianbao.domain.model import ParsedReport, unreadable
from nianbao.io.limits import Limits
from nianbao.io.sniff import image_label

SOURCE_TYPES = ("text", "csv", "html", "pdf", "docx", "xlsx")

INSTEAD_DOC = "请另存为 .docx 或导出为文字版 PDF 后重新提交"
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
# what a file's extension promises, for a file whose bytes turn out to be neither that nor text
_OFFICE_EXT = {"docx": "Word", "doc": "Word", "wps": "Word", "xlsx": "Excel", "xls": "Excel", "et": "Excel"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_type(kind: str) -> str:
    """The ``source_type`` of a report whose bytes were detected as ``kind``."""
    return kind if kind in SOURCE_TYPES else "text"


def reason_for(code: str, **params: Any) -> str:
    from nianbao.catalogue import rule

    return rule(code).render(**params)


def failed(name: str, data: bytes | None, code: str, source_type: str = "text", **params: Any) -> ParsedReport:
    """The unreadable report of a file, with the U-rule ``code`` and its Chinese reason."""
    digest = sha256(data) if data is not None else ""
    rep = unreadable(name, digest, len(data) if data is not None else 0, reason_for(code, **params), source_type)
    rep.reason_code = code
    return rep


def _size_mb(n: int) -> str:
    mb = n / 1024 / 1024
    return f"{mb:.1f}" if mb >= 1 else f"{mb:.3f}"


def too_large(name: str, size: int, limits: Limits, data: bytes | None = None) -> ParsedReport:
    rep = failed(name, data, "U02", size_mb=_size_mb(size), limit_mb=f"{limits.max_file_mb:g}", size=size)
    rep.size = size
    return rep


def damaged_office(name: str) -> str | None:
    """Word or Excel, when the file name promises an Office document (``.docx``, ``.xlsx`` …)."""
    return _OFFICE_EXT.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None


def refused(name: str, data: bytes, kind: str) -> ParsedReport | None:
    """The unreadable report of a file whose detected ``kind`` no reader takes (a damaged Office
    package, an old binary Office format, RTF, OFD, an archive, an image); None for a readable kind."""
    st = source_type(kind)
    if kind == "zip" and (what := damaged_office(name)):  # a .docx/.xlsx whose package is broken
        return failed(name, data, "U01", st, detail=f"{what} 文件已损坏（压缩包结构不完整，无法打开）")
    if kind in _UNSUPPORTED:
        return failed(name, data, "U03", st, detail=_UNSUPPORTED[kind], instead=_INSTEAD.get(kind, INSTEAD_DOC))
    if kind == "image":
        return failed(name, data, "U03", st, detail=f"文件是 {image_label(data)} 图片", instead=INSTEAD_DOC)
    return None
