#!/usr/bin/env python3
"""Bootstrap and task runner — needs only Python 3.11 (no make, no pre-installed tools).

    python3 dev.py demo    set up .venv if needed, then run the nightly job on the bundled data
    python3 dev.py test    set up .venv if needed, then run every gate: ruff, mypy, pytest
    python3 dev.py setup   only (re)create the environment

The environment is .venv/, installed from requirements.lock (every package pinned) plus this
project in editable mode; it is reinstalled only when pyproject.toml, the lock file or the C
sources of the compiled scan (nianbao/read/scan.c) and decoder (nianbao/io/decode.c) change.
Every setup byte-compiles the project's own modules (nianbao, schemas, flows).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".nianbao-installed"


def _digest() -> str:
    h = hashlib.sha256()
    # scan.c, decode.c: the compiled scan and decoder
    for name in ("pyproject.toml", "requirements.lock", "nianbao/read/scan.c", "nianbao/io/decode.c"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def run(*cmd: str | Path, quiet: bool = False) -> None:
    r = subprocess.run([str(c) for c in cmd], cwd=ROOT, capture_output=quiet, text=True)
    if r.returncode:
        if quiet:
            sys.stdout.write(r.stdout)
            sys.stderr.write(r.stderr)
        sys.exit(r.returncode)


def setup() -> None:
    if not PY.exists():
        print("创建虚拟环境 .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not (STAMP.exists() and STAMP.read_text() == _digest()):
        print("安装依赖（按 requirements.lock 锁定的版本）…", flush=True)
        pip = [PY, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        run(*pip, "-r", ROOT / "requirements.lock", quiet=True)
        run(*pip, "--no-deps", "-e", f"{ROOT}[dev]", quiet=True)
        STAMP.write_text(_digest())
    # the project's own modules byte-compiled (pip compiles the packages it installs, not an
    # editable project): where PYTHONDONTWRITEBYTECODE is set, every run would compile them
    # again (~0.25 s of a one-report run); a module changed since is compiled when next set up
    run(PY, "-m", "compileall", "-q", "-j", "0", "nianbao", "schemas", "flows", quiet=True)


def demo() -> None:
    setup()
    # exit code 1 only means the sample's planted defects were found: that is the demo working
    # the nightly flow (Prefect, embedded server unless PREFECT_API_URL names one) on the bundled inbox
    r = subprocess.run([str(BIN / "nianbao"), "run", "--root", "data/submissions", "--out", "reports"], cwd=ROOT)
    if r.returncode not in (0, 1):
        sys.exit(r.returncode)


def test() -> None:
    setup()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    run(PY, "-m", "pytest", *sys.argv[2:])


def main() -> None:
    tasks = {"setup": setup, "demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in tasks:
        print(__doc__)
        sys.exit(2)
    tasks[sys.argv[1]]()


if __name__ == "__main__":
    main()
