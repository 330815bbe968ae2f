"""The registry of agencies each county must submit (``registry.csv``: county, agency, level),
agency-name normalisation, and the rename table that maps old names to current ones."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nianbao.domain.normalize import nfkc
from nianbao.domain.oserrors import os_reason

SUFFIXES = ("人民政府办公室", "人民政府", "政府")  # (tried in this order)
_SPACE_PUNCT = re.compile(r"[\s\"'“”‘’()（）\[\]【】《》·,，.。:：;；、\-_/]+")


def normalise_agency(name: str | None) -> str:
    """A key for matching agency names across years and files: NFKC, no spaces or punctuation,
    without a trailing 人民政府/政府 (镇罗镇人民政府 and 镇罗镇 are the same agency)."""
    if not name:
        return ""
    s = _SPACE_PUNCT.sub("", nfkc(name))
    for suf in SUFFIXES:
        if s.endswith(suf) and len(s) > len(suf) + 1:
            s = s[: -len(suf)]
            break
    return s


@dataclass(frozen=True, slots=True)
class Agency:
    county: str
    agency: str
    level: str

    @property
    def key(self) -> str:
        return normalise_agency(self.agency)


class RegistryError(ValueError):
    """The registry file is malformed (the message names the file and line)."""


def _csv_records(path: Path, header: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """(line number, row) of the non-blank rows of a UTF-8 CSV file under ``header``; unreadable,
    not UTF-8, or another header: a :class:`RegistryError` in Chinese."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RegistryError(f"{path}：{os_reason(e)}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise RegistryError(f"{path}：第 {line} 行不是 UTF-8 编码（请另存为 UTF-8 编码的 CSV）") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error:  # e.g. a NUL byte: not a CSV file at all
        raise RegistryError(f"{path}：第 {reader.line_num} 行不是有效的 CSV") from None
    if not rows or [h.strip() for h in rows[0][: len(header)]] != list(header):
        raise RegistryError(f"{path}：第 1 行应为表头 {','.join(header)}")
    for lineno, row in enumerate(rows[1:], 2):
        if row and any(c.strip() for c in row):
            yield lineno, row


def load_registry(path: Path) -> list[Agency]:
    """Read ``county,agency,level`` rows; a malformed row is an error naming the file and line."""
    out: list[Agency] = []
    for lineno, row in _csv_records(path, ("county", "agency", "level")):
        if len(row) < 3 or not row[0].strip() or not row[1].strip():
            raise RegistryError(f"{path}：第 {lineno} 行应有 county、agency、level 三列：{','.join(row)}")
        out.append(Agency(row[0].strip(), row[1].strip(), row[2].strip() or "township"))
    return out


def load_renames(path: Path) -> dict[str, str]:
    """``old,new`` rows (normalised keys): an agency renamed since last year keeps its history."""
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for lineno, row in _csv_records(path, ("old", "new")):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise RegistryError(f"{path}：第 {lineno} 行应有 old、new 两列")
        out[normalise_agency(row[0])] = normalise_agency(row[1])
    return out
