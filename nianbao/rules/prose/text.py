"""The prose as frames: lines, their distinct texts, sentences and clauses.

The prose lines of every report become one polars frame (cut from each report's packed sections:
no Python string per line).  Report texts share most of their wording, so the text rules read each
distinct (section, text) pair once — :func:`distinct_texts` numbers them (``tid``) — and the
claims found are joined back to every line that has that text.  :func:`sentences` and
:func:`clauses` carry whatever key columns their input has (``report``/``line`` of the lines, or
``tid`` of the distinct texts).
"""

from __future__ import annotations

import functools
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from nianbao.domain.model import ParsedReport
from nianbao.rules.prose.numerals import CHAR_MAP, normalise, regrouped

try:  # the bulk reader's compiled scan (optional: without it the lines are matched by polars)
    from nianbao.read import scan as cscan
except ImportError:  # pragma: no cover - built by the install when a C compiler is there
    cscan = None  # type: ignore[assignment]

TRIGGER = r"\d\s*(?:件|条|起|宗|期|篇|个)|[零一二两三四五六七八九十](?:件|起)|未|没有|无|均|全部|皆|%|％"

# a line is looked at only when it has one of these (a cheap literal scan before the patterns)
TRIGGER_WORDS = ("件", "条", "起", "宗", "期", "篇", "个", "未", "没有", "无", "均", "全部", "皆", "%", "％")
# the same test as one regular expression of literals (polars' contains_any was slower)
_TRIGGER_ANY = "|".join(re.escape(w) for w in TRIGGER_WORDS)
CLAUSE_TRIGGER = r"\d|[零一二两三四五六七八九十](?:件|起|个)|未|没有|无|均|全部|皆"
# the facts of a clause's sentence that the claim patterns read (set by :func:`clauses`)
FLAGS = ("ctx", "s_carry", "s_review", "s_suit")


@dataclass(frozen=True)
class _Packed:
    """The prose lines of a batch's reports as arrays (the 引言 left out): ``docs`` the texts of the
    reports that have a section (all their lines joined), ``names`` the section names by code; per
    line: its report's batch position, its section's code, its line number, its doc (an index in
    ``docs``), its offset there and its length (characters); ``all_lengths`` and ``kept``: the
    lengths of every line of the docs in order (the 引言's too: the docs are these lines joined),
    which are the lines above, and ``per_doc``: how many of them each doc has."""

    docs: list[str]
    names: list[str]
    report: np.ndarray
    section: np.ndarray
    line: np.ndarray
    doc: np.ndarray
    offset: np.ndarray
    length: np.ndarray
    all_lengths: np.ndarray
    kept: np.ndarray
    per_doc: np.ndarray


def _packed(reports: Sequence[ParsedReport], span: Sequence[int] | None) -> _Packed:
    """The :class:`_Packed` lines of the readable reports (at ``span``, all by default)."""
    # (position, packed sections) of the readable reports that have a section; then per field
    positions = span if span is not None else range(len(reports))
    picked = [(i, p) for i in positions if (rep := reports[i]).readable and (p := rep.sections.packed())[0]]
    names_l, counts_l, nos_l, lens_l, docs_l = zip(*[p for _i, p in picked], strict=True) if picked else ([],) * 5
    docs: list[str] = list(docs_l)
    # section name → a small code (names repeat: 一 … 六); the codes of a list of names by the list
    # (reports read alike share theirs; all alive meanwhile), as the bytes of their array
    code_of: dict[str, int] = {}
    codes_of: dict[int, bytes] = {}
    for names in {id(names): names for names in names_l}.values():
        codes_of[id(names)] = array("I", [code_of.setdefault(n, len(code_of)) for n in names]).tobytes()
    # (the arrays joined as they are: any buffer)
    line_no = np.frombuffer(b"".join(nos_l), dtype=np.uint32)
    length = np.frombuffer(b"".join(lens_l), dtype=np.uint32).astype(np.int64)
    counts64 = np.frombuffer(b"".join(counts_l), dtype=np.uint32).astype(np.int64)
    n_secs = list(map(len, names_l))
    per_doc = np.add.reduceat(counts64, _starts(n_secs)) if n_secs else np.zeros(0, dtype=np.int64)
    doc_of_line = np.repeat(np.arange(len(docs), dtype=np.uint32), per_doc)
    # offset of each line in its report's text: a running sum that restarts at each report
    ends = np.cumsum(length)
    first_line = np.concatenate(([0], np.cumsum(per_doc)[:-1])).astype(np.int64) if len(per_doc) else per_doc
    # (the lines' lengths before a doc's first: right for a doc without lines too)
    doc_start = np.concatenate(([0], ends))[first_line] if len(first_line) else first_line
    offset = ends - length - np.repeat(doc_start, per_doc)
    sec_codes = np.frombuffer(b"".join(map(codes_of.__getitem__, map(id, names_l))), dtype=np.uint32)
    sec_of_line = np.repeat(sec_codes, counts64)
    keep = sec_of_line != code_of.get("引言", -1)  # the 引言 is not read
    doc_of_line = doc_of_line[keep]
    return _Packed(
        docs=docs,
        names=list(code_of),
        report=np.asarray([i for i, _p in picked], dtype=np.uint32)[doc_of_line],
        section=sec_of_line[keep],
        line=line_no[keep],
        doc=doc_of_line,
        offset=offset[keep],
        length=length[keep],
        all_lengths=length,
        kept=keep,
        per_doc=per_doc,
    )


def prose_lines(reports: Sequence[ParsedReport], span: Sequence[int] | None = None) -> pl.DataFrame:
    """One row per prose line of every readable report (the 引言 before section 一 is left out);
    with ``span``, of the reports at those positions only (``report`` stays the batch position).

    Built from the packed sections (one string per report): the lines are cut by polars, so no
    Python string is made per line."""
    return _with_text(_packed(reports, span))


def _with_text(p: _Packed) -> pl.DataFrame:
    """(report, section, line, text) of the packed lines: the texts cut from the reports' by polars."""
    return _line_frame(p).with_columns(
        _as_series(p.docs)
        .gather(p.doc)
        .str.slice(pl.Series(p.offset, dtype=pl.Int64), pl.Series(p.length, dtype=pl.Int64))
        .alias("text")
    )


def _line_frame(p: _Packed) -> pl.DataFrame:
    """(report, section, line) of the packed lines."""
    return pl.DataFrame(
        {
            "report": pl.Series(p.report, dtype=pl.UInt32),
            "section": pl.Series("section", p.names, dtype=pl.String).gather(p.section),
            "line": pl.Series(p.line, dtype=pl.UInt32),
        }
    )


def prose_texts(
    reports: Sequence[ParsedReport], span: Sequence[int] | None = None, key: pl.Expr | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(lines, texts) as :func:`distinct_texts` numbers the :func:`prose_lines` (the lines without
    their text: report, section, line, tid).

    The lines are matched as the UTF-16 bytes of their texts (a report's text encodes to UTF-16 at
    two bytes a character, so each line is a byte slice at a known place: no walk from the text's
    start, no UTF-8 encoding of every line); the distinct texts alone then become strings, all
    decoded at once (:func:`_decoded`).  A text with a character beyond U+FFFF (four bytes) or a lone surrogate is
    read by the string path (the same result).  ``key``: the hash expression of a line's bytes
    (``_b``; tests pass a constant: every text of a section collides)."""
    p = _packed(reports, span)
    if cscan is not None and key is None:
        got = _by_scan(p)
        if got is not None:
            return got[0], got[1]
    return _by_utf16(p, key)


def prose_frames(
    reports: Sequence[ParsedReport], span: Sequence[int] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(lines, texts) of :func:`prose_texts` and the :func:`trigger_texts` of those texts: with the
    compiled scan, the texts with a trigger word are found and their characters mapped (the first
    passes of ``normalise``: :data:`numerals.CHAR_MAP`) while the pairs are numbered, in one pass."""
    p = _packed(reports, span)
    if cscan is not None:
        got = _by_scan(p, trigger=True)
        if got is not None and got[2] is not None:
            return got[0], got[1], got[2]
    lines, texts = _by_utf16(p, None)
    return lines, texts, trigger_texts(texts)


@functools.cache
def _char_table() -> bytes:
    """:data:`numerals.CHAR_MAP` as the compiled scan reads it: an int32 a code point below U+10000."""
    table = np.arange(0x10000, dtype=np.int32)
    for c, r in CHAR_MAP.items():
        table[c] = r
    return table.tobytes()


def _by_scan(
    p: _Packed, mask: int = 0xFFFF_FFFF_FFFF_FFFF, trigger: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None] | None:
    """:func:`prose_texts` by the compiled scan's ``distinct``: the (section, text) pairs numbered
    from the docs' characters (hashed, then compared character by character: the same numbers as
    :func:`distinct_texts`), each pair's text given once as UTF-8; with ``trigger``, also the
    :func:`trigger_texts` of them; None when a text holds a lone surrogate.  ``mask``: ANDed into
    every hash (tests pass 0: every line collides)."""
    assert cscan is not None
    args: list[Any] = [
        p.docs,
        np.ascontiguousarray(p.all_lengths, dtype=np.int64),
        np.ascontiguousarray(p.per_doc, dtype=np.int64),
        np.ascontiguousarray(p.kept, dtype=np.uint8),
        np.ascontiguousarray(p.section, dtype=np.uint32),
        mask,
    ]
    if trigger:
        args += [TRIGGER_WORDS, _char_table()]
    got = cscan.distinct(*args)
    if got is None:
        return None
    tids, first, utf8, offsets, *flagged = got
    n = len(first) // 8
    lines = _line_frame(p).with_columns(pl.Series("tid", np.frombuffer(tids, dtype=np.uint32), dtype=pl.UInt32))
    texts = pl.DataFrame(
        {
            "tid": pl.int_range(n, dtype=pl.UInt32, eager=True),
            "section": lines.get_column("section").gather(np.frombuffer(first, dtype=np.int64)),
            "text": _utf8_series("text", utf8, offsets),
        }
    )
    if not flagged:
        return lines, texts, None
    flags, mapped, mapped_offsets = flagged
    cand = (
        texts.filter(pl.Series(np.frombuffer(flags, dtype=np.bool_)))
        .with_columns(_utf8_series("norm", mapped, mapped_offsets))
        .with_columns(regrouped(pl.col("norm")))
    )
    return lines, texts, cand


def _utf8_series(name: str, utf8: bytes, offsets: bytes) -> pl.Series:
    """The strings of joined UTF-8 at their int64 offsets (one more than strings)."""
    n = len(offsets) // 8 - 1
    strings = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(utf8))
    return pl.Series(name, strings, dtype=pl.String)


def _by_utf16(p: _Packed, key: pl.Expr | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`prose_texts` by the lines' UTF-16 bytes matched in polars."""
    try:
        u16 = [d.encode("utf-16-le") for d in p.docs]
    except UnicodeEncodeError:
        u16 = None
    if u16 is None or sum(map(len, u16)) != 2 * sum(map(len, p.docs)):
        return _by_strings(p)
    # every line's bytes, one after the other in the docs' (the 引言's lines then left out): one
    # Arrow array over the joined bytes, no slice of each report's text
    offsets = np.zeros(len(p.all_lengths) + 1, dtype=np.int64)
    np.cumsum(2 * p.all_lengths, out=offsets[1:])
    every = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(p.all_lengths), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(u16))]
    )
    frame = _line_frame(p).with_columns(pl.Series("_b", every).filter(pl.Series(p.kept)))
    text_key = pl.col("_b").hash() if key is None else key
    hashed = frame.with_columns((text_key ^ pl.col("section").hash()).alias("_h"))
    first = hashed.with_row_index("_i").filter(pl.col("_h").is_first_distinct())
    joined = hashed.join(
        first.select(
            "_h",
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("tid"),
            pl.col("section").alias("_s"),
            pl.col("_b").alias("_t"),
        ),
        on="_h",
        how="left",
        maintain_order="left",
    )
    col = joined.get_column
    if joined.height and ((col("_t") != col("_b")) | (col("_s") != col("section"))).any():
        return _by_strings(p)  # two pairs, one key: matched as strings
    texts = first.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("tid"), "section", _decoded(first, p).alias("text")
    )
    return joined.drop("_b", "_h", "_s", "_t"), texts


def _decoded(first: pl.DataFrame, p: _Packed) -> pl.Series:
    """The strings of the distinct texts (``_b``, UTF-16; ``_i``, their line): decoded at once,
    joined by a newline and split there by polars (as UTF-8); one Python slice of its report's
    text each when a text has a newline (the split then gives more parts than texts)."""
    utf16 = first.get_column("_b")
    joined = b"\n\x00".join(utf16.to_list()).decode("utf-16-le").encode()
    split = pl.Series([joined], dtype=pl.Binary).cast(pl.String).str.split("\n").explode()
    if len(split) == len(utf16):
        return split
    at = first.get_column("_i").to_numpy()
    docs, doc, offset, length = p.docs, p.doc[at].tolist(), p.offset[at].tolist(), p.length[at].tolist()
    return _as_series([docs[d][o : o + n] for d, o, n in zip(doc, offset, length, strict=True)])


def _by_strings(p: _Packed) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`prose_texts` by the lines' strings."""
    with_ids, texts = distinct_texts(_with_text(p))
    return with_ids.drop("text"), texts


def _as_series(docs: list[str]) -> pl.Series:
    """The reports' texts as one polars column, from their UTF-8 bytes: handing polars the ``str``
    objects themselves would leave a UTF-8 copy cached inside each of them for as long as the
    report lives (CPython keeps the encoding it hands out): 2.8 bytes per character of prose,
    ~115 MB at 20,000 reports, for the rest of the run."""
    try:
        encoded = [d.encode() for d in docs]
    except UnicodeEncodeError:  # a lone surrogate: polars gets the strings (and says what is wrong)
        return pl.Series("_text", docs, dtype=pl.String)
    return pl.Series("_text", encoded, dtype=pl.Binary).cast(pl.String)


def _starts(sizes: Sequence[int]) -> np.ndarray:
    """Start index of each group of the given sizes (for ``np.add.reduceat``)."""
    return np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)


def distinct_texts(lines: pl.DataFrame, key: pl.Expr | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(lines with ``tid``, the distinct texts): one row per distinct (section, text) pair of the
    lines, numbered ``tid`` (its first occurrence first), and each line with the ``tid`` of its text.

    Pairs are matched by a 64-bit key (the text's hash xor the section's: one column to find the
    first of each and to join on); a collision (two pairs, one key) is detected by comparing every
    line's section and text with its pair's, and then the pairs are matched as strings.  ``key``:
    the text's hash expression (tests pass a constant: every text of a section collides)."""
    text_key = pl.col("text").hash() if key is None else key
    hashed = lines.with_columns((text_key ^ pl.col("section").hash()).alias("_h"))
    texts = hashed.filter(pl.col("_h").is_first_distinct()).select("section", "text", "_h").with_row_index("tid")
    joined = hashed.join(
        texts.select("_h", "tid", pl.col("section").alias("_s"), pl.col("text").alias("_t")),
        on="_h",
        how="left",
        maintain_order="left",
    )
    col = joined.get_column
    if joined.height and ((col("_t") != col("text")) | (col("_s") != col("section"))).any():
        texts = lines.select("section", "text").unique(keep="first", maintain_order=True).with_row_index("tid")
        return lines.join(texts, on=["section", "text"], how="left", maintain_order="left"), texts
    return joined.drop("_h", "_s", "_t"), texts.drop("_h")


def split_sentences(text: str) -> list[str]:
    """The sentences of a line as :func:`sentences` cuts them: after every 。 (the mark kept)."""
    return re.split(r"(?<=。)", text)


def trigger_texts(lines: pl.DataFrame) -> pl.DataFrame:
    """The lines (or distinct texts) that may state a figure (one of :data:`TRIGGER_WORDS`), with
    their normalised text ``norm``: what :func:`text_sentences` cuts, and a superset of the H19
    candidates (they have 条), which read the same ``norm``."""
    return lines.filter(pl.col("text").str.contains(_TRIGGER_ANY)).with_columns(normalise(pl.col("text")).alias("norm"))


def sentences(lines: pl.DataFrame) -> pl.DataFrame:
    """Sentences (cut after each 。) of the lines that may state a figure; ``sent`` is the sentence's
    position in its line, ``norm`` its normalised text."""
    return text_sentences(trigger_texts(lines))


def text_sentences(cand: pl.DataFrame) -> pl.DataFrame:
    """:func:`sentences` of the lines of :func:`trigger_texts`.

    A sentence's normalised text is the sentence at the same place in its line's normalised text:
    normalising keeps every 。 and none of its patterns spans one, so it normalises each sentence
    on its own (the sentence's surrounding whitespace it removes anyway); only a last part after
    the final 。 that is whitespace alone is missing there (its normalised text is "")."""
    keys = [c for c in cand.columns if c not in ("text", "norm")]
    raw = pl.col("sentence")  # (the text cut after each 。, added first)
    norm = pl.concat_list(pl.col("norm").str.split("。", inclusive=True), pl.lit("")).list.head(raw.list.len())
    return (
        cand.with_columns(pl.col("text").str.split("。", inclusive=True).alias("sentence"))
        .select(*keys, "sentence", pl.int_ranges(0, raw.list.len()).alias("sent"), norm.alias("norm"))
        .explode("sentence", "sent", "norm")
        .filter(pl.col("sentence").str.contains(TRIGGER))
    )


def clauses(sents: pl.DataFrame) -> pl.DataFrame:
    """Clauses (split at , ; 。 ! ?) with the facts of their sentence the claim patterns need."""
    return (
        sents.with_columns(
            (pl.col("norm").str.contains("信息公开|依申请") | (pl.col("section") == "四")).alias("ctx"),
            pl.col("norm").str.contains("结转|除").alias("s_carry"),
            pl.col("norm").str.contains("复议").alias("s_review"),
            pl.col("norm").str.contains("诉讼").alias("s_suit"),
            # the maximal runs without , ; 。 ! ? (as extract_all(r"[^,;。!?]+"), by a split; the four
            # marks made commas by one character class: replace_many's automaton was ~3× slower)
            pl.col("norm")
            .str.replace_all("[;。!?]", ",")
            .str.split(",")
            .list.filter(pl.element() != "")
            .alias("clause"),
        )
        .with_columns(pl.int_ranges(0, pl.col("clause").list.len()).alias("pos"))
        .explode("clause", "pos")
        .filter(pl.col("clause").is_not_null())
    )
