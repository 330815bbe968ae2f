"""The ops engineer's side: a quiet Prefect server from the shipped settings, notifications for failed
or missed nightly runs (Prefect automations), the reports root page saying how fresh the data is,
counts in the run's log, short run names, tests kept off the user's Prefect database."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows import nightly  # imported first: it sets up Prefect's logging, which resets the root handlers
from nianbao.cli.run import start_notice
from nianbao.run import prefect_settings
from nianbao.run import status as runstatus
from tests.helpers import ROOT

SAMPLE = ROOT / "data" / "submissions"
TELEMETRY_OFF = {
    "server.analytics_enabled": False,
    "server.ui.show_promotional_content": False,
    "cloud.enable_orchestration_telemetry": False,
    "telemetry.enable_resource_metrics": False,
}
_PROBE = (
    "import json, os; from prefect.settings import get_current_settings as g; s = g(); "
    "print(json.dumps({'server.analytics_enabled': s.server.analytics_enabled, "
    "'server.ui.show_promotional_content': s.server.ui.show_promotional_content, "
    "'cloud.enable_orchestration_telemetry': s.cloud.enable_orchestration_telemetry, "
    "'telemetry.enable_resource_metrics': s.telemetry.enable_resource_metrics, "
    "'DO_NOT_TRACK': os.environ.get('DO_NOT_TRACK')}))"
)


def _plain_env(home: Path) -> dict[str, str]:
    """The environment of a plain shell: no Prefect or nianbao settings at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NIANBAO_")) and k != "DO_NOT_TRACK"}
    env["PREFECT_HOME"] = str(home)
    return env


def _settings_seen(cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", _PROBE], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    result: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- a plain `prefect server start`


def test_prefect_toml_quiets_a_server_started_from_the_repository(tmp_path: Path) -> None:
    """`prefect server start` run from the repository (as README tells ops) reads ./prefect.toml."""
    seen = _settings_seen(ROOT, _plain_env(tmp_path))
    assert {k: seen[k] for k in TELEMETRY_OFF} == TELEMETRY_OFF
    # … and without the file Prefect's defaults are on: the file is what turns them off
    elsewhere = _settings_seen(tmp_path, _plain_env(tmp_path))
    assert elsewhere["server.analytics_enabled"] is True


def test_env_file_quiets_a_server_started_anywhere(tmp_path: Path) -> None:
    """deploy/prefect.env (systemd EnvironmentFile=, or sourced) also sets DO_NOT_TRACK, which only
    the environment can set; every variable in it is a real Prefect setting nianbao itself applies."""
    pairs = dict(
        line.split("=", 1)
        for line in (ROOT / "deploy" / "prefect.env").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert pairs["DO_NOT_TRACK"] == "1"
    for k, v in pairs.items():
        assert prefect_settings.DEFAULTS.get(k) == v, k  # the same values as nianbao's own runs
    env = _plain_env(tmp_path) | pairs
    seen = _settings_seen(tmp_path, env)
    assert {k: seen[k] for k in TELEMETRY_OFF} == TELEMETRY_OFF and seen["DO_NOT_TRACK"] == "1"


def test_tests_use_their_own_prefect_home() -> None:
    """The test session never shares ~/.prefect/prefect.db (or its profiles) with a real server."""
    from prefect.settings import get_current_settings

    home = Path(get_current_settings().home).resolve()
    assert home != (Path.home() / ".prefect").resolve()
    assert home.is_relative_to(Path(tempfile.gettempdir()).resolve())
    # the session's own database: the home's prefect.db, or the test harness's temporary one once it started
    db = prefect_settings.database_path()
    assert db is not None and db.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve())
    assert db.resolve() != (Path.home() / ".prefect" / "prefect.db").resolve()
    assert "PREFECT_API_URL" not in os.environ or os.environ["PREFECT_API_URL"].startswith("http://127.0.0.1")


def test_first_use_notice_only_the_first_time(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_HOME, PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    # the default database (in the home), whatever the session's test harness configured
    with temporary_settings(
        updates={PREFECT_HOME: str(tmp_path)}, restore_defaults={PREFECT_SERVER_DATABASE_CONNECTION_URL}
    ):
        assert prefect_settings.first_use()
        assert "首次使用" in start_notice(prefect_settings.first_use())
        (tmp_path / "prefect.db").write_bytes(b"")  # the database the first start created
        assert not prefect_settings.first_use()
        assert "首次使用" not in start_notice(prefect_settings.first_use())
        assert start_notice(False) == "正在启动内置 Prefect 服务…"


# ---------------------------------------------------------------- notifications (Prefect automations)


def test_automations_file_validates_against_prefect() -> None:
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    data = yaml.safe_load((ROOT / "deploy" / "automations.yaml").read_text(encoding="utf-8"))
    autos = [AutomationCore.model_validate(a) for a in data["automations"]]
    by_name = {a.name: a for a in autos}
    failed, missed = by_name["年报夜间校验失败"], by_name["年报夜间校验未运行"]
    for a in autos:
        assert isinstance(a.trigger, EventTrigger)
        related = a.trigger.match_related
        assert not isinstance(related, list) and dict(related.items()) == {
            "prefect.resource.role": ["flow"],
            "prefect.resource.name": [nightly.NIGHTLY],
        }
        assert [type(x) for x in a.actions] == [SendNotification]
    assert failed.trigger.posture == Posture.Reactive
    assert set(failed.trigger.expect) == {
        "prefect.flow-run.Failed",
        "prefect.flow-run.Crashed",
        "prefect.flow-run.TimedOut",
    }
    assert missed.trigger.posture == Posture.Proactive
    assert missed.trigger.expect == {"prefect.flow-run.Completed"}
    assert missed.trigger.within == timedelta(hours=26) == runstatus.STALE_AFTER


# ---------------------------------------------------------------- the reports root page


def test_root_page_says_when_the_last_run_failed(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    assert runstatus.record(out, runstatus.RUNNING) == {} and not out.exists()  # no folder made for it
    out.mkdir()
    assert runstatus.record(out, runstatus.RUNNING) == {} and not any(out.iterdir())  # created, still empty
    (out / "2026-12-06").mkdir()  # an earlier night's run
    s = runstatus.record(out, runstatus.RUNNING, now="2026-12-07T02:30:00+08:00")
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "最近一次运行未完成" in page and "还没有完成过一次运行" in page
    runstatus.record(
        out,
        runstatus.COMPLETED,
        run="2026-12-07",
        started_at="2026-12-07T02:30:05+08:00",
        counts={"files": 12, "errors": 3, "warnings": 1, "unreadable": 0},
        now="2026-12-07T02:31:40+08:00",
    )
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "当前报告的数据来自 <b>2026年12月7日 02:30</b> 的运行" in page
    assert 'href="latest/index.html"' in page and "最近一次运行" not in page
    assert "共 12 份报告，错误 3 条，警告 1 条，无法读取 0 份" in page
    s = runstatus.record(out, runstatus.FAILED, message="连接不上存储", now="2026-12-08T02:30:09+08:00")
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<b>最近一次运行失败</b>（2026年12月8日 02:30）" in page and "连接不上存储" in page
    assert "当前报告的数据来自 <b>2026年12月7日 02:30</b>" in page  # the old data, said so
    assert json.loads((out / "status.json").read_text(encoding="utf-8")) == s
    assert s["last_completed"]["run"] == "2026-12-07" and s["last_attempt"]["state"] == "failed"
    assert "T" not in re.sub(r"<[^>]+>", "", page).replace("TimedOut", "")  # no ISO time on the page
    tz = runstatus.TZ
    assert not runstatus.is_stale(s, datetime(2026, 12, 8, 4, 0, tzinfo=tz))
    assert runstatus.is_stale(s, datetime(2026, 12, 8, 5, 0, tzinfo=tz))  # 26 h after 02:31
    assert runstatus.is_stale({}, datetime(2026, 12, 8, tzinfo=tz))


# ---------------------------------------------------------------- the flow: status, log counts, name


@pytest.fixture
def small_inbox(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    src = SAMPLE / "2023" / "示例县"
    (root / "2023" / "示例县").mkdir(parents=True)
    for f in sorted(src.glob("*.txt"))[:3]:
        shutil.copy(f, root / "2023" / "示例县" / f.name)
    return root


def test_nightly_flow_records_its_status_and_logs_its_counts(
    prefect_api: str,
    small_inbox: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nianbao.run import steps as stages

    caplog.set_level(logging.INFO)

    out = tmp_path / "reports"
    result = nightly.run(small_inbox, out)
    o = result.outcome
    status = runstatus.read(out)
    assert status["last_attempt"]["state"] == "completed"
    assert status["last_completed"]["run"] == result.run_dir.name
    assert status["last_completed"]["counts"] == {
        "files": o.n_files,
        "errors": o.n_errors,
        "warnings": o.n_warnings,
        "unreadable": o.n_unreadable,
    }
    page = (out / "index.html").read_text(encoding="utf-8")
    assert f"当前报告的数据来自 <b>{runstatus.zh_time(o.started_at)}</b> 的运行" in page
    infos = o.n_infos  # (the summarised notes counted on each report they apply to)
    want = (
        f"年报校验完成：文件 {o.n_files} 个（无法读取 {o.n_unreadable} 个），错误 {o.n_errors} 条，"
        f"警告 {o.n_warnings} 条，提示 {infos} 条；报告：{result.run_dir}"
    )
    assert want in [r.getMessage() for r in caplog.records if r.name == "prefect.task_runs"]

    # the next night fails: the root page says so, the last completed run stays the one shown
    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("测试：校验出错")

    monkeypatch.setattr(stages, "validate_stage", broken)
    with pytest.raises(BaseException):  # noqa: B017 - whatever the flow raises for a failed run
        nightly.run(small_inbox, out)
    status = runstatus.read(out)
    assert status["last_attempt"]["state"] == "failed"
    assert status["last_completed"]["run"] == result.run_dir.name
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "最近一次运行失败" in page
    assert any(r.getMessage().startswith("年报校验运行失败") for r in caplog.records if r.levelno == logging.ERROR)
    # the run's name in Prefect: short, the inbox's folder name only (never its full path)
    name = status["last_attempt"]["flow_run"]
    assert re.fullmatch(r"夜间校验 \d\d月\d\d日 \d\d:\d\d inbox", name), name
    assert str(tmp_path) not in name


def test_run_without_prefect_server_says_so_at_the_reports_root(small_inbox: Path, tmp_path: Path) -> None:
    """`nianbao run` with its Prefect server down: no run, and the root page says 最近一次运行失败."""
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from typer.testing import CliRunner

    from nianbao.cli.app import app

    out = tmp_path / "reports"
    (out / "2026-12-06").mkdir(parents=True)  # the reports root of earlier nights
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens there
        r = CliRunner().invoke(app, ["run", "--root", str(small_inbox), "--out", str(out)])
    assert r.exit_code != 0 and "连接不上 Prefect 服务器" in r.output
    status = runstatus.read(out)
    assert status["last_attempt"]["state"] == "failed" and "last_completed" not in status
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<b>最近一次运行失败</b>" in page and "本次没有运行校验" in page
    assert runstatus.zh_time(status["last_attempt"]["at"]) in page


def test_run_without_prefect_that_fails_says_so_at_the_reports_root(
    small_inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`nianbao run --no-prefect` (no flow hooks): running, then failed with its reason."""
    from typer.testing import CliRunner

    from nianbao.cli.app import app
    from nianbao.run import steps as stages

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("测试：校验出错")

    monkeypatch.setattr(stages, "validate_stage", broken)
    out = tmp_path / "reports"
    (out / "2026-12-06").mkdir(parents=True)  # the reports root of earlier nights
    r = CliRunner().invoke(app, ["run", "--no-prefect", "--root", str(small_inbox), "--out", str(out)])
    assert r.exit_code == 2, r.output
    status = runstatus.read(out)
    assert status["last_attempt"]["state"] == "failed" and "测试：校验出错" in status["last_attempt"]["message"]
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<b>最近一次运行失败</b>" in page and "测试：校验出错" in page
