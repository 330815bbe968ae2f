"""Property-based fuzzing: mutated reports never crash the run, every file gets a status,
findings only name valid cell ids.  (The long campaign: scripts/fuzz_campaign.py.)"""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nianbao.domain.spec import is_valid_cell_id
from nianbao.read.load import load_bytes
from nianbao.validate.batch import validate_batch
from tests.helpers import busy_seed, seed_text
from tests.mutators import MUTATORS, mutate

BASES = (seed_text().encode("utf-8"), busy_seed().encode("utf-8"))


def check_batch(blobs: list[bytes]) -> None:
    reports = [load_bytes(f"f{i}.txt", b) for i, b in enumerate(blobs)]
    assert len(reports) == len(blobs)
    for r in reports:
        assert r.status in ("validated", "unreadable")
        assert (r.reason is None) == (r.status == "validated")
    findings = validate_batch(reports)
    for f in findings:
        assert 0 <= f.report < len(reports) and reports[f.report].readable
        for c in f.cells:
            assert is_valid_cell_id(c), (f.rule, c)
        assert f.message


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seeds=st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=4),
    rounds=st.integers(min_value=1, max_value=4),
)
def test_mutated_reports_never_crash(seeds: list[int], rounds: int) -> None:
    blobs = []
    for s in seeds:
        rng = random.Random(s)
        data, _ = mutate(BASES[s % 2], rng, rounds)
        blobs.append(data)
    check_batch(blobs)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=4000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    check_batch([data])


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=3000))
def test_arbitrary_text_never_crash(text: str) -> None:
    check_batch([text.encode("utf-8", errors="surrogatepass")])


def test_each_mutator_once() -> None:
    rng = random.Random(0)
    blobs = [fn(BASES[1], rng) for fn in MUTATORS.values()]
    check_batch(blobs)


def test_campaign_script_runs(tmp_path: Path) -> None:
    """The long campaign's own code path, on a tiny budget."""
    import subprocess
    import sys

    from tests.helpers import ROOT

    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "fuzz_campaign.py"),
            "--inputs",
            "60",
            "--batch",
            "30",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    import json

    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["inputs"] == 60 and res["crashes"] == 0 and res["unaccounted"] == 0
