"""Bytes to text: UTF-8 first (with or without BOM), UTF-16 by BOM or by its NUL pattern, then GB18030."""

from __future__ import annotations

import codecs


class DecodeError(ValueError):
    """The bytes are not text in any encoding a report is published in."""


def decode(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)``.  No per-file charset sniffing beyond BOMs: strict UTF-8, then GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as e:
            raise DecodeError(f"UTF-8 文件中第 {e.start + 3} 字节处有无效字节") from e
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as e:
            raise DecodeError(f"UTF-16 文件中第 {e.start} 字节处有无效字节") from e
    head = data[:4096]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        # UTF-16 without BOM: every other byte is NUL for CJK-free ASCII parts
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if "\x00" not in text:
                return text, enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_err:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise DecodeError(
                f"既不是 UTF-8 也不是 GB18030 编码的文本（UTF-8 解码在第 {utf8_err.start} 字节处失败）"
            ) from utf8_err
