"""The batch as a whole, with Great Expectations (rules M): the run's submission table.

One row per submission (agency, year, format, content hash, key totals) and, with a registry, one
row per expected (agency, year): every registered agency submitted exactly once per year of its
county in this run, no agency outside the registry, years and formats as expected, no identical
content across agencies, key totals within plausible bounds.  The facts per row are computed in
polars; Great Expectations evaluates the expectations in-process on a file data context under
the run's output folder (``DIR/gx/``), keeps the suite and results, and builds its Data Docs there,
made readable offline (its pages load CSS/JS from CDNs and a tracking image: those are removed).

GX is imported only when this step runs (its import costs seconds); analytics are off
(``GX_ANALYTICS_ENABLED=False`` and the context config), progress bars off, its warnings and output
kept off the console.  Each failed expectation row becomes a :class:`~nianbao.outcome.Finding`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from nianbao.catalogue import format_number, rule
from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import Agency
from nianbao.domain.spec import Fmt, cell_label, table_name
from nianbao.outcome import Finding
from nianbao.rules.copies import figure_hashes
from nianbao.rules.family import BATCH_CHECKS, Family, fixed_codes
from nianbao.rules.frames import batch_arrays
from nianbao.rules.plausibility import county_level
from nianbao.rules.years import agency_key, agency_keys

# key totals and their plausible upper bounds (rule M08)
BOUNDS: dict[str, float] = {
    "3:1:total": 10_000,
    "2:licensing:decisions": 100_000,
    "2:penalty:decisions": 100_000,
    "2:coercion:decisions": 100_000,
    "2:fees:amount": 100_000,  # 万元
    "4:review:total": 1_000,
    "4:suit_direct:total": 1_000,
    "4:suit_after_review:total": 1_000,
}
BATCH_RULES = ("M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08")  # the rules this step checks
NOT_RUN = "未运行批次检查（Great Expectations）"
FIRST_YEAR = 2008  # the first year of annual reports (《政府信息公开条例》 2007 年公布、2008 年施行)
SUITE = "nianbao_batch"


@dataclass
class BatchResult:
    findings: list[Finding]
    docs: Path | None = None  # the Data Docs index
    skipped: dict[str, str] = field(default_factory=dict)  # rule code -> why it did not run
    statistics: dict[str, Any] = field(default_factory=dict)


def _col(name: str) -> str:
    return "f_" + re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_")


_STEM_YEAR = re.compile(r"[_\-\s]*(?:19|20)\d{2}(?:年度?)?.*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def filed_as(file: str, title_key: str, renames: Mapping[str, str]) -> str:
    """The agency a file is filed as: its name (``示例县南川镇_2023.txt``) when that names one, else
    the title's.  Identical content filed as two agencies is one agency's report handed in twice."""
    stem = Path(file).name.rsplit(".", 1)[0]
    stem = _STEM_YEAR.sub("", stem)
    if not _CJK.search(stem):
        return title_key
    return agency_key(stem, renames) or title_key


def submission_table(
    reports: Sequence[ParsedReport],
    renames: Mapping[str, str] | None = None,
    registry: Sequence[Agency] | None = None,
) -> pl.DataFrame:
    """One row per readable submission that names its agency and year."""
    renames = renames or {}
    key_series = agency_keys([r.agency if r.readable else None for r in reports], renames)
    keys = key_series.to_list()
    groups = county_level(key_series, registry)
    counties, levels = groups["county"].to_list(), groups["level"].to_list()
    rows = [
        (
            i,
            r.file,
            r.agency,
            keys[i],
            filed_as(r.file, keys[i], renames),
            counties[i],
            levels[i],
            r.year,
            r.fmt.value if r.fmt else None,
            r.sha256,
        )
        for i, r in enumerate(reports)
        if r.readable and keys[i] and r.year is not None
    ]
    base = pl.DataFrame(
        rows,
        schema={
            "row": pl.Int64,
            "file": pl.String,
            "agency": pl.String,
            "key": pl.String,
            "filed_as": pl.String,
            "county": pl.String,
            "level": pl.String,
            "year": pl.Int64,
            "format": pl.String,
            "sha256": pl.String,
        },
        orient="row",
    )
    arrays = batch_arrays(reports)
    # the bounded figures, straight from the cell arrays (no long frame of every cell)
    parts = []
    for a in arrays.values():
        n = a.values.shape[0]
        if n == 0:
            continue
        cols: dict[str, pl.Series] = {"row": pl.Series("row", a.report, dtype=pl.Int64)}
        for c in BOUNDS:
            if c in a.ids:
                cols[_col(c)] = pl.Series(_col(c), a.values[:, a.column(c)], dtype=pl.Float64, nan_to_null=True)
            else:
                cols[_col(c)] = pl.Series(_col(c), [None] * n, dtype=pl.Float64)
        parts.append(pl.DataFrame(cols))
    figs = (
        pl.concat(parts, how="vertical")
        if parts
        else pl.DataFrame(schema={"row": pl.Int64, **{_col(c): pl.Float64 for c in BOUNDS}})
    )
    hashes = figure_hashes(arrays).with_columns(pl.col("report").cast(pl.Int64).alias("row"))
    out = (
        base.join(figs, on="row", how="left")
        .join(hashes.select("row", "hash", "nonzero"), on="row", how="left")
        .with_columns(
            pl.col("filed_as").n_unique().over("sha256").alias("agencies_same_content"),
            pl.when(pl.col("nonzero"))
            .then(pl.col("key").n_unique().over("year", "format", "hash"))
            .otherwise(1)
            .alias("agencies_same_figures"),
            pl.len().over("key", "year").alias("submissions_same_year"),
        )
    )
    return out


def expected_table(
    subs: pl.DataFrame,
    registry: Sequence[Agency],
    renames: Mapping[str, str],
    expected_years: Sequence[int] | None = None,
) -> pl.DataFrame:
    """Registry × the years expected of its county, with how many submissions each (agency, year) has.

    The expected years are ``expected_years`` when given; else, per county, the years for which at
    least half of its registered agencies submitted in this run (one stray old report does not
    make every township "missing" for that year); a county that submitted nothing is expected for
    every such year of the run."""
    reg = pl.DataFrame(
        {
            "county": [a.county for a in registry],
            "agency": [a.agency for a in registry],
            "key": [agency_key(a.agency, renames) for a in registry],
        },
        schema={"county": pl.String, "agency": pl.String, "key": pl.String},
    ).unique(subset=["key"], keep="first", maintain_order=True)
    if expected_years:
        county_years = (
            reg.select("county")
            .unique()
            .join(pl.DataFrame({"year": sorted(expected_years)}, schema={"year": pl.Int64}), how="cross")
        )
    else:
        size = reg.group_by("county").agg(pl.len().alias("registered"))
        county_years = (
            subs.join(reg.select("key", pl.col("county").alias("reg_county")), on="key", how="inner")
            .group_by("reg_county", "year")
            .agg(pl.col("key").n_unique().alias("n"))
            .rename({"reg_county": "county"})
            .join(size, on="county", how="left")
            .filter(pl.col("n") * 2 >= pl.col("registered"))
            .select("county", "year")
        )
    all_years = county_years.select("year").unique()
    with_years = reg.join(county_years, on="county", how="inner")
    without = reg.join(county_years.select("county").unique(), on="county", how="anti").join(all_years, how="cross")
    counts = subs.group_by("key", "year").agg(pl.len().alias("n_submitted"))
    return (
        pl.concat([with_years, without.select(with_years.columns)])
        .join(counts, on=["key", "year"], how="left")
        .with_columns(pl.col("n_submitted").fill_null(0).cast(pl.Int64))
        .sort("county", "agency", "year")
        .with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64))
    )


# ------------------------------------------------------------------ Great Expectations


@contextlib.contextmanager
def _quiet() -> Any:
    """GX in-process without console noise: no warnings, no progress bars, no log lines."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    logger = logging.getLogger("great_expectations")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            logger.setLevel(level)


def _context(gx_dir: Path) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    root = gx_dir / "gx"
    if (root / "great_expectations.yml").exists():
        shutil.rmtree(root)  # a rerun into the same output folder starts afresh
    gx_dir.mkdir(parents=True, exist_ok=True)
    ctx = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    ctx.enable_analytics(False)  # also saves the config: analytics_enabled: false
    return ctx


def _expectations(
    registry_keys: Sequence[str] | None, expected_years: Sequence[int] | None
) -> dict[str, list[tuple[str, Any]]]:
    """asset -> [(rule code, expectation)], the suite of the batch checks."""
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    e = gx.expectations

    def meta(code: str) -> dict[str, str]:
        return {"nianbao_rule": code, "title": rule(code).title}

    subs: list[tuple[str, Any]] = [
        ("M02", e.ExpectCompoundColumnsToBeUnique(column_list=["key", "year"], meta=meta("M02"))),
        ("M04", e.ExpectColumnValuesToBeBetween(column="agencies_same_content", max_value=1, meta=meta("M04"))),
        ("M05", e.ExpectColumnValuesToBeBetween(column="agencies_same_figures", max_value=1, meta=meta("M05"))),
        (
            "M07",
            e.ExpectColumnValuesToBeInSet(
                column="format", value_set=["2019"], row_condition=Column("year") <= 2020, meta=meta("M07")
            ),
        ),
    ]
    if expected_years:
        years = sorted(expected_years)
        subs.append(("M06", e.ExpectColumnValuesToBeInSet(column="year", value_set=years, meta=meta("M06"))))
    else:
        subs.append(
            (
                "M06",
                e.ExpectColumnValuesToBeBetween(
                    column="year", min_value=FIRST_YEAR, max_value=date.today().year, meta=meta("M06")
                ),
            )
        )
    for cell, upper in BOUNDS.items():
        subs.append(("M08", e.ExpectColumnValuesToBeBetween(column=_col(cell), max_value=upper, meta=meta("M08"))))
    out: dict[str, list[tuple[str, Any]]] = {"submissions": subs}
    if registry_keys is not None:
        subs.append(
            ("M03", e.ExpectColumnValuesToBeInSet(column="key", value_set=list(registry_keys), meta=meta("M03")))
        )
        out["expected"] = [
            ("M01", e.ExpectColumnValuesToBeBetween(column="n_submitted", min_value=1, meta=meta("M01")))
        ]
    return out


def run_expectations(
    gx_dir: Path,
    tables: Mapping[str, pl.DataFrame],
    registry_keys: Sequence[str] | None,
    expected_years: Sequence[int] | None,
) -> tuple[dict[str, list[tuple[str, dict[str, Any]]]], Path | None]:
    """Validate each table with its expectations in a file data context; build the Data Docs.

    Returns, per table, (rule code, result dict) of every expectation, and the docs index."""
    import great_expectations as gx

    ctx = _context(gx_dir)
    ds = ctx.data_sources.add_or_update_pandas("nianbao")
    plan = _expectations(registry_keys, expected_years)
    results: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, exps in plan.items():
        df = tables[name]
        asset = ds.add_dataframe_asset(name)
        bd = asset.add_batch_definition_whole_dataframe(name)
        suite = gx.ExpectationSuite(name=f"{SUITE}_{name}")
        for _code, exp in exps:
            suite.add_expectation(exp)
        suite = ctx.suites.add(suite)
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"{SUITE}_{name}", data=bd, suite=suite))
        cp = ctx.checkpoints.add(
            gx.Checkpoint(
                name=f"{SUITE}_{name}",
                validation_definitions=[vd],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="docs")],
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row"]},
            )
        )
        res = cp.run(batch_parameters={"dataframe": df.to_pandas()})
        out: list[tuple[str, dict[str, Any]]] = []
        for vr in res.run_results.values():
            for r in vr.results:
                code = (r.expectation_config.meta or {}).get("nianbao_rule", "")
                column = r.expectation_config.kwargs.get("column")
                out.append((code, {"success": bool(r.success), "result": dict(r.result), "column": column}))
        results[name] = out
    index = gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    if index.exists():
        make_offline(index.parent)
        return results, index
    return results, None


_EXTERNAL = re.compile(
    r"<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*[\"']https?://[^>]*>(?:\s*</script>)?", re.IGNORECASE
)
_OFFLINE_CSS = (
    "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}.hide,.d-none{display:none}</style>"
)


def make_offline(site: Path) -> int:
    """Remove every resource a Data Docs page would fetch from the network (CDN CSS/JS, the GX
    tracking image); add a minimal local stylesheet.  Returns how many references were removed."""
    removed = 0
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new, k = _EXTERNAL.subn("", text)
        if "<!-- nianbao offline -->" not in new:
            new = new.replace("</head>", f"<!-- nianbao offline -->{_OFFLINE_CSS}</head>", 1)
        removed += k
        page.write_text(new, encoding="utf-8")
    return removed


# ------------------------------------------------------------------ findings


def _rows(res: dict[str, Any]) -> list[int]:
    out: list[int] = []
    for item in res["result"].get("unexpected_index_list") or []:
        v = item.get("row") if isinstance(item, dict) else item
        if v is not None:
            out.append(int(v))
    return sorted(set(out))


def _mk(code: str, file: str, agency: str | None, year: int | None, report: int, **kw: Any) -> Finding:
    """A batch finding (of a submission, or of the registry file when ``report`` is -1)."""
    from nianbao.outcome import finding_on

    params = {k: (format_number(v) if isinstance(v, float) else v) for k, v in kw.pop("params", {}).items()}
    return finding_on(
        code,
        file,
        agency,
        year,
        report,
        cells=kw.get("cells", []),
        expected=kw.get("expected"),
        actual=kw.get("actual"),
        params=params,
        line=kw.get("line"),
    )


def findings_from(
    results: Mapping[str, list[tuple[str, dict[str, Any]]]],
    tables: Mapping[str, pl.DataFrame],
    reports: Sequence[ParsedReport],
    registry_file: str,
    expected_years: Sequence[int] | None,
) -> list[Finding]:
    out: list[Finding] = []
    subs = tables["submissions"]
    rows = list(subs.iter_rows(named=True))
    by_row = {d["row"]: d for d in rows}
    # the other submissions a duplicate is about, grouped once (a batch may have many)
    same_year: dict[tuple[str, int], list[str]] = {}
    same_sha: dict[str, list[dict[str, Any]]] = {}
    same_figs: dict[tuple[int, str | None, int | None], list[dict[str, Any]]] = {}
    for d in rows:
        same_year.setdefault((d["key"], d["year"]), []).append(d["file"])
        same_sha.setdefault(d["sha256"], []).append(d)
        same_figs.setdefault((d["year"], d["format"], d["hash"]), []).append(d)

    def first_other(group: list[dict[str, Any]], field: str, own: str) -> dict[str, Any]:
        return next(x for x in group if x[field] != own)

    done_m08: set[tuple[int, str]] = set()
    for code, res in results.get("submissions", []):
        if res["success"]:
            continue
        col = str(res.get("column") or "")
        for row in _rows(res):
            d = by_row[row]
            rep = reports[row]
            base = {"file": d["file"], "agency": d["agency"], "year": d["year"], "report": row}
            if code == "M02":
                same = same_year[(d["key"], d["year"])]
                params = {"agency": d["agency"], "year": d["year"], "count": len(same), "files": "、".join(same)}
                out.append(_mk(code, **base, params=params, expected=1, actual=len(same), line=rep.title_line))
            elif code == "M03":
                out.append(
                    _mk(
                        code,
                        **base,
                        params={"agency": d["agency"]},
                        expected="登记表中的机关",
                        actual=d["agency"],
                        line=rep.title_line,
                    )
                )
            elif code == "M04":
                other = first_other(same_sha[d["sha256"]], "filed_as", d["filed_as"])
                params = {"other_agency": other["filed_as"], "other_file": other["file"]}
                out.append(
                    _mk(code, **base, params=params, expected="本机关自己的报告", actual=f"与 {other['file']} 相同")
                )
            elif code == "M05":
                other = first_other(same_figs[(d["year"], d["format"], d["hash"])], "key", d["key"])
                params = {"other_agency": other["agency"], "other_file": other["file"]}
                out.append(
                    _mk(code, **base, params=params, expected="本机关自己的数字", actual=f"与 {other['file']} 相同")
                )
            elif code == "M06":
                exp = (
                    "、".join(str(y) for y in expected_years) if expected_years else f"{FIRST_YEAR}–{date.today().year}"
                )
                out.append(
                    _mk(
                        code,
                        **base,
                        params={"year": d["year"], "expected": exp},
                        expected=exp,
                        actual=d["year"],
                        line=rep.title_line,
                    )
                )
            elif code == "M07":
                out.append(_mk(code, **base, params={"year": d["year"]}, expected="2019", actual="2021"))
            elif code == "M08":
                cell = next(c for c in BOUNDS if _col(c) == col)
                if (row, cell) in done_m08:
                    continue
                done_m08.add((row, cell))
                fmt = rep.fmt or Fmt.F2021
                v = d[col]
                c = rep.cells.get(cell)
                params = {
                    "cell_label": f"{table_name(cell[0])}“{cell_label(fmt, cell)}”",
                    "actual": format_number(float(v)),
                    "upper": format_number(float(BOUNDS[cell])),
                }
                out.append(
                    _mk(
                        code,
                        **base,
                        params=params,
                        cells=[cell],
                        expected=f"≤ {format_number(float(BOUNDS[cell]))}",
                        actual=int(v) if v == int(v) else v,
                        line=c.line if c is not None else None,
                    )
                )
    if "expected" in tables:
        exp_rows = {d["row"]: d for d in tables["expected"].iter_rows(named=True)}
        for code, res in results.get("expected", []):
            if res["success"]:
                continue
            for row in _rows(res):
                d = exp_rows[row]
                params = {"county": d["county"], "agency": d["agency"], "year": d["year"]}
                out.append(_mk(code, registry_file, d["agency"], d["year"], -1, params=params, expected=1, actual=0))
    return out


def row_checks_pass(subs: pl.DataFrame, expected_years: Sequence[int] | None) -> bool:
    """Whether every row of the submissions table passes the expectations that look at one row at a
    time — M06 (year), M07 (2019 format up to 2020), M08 (bounds) — decided conservatively: a value
    Great Expectations might count as unexpected (a missing format up to 2020) counts as a failure."""
    year = pl.col("year")
    span = year.is_between(FIRST_YEAR, date.today().year)
    year_ok = year.is_in(sorted(expected_years)) if expected_years else span
    format_ok = (year > 2020) | (pl.col("format").fill_null("") == "2019")
    bounds_ok = [pl.col(_col(c)).is_null() | (pl.col(_col(c)) <= upper) for c, upper in BOUNDS.items()]
    ok = subs.select(pl.all_horizontal(year_ok.fill_null(False), format_ok.fill_null(False), *bounds_ok).all())
    return bool(ok.item())


def check_batch(
    reports: Sequence[ParsedReport],
    gx_dir: Path,
    *,
    registry: Sequence[Agency] | None = None,
    registry_file: str | None = None,
    renames: Mapping[str, str] | None = None,
    expected_years: Sequence[int] | None = None,
) -> BatchResult:
    """Rules M on the run's submissions with Great Expectations; Data Docs under ``gx_dir``."""
    renames = renames or {}
    subs = submission_table(reports, renames, registry)
    tables: dict[str, pl.DataFrame] = {"submissions": subs}
    skipped: dict[str, str] = {}
    keys: list[str] | None = None
    if registry is not None:
        tables["expected"] = expected_table(subs, registry, renames, expected_years)
        keys = sorted({agency_key(a.agency, renames) for a in registry})
    else:
        why = "未提供登记表（--registry），未核对登记机关是否全部提交、是否有未登记的机关"
        skipped = {"M01": why, "M03": why}
    if registry is None and subs.height <= 1 and row_checks_pass(subs, expected_years):
        # nothing Great Expectations could say (one report: no pair to compare for M02/M04/M05; its
        # row checks M06–M08 pass), so it is not started: its import alone takes seconds
        stats: dict[str, Any] = {"submissions": subs.height, "expected": None}
        stats |= {"expectations": 0, "failed_expectations": 0}
        return BatchResult([], None, skipped, stats | {"great_expectations": "not started: nothing to compare"})
    with _quiet():
        results, docs = run_expectations(gx_dir, tables, keys, expected_years)
    findings = findings_from(results, tables, reports, registry_file or "registry.csv", expected_years)
    stats = {
        "submissions": subs.height,
        "expected": tables["expected"].height if "expected" in tables else None,
        "expectations": sum(len(v) for v in results.values()),
        "failed_expectations": sum(1 for v in results.values() for _c, r in v if not r["success"]),
        "checks": check_rows(results, expected_years),
    }
    return BatchResult(findings, docs, skipped, stats)


_WHAT = {
    "M01": "名册中的每个机关都报送了报告",
    "M02": "同一机关同一年度只有一份报告",
    "M03": "报送报告的机关都在名册中",
    "M04": "没有两个机关的报告正文相同",
    "M05": "没有两个机关的统计数字完全相同",
    "M07": "2020 年及以前的报告使用 2019 年格式",
}


def check_rows(
    results: Mapping[str, Sequence[tuple[str, dict[str, Any]]]], expected_years: Sequence[int] | None
) -> list[dict[str, Any]]:
    """Every batch expectation that ran, for the auditor's overview: rule, what it checks (中文),
    whether it passed and how many rows did not."""
    by_col = {_col(c): (c, upper) for c, upper in BOUNDS.items()}
    rows: list[dict[str, Any]] = []
    for _table, res in results.items():
        for code, r in res:
            if code == "M08" and r.get("column") in by_col:
                cell, upper = by_col[r["column"]]
                what = f"{table_name(cell.split(':')[0])[:2]}“{_label(cell)}”不超过 {format_number(upper)}"
            elif code == "M06":
                what = (
                    f"报告年度为 {'、'.join(str(y) for y in sorted(expected_years))} 年"
                    if expected_years
                    else f"报告年度在 {FIRST_YEAR} 年至今年之间"
                )
            else:
                what = _WHAT.get(code, rule(code).title)
            result = r.get("result") or {}
            n = result.get("unexpected_count")
            rows.append({"rule": code, "what": what, "ok": bool(r["success"]), "unexpected": n if n else 0})
    return rows


def _label(cell: str) -> str:
    for fmt in Fmt:
        try:
            return cell_label(fmt, cell)
        except (KeyError, ValueError):
            continue
    return cell


# The batch checks need the run's GX folder (their context and Data Docs) and say what they skipped:
# the run's batch-checks step calls check_batch, after validate_batch.
FAMILY = Family(
    "batch",
    fixed_codes(*BATCH_RULES),
    None,
    stage=BATCH_CHECKS,
    runs_in="nianbao.rules.expectations.check_batch (the run's batch-checks step, in the run's gx folder)",
)
