"""The guarded worker process's entry point: ``python -m nianbao.io.worker`` (see
:mod:`nianbao.io.guard`) serves :func:`nianbao.io.load_bytes` over its pipes."""

from __future__ import annotations

from nianbao.io import load_bytes
from nianbao.io.guard import serve

if __name__ == "__main__":  # pragma: no cover - runs in the worker process
    serve(load_bytes)
