"""``nianbao run`` / ``nianbao schedule`` from the command line: arguments, output, and quiet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nianbao.cli.app import app
from nianbao.run.folders import run_date
from tests.helpers import ROOT, copy_sample_inbox

runner = CliRunner()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return copy_sample_inbox(tmp_path)


def test_run_without_prefect(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    r = runner.invoke(app, ["run", "--root", str(inbox), "--out", str(out), "--no-prefect"])
    assert r.exit_code == 1, r.output  # the sample's planted defects
    assert "共发现 25 个文件" in r.output and "解析 25 个文件" in r.output
    assert "各县（区）报送情况" in r.output and "沙坡头区" in r.output
    run = json.loads((out / "latest" / "run.json").read_text(encoding="utf-8"))
    assert run["files"] == 25 and run["incremental"] == {"reused": 0, "kept": 0, "parsed": 25}
    r2 = runner.invoke(app, ["run", "--root", str(inbox), "--out", str(out), "--no-prefect", "--county", "沙坡头区"])
    assert r2.exit_code == 1
    assert "本次重新读取范围：沙坡头区；解析 0 个文件，未改动而复用 1 个，范围之外沿用上次结果 24 个" in r2.output
    day = run_date()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        day,
        f"{day}-2",
        "index.html",  # the reports root's status page (runstatus)
        "latest",
        "latest.json",
        "status.json",
    ]
    assert (out / "latest").resolve() == out / f"{day}-2"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--root", "/nonexistent/inbox"], "找不到报告收件目录"),
        (
            ["run", "--root", str(ROOT / "data" / "submissions"), "--registry", "/nonexistent.csv"],
            "找不到应报送机关名单",
        ),
        (["run", "--root", str(ROOT / "data" / "submissions"), "--dask", "tcp://x:1", "--no-prefect"], "--dask"),
        (["schedule", "--time", "25:00"], "时间格式不对"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and message in r.output, r.output


def test_schedule_needs_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import nianbao.run.prefect_settings as ps

    monkeypatch.setattr(ps, "configured_api_url", lambda: None)
    r = runner.invoke(app, ["schedule", "--root", str(ROOT / "data" / "submissions")])
    assert r.exit_code == 2 and "prefect server start" in r.output


def test_prefect_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    import nianbao.run.prefect_settings as ps

    assert ps.DEFAULTS["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert ps.DEFAULTS["DO_NOT_TRACK"] == "1"
    assert int(ps.DEFAULTS["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]) >= 60
    ps.apply()
    from prefect.settings import get_current_settings

    s = get_current_settings()
    assert s.server.analytics_enabled is False
    assert s.server.ephemeral.startup_timeout_seconds >= 60


@pytest.mark.prefect
@pytest.mark.slow
def test_embedded_default_is_quiet(inbox: Path, tmp_path: Path) -> None:
    """No Prefect server configured: the run uses the embedded one and prints no traceback,
    no error or warning line — only the Chinese summary."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.pop("DO_NOT_TRACK", None)
    out = tmp_path / "reports"
    cmd = [sys.executable, "-c", "from nianbao.cli.app import main; main()", "run"]
    p = subprocess.run(
        [*cmd, "--root", str(inbox), "--out", str(out)], env=env, capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 1, p.stdout + p.stderr
    noise = [
        ln
        for ln in p.stderr.splitlines()
        if ln.strip() and not ln.startswith("正在启动内置 Prefect 服务")  # the only line a slow first start shows
    ]
    assert noise == [], p.stderr
    for bad in ("Traceback", "ERROR", "WARNING", "Error", "telemetry"):
        assert bad not in p.stdout, p.stdout
    assert "校验完成" in p.stdout and "最新报告" in p.stdout
    assert (out / "latest" / "submissions.json").is_file()


def test_nightly_deployment_schedule() -> None:
    from flows.nightly import nightly_deployment

    d = nightly_deployment("02:30", root="/srv/inbox", out="/srv/reports", store=None)
    assert d.name == "nianbao-nightly" and d.entrypoint == "flows.nightly.nightly"
    (sched,) = d.schedules
    assert (sched.schedule.cron, sched.schedule.timezone) == ("30 2 * * *", "Asia/Shanghai")
    assert d.parameters == {"root": "/srv/inbox", "out": "/srv/reports"}
    assert nightly_deployment("23:05").schedules[0].schedule.cron == "5 23 * * *"


def test_unreachable_server_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import nianbao.run.prefect_settings as ps

    monkeypatch.setattr(ps, "configured_api_url", lambda: "http://127.0.0.1:1/api")
    r = runner.invoke(app, ["run", "--root", str(ROOT / "data" / "submissions"), "--out", str(tmp_path)])
    assert r.exit_code == 2 and "连接不上 Prefect 服务器 http://127.0.0.1:1/api" in r.output, r.output
    assert not (tmp_path / "latest").exists()
