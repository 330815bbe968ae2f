"""The compiled join of buffers (nianbao/io/decode.c ``joined``, its copies made with the GIL
released) gives what Python's own join gives, and so does the reader's ``joined`` without it."""

from __future__ import annotations

from array import array
from itertools import accumulate
from typing import Any

import numpy as np
import pytest

from nianbao.read import bulk

PARTS: list[Any] = [
    b"abc",
    array("d", [1.5, float("nan"), -0.0]),
    bytearray(b"\x00\xff"),
    array("I", [7, 2**32 - 1]),
    b"",
    array("H", []),
    np.arange(5, dtype=np.uint16),
    memoryview(b"xyz")[1:],
]


def test_the_compiled_join_gives_pythons_join_and_the_ends() -> None:
    decode = pytest.importorskip("nianbao.io.decode")
    data, ends = decode.joined(PARTS)
    assert data == b"".join(PARTS)
    assert array("Q", ends).tolist() == list(accumulate(memoryview(p).nbytes for p in PARTS))
    assert decode.joined([]) == (b"", b"")
    with pytest.raises(TypeError):
        decode.joined(tuple(PARTS))
    with pytest.raises(TypeError):
        decode.joined([b"a", "not a buffer"])


@pytest.mark.parametrize("compiled", [True, False])
def test_the_readers_join_is_pythons_join(compiled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """nianbao.read.bulk.joined (the parse's packing, the validation's cell arrays) with and without
    the compiled one."""
    if not compiled:
        monkeypatch.setattr(bulk, "cdecode", None)
    elif bulk.cdecode is None:
        pytest.skip("nianbao.io.decode is not built here")
    big = [array("d", range(k, k + 226)) for k in range(2000)]  # (a batch's cell rows)
    data, ends = bulk.joined(big, 8)
    assert data == b"".join(big) and array("Q", ends).tolist() == [226 * 8 * (k + 1) for k in range(2000)]
    assert bulk.joined(PARTS) == (
        b"".join(PARTS),
        array("Q", accumulate(memoryview(p).nbytes for p in PARTS)).tobytes(),
    )
