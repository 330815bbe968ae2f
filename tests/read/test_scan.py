"""The compiled line scan (nianbao/read/scan.c) gives exactly the polars path's chunk.

``bulk._frame_c`` (the texts classified by ``scan.classify``, their lines read by ``scan.scan``)
and ``bulk._frame_polars`` are compared field by field (arrays: dtype and values, NaN-aware) over
the synthetic and real-shape corpus, the bundled data and seed, hand-made edge cases of every
decision the scan makes, and hypothesis texts over the characters that matter; ``load_files``
gives the same reports with the scan on and off.
"""

from __future__ import annotations

import dataclasses
import os
from array import array
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.domain.model import ParsedReport
from nianbao.io.limits import Limits, current_limits
from nianbao.io.textio import decode_text
from nianbao.read import bulk, meta
from tests.helpers import seed_text
from tests.read.test_bulk_read import _write
from tests.read.test_fast_read import _corpus, differences

ROOT = Path(__file__).resolve().parents[2]
needs_scan = pytest.mark.skipif(bulk.cscan is None, reason="the compiled scan is not built")

SMALL = dataclasses.replace(current_limits(), max_line_chars=40, max_cells_per_row=5, max_lines=12)


def _differences(a: bulk._Chunk, b: bulk._Chunk) -> list[str]:
    out = []
    for f in dataclasses.fields(bulk._Chunk):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray), f.name
            if x.dtype != y.dtype or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
                out.append(f"{f.name}: {x.dtype} {x.tolist()[:20]} != {y.dtype} {y.tolist()[:20]}")
        elif x != y or type(x) is not type(y):
            out.append(f"{f.name}: {str(x)[:300]} != {str(y)[:300]}")
    return out


def _same_chunk(texts: list[str], lim: Limits) -> bulk._Chunk:
    got = bulk._frame_c(texts, lim)
    assert _differences(got, bulk._frame_polars(texts, lim)) == []
    return got


def _synthetic() -> list[str]:
    return [decode_text(data).text for _name, data in _corpus()]  # as decoded (CRLF among them)


def _bundled() -> list[str]:
    files = sorted((ROOT / "data" / "submissions").rglob("*.txt"))
    return [decode_text(p.read_bytes()).text for p in files] + [seed_text(), bulk._text(seed_text())]


# hand-made: every shape a line decision of the scan turns on
_SEED = bulk._text(seed_text())
_LINES = _SEED.split("\n")
_EDGES = [
    # each reject class, and near misses
    *(f"ab{c}cd\n一、x" for c in "\x00\x01\r\x0b\x0c\x1f\x85\u2028\u2029|開報\u32c0\u2f00１٣\u3000\xa0\u2003"),
    "# 标题\n正文",
    "正文\n  ## 标题",
    "正文\n**加粗**",
    "正文\n *单星*",
    "正文\n\t# 制表符后",
    "a#b\nc**d",
    "",
    "\n",
    "\n\n\n",
    "a\r\nb",
    "a\nb\n",
    # CRLF read as LF (in the scan: the lines from its own copy), a CR alone not, the last LF dropped
    "a\r\r\nb",
    "a\r\n",
    "a\r\n\r\n",
    "\r\n",
    "a\rb\n",
    "ab\r",
    "#x\r\n",
    "x\r\n#y",
    "x\r\n  **y\r\n",
    "x\r\n\r#y",
    "甲" * 40 + "\r\n乙\r\n",
    "\r\n".join(["行"] * 12),
    "\r\n".join(["行"] * 13) + "\r\n",
    "项目\t0\t012\t1.50\t7\r\n2\t0.0\r\nx\t\r\n",
    "é\r\n\t1\r\n",
    "𠀀一、甲\r\n😀\t1\t012\r\n",
    "甲\r\n" * 70_000,  # over MAX_CHARS as decoded, not once its CRLFs are LFs
    "甲\r\n" * 100_001,
    _SEED.replace("\n", "\r\n") + "\r\n",
    "\n".join(line + "\r" if k % 3 == 0 else line for k, line in enumerate(_LINES)),
    "甲乙  \n丙",  # trailing double space without a tab
    "甲乙 \t\n丙",
    "甲\t乙  \t",  # double spaces with a tab
    "甲  乙",
    "甲 乙 丙",
    " 甲",
    "甲" * 40 + "\n乙",
    "甲" * 41 + "\n乙",
    "a\tb\tc\td\te",  # 4 tabs (SMALL: at most 4)
    "a\tb\tc\td\te\tf",  # 5 tabs
    "\n".join(["行"] * 12),
    "\n".join(["行"] * 13),
    # number cells
    "项目\t0\t00\t012\t123456789012\t1234567890123\t1.5\t0.0\t12.\t.5\t1.2.3\t99999\t1234\t12345",
    "42",
    "0.50",
    "007",
    " 12",
    "1 2",
    "项目\t\t1\t\t",
    "\t3\t",
    "12\t",
    "第1项\t2",
    "999999999999\t000000000000000\t0000\t100000000000.25",
    # heading lines
    "一、概述\n  二、 主动公开\n三、a\tb\n三、甲\t\n\t四、乙 \t",
    "四、" + "甲" * 78,
    "四、" + "甲" * 79,
    "  四、" + "甲" * 78 + "  \t",
    "#标题\n*注\n十\n十一二",
    "五 \t六",
    # the period at lines 80 and 81
    "\n".join([*(["正文"] * 79), "2023年1月1日至2023年12月31日", "2024年1月1日"]),
    "\n".join([*(["正文"] * 78), "2023年1月1日至2023年12月31日", "2024年1月1日"]),
    "年\n年月\n年月日\n日月年\t\n月日",
    # block starts and sentence ends
    "一、甲\n十二.乙\n（三）丙\n(一)丁\n1、戊\n2.己\n3.5庚\n12.\n第三章 辛\n第十条",
    "第章\n（）\n1、2\n一二三\n（一\n第三\n1.\n12、3",
    "甲。\n乙：\n丙:\n丁；\n戊！\n己？\n庚”\n辛）\n壬)\n癸。 \n子。\t\n丑 。",
    "  一、 缩进\n ①甲",
    # marks, spaces and tabs between their characters
    "新制作数量\n新 制\t作数量\n新 制作数 量。\n规 范 性 文 件\t1\n1.规范性文件\n（一）其他处理\t2",
    "本年增/减\t本年增／减\n其他对外管理服务事项\n政府集中采购\t采购项目数量\t采购总金额",
    "甲" * 119 + "新制作数量"[:1] + "\n" + "甲" * 116 + "新制作数量",
    "新制作数量" + "甲" * 116 + "\n" + "新制作数量" + "甲" * 115,
    "新\t新\t制 作\t数量",
    # characters beyond the BMP (polars reads their texts' rejection), latin-1 and ASCII lines
    "𠀀一、甲\n😀\t1\t2\n第𠀀章",
    "café\t1\nabc\t12345",
    "ascii only\t1.5\n2",
    # the seed and variants
    _SEED,
    _SEED.replace("\t", "\t ", 3),
    "\n".join(line + "  " if k % 7 == 0 else line for k, line in enumerate(_LINES)),
    "\n".join(_LINES[:60]),
]


def _chunks() -> dict[str, Callable[[], list[str]]]:
    return {"synthetic": _synthetic, "bundled": _bundled, "edges": lambda: _EDGES}


@needs_scan
@pytest.mark.parametrize("lim", [current_limits(), SMALL], ids=["limits", "small"])
@pytest.mark.parametrize("corpus", ["synthetic", "bundled", "edges"])
def test_the_compiled_scan_gives_the_polars_chunk(corpus: str, lim: Limits) -> None:
    texts = _chunks()[corpus]()
    got = _same_chunk(texts, lim)
    # not vacuous: texts accepted and rejected, lines of every kind, odd number cells
    if lim is not SMALL:
        assert 0 < got.accepted.sum() < len(texts) or corpus == "bundled"
        assert len(got.heads) and len(got.prose) and len(got.mark_rows) and len(got.values)
    for text in texts if corpus == "edges" else ():
        _same_chunk([text], lim)  # each alone too


def test_the_edges_decide_as_expected() -> None:
    """A few exact answers of the polars path (which the scan must match)."""
    got = bulk._frame_polars(_EDGES[:30], SMALL)
    # every reject class and Markdown line start; not a single star, a # after a tab or inside a line
    assert got.accepted.tolist()[:25] == [False] * 22 + [True] * 3
    number_line = next(i for i, t in enumerate(_EDGES) if t.startswith("项目\t0\t00"))
    one = bulk._frame_polars([_EDGES[number_line]], current_limits())
    assert one.skel == ["项目\t\x00S\t\x00S\t\x00S\t\x00L\t\x00L\t\x00D\t\x00D\t12.\t.5\t1.2.3\t\x00L\t\x00S\t\x00L"]
    assert np.array_equal(
        one.values, [0, 0, 12, 123456789012, np.nan, 1.5, 0, 99999, 1234, 12345], equal_nan=True
    )  # 13 digits: not a count (fast.read_code)
    assert one.states.tolist() == [1, 1, 0, 0, 4, 0, 1, 0, 0, 0]
    assert one.texts == {1: "00", 2: "012", 4: "1234567890123", 6: "0.0"}


_ALPHABET = "0123456789. \t\r\n\n\n。：；）”一二三十年月日第章节条、（）()#*|新制作数量规范性文件其他处理開\u3000𠀀a"


@needs_scan
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=120), min_size=1, max_size=6))
def test_the_compiled_scan_gives_the_polars_chunk_on_any_text(texts: list[str]) -> None:
    _same_chunk(texts, SMALL)
    _same_chunk(texts, current_limits())


@needs_scan
def test_a_lone_surrogate_is_read_as_polars_reads_it() -> None:
    from nianbao.read import scan

    text = "一、甲\ud800\n2023年1月1日\t1"
    assert scan.classify([text, "甲"], bulk._char_classes(), bulk.MAX_CHARS) == b"\x02\x00"
    got = scan.scan([text], b"\x01", 100, 100, 10, 80, 120, 80, 12, 1, 0, bulk._MARK_WORDS, "。")
    assert got[2] == ["一、甲\ud800", "2023年1月1日\t1"]  # no crash: the lines as they are
    for frame in (bulk._frame_c, bulk._frame_polars):
        with pytest.raises(UnicodeEncodeError):  # polars cannot hold it: the same error both ways
            frame([text], current_limits())


def test_the_scan_mirrors_these_patterns() -> None:
    """scan.c reads these patterns by hand: a change here needs the same change there."""
    assert meta.STARTS_BLOCK_PATTERN == (
        r"^\s*(?:[一二三四五六七八九十]+[、.]|[（(][一二三四五六七八九十]+[)）]|\d+[、.](?:[^\d]|$)"
        r"|第[一二三四五六七八九十]+[章节条])"
    )
    assert bulk._HEADING_START == "^[ \t]*[一二三四五六七八九十#*]"
    assert bulk._NUMBER_CELL == r"^[0-9]+(?:\.[0-9]+)?$"
    assert bulk._PLAIN_INTEGER == "^(?:0|[1-9][0-9]{0,11})$"
    assert bulk._REJECT_LINES == r"(?m:^ *(?:#|\*\*))"
    assert bulk._REJECT == bulk._REJECT_CHARS + "|" + bulk._REJECT_LINES
    assert meta.PERIOD_LINES == 80
    for mark in bulk._MARK_WORDS:  # a mark with spaces or tabs between its characters: the mark in
        assert mark and not set(mark) & {" ", "\t", "\n"}  # the line without its spaces and tabs


def test_the_scan_is_built_in_ci() -> None:
    if os.environ.get("CI", "").lower() != "true":
        pytest.skip("only CI must have the compiled scan")
    assert bulk.cscan is not None  # CI never tests the polars fallback alone


@needs_scan
def test_load_files_gives_the_same_reports_with_the_scan_on_and_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = list(_corpus())
    named += [(f"edge{k}.txt", t.encode("utf-8")) for k, t in enumerate(_EDGES)]
    files = _write(tmp_path, named)
    monkeypatch.setenv(bulk.CSCAN_ENV, "1")
    on = bulk.load_files(files)
    monkeypatch.setenv(bulk.CSCAN_ENV, "0")
    off = bulk.load_files(files)
    assert len(on) == len(off) == len(named)
    for (name, _d), a, b in zip(named, on, off, strict=True):
        assert [d for d in differences(a, b) if not d.startswith("mtime_ns")] == [], name


def test_the_switch_turns_the_scan_off(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(bulk, "_frame_c", lambda texts, lim: calls.append(1))
    monkeypatch.setenv(bulk.CSCAN_ENV, "0")
    got = bulk._frame([_SEED], current_limits())
    assert calls == [] and got.accepted.tolist() == [True]
    monkeypatch.setenv(bulk.CSCAN_ENV, "1")
    bulk._frame([_SEED], current_limits())
    assert calls == ([1] if bulk.cscan is not None else [])


def test_a_failing_scan_falls_back_to_polars(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(texts: list[str], lim: Limits) -> bulk._Chunk:
        raise MemoryError

    monkeypatch.setattr(bulk, "_frame_c", broken)
    monkeypatch.setattr(bulk, "cscan", object())
    got = bulk._frame([_SEED, "|"], current_limits())
    assert _differences(got, bulk._frame_polars([_SEED, "|"], current_limits())) == []


_WIDE = "按照相关规定严格落实政务公开工作要点围绕高质量发展民生改善政府自身建设强化信息公开" * 4
_ONE = "一、总体情况"
_TWO = "二、主动公开政府信息情况"
_SIX = "六、其他需要报告的事项"
_PROSE_VARIANTS = [
    _SEED,
    # hard-wrapped prose, spaces around its lines, a block after a finished sentence, narrow lines
    _SEED.replace(_SIX, f"{_SIX}\n\n {_WIDE} \n{_WIDE}\n 接上一行。 \n1.第一项\n{_WIDE}。\n2.第二项"),
    _SEED.replace(_ONE, f"{_ONE}\n\n{_WIDE}。\n（一）一项\n {_WIDE}\n完。"),
    _SEED.replace(_SIX, f"{_SIX}\n\n短的一行 \n 又一行\n完。"),
    _SEED.replace(_SIX, f"{_SIX}\n\n{_WIDE}\n{_WIDE[:20]}\n{_WIDE}\n{_WIDE}"),
    # section 二's lines of text: its tables' block headers printed as prose are not prose
    # the 引言: blank lines, spaces, a line of cells, an accented and an astral character
    " \n\t\n" + _SEED.replace(_ONE, f"前言\t甲\t\n café 𠀀\n\n{_ONE}", 1),
    _SEED.replace(_ONE, f"前言 \n\n{_ONE}", 1),
]


@needs_scan
def test_the_compiled_sections_are_the_python_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """scan.sections (the whole chunk's prose at once) makes each report's sections as
    bulk._fill_prose makes them one by one: the same lines, numbers and texts, every variant read."""

    def read(flag: str) -> list[list[tuple[str, list[tuple[int, str]]]]]:
        monkeypatch.setenv(bulk.CSCAN_ENV, flag)
        reps = [ParsedReport(file=f"{k}.txt", sha256="", size=0) for k in range(len(_PROSE_VARIANTS))]
        assert bulk.read_texts(list(zip(reps, _PROSE_VARIANTS, strict=True))) == [True] * len(reps)
        return [[(name, rep.sections[name]) for name in rep.sections] for rep in reps]

    on, off = read("1"), read("0")
    assert on == off
    # not vacuous: joined, stripped, filtered and 引言 lines
    six = dict(on[1])["六"][:4]
    assert six == [(96, _WIDE + _WIDE + "接上一行。"), (99, "1.第一项"), (100, _WIDE + "。"), (101, "2.第二项")]
    intro = dict(on[5])["引言"]
    assert [no for no, _t in intro] == [5, 7, 9, 10] and intro[2:] == [(9, "前言\t甲\t"), (10, " café 𠀀")]
    assert dict(on[6])["引言"][2] == (7, "前言 ")


@needs_scan
def test_the_compiled_sections_read_each_kind_of_part() -> None:
    """scan.sections on hand-made lines of text: a part as printed, one without the lines the block
    header test names (section 二), one unwrapped, one whose heading has no next (to the end), the
    引言 without its blank lines; a plan out of bounds raises."""
    from nianbao.read import scan

    raws = ["引言\t甲", " ", "一、甲", "a ", " b", "二、乙", "第二十条", "c", "三、丙", "x" * 60, "y"]
    prose = [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]  # every line of text (no tab, not blank)
    prose_raw = [raws[r] for r in prose]
    no = np.array([r + 1 for r in prose], np.int64)
    width = np.array([len(raws[r].strip()) for r in prose], np.int64)
    ends = np.zeros(len(prose), np.bool_)
    block = np.zeros(len(prose), np.bool_)
    open_ends = np.arange(len(prose), dtype=np.int64)  # no line ends a sentence
    heads = [2, 5, 8]
    after = np.searchsorted(prose, np.array(heads) + 1).astype(np.int64)
    at = np.searchsorted(prose, np.array(heads)).astype(np.int64)
    plan = array("q", [0, 2, 0, len(prose), 3, 0, 1, 0, 1, 2, 1, 2, -1, 2])

    def header(text: str) -> bool:
        return text.startswith("第二十条")

    ((counts, nos, lens, text),) = scan.sections(
        plan, prose_raw, raws, no, width, ends, block, open_ends, after, at, header, 48, 0.85
    )
    assert array("I", counts).tolist() == [2, 1, 1, 1]
    assert array("I", nos).tolist() == [4, 5, 8, 10, 1]
    assert array("I", lens).tolist() == [2, 2, 1, 61, 4]
    assert text == "a  bc" + "x" * 60 + "y" + "引言\t甲"
    # the text of the kind its largest character needs, as str.join makes it (ASCII, Latin-1, UCS-2, UCS-4)
    empty = np.zeros(0, np.int64)
    for lines in (["ab", " c\t", "", "d"], ["é", "x"], ["a", "甲", "b"], ["a", "甲", "𠀀"], ["  ", "\t"]):
        ((_c, _n, _l, got),) = scan.sections(
            array("q", [0, len(lines), 0, 0, 0]),
            [],
            lines,
            empty,
            empty,
            b"",
            b"",
            empty,
            empty,
            empty,
            header,
            48,
            0.85,
        )
        assert got == "".join(t for t in lines if t.strip()) and got.isascii() == "".join(lines).isascii()
    with pytest.raises(ValueError, match="out of bounds"):
        scan.sections(
            array("q", [0, 2, 0, 99, 0]),
            prose_raw,
            raws,
            no,
            width,
            ends,
            block,
            open_ends,
            after,
            at,
            header,
            48,
            0.85,
        )


@needs_scan
def test_the_compiled_cells_are_the_numpy_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """scan.cells gives bulk._cell_rows' rows over a chunk of several plans (the synthetic corpus,
    odd number cells among them); an index out of range raises instead of reading past an array."""
    from nianbao.read import scan

    captured: list[tuple[object, ...]] = []
    fill = bulk._fill_cells
    monkeypatch.setattr(bulk, "_fill_cells", lambda items, chosen, ch: captured.append((chosen, ch)))
    odd = _SEED.replace("行政处罚\t106", "行政处罚\t0106").replace("行政事业性收费\t0", "行政事业性收费\t1.50")
    texts = [*_synthetic(), odd]
    reps = [ParsedReport(file=f"{k}.txt", sha256="", size=0) for k in range(len(texts))]
    bulk.read_texts(list(zip(reps, texts, strict=True)))
    monkeypatch.setattr(bulk, "_fill_cells", fill)
    got = []
    for flag in ("1", "0"):
        monkeypatch.setenv(bulk.CSCAN_ENV, flag)
        for chosen, ch in captured:
            out = [ParsedReport(file="", sha256="", size=0) for _c in chosen]
            fill([(r, "") for r in out], [(k, *c[1:]) for k, c in enumerate(chosen)], ch)  # type: ignore[misc]
            got.append([(r.cells.__getstate__(), r.layout.__getstate__()) for r in out])
    half = len(got) // 2
    assert got[:half] == got[half:]
    plans = {id(c[1]) for chosen, _ch in captured for c in chosen}  # type: ignore[attr-defined]
    assert len(plans) > 3 and any(ch.texts for _c, ch in captured)  # type: ignore[attr-defined]
    z = np.zeros(1, np.int64)
    row = np.zeros(4, np.int64)
    args = [4, z, np.zeros(3, np.int64), z, z, np.zeros(1), np.zeros(1, np.uint8), b""]
    plan = [np.zeros(4, np.uint16), np.zeros(4), np.zeros(4, np.uint8), row, row]
    with pytest.raises(ValueError, match="number cell's rank"):
        scan.cells(*args, *plan, np.ones(1, np.int64), z, z, np.array([5]), z, z, z)
    with pytest.raises(ValueError, match="window out of range"):
        scan.cells(*args, *plan[:4], np.full(4, 3, np.int64), z, z, z, z, z, z, z)
    assert scan.cells(*args, *plan, np.ones(1, np.int64), z, z, z, z, z, z)[0] == bytearray(32)


@needs_scan
def test_the_compiled_windows_are_the_joined_lines() -> None:
    """scan.windows gives each window's skeleton lines joined by LF, exactly: over the windows of
    the synthetic corpus' lines, the same window again (the kept str itself), every window in one
    slot (mask 0: the lines compared with the kept str decide), lines of every kind, empty windows;
    a window beyond the lines raises."""
    from nianbao.read import scan

    skel = bulk._frame_c(_synthetic(), current_limits()).skel
    extra = ["a", "甲\x00S", "𠀀\t\x00L", "", "a", "甲\x00S", "𠀀\t\x00D", "a\tb"]
    skel = [*skel, *extra]
    n = len(skel)
    spans = [(s, min(s + w, n)) for s in range(0, n, 37) for w in (0, 1, 5, 40)] + [(n - 8, n - 4), (n - 4, n)]
    for mask in (-1, 0):
        for s, e in spans:
            got = scan.windows(skel, s, e, e, e, s, e, mask & (2**64 - 1))
            assert got == ("\n".join(skel[s:e]), "", "\n".join(skel[s:e])), (s, e, mask)
            if mask:  # (mask 0: the empty window between takes the one slot)
                assert got[0] is got[2] and scan.windows(skel, s, e, 0, 0, 0, 0)[0] is got[0]
    # the same characters in another kind, or one more line: not the kept window
    assert scan.windows(skel, n - 8, n - 4, n - 4, n, 0, 0, 0) == (
        "a\n甲\x00S\n𠀀\t\x00L\n",
        "a\n甲\x00S\n𠀀\t\x00D\na\tb",
        "",
    )
    with pytest.raises(IndexError):
        scan.windows(skel, 0, n + 1, 0, 0, 0, 0)
