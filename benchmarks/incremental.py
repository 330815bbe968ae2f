#!/usr/bin/env python3
"""Incremental runs and ad-hoc reruns of the nightly flow (not part of the test suite).

    .venv/bin/python benchmarks/incremental.py [--counties 10 --townships 100] [--server URL | --start-server]

1. Generates counties x townships x 2 years of synthetic reports (default 2,000) in a temporary inbox
   and runs the flow on it three times through Prefect: the first run parses everything, the second
   finds every file unchanged in the Parquet store (every finding turns from 新发现 to 仍存在: the
   pages showing findings are rendered again), the third is the steady state (every page but the
   overview reused, ``pages.json``).  Reports each run's load-and-validate time (discover, store
   look-ups, parsing, validation: the stage timings in ``run.json``), its wall time, the pages it
   rendered and reused, and the ratios to the first run.
2. Times an ad-hoc rerun of one township of the bundled sample county (``nianbao run --agency``, a
   new process, as a user would type it) after its report changed: with a running Prefect server,
   with the embedded one (no server configured), and without Prefect (``--no-prefect``).

``--start-server`` starts ``prefect server start`` on a free local port for the measurement (and
stops it after); ``--server URL`` uses a running one.  Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NIANBAO = [sys.executable, "-c", "from nianbao.cli.app import main; main()"]
LOAD_AND_VALIDATE = ("discover", "store_lookup", "parse", "validate", "localise", "batch_expectations")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_and_validate(run_dir: Path) -> float:
    t = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["timings_s"]
    return round(sum(v for k, v in t.items() if k in LOAD_AND_VALIDATE), 3)  # validate_* are parts of validate


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    t = time.perf_counter()
    p = subprocess.run([*NIANBAO, "run", *args], env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if p.returncode not in (0, 1) or "Traceback" in p.stderr:
        raise SystemExit(f"nianbao run failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return round(wall, 2), p.returncode


def start_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    cmd = [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api"
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return p, url
        except httpx.HTTPError:
            time.sleep(0.5)
    p.terminate()
    raise SystemExit("the Prefect server did not start")


def edit_one(path: Path, value: str) -> None:
    sys.path.insert(0, str(ROOT))
    from nianbao.io.textio import decode
    from tests.helpers import set_cells

    text, _enc = decode(path.read_bytes())
    path.write_bytes(set_cells(text, {"3:3.1:natural": value}).encode("utf-8"))


def batch_runs(work: Path, counties: int, townships: int, env: dict[str, str]) -> dict[str, Any]:
    """Two runs of the flow over the same generated inbox: everything parsed, then nothing."""
    res: dict[str, Any] = {}
    inbox = work / "inbox"
    cmd = [*NIANBAO, "synth", "--out", str(inbox), "--counties", str(counties), "--townships", str(townships)]
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    n = sum(1 for _ in inbox.rglob("*.txt"))
    res["reports"] = n
    out = work / "reports"
    for k in (1, 2, 3):
        wall, _code = run_cli(["--root", str(inbox), "--out", str(out)], env)
        lv = load_and_validate(out / "latest")
        res[f"run{k}_load_and_validate_s"] = lv
        res[f"run{k}_stages_s"] = json.loads((out / "latest" / "run.json").read_text(encoding="utf-8"))["timings_s"]
        res[f"run{k}_wall_s"] = wall
        pages = json.loads((out / "latest" / "pages.json").read_text(encoding="utf-8"))
        res[f"run{k}_pages"] = {"rendered": pages["rendered"], "reused": pages["reused"]}
        log(f"run {k} over {n} reports: load-and-validate {lv} s, wall {wall} s, pages {res[f'run{k}_pages']}")
    res["ratio"] = round(res["run2_load_and_validate_s"] / res["run1_load_and_validate_s"], 3)
    res["wall_ratio"] = round(res["run2_wall_s"] / res["run1_wall_s"], 3)
    res["steady_wall_ratio"] = round(res["run3_wall_s"] / res["run1_wall_s"], 3)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counties", type=int, default=10)
    ap.add_argument("--townships", type=int, default=100)
    ap.add_argument("--server", help="the API URL of a running Prefect server")
    ap.add_argument("--start-server", action="store_true", help="start a local Prefect server for the measurement")
    ap.add_argument("--repeat", type=int, default=3, help="ad-hoc reruns per mode (the median is reported)")
    ap.add_argument("--skip-batch", action="store_true", help="only the ad-hoc reruns")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
    res: dict[str, Any] = {"loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    server: subprocess.Popen[bytes] | None = None
    try:
        url = args.server
        if args.start_server and not url:
            log("starting a Prefect server …")
            server, url = start_server(work / "server-home")
        base_env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        flow_env = base_env | ({"PREFECT_API_URL": url} if url else {})

        if not args.skip_batch:
            res |= batch_runs(work, args.counties, args.townships, flow_env)

        county = work / "county" / "submissions"
        shutil.copytree(ROOT / "data" / "submissions", county)
        shutil.copy(ROOT / "data" / "registry.csv", county.parent / "registry.csv")
        target = county / "2023" / "示例县" / "示例县南川镇_2023.txt"
        modes: list[tuple[str, dict[str, str], list[str]]] = []
        if url:
            modes.append(("with_server", flow_env, []))
        warm = work / "embedded-home"
        modes.append(("embedded", base_env | {"PREFECT_HOME": str(warm)}, []))
        modes.append(("no_prefect", base_env, ["--no-prefect"]))
        for name, env, extra in modes:
            rout = work / f"adhoc-{name}"
            first, _ = run_cli(["--root", str(county), "--out", str(rout), *extra], env)  # fills store, warms up
            if name == "embedded":
                res["embedded_first_ever_s"] = first  # includes creating Prefect's database
            times = []
            for k in range(args.repeat):
                edit_one(target, str(100 + k))
                wall, _ = run_cli(
                    ["--root", str(county), "--out", str(rout), "--agency", "南川镇", "--year", "2023", *extra], env
                )
                times.append(wall)
            res[f"adhoc_{name}_s"] = sorted(times)[len(times) // 2]
            res[f"adhoc_{name}_all_s"] = times
            res[f"adhoc_{name}_stages_s"] = json.loads((rout / "latest" / "run.json").read_text(encoding="utf-8"))[
                "timings_s"
            ]
            log(f"ad-hoc rerun of one township ({name}): {times} s")
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    res["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
