"""The frames the prose schemas validate (:mod:`schemas.prose`): claims against the tables (H01–H18),
the prose's own arithmetic per paragraph (H13, H14), and where the fee statement is (J01, J02).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl

from nianbao.domain.model import STATES, ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt, all_cells
from nianbao.rules import ahead
from nianbao.rules.frames import FmtArrays
from nianbao.rules.prose.claims import CATEGORIES, CHECK_OF, FEE, RULE_OF, cell_targets
from nianbao.rules.prose.numerals import normalise


@cache
def target_cells(fmt: Fmt) -> dict[str, tuple[str, ...]]:
    """kind → the table cells (canonical ids of format ``fmt``) a claim of that kind is checked against."""
    return {kind: tuple(c for c in all_cells(fmt) if re.search(pat, c)) for kind, pat in cell_targets().items()}


# the kinds of claim, in the order of the targets' columns (a claim's ``kind`` → its column)
KINDS: tuple[str, ...] = tuple(cell_targets())


@dataclass(frozen=True)
class Targets:
    """The tables' side of every claim: per (report, kind) — rows are batch positions, columns
    :data:`KINDS` — the sum of the kind's table cells (blank = 0), whether its table is there (no
    cell missing), the sum of the same cells' 自然人 column (NaN: no such column) and the line of
    the first (NaN: no location).  A report without the kind's cells is not ``present``."""

    table: np.ndarray  # float64
    present: np.ndarray  # bool
    natural: np.ndarray  # float64
    line: np.ndarray  # float64


def table_targets(arrays: Mapping[Fmt, FmtArrays]) -> Targets:
    """The :class:`Targets` of the batch's cell arrays: one numpy reduction per (format, kind)."""
    missing = STATES.index(State.MISSING)
    size = max((int(a.report.max()) + 1 for a in arrays.values() if a.report.size), default=0)
    shape = (size, len(KINDS))
    out = Targets(np.zeros(shape), np.zeros(shape, dtype=bool), np.full(shape, np.nan), np.full(shape, np.nan))
    for a in arrays.values():
        if a.values.shape[0] == 0:
            continue
        rows = a.report.astype(np.int64)
        for k, (cols, nat) in enumerate(_target_columns(a.ids)):
            if not cols:
                continue
            lines = a.lines[:, cols].astype(np.float64)
            lines[lines == 0] = np.inf  # 0: no location
            first_line = lines.min(axis=1)
            first_line[np.isinf(first_line)] = np.nan
            out.table[rows, k] = np.nansum(a.values[:, cols], axis=1)
            out.present[rows, k] = (a.states[:, cols] != missing).all(axis=1)
            if nat:
                out.natural[rows, k] = np.nansum(a.values[:, nat], axis=1)
            out.line[rows, k] = first_line
    return out


@cache
def _target_columns(ids: tuple[str, ...]) -> tuple[tuple[list[int], list[int]], ...]:
    """Per kind of :data:`KINDS`: the columns (of cell ids ``ids``) of its table cells, and of
    the same cells' 自然人 column."""
    out = []
    for pat in cell_targets().values():
        rx = re.compile(pat)
        nat_rx = re.compile(pat.replace(":total$", ":natural$")) if pat.endswith(":total$") else None
        cols = [j for j, c in enumerate(ids) if rx.search(c)]
        nat = [j for j, c in enumerate(ids) if nat_rx is not None and nat_rx.search(c)]
        out.append((cols, nat))
    return tuple(out)


def claim_checks(claims: pl.DataFrame, targets: Targets) -> pl.DataFrame:
    """The claims with their table values (the claims whose table is there): the frame the
    ``prose`` schema validates.  The table values are gathered by (report, kind) from the dense
    targets, no join."""
    kid = claims.get_column("kind").cast(pl.Enum(KINDS)).to_physical().to_numpy().astype(np.int64)
    rep = claims.get_column("report").to_numpy().astype(np.int64)
    inside = rep < targets.table.shape[0]
    rep_in = np.where(inside, rep, 0)
    present = inside & targets.present[rep_in, kid] if rep.size else inside
    rep_in, kid = rep_in[present], kid[present]
    rules = pl.Series([RULE_OF[k] for k in KINDS], dtype=pl.String)
    checks = pl.Series([CHECK_OF[k] for k in KINDS], dtype=pl.String)
    kid_s = pl.Series(kid, dtype=pl.UInt32)
    return claims.filter(pl.Series(present)).select(
        "report",
        "section",
        "line",
        "sent",
        "pos",
        "kind",
        rules.gather(kid_s).alias("rule"),
        checks.gather(kid_s).alias("check_kind"),
        pl.col("value").cast(pl.Float64).alias("stated"),
        pl.Series("table", targets.table[rep_in, kid]),
        pl.Series("natural", targets.natural[rep_in, kid], nan_to_null=True),
        pl.Series("table_line", targets.line[rep_in, kid], nan_to_null=True).cast(pl.UInt32),
    )


def paragraph_sums(claims: pl.DataFrame) -> pl.DataFrame:
    """The prose's own arithmetic per paragraph (line): H13 (categories vs handled), H14 (balance).

    A kind stated more than once in one paragraph makes it ambiguous: that paragraph is left out.
    """
    kinds = ["received", "carried", "handled", "forwarded", *CATEGORIES]
    sub = claims.filter(pl.col("kind").is_in(kinds))
    if sub.height == 0:
        return pl.DataFrame(
            schema={"report": pl.UInt32, "line": pl.UInt32, "section": pl.String, "sent": pl.Int64}
            | {k: pl.Int64 for k in kinds}
            | {"n_categories": pl.UInt32, "parts": pl.Int64}
        )
    # one group per paragraph (report, line), by a numeric key; per group and kind: how often the
    # kind is stated and its value (numpy, no group-by or pivot of strings)
    sub = sub.sort("report", "line", maintain_order=True)
    kid = sub.get_column("kind").cast(pl.Enum(kinds)).to_physical().to_numpy().astype(np.int64)
    key = (sub.get_column("report").to_numpy().astype(np.uint64) << np.uint64(32)) | sub.get_column(
        "line"
    ).to_numpy().astype(np.uint64)
    new_group = np.concatenate(([True], key[1:] != key[:-1]))
    starts = np.flatnonzero(new_group)
    gid = np.cumsum(new_group) - 1
    n = np.zeros((starts.size, len(kinds)), dtype=np.int64)
    np.add.at(n, (gid, kid), 1)
    value = np.zeros((starts.size, len(kinds)), dtype=np.int64)
    value[gid, kid] = sub.get_column("value").to_numpy()
    clear = (n <= 1).all(axis=1)  # no kind stated twice
    heads = sub[starts]
    wide = pl.DataFrame(
        {
            "report": heads.get_column("report"),
            "line": heads.get_column("line"),
            "section": heads.get_column("section"),
            "sent": np.minimum.reduceat(sub.get_column("sent").to_numpy(), starts),
        }
        | {k: pl.Series(k, value[:, j]).set(pl.Series(n[:, j] == 0), None) for j, k in enumerate(kinds)}
    ).filter(pl.Series(clear))
    return wide.with_columns(
        pl.sum_horizontal(pl.col(c).is_not_null() for c in CATEGORIES).alias("n_categories"),
        pl.sum_horizontal(pl.col(c) for c in CATEGORIES).alias("parts"),
    ).select("report", "line", "section", "sent", *kinds, "n_categories", "parts")


def fee_reports(reports: Sequence[ParsedReport]) -> list[int]:
    """The positions of the reports that must state the fee: readable, of the 2021 format, of 2021
    or later, with a section 六 (a part the parse workers compute ahead: :mod:`nianbao.rules.ahead`)."""
    f2021 = Fmt.F2021
    return [
        i
        for i, rep in enumerate(reports)
        if rep.fmt is f2021 and rep.readable and (rep.year is None or rep.year >= 2021) and "六" in rep.sections
    ]


def fee_frame(reg: ahead.Registered, fee: pl.DataFrame) -> pl.DataFrame:
    """One row per report of :func:`fee_reports`: where it states the fee (``fee``: the batch's
    lines that state it, :func:`fee_texts`)."""
    rows = ahead.position_parts(reg, "fee", fee_reports)
    base = pl.DataFrame({"report": pl.Series(rows, dtype=pl.UInt32)})
    in_six = fee.filter(pl.col("section") == "六").group_by("report").agg(pl.len().alias("n_six"))
    elsewhere = (
        fee.filter(pl.col("section") != "六")
        .sort("line")
        .group_by("report")
        .agg(pl.col("section").first().alias("other_section"), pl.col("line").first().alias("other_line"))
    )
    return (
        base.join(in_six, on="report", how="left")
        .join(elsewhere, on="report", how="left")
        .with_columns(
            (pl.col("n_six").fill_null(0) > 0).alias("in_six"),
            pl.col("other_line").is_not_null().alias("elsewhere"),
        )
        .select("report", "in_six", "elsewhere", "other_section", "other_line")
    )


def fee_texts(texts: pl.DataFrame) -> pl.Series:
    """The ids (``tid``) of the distinct texts that may state the fee: the lines :func:`fee_frame` reads."""
    fee = texts.filter(pl.col("text").str.contains("费", literal=True))
    return fee.filter(normalise(pl.col("text")).str.contains(FEE)).get_column("tid")
