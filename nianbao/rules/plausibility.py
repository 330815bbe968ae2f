"""Plausibility against peers and history (K) and copies of last year's report (L).

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

L01 — this year's tables are figure-for-figure last year's and the prose is near-identical with the
years masked: the report was re-published with only the year changed (内容雷同).

County and level come from the registry (by normalised name) when one is given, else from the
agency name (``示例县南川镇`` → county ``示例县``, level ``township``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from nianbao.catalogue import format_number
from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import Agency
from nianbao.domain.spec import Fmt, cell_label, table_name
from nianbao.outcome import Finding, finding_for
from nianbao.rules.base import failing_rows
from nianbao.rules.crossyear import YearPairs
from nianbao.rules.frames import FmtArrays
from schemas.plausibility import KEY_FIGURES, SIGMA_FLOOR, Z_MAX, copies_schema, plausibility_schema

_COUNTY = re.compile(r"^(.+?(?:自治县|自治旗|林区|特区|县|区|市|旗))(.+)$")
_TOWNSHIP = re.compile(r"(?:镇|乡|街道|街道办事处|苏木)$")


def infer_county_level(key: str) -> tuple[str | None, str | None]:
    """(county, level) from a normalised agency name; (None, None) when it names no county."""
    m = _COUNTY.match(key)
    if not m or len(m.group(2)) < 2:
        return None, None
    return m.group(1), "township" if _TOWNSHIP.search(m.group(2)) else "department"


def county_level(keys: Sequence[str], registry: Sequence[Agency] | None) -> list[tuple[str | None, str | None]]:
    known = {a.key: (a.county, a.level) for a in registry or ()}
    out: list[tuple[str | None, str | None]] = []
    for k in keys:
        out.append(known[k] if k in known else infer_county_level(k) if k else (None, None))
    return out


def _figures(cells: pl.DataFrame) -> pl.DataFrame:
    return cells.filter(pl.col("cell").is_in(list(KEY_FIGURES)) & pl.col("value").is_not_null()).select(
        "report", pl.col("cell").alias("figure"), "value"
    )


def plausibility_frame(
    yp: YearPairs, cells: pl.DataFrame, groups: Sequence[tuple[str | None, str | None]]
) -> pl.DataFrame:
    """One row per (batch report, key figure) with its peer statistics and last year's value."""
    n = yp.n
    meta = pl.DataFrame(
        {
            "report": pl.Series(range(n), dtype=pl.UInt32),
            "county": pl.Series([g[0] for g in groups[:n]], dtype=pl.String),
            "level": pl.Series([g[1] for g in groups[:n]], dtype=pl.String),
            "year": pl.Series([r.year if r.readable else None for r in yp.reports[:n]], dtype=pl.Int32),
        }
    )
    figs = _figures(cells)
    this = figs.filter(pl.col("report") < n).join(meta, on="report", how="left")
    # peers with activity: many townships have none of a kind (no fees, no applications), and a
    # distribution that is mostly zeros says nothing about how large a non-zero figure may be
    grouped = this.filter(pl.col("county").is_not_null() & pl.col("year").is_not_null() & (pl.col("value") > 0))
    key = ["county", "level", "year", "figure"]
    lg = pl.col("value").log1p()
    stats = grouped.with_columns(lg.alias("lg")).with_columns(
        pl.col("lg").median().over(key).alias("med"),
        pl.len().over(key).alias("n"),
    )
    stats = stats.with_columns((pl.col("lg") - pl.col("med")).abs().median().over(key).alias("mad"))
    # peers' range without the report itself: the two smallest and two largest of the group
    ranked = stats.with_columns(
        pl.col("value").rank("ordinal").over(key).alias("rk_lo"),
        pl.col("value").rank("ordinal", descending=True).over(key).alias("rk_hi"),
    )
    lo = ranked.filter(pl.col("rk_lo") <= 2).group_by(key).agg(pl.col("value").sort().alias("lo2"))
    hi = ranked.filter(pl.col("rk_hi") <= 2).group_by(key).agg(pl.col("value").sort(descending=True).alias("hi2"))
    sigma = pl.max_horizontal(1.4826 * pl.col("mad"), pl.lit(SIGMA_FLOOR))
    peers = (
        ranked.join(lo, on=key, how="left")
        .join(hi, on=key, how="left")
        .with_columns(
            (pl.col("n") - 1).cast(pl.UInt32).alias("peers"),
            (pl.col("med").exp() - 1).alias("median"),
            ((pl.col("med") + Z_MAX * sigma).exp() - 1).alias("upper"),
            pl.when(pl.col("rk_lo") == 1)
            .then(pl.col("lo2").list.get(1, null_on_oob=True))
            .otherwise(pl.col("lo2").list.get(0, null_on_oob=True))
            .alias("peer_min"),
            pl.when(pl.col("rk_hi") == 1)
            .then(pl.col("hi2").list.get(1, null_on_oob=True))
            .otherwise(pl.col("hi2").list.get(0, null_on_oob=True))
            .alias("peer_max"),
        )
        .select("report", "figure", "peers", "median", "upper", "peer_min", "peer_max")
    )
    last = yp.pairs.join(figs.rename({"report": "prev", "value": "previous"}), on="prev", how="inner").select(
        "report", "figure", "prev", "previous"
    )
    floors = pl.DataFrame({"figure": list(KEY_FIGURES), "floor": list(KEY_FIGURES.values())})
    return (
        this.select("report", "figure", "value")
        .join(floors, on="figure", how="left")
        .join(peers, on=["report", "figure"], how="left")
        .join(last, on=["report", "figure"], how="left")
        .select(
            "report", "figure", "value", "floor", "peers", "median", "upper", "peer_min", "peer_max", "prev", "previous"
        )
        .sort("report", "figure")
    )


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    if abs(v) >= 100 or v == int(v):
        return format_number(float(round(v)))
    return format_number(round(v, 2))


def plausibility_findings(yp: YearPairs, frame: pl.DataFrame) -> list[Finding]:
    out: list[Finding] = []
    for d in failing_rows(plausibility_schema(), frame):
        ri = d["report"]
        rep = yp.reports[ri]
        code = d["check"]
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


# ------------------------------------------------------------------ L: copies


def figure_hashes(arrays: Mapping[Fmt, FmtArrays], offset: int = 0) -> pl.DataFrame:
    """Per report: a hash of all its table figures (blank ≠ 0) and whether any figure is non-zero.

    Equal hashes are confirmed figure by figure where they matter (:func:`same_figures`)."""
    parts = []
    for fmt, a in arrays.items():
        if a.values.shape[0] == 0:
            continue
        vals = np.where(np.isnan(a.values), -1.5, a.values)  # a blank is not a 0
        h = pl.from_numpy(vals).hash_rows(seed=20231231)
        nonzero = np.nansum(np.abs(a.values), axis=1) > 0
        parts.append(
            pl.DataFrame(
                {
                    "report": pl.Series(a.report.astype(np.int64) + offset, dtype=pl.UInt32),
                    "fmt": pl.Series([fmt.value] * len(a.report), dtype=pl.String),
                    "hash": h,
                    "nonzero": pl.Series(nonzero, dtype=pl.Boolean),
                }
            )
        )
    if not parts:
        return pl.DataFrame(schema={"report": pl.UInt32, "fmt": pl.String, "hash": pl.UInt64, "nonzero": pl.Boolean})
    return pl.concat(parts)


def same_figures(a: ParsedReport, b: ParsedReport) -> bool:
    """Figure-for-figure equality of two reports' tables (blank ≠ 0); same format only.  Tables of
    which not one figure was read (missing, blank or unreadable) are never "the same": there is
    nothing to compare."""
    if a.fmt is not b.fmt or a.fmt is None:
        return False
    va, *_ = a.cells.arrays()
    vb, *_ = b.cells.arrays()
    x = np.frombuffer(va, dtype=np.float64)
    y = np.frombuffer(vb, dtype=np.float64)
    nx = np.isnan(x)
    if nx.all():
        return False
    return bool(np.array_equal(nx, np.isnan(y)) and np.array_equal(np.nan_to_num(x), np.nan_to_num(y)))


_YEAR = re.compile(r"(?:19|20)\d{2}")
MIN_PROSE = 200  # characters of prose (years masked) below which two texts are not compared (L01)


def prose_text(rep: ParsedReport) -> str:
    """All the report's prose with years masked (a copy changes only the years)."""
    return _YEAR.sub("YYYY", re.sub(r"\s+", "", rep.sections.joined()))


def similarity(a: str, b: str, k: int = 4) -> float:
    """Near-identity of two texts: Jaccard overlap of their character k-grams (order-insensitive at
    the scale of a paragraph; 1.0 when only the masked years differ).  An empty text is like no other
    (0.0): two reports whose prose was not read are not "identical"."""
    if not a or not b:
        return 0.0
    sa = {a[i : i + k] for i in range(max(1, len(a) - k + 1))}
    sb = {b[i : i + k] for i in range(max(1, len(b) - k + 1))}
    return len(sa & sb) / len(sa | sb)


def copies_frame(yp: YearPairs, hashes: pl.DataFrame) -> pl.DataFrame:
    """Pairs whose figures are identical (same format), with their prose similarity."""
    h = hashes.select("report", "fmt", "hash")
    same = (
        yp.pairs.join(h, on="report", how="inner")
        .join(h.rename({"report": "prev", "fmt": "prev_fmt", "hash": "prev_hash"}), on="prev", how="inner")
        .filter((pl.col("fmt") == pl.col("prev_fmt")) & (pl.col("hash") == pl.col("prev_hash")))
        .select("report", "prev")
    )
    pairs: list[tuple[int, int]] = []
    sims: list[float] = []
    for r, p in same.iter_rows():
        if not same_figures(yp.reports[r], yp.reports[p]):
            continue
        a, b = prose_text(yp.reports[r]), prose_text(yp.reports[p])
        if min(len(a), len(b)) < MIN_PROSE:
            continue  # too little prose read to say the texts are the same
        pairs.append((r, p))
        sims.append(similarity(a, b))
    return pl.DataFrame(
        {
            "report": pl.Series([r for r, _p in pairs], dtype=pl.UInt32),
            "prev": pl.Series([p for _r, p in pairs], dtype=pl.UInt32),
            "same_figures": pl.Series([True] * len(pairs), dtype=pl.Boolean),
            "similarity": pl.Series(sims, dtype=pl.Float64),
        }
    )


def copy_findings(yp: YearPairs, frame: pl.DataFrame) -> list[Finding]:
    out: list[Finding] = []
    for d in failing_rows(copies_schema(), frame):
        ri = d["report"]
        rep, prev = yp.reports[ri], yp.reports[d["prev"]]
        sim = math.floor(d["similarity"] * 1000) / 1000
        params = {"prev_year": prev.year, "prev_file": prev.file, "similarity": f"{sim:.3f}"}
        out.append(
            finding_for(
                "L01",
                rep,
                ri,
                cells=[],
                expected="与上年不同的本年度内容",
                actual=f"与 {prev.year} 年度报告雷同（相似度 {sim:.3f}）",
                params=params,
                line=rep.title_line,
            )
        )
    return out
