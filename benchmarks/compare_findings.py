#!/usr/bin/env python3
"""Behaviour check for refactorings: the same findings before and after (not part of the test suite).

    .venv/bin/python benchmarks/compare_findings.py save  BASELINE_DIR [--synth-townships N] [--tree DIR]
    .venv/bin/python benchmarks/compare_findings.py check BASELINE_DIR [--synth-townships N] [--tree DIR]

Runs ``nianbao validate`` on three inputs — the bundled sample (with its registry), the seed report
and a synthetic batch (``nianbao synth``, fixed seed; ``--synth-townships`` sets its size, 10,000
reports = ``--synth-counties 50 --synth-townships 100``) — and keeps each run's ``findings.json``
in a canonical form (sorted keys, findings sorted). ``save`` writes them under BASELINE_DIR;
``check`` compares with what ``save`` wrote there and prints the first differences. Exit code 0:
the same findings on every input; 1: a difference.  ``--tree DIR`` runs the code of another
checkout (e.g. ``git archive COMMIT | tar -x -C DIR``: the code before a change) with this venv.
Each run's CPU seconds (the validate process) are printed too, for a rough before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
TREE = [ROOT]  # the checkout whose code runs (--tree)
CPU: dict[str, float] = {}


def _canonical(findings_json: Path, work: Path) -> list[str]:
    """The findings as sorted JSON lines, the temporary folder's path replaced by ``WORK``; the
    summarised infos of ``run.json`` (``summaries``, since issue 16) expanded into one record per
    file, as findings.json held them before (so that a baseline saved before compares)."""
    rows = json.loads(findings_json.read_text(encoding="utf-8"))
    run_json = findings_json.parent / "run.json"
    summaries = json.loads(run_json.read_text(encoding="utf-8")).get("summaries") if run_json.exists() else None
    if summaries:
        subs = json.loads((findings_json.parent / "submissions.json").read_text(encoding="utf-8"))
        rows += _expand(summaries, subs)
    return sorted(json.dumps(row, ensure_ascii=False, sort_keys=True).replace(str(work), "WORK") for row in rows)


def _expand(summaries: list[dict], submissions: list[dict]) -> list[dict]:
    """run.json ``summaries`` as findings.json records (agency and year from submissions.json),
    the way :func:`nianbao.outcome.expand_summaries` reads them — written out here too so that the
    check does not depend on the code it checks."""
    by_file: dict[str, dict] = {}
    for sub in submissions:
        by_file.setdefault(sub["file"], sub)
    out = []
    for s in summaries:
        # "submissions": positions in submissions.json; "files": file names (before, or a report
        # with no record there)
        named = (
            [(submissions[i]["file"], submissions[i]) for i in s["submissions"]]
            if "submissions" in s
            else [(file, by_file.get(file, {})) for file in s["files"]]
        )
        for (file, sub), line in zip(named, s["lines"], strict=True):
            out.append(
                {
                    "file": file,
                    "agency": sub.get("agency"),
                    "year": sub.get("year"),
                    "rule": s["rule"],
                    "severity": s["severity"],
                    "cells": s["cells"],
                    "expected": s["expected"],
                    "actual": s["actual"],
                    "message": s["message"],
                    "line": line,
                    "fix": s["fix"],
                }
            )
    return out


def _nianbao(args: list[str], check: bool) -> None:
    """``nianbao ARGS`` with the code of TREE, run from the repository (its relative data paths)."""
    boot = f"import sys; sys.path.insert(0, {str(TREE[0])!r}); sys.argv[0] = 'nianbao'; "
    # the command's module: nianbao.cli.app since the package layout (nianbao.cli before it)
    module = "nianbao.cli.app" if (TREE[0] / "nianbao" / "cli" / "app.py").exists() else "nianbao.cli"
    boot += f"from {module} import main; main()"
    env = dict(os.environ, PYTHONPATH=str(TREE[0]))
    subprocess.run([str(PYTHON), "-c", boot, *args], cwd=ROOT, env=env, check=check, capture_output=True)


def _validate(args: list[str], out: Path) -> list[str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    _nianbao(["validate", *args, "--out", str(out)], False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[out.name] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return _canonical(out / "findings.json", out.parent)


def collect(work: Path, counties: int, townships: int) -> dict[str, list[str]]:
    synth = work / "synth"
    _nianbao(["synth", "--out", str(synth), "--counties", str(counties), "--townships", str(townships)], True)
    return {
        "bundled": _validate(["data/submissions", "--registry", "data/registry.csv"], work / "bundled"),
        "seed": _validate(["data/seed"], work / "seed"),
        "synth": _validate([str(synth / "submissions"), "--registry", str(synth / "registry.csv")], work / "synth-out"),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["save", "check"])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("--synth-counties", type=int, default=2)
    parser.add_argument("--synth-townships", type=int, default=20)
    parser.add_argument("--tree", type=Path, default=ROOT)
    ns = parser.parse_args()
    TREE[0] = ns.tree.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        runs = collect(Path(tmp), ns.synth_counties, ns.synth_townships)
    print("CPU seconds of validate: " + ", ".join(f"{k} {v:.1f}" for k, v in CPU.items()))
    if ns.mode == "save":
        ns.baseline.mkdir(parents=True, exist_ok=True)
        for name, rows in runs.items():
            (ns.baseline / f"{name}.jsonl").write_text("".join(r + "\n" for r in rows), encoding="utf-8")
            print(f"{name}: {len(rows)} findings saved")
        return 0
    same = True
    for name, rows in runs.items():
        before = (ns.baseline / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        if rows == before:
            print(f"{name}: {len(rows)} findings, unchanged")
            continue
        same = False
        gone = sorted(set(before) - set(rows))
        new = sorted(set(rows) - set(before))
        print(f"{name}: {len(before)} → {len(rows)} findings; {len(gone)} gone, {len(new)} new")
        for row in gone[:5]:
            print("  - " + row)
        for row in new[:5]:
            print("  + " + row)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
