"""The fast ways of textio.decode_text give what its reference way gives, for every input.

The reference: no compiled decoder (GB18030 by Python's codec, the control search by the regex) and
every bad UTF-8 sequence counted by the error handler (no prefix proof).  Compared on random bytes,
on texts in each encoding a report is published in, damaged (bytes changed, cut, inserted), and on
the edges: BOMs, truncated sequences, four-byte GB18030, real U+FFFD, control characters.
"""

from __future__ import annotations

import codecs
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nianbao.io import textio
from nianbao.io.textio import Decoded, DecodeError, decode_text

cdecode = pytest.importorskip("nianbao.io.decode")


def _outcome(data: bytes, keep_c0: bool) -> Decoded | str:
    try:
        return decode_text(data, keep_c0=keep_c0)
    except DecodeError as e:
        return f"DecodeError: {e}"


def _reference(data: bytes, keep_c0: bool) -> Decoded | str:
    saved = textio.cdecode, textio._surely_too_many
    textio.cdecode, textio._surely_too_many = None, lambda *_a: False  # type: ignore[assignment]
    try:
        return _outcome(data, keep_c0)
    finally:
        textio.cdecode, textio._surely_too_many = saved


def _same(data: bytes) -> None:
    for keep_c0 in (False, True):
        assert _outcome(data, keep_c0) == _reference(data, keep_c0), (data, keep_c0)


# characters of reports and of their damage: ASCII, CJK (two-byte GB18030), fullwidth forms, symbols
# that are four bytes in GB18030 (€ is two; ¥, é, U+FFFD and 𠀀 are four), controls, a real U+FFFD
_CHARS = st.sampled_from(
    [
        *"政府信息公开工作年度报告一二三自然人（）：，。、％0123456789 \t\r\nab-",
        "€",
        "¥",
        "𠀀",
        "\x00",
        "\x01",
        "\x7f",
        "\ufffd",
        "é",
    ]
)
_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be")


def _damage(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data)
    for where, byte in edits:
        if not buf:
            break
        i = where % len(buf)
        if byte < 256:
            buf[i] = byte  # a byte changed
        elif byte < 512:
            buf.insert(i, byte - 256)  # a byte inserted
        else:
            del buf[i:]  # cut here
    return bytes(buf)


def test_the_table_is_the_codecs_own_pair_by_pair() -> None:
    table = textio._gb_table()
    assert len(table) == 2 * 126 * 191
    units = memoryview(table).cast("H")
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            try:
                ch = bytes((lead, trail)).decode("gb18030")
            except UnicodeDecodeError:
                ch = ""
            want = ord(ch) if len(ch) == 1 and ord(ch) < 0x10000 else 0
            assert units[(lead - 0x81) * 191 + trail - 0x40] == want, (hex(lead), hex(trail))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_CHARS, max_size=300), st.sampled_from(_ENCODINGS))
def test_gbk_is_the_codec_or_declines(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    got = cdecode.gbk(data, textio._gb_table())
    try:
        want: str | None = data.decode("gb18030")
    except UnicodeDecodeError:
        want = None
    if got is not None:
        assert got == want
    if encoding == "gb18030" and not {"¥", "𠀀", "é", "\ufffd"} & set(text):
        assert got == text  # all ASCII and two-byte characters: taken, not declined


def test_gbk_declines_what_it_does_not_take() -> None:
    table = textio._gb_table()
    assert cdecode.gbk("年度".encode("gb18030"), table) == "年度"
    assert cdecode.gbk(b"", table) == ""
    assert cdecode.gbk(b"abc\x00", table) == "abc\x00"
    assert cdecode.gbk("年".encode("gb18030")[:1], table) is None  # a lead byte at the end
    assert cdecode.gbk(b"\x80", table) is None
    assert cdecode.gbk(b"a\xff", table) is None
    assert cdecode.gbk("¥".encode("gb18030"), table) is None  # four bytes
    assert cdecode.gbk(b"\x81\x7f", table) is None  # no such trail byte
    assert cdecode.gbk("€".encode("gb18030"), table) == "€"
    assert type(cdecode.gbk("¤".encode("gb18030"), table)) is str  # a narrow (Latin-1) str, canonical
    assert cdecode.gbk("¤".encode("gb18030"), table) == "¤"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_CHARS, max_size=200))
def test_controls_is_the_regex_search(text: str) -> None:
    m = re.search(r"[\x00-\x08\x0e-\x1f\x7f]", text)
    assert cdecode.controls(text) == (m.start() if m else -1)
    assert cdecode.controls(text + "𠀀") == (m.start() if m else -1)  # a four-byte-wide str


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400))
@example(b"\xef\xbb\xbf\xff\xfe")
@example("年".encode() * 3 + b"\xe5\xb9")  # UTF-8 cut in a character
@example("年".encode("gb18030") * 40 + b"\xef\xbf\xbd" * 30)
def test_random_bytes(data: bytes) -> None:
    _same(data)


@settings(max_examples=600, deadline=None)
@given(
    st.text(alphabet=_CHARS, max_size=600),
    st.sampled_from(_ENCODINGS),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 520)), max_size=25),
)
def test_texts_in_each_encoding_damaged(text: str, encoding: str, edits: list[tuple[int, int]]) -> None:
    data = text.encode(encoding)
    _same(data)
    _same(_damage(data, edits))


@pytest.mark.parametrize("bad", [1, 3, 15, 16, 17, 40, 400])
@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_near_utf8_at_the_limit(bad: int, bom: bytes) -> None:
    """UTF-8 with ``bad`` stray GB18030 bytes, around the allowed count (16 for 8,000 bytes), with
    real U+FFFD characters among them: the same verdict, counts and first offset."""
    body = ("政府信息公开工作年度报告。\ufffd" * 190).encode()
    step = len(body) // (bad + 1)
    data = bytearray(body)
    for j in range(bad):
        data[step * (j + 1) : step * (j + 1)] = b"\xc4"
    _same(bom + bytes(data))


def test_gb18030_file_with_a_four_byte_character_and_damage() -> None:
    text = "表三“一、本年新收”行“自然人”列 ¥ 𠀀\n" * 50
    data = text.encode("gb18030")
    assert decode_text(data) == Decoded(text, "gb18030")
    _same(data)
    damaged = data[:300] + b"\xff" + data[300:]
    got = decode_text(damaged)
    assert (got.encoding, got.bad_bytes, got.first_bad) == ("gb18030", 1, 300)
    _same(damaged)
    _same(data[:-1])  # cut in a character


def test_surely_too_many_only_when_the_count_would_stop() -> None:
    for data in (
        "年度报告".encode("gb18030") * 500,
        ("年度报告" * 500).encode() + b"\xc4" * 17,
        b"\xc4" * 17 + ("年度报告" * 500).encode(),
        b"\xef\xbf\xbd\xc4" * 200,
    ):
        allowed = max(3, int(len(data) * textio.NEAR_UTF8_SHARE))
        if textio._surely_too_many(data, 0, allowed):
            with pytest.raises(textio._TooMany):
                textio._replaced(data, "utf-8", 0, limit=allowed)
    assert textio._surely_too_many("年度报告".encode("gb18030") * 500, 0, 16)
    assert not textio._surely_too_many(b"\xef\xbf\xbd\xc4" * 200, 0, 4000)


def test_real_replacement_characters_in_the_prefix_are_not_bad_bytes() -> None:
    data = b"\xef\xbf\xbd" * 40 + "年度报告".encode() * 700 + b"\xc4"
    got = decode_text(data)
    assert (got.encoding, got.bad_bytes, got.first_bad) == ("utf-8", 1, len(data) - 1)
    _same(data)


@pytest.mark.parametrize("shift", range(-4, 3))
def test_a_character_cut_by_the_prefix_is_not_counted_twice(shift: int) -> None:
    """As many bad bytes as allowed (16), all in the prefix, and a character cut by the prefix's
    end: still UTF-8 with 16 bad bytes (the cut character is one bad sequence of the prefix only)."""
    head = b"\xc4" * 16
    end = textio.proof_bytes(16) + shift  # where the prefix ends, around a three-byte character
    body = head + b"a" * (end - len(head) - 1) + "年".encode() + ("年度报告" * 700)[: (8200 - end) // 3].encode()
    assert max(3, int(len(body) * textio.NEAR_UTF8_SHARE)) == 16
    got = decode_text(body)
    assert (got.encoding, got.bad_bytes, got.first_bad) == ("utf-8", 16, 0)
    _same(body)


def _joined_by_codec(texts: list[str]) -> bytes | None:
    """What utf16le_join must give: the codec's bytes when each character is one UTF-16 unit, else None."""
    joined = "".join(texts)
    try:
        data = joined.encode("utf-16-le")
    except UnicodeEncodeError:
        return None
    return data if len(data) == 2 * len(joined) else None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=12))
@example(["年报", "", "abc", "é\u00ff", "\u0100"])  # the three kinds of str, and an empty one
@example(["ok", "\ud800"])  # a lone surrogate: declined
@example(["😀"])  # beyond U+FFFF: declined
def test_utf16le_join_is_the_codec_or_declines(texts: list[str]) -> None:
    assert cdecode.utf16le_join(texts) == _joined_by_codec(texts)


def test_utf16le_join_takes_only_a_list_of_str() -> None:
    with pytest.raises(TypeError):
        cdecode.utf16le_join(("a",))
    with pytest.raises(TypeError):
        cdecode.utf16le_join(["a", b"b"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["bytes", "d", "I", "H"]), st.lists(st.integers(0, 255), max_size=20)), max_size=12
    )
)
def test_joined_is_bytes_join_and_the_running_sum_of_sizes(spec: list[tuple[str, list[int]]]) -> None:
    from array import array
    from itertools import accumulate

    parts = [bytes(v) if kind == "bytes" else array(kind, v) for kind, v in spec]
    ends = array("Q", accumulate(memoryview(p).nbytes for p in parts)).tobytes()
    assert cdecode.joined(parts) == (b"".join(parts), ends)


def test_joined_takes_only_a_list_of_buffers() -> None:
    with pytest.raises(TypeError):
        cdecode.joined((b"a",))
    with pytest.raises(TypeError):
        cdecode.joined([b"a", "b"])
