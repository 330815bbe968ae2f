"""Prose text as the rules read it: the normalisation of a line and the numbers it writes.

Normalised text: NFKC-like (full-width digits and punctuation to ASCII), no whitespace, thousands
separators removed, "公民、法人和其他组织" collapsed (its 、 would otherwise end a list item).
The same normalisation exists twice: as a polars expression (:func:`normalise`, over many lines at
once) and for one Python string (:func:`normalise_text`, the few sentences parsed in Python).
"""

from __future__ import annotations

import re

import polars as pl

_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {
    "（": "(",
    "）": ")",
    "，": ",",
    "；": ";",
    "：": ":",
    "％": "%",
    "．": ".",
    "！": "!",
    "？": "?",
}
_CN_VALUE = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_numerals() -> dict[str, int]:
    """Chinese numerals 零 … 九十九 (prose writes small counts in words: 两件, 十二件)."""
    out = dict(_CN_VALUE)
    out["十"] = 10
    for d in range(1, 10):
        t = "一二三四五六七八九"[d - 1]
        out[f"十{t}"] = 10 + d
        if d > 1:
            out[f"{t}十"] = d * 10
            for e in range(1, 10):
                out[f"{t}十{'一二三四五六七八九'[e - 1]}"] = d * 10 + e
    return out


CN_NUMERALS = _cn_numerals()

# a number as prose writes it: digits, or a Chinese numeral
NUM = r"(\d+|[零一二两三四五六七八九十]{1,3})"
# a gap inside one clause: no digit, no percent sign, no list separator
GAP = r"[^\d%、]"
UNIT = r"(?:件|个|宗|份)"
CASE_UNIT = r"(?:件|起|宗|个)"


# the characters regex ``\s`` matches (Unicode White_Space): removed in one pass with the full-width
# characters' replacement (tests/rules/test_prose_phrasing.py holds the set against the regex)
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"
)
# the ASCII space (most of the whitespace) removed first by a literal scan, the other characters
# then in one pass: every pattern is one character and no replacement is one, so the order does
# not matter (~0.25 us a report less than all of them in replace_many's one pass)
_ONE_PASS = (
    [c for c in (*WHITESPACE, *_FULLWIDTH) if c != " "],
    [""] * (len(WHITESPACE) - 1) + list(_FULLWIDTH.values()),
)


def normalise(expr: pl.Expr) -> pl.Expr:
    """The normalised text (see the module's docstring) of a string expression."""
    return regrouped(expr.str.replace_all(" ", "", literal=True).str.replace_many(*_ONE_PASS))


def regrouped(expr: pl.Expr) -> pl.Expr:
    """The rest of :func:`normalise` once each character is mapped by :data:`CHAR_MAP`."""
    return expr.str.replace_all(r"(\d),(\d{3})", "${1}${2}").str.replace_all(
        r"公民、法人(?:和|或者|或|及|以及|与)其他组织", "公民法人其他组织"
    )


# normalise's first two passes as one map of single characters (code point -> its replacement's,
# -1: dropped): every pattern is one character and no replacement is a pattern, so mapping each
# character on its own is those passes (text.prose_frames hands it to the compiled scan)
CHAR_MAP = {ord(c): (ord(r) if r else -1) for c, r in zip(*_ONE_PASS, strict=True)} | {ord(" "): -1}


_TRANSLATE = {ord(k): v for k, v in _FULLWIDTH.items()}


def normalise_text(s: str) -> str:
    """The same normalisation for one string (tests, Python-side parsing)."""
    s = "".join(s.split())  # str.split's whitespace is regex \s's (both str.isspace)
    s = s.translate(_TRANSLATE)
    s = _GROUPED.sub(r"\1\2", s)
    return _PARTIES.sub("公民法人其他组织", s) if "公民、法人" in s else s


_GROUPED = re.compile(r"(\d),(\d{3})")
_PARTIES = re.compile(r"公民、法人(?:和|或者|或|及|以及|与)其他组织")


def number(expr: pl.Expr) -> pl.Expr:
    """A captured number (digits or a Chinese numeral) as Int64; null when not a number."""
    return (
        pl.when(expr.str.contains(r"^\d+$"))
        .then(expr.str.slice(0, 12).cast(pl.Int64, strict=False))
        .otherwise(expr.replace_strict(CN_NUMERALS, default=None, return_dtype=pl.Int64))
    )
