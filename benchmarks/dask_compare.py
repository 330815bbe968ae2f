#!/usr/bin/env python3
"""Scale-out check and model: the flows' Dask path against the single-machine path.

    .venv/bin/python benchmarks/dask_compare.py --reports 20000 [--workdir DIR --reuse] [--workers 2]
                                                [--bandwidth-mb-s 100] [--pool-start forkserver]
    .venv/bin/python benchmarks/dask_compare.py --reports 20000 --model-from SAVED.json

1. generates N reports as ``benchmarks/run.py`` does (or reuses ``DIR/inbox``);
2. the single-machine path: ``nianbao run --no-prefect --workers W`` in a process of its own
   (every stage in one process, parsing in a process pool) — its wall time and stage times;
3. starts a local Dask cluster (``--workers`` worker processes, one thread each; its start time
   and a fresh worker's import time are the worker-start overhead) and nianbao's embedded Prefect
   server (``PREFECT_HOME`` under the work folder: your own Prefect is not touched);
4. measures the per-task overheads on that cluster with no-op Prefect tasks: an empty flow on the
   ``DaskTaskRunner`` (flow start, client connect) and tasks submitted one after another (the
   round trip of one task: Prefect task run + Dask scheduling);
5. runs the nightly flow on the cluster — whole counties bundled into parse tasks on the workers,
   every whole-batch step in the flow's process — and collects each task's timings from Prefect
   (task runs) and from Dask (the scheduler's task stream), and the workers' CPU seconds;
6. times the serialisation of parsed reports (pickle, as they travel from a worker or a pool
   process to the run's process) on a sample of the inbox, parsed in this process;
7. compares ``submissions.json`` and ``findings.json`` of the two run folders finding by finding;
8. models when the Dask path beats the single-machine path (Amdahl with the measured parallel
   share; break-even core count and batch size; what would change them) and prints ONE JSON
   object as the last line of stdout: ``reports, direct_s, dask_s, same_submissions,
   same_findings, differences``, ``measured`` (every timing above), ``model`` (its inputs and
   results) and ``what_if`` (a faster network, a slower parse, larger parse tasks).
   ``--model-from FILE`` recomputes the model from a saved JSON line without running anything.

The model (per-report figures measured here, on one core; the network bandwidth is an assumption:
a local cluster cannot measure it):

    single machine, c cores:  T1 = S·N + N·p/c + N·u
    Dask, P worker cores:     TD = S·N + F + W + ceil(k/P)·(N/k·p + o) + N·u + N·b/B

S: everything of the single-machine run but parsing (wall per report: validation, localisation,
batch checks, store, views — one process on both paths); p: parsing and pickling a report (one
core); u: unpickling it in the run's process; k = ceil(N / 2000) parse tasks (whole counties
bundled); o: one task's overhead (the Prefect task round trip and its engine on the worker);
F: the flow's fixed overhead on Dask; W: worker start (0 for a long-lived cluster); b: pickled
bytes per report; B: bandwidth into the run's machine.  Dask wins when
N·p/c − ceil(k/P)·(N/k·p + o) > F + W + N·b/B (S and u cancel: both paths pay them).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PARTITION_FILES = 2000  # nianbao.run.steps.PARTITION_FILES: files per parse task on a cluster
SERIAL_STEPS = ("discover", "load-changed", "save-store", "validate", "write-reports", "publish-summary")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def _load(run_dir: Path, name: str) -> Any:
    return json.loads((run_dir / name).read_text(encoding="utf-8"))


def compare(a: Path, b: Path) -> tuple[bool, bool, int, list[str]]:
    """(same submissions, same findings, number of findings, first differences) of two run folders."""
    diffs: list[str] = []
    sa, sb = _load(a, "submissions.json"), _load(b, "submissions.json")
    same_subs = sa == sb
    if not same_subs:
        if len(sa) != len(sb):
            diffs.append(f"submissions: {len(sa)} vs {len(sb)} files")
        diffs += [f"submission {x.get('file')}: {x} vs {y}" for x, y in zip(sa, sb, strict=False) if x != y][:5]
    fa, fb = _load(a, "findings.json"), _load(b, "findings.json")
    same_findings = fa == fb
    if not same_findings:
        if len(fa) != len(fb):
            diffs.append(f"findings: {len(fa)} vs {len(fb)}")
        diffs += [f"finding {x.get('file')} {x.get('rule')}: differs" for x, y in zip(fa, fb, strict=False) if x != y][
            :5
        ]
    return same_subs, same_findings, len(fa), diffs


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _worker_cpu() -> float:  # runs in each Dask worker (client.run)
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def stage_times(run_dir: Path) -> dict[str, float]:
    t: dict[str, float] = _load(run_dir, "run.json").get("timings_s") or {}
    return {k: round(float(v), 3) for k, v in t.items()}


# ------------------------------------------------------------------ the single-machine path


def direct_run(inbox: Path, work: Path, workers: int, pool_start: str, timeout: float) -> dict[str, Any]:
    """``nianbao run --no-prefect`` in a process of its own: wall, CPU (it and its pool), stages.

    ``pool_start``: how its parsing pool starts processes (``fork``, as the product does, or
    ``forkserver``: a fresh interpreter per worker, for a tree whose forked workers hang)."""
    args = ["run", "--root", str(inbox), "--out", str(work / "direct")]
    args += ["--store", str(work / "store-direct"), "--no-prefect", "--workers", str(workers)]
    cmd = [sys.executable, "-m", "nianbao.cli", *args]
    if pool_start != "fork":
        code = (
            f"import multiprocessing, sys; multiprocessing.set_start_method({pool_start!r}); "
            f"sys.argv = ['nianbao', *{args!r}]; from nianbao.cli.app import main; main()"
        )
        cmd = [sys.executable, "-c", code]
    la0, t = load_average(), time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        msg = f"direct run still running after {timeout:.0f} s: stopped (a hang? try --pool-start forkserver)"
        raise SystemExit(msg) from None
    wall = time.perf_counter() - t
    if r.returncode not in (0, 1):  # 1: errors found (the planted defects)
        raise SystemExit(f"direct run failed ({r.returncode}):\n{r.stderr[-3000:]}")
    stages = stage_times(work / "direct" / "latest")
    return {
        "wall_s": round(wall, 2),
        "stages_s": stages,
        "load_average": [la0, load_average()],
        "pool_start": pool_start,
    }


# ------------------------------------------------------------------ overheads on the cluster


def fresh_import_s() -> float:
    """What a new worker process pays before its first parse task: Python, Prefect's task engine
    and nianbao's reader imported (a fresh interpreter, timed inside it)."""
    code = (
        "import time; t = time.perf_counter(); import flows.tasks, nianbao.read.load, nianbao.run.parsing; "
        "print(time.perf_counter() - t)"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return round(float(r.stdout.strip().splitlines()[-1]), 3)


def task_overheads(address: str, n_tasks: int = 10) -> dict[str, float]:
    """An empty flow on the DaskTaskRunner (flow start, client connect) and ``n_tasks`` no-op tasks
    submitted one after another, each awaited: the round trip of one task on the cluster."""
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect_dask import DaskTaskRunner

    @task(name="noop", cache_policy=NO_CACHE, persist_result=False)
    def noop(x: int) -> int:
        return x

    runner: Any = DaskTaskRunner(address=address)

    @flow(name="dask-overhead-empty", task_runner=runner, validate_parameters=False)
    def empty() -> int:
        return 0

    @flow(name="dask-overhead-tasks", task_runner=runner.duplicate(), validate_parameters=False)
    def tasks(n: int) -> int:
        return sum(noop.submit(i).result() for i in range(n))

    empty()  # warm: the worker imports Prefect's task engine on its first task, not here
    tasks(2)
    t = time.perf_counter()
    empty()
    empty_s = time.perf_counter() - t
    t = time.perf_counter()
    tasks(n_tasks)
    tasks_s = time.perf_counter() - t
    return {
        "empty_flow_s": round(empty_s, 3),
        "noop_tasks": n_tasks,
        "noop_flow_s": round(tasks_s, 3),
        "task_round_trip_s": round(max(0.0, tasks_s - empty_s) / n_tasks, 4),
    }


def prefect_task_runs(flow_name: str) -> list[dict[str, Any]]:
    """Name, start and duration of every task run of the latest run of ``flow_name``."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        fr = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])), sort=FlowRunSort.START_TIME_DESC, limit=1
        )[0]
        trs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[fr.id])))
    out = []
    for t in trs:
        if t.start_time is None or t.end_time is None:
            continue
        out.append(
            {
                "name": t.name.rsplit("-", 1)[0],
                "start": t.start_time.timestamp(),
                "seconds": round((t.end_time - t.start_time).total_seconds(), 3),
            }
        )
    return sorted(out, key=lambda x: x["start"])


def task_stream_summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Per Dask task: its worker and the seconds of each action (compute, transfer, deserialize …)."""
    tasks: list[dict[str, Any]] = []
    for e in entries:
        acts: dict[str, float] = {}
        start, stop = math.inf, 0.0
        for ss in e.get("startstops", ()):
            acts[ss["action"]] = acts.get(ss["action"], 0.0) + ss["stop"] - ss["start"]
            start, stop = min(start, ss["start"]), max(stop, ss["stop"])
        tasks.append(
            {
                "key": str(e.get("key"))[:40],
                "worker": str(e.get("worker")),
                "start": start,
                "stop": stop,
                **{k: round(v, 3) for k, v in acts.items()},
            }
        )
    tasks.sort(key=lambda x: x["start"])
    if not tasks:
        return {"tasks": []}
    t0 = tasks[0]["start"]
    for x in tasks:
        x["start"], x["stop"] = round(x["start"] - t0, 3), round(x["stop"] - t0, 3)
    return {"tasks": tasks, "span_s": round(max(x["stop"] for x in tasks), 3)}


# ------------------------------------------------------------------ serialisation of parsed reports


def serialisation(inbox: Path, sample: int) -> dict[str, Any]:
    """Parse ``sample`` reports of the inbox in this process as a parse task on a Dask worker does
    (``load_all`` on one core), then pickle them as its result travels to the run's process (a
    plain list of reports; the process pool's chunks travel as ``ReportBatch``, column-wise)."""
    try:
        from nianbao.run.inputs import Submission
        from nianbao.run.parsing import load_all
    except ImportError:  # the layout before the run's steps moved parsing out of validation
        from nianbao.run.validation import Submission, load_all  # type: ignore[attr-defined,no-redef]

    files = sorted(p for p in inbox.rglob("*.txt") if p.is_file())[:sample]
    subs = [Submission(p, p.relative_to(inbox).as_posix()) for p in files]
    c, t = time.process_time(), time.perf_counter()
    reports = load_all(subs, 1)
    parse_cpu, parse_wall = time.process_time() - c, time.perf_counter() - t
    n = len(reports)
    out: dict[str, Any] = {
        "sample": n,
        "parse_cpu_ms_per_report": round(1000 * parse_cpu / n, 3),
        "parse_wall_ms_per_report": round(1000 * parse_wall / n, 3),
    }
    batches: list[tuple[str, Any]] = [("list", list(reports))]
    try:
        from nianbao.read.bulk import ReportBatch

        batches.append(("report_batch", ReportBatch(reports)))
    except ImportError:
        pass
    for name, obj in batches:
        c = time.process_time()
        blob = pickle.dumps(obj, protocol=5)
        dumps_cpu = time.process_time() - c
        c = time.process_time()
        pickle.loads(blob)
        loads_cpu = time.process_time() - c
        out[name] = {
            "bytes_per_report": round(len(blob) / n),
            "dumps_ms_per_report": round(1000 * dumps_cpu / n, 4),
            "loads_ms_per_report": round(1000 * loads_cpu / n, 4),
        }
    return out


# ------------------------------------------------------------------ the model


def model(
    n0: int,
    direct: dict[str, Any],
    dask: dict[str, Any],
    over: dict[str, Any],
    ser: dict[str, Any],
    bandwidth: float,
    parse_scale: float = 1.0,
    partition: int = PARTITION_FILES,
    pool_scale: float = 1.0,
) -> dict[str, Any]:
    """Amdahl with the measured parallel fraction, and where Dask breaks even (see the docstring).
    What-ifs: ``parse_scale`` multiplies the parse time on both paths, ``pool_scale`` on the
    single machine's pool alone; ``partition`` is the files per parse task."""
    ship = ser["list"]  # a parse task's result on Dask: a plain list of reports
    pool = ser.get("report_batch", ship)  # a pool chunk's result: column-wise (when the tree has it)
    parse = parse_scale * ser["parse_cpu_ms_per_report"] / 1000  # one core, as a parse task runs it
    p_dask, u_dask = parse + ship["dumps_ms_per_report"] / 1000, ship["loads_ms_per_report"] / 1000
    p_pool, u_pool = pool_scale * parse + pool["dumps_ms_per_report"] / 1000, pool["loads_ms_per_report"] / 1000
    b = ship["bytes_per_report"]
    o = over["task_round_trip_s"] + dask["worker_task_overhead_s"]
    f_fixed = over["empty_flow_s"] + len(SERIAL_STEPS) * over["task_round_trip_s"]
    w_start = dask["cluster_start_s"] + dask["fresh_worker_import_s"]
    # S: everything of the single-machine run but its parse stage (wall, per report; one process
    # runs it on both paths)
    s = max(0.0, direct["wall_s"] - direct["stages_s"].get("parse", 0.0)) / n0
    st = direct["stages_s"]
    movable = (st.get("validate_prose", 0.0) + st.get("localise", 0.0)) / n0  # per chunk / per report

    def t_single(n: int, c: int) -> float:
        return s * n + n * p_pool / c + n * u_pool

    def t_dask(n: int, cores: int, long_lived: bool = True) -> float:
        k = max(1, math.ceil(n / partition))
        waves = math.ceil(k / cores)
        fixed = f_fixed + (0.0 if long_lived else w_start)
        return s * n + fixed + waves * (n / k * p_dask + o) + n * u_dask + n * b / (bandwidth * 1e6)

    def cores_to_win(n: int, c: int, long_lived: bool = True) -> int | None:
        k = max(1, math.ceil(n / partition))
        for cores in range(1, k + 1):  # more cores than parse tasks add nothing
            if t_dask(n, cores, long_lived) < t_single(n, c):
                return cores
        return None

    def batch_to_win(cores: int, c: int, long_lived: bool = True) -> int | None:
        for n in range(2000, 10_000_001, 2000):
            if t_dask(n, cores, long_lived) < t_single(n, c):
                return n
        return None

    c_here = dask["workers"]  # this machine's cores
    one_core = s + p_pool + u_pool
    f = p_pool / one_core  # the parallel share of one core's run (Amdahl)
    f_plus = (p_pool + movable) / one_core  # if the text rules and localisation ran on the workers too
    sizes = (n0, 100_000, 1_000_000)
    clusters = (4, 8, 16, 32, 64)
    return {
        "inputs": {
            "p_parse_and_dumps_s_per_report": {"dask": round(p_dask, 6), "pool": round(p_pool, 6)},
            "u_loads_in_run_process_s_per_report": {"dask": round(u_dask, 6), "pool": round(u_pool, 6)},
            "s_serial_s_per_report": round(s, 6),
            "b_pickle_bytes_per_report": b,
            "o_task_overhead_s": round(o, 3),
            "F_flow_fixed_s": round(f_fixed, 3),
            "W_worker_start_s": round(w_start, 3),
            "B_bandwidth_mb_s": bandwidth,
            "partition_files": partition,
            "parse_scale": parse_scale,
            "this_machine_cores": c_here,
        },
        "parallel_share": round(f, 3),
        "parallel_share_if_prose_and_localise_distributed": round(f_plus, 3),
        "amdahl_speedup_over_one_core": {str(k): round(1 / ((1 - f) + f / k), 2) for k in (2, 4, 8, 16, 64)},
        "amdahl_limit": round(1 / (1 - f), 2),
        "amdahl_limit_if_prose_and_localise_distributed": round(1 / (1 - f_plus), 2) if f_plus < 1 else None,
        "max_parse_tasks": {str(n): math.ceil(n / partition) for n in sizes},
        "predicted_at_the_measured_point_s": {
            "direct": round(t_single(n0, c_here), 1),
            "dask_cluster_per_run": round(t_dask(n0, c_here, False), 1),
        },
        "break_even_cores_vs_this_machine": {
            str(n): {"long_lived_cluster": cores_to_win(n, c_here), "cluster_per_run": cores_to_win(n, c_here, False)}
            for n in sizes
        },
        "break_even_batch_vs_this_machine": {
            str(cores): {
                "long_lived_cluster": batch_to_win(cores, c_here),
                "cluster_per_run": batch_to_win(cores, c_here, False),
            }
            for cores in clusters
        },
        "break_even_cores_vs_one_machine_of": {
            str(c): {str(n): cores_to_win(n, c) for n in sizes[1:]} for c in (2, 4, 8, 16, 32)
        },
        "predicted_s_this_machine": {str(n): round(t_single(n, c_here), 1) for n in sizes},
        "predicted_s_dask": {str(n): {str(k): round(t_dask(n, k), 1) for k in clusters} for n in sizes},
        "speedup_vs_this_machine": {
            str(n): {str(k): round(t_single(n, c_here) / t_dask(n, k), 2) for k in clusters} for n in sizes
        },
    }


def models(res: dict[str, Any], bandwidth: float) -> dict[str, Any]:
    """The model at the measured figures, and what would change it."""
    m = res["measured"]
    args = (res["reports"], m["direct"], m["dask"], m["overheads"], m["serialisation"])
    worker_parse = sum(m["dask"]["parse_task_s"]) / res["reports"]  # wall seconds per report on the workers
    loaded = worker_parse / (m["serialisation"]["parse_cpu_ms_per_report"] / 1000)
    keys = ("break_even_cores_vs_this_machine", "break_even_batch_vs_this_machine", "speedup_vs_this_machine")

    def brief(mo: dict[str, Any]) -> dict[str, Any]:
        return {k: mo[k] for k in keys}

    return {
        "model": model(*args, bandwidth),
        "what_if": {
            "network_1000_mb_s": brief(model(*args, 1000.0)),
            f"parse_{loaded:.1f}x_slower_as_on_the_loaded_workers": brief(model(*args, bandwidth, loaded)),
            "parse_tasks_of_10000_files": brief(model(*args, bandwidth, partition=10_000)),
            # a pool forked from a process running polars' thread pool reads report by report
            # (nianbao.read.bulk.polars_pool_running): 7.6-8.0 against 4.7-4.8 CPU s for 10,000
            # reports by README's measurement of the bulk path
            "pool_parse_1.65x_slower_without_the_bulk_path": brief(model(*args, bandwidth, pool_scale=1.65)),
        },
    }


# ------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, required=True)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="reuse DIR/inbox when it has N files")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Dask worker processes (and pool size)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample", type=int, default=2000, help="reports parsed and pickled for the serialisation")
    ap.add_argument("--bandwidth-mb-s", type=float, default=100.0, help="assumed network into the run's machine")
    ap.add_argument("--pool-start", choices=("fork", "forkserver", "spawn"), default="fork")
    ap.add_argument("--direct-timeout", type=float, default=3600.0, help="seconds before the direct run is stopped")
    ap.add_argument("--model-from", type=Path, default=None, help="recompute the model from a saved JSON line")
    args = ap.parse_args()
    if args.model_from is not None:
        res = json.loads(args.model_from.read_text(encoding="utf-8").strip().splitlines()[-1])
        res.update(models(res, args.bandwidth_mb_s))
        print(json.dumps(res, ensure_ascii=False))
        return

    from run import generate

    work = (args.workdir or Path(tempfile.mkdtemp(prefix="nianbao-dask-"))).resolve()
    inbox = work / "inbox"
    existing = sum(1 for p in inbox.rglob("*") if p.is_file()) if args.reuse and inbox.exists() else 0
    if existing != args.reports:
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir(parents=True)
        t = time.perf_counter()
        generate(inbox, args.reports, args.seed)
        log(f"generated {args.reports} reports in {time.perf_counter() - t:.1f} s")
    for stale in ("direct", "dask", "store-direct", "store-dask", "prefect-home"):
        shutil.rmtree(work / stale, ignore_errors=True)

    direct = direct_run(inbox, work, args.workers, args.pool_start, args.direct_timeout)
    log(f"direct run {direct['wall_s']} s")

    # Prefect: nianbao's embedded server, in a home of its own; the workers inherit its URL
    os.environ["PREFECT_HOME"] = str(work / "prefect-home")
    os.environ.pop("PREFECT_API_URL", None)
    from nianbao.run import prefect_settings as ps

    ps.apply()
    server = ps.EphemeralServer()
    server.start()
    ps.use_ephemeral_server(server, server.wait_ready())

    from distributed import Client, LocalCluster

    from flows.nightly import NIGHTLY
    from flows.nightly import run as run_flow

    import_s = fresh_import_s()
    t = time.perf_counter()
    with (
        LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        cluster_start_s = time.perf_counter() - t
        over = task_overheads(cluster.scheduler_address)
        log(f"overheads {over}")
        client.get_task_stream(count=0)  # start recording
        stream_from = time.time()
        cpu0 = sum(client.run(_worker_cpu).values())
        la0, self0, t = load_average(), _self_cpu(), time.perf_counter()
        result = run_flow(inbox, work / "dask", store=work / "store-dask", dask=cluster.scheduler_address)
        dask_s = time.perf_counter() - t
        flow_cpu = _self_cpu() - self0
        workers_cpu = sum(client.run(_worker_cpu).values()) - cpu0
        stream = task_stream_summary(client.get_task_stream(start=stream_from))
    log(f"Dask run {dask_s:.1f} s")
    runs = prefect_task_runs(NIGHTLY)
    ps.finish(server)
    stages = stage_times(work / "dask" / "latest")
    parse_runs = [r for r in runs if r["name"] == "parse-changed"]
    compute = [x.get("compute", 0.0) for x in stream["tasks"]]
    dask = {
        "wall_s": round(dask_s, 2),
        "workers": args.workers,
        "cluster_start_s": round(cluster_start_s, 3),
        "fresh_worker_import_s": import_s,
        "flow_process_cpu_s": round(flow_cpu, 2),
        "workers_cpu_s": round(workers_cpu, 2),
        "stages_s": stages,
        "parse_tasks": len(parse_runs),
        "parse_task_s": [r["seconds"] for r in parse_runs],
        "parse_span_s": round(
            max((r["start"] + r["seconds"] for r in parse_runs), default=0.0)
            - min((r["start"] for r in parse_runs), default=0.0),
            3,
        ),
        "dask_compute_s": compute,
        # inside a Dask task, beyond the parse itself: Prefect's task engine on the worker
        "worker_task_overhead_s": round(max(0.0, sum(compute) - stages.get("parse", 0.0)) / max(1, len(compute)), 3),
        "serial_step_s": {n: sum(r["seconds"] for r in runs if r["name"] == n) for n in SERIAL_STEPS},
        "dask_task_stream": stream,
        "load_average": [la0, load_average()],
        "plan": result.plan,
    }
    ser = serialisation(inbox, args.sample)
    log(f"serialisation {ser}")
    same_subs, same_findings, n_findings, diffs = compare(work / "direct" / "latest", work / "dask" / "latest")
    res = {
        "reports": args.reports,
        "direct_s": direct["wall_s"],
        "dask_s": dask["wall_s"],
        "dask_workers": args.workers,
        "parse_tasks": dask["parse_tasks"],
        "findings": n_findings,
        "same_submissions": same_subs,
        "same_findings": same_findings,
        "differences": diffs,
        "measured": {"direct": direct, "dask": dask, "overheads": over, "serialisation": ser},
    }
    res.update(models(res, args.bandwidth_mb_s))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
