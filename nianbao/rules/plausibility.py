"""Plausibility against peers and history (K).

K01 — a key figure far above its peers: same county, same level, same year; robust statistics on
the log scale (``log1p``: township volumes differ by multiples, not by amounts) — median and the
median absolute deviation (MAD), never mean/SD, so a few large townships do not hide an outlier.
The statistics are taken over the peers with a non-zero figure (many townships have no fees or no
applications at all; a mostly-zero group says nothing about how large a non-zero figure may be).
A figure is flagged only with at least ``MIN_PEERS`` other such agencies in its group and at or
above the figure's "meaningful volume" floor.  Only the high side is flagged: a township with few
cases is common, an order of magnitude too many is the typo/unit error worth a look.

K02 — the same agency's figure changed to ≥ ×5 or ≤ ×0.2 of last year's (on values + 1), at a
meaningful volume.

County and level come from the registry (by normalised name) when one is given, else from the
agency name (``示例县南川镇`` → county ``示例县``, level ``township``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from nianbao.catalogue import format_number
from nianbao.domain.registry import Agency
from nianbao.domain.spec import Fmt, cell_label, table_name
from nianbao.outcome import Finding, finding_for
from nianbao.rules.base import failing_rows, with_reports
from nianbao.rules.family import Batch, Family
from nianbao.rules.frames import FmtArrays, cell_values
from nianbao.rules.years import YearPairs
from schemas.plausibility import KEY_FIGURES, PLAUSIBILITY_RULES, SIGMA_FLOOR, Z_MAX, plausibility_schema

_COUNTY = re.compile(r"^(.+?(?:自治县|自治旗|林区|特区|县|区|市|旗))(.+)$")
# a township's name ends with one of these (the rest of a name after its county holds no line
# break: ``str.endswith`` is the regex ``(?:镇|乡|街道|街道办事处|苏木)$`` on it)
_TOWNSHIP = ("镇", "乡", "街道", "街道办事处", "苏木")


def infer_county_level(key: str) -> tuple[str | None, str | None]:
    """(county, level) from a normalised agency name; (None, None) when it names no county."""
    m = _COUNTY.match(key)
    if m is None:
        return None, None
    county, rest = m.groups()
    if len(rest) < 2:
        return None, None
    return county, "township" if rest.endswith(_TOWNSHIP) else "department"


def county_level(keys: pl.Series, registry: Sequence[Agency] | None) -> pl.DataFrame:
    """Each key's (county, level) as two String columns: the registry's for a registered key, else
    :func:`infer_county_level`'s (null for an empty key), for every key at once."""
    rest = pl.col("m").struct.field("2")
    inferred = (
        keys.rename("key")
        .to_frame()
        .with_columns(pl.col("key").str.extract_groups(_COUNTY.pattern).alias("m"))
        .with_columns(pl.when(rest.str.len_chars() >= 2).then(pl.col("m")).alias("m"))
        .select(
            "key",
            pl.col("m").struct.field("1").alias("county"),
            pl.when(pl.col("m").is_null())
            .then(None)
            .when(pl.any_horizontal(rest.str.ends_with(t) for t in _TOWNSHIP))
            .then(pl.lit("township"))
            .otherwise(pl.lit("department"))
            .alias("level"),
        )
    )
    if not registry:
        return inferred.drop("key")
    known: dict[str, tuple[str, str]] = {}
    for a in registry:  # (the last entry of a key, as a dict of them keeps it)
        known[a.key] = (a.county, a.level)
    reg = pl.DataFrame(
        {"key": list(known), "rc": [c for c, _ in known.values()], "rl": [lv for _, lv in known.values()]},
        schema=dict.fromkeys(("key", "rc", "rl"), pl.String),
    )
    return inferred.join(reg, on="key", how="left", maintain_order="left").select(
        pl.coalesce("rc", "county").alias("county"),  # (a registered agency has both)
        pl.when(pl.col("rc").is_null()).then("level").otherwise("rl").alias("level"),
    )


# the key figures as a categorical column, its categories in the figures' own sorted order
_FIGURE = pl.Enum(sorted(KEY_FIGURES))


def _figures(arrays: Sequence[FmtArrays]) -> pl.DataFrame:
    """(report, figure, value) of every key figure a report has a value for."""
    wide = cell_values(arrays, list(KEY_FIGURES))
    return (
        wide.unpivot(index="report", on=list(KEY_FIGURES), variable_name="figure", value_name="value")
        .filter(pl.col("value").is_not_null())
        .select("report", pl.col("figure").cast(_FIGURE), "value")
    )


def plausibility_frame(yp: YearPairs, arrays: Sequence[FmtArrays], groups: pl.DataFrame) -> pl.DataFrame:
    """One row per (batch report, key figure) that may break a rule — its value or last year's at
    or above the figure's floor (below it both rules hold: :data:`PLAUSIBILITY_RULES`) — with its
    peer statistics (over every figure of its group) and last year's value."""
    n = yp.n
    meta = groups.head(n).select(
        pl.int_range(n, dtype=pl.UInt32).alias("report"),
        # the peer group: county and level; none without a county
        pl.when(pl.col("county").is_not_null())
        .then(pl.concat_str("county", pl.col("level").fill_null(""), separator="\x00"))
        .alias("group"),
        pl.Series("year", [r.year if r.status == "validated" else None for r in yp.reports[:n]], dtype=pl.Int32),
    )
    figs = _figures(arrays)
    this = figs.filter(pl.col("report") < n).join(meta, on="report", how="left").lazy()
    # peers with activity: many townships have none of a kind (no fees, no applications), and a
    # distribution that is mostly zeros says nothing about how large a non-zero figure may be
    active = pl.col("group").is_not_null() & pl.col("year").is_not_null() & (pl.col("value") > 0)
    key = ["group", "year", "figure"]
    lg = pl.col("value").log1p()
    # per group: median and MAD on the log scale, and its two smallest and two largest figures
    stats = (
        this.filter(active)
        .group_by(key)
        .agg(
            lg.median().alias("med"),
            pl.len().alias("n"),
            (lg - lg.median()).abs().median().alias("mad"),
            pl.col("value").bottom_k(2).sort().alias("lo2"),
            pl.col("value").top_k(2).sort(descending=True).alias("hi2"),
        )
    )
    last = yp.pairs.lazy().join(figs.lazy().rename({"report": "prev", "value": "previous"}), on="prev", how="inner")
    floors = pl.DataFrame({"figure": pl.Series(list(KEY_FIGURES), dtype=_FIGURE), "floor": list(KEY_FIGURES.values())})
    # the figures that may break a rule: K01 needs the value at or above the floor, K02 the value
    # or last year's (at 100,000 reports ~75 % of the figures are below: no peers joined to them)
    cand = (
        this.join(floors.lazy(), on="figure", how="left")
        .join(last.select("report", "figure", "prev", "previous"), on=["report", "figure"], how="left")
        .filter((pl.col("value") >= pl.col("floor")) | (pl.col("previous") >= pl.col("floor")))
        .collect()
    )
    sigma = pl.max_horizontal(1.4826 * pl.col("mad"), pl.lit(SIGMA_FLOOR))
    # the peers' range without the report itself: the group's extreme unless the report is it
    lo0, lo1 = pl.col("lo2").list.get(0, null_on_oob=True), pl.col("lo2").list.get(1, null_on_oob=True)
    hi0, hi1 = pl.col("hi2").list.get(0, null_on_oob=True), pl.col("hi2").list.get(1, null_on_oob=True)
    peers = (
        cand.lazy()
        .filter(active)
        .join(stats, on=key, how="left")
        .with_columns(
            (pl.col("n") - 1).cast(pl.UInt32).alias("peers"),
            (pl.col("med").exp() - 1).alias("median"),
            ((pl.col("med") + Z_MAX * sigma).exp() - 1).alias("upper"),
            pl.when(pl.col("value") == lo0).then(lo1).otherwise(lo0).alias("peer_min"),
            pl.when(pl.col("value") == hi0).then(hi1).otherwise(hi0).alias("peer_max"),
        )
        .select("report", "figure", "peers", "median", "upper", "peer_min", "peer_max")
    )
    return (
        cand.lazy()
        .join(peers, on=["report", "figure"], how="left")
        # by report, then figure (the categories' order is the figures' sorted order), as one
        # number: a sort on two columns encodes each row first (twice the time at 500,000 rows)
        .sort(pl.col("report").cast(pl.UInt64) * len(KEY_FIGURES) + pl.col("figure").to_physical().cast(pl.UInt64))
        .select(
            "report",
            pl.col("figure").cast(pl.String),
            "value",
            "floor",
            "peers",
            "median",
            "upper",
            "peer_min",
            "peer_max",
            "prev",
            "previous",
        )
        .collect()
    )


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    if abs(v) >= 100 or v == int(v):
        return format_number(float(round(v)))
    return format_number(round(v, 2))


def findings_of(yp: YearPairs, frame: pl.DataFrame) -> list[Finding]:
    """The findings of the failing rows of the plausibility frame."""
    out: list[Finding] = []
    for ri, rep, code, d in with_reports(yp.reports, failing_rows(plausibility_schema(), frame)):
        fig = d["figure"]
        fmt = rep.fmt or Fmt.F2021
        label = f"{table_name(fig[0])}“{cell_label(fmt, fig)}”"
        value = d["value"]
        params: dict[str, object] = {"cell_label": label, "actual": _fmt(value)}
        if code == "K01":
            params |= {
                "peers": d["peers"],
                # a median (or fence) of counts is a count: 44.17 件 reads as a mistake; amounts keep decimals
                "median": _fmt(d["median"] if fig.endswith(":amount") else float(round(d["median"]))),
                "upper": _fmt(d["upper"] if fig.endswith(":amount") else float(round(d["upper"]))),
                "peer_min": _fmt(d["peer_min"]),
                "peer_max": _fmt(d["peer_max"]),
            }
            expected: object = f"≤ {params['upper']}"
        else:
            prev = yp.reports[d["prev"]]
            ratio = (value + 1) / (d["previous"] + 1)
            params |= {
                "prev_year": prev.year,
                "previous": _fmt(d["previous"]),
                "ratio": f"{ratio:.1f}" if ratio >= 1 else f"{ratio:.2f}",
            }
            expected = f"{_fmt(d['previous'] * 0.2)}–{_fmt((d['previous'] + 1) * 5 - 1)}"
        cell = rep.cells.get(fig)
        out.append(
            finding_for(
                code,
                rep,
                ri,
                cells=[fig],
                expected=expected,
                actual=int(value) if value == int(value) else value,
                params=params,
                line=cell.line if cell is not None else None,
            )
        )
    return out


def plausibility_findings(batch: Batch) -> list[Finding]:
    """K01 against the report's peers (same county, level and year), K02 against its last year."""
    yp = batch.year_pairs
    groups = county_level(yp.keys, batch.registry)
    return findings_of(yp, plausibility_frame(yp, batch.arrays_with_last_year, groups))


FAMILY = Family(
    "plausibility",
    lambda: frozenset(PLAUSIBILITY_RULES),
    plausibility_findings,
    reads=frozenset({"year_pairs", "arrays_with_last_year"}),
    timing="plausibility",
    beside=True,  # mostly polars: beside the Python-bound families (nianbao.validate.batch)
)
