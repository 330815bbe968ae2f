"""A finding's identity across runs, as the review desk stores it.

The identity itself is :func:`nianbao.report.history.finding_identity` — what the nightly run uses
to tell a new finding from one it saw before (agency, year, rule, cells; never a path) — so that a
decision taken in the desk follows the same problem from run to run.  Here it is only serialised
(JSON) and hashed (SHA-256) for a database key.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from nianbao.domain.registry import normalise_agency

try:  # the run's own identity (nianbao.report.history)
    from nianbao.report.history import finding_identity as _identity
except ImportError:  # pragma: no cover - an older history module: the same definition, spelled out

    def _identity(who: tuple[str, ...], rule: Any, cells: Any) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
        cells_t = tuple(str(c) for c in cells) if isinstance(cells, list) else ()
        return who, str(rule), tuple(sorted(cells_t))


def who_of(agency: Any, year: Any, file: str) -> tuple[str, ...]:
    """The report a finding is about: its normalised agency and year, else its file."""
    key = normalise_agency(agency) if isinstance(agency, str) else ""
    if key and year is not None:
        return ("a", key, str(year))
    return ("f", file)


def finding_key(f: dict[str, Any]) -> str:
    """The identity of a finding of ``findings.json`` as a JSON string."""
    return finding_key_of(f.get("agency"), f.get("year"), str(f.get("file", "")), f.get("rule"), f.get("cells"))


def finding_key_of(agency: Any, year: Any, file: str, rule: Any, cells: Any) -> str:
    return orjson.dumps(_identity(who_of(agency, year, file), rule, cells)).decode()


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
