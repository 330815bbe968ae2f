"""The frames the prose schemas validate (:mod:`schemas.prose`): claims against the tables (H01–H18),
the prose's own arithmetic per paragraph (H13, H14), and where the fee statement is (J01, J02).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np
import polars as pl

from nianbao.domain.model import STATES, ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt, all_cells
from nianbao.rules.frames import FmtArrays
from nianbao.rules.prose.claims import CATEGORIES, CHECK_OF, FEE, RULE_OF, cell_targets
from nianbao.rules.prose.numerals import normalise


@cache
def target_cells(fmt: Fmt) -> dict[str, tuple[str, ...]]:
    """kind → the table cells (canonical ids of format ``fmt``) a claim of that kind is checked against."""
    return {kind: tuple(c for c in all_cells(fmt) if re.search(pat, c)) for kind, pat in cell_targets().items()}


def table_targets(arrays: Mapping[Fmt, FmtArrays]) -> pl.DataFrame:
    """Per (report, kind): the sum of the kind's table cells (blank = 0), whether its table is there
    (no cell missing), the sum of the same cells' 自然人 column (for the hint), the line
    of the first — computed on the batch's cell arrays, one numpy reduction per kind."""
    missing = STATES.index(State.MISSING)
    parts: list[pl.DataFrame] = []
    for a in arrays.values():
        if a.values.shape[0] == 0:
            continue
        ids = list(a.ids)
        for kind, pat in cell_targets().items():
            rx = re.compile(pat)
            cols = [j for j, c in enumerate(ids) if rx.search(c)]
            if not cols:
                continue
            nat_rx = re.compile(pat.replace(":total$", ":natural$")) if pat.endswith(":total$") else None
            nat = [j for j, c in enumerate(ids) if nat_rx is not None and nat_rx.search(c)]
            v = a.values[:, cols]
            lines = a.lines[:, cols].astype(np.float64)
            lines[lines == 0] = np.inf  # 0: no location
            first_line = lines.min(axis=1)
            first_line[np.isinf(first_line)] = np.nan
            parts.append(
                pl.DataFrame(
                    {
                        "report": pl.Series(a.report, dtype=pl.UInt32),
                        "kind": pl.Series([kind] * len(a.report), dtype=pl.String),
                        "table": np.nansum(v, axis=1),
                        "present": (a.states[:, cols] != missing).all(axis=1),
                        "natural": np.nansum(a.values[:, nat], axis=1) if nat else np.full(len(a.report), np.nan),
                        "table_line": pl.Series(first_line, nan_to_null=True).cast(pl.UInt32),
                    }
                ).with_columns(pl.col("natural").fill_nan(None))
            )
    if not parts:
        return pl.DataFrame(
            schema={
                "report": pl.UInt32,
                "kind": pl.String,
                "table": pl.Float64,
                "present": pl.Boolean,
                "natural": pl.Float64,
                "table_line": pl.UInt32,
            }
        )
    return pl.concat(parts)


def claim_checks(claims: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """The claims joined with their table values: the frame the ``prose`` schema validates."""
    return (
        claims.join(targets, on=["report", "kind"], how="inner")
        .filter(pl.col("present"))
        .with_columns(
            pl.col("kind").replace_strict(RULE_OF).alias("rule"),
            pl.col("kind").replace_strict(CHECK_OF).alias("check_kind"),
            pl.col("value").cast(pl.Float64).alias("stated"),
        )
        .select(
            "report",
            "section",
            "line",
            "sent",
            "pos",
            "kind",
            "rule",
            "check_kind",
            "stated",
            "table",
            "natural",
            "table_line",
        )
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
    counts = sub.group_by("report", "line", "kind").agg(pl.len().alias("n"), pl.col("value").first())
    ambiguous = counts.filter(pl.col("n") > 1).select("report", "line").unique()
    first = sub.group_by("report", "line").agg(pl.col("section").first(), pl.col("sent").min())
    wide = (
        counts.join(ambiguous, on=["report", "line"], how="anti")
        .pivot(on="kind", index=["report", "line"], values="value", on_columns=kinds)
        .join(first, on=["report", "line"], how="left")
    )
    return wide.with_columns(
        pl.sum_horizontal(pl.col(c).is_not_null() for c in CATEGORIES).alias("n_categories"),
        pl.sum_horizontal(pl.col(c) for c in CATEGORIES).alias("parts"),
    ).select("report", "line", "section", "sent", *kinds, "n_categories", "parts")


def fee_frame(reports: Sequence[ParsedReport], fee: pl.DataFrame) -> pl.DataFrame:
    """One row per 2021-format report of 2021 or later that has a section 六: where it states the fee
    (``fee``: the batch's lines that state it, :func:`fee_texts`)."""
    rows = [
        (i, rep.year)
        for i, rep in enumerate(reports)
        if rep.readable and rep.fmt is Fmt.F2021 and (rep.year is None or rep.year >= 2021) and "六" in rep.sections
    ]
    base = pl.DataFrame(rows, schema={"report": pl.UInt32, "year": pl.Int32}, orient="row")
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
