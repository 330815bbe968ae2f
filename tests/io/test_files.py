"""nianbao.io.files.read_bytes: the whole file within the size limit, whatever its status said."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nianbao.domain.model import ParsedReport
from nianbao.io.files import read_bytes, read_file
from nianbao.io.limits import Limits


def _stat_saying(file: Path, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.fstat (and os.stat) report ``size`` for ``file`` (read_bytes takes an open file's status
    by fstat): the file grew (or shrank) between its status and its reading."""
    real_stat, real_fstat = os.stat, os.fstat
    ident = (real_stat(file).st_dev, real_stat(file).st_ino)

    def sized(st: os.stat_result) -> os.stat_result:
        if (st.st_dev, st.st_ino) != ident:
            return st
        return os.stat_result((*st[:6], size, *st[7:10]))

    def stat(path: str | os.PathLike[str], *a: object, **k: object) -> os.stat_result:
        return sized(real_stat(path, *a, **k))  # type: ignore[arg-type]

    def fstat(fd: int) -> os.stat_result:
        return sized(real_fstat(fd))

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "fstat", fstat)


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


def test_short_reads_are_read_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a read may give fewer bytes than asked before the end (a pipe, a network file system)
    p = tmp_path / "a.txt"
    p.write_bytes(bytes(range(256)) * 40)
    real = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: real(fd, min(n, 1000)))
    got = read_bytes(p, "a.txt", Limits())
    assert not isinstance(got, ParsedReport) and got[0] == bytes(range(256)) * 40
    _stat_saying(p, 10, monkeypatch)  # and grown since its status
    got = read_bytes(p, "a.txt", Limits())
    assert not isinstance(got, ParsedReport) and got[0] == bytes(range(256)) * 40


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    got = read_bytes(tmp_path / "gone.txt", "gone.txt", Limits())
    assert isinstance(got, ParsedReport) and (got.reason_code, got.file) == ("U01", "gone.txt")
    assert got.reason.endswith("文件或文件夹不存在。")
    (tmp_path / "d.txt").mkdir()
    got = read_bytes(tmp_path / "d.txt", "d.txt", Limits())
    assert isinstance(got, ParsedReport) and got.reason_code == "U01"
    assert got.reason.endswith("这是一个文件夹，不是文件。")


def test_a_file_as_its_status_said_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes(b"x" * 5000)
    real = os.read
    asked: list[int] = []

    def read(fd: int, n: int) -> bytes:
        asked.append(n)
        return real(fd, n)

    monkeypatch.setattr(os, "read", read)
    got = read_bytes(p, "a.txt", Limits())
    assert not isinstance(got, ParsedReport) and got[0] == b"x" * 5000
    assert asked == [5001]  # all the status said, and no second read to see the end
    asked.clear()
    _stat_saying(p, 6000, monkeypatch)  # fewer bytes than the status said: read on to the end
    got = read_bytes(p, "a.txt", Limits())
    assert not isinstance(got, ParsedReport) and got[0] == b"x" * 5000
    assert asked == [6001, 1001]


def test_read_file_is_read_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """read_file gives read_bytes' bytes and its status' modification time, by the compiled slurp
    or (any file slurp declines: none, too large, a folder, grown since its status) by read_bytes."""
    from nianbao.io import files

    p = tmp_path / "a.txt"
    p.write_bytes("政府信息公开".encode() * 1000)
    lim = Limits()
    want = read_bytes(p, "a.txt", lim)
    assert not isinstance(want, ParsedReport)
    assert read_file(p, "a.txt", lim) == (want[0], want[1].st_mtime_ns)
    assert read_file(str(p), "a.txt", lim) == (want[0], want[1].st_mtime_ns)
    (tmp_path / "e.txt").write_bytes(b"")
    assert read_file(tmp_path / "e.txt", "e.txt", lim) == (b"", os.stat(tmp_path / "e.txt").st_mtime_ns)
    if files.slurp is not None:
        assert files.slurp(p, lim.max_file_bytes) == (want[0], want[1].st_mtime_ns)
        assert files.slurp(p, len(want[0]) - 1) is None  # too large: read_bytes says so
        assert files.slurp(tmp_path, lim.max_file_bytes) is None
        assert files.slurp(tmp_path / "gone.txt", lim.max_file_bytes) is None
        if os.path.exists("/proc/version"):  # more bytes than its status says (0): read_bytes reads on
            assert files.slurp("/proc/version", lim.max_file_bytes) is None
            got = read_file("/proc/version", "v", lim)
            assert not isinstance(got, ParsedReport) and got[0] == Path("/proc/version").read_bytes() != b""
    small = Limits(max_file_mb=0.01)
    p.write_bytes(b"x" * (small.max_file_bytes + 1))
    got = read_file(p, "a.txt", small)
    assert isinstance(got, ParsedReport) and (got.reason_code, got.size) == ("U02", small.max_file_bytes + 1)
    got = read_file(tmp_path / "gone.txt", "gone.txt", lim)
    assert isinstance(got, ParsedReport) and (got.reason_code, got.file) == ("U01", "gone.txt")
    got = read_file(tmp_path, "d.txt", lim)
    assert isinstance(got, ParsedReport) and got.reason_code == "U01"
    p.write_bytes(b"x" * 5000)  # grown since its status: slurp declines, read_bytes reads to the end
    _stat_saying(p, 10, monkeypatch)
    monkeypatch.setattr(files, "slurp", None)
    assert read_file(p, "a.txt", lim) == (b"x" * 5000, os.stat(p).st_mtime_ns)
