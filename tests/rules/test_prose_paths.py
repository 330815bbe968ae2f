"""The text rules' faster paths against their reference: the H19 groups found by Python's ``re``
against polars' regex (hypothesis texts over the characters the pattern reads), and the distinct
texts matched as UTF-16 bytes (``text.prose_texts``) and numbered by the compiled scan
(``text._by_scan``) against the lines' strings."""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.domain.model import ParsedReport, Sections, unreadable
from nianbao.read.load import load_bytes
from nianbao.rules.prose import extract, text
from nianbao.rules.prose.text import clauses, distinct_texts, prose_lines, prose_texts, text_sentences, trigger_texts
from nianbao.testing.synth import SynthConfig, generate, render_text

# what the H19 pattern tells apart: its words, its marks, digits (ASCII, full-width, other scripts'
# below and beyond U+FFFF), a newline, other text
_PIECES = [
    "主动公开", "发布", "公开", "共", "共计", "合计", "累计", "总计", "条", "篇", "则", "期", "其中", "另",
    "。", ";", ",", "!", "?", "、", "(", ")", "1", "23", "0", "٣", "５", "\U00011f53", "\n", "信息",
    "政府网站", "x", "另有", "此外",
]  # fmt: skip


def _polars_groups(texts: list[str]) -> tuple[list[str | None], list[str | None]]:
    got = pl.Series(texts, dtype=pl.String).str.extract_groups(extract._PUB_GROUPS_RX)
    return got.struct.field("stated").to_list(), got.struct.field("tail").to_list()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join), min_size=1, max_size=5))
def test_publication_groups_by_re_are_polars_groups(texts: list[str]) -> None:
    stated, tail = extract.publication_groups(pl.Series(texts, dtype=pl.String))
    assert (stated.to_list(), tail.to_list()) == _polars_groups(texts)


def test_publication_groups_cases() -> None:
    texts = [
        "主动公开信息共12条。其中网站5条,微信7条。",
        "发布共计3篇,另有4条,合计5条其中1条",  # no 其中 within four characters of the first total
        "公开共٣条。其中1条,2条",  # another script's digit: \d in both
        "公开共1条\n其中2条",  # `.` is not a newline
        "没有",
    ]
    stated, tail = extract.publication_groups(pl.Series(texts, dtype=pl.String))
    assert stated.to_list() == ["12", "5", "٣", None, None]
    assert tail.to_list() == ["网站5条,微信7条", "1条", "1条,2条", None, None]
    assert (stated.to_list(), tail.to_list()) == _polars_groups(texts)
    # a character beyond U+FFFF: the column read by polars, whose \d has this digit (re's has not)
    stated, _tail = extract.publication_groups(pl.Series([*texts, "公开共\U00011f53条。其中1条,2条"]))
    assert stated.to_list() == ["12", "5", "٣", None, None, "\U00011f53"]


def _reports(extra: list[str]) -> list[ParsedReport]:
    docs, _ = generate(SynthConfig(counties=1, townships=6, years=(2023,), seed=11))
    out: list[ParsedReport] = []
    for i, d in enumerate(docs):
        t = render_text(d)
        if i < len(extra):  # a line of section 一 with other characters
            t = t.replace("一、总体情况\n", f"一、总体情况\n{extra[i]}\n", 1)
        out.append(load_bytes(f"{d.year}/{d.file_name}", t.encode("utf-8")))
    out.insert(2, unreadable("坏文件.txt", "", 0, "无法读取"))
    return out


@pytest.mark.parametrize(
    "extra",
    [[], ["本年度主动公开信息共 5 条𠀀。"]],
    ids=["plain", "astral"],
)
@pytest.mark.parametrize("span", [None, [0, 2, 3, 5]], ids=["all", "span"])
def test_prose_texts_are_the_distinct_texts_of_the_lines(extra: list[str], span: list[int] | None) -> None:
    reports = _reports(extra)
    assert all(e in reports[0].sections.joined() for e in extra)
    lines, texts = prose_texts(reports, span)
    with_ids, expected = distinct_texts(prose_lines(reports, span))
    assert lines.equals(with_ids.drop("text")) and lines.schema == with_ids.drop("text").schema
    assert texts.equals(expected) and texts.schema == expected.schema
    assert texts.height >= 10 and lines.height > texts.height


def test_prose_texts_with_a_newline_inside_a_text() -> None:
    """A text with a newline (split apart when the distinct texts are decoded at once): each
    distinct text cut from its report's string instead, the same texts."""
    reports = _reports([])
    one = reports[0].sections
    one["一"] = [(3, "甲\n乙共 3 件。"), *one["一"]]
    lines, texts = prose_texts(reports)
    with_ids, expected = distinct_texts(prose_lines(reports))
    assert lines.equals(with_ids.drop("text")) and texts.equals(expected)
    assert texts.get_column("text")[0] == "甲\n乙共 3 件。"


def test_prose_texts_when_hashes_collide_match_the_strings() -> None:
    """Every line's text given one key: the collision is seen and the strings are matched."""
    reports = _reports([])
    lines, texts = prose_texts(reports, key=pl.lit(0, dtype=pl.UInt64))
    with_ids, expected = distinct_texts(prose_lines(reports))
    assert lines.equals(with_ids.drop("text")) and texts.equals(expected)
    assert re.search("主动公开", "".join(texts.get_column("text").to_list()))


def test_claims_of_the_sentences_that_may_state_one_are_all_the_claims() -> None:
    """extract_claims over the clauses of claim_sentences (the sentences matching some claim
    pattern), and of the sentences of stating_texts, is extract_claims over every clause (and H20
    the same), on a synthetic county with defects."""
    docs, _ = generate(SynthConfig(counties=1, townships=40, years=(2022, 2023), defect_rate=0.5, seed=7))
    texts_of = [render_text(d) for d in docs]
    # some with a wrong percentage (H20)
    texts_of = [
        re.sub(r"(办结 \d+ 件，其中予以公开 \d+ 件)", r"\1，占比为 99%", t) if i % 7 == 2 else t
        for i, t in enumerate(texts_of)
    ]
    reports = [load_bytes(f"{d.year}/{d.file_name}", t.encode("utf-8")) for d, t in zip(docs, texts_of, strict=True)]
    _lines, texts = prose_texts(reports)
    sents = text_sentences(trigger_texts(texts))
    kept = extract.claim_sentences(sents)
    assert 0 < kept.height < sents.height
    expected = extract.extract_claims(clauses(sents))
    got = extract.extract_claims(clauses(kept))
    assert expected.height > 100 and got.equals(expected) and got.schema == expected.schema
    # and of the texts that may state a claim or a percentage: the same claims and H20 errors
    cand = trigger_texts(texts)
    stating = extract.stating_texts(cand)
    assert 0 < stating.height < cand.height
    fewer = text_sentences(stating)
    got = extract.extract_claims(clauses(extract.claim_sentences(fewer)))
    assert got.equals(expected) and got.schema == expected.schema
    pct = extract.wrong_percentages(texts, fewer)
    assert pct == extract.wrong_percentages(texts, sents) and len(pct) >= 2


def test_no_claim_pattern_is_anchored() -> None:
    """stating_texts and claim_sentences keep a text or sentence when some claim pattern matches
    anywhere in it: right only while no pattern looks at where its match starts or ends."""
    from nianbao.rules.prose.claims import CLAIMS, NO_CASES, UPHELD

    patterns = [p for c in CLAIMS for p in c.patterns] + [UPHELD, NO_CASES]
    assert len(patterns) >= 20
    assert [p for p in patterns if re.search(r"(?<!\[)\^|\$|\\[bBAzZ]", p)] == []


# --- the distinct texts numbered by the compiled scan (text._by_scan) against a plain dict

_LINE_PIECES = [
    "共", "3", "件", "。", "\r\n", "\r", "é", "a", " ", "𠀀", "\ud800", "主动公开", "", "\u3000", "\t", "５", "，",
    "没", "有", "没有", "全部", "％", "1,234", "公民、法人和其他组织", "\xa0", "\u2028", "条",
]  # fmt: skip
_NAMES = ["引言", "一", "二", "四"]


def _expected(reports: list[ParsedReport], span: list[int] | None) -> tuple[list[tuple], list[tuple]]:
    """(report, section, line, tid) of every prose line and (tid, section, text) of each distinct
    (section, text) pair, numbered by first occurrence: the reference, in Python."""
    ids: dict[tuple[str, str], int] = {}
    rows: list[tuple] = []
    for i in span if span is not None else range(len(reports)):
        rep = reports[i]
        if not rep.readable:
            continue
        for name in rep.sections:
            if name == "引言":
                continue
            for no, said in rep.sections[name]:
                rows.append((i, name, no, ids.setdefault((name, said), len(ids))))
    return rows, [(t, name, said) for (name, said), t in ids.items()]


_SECTIONS = st.dictionaries(
    st.sampled_from(_NAMES),
    st.lists(
        st.tuples(st.integers(0, 9), st.lists(st.sampled_from(_LINE_PIECES), max_size=6).map("".join)), max_size=4
    ),
    max_size=4,
)


@pytest.mark.skipif(text.cscan is None, reason="the compiled scan is not built")
@settings(max_examples=300, deadline=None)
@given(st.lists(_SECTIONS, min_size=1, max_size=5), st.booleans(), st.booleans())
def test_distinct_by_the_scan_is_the_first_occurrence_numbering(
    sections: list[dict[str, list[tuple[int, str]]]], collide: bool, spanned: bool
) -> None:
    """Texts with CRLF, a lone CR, astral characters, a lone surrogate, empty lines, in strs of
    every kind (ASCII, Latin-1, UCS-2, UCS-4: the same text alike in each), every hash forced to
    collide or not: the numbers of the first occurrences, and the texts; None only when a text (not
    the 引言's) holds a lone surrogate, else the string path's frames."""
    reports = _reports([])[: len(sections) + 1]
    for rep, secs in zip(reports[1:] if len(reports) > len(sections) else reports, sections, strict=False):
        rep.sections = Sections({n: list(v) for n, v in secs.items()})
    span = [len(reports) - 1, 0] if spanned else None
    rows, texts = _expected(reports, span)
    p = text._packed(reports, span)
    got = text._by_scan(p, 0 if collide else 0xFFFF_FFFF_FFFF_FFFF, trigger=True)
    if any("\ud800" in t for _t, _n, t in texts):
        assert got is None
        return
    assert got is not None
    lines, distinct, cand = got
    assert lines.rows() == rows and distinct.rows() == texts
    # the texts with a trigger word, normalised: as trigger_texts finds and normalises them
    expected_cand = trigger_texts(distinct)
    assert cand is not None and cand.equals(expected_cand) and cand.schema == expected_cand.schema
    if not any("\ud800" in d for d in p.docs):  # (the string path hands polars every doc whole)
        with_ids, expected = distinct_texts(text._with_text(p))
        assert lines.equals(with_ids.drop("text")) and lines.schema == with_ids.drop("text").schema
        assert distinct.equals(expected) and distinct.schema == expected.schema


@pytest.mark.skipif(text.cscan is None, reason="the compiled scan is not built")
def test_distinct_by_the_scan_refuses_lines_that_do_not_add_up() -> None:
    import numpy as np

    scan = text.cscan
    ok = (["ab", "a"], np.array([1, 1, 1]), np.array([2, 1]), np.ones(3, np.uint8), np.zeros(3, np.uint32))
    tids, first, utf8, offs = scan.distinct(*ok)
    assert np.frombuffer(tids, np.uint32).tolist() == [0, 1, 0]
    assert np.frombuffer(first, np.int64).tolist() == [0, 1] and utf8 == b"ab"
    assert np.frombuffer(offs, np.int64).tolist() == [0, 1, 2]
    bad = [
        (ok[0], np.array([1, 2, 1]), *ok[2:]),  # a line beyond its doc
        (ok[0], np.array([1, 0, 1]), *ok[2:]),  # a doc's lines short of it
        (ok[0], ok[1], np.array([2, 2]), *ok[3:]),  # more lines than lengths
        (*ok[:4], np.zeros(2, np.uint32)),  # fewer sections than kept lines
        (*ok[:3], np.ones(2, np.uint8), ok[4]),
    ]
    for args in bad:
        with pytest.raises(ValueError):
            scan.distinct(*args)


def test_prose_frames_are_the_texts_and_their_trigger_texts() -> None:
    reports = _reports(["本年度主动公开信息共 １,２３４ 条，没有收到　申请。"])
    lines, texts, cand = text.prose_frames(reports, [0, 1, 3])
    expected = prose_texts(reports, [0, 1, 3])
    assert lines.equals(expected[0]) and texts.equals(expected[1])
    assert cand.equals(trigger_texts(texts)) and cand.schema == trigger_texts(texts).schema
    assert "本年度主动公开信息共1234条,没有收到申请。" in cand.get_column("norm").to_list()


def test_the_character_map_is_normalise_on_every_character() -> None:
    """numerals.CHAR_MAP (what the compiled scan maps) is normalise on each character below
    U+10000 (the surrogates left out): the same character, another or none."""
    from nianbao.rules.prose.numerals import CHAR_MAP, normalise

    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    got = pl.select(normalise(pl.lit(pl.Series(chars, dtype=pl.String)))).to_series().to_list()
    mapped = [chr(m) if (m := CHAR_MAP.get(ord(c), ord(c))) >= 0 else "" for c in chars]
    assert got == mapped
    assert sum(m == "" for m in mapped) >= 20 and CHAR_MAP[ord("５")] == ord("5")
