"""A file's bytes of a detected kind to lines of cells (:class:`nianbao.io.lines.Line`) and the
report they will fill (file, digest, size, encoding, damaged bytes): the one dispatch over the
text, CSV, HTML, Word, Excel and PDF readers.  Heavy readers' libraries are imported only when such
a file is met."""

from __future__ import annotations

import codecs
import re

from nianbao.domain.model import ParsedReport
from nianbao.io.limits import Limits, Unreadable
from nianbao.io.lines import Line
from nianbao.io.text import text_lines
from nianbao.io.textio import Decoded, DecodeError, decode_text
from nianbao.io.unreadable import INSTEAD_DOC, damaged_office, sha256

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


def _text_kind_lines(name: str, data: bytes, kind: str, limits: Limits) -> tuple[list[Line], ParsedReport]:
    try:
        dec = decode_text(data)
    except DecodeError as e:
        if what := damaged_office(name):  # a .docx that is neither a Word package nor text: damaged
            raise Unreadable("U01", detail=f"{what} 文件已损坏（内容不是有效的 {what} 文件格式）") from e
        raise Unreadable("U07", detail=str(e)) from e
    rep = ParsedReport(file=name, sha256=sha256(data), size=len(data), encoding=dec.encoding, source_type=kind)
    if dec.damage:
        rep.bad_bytes = dec.damage
        rep.bad_bytes_detail = dec.damage_detail()
    if kind == "csv":
        from nianbao.io.csvfile import csv_lines

        return csv_lines(dec.text, limits), rep
    return text_lines(dec.text, limits), rep


def lines_of(name: str, data: bytes, kind: str, limits: Limits) -> tuple[list[Line], ParsedReport]:
    """The lines of cells of ``data`` of a detected ``kind`` and the report they fill; raises
    :class:`~nianbao.io.limits.Unreadable`."""
    if kind in ("text", "csv"):
        return _text_kind_lines(name, data, kind, limits)
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
        raise Unreadable("U03", detail=f"文件类型 {kind}", instead=INSTEAD_DOC)
    return lines, rep
