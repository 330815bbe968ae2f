"""What a submitted file really is, from its bytes (magic numbers, package members, markup) — the
extension is only a hint, used where the content alone cannot tell (.csv vs .txt).

Kinds: ``text``, ``csv``, ``html``, ``pdf``, ``docx``, ``xlsx`` (readable), and ``doc``, ``xls``,
``ole2``, ``image``, ``zip``, ``ofd``, ``rtf``, ``pptx`` (recognised but not readable: the loader
reports what to send instead).
"""

from __future__ import annotations

import io
import re
import zipfile

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S
)
_HTML_TAGS = re.compile(rb"<(?:table|tr|td|p|div|br|span|h[1-6])\b[^>]*>", re.I)

# the first bytes with which a kind other than text or csv can start (after the PDF marker, which
# may be anywhere in the first KiB): its magic number, whitespace or a BOM before markup or RTF, "<"
_SPECIAL_FIRST = frozenset(
    {b"", b"P", OLE2[:1], b"R", b"{", b"<", b"\xef", b"\xff", b"\xfe", *(m[:1] for m, _ in _IMAGES)}
    | {bytes((c,)) for c in b" \t\n\r\x0b\x0c"}
)

_HTML_EXT = ("html", "htm", "shtml", "xhtml", "mht")

HEAVY = frozenset({"pdf", "docx", "xlsx", "html"})  # parsed in the guarded worker process


def _utf16_ascii(data: bytes) -> bytes:
    """An ASCII view of UTF-16 text (for markup sniffing): drop the NUL halves."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data[2:].replace(b"\x00", b"")
    return data


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist()[:5000])
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        # a damaged package still names its members in the local headers: say what it was meant to be
        head = data[: 1 << 20]
        if b"word/" in head:
            return "docx"
        if b"xl/" in head:
            return "xlsx"
        return "zip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if any(n.startswith("ppt/") for n in names):
        return "pptx"
    if "OFD.xml" in names or any(n.startswith("Doc_0/") for n in names):
        return "ofd"
    return "zip"


def sniff(data: bytes, name: str = "") -> str:
    """The kind of a submission (see module doc)."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if data.find(b"%PDF-", 0, 1024) >= 0:  # (in the first KiB, without its copy)
        return "pdf"
    # most texts: no magic number, BOM or markup can match; after a BOM, its text's first byte (of
    # UTF-16: the first of the ASCII view's, what the markup is looked for in)
    if data.startswith(b"\xef\xbb\xbf"):
        first = data[3:4]
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        first = data[2:2048].lstrip(b"\x00")[:1]
    else:
        first = data[:1]
    if first not in _SPECIAL_FIRST:
        if ext == "csv":
            return "csv"
        if ext in _HTML_EXT and _HTML_TAGS.search(_utf16_ascii(data[:2048])):
            return "html"
        return "text"
    head = data[:2048]
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if head.startswith(OLE2):
        # the OLE2 directory names its streams in UTF-16: WordDocument (.doc/.wps) or Workbook (.xls/.et)
        probe = data[: 1 << 20]
        if "Workbook".encode("utf-16-le") in probe or "Book".encode("utf-16-le") in probe[:4096]:
            return "xls"
        if "WordDocument".encode("utf-16-le") in probe:
            return "doc"
        return {"xls": "xls", "et": "xls", "doc": "doc", "wps": "doc"}.get(ext, "ole2")
    for magic, _label in _IMAGES:
        if head.startswith(magic):
            return "image"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image"
    if head.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    probe = _utf16_ascii(head)
    if probe.startswith(b"\xef\xbb\xbf"):
        probe = probe[3:]
    if _HTML_START.match(probe):
        return "html"
    if ext in _HTML_EXT and _HTML_TAGS.search(probe):
        return "html"
    if ext == "csv":
        return "csv"
    return "text"


def image_label(data: bytes) -> str:
    for magic, label in _IMAGES:
        if data.startswith(magic):
            return label
    return "WEBP"
