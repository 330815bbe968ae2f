"""Bytes to text: UTF-8 first (with or without BOM), UTF-16 by BOM or by its NUL pattern, then GB18030.

A file that is *almost* valid UTF-8 (a few corrupt bytes in an otherwise UTF-8 report) is decoded
as UTF-8 with the bad bytes replaced by U+FFFD and the damage counted, rather than misread as
GB18030 mojibake; control characters (NUL …) in a text are removed and counted; a file that is
mostly control bytes is binary, not text.  The counts become a U09 warning of the report.
"""

from __future__ import annotations

import array
import codecs
import re
from dataclasses import dataclass
from functools import cache

try:  # GB18030's two-byte characters and the control search in C (nianbao/io/decode.c), when built
    from nianbao.io import decode as cdecode
except ImportError:  # pragma: no cover - an install without a C compiler
    cdecode = None  # type: ignore[assignment]


class DecodeError(ValueError):
    """The bytes are not text in any encoding a report is published in."""


# C0 controls except TAB, LF, VT, FF, CR (FF/VT are page breaks in extractions), plus DEL
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])  # the same, as bytes
# encodings in which those characters come only from their own single byte (never a byte of a
# longer sequence, nor of a replaced bad one): bytes without them decode to a text without them
_ASCII_SAFE = frozenset({"utf-8", "utf-8-sig", "gb18030"})
BINARY_SHARE = 0.02  # more control characters than this share of the text: binary, not text
_BOM_FIRST = frozenset({codecs.BOM_UTF8[:1], codecs.BOM_UTF16_LE[:1], codecs.BOM_UTF16_BE[:1]})
NEAR_UTF8_SHARE = 0.002  # at most this share of bad bytes (and at least 3 allowed) still counts as UTF-8


@dataclass(slots=True)
class Decoded:
    text: str
    encoding: str
    bad_bytes: int = 0  # invalid byte sequences replaced by U+FFFD
    first_bad: int | None = None  # byte offset of the first one
    control_chars: int = 0  # control characters removed
    first_control: int | None = None  # character offset of the first one

    @property
    def damage(self) -> int:
        return self.bad_bytes + self.control_chars

    def damage_detail(self) -> str:
        parts = []
        if self.bad_bytes:
            parts.append(f"{self.bad_bytes} 处无效的 {self.encoding.upper()} 字节，第一处在第 {self.first_bad} 字节")
        if self.control_chars:
            parts.append(f"{self.control_chars} 个控制字符（如 NUL），第一个在第 {self.first_control} 个字符处")
        return "；".join(parts)


def _strict(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    # (a NUL looked for first: counting the NULs of 4 KB costs ~1 us, finding none ~0.1)
    if len(data) >= 4 and data.find(0, 0, 4096) >= 0 and (head := data[:4096]).count(0) * 3 >= len(head):
        # UTF-16 without BOM: every other byte is NUL for CJK-free ASCII parts
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if "\x00" not in text:
                return text, enc
    return data.decode("utf-8"), "utf-8"


class _TooMany(Exception):
    """More bad bytes than the caller would accept: stop decoding early."""


def _replaced(data: bytes, encoding: str, skip: int = 0, limit: int | None = None) -> tuple[str, int, int | None]:
    """Decode with U+FFFD for bad bytes; (text, number of bad sequences, byte offset of the first).

    With ``limit``, raise :class:`_TooMany` as soon as more than ``limit`` bad sequences are seen
    (a GB18030 file is not decoded to the end as damaged UTF-8 first).
    """
    bad: list[int] = []

    def handler(e: UnicodeError) -> tuple[str, int]:
        assert isinstance(e, UnicodeDecodeError)
        bad.append(e.start + skip)
        if limit is not None and len(bad) > limit:
            raise _TooMany
        return "\ufffd", e.end

    name = f"nianbao-count-{encoding}"
    codecs.register_error(name, handler)
    text = data[skip:].decode(encoding, errors=name)
    return text, len(bad), (bad[0] if bad else None)


def decode_text(data: bytes, *, keep_c0: bool = False) -> Decoded:
    """Decode a submission; raise :class:`DecodeError` (Chinese message) when it is not text.

    ``keep_c0``: a text in an encoding whose control characters are their own bytes (UTF-8,
    GB18030) keeps its C0 controls unless it has a DEL (then every control is removed and counted,
    as without it): for a caller that does not read such a text itself and decodes it again
    without ``keep_c0`` (:func:`nianbao.read.bulk.load_files`, whose line scan rejects C0 controls)
    — the bytes' check (~3 µs a report) saved."""
    try:
        if data[:1] in _BOM_FIRST or data.find(0, 0, 4096) >= 0:
            text, enc = _strict(data)
        else:  # (what _strict does of a text with no BOM and no NUL in its first 4 KB)
            text, enc = data.decode("utf-8"), "utf-8"
        out = Decoded(text, enc)
    except UnicodeDecodeError as utf_err:
        out = _fallback(data, utf_err)
    if out.encoding not in _ASCII_SAFE:
        _strip_controls(out)
    elif b"\x7f" in data if keep_c0 else len(data.translate(None, _CONTROL_BYTES)) != len(data):
        _strip_controls(out)  # (the bytes' check costs a third of the text's search)
    return out


def _fallback(data: bytes, utf_err: UnicodeDecodeError) -> Decoded:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, n, first = _replaced(data, "utf-16")
        if n * 2 <= max(3, len(data) * NEAR_UTF8_SHARE):
            return Decoded(text, "utf-16", n, first)
        raise DecodeError(f"UTF-16 文件中第 {first} 字节处起有大量无效字节") from utf_err
    skip = 3 if data.startswith(codecs.BOM_UTF8) else 0
    enc = "utf-8-sig" if skip else "utf-8"
    allowed = max(3, int(len(data) * NEAR_UTF8_SHARE))
    if not _surely_too_many(data, skip, allowed):  # (a GB18030 file: ~4 us less than counting)
        try:
            text, n, first = _replaced(data, "utf-8", skip, limit=allowed)
        except _TooMany:
            pass
        else:
            if skip or _has_utf8_multibyte(text):
                return Decoded(text, enc, n, first)
    if not skip:
        try:
            return Decoded(_gb18030(data), "gb18030")
        except UnicodeDecodeError:
            gtext, gn, gfirst = _replaced(data, "gb18030")
            if gn <= allowed:
                return Decoded(gtext, "gb18030", gn, gfirst)
    raise DecodeError(
        f"既不是 UTF-8 也不是 GB18030 编码的文本（UTF-8 解码在第 {utf_err.start + skip} 字节处失败）"
    ) from utf_err


def _surely_too_many(data: bytes, skip: int, allowed: int) -> bool:
    """True when :func:`_replaced` of the UTF-8 would raise :class:`_TooMany` (more than ``allowed``
    bad sequences), proven on a prefix decoded by Python's own 'replace' (C speed, no handler call
    per bad sequence): the decoder reads left to right, so every bad sequence of the prefix but a
    last one cut by its end is one of the whole; and each U+FFFD of the prefix's text is a bad
    sequence or a real EF BF BD of its bytes (EF never continues another sequence).  False when
    the prefix does not prove it (the caller then counts as before)."""
    part = data[skip : skip + proof_bytes(allowed)]
    n = part.decode("utf-8", "replace").count("\ufffd") - part.count(b"\xef\xbf\xbd") - 1
    return n > allowed


def proof_bytes(allowed: int) -> int:
    """The prefix :func:`_surely_too_many` reads: a GB18030 text has a bad UTF-8 sequence every
    ~1.5 bytes (~0.5 us for 16 allowed, against ~1 for twice as many bytes)."""
    return 32 + 4 * allowed


@cache
def _gb_table() -> bytes:
    """GB18030's two-byte characters as Python's codec reads them: a UCS-2 unit per lead byte
    0x81-0xFE and trail byte 0x40-0xFE (0 where the pair is not one character of the BMP), the table
    of :func:`nianbao.io.decode.gbk` — built once per process (~6 ms) from the codec itself."""
    trails = [c for c in range(0x40, 0xFF) if c != 0x7F]
    table = array.array("H", bytes(2 * 126 * 191))
    for lead in range(0x81, 0xFF):
        row = (lead - 0x81) * 191 - 0x40
        try:  # a whole row at once: every pair one character
            chars = b"".join(bytes((lead, c)) for c in trails).decode("gb18030")
        except UnicodeDecodeError:
            chars = ""
        if len(chars) == len(trails) and all(ord(ch) < 0x10000 for ch in chars):
            for c, ch in zip(trails, chars, strict=True):
                table[row + c] = ord(ch)
            continue
        for c in trails:  # pragma: no cover - (Python's gb18030 maps every pair)
            try:
                ch = bytes((lead, c)).decode("gb18030")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and ord(ch) < 0x10000:
                table[row + c] = ord(ch)
    return table.tobytes()


def _gb18030(data: bytes) -> str:
    """``data.decode("gb18030")``: by the compiled decoder when every character is ASCII or of two
    bytes (the same str: its table is the codec's), else by the codec (and its errors)."""
    if cdecode is not None:
        text = cdecode.gbk(data, _gb_table())
        if text is not None:
            return text
    return data.decode("gb18030")


def _has_utf8_multibyte(text: str) -> bool:
    """Real UTF-8 text with a few bad bytes still has many valid non-ASCII characters."""
    good = sum(1 for ch in text[:20000] if ord(ch) > 0x7F and ch != "\ufffd")
    return good >= 10


def _strip_controls(out: Decoded) -> None:
    text = out.text
    if cdecode is not None:
        first = cdecode.controls(text)  # (the regex's search, ~5x as fast)
        if first < 0:
            return
    else:
        m = _CONTROL.search(text)
        if m is None:
            return
        first = m.start()
    n = len(_CONTROL.findall(text))
    if n > max(16, len(text) * BINARY_SHARE):
        raise DecodeError(
            f"文件是二进制数据（{len(text)} 个字符中有 {n} 个控制字符），不是文本，也不是可识别的文档格式"
        )
    out.text = _CONTROL.sub("", text)
    out.control_chars = n
    out.first_control = first


def decode(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)``; see :func:`decode_text` for the details kept."""
    d = decode_text(data)
    return d.text, d.encoding
