"""The run, without Prefect: discover -> load (parse) -> validate -> outcome.

The CLI and the Prefect tasks call these same functions.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from nianbao.catalogue import ruleset_version
from nianbao.domain.clock import now_iso
from nianbao.domain.model import ParsedReport, unreadable
from nianbao.domain.registry import Agency, load_registry, load_renames
from nianbao.localise import localisation_counts
from nianbao.outcome import FileOutcome, Finding, RunOutcome
from nianbao.read.grid import reading_confidence
from nianbao.read.load import load_file
from nianbao.run.hooks import checkpoint
from nianbao.run.interrupt import Tracker, check_stop, quiet_worker
from nianbao.validate.batch import sort_findings, validate_batch

PARALLEL_MIN_FILES = 400


@dataclass(frozen=True, slots=True)
class Submission:
    path: Path
    name: str  # as shown in the outputs
    problem: str | None = None  # a reason the file is not read at all (symlink, special file)


STATE_DIR = ".nianbao"


def discover(paths: Iterable[Path]) -> list[Submission]:
    """Every file under the given files/folders, sorted; symlinks and special files are listed, not read.

    The only folder skipped is nianbao's own state folder ``.nianbao/`` (the Parquet store of an inbox).
    """
    out: list[Submission] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        name = str(p)
        if name in seen:
            return
        seen.add(name)
        if p.is_symlink():
            out.append(Submission(p, name, "文件是符号链接，为安全起见未读取；请提交文件本身"))
        elif not p.is_file():
            out.append(Submission(p, name, "不是普通文件（设备、管道等），未读取"))
        else:
            out.append(Submission(p, name))

    for root in paths:
        if root.is_dir() and not root.is_symlink():
            for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
                dirnames.sort()
                d = Path(dirpath)
                for dn in list(dirnames):
                    if dn == STATE_DIR:  # nianbao's own state (the Parquet store), not a submission
                        dirnames.remove(dn)
                    elif (d / dn).is_symlink():
                        add(d / dn)
                        dirnames.remove(dn)
                for fn in sorted(filenames):
                    add(d / fn)
        else:
            add(root)
    return out


def _load_one(sub: Submission) -> ParsedReport:
    if sub.problem is not None:
        return unreadable(sub.name, "", 0, sub.problem)
    return load_file(sub.path, sub.name)


def _load_chunk(subs: Sequence[Submission]) -> list[ParsedReport]:
    checkpoint("parse-chunk")  # a test hook (nianbao.run.hooks), in the worker process
    return [_load_one(s) for s in subs]


def load_all(
    subs: Sequence[Submission],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ParsedReport]:
    """Parse every submission; in a process pool (both cores) when there are many."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if multiprocessing.current_process().daemon:
        workers = 1  # e.g. a Dask worker process: daemonic processes may not have children
    if workers <= 1 or len(subs) < PARALLEL_MIN_FILES:
        reports = []
        for s in subs:
            check_stop()  # a Prefect parse task's thread: the run was stopped (Ctrl-C, SIGTERM)
            reports.append(_load_one(s))
            if progress:
                progress(1)
        return reports
    size = max(50, len(subs) // (workers * 8))
    chunks = [subs[i : i + size] for i in range(0, len(subs), size)]
    out: list[ParsedReport] = []
    # The parsed reports are long-lived: the cyclic GC rescanning them on every generation-2 pass
    # costs seconds at 100,000 reports and frees nothing, so it is paused while they arrive.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        ex = ProcessPoolExecutor(max_workers=workers, initializer=quiet_worker)
        try:
            for part in ex.map(_load_chunk, chunks):
                check_stop()
                out.extend(part)
                if progress:
                    progress(len(part))
        except BaseException:  # Ctrl-C, SIGTERM, a broken pool: the run stops now, not after the queue
            _stop_pool(ex)
            raise
        ex.shutdown()
    finally:
        if was_enabled:
            gc.enable()
        gc.freeze()
    return out


def _stop_pool(ex: ProcessPoolExecutor) -> None:
    """Drop the queued chunks and end the workers at once (``shutdown`` alone would wait for the
    chunks they are parsing; the executor keeps its processes in ``_processes``)."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()


def summarise(reports: Sequence[ParsedReport], findings: Sequence[Finding]) -> list[FileOutcome]:
    counts: dict[int, list[int]] = {}
    for f in findings:
        c = counts.setdefault(f.report, [0, 0, 0])
        c[{"error": 0, "warning": 1}.get(f.severity, 2)] += 1
    files = []
    first_by_hash: dict[str, str] = {}
    for i, r in enumerate(reports):
        e, w, n = counts.get(i, [0, 0, 0])
        files.append(
            FileOutcome(
                file=r.file,
                sha256=r.sha256,
                status=r.status,
                reason=r.reason,
                agency=r.agency,
                year=r.year,
                format=r.fmt.value if r.fmt else None,
                errors=e,
                warnings=w,
                infos=n,
                size=r.size,
                source_type=r.source_type,
                encoding=r.encoding,
                duplicate_of=first_by_hash.get(r.sha256) if r.sha256 else None,
                reason_code=r.reason_code,
                report=i,
                reading=reading_confidence(r) if r.status == "validated" else None,
            )
        )
        if r.sha256:
            first_by_hash.setdefault(r.sha256, r.file)
    return files


def run_validation(
    reports: list[ParsedReport],
    timings: dict[str, float],
    *,
    previous: Sequence[ParsedReport] = (),
    registry: Sequence[Agency] | None = None,
    renames: Mapping[str, str] | None = None,
) -> tuple[list[Finding], dict[str, object]]:
    """The batch validation with its stage times put into ``timings``; (findings, the outcome's
    ``extra`` it adds: the cross-year summary)."""
    t0 = time.perf_counter()
    stages: dict[str, float] = {}
    findings = validate_batch(reports, previous=previous, renames=renames, registry=registry, timings=stages)
    timings["localise"] = stages.pop("localise", 0.0)
    timings["validate"] = time.perf_counter() - t0 - timings["localise"]
    timings |= {f"validate_{k}": v for k, v in stages.items()}
    extra: dict[str, object] = {
        "cross_year": {
            "reports_without_last_year": sum(1 for f in findings if f.rule == "E02"),
            "previous_reports": len(previous),
        },
        "localisation": localisation_counts(findings),
    }
    return findings, extra


def batch_extra(statistics: object, docs: Path | None, gx_dir: Path) -> dict[str, object]:
    """What the batch expectations add to the outcome's ``extra``."""
    extra: dict[str, object] = {"batch_checks": statistics}
    if docs is not None:
        extra["gx_docs"] = os.path.relpath(docs, gx_dir.parent).replace(os.sep, "/")
    return extra


def assemble_outcome(
    reports: list[ParsedReport],
    findings: list[Finding],
    inputs: Sequence[str],
    timings: dict[str, float],
    registry: Sequence[Agency] | None,
    skipped: Mapping[str, str],
    extra: Mapping[str, object],
) -> RunOutcome:
    """The run's one outcome object from the validated batch (per-file status and counts included)."""
    outcome = RunOutcome(
        files=summarise(reports, findings),
        findings=findings,
        reports=reports,
        ruleset_version=ruleset_version(),
        started_at=now_iso(),
        timings=timings,
        inputs=list(inputs),
        registry=list(registry) if registry is not None else None,
    )
    if skipped:
        outcome.extra["skipped_checks"] = dict(skipped)
    outcome.extra |= extra
    return outcome


def validate_reports(
    reports: list[ParsedReport],
    inputs: Sequence[str] = (),
    timings: dict[str, float] | None = None,
    *,
    previous: Sequence[ParsedReport] = (),
    registry: Sequence[Agency] | None = None,
    registry_file: str | None = None,
    renames: Mapping[str, str] | None = None,
    gx_dir: Path | None = None,
    expected_years: Sequence[int] | None = None,
) -> RunOutcome:
    """Validate the batch; ``previous``: last year's reports from elsewhere (e.g. the store) for the
    cross-year rules; ``registry``/``renames``: the expected agencies and old → new names;
    ``gx_dir``: run the batch expectations (Great Expectations) there — normally ``DIR/gx`` of the
    run's output folder ``DIR`` — and link their Data Docs as ``extra["gx_docs"]`` (relative to DIR)."""
    from nianbao.rules.expectations import BATCH_RULES, NOT_RUN

    timings = dict(timings or {})
    findings, vextra = run_validation(reports, timings, previous=previous, registry=registry, renames=renames)
    extra: dict[str, object] = {}
    skipped: dict[str, str] = {}
    if gx_dir is not None:
        from nianbao.rules.expectations import check_batch

        t1 = time.perf_counter()
        batch = check_batch(
            reports,
            gx_dir,
            registry=registry,
            registry_file=registry_file,
            renames=renames,
            expected_years=expected_years,
        )
        findings = sort_findings(findings + batch.findings)
        timings["batch_expectations"] = time.perf_counter() - t1
        skipped |= batch.skipped
        extra |= batch_extra(batch.statistics, batch.docs, gx_dir)
    else:
        skipped |= dict.fromkeys(BATCH_RULES, NOT_RUN)
    return assemble_outcome(reports, findings, inputs, timings, registry, skipped, extra | vextra)


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
    track: Tracker | None = None,
) -> RunOutcome:
    """``last_year``: files/folders of earlier reports used as reference only (not validated);
    ``registry``: registry.csv; ``renames``: renames.csv (default: the one next to the registry);
    ``gx_dir``: where the batch expectations keep their context and Data Docs (``DIR/gx``);
    ``track``: follows the stages (for the results of a run that does not finish)."""
    t0 = time.perf_counter()
    track = track if track is not None else Tracker()
    checkpoint("discovering")
    subs = discover(paths)
    track.found([(s.name, None) for s in subs])
    track.at("parse")
    if on_discovered:
        on_discovered(len(subs))
    t1 = time.perf_counter()
    reports = load_all(subs, workers, progress)
    checkpoint("parsed")
    t2 = time.perf_counter()
    previous = [r for r in load_all(discover(last_year), workers) if r.readable] if last_year else []
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
    if renames is not None and renames.exists():
        outcome.extra["renames_file"] = str(renames)
    outcome.extra["discovered"] = len(subs)
    if len(outcome.files) != len(subs):  # never silently drop a file
        raise RuntimeError(f"{len(subs)} files found but {len(outcome.files)} accounted for")
    return outcome
