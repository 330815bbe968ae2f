"""nianbao.io.files.read_bytes: the whole file within the size limit, whatever its status said."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.io.files import read_bytes
from nianbao.io.limits import Limits


def _stat_saying(file: Path, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.stat reports ``size`` for ``file`` (read_bytes takes a file's status by it): the file
    grew (or shrank) between its status and its reading."""
    real = os.stat

    def stat(path: str | os.PathLike[str], *a: object, **k: object) -> os.stat_result:
        st = real(path, *a, **k)  # type: ignore[arg-type]
        if os.fspath(path) != str(file):
            return st
        return os.stat_result((*st[:6], size, *st[7:10]))

    monkeypatch.setattr(os, "stat", stat)


def test_the_whole_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes(b"x" * 5000)
    got = read_bytes(p, "a.txt", Limits())
    assert not isinstance(got, ParsedReport) and got[0] == b"x" * 5000
    _stat_saying(p, 10, monkeypatch)  # grown since: read to its end all the same
    got = read_bytes(p, "a.txt", Limits())
    assert not isinstance(got, ParsedReport) and (got[0], got[1].st_size) == (b"x" * 5000, 10)


def test_a_file_grown_over_the_limit_is_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "a.txt"
    lim = Limits(max_file_mb=0.01)  # 10,485 bytes
    p.write_bytes(b"x" * (lim.max_file_bytes + 1))
    _stat_saying(p, 10, monkeypatch)
    got = read_bytes(p, "a.txt", lim)
    assert isinstance(got, ParsedReport) and (got.reason_code, got.size) == ("U02", lim.max_file_bytes + 1)
