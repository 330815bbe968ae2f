"""Scale-out stays honest: a few hundred synthetic reports with planted defects through the
single-machine path (``nianbao run --no-prefect``, parsing in a process pool) and through the
nightly flow on a Dask cluster of worker *processes* (parsed reports pickled between processes,
as on a real cluster) give the same ``submissions.json`` and ``findings.json``, and those findings
are the planted ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nianbao.testing.synth import SynthConfig, write_county_tree

pytestmark = pytest.mark.prefect

# 4 counties x 50 townships x 2 years = 400 reports: two years, so the cross-year rules run too;
# enough files for the single-machine run to parse in its process pool (400 and more), whose chunks
# travel back pickled column-wise, while each Dask task's reports travel one by one
SYNTH = SynthConfig(counties=4, townships=50, years=(2022, 2023), defect_rate=0.15, seed=16)
N_REPORTS = 400
IMPLEMENTED_FAMILIES = set("ABCDEFGHILP")


def _load(run_dir: Path, name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((run_dir / name).read_text(encoding="utf-8"))
    return data


def _parse_task_count() -> int:
    """The ``parse-changed`` task runs of the most recent flow run (Prefect's API)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        fr = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1)[0]
        trs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[fr.id])))
        return sum(t.name.rsplit("-", 1)[0] == "parse-changed" for t in trs)


def test_dask_workers_give_the_single_machine_findings(
    prefect_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster

    from flows.nightly import run as run_flow
    from nianbao.cli.app import app
    from nianbao.run import steps as stages

    inbox = tmp_path / "synth" / "submissions"
    assert write_county_tree(inbox, SYNTH) == N_REPORTS
    planted = json.loads((tmp_path / "synth" / "ground_truth.json").read_text(encoding="utf-8"))

    # the single-machine path
    args = ["run", "--root", str(inbox), "--out", str(tmp_path / "direct"), "--no-prefect", "--workers", "2"]
    r = CliRunner().invoke(app, [*args, "--store", str(tmp_path / "store-direct")])
    assert r.exit_code == 1, r.output  # errors found: the planted defects
    direct = tmp_path / "direct" / "latest"

    # the flow on Dask: one parse task per county (100 files each, a partition holds up to 150)
    monkeypatch.setattr(stages, "PARTITION_FILES", 150)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = run_flow(inbox, tmp_path / "dask", store=tmp_path / "store-dask", dask=cluster.scheduler_address)
    assert result.plan == {"reused": 0, "kept": 0, "parsed": N_REPORTS}
    assert _parse_task_count() == 4
    on_dask = tmp_path / "dask" / "latest"

    subs, finds = _load(on_dask, "submissions.json"), _load(on_dask, "findings.json")
    assert subs == _load(direct, "submissions.json")
    assert finds == _load(direct, "findings.json")

    # and they are the right findings: every report read, every planted defect found at its cells,
    # no error in a report without one
    assert len(subs) == N_REPORTS and {s["status"] for s in subs} == {"validated"}
    by_file: dict[str, list[dict[str, Any]]] = {}
    for f in finds:
        by_file.setdefault(f["file"], []).append(f)
    checked = 0
    for p in planted:
        if p["rules"][0][0] not in IMPLEMENTED_FAMILIES:
            continue
        checked += 1
        hits = [f for f in by_file.get(p["path"], []) if f["rule"] in p["rules"]]
        assert hits, (p["defect"], p["path"])
        for cell in p["cells"]:
            if not cell.endswith("*"):
                assert any(cell in f["cells"] for f in hits), (p["defect"], p["path"], cell)
    assert checked >= 30
    dirty = {p["path"] for p in planted}
    errors = {f["file"] for f in finds if f["severity"] == "error"}
    assert errors <= dirty
