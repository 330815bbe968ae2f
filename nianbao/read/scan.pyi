"""The bulk reader's line scan, compiled (``scan.c``; built by the install when a C compiler is there)."""

from collections.abc import Callable
from typing import Any

_Buffer = Any  # any C-contiguous buffer of the stated item type (bytes, bytearray, array, numpy array)

def classify(texts: list[str], table: bytes, max_chars: int, /) -> bytes: ...
def scan(
    texts: list[str],
    ok: bytes,
    max_lines: int,
    max_line_chars: int,
    max_cells_per_row: int,
    period_lines: int,
    label_line_max: int,
    heading_max: int,
    plain_digits: int,
    zero_code: int,
    value_code: int,
    marks: tuple[str, ...],
    ends: str,
    /,
) -> tuple[
    bytearray,
    bytearray,
    list[str | None],
    list[str],
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    list[tuple[int, str]],
    list[str],
]: ...
def sections(
    plan: _Buffer,
    prose_raw: list[str],
    raws: list[str | None],
    prose_no: _Buffer,
    width: _Buffer,
    ends: _Buffer,
    block: _Buffer,
    open_ends: _Buffer,
    after: _Buffer,
    at: _Buffer,
    block_header: Callable[[str], bool],
    wrap_min_width: int,
    wrap_full: float,
    /,
) -> list[tuple[bytes, bytes, bytes, str]]: ...
def cells(
    width: int,
    gid: _Buffer,
    offs: _Buffer,
    first: _Buffer,
    first_number: _Buffer,
    values: _Buffer,
    states: _Buffer,
    odd: _Buffer,
    col: _Buffer,
    value: _Buffer,
    state: _Buffer,
    line: _Buffer,
    win: _Buffer,
    n_num: _Buffer,
    npos: _Buffer,
    nwin: _Buffer,
    nrank: _Buffer,
    n_fact: _Buffer,
    fact_win: _Buffer,
    fact_li: _Buffer,
    /,
) -> tuple[bytearray, bytearray, bytearray, bytearray, bytearray, list[tuple[int, int, int]]]: ...
def windows(
    skel: list[str], s2: int, e2: int, s3: int, e3: int, s4: int, e4: int, mask: int = ..., /
) -> tuple[str, str, str]: ...
def distinct(
    docs: list[str],
    lengths: _Buffer,
    per_doc: _Buffer,
    kept: _Buffer,
    sections: _Buffer,
    mask: int = ...,
    words: tuple[str, ...] = ...,
    table: _Buffer = ...,
    /,
) -> tuple[bytes, ...] | None: ...
