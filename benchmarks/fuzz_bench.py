#!/usr/bin/env python3
"""Fuzz benchmark (issue 12): damaged reports plus hostile files through one `validate_paths` run.

    .venv/bin/python benchmarks/fuzz_bench.py [--damaged 1000] [--seed 1] [--workers N]
        [--no-hostile] [--no-per-report] [--keep DIR]

Generates clean synthetic township reports (nianbao.testing.synth, 2023), damages each copy the way a bad
export or a hostile upload does — digits of the table rows garbled (1–15 of them), cells mangled
(``tests.mutators.cell_garbage``), bytes flipped, or 1–3 rounds of any mutator — adds the hostile
files of ``tests/test_hostile.py`` (zip/XML bombs, a 10 MB line, deep nesting, garbage …), runs the
whole folder through :func:`nianbao.run.steps.validate_paths`, writes the JSON contract files and
checks that every file is in ``submissions.json`` exactly once.

Measured: the total wall time (discover → JSON written), the run's own stage times, the run's
localisation summary (``run.json`` ``localisation``, when the code has one), and — unless
``--no-per-report`` — each broken report's localisation time when localised alone after the run
(wall and CPU time, p50 / p99 / max, and the slowest report), and the load average (the machine is
shared: wall times under load are several times the CPU times).  Prints a table on stderr and one JSON object on the
last line of stdout; exit status 1 when a file is unaccounted for.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAMAGE = (("digits", 0.45), ("cells", 0.2), ("bytes", 0.2), ("mixed", 0.15))


def damaged_inputs(n: int, seed: int) -> list[tuple[str, bytes, str]]:
    """``n`` damaged copies of clean synthetic reports: (file name, bytes, kind of damage)."""
    from nianbao.testing.synth import SynthConfig, encode, generate, render_text
    from tests.mutators import byte_flips, cell_garbage, garble_digits, mutate

    bases_n = min(200, max(10, n // 5))
    ds, _ = generate(
        SynthConfig(
            counties=max(1, bases_n // 50), townships=min(50, bases_n), years=(2023,), defect_rate=0.0, seed=seed
        )
    )
    bases = [encode(d, render_text(d)) for d in ds]
    plain = [render_text(d).encode("utf-8") for d in ds]
    rng = random.Random(seed)
    kinds = [k for k, _w in DAMAGE]
    weights = [w for _k, w in DAMAGE]
    out: list[tuple[str, bytes, str]] = []
    for i in range(n):
        b = rng.randrange(len(bases))
        kind = rng.choices(kinds, weights)[0]
        if kind == "digits":
            data = garble_digits(plain[b], rng)
        elif kind == "cells":
            data = cell_garbage(plain[b], rng)
        elif kind == "bytes":
            data = byte_flips(bases[b], rng)
        else:
            data, _ = mutate(bases[b], rng, rng.randint(1, 3))
        out.append((f"damaged{i:05d}.txt", data, kind))
    return out


def hostile_inputs() -> list[tuple[str, bytes]]:
    from tests.io.test_hostile import CASES

    return [(f"hostile-{name}", make()) for name, make, _code, _reason in CASES]


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def per_report_times(outcome) -> list[tuple[float, float, str, str]]:  # type: ignore[no-untyped-def]
    """Each report with a sum-rule finding localised alone (its own closed form / search, no batch
    budget): (wall seconds, CPU seconds of this process, file, status)."""
    from nianbao import localise as L
    from nianbao.catalogue import sum_rule_codes
    from nianbao.validate.batch import prev_values

    broken = sorted({f.report for f in outcome.findings if f.rule in sum_rule_codes() and f.report >= 0})
    prev = prev_values(outcome.reports)
    out = []
    for ri in broken:
        p = L.problem(ri, outcome.reports[ri], prev.get(ri))
        if p is None:
            continue
        t, c = time.perf_counter(), time.process_time()
        locs = L.localise([p])
        dt, dc = time.perf_counter() - t, time.process_time() - c
        loc = locs.get(ri)
        out.append((dt, dc, outcome.reports[ri].file, loc.status if loc is not None else "-"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--damaged", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--no-hostile", action="store_true")
    ap.add_argument("--no-per-report", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="keep the inbox and the JSON outputs here")
    args = ap.parse_args()

    from nianbao.report.jsonout import write_json_outputs
    from nianbao.run.steps import validate_paths

    work = args.keep or Path(tempfile.mkdtemp(prefix="nianbao-fuzzbench-"))
    inbox, out = work / "in", work / "out"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    out.mkdir(parents=True, exist_ok=True)
    damaged = damaged_inputs(args.damaged, args.seed)
    kind_of = {}
    for name, data, kind in damaged:
        (inbox / name).write_bytes(data)
        kind_of[name] = kind
    hostile = [] if args.no_hostile else hostile_inputs()
    for name, data in hostile:
        (inbox / name).write_bytes(data)
    n_files = len(damaged) + len(hostile)
    print(f"{len(damaged)} damaged + {len(hostile)} hostile files in {inbox}", file=sys.stderr)

    t0 = time.perf_counter()
    outcome = validate_paths([inbox], workers=args.workers)
    write_json_outputs(outcome, out)
    wall = time.perf_counter() - t0

    subs = json.loads((out / "submissions.json").read_text(encoding="utf-8"))
    listed = [Path(s["file"]).name for s in subs]
    on_disk = sorted(p.name for p in inbox.iterdir())
    unaccounted = sorted(set(on_disk) - set(listed))
    listed_twice = sorted({x for x in listed if listed.count(x) > 1}) if len(listed) != len(set(listed)) else []
    by_status: dict[str, int] = {}
    for s in subs:
        by_status[s["status"]] = by_status.get(s["status"], 0) + 1
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    summary: dict[str, object] = {
        "damaged": len(damaged),
        "hostile": len(hostile),
        "files": n_files,
        "listed": len(listed),
        "unaccounted": len(unaccounted),
        "listed_twice": len(listed_twice),
        "by_status": by_status,
        "wall_s": round(wall, 2),
        "timings_s": run.get("timings_s", {}),
        "localisation": run.get("localisation"),
        "errors": run.get("errors"),
    }
    if not args.no_per_report:
        t1 = time.perf_counter()
        times = per_report_times(outcome)
        secs = [t for t, _c, _f, _s in times]
        cpus = [c for _t, c, _f, _s in times]
        slow = max(times, default=(0.0, 0.0, "", ""))
        slow_cpu = max(times, default=(0.0, 0.0, "", ""), key=lambda t: t[1])
        statuses: dict[str, int] = {}
        for _t, _c, _f, st in times:
            statuses[st] = statuses.get(st, 0) + 1
        summary["per_report"] = {
            "reports": len(times),
            "p50_s": round(pct(secs, 0.5), 4),
            "p99_s": round(pct(secs, 0.99), 4),
            "max_s": round(max(secs, default=0.0), 4),
            "cpu_p50_s": round(pct(cpus, 0.5), 4),
            "cpu_p99_s": round(pct(cpus, 0.99), 4),
            "cpu_max_s": round(max(cpus, default=0.0), 4),
            "sum_s": round(sum(secs), 2),
            "slowest": {
                "file": Path(slow[2]).name,
                "s": round(slow[0], 4),
                "cpu_s": round(slow[1], 4),
                "status": slow[3],
                "damage": kind_of.get(Path(slow[2]).name),
            },
            "slowest_cpu": {"file": Path(slow_cpu[2]).name, "cpu_s": round(slow_cpu[1], 4), "status": slow_cpu[3]},
            "over_0_2_s": sum(1 for t in secs if t > 0.2),
            "cpu_over_0_2_s": sum(1 for c in cpus if c > 0.2),
            "statuses": statuses,
            "pass_s": round(time.perf_counter() - t1, 2),
        }
        print(
            f"per-report localisation over {len(times)} broken reports: p50 {pct(secs, 0.5) * 1000:.1f} ms, "
            f"p99 {pct(secs, 0.99) * 1000:.1f} ms, max {max(secs, default=0.0) * 1000:.1f} ms "
            f"({Path(slow[2]).name}, {slow[3]}); CPU p50 {pct(cpus, 0.5) * 1000:.1f} ms, "
            f"p99 {pct(cpus, 0.99) * 1000:.1f} ms, max {max(cpus, default=0.0) * 1000:.1f} ms",
            file=sys.stderr,
        )
    summary["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    print(
        f"wall {wall:.1f} s for {n_files} files; listed {len(listed)}, unaccounted {len(unaccounted)}; "
        f"run localise {run.get('timings_s', {}).get('localise')} s",
        file=sys.stderr,
    )
    for name in unaccounted[:10]:
        print(f"UNACCOUNTED: {name}", file=sys.stderr)
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary, ensure_ascii=False))
    sys.exit(1 if unaccounted or listed_twice else 0)


if __name__ == "__main__":
    main()
