"""The guarded worker process's entry point: ``python -m nianbao.loaders.worker`` (see
:mod:`nianbao.loaders.guard`) serves :func:`nianbao.loaders.load_bytes` over its pipes."""

from __future__ import annotations

from nianbao.loaders import load_bytes
from nianbao.loaders.guard import serve

if __name__ == "__main__":  # pragma: no cover - runs in the worker process
    serve(load_bytes)
