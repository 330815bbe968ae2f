"""The guarded worker process's entry point: ``python -m nianbao.read.worker`` (see
:mod:`nianbao.io.guard`) serves :func:`nianbao.read.load.load_bytes` over its pipes."""

from __future__ import annotations

from nianbao.io.guard import serve
from nianbao.read.load import load_bytes

if __name__ == "__main__":  # pragma: no cover - runs in the worker process
    serve(load_bytes)
