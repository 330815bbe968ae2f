"""The per-chunk analysis of the texts, and the analyses the parse workers made ahead.

A chunk's analysis (:func:`analyse`) is what the text rules keep of a chunk of reports: its lines
as numbers only (report, section, line, text id) and what its distinct texts state (claims, wrong
H19 sums, wrong H20 percentages, fee statements).  The parse workers (``nianbao.run.parsing``)
analyse the chunk they have just read and ship the analysis back with it; the run's process
registers it for those report objects (:func:`register`).  :func:`ahead` gives the analyses of a
batch's reports and the ones without (the family analyses those texts itself: the same result).

The registry holds the reports it knows (so an object id is never that of another report) until
the run has validated them (:func:`release`), and at most :data:`REGISTRY_CAP` of them: the oldest
registrations are dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import cast

import numpy as np
import polars as pl

from nianbao.domain.model import ParsedReport
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

# reports whose analyses are kept at most (this year's and last year's of a large run)
REGISTRY_CAP = 400_000


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


# id(report) -> (report, its chunk's analysis, its position in that chunk); the registrations in order
_known: OrderedDict[int, tuple[ParsedReport, ChunkProse | None, int]] = OrderedDict()
_lock = threading.Lock()


def register(reports: Sequence[ParsedReport], analysis: ChunkProse | None) -> None:
    """Remember ``analysis`` (of :func:`analyse` over all ``reports``) for these report objects."""
    with _lock:
        for i, rep in enumerate(reports):
            _known.pop(id(rep), None)
            _known[id(rep)] = (rep, analysis, i)
        while len(_known) > REGISTRY_CAP:
            _known.popitem(last=False)


def release(reports: Sequence[ParsedReport]) -> None:
    """Drop the analyses of these reports (the run calls it once they are validated: the registry
    then holds only reports parsed and not yet validated).  (A registered report is alive — the
    registry holds it —, so the id of a live report is its own registration's or none.)"""
    with _lock:
        deque(map(_known.pop, map(id, reports), repeat(None)), maxlen=0)  # (one C loop, no Python per report)


def forget() -> None:
    """Drop every registered analysis (tests; a long-lived process between runs)."""
    with _lock:
        _known.clear()


def precomputed(reports: Sequence[ParsedReport]) -> list[tuple[ChunkProse, np.ndarray]] | None:
    """The registered analyses that cover the batch (see :func:`ahead`); None unless every
    readable report has one."""
    parts, missing = ahead(reports)
    return None if missing else parts


def ahead(reports: Sequence[ParsedReport]) -> tuple[list[tuple[ChunkProse, np.ndarray]], list[int]]:
    """The registered analyses of the batch's reports, each with its map (chunk position → batch
    position, -1 for a report not in the batch); and the positions of the readable reports that
    have none (e.g. reports from the store beside the parsed ones).  (The registrations are looked
    up by one C loop, and grouped by chunk with numpy: no Python statement per report.)"""
    with _lock:
        got = list(map(_known.get, map(id, reports)))
    missing = [pos for pos, g in enumerate(got) if g is None and reports[pos].readable]
    found = [pos for pos, g in enumerate(got) if g is not None and g[1] is not None]
    out: list[tuple[ChunkProse, np.ndarray]] = []
    if not found:
        return out, missing
    entries = cast(list[tuple[ParsedReport, ChunkProse, int]], [got[pos] for pos in found])
    chunk_of: dict[int, int] = {}  # id(analysis) -> its number, in the order first met
    analyses: list[ChunkProse] = []
    ids = list(map(id, map(itemgetter(1), entries)))
    for key, e in dict(zip(ids, entries, strict=True)).items():  # (each chunk's analysis once)
        chunk_of[key] = len(analyses)
        analyses.append(e[1])
    chunk = np.fromiter(map(chunk_of.__getitem__, ids), np.int64, len(ids))
    at = np.fromiter(map(itemgetter(2), entries), np.int64, len(entries))
    pos_arr = np.array(found, dtype=np.int64)
    for k, analysis in enumerate(analyses):
        sel = chunk == k
        size = int(analysis.lines.get_column("report").to_numpy().max(initial=0)) + 1
        to = np.full(max(size, int(at[sel].max()) + 1), -1, dtype=np.int64)
        to[at[sel]] = pos_arr[sel]
        out.append((analysis, to))
    return out, missing


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
            pos = to[lines.get_column("report").to_numpy()]
            lines = lines.with_columns(pl.Series("report", pos, dtype=pl.Int64)).filter(pl.col("report") >= 0)
            lines = lines.with_columns(pl.col("report").cast(pl.UInt32))
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
    if remapped:
        lines = lines.sort("report", maintain_order=True)
    return ChunkProse(lines, pl.concat(stated), pl.concat(fee), pub, pct, first)
