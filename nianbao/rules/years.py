"""Year pairs: each report of the batch with the same agency's report of the previous year.

Agencies are matched on their normalised name (:func:`nianbao.domain.registry.normalise_agency`) after
the rename table (``renames.csv``: old name → current name) is applied, so a township that changed
its name keeps its history.  Last year's report comes from the same batch (reports of year Y−1 given
on the same command line) or from ``previous`` (e.g. the Parquet store of earlier runs); the batch
wins when both have it.  The cross-year, plausibility and copy rules and the error localisation
read the same pairs (built once per run on the :class:`nianbao.rules.family.Batch`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import SUFFIXES, normalise_agency

# normalise_agency's spaces and punctuation as a Rust regex: Python's ``\s`` (str.isspace) also
# takes the four information separators U+001C-U+001F, the Unicode White_Space property does not
_SPACE_PUNCT_RS = r"[\s\x1c-\x1f\"'“”‘’()（）\[\]【】《》·,，.。:：;；、\-_/]+"
# the names polars normalises as Python does: every character in blocks whose NFKC mappings date
# from long before Python 3.11's Unicode 14 (Latin, punctuation, CJK and its symbols, full-width
# forms); a character outside them may be one Unicode assigned since, which polars' newer tables
# map and Python's leave as they are (U+A7F1, U+1CCD6 …): such a name is normalised by Python
_SAME = re.compile(
    r"[\x00-\x7f\u00a0-\u024f\u2000-\u206f\u3000-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]*\Z"
)


def agency_keys(names: Sequence[str | None], renames: Mapping[str, str] | None = None) -> pl.Series:
    """:func:`agency_key` of every name at once (None: ""), as a String series: normalised by
    polars (~50 ms at 100,000 names against ~0.25 s one name at a time), then followed through
    ``renames`` when given.  NFKC is applied to the names with a character other than ASCII and CJK
    ideographs (which it leaves as they are); a name with a character outside :data:`_SAME`'s
    blocks is normalised by Python."""
    s = pl.Series("n", names, dtype=pl.String).fill_null("")
    other = s.str.contains(r"[^\x00-\x7f\u4e00-\u9fff]").arg_true()
    if len(other):
        s = s.scatter(other, s.gather(other).str.normalize("NFKC"))
    t = pl.col("n").str.replace_all(_SPACE_PUNCT_RS, "")
    # the first suffix that ends the name and leaves two characters or more
    stripped = [
        pl.when(t.str.ends_with(suf) & (t.str.len_chars() > len(suf) + 1)).then(t.str.strip_suffix(suf))
        for suf in SUFFIXES
    ]
    keys = s.to_frame().select(pl.coalesce(*stripped, t).alias("key")).to_series()
    python = [i for i in other.to_list() if not _SAME.match(names[i] or "")]
    if python:
        keys = keys.scatter(python, [normalise_agency(names[i]) for i in python])
    if renames:
        keys = pl.Series("key", [renamed(k, renames) for k in keys.to_list()], dtype=pl.String)
    return keys


def agency_key(name: str | None, renames: Mapping[str, str]) -> str:
    """The matching key of an agency name: normalised, then followed through the rename table."""
    return renamed(normalise_agency(name), renames)


def renamed(key: str, renames: Mapping[str, str]) -> str:
    """A normalised agency name followed through the rename table."""
    seen: set[str] = set()
    while key in renames and key not in seen:
        seen.add(key)
        key = renames[key]
    return key


@dataclass
class YearPairs:
    """The batch (indices ``0..n-1``) followed by the previous-year reports given separately."""

    n: int
    reports: list[ParsedReport]
    keys: pl.Series  # String: each report's agency_key ("": none)
    # report (batch index) -> prev (index into ``reports``), one row per report that has last year's report
    pairs: pl.DataFrame
    # batch reports of a known agency and year for which last year's report was not found
    missing: list[int]

    def prev_of(self) -> dict[int, int]:
        return dict(zip(self.pairs["report"].to_list(), self.pairs["prev"].to_list(), strict=True))


def pair_years(
    reports: Sequence[ParsedReport],
    previous: Sequence[ParsedReport] = (),
    renames: Mapping[str, str] | None = None,
) -> YearPairs:
    renames = renames or {}
    everything = list(reports) + list(previous)
    keys = agency_keys([r.agency if r.status == "validated" else None for r in everything], renames)
    meta = pl.DataFrame(
        {
            "idx": pl.Series(range(len(everything)), dtype=pl.UInt32),
            "key": keys,
            "year": pl.Series([r.year if r.status == "validated" else None for r in everything], dtype=pl.Int32),
        }
    ).filter((pl.col("key") != "") & pl.col("year").is_not_null())
    this = meta.filter(pl.col("idx") < len(reports))
    # the first report of (key, year) — batch reports come first, so the batch wins
    last = (
        meta.group_by("key", "year")
        .agg(pl.col("idx").min().alias("prev"))
        .with_columns((pl.col("year") + 1).alias("year"))
    )
    joined = this.join(last, on=["key", "year"], how="left")
    pairs = joined.filter(pl.col("prev").is_not_null()).select(pl.col("idx").alias("report"), "prev").sort("report")
    missing = joined.filter(pl.col("prev").is_null())["idx"].sort().to_list()
    return YearPairs(len(reports), everything, keys, pairs, missing)
