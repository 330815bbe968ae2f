"""The per-chunk analysis of the texts, and the analyses the parse workers made ahead.

A chunk's analysis (:func:`analyse`) is what the text rules keep of a chunk of reports: its lines
as numbers only (report, section, line, text id) and what its distinct texts state (claims, wrong
H19 sums, wrong H20 percentages, fee statements).  The parse workers (``nianbao.run.parsing``)
analyse the chunk they have just read and ship the analysis back with it, as the part ``prose``
of the chunk's :class:`nianbao.rules.ahead.ChunkAhead`.  :func:`ahead` gives the analyses of a
batch's reports and the ones without (the family analyses those texts itself: the same result).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from nianbao.domain.model import ParsedReport
from nianbao.rules.ahead import Registered, moved, registered
from nianbao.rules.prose.checks import fee_texts
from nianbao.rules.prose.extract import (
    PercentError,
    PubSum,
    claim_sentences,
    extract_claims,
    stating_texts,
    wrong_percentages,
    wrong_publication_sums,
)
from nianbao.rules.prose.text import clauses, prose_frames, text_sentences


@dataclass
class ChunkProse:
    """The texts of a chunk of reports, analysed: ``lines`` (report, section, line, tid), ``stated``
    (the claims of every distinct text, by tid), ``fee`` (the tids that may state the fee), ``pub``
    and ``pct`` (the wrong H19 sums and H20 percentages, by tid), ``texts``: how many tids."""

    lines: pl.DataFrame
    stated: pl.DataFrame
    fee: pl.Series
    pub: dict[int, PubSum]
    pct: dict[int, list[tuple[int, PercentError]]]
    texts: int


def analyse(reports: Sequence[ParsedReport], span: Sequence[int] | None = None) -> ChunkProse | None:
    """The analysis of the reports at ``span`` (all by default; ``report`` is the position in
    ``reports``); None when they have no prose line."""
    # (cand: the texts with a trigger word, normalised once, for their sentences and the H19 candidates)
    lines, texts, cand = prose_frames(reports, span)
    if not lines.height:
        return None
    sents = text_sentences(stating_texts(cand))  # (all the sentences the claims and H20 read)
    return ChunkProse(
        lines=lines,
        stated=extract_claims(clauses(claim_sentences(sents))),
        fee=fee_texts(texts),
        pub=wrong_publication_sums(cand),
        pct=wrong_percentages(texts, sents),
        texts=texts.height,
    )


def ahead(reg: Registered) -> tuple[list[tuple[ChunkProse, np.ndarray]], list[int]]:
    """The analyses the parse workers made of the batch's reports (part ``prose`` of
    :mod:`nianbao.rules.ahead`), each with its map (chunk position → batch position, -1 for a
    report not in the batch); and the positions of the readable reports that have none (e.g.
    reports from the store beside the parsed ones)."""
    return reg.parts("prose")


def precomputed(reports: Sequence[ParsedReport]) -> list[tuple[ChunkProse, np.ndarray]] | None:
    """The analyses made ahead that cover the batch (see :func:`ahead`); None unless every
    readable report has one."""
    made, missing = ahead(registered(reports))
    return None if missing else made


def joined(parts: Sequence[tuple[ChunkProse, np.ndarray | None]]) -> ChunkProse | None:
    """The analyses of a batch's chunks as one: lines of the batch's reports only (``report`` mapped
    to the batch position when a map is given), text ids made unique over the batch, lines in
    report order (each report's in its own order) when any was mapped."""
    keyed: list[pl.DataFrame] = []
    stated: list[pl.DataFrame] = []
    fee: list[pl.Series] = []
    pub: dict[int, PubSum] = {}
    pct: dict[int, list[tuple[int, PercentError]]] = {}
    first = 0
    remapped = False
    for a, to in parts:
        lines = a.lines
        if to is not None:
            remapped = True
            lines = moved(lines, to)
        if not lines.height:
            continue
        keyed.append(lines.with_columns(pl.col("tid") + first) if first else lines)
        stated.append(a.stated.with_columns(pl.col("tid") + first) if first else a.stated)
        fee.append(a.fee + first if first else a.fee)
        pub |= {t + first: v for t, v in a.pub.items()}
        pct |= {t + first: v for t, v in a.pct.items()}
        first += a.texts
    if not keyed:
        return None
    lines = pl.concat(keyed)
    if remapped and bool((np.diff(lines.get_column("report").to_numpy().astype(np.int64)) < 0).any()):
        lines = lines.sort("report", maintain_order=True)  # (the chunks' reports not in the batch's order)
    return ChunkProse(lines, pl.concat(stated), pl.concat(fee), pub, pct, first)
