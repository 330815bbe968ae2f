"""Atomic writes confined to an output folder: a killed run never leaves a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

FILE_MODE = 0o644


class UnsafePath(ValueError):
    """A path that would leave the output folder."""


def inside(root: Path, rel: str | Path) -> Path:
    """``root / rel``, refusing anything that resolves outside ``root``."""
    root_r = root.resolve()
    target = (root_r / rel).resolve()
    if target != root_r and root_r not in target.parents:
        raise UnsafePath(f"{rel!s} 不在输出目录 {root} 之内")
    return target


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp creates 0600: outputs are read by auditors and web servers
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, default=_default) + "\n")


def _default(o: Any) -> Any:
    if hasattr(o, "to_json"):
        return o.to_json()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
