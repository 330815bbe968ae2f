#!/usr/bin/env python3
"""Scale-out check: the same inbox through the flows' Dask path and without it gives the same findings.

    .venv/bin/python benchmarks/dask_compare.py --reports 100000 [--workdir DIR --reuse] [--workers 2]

1. generates N reports as ``benchmarks/run.py`` does (or reuses ``DIR/inbox``);
2. runs the reference: every stage in this process, parsing in a process pool
   (``nianbao run --no-prefect``);
3. runs the nightly Prefect flow with ``DaskTaskRunner`` on a local Dask cluster (``--workers``
   worker processes, one thread each) — whole counties bundled into parse tasks on the workers,
   validation as one task over the whole batch;
4. compares ``submissions.json`` and ``findings.json`` of the two run folders, file by file and
   finding by finding, and prints one JSON object as the last line of stdout:
   ``reports, direct_s, dask_s, dask_workers, parse_tasks, findings, same_submissions, same_findings,
   differences`` (the first differences, if any).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _load(run_dir: Path, name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((run_dir / name).read_text(encoding="utf-8"))
    return data


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, required=True)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="reuse DIR/inbox when it has N files")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Dask worker processes")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from run import generate

    work = args.workdir or Path(tempfile.mkdtemp(prefix="nianbao-dask-"))
    inbox = work / "inbox"
    existing = sum(1 for p in inbox.rglob("*") if p.is_file()) if args.reuse and inbox.exists() else 0
    if existing != args.reports:
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir(parents=True)
        t = time.perf_counter()
        generate(inbox, args.reports, args.seed)
        log(f"generated {args.reports} reports in {time.perf_counter() - t:.1f} s")
    for stale in ("direct", "dask", "store-direct", "store-dask"):
        shutil.rmtree(work / stale, ignore_errors=True)

    from nianbao.run.steps import RunSettings, run_direct

    t = time.perf_counter()
    direct = run_direct(RunSettings(inbox, work / "direct", work / "store-direct", workers=args.workers))
    direct_s = time.perf_counter() - t
    log(f"direct run {direct_s:.1f} s")
    del direct

    from distributed import LocalCluster

    from flows.nightly import run as run_flow

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        t = time.perf_counter()
        run_flow(inbox, work / "dask", store=work / "store-dask", dask=cluster.scheduler_address)
        dask_s = time.perf_counter() - t
    log(f"Dask run {dask_s:.1f} s")
    from nianbao.run.inputs import discover_inbox
    from nianbao.run.steps import bundle

    groups: dict[str, list[int]] = {}
    for i, f in enumerate(discover_inbox(inbox)):
        groups.setdefault(f.county or "", []).append(i)
    parse_tasks = len(bundle(groups))  # as the flow partitions a first run on a cluster
    same_subs, same_findings, n_findings, diffs = compare(work / "direct" / "latest", work / "dask" / "latest")
    res = {
        "reports": args.reports,
        "direct_s": round(direct_s, 1),
        "dask_s": round(dask_s, 1),
        "dask_workers": args.workers,
        "parse_tasks": parse_tasks,
        "findings": n_findings,
        "same_submissions": same_subs,
        "same_findings": same_findings,
        "differences": diffs,
    }
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
