"""The text loader: every messy-input variant of spec §5 parses to the same numbers as the clean text."""

from __future__ import annotations

import codecs
import unicodedata

import pytest

from nianbao.domain.normalize import State, parse_number
from nianbao.domain.spec import Kind
from nianbao.read.load import load_bytes
from tests.helpers import busy_seed, parse, seed_text, set_cells


def values(text: str, encoding: str = "utf-8") -> dict[str, float | None]:
    rep = load_bytes("x.txt", text.encode(encoding))
    assert rep.status == "validated", rep.reason
    return {k: c.value for k, c in rep.cells.items()}


def _fullwidth(text: str) -> str:
    table = {ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789()"}
    return text.translate(table)


def _spaced_labels(text: str) -> str:
    return text.replace("结果 维持", "结 果 维 持").replace("予以公开", "予 以 公 开").replace("行政处罚", "行政 处罚")


def _shift_left(text: str) -> str:
    # a continuation row that lost its leading empty cells (like the seed's "3.其他")
    return text.replace("\t\t2.重复申请\t", "2.重复申请\t\t")


VARIANTS = {
    "utf8-bom": (lambda t: t, "utf-8-sig"),
    "gb18030": (lambda t: t, "gb18030"),
    "gbk": (lambda t: t, "gbk"),
    "utf16": (lambda t: t, "utf-16"),
    "crlf": (lambda t: t.replace("\n", "\r\n"), "utf-8"),
    "fullwidth-digits-brackets": (_fullwidth, "utf-8"),
    "spaced-labels": (_spaced_labels, "utf-8"),
    "shifted-row": (_shift_left, "utf-8"),
    "social-alias": (lambda t: t.replace("社会组织", "社会公益组织"), "utf-8"),
    "heading-variant": (
        lambda t: t.replace("五、存在的主要问题及改进情况", "五、政府信息公开工作存在的主要问题及改进情况"),
        "utf-8",
    ),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_parses_to_same_numbers(name: str) -> None:
    clean = busy_seed()
    fn, enc = VARIANTS[name]
    assert values(fn(clean), enc) == values(clean)


def test_bom_is_recorded_and_not_part_of_title() -> None:
    rep = load_bytes("x.txt", codecs.BOM_UTF8 + seed_text().encode())
    assert rep.encoding == "utf-8-sig"
    assert rep.agency == "沙坡头区镇罗镇"


def test_metadata_of_the_seed() -> None:
    rep = parse(seed_text())
    assert (rep.agency, rep.year, rep.fmt) == ("沙坡头区镇罗镇", 2023, "2021")
    assert rep.period_text == "2023年1月1日至2023年12月31日" and rep.period_full_year
    assert len(rep.cells) == 200
    c = rep.cells["2:penalty:decisions"]
    assert (c.value, c.raw, c.state, c.line, c.col) == (106.0, "106", State.VALUE, 44, 2)
    # the shifted "3.其他" row of the seed is read into 3.6.3
    assert rep.cells["3:3.6.3:total"].line == 77


def test_blank_and_placeholders_are_blank_not_zero() -> None:
    text = set_cells(busy_seed(), {"3:3.3.1:natural": "", "3:3.3.2:natural": "—", "3:3.3.3:natural": "无"})
    rep = parse(text)
    for cid in ("3:3.3.1:natural", "3:3.3.2:natural", "3:3.3.3:natural"):
        assert rep.cells[cid].value is None and rep.cells[cid].state is State.BLANK
    assert rep.cells["3:3.3.2:natural"].raw == "—"
    assert rep.cells["3:3.3.4:natural"].state is State.ZERO


def test_blank_total_column_is_read_as_blank_total() -> None:
    text = set_cells(busy_seed(), {f"3:{r}:total": "" for r in ("1", "3.1", "3.7")})
    rep = parse(text)
    assert rep.cells["3:1:total"].state is State.BLANK
    assert rep.cells["3:1:natural"].value == 10.0 and rep.cells["3:1:other"].value == 0.0


@pytest.mark.parametrize(
    ("raw", "kind", "value", "state"),
    [
        ("1,234", Kind.COUNT, 1234.0, State.VALUE),
        ("１２３", Kind.COUNT, 123.0, State.VALUE),
        ("0", Kind.COUNT, 0.0, State.ZERO),
        ("", Kind.COUNT, None, State.BLANK),
        (" / ", Kind.COUNT, None, State.BLANK),
        ("—", Kind.COUNT, None, State.BLANK),
        ("无", Kind.COUNT, None, State.BLANK),
        ("12件", Kind.COUNT, 12.0, State.RECOVERED),
        ("251000元", Kind.AMOUNT, 25.1, State.RECOVERED),
        ("24252.311082", Kind.AMOUNT, 24252.311082, State.VALUE),
        ("5¹", Kind.COUNT, 5.0, State.VALUE),
        ("7*", Kind.COUNT, 7.0, State.VALUE),
        ("若干", Kind.COUNT, None, State.NON_NUMERIC),
        ("9" * 30, Kind.COUNT, None, State.TOO_LARGE),
        ("-3", Kind.DELTA, -3.0, State.VALUE),
    ],
)
def test_parse_number(raw: str, kind: Kind, value: float | None, state: State) -> None:
    v, st = parse_number(raw, kind)
    assert st is state
    assert v == pytest.approx(value) if value is not None else v is None


def test_thousands_separator_in_a_report() -> None:
    base = set_cells(busy_seed(), {"2:penalty:decisions": "1234"})
    sep = set_cells(busy_seed(), {"2:penalty:decisions": "1,234"})
    assert values(sep) == values(base)


def test_merged_cells_leading_empties() -> None:
    # a row whose label spans one more merged cell than the seed's
    text = busy_seed().replace("一、本年新收政府信息公开申请数量\t\t", "一、本年新收政府信息公开申请数量\t\t\t")
    assert values(text) == values(busy_seed())


def test_nfkc_leaves_cjk_alone() -> None:
    assert unicodedata.normalize("NFKC", "沙坡头区") == "沙坡头区"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "文件为空"),
        (b"   \n\n", "文件为空"),
        (bytes(range(256)) * 20, "编码"),
        ("这是一份会议纪要，与年度报告无关。\n散会。\n".encode(), "不是政府信息公开工作年度报告"),
    ],
)
def test_unreadable_inputs(data: bytes, reason: str) -> None:
    rep = load_bytes("bad.txt", data)
    assert rep.status == "unreadable"
    assert rep.reason is not None and reason in rep.reason


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_every_control_character_is_removed_in_each_encoding(encoding: str) -> None:
    """decode_text looks for control characters in the bytes first (utf-8, gb18030): each one,
    next to a Chinese character or alone, is still found, counted and removed."""
    from nianbao.io.textio import decode_text

    text = "2023年度政府信息公开工作年度报告\n一、总体情况\n"
    controls = [chr(c) for c in (*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F)]
    for ch in controls:
        for damaged in (text[:5] + ch + text[5:], text[:6] + ch + text[6:], text + ch):
            dec = decode_text(damaged.encode(encoding))
            assert (dec.encoding, dec.text, dec.control_chars) == (encoding, text, 1), repr(ch)
    clean = decode_text(text.encode(encoding))
    assert (clean.text, clean.control_chars) == (text, 0)
