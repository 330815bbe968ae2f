"""Prefect, offline and quiet, set up by nianbao itself (never by hand).

:func:`apply` must run before ``prefect`` is imported (the CLI and ``flows`` call it first).  It
sets, unless the environment already sets them:

- telemetry off: ``PREFECT_SERVER_ANALYTICS_ENABLED=false`` (the server's telemetry service, which
  fails offline and logs ERROR tracebacks), ``DO_NOT_TRACK=1`` (the SDK's own analytics and its
  first-run notice), Cloud orchestration telemetry and resource metrics off;
- a patient ephemeral-server start (``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=180``: the
  first start migrates a fresh SQLite database, ~15 s on a 2-core machine, longer than the default 20 s);
- the console shows Prefect's warnings and errors only (``PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL``):
  run and task logs still go, at INFO, to the Prefect server and its UI.

:class:`EphemeralServer` is the embedded default when no Prefect server is configured: Prefect's
own API app (``prefect.server.api.server:create_app``, started exactly as Prefect's
``SubprocessASGIServer`` starts it for ephemeral mode), but started by nianbao so that it

- starts as early as possible, while nianbao loads the rest of its code;
- logs to ``<PREFECT_HOME>/nianbao-ephemeral-server.log`` instead of the user's terminal;
- dies with the run: on Linux the server gets SIGTERM when the run's process dies, even by SIGKILL
  (``PR_SET_PDEATHSIG``), so a killed nightly run never leaves an orphan server behind;
- stops only after Prefect's own exit handlers have flushed their events and logs to it (no
  "Error flushing events" at shutdown).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

DEFAULTS: dict[str, str] = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    "PREFECT_SERVER_EPHEMERAL_ENABLED": "true",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
}

_applied = False


def apply() -> None:
    """Set nianbao's Prefect defaults in the environment (a value already set there wins)."""
    global _applied
    if _applied:
        return
    _applied = True
    changed = False
    for k, v in DEFAULTS.items():
        if k not in os.environ:
            os.environ[k] = v
            changed = True
    if changed and "prefect.context" in sys.modules:
        # Prefect reads its settings when imported: make a late apply() effective too
        import prefect.context

        prefect.context.refresh_global_settings_context()


def configured_api_url() -> str | None:
    """The Prefect API URL from the environment, profile or settings files (None: none configured)."""
    apply()
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def database_path() -> Path | None:
    """The SQLite file of Prefect's local server (None: another database is configured)."""
    apply()
    from prefect.settings import get_current_settings

    s = get_current_settings()
    url = s.server.database.connection_url
    if url is None:
        return Path(s.home) / "prefect.db"
    text = url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)
    if text.startswith("sqlite") and ":///" in text:
        return Path(text.split(":///", 1)[1])
    return None


def first_use() -> bool:
    """Has the embedded Prefect service no database yet (its first start creates and migrates it)?"""
    db = database_path()
    return db is not None and not db.exists()


def reachable(api_url: str, timeout: float = 3.0) -> bool:
    """Does the Prefect API at ``api_url`` answer its health check?"""
    import httpx

    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except Exception:
        pass


class EphemeralServer:
    """Prefect's API server in a child process, for one nianbao run (see the module docstring)."""

    def __init__(self, log_path: Path | None = None) -> None:
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = log_path
        self._log: IO[bytes] | None = None
        self._stopped = False

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        """Spawn the server (returns at once; :meth:`wait_ready` waits for it)."""
        if self.log_path is None:
            from prefect.settings import get_current_settings

            self.log_path = Path(get_current_settings().home) / "nianbao-ephemeral-server.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._spawn()
        # registered before Prefect registers its own exit handlers (atexit runs LIFO): Prefect
        # drains its event and log workers to a live server first, then this stops the server
        atexit.register(self.stop)

    def _spawn(self) -> None:
        import prefect

        self.port = _free_port()
        env: dict[str, str] = {
            **os.environ,
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        env.pop("PREFECT_API_URL", None)
        # its own process group: a Ctrl-C at the terminal (SIGINT to the foreground group) is the
        # run's to handle — the run writes its incomplete results through this server — not the
        # server's; it still dies with the run (below) and is stopped by it
        kwargs: dict[str, Any] = {"process_group": 0}
        if sys.platform.startswith("linux"):
            kwargs["preexec_fn"] = _die_with_parent
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(Path(prefect.__file__).parent.parent),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            **kwargs,
        )

    def wait_ready(self, timeout: float | None = None) -> str:
        """Wait until the API answers its health check; returns the API URL."""
        import httpx

        if timeout is None:
            timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180"))
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                code = self.process.poll()
                if code is not None:
                    if code == 3:  # the port was taken meanwhile: try another one
                        self._spawn()
                        continue
                    raise RuntimeError(f"内置 Prefect 服务启动失败（退出码 {code}），详见日志 {self.log_path}")
                try:
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return self.api_url
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"内置 Prefect 服务在 {timeout:.0f} 秒内未能启动，详见日志 {self.log_path}")

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        p = self.process
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self._log is not None:
            self._log.close()


def use_ephemeral_server(server: EphemeralServer, url: str) -> None:
    """Point this process's Prefect client at the started server (public Prefect API only)."""
    import prefect.context

    os.environ["PREFECT_API_URL"] = url
    prefect.context.refresh_global_settings_context()


def flush_events(timeout: float = 10.0) -> None:
    """Wait (bounded) until Prefect's event worker has sent what the run queued.

    At exit Prefect drains it anyway, but logs a warning ("Still processing items") when items
    are still queued then; emptying it first keeps a normal run quiet.
    """
    import threading

    def wait() -> None:
        try:
            from prefect.events.worker import EventsWorker

            EventsWorker.instance().wait_until_empty()
        except Exception:
            pass

    t = threading.Thread(target=wait, name="nianbao-flush-events", daemon=True)
    t.start()
    t.join(timeout)


def finish(server: EphemeralServer | None = None, timeout: float = 10.0) -> None:
    """End the run's use of Prefect: send the queued events and logs, then stop the embedded server.

    (Prefect does the same from its exit handlers; doing it here lets the CLI exit without the
    interpreter's slow teardown of the libraries it loaded.)
    """
    if "prefect" not in sys.modules:  # a run without Prefect
        return
    flush_events(timeout)
    try:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=timeout)
        EventsWorker.drain_all(timeout=timeout)
    except Exception:
        pass
    if server is not None:
        server.stop()
