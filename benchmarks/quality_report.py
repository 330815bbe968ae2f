#!/usr/bin/env python3
"""How long the output views take (not part of the test suite).

    .venv/bin/python benchmarks/quality_report.py --reports 100000 --workdir /tmp/nianbao-qr [--keep]

Generates N synthetic reports once (``nianbao.testing.synth``: counties of ``--per-county`` townships, two
years, ``--defect-rate`` of them with a planted defect, mixed encodings), validates them once (not
timed) and caches the outcome (pickle) in ``--workdir``: a second call with the same parameters
and work folder measures the views again without regenerating anything.  Then times every view
registered in ``nianbao.report.writer.VIEWS`` piece by piece, as ``write_all`` runs them:

  json_s            submissions.json, findings.json, run.json
  prepare_s         the review against the previous run and the acknowledgements, pages, counties
  changes_s         changes.json
  excel_and_html_s  findings.xlsx and index.html, counties/*.html, rules.html, reports/*.html,
                    shared with a forked helper process (two cores) — or, with ``--processes 1``
                    (one process), timed apart as excel_s and html_s
  total_s           all of the above (wall clock); cpu_s: CPU seconds of this process and the helper

Prints ONE JSON object as the last line of stdout (also pages, counties, output size, peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nianbao.outcome import RunOutcome  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rss_mb() -> float:
    """The current resident set size of this process."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def cpu_s() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def data(work: Path, n: int, per_county: int, defect_rate: float, seed: int, workers: int) -> RunOutcome:
    """The validated outcome of N synthetic reports (generated and validated once per work folder)."""
    from nianbao.run.steps import validate_paths
    from nianbao.testing.synth import SynthConfig, write_county_tree

    years = (2022, 2023)
    counties = max(1, round(n / (per_county * len(years))))
    key = f"n{n}-c{per_county}-d{defect_rate}-s{seed}"
    folder = work / key
    cache = folder / "outcome.pickle"
    if cache.is_file():
        t = time.perf_counter()
        with cache.open("rb") as f:
            outcome: RunOutcome = pickle.load(f)
        log(f"loaded the cached outcome of {len(outcome.files)} reports in {time.perf_counter() - t:.1f} s")
        return outcome
    src = folder / "in"
    shutil.rmtree(src, ignore_errors=True)
    t = time.perf_counter()
    cfg = SynthConfig(counties=counties, townships=per_county, years=years, defect_rate=defect_rate, seed=seed)
    written = write_county_tree(src, cfg)  # registry.csv beside the inbox, in folder
    log(f"generated {written} reports in {src} ({time.perf_counter() - t:.1f} s)")
    t = time.perf_counter()
    outcome = validate_paths([src / str(y) for y in years], workers, registry=folder / "registry.csv")
    for fo in outcome.files:  # the county folder of the inbox layout, as the nightly flow sets it
        rel = Path(fo.file).relative_to(src).parts
        fo.county = rel[1] if len(rel) == 3 else None
    log(f"validated in {time.perf_counter() - t:.1f} s: {len(outcome.findings)} findings")
    with cache.open("wb") as f:
        pickle.dump(outcome, f, protocol=pickle.HIGHEST_PROTOCOL)
    return outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=2000)
    ap.add_argument("--per-county", type=int, default=50, help="townships per county (each reports two years)")
    ap.add_argument("--defect-rate", type=float, default=0.10)
    ap.add_argument("--seed", type=int, default=20231231)
    ap.add_argument("--workers", type=int, default=None, help="parse workers (data generation only)")
    ap.add_argument("--workdir", type=Path, default=None, help="keeps the data for the next call")
    ap.add_argument("--keep", action="store_true", help="keep the outputs (under WORKDIR/out)")
    ap.add_argument("--processes", type=int, choices=(1, 2), default=None, help="NIANBAO_VIEW_PROCESSES")
    a = ap.parse_args()
    work = a.workdir or Path(tempfile.mkdtemp(prefix="nianbao-qr-"))
    work.mkdir(parents=True, exist_ok=True)
    out = work / "out"
    try:
        outcome = data(work, a.reports, a.per_county, a.defect_rate, a.seed, a.workers)
        shutil.rmtree(out, ignore_errors=True)
        result = measure(outcome, out, a.processes)
        log(json.dumps(result, ensure_ascii=False, indent=1))
        print(json.dumps(result, ensure_ascii=False))
    finally:
        if a.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
        elif not a.keep:
            shutil.rmtree(out, ignore_errors=True)


def views(outcome: RunOutcome, out: Path) -> dict[str, float]:
    """Every view, as ``write_all`` runs them, timed piece by piece."""
    from nianbao.io.atomic import inside, write_json
    from nianbao.report import html as html_view
    from nianbao.report.excel import write_excel
    from nianbao.report.history import changes_json
    from nianbao.report.jsonout import write_json_outputs
    from nianbao.report.parallel import cores
    from nianbao.report.quality import prepare

    times: dict[str, float] = {}
    t = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    write_json_outputs(outcome, out)
    times["json_s"] = time.perf_counter() - t
    t = time.perf_counter()
    q = prepare(outcome, out)
    times["prepare_s"] = time.perf_counter() - t
    t = time.perf_counter()
    write_json(inside(out, "changes.json"), changes_json(outcome, q.review), durable=False)
    times["changes_s"] = time.perf_counter() - t
    if cores() == 1:  # one process: the workbook and the pages one after the other, timed apart
        t = time.perf_counter()
        write_excel(outcome, out, quality=q)
        times["excel_s"] = time.perf_counter() - t
        t = time.perf_counter()
        html_view.write_html(outcome, out, quality=q)
        times["html_s"] = time.perf_counter() - t
    else:  # as write_quality_report does: the workbook is one more unit shared with the helper
        t = time.perf_counter()
        html_view.write_html(outcome, out, quality=q, extra=[lambda: write_excel(outcome, out, quality=q)])
        times["excel_and_html_s"] = time.perf_counter() - t
    return times


def measure(outcome: RunOutcome, out: Path, processes: int | None) -> dict[str, object]:
    """Time the views (``processes``: NIANBAO_VIEW_PROCESSES) and describe what they wrote."""
    from nianbao.report.parallel import cores, frozen_gc

    if processes is not None:
        os.environ["NIANBAO_VIEW_PROCESSES"] = str(processes)
    peak0 = peak_rss_mb()
    rss0 = rss_mb()
    c0 = cpu_s()
    with frozen_gc():  # as write_all does
        times = views(outcome, out)
    cpu = cpu_s() - c0
    total = sum(times.values())
    files = [p for p in out.rglob("*") if p.is_file()]
    sev = {s: sum(1 for f in outcome.findings if f.severity == s) for s in ("error", "warning", "info")}
    flagged = sum(1 for f in outcome.files if f.status != "validated" or f.errors or f.warnings)
    return {
        "reports": len(outcome.files),
        "findings": len(outcome.findings),
        "findings_by_severity": sev,
        "reports_with_errors_or_warnings_or_unreadable": flagged,
        "processes": cores(),
        **{k: round(v, 3) for k, v in times.items()},
        "total_s": round(total, 3),
        "cpu_s": round(cpu, 3),
        "ms_per_report": round(1000 * total / max(1, len(outcome.files)), 3),
        "report_pages": sum(1 for p in files if p.parent.name == "reports"),
        "county_pages": sum(1 for p in files if p.parent.name == "counties"),
        "output_files": len(files),
        "output_mb": round(sum(p.stat().st_size for p in files) / 1e6, 1),
        "rss_before_views_mb": round(rss0, 1),
        "peak_rss_before_views_mb": round(peak0, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "children_peak_rss_mb": round(peak_rss_mb(resource.RUSAGE_CHILDREN), 1),  # the helper (and parse workers)
        "load_average": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    main()
