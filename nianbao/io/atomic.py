"""Atomic writes confined to an output folder: a killed run never leaves a half-written file.

Every file is written to a temporary file in the same folder and renamed over its target
(``os.replace``), so a reader — or a run killed with SIGKILL at any point — sees either the old
file or the complete new one, never a part.  ``durable=True`` (the default) also fsyncs the data
before the rename, so that the file survives a power cut too: that is for the run's contract files
(``submissions.json``, ``findings.json``, ``run.json``), the ``latest`` pointer, the Parquet store
and the acknowledgements.  The HTML pages and the workbook are written with ``durable=False``:
SIGKILL safety needs only the rename (the kernel keeps the written data whatever happens to the
process), an fsync per page costs milliseconds each — seconds for thousands of pages — and a page
lost to a power cut is re-rendered from the contract files by the next run.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import orjson

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


def write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    write_with(path, lambda f: f.write(data), durable=durable)


def write_with(path: Path, fill: Callable[[BinaryIO], object], *, durable: bool = True) -> None:
    """:func:`write_bytes` for a writer that streams into a file (``fill(f)``) rather than one
    ``bytes`` object: large files (the Parquet store) are not held in memory a second time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp creates 0600: outputs are read by auditors and web servers
        with os.fdopen(fd, "wb") as f:
            fill(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str, *, durable: bool = True) -> None:
    write_bytes(path, text.encode("utf-8"), durable=durable)


def dumps(obj: Any) -> bytes:
    """``obj`` as indented UTF-8 JSON (non-ASCII kept as is), with a final newline.

    orjson (10–20× faster than the standard library on the findings of a large run); the same
    JSON as ``json.dumps(obj, ensure_ascii=False, indent=2)`` — equal when parsed, and byte for
    byte except the spelling of some floats (``1e16`` for ``1e+16``) and NaN/Infinity, which the
    standard library writes as invalid JSON and orjson as ``null`` (no view produces them).  Falls
    back to the standard library for what orjson refuses (integers beyond 64 bits, non-string keys)."""
    try:
        return orjson.dumps(obj, default=_default, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return (json.dumps(obj, ensure_ascii=False, indent=2, default=_default) + "\n").encode("utf-8")


# dataclasses and datetimes go to _default as with the standard library (orjson would otherwise
# serialise a dataclass's fields itself instead of calling its to_json)
_ORJSON_OPTIONS = (
    orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
)


def write_json(path: Path, obj: Any, *, durable: bool = True) -> None:
    write_bytes(path, dumps(obj), durable=durable)


def _default(o: Any) -> Any:
    if hasattr(o, "to_json"):
        return o.to_json()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
