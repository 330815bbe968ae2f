"""The stages of a run over the inbox — what the Prefect tasks in ``flows/`` wrap, one task each.

discover → plan (store lookups) → parse (the new or changed files) → save the store → validate
(the whole batch at once) → write the run folder → publish (move ``latest``).

Each stage is a plain function over plain data: the flows add orchestration (retries on I/O,
the Dask task runner, the run summary artifact), ``nianbao run --no-prefect`` calls the same
functions directly.  No stage lets one file fail the run: every file ends up with a status.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao.domain.model import ParsedReport, unreadable
from nianbao.domain.registry import Agency, normalise_agency
from nianbao.outcome import STATE_ZH, RunOutcome, report_state
from nianbao.run import folders as rundirs
from nianbao.run import interrupt
from nianbao.run import status as runstatus
from nianbao.run.inputs import (
    InboxFile,
    Scope,
    discover_inbox,
    find_registry,
    layout_of,
    load_expected,
    missing_agencies,
)
from nianbao.run.store import Entry, Store, load_year, reusable
from nianbao.run.validation import Submission, load_all, validate_reports

log = logging.getLogger("nianbao.run.steps")


@dataclass
class Inventory:
    """What a run found: the inbox files and the registry of who must submit."""

    root: str
    files: list[InboxFile]
    registry: list[Agency] | None
    renames: dict[str, str]
    registry_file: str | None
    seconds: float = 0.0


@dataclass
class Plan:
    """Which reports come from the store and which files must be parsed."""

    reports: list[ParsedReport | None]  # by inventory index; None: to parse
    partitions: list[list[int]]  # inventory indices to parse, grouped (by county when partitioned)
    reused: int = 0  # unchanged files, rebuilt from the store
    kept: int = 0  # files outside the rerun's scope, taken as the last run read them (not re-read)
    stored: list[tuple[str, int | None]] = field(default_factory=list)  # every (path, year folder) stored
    seconds: float = 0.0


@dataclass
class Parsed:
    """The reports parsed from one partition, by inventory index."""

    index: list[int]
    reports: list[ParsedReport]
    seconds: float = 0.0


@dataclass
class RunSettings:
    root: Path
    out: Path
    store: Path
    registry: Path | None = None
    scope: Scope = field(default_factory=Scope)
    workers: int | None = None


def default_store(root: Path) -> Path:
    return root / ".nianbao" / "store"


# ------------------------------------------------------------------ discover


def discover_stage(root: Path, registry: Path | None = None) -> Inventory:
    t0 = time.perf_counter()
    rundirs.checkpoint("discovering")
    if not root.is_dir():
        raise FileNotFoundError(f"找不到报告收件目录：{root}")
    files = discover_inbox(root)
    reg_path = registry if registry is not None else find_registry(root)
    agencies, renames = load_expected(reg_path)
    inv = Inventory(str(root), files, agencies, renames, str(reg_path) if reg_path else None, time.perf_counter() - t0)
    rundirs.checkpoint("discovered")
    return inv


# ------------------------------------------------------------------ plan: what is unchanged


def file_sha256(path: Path, max_bytes: int | None = None) -> str | None:
    """SHA-256 of a regular file's bytes (None when it cannot be read; the loader will say why)."""
    if max_bytes is None:
        from nianbao.io.limits import Limits

        max_bytes = Limits.from_env().max_file_bytes
    try:
        if path.stat().st_size > max_bytes:
            return None
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


PARTITION_FILES = 2000  # files per parse task on a cluster (whole counties, bundled)


def bundle(groups: dict[str, list[int]], size: int | None = None) -> list[list[int]]:
    """Whole counties (in name order) bundled into partitions of up to ``size`` files (a larger
    county is a partition of its own): a task per county would cost more in task overhead (~20 ms
    each, thousands of counties in a province) than it parses."""
    size = PARTITION_FILES if size is None else size
    partitions: list[list[int]] = []
    for k in sorted(groups):
        if partitions and len(partitions[-1]) + len(groups[k]) <= size:
            partitions[-1].extend(groups[k])
        else:
            partitions.append(list(groups[k]))
    return partitions


PLAN_COLUMNS = ("sha256", "size", "mtime_ns", "agency", "year", "ruleset", "model", "path_year")
VERIFY_ENV = "NIANBAO_VERIFY"  # "hash": hash every file on a rerun, never trust size + modification time


def _same_stat(path: Path, size: int | None, mtime_ns: int) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_size == size and st.st_mtime_ns == mtime_ns


def plan_stage(inv: Inventory, store: Path, scope: Scope, by_county: bool = False) -> Plan:
    """Look every file up in the store.

    A file inside the rerun's scope is checked: unchanged — the same size and modification time
    as when it was last read (a time taken before reading, and only when the file had been left
    alone for a while: ``loaders.settled_mtime``), or else the same SHA-256; with
    ``NIANBAO_VERIFY=hash`` always the SHA-256 — and with the same rule-set version and store
    format, it is rebuilt from the store, else it is parsed.  A file outside the scope (a rerun of
    one county, say) is taken from the store as the last run read it, without reading it again;
    it is parsed only when the store has nothing usable for it.
    """
    from nianbao.io.limits import Limits

    t0 = time.perf_counter()
    max_bytes = Limits.from_env().max_file_bytes  # once, not per file
    # the index columns only: the rows to rebuild are read afterwards, a row group at a time
    everything = Store(store).read(columns=PLAN_COLUMNS)
    rows = reusable(everything)
    by_rel = dict(zip(rows.get_column("rel").to_list(), range(rows.height), strict=True))
    shas = rows.get_column("sha256").to_list()
    sizes = rows.get_column("size").to_list()
    mtimes = rows.get_column("mtime_ns").to_list()
    trust_stat = os.environ.get(VERIFY_ENV, "").strip().lower() not in ("hash", "1", "yes")
    agencies = rows.get_column("agency").to_list()
    years = rows.get_column("year").to_list()
    take: list[int] = []  # store rows to rebuild
    take_for: list[int] = []  # ... for these inventory indices
    todo: list[int] = []
    kept = 0
    for i, f in enumerate(inv.files):
        row = by_rel.get(f.rel)
        if f.sub.problem is not None:
            todo.append(i)  # a symlink or special file: listed with its reason, never opened
            continue
        if row is not None and not scope.everything and not scope.covers(f, agencies[row], years[row]):
            take.append(row)
            take_for.append(i)
            kept += 1
            continue
        if row is not None and shas[row]:
            if trust_stat and mtimes[row] is not None and _same_stat(f.sub.path, sizes[row], mtimes[row]):
                take.append(row)  # same size and modification time as when it was read: unchanged
                take_for.append(i)
                continue
            if file_sha256(f.sub.path, max_bytes) == shas[row]:
                take.append(row)
                take_for.append(i)
                continue
        todo.append(i)
    reports: list[ParsedReport | None] = [None] * len(inv.files)
    if take:
        # no cyclic GC while thousands of reports are built (no cycles are made; ~35 % faster)
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            rebuilt = Store(store).rebuild(rows[take])
        finally:
            if was_enabled:
                gc.enable()
        gc.freeze()  # as load_all does: later collections need not walk the reports again
        for i, rep in zip(take_for, rebuilt, strict=True):
            rep.file = inv.files[i].rel
            reports[i] = rep
    if by_county:
        groups: dict[str, list[int]] = {}
        for i in todo:
            groups.setdefault(inv.files[i].county or "", []).append(i)
        partitions = bundle(groups)
    else:
        partitions = [todo] if todo else []
    stored = list(
        zip(everything.get_column("rel").to_list(), everything.get_column("path_year").to_list(), strict=True)
    )
    return Plan(reports, partitions, len(take) - kept, kept, stored, time.perf_counter() - t0)


# ------------------------------------------------------------------ parse


def _safe_load(subs: Sequence[Submission], workers: int | None) -> list[ParsedReport]:
    try:
        return load_all(subs, workers)
    except Exception:
        log.exception("batch load failed; loading file by file")
    out = []
    for s in subs:
        try:
            out.extend(load_all([s], 1))
        except Exception as e:  # one bad file never fails the run
            out.append(unreadable(s.name, "", 0, f"解析时出现内部错误：{type(e).__name__}"))
    return out


def parse_stage(subs: Sequence[Submission], index: Sequence[int], workers: int | None = None) -> Parsed:
    """Parse the given files (in a process pool when there are many)."""
    t0 = time.perf_counter()
    reports = _safe_load(subs, workers) if subs else []
    rundirs.checkpoint("parsed")
    return Parsed(list(index), reports, time.perf_counter() - t0)


def partition_inputs(inv: Inventory, plan: Plan) -> list[tuple[list[Submission], list[int]]]:
    return [([inv.files[i].sub for i in part], part) for part in plan.partitions]


# ------------------------------------------------------------------ store


def merge(plan: Plan, parsed: Sequence[Parsed]) -> list[ParsedReport]:
    reports = list(plan.reports)
    for p in parsed:
        for i, rep in zip(p.index, p.reports, strict=True):
            reports[i] = rep
    missing = [i for i, r in enumerate(reports) if r is None]
    if missing:  # never silently drop a file
        raise RuntimeError(f"{len(missing)} files were neither reused nor parsed")
    return [r for r in reports if r is not None]


def save_stage(store: Path, inv: Inventory, plan: Plan, parsed: Sequence[Parsed]) -> int:
    """Write the parsed reports to the store; drop the rows of files no longer in the inbox.

    A year folder removed from the inbox as a whole (archived) keeps its rows: the cross-year
    rules read last year's reports from the store.
    """
    entries = []
    for p in parsed:
        for i, rep in zip(p.index, p.reports, strict=True):
            f = inv.files[i]
            if f.sub.problem is None:
                entries.append(Entry(f.rel, rep, f.county, f.year))
    present = {f.rel for f in inv.files}
    years = {f.year for f in inv.files if f.year is not None}
    gone = [r for r, y in plan.stored if r not in present and (y is None or y in years)]
    written = Store(store).save(entries, gone, checkpoint=rundirs.checkpoint) if entries or gone else 0
    rundirs.checkpoint("stored")
    return written


# ------------------------------------------------------------------ validate


# the report states of nianbao.outcome.STATE_ZH (通过 = no error and no warning), then the missing
# agencies and the files
COUNTY_COLUMNS = ("县（区）", "年度", *STATE_ZH.values(), "未提交", "文件数")


def validate_stage(
    inv: Inventory,
    reports: list[ParsedReport],
    scope: Scope,
    timings: dict[str, float] | None = None,
    incremental: dict[str, int] | None = None,
    store: Path | None = None,
    gx_dir: Path | None = None,
) -> RunOutcome:
    """Validate the whole batch together, then add what the inbox knows (county, missing agencies).

    Last year's reports that are not in the batch come from the store (cross-year rules); the
    batch expectations (Great Expectations) write their Data Docs into ``gx_dir``.
    """
    years = sorted({f.year for f in inv.files if f.year is not None})
    if store is not None:  # memoised: an unchanged batch reuses the last identical run's findings
        from nianbao.run.memo import validate_memoised

        st = store
        outcome = validate_memoised(
            reports,
            [inv.root],
            timings,
            store=store,
            previous_key=previous_identity(store, reports),
            load_previous=lambda: previous_years(st, reports),
            registry=inv.registry,
            registry_file=inv.registry_file,
            renames=inv.renames,
            gx_dir=gx_dir,
            expected_years=years or None,
        )
    else:
        outcome = validate_reports(
            reports,
            [inv.root],
            timings,
            previous=[],
            registry=inv.registry,
            registry_file=inv.registry_file,
            renames=inv.renames,
            gx_dir=gx_dir,
            expected_years=years or None,
        )
    for fo, f in zip(outcome.files, inv.files, strict=True):
        fo.county = f.county
    outcome.registry = inv.registry
    outcome.extra["discovered"] = len(inv.files)
    outcome.extra["scope"] = scope.describe()
    if incremental is not None:
        outcome.extra["incremental"] = incremental
    outcome.extra["outside_layout"] = [f.rel for f in inv.files if not f.in_layout]
    if inv.registry_file:
        outcome.extra["registry_file"] = inv.registry_file
    rows, missing = county_table(inv, outcome)
    outcome.extra["counties"] = rows
    outcome.extra["missing"] = missing
    if len(outcome.files) != len(inv.files):  # never silently drop a file
        raise RuntimeError(f"{len(inv.files)} files found but {len(outcome.files)} accounted for")
    rundirs.checkpoint("validated")
    return outcome


def previous_years(store: Path, reports: Sequence[ParsedReport]) -> list[ParsedReport]:
    """The stored reports of each year before a year of the batch that the batch itself lacks."""
    years = {r.year for r in reports if r.readable and r.year is not None}
    out: list[ParsedReport] = []
    for y in sorted({y - 1 for y in years} - years):
        out += [r for r in load_year(store, y) if r.readable]
    return out


def previous_identity(store: Path, reports: Sequence[ParsedReport]) -> list[list[Any]]:
    """(name, SHA-256, store format, status) of the stored rows :func:`previous_years` would rebuild
    (the memo key of the cross-year input), read without rebuilding them."""
    import polars as pl

    from nianbao.run.store import MODEL

    years = {r.year for r in reports if r.readable and r.year is not None}
    out: list[list[Any]] = []
    for y in sorted({y - 1 for y in years} - years):
        df = Store(store).read([str(y)]).filter(pl.col("model").str.starts_with(MODEL))
        cols = [c for c in ("rel", "sha256", "model", "status") if c in df.columns]
        out += [[y, *row] for row in df.select(cols).sort("rel").rows()]
    return out


_STATE_COL = {k: n for n, k in enumerate(STATE_ZH)}
_N_COUNTS = len(STATE_ZH) + 2  # the states, 未提交, 文件数


def county_table(inv: Inventory, outcome: RunOutcome) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Counties x (pass, fail, unreadable, missing), per report year; and the missing agencies."""
    stats: dict[tuple[str, int | None], list[int]] = {}
    submitted = []
    years: set[int] = set()
    for fo, f in zip(outcome.files, inv.files, strict=True):
        year = f.year if f.year is not None else fo.year
        county = f.county or "（目录结构之外）"
        s = stats.setdefault((county, year), [0] * _N_COUNTS)
        s[-1] += 1
        s[_STATE_COL[report_state(fo)]] += 1
        if year is not None:
            years.add(year)
        submitted.append((f.county, year, [normalise_agency(fo.agency), f.agency_hint]))
    missing_rows: list[dict[str, Any]] = []
    if inv.registry is not None:
        miss = missing_agencies(inv.registry, sorted(years), submitted, inv.renames)
        for (county, year), agencies in miss.items():
            stats.setdefault((county, year), [0] * _N_COUNTS)[-2] += len(agencies)
            missing_rows += [{"county": county, "year": year, "agency": a.agency} for a in agencies]
    rows = []
    for (county, year), s in sorted(stats.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        rows.append(dict(zip(COUNTY_COLUMNS, [county, year, *s], strict=True)))
    return rows, missing_rows


# ------------------------------------------------------------------ write and publish


def write_stage(outcome: RunOutcome, out: Path, root: Path | None, staging: Path, date: str) -> Path:
    """Write every view into the run's staging folder, then rename it to ``<out>/<run date>[-N]``."""
    from nianbao.report.writer import write_all

    prev = rundirs.latest(out)
    if prev is not None:
        outcome.extra.setdefault("previous_run", str(prev))
    if root is not None:
        for cand in (root / "acknowledgements.csv", root.parent / "acknowledgements.csv"):
            if cand.is_file():
                outcome.extra.setdefault("acks_file", str(cand))
                break
    write_all(outcome, staging)
    rundirs.checkpoint("views-written")
    final = rundirs.publish(staging, out, date)
    rundirs.checkpoint("run-published")
    return final


def publish_stage(out: Path, run: Path, outcome: RunOutcome) -> None:
    """Move ``latest`` to the completed run."""
    rundirs.move_latest(
        out, run, {"started_at": outcome.started_at, "files": outcome.n_files, "errors": outcome.n_errors}
    )
    rundirs.checkpoint("latest-moved")
    # the reports root page: the data's date, 最近一次运行失败 … (nianbao.run.status)
    counts = {"files": outcome.n_files, "errors": outcome.n_errors, "warnings": outcome.n_warnings}
    counts["unreadable"] = outcome.n_unreadable
    runstatus.record(out, runstatus.COMPLETED, run=run.name, started_at=outcome.started_at, counts=counts)


# ------------------------------------------------------------------ the whole run, without Prefect


STORE_FAILED = "报告存储（Parquet）写入失败：下次运行将重新解析本次解析的报告"


@dataclass
class RunResult:
    outcome: RunOutcome
    run_dir: Path
    plan: dict[str, int]  # reused / kept / parsed
    warnings: list[str] = field(default_factory=list)  # 中文, for the CLI summary


def run_direct(cfg: RunSettings) -> RunResult:
    """Every stage in turn, in this process, without Prefect (``nianbao run --no-prefect``).

    Stopped early (Ctrl-C, SIGTERM, an error in a stage), it writes what it had done so far to
    ``<out>/<date>[-N]-incomplete/`` and raises :class:`nianbao.run.interrupt.Incomplete`."""
    t0 = time.perf_counter()
    track = interrupt.Tracker(inputs=[str(cfg.root)])
    with (
        runstatus.attempt(cfg.out),  # the reports root page: running, then completed or failed
        rundirs.Staging(cfg.out, rundirs.run_date()) as st,
        interrupt.incomplete_run(track, incomplete_writer(st)),
    ):
        inv = discover_stage(cfg.root, cfg.registry)
        track.found(files_found(inv))
        track.at("plan")
        plan = plan_stage(inv, cfg.store, cfg.scope)
        track.at("parse")
        parsed = [parse_stage(subs, idx, cfg.workers) for subs, idx in partition_inputs(inv, plan)]
        track.at("store")
        warnings = []
        try:
            save_stage(cfg.store, inv, plan, parsed)
        except Exception:  # the store is a cache and a mirror: the report does not depend on it
            log.warning("store write failed", exc_info=True)
            warnings.append(STORE_FAILED)
        reports = merge(plan, parsed)
        track.at("validate")
        outcome = validate_stage(
            inv, reports, cfg.scope, timings(inv, plan, parsed), plan_counts(plan, parsed), cfg.store, st.gx_dir
        )
        track.validated(outcome)
        track.at("write")
        run_dir = write_stage(outcome, cfg.out, cfg.root, st.path, st.date)
        track.published = run_dir
        track.at("publish")
        publish_stage(cfg.out, run_dir, outcome)
    outcome.timings["total"] = time.perf_counter() - t0
    return RunResult(outcome, run_dir, plan_counts(plan, parsed), warnings)


def files_found(inv: Inventory) -> list[tuple[str, str | None]]:
    """(name as in the outputs, county) of every file found: what an incomplete run lists."""
    return [(f.rel, f.county) for f in inv.files]


def incomplete_writer(st: rundirs.Staging) -> Callable[[RunOutcome], Path]:
    """Write an incomplete run's results into its staging folder and rename that to
    ``<date>[-N]-incomplete`` (:func:`nianbao.run.interrupt.incomplete_run`)."""

    def write(outcome: RunOutcome) -> Path:
        info = interrupt.details(outcome) or {}
        interrupt.write_incomplete(outcome, st.path, str(info.get("stage", "")))
        return rundirs.publish(st.path, st.out, st.date, incomplete=True)

    return write


def timings(inv: Inventory, plan: Plan, parsed: Sequence[Parsed]) -> dict[str, float]:
    return {"discover": inv.seconds, "store_lookup": plan.seconds, "parse": sum(p.seconds for p in parsed)}


def plan_counts(plan: Plan, parsed: Sequence[Parsed]) -> dict[str, int]:
    return {"reused": plan.reused, "kept": plan.kept, "parsed": sum(len(p.index) for p in parsed)}


__all__ = [
    "Inventory",
    "Parsed",
    "Plan",
    "RunResult",
    "RunSettings",
    "discover_stage",
    "layout_of",
    "merge",
    "parse_stage",
    "plan_stage",
    "publish_stage",
    "run_direct",
    "save_stage",
    "validate_stage",
    "write_stage",
]
