"""`nianbao validate one.txt` loads only what one report needs (issue 16.4): no Great Expectations
(nothing a batch check could say about one report whose row checks pass), no Prefect (not asked for),
no hypothesis (a test dependency pandera would load) — checked in a fresh process, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers import ROOT, SEED, seed_text

HEAVY = ("great_expectations", "prefect", "dask", "distributed", "hypothesis", "sqlalchemy")

# the command line's own entry point, then the top-level packages it loaded
PROBE = f"""
import json, sys
from nianbao.cli.app import main
try:
    main()
except SystemExit as e:
    code = e.code
loaded = {{m.split(".")[0] for m, mod in sys.modules.items() if mod is not None}}  # None: blocked
print(json.dumps({{"exit": code, "loaded": sorted(loaded & set({HEAVY!r}))}}))
"""


def _validate(*args: str) -> dict[str, Any]:
    p = subprocess.run(
        [sys.executable, "-c", PROBE, "validate", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_validating_one_report_loads_neither_great_expectations_nor_prefect(tmp_path: Path) -> None:
    got = _validate(str(SEED.relative_to(ROOT)), "--out", str(tmp_path / "out"))
    assert got == {"exit": 0, "loaded": []}
    run = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert run["batch_checks"]["great_expectations"] == "not started: nothing to compare"
    assert set(run["skipped_checks"]) == {"M01", "M03"}  # the registry checks, as before
    subs = json.loads((tmp_path / "out" / "submissions.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in subs] == ["validated"]


def test_two_reports_still_run_the_batch_checks(tmp_path: Path) -> None:
    """Two reports of the same agency and year: M02 has something to say, so Great Expectations runs."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(seed_text(), encoding="utf-8")
    (tmp_path / "in" / "b.txt").write_text(seed_text() + "\n", encoding="utf-8")  # not byte-identical
    got = _validate(str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    assert "great_expectations" in got["loaded"] and "prefect" not in got["loaded"]
    findings = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert sorted(Path(f["file"]).name for f in findings if f["rule"] == "M02") == ["a.txt", "b.txt"]
