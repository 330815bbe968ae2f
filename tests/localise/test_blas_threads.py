"""numpy's BLAS runs on one thread unless the environment says otherwise (nianbao/__init__.py): the
localisation's thousands of tiny products cost milliseconds each when OpenBLAS wakes its pool."""

from __future__ import annotations

import os
import subprocess
import sys


def _threads_seen(env: dict[str, str]) -> str:
    code = "import nianbao, os; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return p.stdout.strip()


def test_one_blas_thread_by_default() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert _threads_seen(env) == "1"


def test_an_explicit_setting_wins() -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "4"}
    assert _threads_seen(env) == "4"
