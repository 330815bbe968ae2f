"""A run, step by step: the one orchestration of ``nianbao run`` (the Prefect flow and
``--no-prefect``), and the shorter one of ``nianbao validate``.

The inbox run (:func:`run_steps`): discover → plan (store lookups) → parse (the new or changed
files, a call per partition) → save the store → validate (the whole batch at once, the memo
around it; then the inbox's facts: counties, missing agencies) → write the run folder → publish
(move ``latest``).  ``nianbao validate`` (:func:`validate_paths`): discover → parse → validate —
the same discovery, parsing and validation step, no inbox, store or run folder.

Each step is a plain function over plain data.  :func:`run_steps` calls every step through a
:class:`Runner` — ``runner.call(step, *args)`` and, for the partitions, ``runner.map`` —: the
identity (:data:`DIRECT`) for ``--no-prefect``, a Prefect task per call in ``flows/`` (retries on
I/O, the Dask task runner, the run summary artifact).  No step lets one file fail the run: every
file ends up with a status.  The views are the report layer's (:class:`nianbao.outcome.Views`),
passed in by the command line or the flow.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from nianbao.domain.model import ParsedReport, unreadable
from nianbao.domain.registry import Agency, load_registry, load_renames, normalise_agency
from nianbao.outcome import STATE_ZH, RunOutcome, Views, report_state
from nianbao.run import folders as rundirs
from nianbao.run import interrupt
from nianbao.run import status as runstatus
from nianbao.run.collector import gc_paused
from nianbao.run.inputs import (
    InboxFile,
    Scope,
    Submission,
    discover,
    find_registry,
    load_expected,
    missing_agencies,
)
from nianbao.run.memo import Memo, contract_key
from nianbao.run.parsing import load_all
from nianbao.run.store import SCALAR_COLUMNS, Entry, Store, column_values, load_year, reusable, stored_reports
from nianbao.run.validation import LastYear, validate_reports

log = logging.getLogger("nianbao.run.steps")

T = TypeVar("T")


class Runner(Protocol):
    """How the orchestration calls a step: ``call(step, *args)`` is ``step(*args)`` (perhaps as a
    Prefect task run); ``map(step, calls)`` is ``[step(*args) for args in calls]`` (perhaps in
    parallel, on a task runner)."""

    def call(self, step: Callable[..., T], *args: Any) -> T: ...

    def map(self, step: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> list[T]: ...


class Direct:
    """Every step in turn, in this process (``nianbao run --no-prefect``)."""

    def call(self, step: Callable[..., T], *args: Any) -> T:
        return step(*args)

    def map(self, step: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> list[T]:
        return [step(*args) for args in calls]


DIRECT = Direct()


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
    # every (path, year folder) stored (left empty when :attr:`all_listed`: none is dropped)
    stored: list[tuple[str, int | None]] = field(default_factory=list)
    seconds: float = 0.0
    # every stored row is a file of the listing (no row to drop from the store), as on an
    # unchanged rerun: known from the plan's whole-list check (False: not known)
    all_listed: bool = False


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
    workers: int | None = None  # parsing processes (default: the CPU count)
    by_county: bool = False  # parse in partitions of whole counties, a process each (a Dask cluster)


def default_store(root: Path) -> Path:
    return root / ".nianbao" / "store"


# ------------------------------------------------------------------ discover


def discover_stage(root: Path, registry: Path | None = None) -> Inventory:
    t0 = time.perf_counter()
    rundirs.checkpoint("discovering")
    if not root.is_dir():
        raise FileNotFoundError(f"找不到报告收件目录：{root}")
    files = discover([root], inbox=root)
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


def _same_stat(f: InboxFile, size: int | None, mtime_ns: int) -> bool:
    """The file's size and modification time as discovery found them (stat-ed once, in the
    listing pass) are those stored."""
    if f.stat is not None:
        return f.stat == (size, mtime_ns)
    try:
        st = f.sub.path.stat()
    except OSError:
        return False
    return st.st_size == size and st.st_mtime_ns == mtime_ns


_name_of = attrgetter("sub.name")  # (an inbox file's ``rel``, in C)
_stat_of = attrgetter("stat")


def unchanged_names(
    files: Sequence[InboxFile],
    rels: Sequence[str],
    shas: Sequence[str | None],
    sizes: Sequence[int | None],
    mtimes: Sequence[int | None],
) -> list[str] | None:
    """Every file's name (``rel``) when the files are the store's rows (``rels``, their ``shas``,
    ``sizes``, ``mtimes``) one for one, in the same order, each with a SHA-256 and the size and
    modification time its listing found (so each is taken from the store as it is); else None.
    A file not read (a symlink, a special file) has no listed size: never the same."""
    if len(files) != len(rels) or not all(shas):
        return None
    names = list(map(_name_of, files))
    if names != rels or list(map(_stat_of, files)) != list(zip(sizes, mtimes, strict=True)):
        return None
    return names


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
    everything = Store(store).read(columns=(*PLAN_COLUMNS, *SCALAR_COLUMNS))
    rows = reusable(everything)
    rels = rows.get_column("rel").to_list()
    shas = rows.get_column("sha256").to_list()
    sizes = column_values(rows.get_column("size"))
    mtimes = rows.get_column("mtime_ns").to_list()
    trust_stat = os.environ.get(VERIFY_ENV, "").strip().lower() not in ("hash", "1", "yes")
    everything_in_scope = scope.everything
    # what a file outside the rerun's scope is checked by (a rerun of the whole inbox needs neither)
    agencies = [] if everything_in_scope else rows.get_column("agency").to_list()
    years = [] if everything_in_scope else rows.get_column("year").to_list()
    take: list[int] = []  # store rows to rebuild
    take_for: list[int] = []  # ... for these inventory indices
    todo: list[int] = []
    kept = 0
    # an unchanged rerun of the whole inbox: every file the store's row of the same position (the
    # same name), every row with a SHA-256 and the size and modification time the listing found —
    # checked over whole lists at once, in C (the loop below: ~0.06 s at 100,000 files)
    names = unchanged_names(inv.files, rels, shas, sizes, mtimes) if everything_in_scope and trust_stat else None
    whole = names is not None
    if whole:
        take = take_for = list(range(rows.height))
    by_rel = {} if names is not None else dict(zip(rels, range(rows.height), strict=True))
    for i, f in enumerate(inv.files if names is None else ()):
        sub = f.sub
        row = by_rel.get(sub.name)
        if sub.problem is not None:
            todo.append(i)  # a symlink or special file: listed with its reason, never opened
            continue
        if row is not None and not everything_in_scope and not scope.covers(f, agencies[row], years[row]):
            take.append(row)
            take_for.append(i)
            kept += 1
            continue
        if row is not None and shas[row]:
            mtime = mtimes[row]
            stat = f.stat  # (the listing's, compared here: no call per file)
            if (
                trust_stat
                and mtime is not None
                and (stat == (sizes[row], mtime) if stat is not None else _same_stat(f, sizes[row], mtime))
            ):
                take.append(row)  # same size and modification time as when it was read: unchanged
                take_for.append(i)
                continue
            if file_sha256(f.sub.path, max_bytes) == shas[row]:
                take.append(row)
                take_for.append(i)
                continue
        todo.append(i)
    # (every row reusable, as on most runs: the same rows in the same order, their names converted
    # once; made before the reports are frozen, with them)
    all_listed = whole and rows.height == everything.height  # (then no stored row is dropped: none listed)
    if all_listed:
        stored = []
    else:
        all_rels = rels if rows.height == everything.height else everything.get_column("rel").to_list()
        stored = list(zip(all_rels, column_values(everything.get_column("path_year")), strict=True))
    reports: list[ParsedReport | None] = [None] * len(inv.files)
    if take:
        # no cyclic GC while thousands of reports are built (no cycles are made; ~35 % faster);
        # their cells, layout and prose are rebuilt from the store only when a step reads them
        with gc_paused():
            # (every row, in the store's order, as on an unchanged rerun: the rows as they are, no
            # gather of a copy: ~0.03 s at 100,000 reports)
            same = whole or (len(take) == rows.height and take == list(range(rows.height)))
            # (each report's name in this run given: no stored name converted, then replaced)
            if names is None:
                names = [inv.files[i].sub.name for i in take_for]  # (``rel``)
            # (the rows' SHA-256 list, read above, given when they are all taken as they are)
            rebuilt = stored_reports(Store(store), rows if same else rows[take], names, shas if same else None)
            # as load_all does: later collections need not walk the reports again (frozen before
            # the collector is back on: not even the collection their allocations would set off)
            gc.freeze()
        if whole:
            reports = cast(list[ParsedReport | None], rebuilt)  # (every file, in order: no loop)
        else:
            for i, rep in zip(take_for, rebuilt, strict=True):
                reports[i] = rep
    if by_county:
        groups: dict[str, list[int]] = {}
        for i in todo:
            groups.setdefault(inv.files[i].county or "", []).append(i)
        partitions = bundle(groups)
    else:
        partitions = [todo] if todo else []
    return Plan(reports, partitions, len(take) - kept, kept, stored, time.perf_counter() - t0, all_listed)


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
    if plan.reused + plan.kept == len(plan.reports) and not any(p.index for p in parsed):
        return cast(list[ParsedReport], list(plan.reports))  # every file taken from the store (none None)
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
    if plan.all_listed and not any(p.index for p in parsed):
        rundirs.checkpoint("stored")
        return 0  # nothing parsed, no stored row without its file: nothing to write or drop
    entries = []
    for p in parsed:
        for i, rep in zip(p.index, p.reports, strict=True):
            f = inv.files[i]
            if f.sub.problem is None:
                entries.append(Entry(f.rel, rep, f.county, f.year))
    present = {f.sub.name for f in inv.files}  # (``rel``)
    years = {f.year for f in inv.files if f.year is not None}
    gone = [r for r, y in plan.stored if r not in present and (y is None or y in years)]
    written = Store(store).save(entries, gone, checkpoint=rundirs.checkpoint) if entries or gone else 0
    rundirs.checkpoint("stored")
    return written


# ------------------------------------------------------------------ validate


# the report states of nianbao.outcome.STATE_ZH (通过 = no error and no warning), then the missing
# agencies and the files
COUNTY_COLUMNS = ("县（区）", "年度", *STATE_ZH.values(), "未提交", "文件数")


_county_of, _year_of = attrgetter("county"), attrgetter("year")  # (an inbox file's folders)


def validate_stage(
    inv: Inventory, plan: Plan, parsed: Sequence[Parsed], scope: Scope, store: Path, gx_dir: Path | None
) -> RunOutcome:
    """Validate the whole batch together (the validation step, the memo around it), then add what
    the inbox knows (county, missing agencies, the scope …).

    Last year's reports that are not in the batch come from the store (cross-year rules); the
    batch expectations (Great Expectations) write their Data Docs into ``gx_dir``.
    """
    reports = merge(plan, parsed)
    # every file's county and year folder, each list made once in C (not a loop a file for each use)
    counties, file_years = list(map(_county_of, inv.files)), list(map(_year_of, inv.files))
    years = sorted(y for y in set(file_years) if y is not None)
    memo = Memo(store)  # an unchanged batch reuses the last identical run's findings
    outcome = validate_reports(
        reports,
        [inv.root],
        timings(inv, plan, parsed),
        last_year=LastYear(previous_identity(store, reports), lambda: previous_years(store, reports)),
        registry=inv.registry,
        registry_file=inv.registry_file,
        renames=inv.renames,
        gx_dir=gx_dir,
        expected_years=years or None,
        cache=memo,
        counties=counties,  # (each file's row made with its county)
    )
    outcome.contract_key = contract_key(memo, counties)
    outcome.registry = inv.registry
    rows, missing = county_table(inv, outcome)
    outcome.info = replace(
        outcome.info,
        discovered=len(inv.files),
        scope=scope.describe(),
        incremental=plan_counts(plan, parsed),
        # (``rel`` of each file not ``in_layout``, without two property calls a file)
        outside_layout=()
        if None not in counties and None not in file_years  # (in C: most inboxes have no such file)
        else tuple(f.sub.name for f in inv.files if f.county is None or f.year is None),
        registry_file=inv.registry_file,
        counties=tuple(rows),
        missing=tuple(missing),
    )
    if len(outcome.files) != len(inv.files):  # never silently drop a file
        raise RuntimeError(f"{len(inv.files)} files found but {len(outcome.files)} accounted for")
    rundirs.checkpoint("validated")
    return outcome


def report_years(reports: Sequence[ParsedReport]) -> set[int]:
    """The years of the readable reports: the years named, each kept once a readable report of it
    is found (one pass at most; on most runs the first report settles it, not 100,000 property
    calls)."""
    named = {r.year for r in reports}
    named.discard(None)
    found: set[int] = set()
    for r in reports:
        y = r.year
        if y is not None and y not in found and r.readable:
            found.add(y)
            if len(found) == len(named):
                break
    return found


def previous_years(store: Path, reports: Sequence[ParsedReport]) -> list[ParsedReport]:
    """The stored reports of each year before a year of the batch that the batch itself lacks."""
    years = report_years(reports)
    out: list[ParsedReport] = []
    for y in sorted({y - 1 for y in years} - years):
        out += [r for r in load_year(store, y) if r.readable]
    return out


def previous_identity(store: Path, reports: Sequence[ParsedReport]) -> list[list[Any]]:
    """(name, SHA-256, store format, status) of the stored rows :func:`previous_years` would rebuild
    (the memo key of the cross-year input), read without rebuilding them."""
    import polars as pl

    from nianbao.run.store import MODEL

    years = report_years(reports)
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
    key: tuple[str, int | None] | None = None
    s: list[int] = []
    for fo, f in zip(outcome.files, inv.files, strict=True):
        year = f.year if f.year is not None else fo.year
        county = f.county or "（目录结构之外）"
        if key is None or county != key[0] or year != key[1]:  # (a folder's files come together)
            key = (county, year)
            s = stats.setdefault(key, [0] * _N_COUNTS)
            if year is not None:
                years.add(year)
        s[-1] += 1
        s[_STATE_COL[report_state(fo)]] += 1
        if inv.registry is not None:  # (what the file may stand for: only to find the missing agencies)
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


def write_stage(outcome: RunOutcome, out: Path, root: Path | None, staging: Path, date: str, views: Views) -> Path:
    """Write every view into the run's staging folder, then rename it to ``<out>/<run date>[-N]``."""
    prev = rundirs.latest(out)
    if prev is not None and outcome.info.previous_run is None:
        outcome.info = replace(outcome.info, previous_run=str(prev))
    if root is not None and outcome.info.acks_file is None:
        for cand in (root / "acknowledgements.csv", root.parent / "acknowledgements.csv"):
            if cand.is_file():
                outcome.info = replace(outcome.info, acks_file=str(cand))
                break
    views.write_all(outcome, staging)
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


# ------------------------------------------------------------------ the inbox run


STORE_FAILED = "报告存储（Parquet）写入失败：下次运行将重新解析本次解析的报告"


@dataclass
class RunResult:
    outcome: RunOutcome
    run_dir: Path
    plan: dict[str, int]  # reused / kept / parsed
    warnings: list[str] = field(default_factory=list)  # 中文, for the CLI summary


def run_steps(cfg: RunSettings, views: Views, runner: Runner = DIRECT) -> RunResult:
    """The inbox run: every step in turn, each called through ``runner``.

    Parsing is the one step spread out (``runner.map``: a call per partition; on a Dask cluster
    whole counties per call, each parsed in the worker's own process — a worker process is
    daemonic and may not start a pool of its own).  The whole-batch steps are single calls.  The
    report does not depend on the store being written (a cache and a mirror): a failed save is
    reported, not fatal.  Stopped early (Ctrl-C, SIGTERM, an error in a step), the run writes what
    it had done so far to ``<out>/<date>[-N]-incomplete/`` and raises
    :class:`nianbao.run.interrupt.Incomplete`."""
    track = interrupt.Tracker(inputs=[str(cfg.root)])
    with (
        rundirs.Staging(cfg.out, rundirs.run_date()) as st,
        interrupt.incomplete_run(track, incomplete_writer(st, views)),
    ):
        # no cyclic collection from the listing to the store's reports (no cycles are made): the plan
        # freezes the files and the reports together when it takes any from the store; else one
        # collection at the end, not a full one set off by the files' own rows (100,000 files:
        # ~0.5 s of collections walking them between the listing and the plan)
        with gc_paused():
            inv = runner.call(discover_stage, cfg.root, cfg.registry)
            track.found(files_found(inv))
            track.at("plan")
            plan = runner.call(plan_stage, inv, cfg.store, cfg.scope, cfg.by_county)
        track.at("parse")
        workers = 1 if cfg.by_county else cfg.workers
        parsed = runner.map(parse_stage, [(subs, idx, workers) for subs, idx in partition_inputs(inv, plan)])
        track.at("store")
        warnings = []
        try:
            runner.call(save_stage, cfg.store, inv, plan, parsed)
        except Exception:  # the store is a cache and a mirror: the report does not depend on it
            log.warning("store write failed", exc_info=True)
            warnings.append(STORE_FAILED)
        track.at("validate")
        outcome = runner.call(validate_stage, inv, plan, parsed, cfg.scope, cfg.store, st.gx_dir)
        track.validated(outcome)
        track.at("write")
        run_dir = runner.call(write_stage, outcome, cfg.out, cfg.root, st.path, st.date, views)
        track.published = run_dir
        track.at("publish")
        runner.call(publish_stage, cfg.out, run_dir, outcome)
    return RunResult(outcome, run_dir, plan_counts(plan, parsed), warnings)


def run_direct(cfg: RunSettings, views: Views) -> RunResult:
    """The inbox run in this process, without Prefect (``nianbao run --no-prefect``); the reports
    root page records the attempt (the flow's hooks do it under Prefect)."""
    t0 = time.perf_counter()
    with runstatus.attempt(cfg.out):  # the reports root page: running, then completed or failed
        result = run_steps(cfg, views, DIRECT)
    result.outcome.timings["total"] = time.perf_counter() - t0
    return result


class FilesFound(Collection[tuple[str, str | None]]):
    """(name as in the outputs, county) of every file found: what an incomplete run lists — a view
    of the listing, its pairs made only when iterated (a run that finishes never does: 100,000
    tuples, ~0.015 s, spared)."""

    __slots__ = ("_files",)

    def __init__(self, files: Sequence[InboxFile]) -> None:
        self._files = files

    def __len__(self) -> int:
        return len(self._files)

    def __iter__(self) -> Iterator[tuple[str, str | None]]:
        return ((f.sub.name, f.county) for f in self._files)  # (``sub.name`` is ``rel``: no property call)

    def __contains__(self, item: object) -> bool:
        return any(item == pair for pair in self)


def files_found(inv: Inventory) -> FilesFound:
    """(name as in the outputs, county) of every file found: what an incomplete run lists."""
    return FilesFound(inv.files)


def incomplete_writer(st: rundirs.Staging, views: Views) -> Callable[[RunOutcome], Path]:
    """Write an incomplete run's results into its staging folder and rename that to
    ``<date>[-N]-incomplete`` (:func:`nianbao.run.interrupt.incomplete_run`)."""

    def write(outcome: RunOutcome) -> Path:
        stage = outcome.info.incomplete.stage if outcome.info.incomplete else ""
        interrupt.write_incomplete(outcome, st.path, stage, views)
        return rundirs.publish(st.path, st.out, st.date, incomplete=True)

    return write


def timings(inv: Inventory, plan: Plan, parsed: Sequence[Parsed]) -> dict[str, float]:
    return {"discover": inv.seconds, "store_lookup": plan.seconds, "parse": sum(p.seconds for p in parsed)}


def plan_counts(plan: Plan, parsed: Sequence[Parsed]) -> dict[str, int]:
    return {"reused": plan.reused, "kept": plan.kept, "parsed": sum(len(p.index) for p in parsed)}


# ------------------------------------------------------------------ nianbao validate: files, no inbox


def validate_paths(
    paths: Sequence[Path],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_discovered: Callable[[int], None] | None = None,
    *,
    last_year: Sequence[Path] = (),
    registry: Path | None = None,
    renames: Path | None = None,
    gx_dir: Path | None = None,
    track: interrupt.Tracker | None = None,
) -> RunOutcome:
    """discover → parse → validate over files and folders (no inbox layout, no store, no memo; the
    command line writes the views).  ``last_year``: files/folders of earlier reports used as
    reference only (not validated); ``registry``: registry.csv; ``renames``: renames.csv (default:
    the one next to the registry); ``gx_dir``: where the batch expectations keep their context and
    Data Docs (``DIR/gx``); ``track``: follows the steps (for the results of a run that does not
    finish)."""
    t0 = time.perf_counter()
    track = track if track is not None else interrupt.Tracker()
    rundirs.checkpoint("discovering")
    files = discover(paths, stat=False)  # (no store: no size and time to compare)
    track.found([(f.rel, f.county) for f in files])
    track.at("parse")
    if on_discovered:
        on_discovered(len(files))
    t1 = time.perf_counter()
    reports = load_all([f.sub for f in files], workers, progress)
    rundirs.checkpoint("parsed")
    t2 = time.perf_counter()
    previous = (
        [r for r in load_all([f.sub for f in discover(last_year, stat=False)], workers) if r.readable]
        if last_year
        else []
    )
    agencies = load_registry(registry) if registry is not None else None
    if renames is None and registry is not None:
        renames = registry.parent / "renames.csv"
    rename_map = load_renames(renames) if renames is not None else {}
    track.at("validate")
    outcome = validate_reports(
        reports,
        [str(p) for p in paths],
        {"discover": t1 - t0, "parse": t2 - t1},
        previous=previous,
        registry=agencies,
        registry_file=str(registry) if registry is not None else None,
        renames=rename_map,
        gx_dir=gx_dir,
    )
    outcome.info = replace(
        outcome.info,
        renames_file=str(renames) if renames is not None and renames.exists() else None,
        discovered=len(files),
    )
    if len(outcome.files) != len(files):  # never silently drop a file
        raise RuntimeError(f"{len(files)} files found but {len(outcome.files)} accounted for")
    return outcome


__all__ = [
    "DIRECT",
    "Inventory",
    "Parsed",
    "Plan",
    "RunResult",
    "RunSettings",
    "Runner",
    "discover_stage",
    "merge",
    "parse_stage",
    "plan_stage",
    "publish_stage",
    "run_direct",
    "run_steps",
    "save_stage",
    "validate_paths",
    "validate_stage",
    "write_stage",
]
