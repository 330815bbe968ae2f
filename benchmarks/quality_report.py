#!/usr/bin/env python3
"""How long the quality report takes to render (not part of the test suite).

    .venv/bin/python benchmarks/quality_report.py --reports 2000 [--workdir DIR] [--keep]

Generates N synthetic reports (``nianbao.synth``: 10 counties, two years), validates them (not
timed), then times the views only: ``prepare`` (review against the previous run and the
acknowledgements, page names), ``write_html`` (index, rules and one page per report) and
``write_excel`` (findings.xlsx).  Prints ONE JSON object as the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nianbao.output.excel import write_excel  # noqa: E402
from nianbao.output.html import write_html  # noqa: E402
from nianbao.output.quality import prepare  # noqa: E402
from nianbao.pipeline import validate_paths  # noqa: E402
from nianbao.synth import SynthConfig, write_county_tree  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reports", type=int, default=2000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the generated reports and outputs")
    a = ap.parse_args()
    counties, years = 10, (2022, 2023)
    townships = max(1, a.reports // (counties * len(years)))
    work = a.workdir or Path(tempfile.mkdtemp(prefix="nianbao-qr-"))
    try:
        src, out = work / "in", work / "out"
        n = write_county_tree(src, SynthConfig(counties=counties, townships=townships, years=years))
        print(f"generated {n} reports in {src}", file=sys.stderr)
        outcome = validate_paths([src / str(y) for y in years])
        t0 = time.perf_counter()
        q = prepare(outcome, out)
        t1 = time.perf_counter()
        write_html(outcome, out, quality=q)
        t2 = time.perf_counter()
        write_excel(outcome, out, quality=q)
        t3 = time.perf_counter()
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        result = {
            "reports": len(outcome.files),
            "findings": len(outcome.findings),
            "prepare_s": round(t1 - t0, 3),
            "html_s": round(t2 - t1, 3),
            "excel_s": round(t3 - t2, 3),
            "total_s": round(t3 - t0, 3),
            "ms_per_report": round(1000 * (t3 - t0) / max(1, len(outcome.files)), 3),
            "output_mb": round(size / 1e6, 1),
        }
        print(json.dumps(result))
    finally:
        if not a.keep and a.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
