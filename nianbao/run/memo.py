"""The memo: a cache policy around the two parts of the validation step (as Prefect's cache
policies wrap a task: key = a function of the inputs, value = the part's result).

:meth:`Memo.around` wraps :func:`nianbao.run.validation.check_rules` (``validate``) and
:func:`nianbao.run.validation.check_expectations` (``batch_expectations``): it computes the key,
returns the stored result when there is one, else runs the part and stores its result.  The parts
themselves live in :mod:`nianbao.run.validation` only.  Entries live in ``<store>/memo/``:

- ``validate-<key>.json``: the findings, the summarised infos (``summaries``), cross-year summary
  and localisation counts of the rules, and every report's reading confidence (so that a hit needs
  no report's layout).
  Key: the batch in order (file name, SHA-256, status, reason of every report), last year's stored
  reports the cross-year rules read (name, SHA-256, store format — their ``LastYear.identity``, so
  they are rebuilt only on a miss), the registry, the renames, the localisation budget, the
  rule-set version and the source hash of the package (a code change invalidates).
- ``gx-<key>/``: the findings, statistics and skipped checks of the batch expectations and a copy
  of their Data Docs.  Key: the same batch identity (the submission table is a function of it and
  of the code), the registry, the registry file name (it is quoted in findings), the renames and
  the expected years.  On a hit the Data Docs are hard-linked into the new run's ``gx`` folder and
  great_expectations is not imported.

Entries are written atomically (a temporary name, then a rename); only the newest :data:`KEEP` of
each kind are kept.  A memo that cannot be read is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import orjson

from nianbao.catalogue import ruleset_version
from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import Agency
from nianbao.outcome import CrossYear, Finding, InfoSummary, Suspect
from nianbao.run.collector import gc_paused
from nianbao.run.validation import LastYear, RuleResult

if TYPE_CHECKING:
    from nianbao.rules.expectations import BatchResult

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("nianbao.run.memo")

KEEP = 5  # entries kept per kind
# bump when the layout of an entry changes (4: the summarised infos, "summaries"; 5: the rules'
# findings as rows, the reading confidences as distinct values and an index)
FORMAT = 5
DOCS = Path("gx") / "uncommitted" / "data_docs" / "local_site"  # under the run's gx folder


@cache
def code_hash() -> str:
    """SHA-256 over the package's source and rule data (not the output views): any code change misses."""
    pkg = Path(__file__).resolve().parents[1]  # the nianbao package
    h = hashlib.sha256()
    for p in sorted(pkg.rglob("*")):
        rel = p.relative_to(pkg)
        if not p.is_file() or "__pycache__" in rel.parts or rel.parts[0] == "report":
            continue
        if p.suffix not in {".py", ".toml", ".csv", ".json", ".txt"}:
            continue
        h.update(str(rel).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _digest(obj: Any) -> str:
    body = orjson.dumps(obj, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(body).hexdigest()[:32]


# what identifies a report of the batch: its name, bytes, status and why it was not read (a tuple
# each, by one C getter: half the time of a list made in a comprehension, ~0.03 s at 100,000
# reports; the same JSON, so the same digest, as lists)
_identity = attrgetter("file", "sha256", "status", "reason_code", "reason")


def batch_identity(reports: Sequence[ParsedReport]) -> list[tuple[Any, ...]]:
    return list(map(_identity, reports))


def _registry(registry: Sequence[Agency] | None) -> Any:
    return None if registry is None else [[a.county, a.agency, a.level] for a in registry]


def batch_digest(reports: Sequence[ParsedReport]) -> str:
    """The digest of the batch's identity (:func:`batch_identity`): what both parts' keys hold."""
    return _digest(batch_identity(reports))


def _key(
    reports: Sequence[ParsedReport] | str,
    registry: Sequence[Agency] | None,
    renames: Mapping[str, str] | None,
    **rest: Any,
) -> str:
    """A memo key: what every part's result depends on (the entry format, the ruleset, the code, the
    batch — ``reports``, or their :func:`batch_digest` —, the registry, the renames) and the part's
    own inputs ``rest``."""
    return _digest(
        {
            "format": FORMAT,
            "ruleset": ruleset_version(),
            "code": code_hash(),
            "batch": reports if isinstance(reports, str) else batch_digest(reports),
            "registry": _registry(registry),
            "renames": sorted((renames or {}).items()),
            **rest,
        }
    )


def validation_key(
    reports: Sequence[ParsedReport] | str,
    previous: Sequence[Sequence[Any]],
    registry: Sequence[Agency] | None,
    renames: Mapping[str, str] | None,
) -> str:
    from nianbao.localise import budget_per_report

    return _key(
        reports,
        registry,
        renames,
        localise_budget=budget_per_report(),  # NIANBAO_LOCALISE_BUDGET decides which reports are localised
        previous=[list(p) for p in previous],
    )


def gx_key(
    reports: Sequence[ParsedReport] | str,
    registry: Sequence[Agency] | None,
    registry_file: str | None,
    renames: Mapping[str, str] | None,
    expected_years: Sequence[int] | None,
) -> str:
    return _key(
        reports,
        registry,
        renames,
        registry_file=registry_file,
        expected_years=list(expected_years) if expected_years is not None else None,
    )


# ------------------------------------------------------------------ findings <-> JSON


def finding_to_json(f: Finding) -> dict[str, Any]:
    out = f.to_json()
    out["report"] = f.report
    for k in ("quote", "suspects", "where"):  # keep None apart from absent
        out.setdefault(k, None)
    return out


def finding_from_json(d: dict[str, Any]) -> Finding:
    """The finding :func:`finding_to_json` gave ``d`` for, built by position (~2.5x faster than by
    keyword: ~22,000 findings on an unchanged rerun of 100,000 reports; ``tests/run/test_memo.py``
    holds the fields of ``Finding`` and ``Suspect`` to the order read here)."""
    sus = d["suspects"]
    return Finding(
        d["file"],
        d["agency"],
        d["year"],
        d["rule"],
        d["severity"],
        d["cells"],
        d["expected"],
        d["actual"],
        d["message"],
        d["line"],
        d["fix"],
        d["quote"],
        None
        if sus is None
        else [Suspect(s["cell"], s["reported"], s["suggested"], s["cause"], s["alternative"]) for s in sus],
        d["where"],
        d["report"],
        d.get("localisation"),  # (written only when set)
    )


def finding_row(f: Finding) -> list[Any]:
    """``f`` as a row of its fields in order, its suspects as rows too: the validation entry's
    form of a finding (no key names: a third fewer bytes for an unchanged rerun to parse, and the
    finding rebuilt by position, :func:`finding_from_row`)."""
    sus = f.suspects
    return [
        *(f.file, f.agency, f.year, f.rule, f.severity, f.cells, f.expected, f.actual, f.message, f.line, f.fix),
        f.quote,
        None if sus is None else [[s.cell, s.reported, s.suggested, s.cause, s.alternative] for s in sus],
        *(f.where, f.report, f.localisation),
    ]


def finding_from_row(d: list[Any]) -> Finding:
    """The finding :func:`finding_row` gave ``d`` for (``tests/run/test_memo.py`` holds the fields
    of ``Finding`` and ``Suspect`` to the order written there)."""
    sus = d[12]
    return Finding(
        *(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11]),
        None if sus is None else [Suspect(*s) for s in sus],
        *(d[13], d[14], d[15]),
    )


# the fields of a finding's row (finding_row) written as their index among the batch's distinct
# values: a batch's findings repeat a few thousand fix texts, messages, cell lists, suspects, files
# and agencies (100,000 reports: the validation entry 23.6 MB, 8.9 of it fix texts, to parse on
# every unchanged rerun); the other fields (numbers, the year, the rule …) as they are
_SHARED = (0, 1, 5, 8, 10, 11, 12)


def _shared_rows(rows: list[list[Any]]) -> dict[str, Any]:
    """``{"findings": rows, "values": …}``: ``rows`` (changed in place) with each :data:`_SHARED`
    field the index of its JSON among ``values``; just ``{"findings": rows}`` when a field is not
    JSON (written then as :func:`_compact` writes it, read back as it is)."""
    seen: dict[bytes, int] = {}
    try:
        shared = [[seen.setdefault(orjson.dumps(r[i]), len(seen)) for i in _SHARED] for r in rows]
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return {"findings": rows}
    for r, idx in zip(rows, shared, strict=True):
        for i, k in zip(_SHARED, idx, strict=True):
            r[i] = k
    return {"findings": rows, "values": [orjson.loads(k) for k in seen]}


def _findings_from_rows(rows: list[list[Any]], values: list[Any] | None) -> list[Finding]:
    """The findings :func:`_shared_rows` wrote ``rows`` and ``values`` for (``values`` None: the
    rows as they are).  Each finding its own list of cells, as a run that validates makes them."""
    if values is None:
        return [finding_from_row(d) for d in rows]
    out = []
    for d in rows:
        for i in _SHARED:
            d[i] = values[d[i]]
        if isinstance(d[5], list):  # (the cells: a list of its own, not the one all these rows share)
            d[5] = list(d[5])
        out.append(finding_from_row(d))
    return out


def _distinct(values: Sequence[Any]) -> dict[str, list[Any]]:
    """``values`` as its distinct values (by their JSON) and each one's index among them: every
    report's reading confidence is one of a few (100,000 reports: 2.6 MB of JSON to a few bytes)."""
    seen: dict[bytes, int] = {}
    index = [seen.setdefault(orjson.dumps(v, option=orjson.OPT_NON_STR_KEYS), len(seen)) for v in values]
    return {"values": [orjson.loads(k) for k in seen], "index": index}


def _undistinct(data: dict[str, list[Any]] | None) -> list[Any] | None:
    """The values :func:`_distinct` gave ``data`` for, each dict its own (as every report's reading
    confidence is its own dict on a run that computes them)."""
    if data is None:
        return None
    values = data["values"]
    return [dict(v) if isinstance(v := values[i], dict) else v for i in data["index"]]


# ------------------------------------------------------------------ the memo folder


class Memo:
    """The memo folder of a store, and the cache policy over it (:meth:`around`)."""

    def __init__(self, store: Path) -> None:
        self.root = store / "memo"
        self.hits: list[str] = []  # the parts reused, in order
        self.keys: dict[str, str] = {}  # each part's key, once computed (by the part's name)
        self._batch: tuple[Sequence[ParsedReport], str] | None = None

    def batch(self, reports: Sequence[ParsedReport]) -> str:
        """:func:`batch_digest` of ``reports``, computed once for both parts of the step (the list
        is held, so that it is the same list, not another one at the same address)."""
        if self._batch is None or self._batch[0] is not reports:
            self._batch = (reports, batch_digest(reports))
        return self._batch[1]

    def around(self, name: str, part: Callable[P, T]) -> Callable[P, T]:
        """``part`` (``validate`` or ``batch_expectations``), its result reused when the memo
        holds one for the same inputs, stored otherwise; a reuse is noted in :attr:`hits`."""
        keyed = _PARTS[name]

        def cached(*args: P.args, **kwargs: P.kwargs) -> T:
            get, put = keyed(self, *args, **kwargs)
            hit = get()
            if hit is not None:
                self.hits.append(name)
                return cast(T, hit)
            value = part(*args, **kwargs)
            put(value)
            return value

        return cached

    def _prune(self, prefix: str) -> None:
        entries = sorted(self.root.glob(prefix + "*"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for p in entries[KEEP:]:
            if p.name.startswith("."):
                continue
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)

    def _touch(self, p: Path) -> None:
        with contextlib.suppress(OSError):
            os.utime(p)

    # the rules
    def get_validation(self, key: str) -> RuleResult | None:
        p = self.root / f"validate-{key}.json"
        try:
            with gc_paused():  # thousands of findings, no cycles: a collection would walk every report
                data = orjson.loads(p.read_bytes())
                findings = _findings_from_rows(data["findings"], data.get("values"))
                summaries = [InfoSummary.from_memo(d) for d in data["summaries"]]
                reading = _undistinct(data["reading"])
                result = RuleResult(
                    findings, CrossYear(**data["cross_year"]), data["localisation"], None, reading, summaries
                )
                # the findings live as long as the run: frozen before the collector is back on (a hit
                # comes after the listing and the store's reports, which made no cyclic garbage either)
                gc.freeze()
        except (OSError, ValueError, TypeError, KeyError):  # orjson.JSONDecodeError is a ValueError
            return None
        self._touch(p)
        return result

    def put_validation(self, key: str, result: RuleResult) -> None:
        from nianbao.io.atomic import write_bytes

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            body = {
                **_shared_rows([finding_row(f) for f in result.findings]),
                "cross_year": {
                    "reports_without_last_year": result.cross_year.reports_without_last_year,
                    "previous_reports": result.cross_year.previous_reports,
                },
                "localisation": result.localisation,
                "reading": None if result.reading is None else _distinct(result.reading),
                "summaries": [s.to_memo() for s in result.summaries],
            }
            write_bytes(self.root / f"validate-{key}.json", _compact(body), durable=False)
            self._prune("validate-")
        except OSError:
            log.warning("could not write the validation memo", exc_info=True)

    # batch expectations
    def get_gx(self, key: str, gx_dir: Path) -> BatchResult | None:
        from nianbao.rules.expectations import BatchResult

        d = self.root / f"gx-{key}"
        try:
            data: dict[str, Any] = orjson.loads((d / "result.json").read_bytes())
            findings = [finding_from_json(x) for x in data["findings"]]
            docs = None
            if data["docs"] is not None:
                target = gx_dir / DOCS
                if target.exists():
                    shutil.rmtree(target)
                shutil.copytree(d / "docs", target, copy_function=_link_or_copy)
                docs = target / data["docs"]
            result = BatchResult(findings, docs, data["skipped"], data["statistics"])
        except (OSError, ValueError, TypeError, KeyError):
            return None
        self._touch(d)
        return result

    def put_gx(self, key: str, gx_dir: Path, result: BatchResult) -> None:
        from nianbao.io.atomic import dumps, write_bytes

        d = self.root / f"gx-{key}"
        tmp = self.root / f".gx-{key}.{os.getpid()}.tmp"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            docs = None
            if result.docs is not None:
                docs = Path(result.docs).relative_to(gx_dir / DOCS).as_posix()
                shutil.copytree(gx_dir / DOCS, tmp / "docs", copy_function=_link_or_copy)
            body = {
                "findings": [finding_to_json(f) for f in result.findings],
                "skipped": result.skipped,
                "statistics": result.statistics,
                "docs": docs,
            }
            write_bytes(tmp / "result.json", dumps(body), durable=False)
            if d.exists():
                shutil.rmtree(d)
            os.replace(tmp, d)
            self._prune("gx-")
        except (OSError, ValueError):
            log.warning("could not write the batch-check memo", exc_info=True)
            shutil.rmtree(tmp, ignore_errors=True)


def _compact(body: Any) -> bytes:
    """``body`` as JSON without indentation (a third fewer bytes for every unchanged rerun to parse
    than :func:`nianbao.io.atomic.dumps`; what orjson refuses, as that one writes it)."""
    from nianbao.io.atomic import dumps

    try:  # (a dataclass or a time among the values: refused here, written by that one's own default)
        return orjson.dumps(body, option=orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return dumps(body)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def contract_key(memo: Memo, counties: Sequence[str | None]) -> str | None:
    """What the contract files (``submissions.json``, ``findings.json``) of a run are a function
    of, once both parts of its validation step were keyed: both parts' keys (the batch, last
    year's reports, the registry, the renames, the code …) and every file's county (from its
    path, in batch order); None when a part was not keyed (no batch expectations)."""
    if not all(name in memo.keys for name in _PARTS):
        return None
    h = hashlib.sha256("\0".join(memo.keys[name] for name in _PARTS).encode())
    h.update("\0".join("\1" if c is None else c for c in counties).encode())
    return h.hexdigest()


# ------------------------------------------------------------------ the keys of each part


def _rules_entry(
    memo: Memo,
    reports: Sequence[ParsedReport],
    last_year: LastYear,
    registry: Sequence[Agency] | None,
    renames: Mapping[str, str] | None,
) -> tuple[Callable[[], object], Callable[[Any], None]]:
    key = memo.keys["validate"] = validation_key(memo.batch(reports), last_year.identity, registry, renames)
    return lambda: memo.get_validation(key), lambda value: memo.put_validation(key, value)


def _expectations_entry(
    memo: Memo,
    reports: Sequence[ParsedReport],
    gx_dir: Path,
    registry: Sequence[Agency] | None,
    registry_file: str | None,
    renames: Mapping[str, str] | None,
    expected_years: Sequence[int] | None,
) -> tuple[Callable[[], object], Callable[[Any], None]]:
    key = gx_key(memo.batch(reports), registry, registry_file, renames, expected_years)
    memo.keys["batch_expectations"] = key
    return lambda: memo.get_gx(key, gx_dir), lambda value: memo.put_gx(key, gx_dir, value)


# a part's name → how to get and put its entry (under the key of the part's own arguments)
_PARTS: dict[str, Callable[..., tuple[Callable[[], object], Callable[[Any], None]]]] = {
    "validate": _rules_entry,
    "batch_expectations": _expectations_entry,
}
