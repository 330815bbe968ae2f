#!/usr/bin/env python3
"""End-to-end benchmark of nianbao on N synthetic reports (not part of the test suite).

    .venv/bin/python benchmarks/run.py --reports 10000 [--workdir DIR] [--keep]

Generates N reports with the synthetic generator (realistic sizes, ~10 % with one planted defect,
mixed encodings, some CRLF), runs the pipeline stages and prints human-readable progress on stderr
and ONE JSON object as the last line of stdout.  The main run, and each nightly run, runs in a
fresh process of its own, so its peak memory is its own.

  reports, bytes          what was measured
  read_s                  the floor: reading and decoding the same files (same process layout as parsing)
  parse_s                 discover + parse into canonical cells (process pool, both cores)
  validate_s              the batch validation: every rule family (one pandera validation per schema,
                          the text rules per chunk of 10,000 reports), findings built
  localise_s              error localisation of the reports that break sum rules
  report_s                writing the outputs (JSON, HTML, Excel …: every registered view)
  total_s                 parse + validate + localise + report
  floor_ratio             total_s / read_s (both measured in this run: holds on any machine);
                          parse_floor_ratio: parse_s / read_s
  read_cpu_s, parse_cpu_s  CPU seconds of the read floor and of the parse (the process and its pool
                          workers); parse_floor_cpu_ratio = parse_cpu_s / read_cpu_s (steadier than
                          the wall-time ratio on a loaded machine)
  one_report_s            wall time of a cold ``nianbao validate data/seed/`` (one report, a fresh
                          process: imports included), what the ad-hoc user waits
  load_average            the machine's 1-minute load average at the start and end of the run
  mem_free_mb             free memory (MemFree, Linux) when the measurements start, and
  reclaimed_pages         the pages the kernel scanned to reclaim memory (kswapd and direct, Linux)
                          while the floor and the main run ran: not 0 when the machine ran short of
                          free memory (its page cache full of earlier runs' files), and then every
                          page fault costs more — the parse (~4 GB of fresh pages at 100,000
                          reports) far more than the floor: measured 5.1-5.9x against 4.3-4.8x with
                          free memory (RESULTS.md). ``sync; echo 1 > /proc/sys/vm/drop_caches``
                          (root) frees the page cache before a run
  steal_s                 CPU seconds the hypervisor gave to other guests while the floor and the
                          main run ran (all cores, /proc/stat; Linux in a VM): not ~0 when the host
                          was busy, and then the ratios move with it
  reports_per_s           reports / total_s;  validate_reports_per_s: reports / validate_s
  validate_stages_s       the parts of validate_s (cross-year, prose, plausibility; schemas: the time
                          inside pandera's validate() of every schema)
  schema_validate_s       that pandera time alone; schema_reports_per_s: reports / schema_validate_s
  peak_rss_mb             peak resident memory of the main run's process (workers_peak_rss_mb: the
                          largest parse worker)
  naive_validate_s        pandera validation called per report, in a loop, on naive_reports reports
  naive_reports           the sample size of the naive loop
  speedup_vs_naive        naive per-report time / our per-report validation time
  gx_same_rules_s         Great Expectations evaluating the same sum rules (per-row expectations on
                          pandas) on gx_reports reports, scaled to N
  nightly_first_run_s     the nightly job's stages (``nianbao run --no-prefect``) on an empty store:
                          everything above plus the Parquet store and the batch checks (GX)
  incremental_rerun_s     the same job again over the unchanged inputs, into the same reports root
                          (store: nothing re-parsed; memo: validation and batch checks reused; every
                          finding turns from 新发现 to 仍存在, so the pages showing findings are
                          rendered again); incremental_rerun_share = incremental_rerun_s /
                          nightly_first_run_s; incremental_rerun_pages: pages rendered / reused
  incremental_rerun_load_and_validate_s   the rerun's load-and-validate stages only
  steady_rerun_s          a second unchanged rerun (the nightly job's usual night: nothing it shows
                          changed, every page but index.html reused); steady_rerun_share =
                          steady_rerun_s / nightly_first_run_s; steady_rerun_pages, _timings_s
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def generate(root: Path, n: int, seed: int) -> int:
    """N reports in counties of 50 townships, one year; ~10 % with one planted defect."""
    from nianbao.testing.synth import SynthConfig, encode, generate, render_text

    per_county = 50
    counties = max(1, (n + per_county - 1) // per_county)
    cfg = SynthConfig(
        counties=counties,
        townships=min(n, per_county),
        years=(2023,),
        defect_rate=0.10,
        seed=seed,
        defects=("digit_typo", "transposed", "b_only", "t4_total", "non_numeric", "negative", "total_blank"),
    )
    reports, _planted = generate(cfg)
    total = 0
    for d in reports[:n]:
        p = root / str(d.year) / d.county / d.file_name
        p.parent.mkdir(parents=True, exist_ok=True)
        data = encode(d, render_text(d))
        total += len(data)
        p.write_bytes(data)
    return total


def _read_chunk(paths: list[str]) -> int:
    from nianbao.io.textio import decode

    n = 0
    for p in paths:
        text, _enc = decode(Path(p).read_bytes())
        n += len(text)
    return n


def _meminfo_mb(field: str) -> int | None:
    """A field of /proc/meminfo in MB (None: not Linux)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name == field:
                return int(rest.split()[0]) // 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reclaim_scans() -> int | None:
    """Pages scanned for reclaim since boot, by kswapd and directly (/proc/vmstat; None: not Linux)."""
    try:
        counts = dict(line.split() for line in Path("/proc/vmstat").read_text().splitlines())
        return int(counts.get("pgscan_kswapd", 0)) + int(counts.get("pgscan_direct", 0))
    except (OSError, ValueError):
        return None


def _steal_s() -> float | None:
    """CPU seconds stolen from this machine by its hypervisor since boot, all cores (/proc/stat;
    None: not Linux)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def cpu_s() -> float:
    """CPU seconds of this process and its ended children (the pool workers): a measure that a
    loaded machine stretches far less than wall time."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


READ_CPU: list[float] = []  # the read floor's CPU seconds (set by read_floor)


def read_floor(files: list[Path], workers: int) -> float:
    t = time.perf_counter()
    c = cpu_s()
    names = [str(p) for p in files]
    size = max(50, len(names) // (workers * 8))
    chunks = [names[i : i + size] for i in range(0, len(names), size)]
    with ProcessPoolExecutor(max_workers=workers) as ex:
        list(ex.map(_read_chunk, chunks))
    READ_CPU.append(cpu_s() - c)
    return time.perf_counter() - t


def naive_loop(reports: list, sample: int) -> tuple[float, int]:
    """The obvious implementation: build the frames of ONE report and call pandera on each schema."""
    from pandera.errors import SchemaErrors

    from nianbao.domain.spec import Fmt
    from nianbao.rules.frames import cells_frame, layout_frame, meta_frame, table_frame
    from schemas import cells_schema, layout_schema, meta_schema, table_schema

    chosen = [r for r in reports if r.readable][:sample]
    t = time.perf_counter()
    for r in chosen:
        one = [r]
        cells = cells_frame(one)
        frames = [(cells_schema(), cells), (layout_schema(), layout_frame(one)), (meta_schema(), meta_frame(one))]
        fmt = r.fmt or Fmt.F2021
        for table in ("2", "3", "4"):
            frames.append((table_schema(fmt, table), table_frame(cells, fmt, table)))
        for schema, df in frames:
            if df.height == 0:
                continue
            with contextlib.suppress(SchemaErrors):
                schema.validate(df, lazy=True)
    return time.perf_counter() - t, len(chosen)


def gx_same_rules(reports: list, sample: int) -> tuple[float, int]:
    """Great Expectations, per-row expectations on pandas, for the same sum rules A–D."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx

    from nianbao.catalogue import linear_rules
    from nianbao.domain.spec import Fmt
    from nianbao.rules.frames import cells_frame, table_frame

    chosen = [r for r in reports if r.readable and r.fmt is Fmt.F2021][:sample]
    cells = cells_frame(chosen)
    t0 = time.perf_counter()
    ctx = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # older/newer config layout: progress bars only cost time
        pass
    ds = ctx.data_sources.add_pandas("bench")
    for table in ("3", "4"):
        wide = table_frame(cells, Fmt.F2021, table).fill_null(0)
        # each rule as one multicolumn sum over lhs and negated rhs: sum == 0 on every row
        pdf = wide.to_pandas()
        suite = gx.ExpectationSuite(name=f"t{table}")
        for k, lr in enumerate(r for r in linear_rules(Fmt.F2021) if r.table == table):
            cols = []
            for c in lr.lhs:
                cols.append(c)
            for c in lr.rhs:
                neg = f"neg_{k}_{c}"
                pdf[neg] = -pdf[c]
                cols.append(neg)
            suite.add_expectation(gx.expectations.ExpectMulticolumnSumToEqual(column_list=cols, sum_total=0))
        asset = ds.add_dataframe_asset(f"t{table}")
        bd = asset.add_batch_definition_whole_dataframe("all")
        batch = bd.get_batch(batch_parameters={"dataframe": pdf})
        batch.validate(suite)
    return time.perf_counter() - t0, len(chosen)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def workers_peak_rss_mb() -> float:
    """Peak resident memory of the largest child process that has ended (a parse worker), MB."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def child(stage: str, *args: str) -> dict[str, object]:
    """Run one measured stage in a fresh process (its peak memory is its own) and return its JSON."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", stage, *args]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{p.stderr[-4000:]}")
    for line in p.stderr.splitlines():
        log(f"  [{stage}] {line}")
    out: dict[str, object] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


ONE_REPORT_OUTPUTS = ("run.json", "findings.json")  # what a completed ``nianbao validate --out DIR`` writes


def one_report(workdir: Path) -> float:
    """Wall time of a cold ``nianbao validate`` of the seed report, in a fresh process."""
    exe = Path(sys.executable).with_name("nianbao")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from nianbao.cli.app import main; main()"]
    out = workdir / "one-report"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    p = subprocess.run(
        [*cmd, "validate", str(ROOT / "data" / "seed"), "--out", str(out)], capture_output=True, check=False
    )
    elapsed = time.perf_counter() - t
    # exit code 1 means "has findings" but also any uncaught error (an ImportError exits 1 too):
    # success is the run's output folder holding its results
    done = all((out / name).is_file() for name in ONE_REPORT_OUTPUTS)
    if p.returncode not in (0, 1) or not done or "Traceback" in p.stderr.decode(errors="replace"):
        raise SystemExit(
            f"nianbao validate of the seed failed ({p.returncode}):\n{p.stderr.decode(errors='replace')[-4000:]}"
        )
    return elapsed


def main_run(inbox: Path, out: Path, workers: int) -> dict[str, object]:
    """The main job in this process: discover, parse, validate, localise, write every view."""
    from nianbao.report.writer import write_all
    from nianbao.run.inputs import discover
    from nianbao.run.parsing import load_all
    from nianbao.run.validation import validate_reports

    res: dict[str, object] = {}
    t = time.perf_counter()
    c = cpu_s()
    reports = load_all([f.sub for f in discover([inbox], stat=False)], workers)  # (listed as `nianbao validate` lists)
    res["parse_s"] = round(time.perf_counter() - t, 3)
    # the pool's workers end in the background once the parse is done (nianbao.run.parsing): their
    # CPU counts once they have ended
    for p in multiprocessing.active_children():
        p.join()
    res["parse_cpu_s"] = round(cpu_s() - c, 3)
    log(f"parse {res['parse_s']} s")
    t = time.perf_counter()
    outcome = validate_reports(reports, [str(inbox)])
    res["validate_s"] = round(outcome.timings.get("validate", time.perf_counter() - t), 3)
    res["localise_s"] = round(outcome.timings.get("localise", 0.0), 3)
    res["validate_stages_s"] = {k: round(v, 3) for k, v in outcome.timings.items() if k.startswith("validate_")}
    res["findings"] = len(outcome.findings)
    log(f"validate {res['validate_s']} s, localise {res['localise_s']} s, {len(outcome.findings)} findings")
    t = time.perf_counter()
    write_all(outcome, out)
    res["report_s"] = round(time.perf_counter() - t, 3)
    log(f"report {res['report_s']} s")
    res["peak_rss_mb"] = peak_rss_mb()
    res["workers_peak_rss_mb"] = workers_peak_rss_mb()
    return res


def nightly_run(inbox: Path, out: Path, store: Path, workers: int) -> dict[str, object]:
    """One run of the nightly job's stages (``nianbao run --no-prefect``): store, batch checks, views."""
    from nianbao.report.views import REPORT_VIEWS
    from nianbao.run.steps import RunSettings, run_direct

    t = time.perf_counter()
    r = run_direct(RunSettings(inbox, out, store, workers=workers), REPORT_VIEWS)
    total = round(time.perf_counter() - t, 3)
    keys = ("discover", "store_lookup", "parse", "validate", "localise", "batch_expectations")
    tm = r.outcome.timings
    lv = round(sum(v for k, v in tm.items() if k in keys), 3)  # validate_* are parts of validate
    return {
        "total_s": total,
        "load_and_validate_s": lv,
        "timings_s": {k: round(v, 3) for k, v in tm.items()},
        "memo_hits": list(r.outcome.info.memo_hits or ()),
        "plan": r.plan,
        "pages": _pages(r.run_dir),
        "peak_rss_mb": peak_rss_mb(),
    }


def _pages(run_dir: Path) -> dict[str, int] | None:
    """Pages rendered and reused by a run (its ``pages.json``, nianbao.report.reuse)."""
    try:
        data = json.loads((run_dir / "pages.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {"rendered": data["rendered"], "reused": data["reused"]}


def sample_reports(files: list[Path], n: int, workers: int) -> list:
    from nianbao.run.inputs import discover
    from nianbao.run.parsing import load_all

    return load_all([f.sub for f in discover(files[:n], stat=False)], workers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--reuse", action="store_true", help="with --workdir: reuse the generated inbox when it has N files"
    )
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--naive-sample", type=int, default=200)
    ap.add_argument("--gx-sample", type=int, default=2000)
    ap.add_argument("--child", choices=("main", "nightly"), help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child == "main":
        print(json.dumps(main_run(args.workdir / "inbox", args.out, args.workers)))
        return
    if args.child == "nightly":
        print(json.dumps(nightly_run(args.workdir / "inbox", args.out, args.store, args.workers)))
        return
    if args.reports <= 0:
        ap.error("--reports N is required")

    work = args.workdir or Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
    inbox = work / "inbox"
    existing = sorted(p for p in inbox.rglob("*") if p.is_file()) if args.reuse and inbox.exists() else []
    if len(existing) == args.reports:
        nbytes = sum(p.stat().st_size for p in existing)
        log(f"reusing the {args.reports} reports in {inbox}")
    else:
        if inbox.exists():
            shutil.rmtree(inbox)
        inbox.mkdir(parents=True)
        t = time.perf_counter()
        nbytes = generate(inbox, args.reports, args.seed)
        log(f"generated {args.reports} reports ({nbytes / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s")
    for stale in ("out", "store", "out-1", "out-2", "nightly"):
        shutil.rmtree(work / stale, ignore_errors=True)

    # the generated files written out before anything is measured: else the kernel's writeback of
    # them (~800 MB at 100,000 reports) runs under the read floor and the parse, on the same cores
    t = time.perf_counter()
    if hasattr(os, "sync"):
        os.sync()
    log(f"synced the file system in {time.perf_counter() - t:.1f} s")
    files = sorted(p for p in inbox.rglob("*") if p.is_file())
    res: dict[str, object] = {"reports": len(files), "bytes": nbytes}
    load_start = round(os.getloadavg()[0], 2)
    res["mem_free_mb"] = _meminfo_mb("MemFree")
    scanned, stolen = _reclaim_scans(), _steal_s()
    res["read_s"] = round(read_floor(files, args.workers), 3)
    res["read_cpu_s"] = round(READ_CPU[-1], 3)
    log(f"read floor {res['read_s']} s")

    w = ["--workdir", str(work), "--workers", str(args.workers)]
    main = child("main", *w, "--out", str(work / "out"))
    after, stolen_after = _reclaim_scans(), _steal_s()
    res["reclaimed_pages"] = after - scanned if after is not None and scanned is not None else None
    res["steal_s"] = round(stolen_after - stolen, 2) if stolen_after is not None and stolen is not None else None
    if res["reclaimed_pages"]:
        log(
            f"the kernel reclaimed memory during the floor and the main run ({res['reclaimed_pages']} pages scanned): "
            "page faults cost more then, the parse's far more than the floor's; for ratios comparable between "
            "runs, free the page cache first (sync; echo 1 > /proc/sys/vm/drop_caches, as root)"
        )
    for k in ("parse_s", "validate_s", "localise_s", "report_s"):
        res[k] = main[k]
    total = sum(float(main[k]) for k in ("parse_s", "validate_s", "localise_s", "report_s"))  # type: ignore[arg-type]
    res["total_s"] = round(total, 3)
    res["reports_per_s"] = round(len(files) / total, 1)
    res["floor_ratio"] = round(total / float(res["read_s"]), 2) if res["read_s"] else None  # type: ignore[arg-type]
    parse_s = float(main["parse_s"])  # type: ignore[arg-type]
    res["parse_floor_ratio"] = round(parse_s / float(res["read_s"]), 2) if res["read_s"] else None  # type: ignore[arg-type]
    res["parse_cpu_s"] = main["parse_cpu_s"]
    res["parse_floor_cpu_ratio"] = round(float(main["parse_cpu_s"]) / float(res["read_cpu_s"]), 2)  # type: ignore[arg-type]
    res["one_report_s"] = round(one_report(work), 3)
    log(f"one report {res['one_report_s']} s")
    res["validate_reports_per_s"] = round(len(files) / float(main["validate_s"]), 1)  # type: ignore[arg-type]
    res["peak_rss_mb"] = main["peak_rss_mb"]
    res["workers_peak_rss_mb"] = main["workers_peak_rss_mb"]
    res["validate_stages_s"] = main["validate_stages_s"]
    schemas = float(main["validate_stages_s"].get("validate_schemas", 0.0))  # type: ignore[attr-defined]
    res["schema_validate_s"] = round(schemas, 3)
    res["schema_reports_per_s"] = round(len(files) / schemas, 1) if schemas else None
    res["findings"] = main["findings"]

    sample = sample_reports(files, max(args.naive_sample * 2, args.gx_sample), args.workers)
    naive_s, naive_n = naive_loop(sample, args.naive_sample)
    res["naive_validate_s"] = round(naive_s, 3)
    res["naive_reports"] = naive_n
    ours_per = float(res["validate_s"]) / max(1, len(files))  # type: ignore[arg-type]
    res["speedup_vs_naive"] = round((naive_s / max(1, naive_n)) / ours_per, 1) if ours_per else None
    log(f"naive loop {naive_s:.2f} s for {naive_n} reports")

    gx_s, gx_n = gx_same_rules(sample, args.gx_sample)
    res["gx_same_rules_s"] = round(gx_s / max(1, gx_n) * len(files), 3)
    res["gx_reports"] = gx_n
    log(f"GX same rules {gx_s:.2f} s for {gx_n} reports")
    del sample

    # the nightly job (store, batch checks, views) into one reports root, as the schedule runs it: the
    # first run, an unchanged rerun, and the steady state (a second unchanged rerun), each in its own process
    store = ["--store", str(work / "store")]
    nightly = ["--out", str(work / "nightly")]
    first = child("nightly", *w, *store, *nightly)
    second = child("nightly", *w, *store, *nightly)
    third = child("nightly", *w, *store, *nightly)
    res["nightly_first_run_s"] = first["total_s"]
    res["nightly_first_peak_rss_mb"] = first["peak_rss_mb"]
    res["nightly_first_timings_s"] = first["timings_s"]
    res["incremental_rerun_s"] = second["total_s"]
    res["incremental_rerun_load_and_validate_s"] = second["load_and_validate_s"]
    res["incremental_rerun_share"] = round(float(second["total_s"]) / float(first["total_s"]), 3)  # type: ignore[arg-type]
    res["incremental_rerun_peak_rss_mb"] = second["peak_rss_mb"]
    res["incremental_rerun_timings_s"] = second["timings_s"]
    res["incremental_rerun_memo"] = second["memo_hits"]
    res["incremental_rerun_pages"] = second["pages"]
    res["steady_rerun_s"] = third["total_s"]
    res["steady_rerun_share"] = round(float(third["total_s"]) / float(first["total_s"]), 3)  # type: ignore[arg-type]
    res["steady_rerun_timings_s"] = third["timings_s"]
    res["steady_rerun_pages"] = third["pages"]
    res["load_average"] = [load_start, round(os.getloadavg()[0], 2)]
    if not args.keep and args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
