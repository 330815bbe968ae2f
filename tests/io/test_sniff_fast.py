"""sniff's fast way (a first byte no other kind starts with) gives the kind its full reading gives."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from nianbao.io import sniff as sniff_mod
from nianbao.io.sniff import sniff


class _Every:
    def __contains__(self, _item: object) -> bool:
        return True


def _full(data: bytes, name: str) -> str:
    saved = sniff_mod._SPECIAL_FIRST
    sniff_mod._SPECIAL_FIRST = _Every()  # type: ignore[assignment]
    try:
        return sniff(data, name)
    finally:
        sniff_mod._SPECIAL_FIRST = saved


_PIECES = st.sampled_from(
    [
        b"%PDF-1.7",
        b"PK\x03\x04",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"GIF89a",
        b"II*\x00",
        b"BM",
        b"RIFF\x00\x00\x00\x00WEBP",
        b"{\\rtf1",
        b"<html>",
        b"<!DOCTYPE html>",
        b"<table><tr><td>",
        b"<!-- x -->",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"\xfe\xff",
        " 政府信息公开 ".encode(),
        "表三".encode("gb18030"),
        b"\t\n\r\x0b\x0c ",
        b"a,b,c\n",
        b"2025",
    ]
)
_NAMES = st.sampled_from(
    ["", "a.txt", "a.csv", "a.CSV", "a.html", "a.htm", "a.docx", "a.xls", "a.wps", "报告", "x.mht"]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.binary(max_size=8)), max_size=6), _NAMES)
@example([b"x" * 1019, b"%PDF-"], "a.txt")  # the marker ending at byte 1024
@example([b"x" * 1020, b"%PDF-"], "a.txt")  # and one byte past it
@example([" 政".encode(), b"<table>"], "a.html")
@example([b"\xef\xbb\xbf", b"{\\rtf1"], "a.txt")
@example([b"\xef\xbb\xbf", b"<table>"], "a.htm")
@example([b"\xff\xfe", "政<table><tr>".encode("utf-16-le")], "a.htm")
@example([b"\xfe\xff", "<html>".encode("utf-16-be")], "a.txt")
@example([b"\xff\xfe", " 政".encode("utf-16-le")], "a.txt")
@example([b"\xff\xfe\x00\x00"], "a.csv")
def test_the_fast_way_is_the_full_reading(pieces: list[bytes], name: str) -> None:
    data = b"".join(pieces)
    assert sniff(data, name) == _full(data, name)


def test_kinds_by_the_fast_way() -> None:
    assert sniff("政府信息公开".encode(), "a.txt") == "text"
    assert sniff("政府,信息".encode(), "a.csv") == "csv"
    assert sniff("政府<table><tr>".encode(), "a.htm") == "html"
    assert sniff("政府<table><tr>".encode(), "a.txt") == "text"
    assert sniff(b"x" * 1019 + b"%PDF-", "a.txt") == "pdf"
    assert sniff(b"x" * 1020 + b"%PDF-", "a.txt") == "text"
    assert sniff("\ufeff政府".encode(), "a.csv") == "csv"
    assert sniff("\ufeff政府<table><tr>".encode(), "a.html") == "html"
    assert sniff("\ufeff<html>".encode(), "a.txt") == "html"
    assert sniff("\ufeff{\\rtf1".encode(), "a.txt") == "text"
    assert sniff("\ufeff政府<table><tr>".encode("utf-16"), "a.html") == "html"
    assert sniff("\ufeff政府<table><tr>".encode("utf-16"), "a.txt") == "text"
    assert sniff("\ufeff政府".encode("utf-16"), "a.csv") == "csv"
    assert sniff("\ufeff<html>".encode("utf-16-be"), "a.txt") == "html"
