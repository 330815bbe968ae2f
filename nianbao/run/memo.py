"""Stage memos: a rerun over unchanged inputs reuses the findings of the last identical run.

Two memos live in ``<store>/memo/``, each keyed on every input of its stage:

- ``validate-<key>.json``: the findings of the core validation (:func:`nianbao.validate.batch.validate_batch`:
  linear, cross-year, prose, plausibility rules and error localisation) and the ``extra`` it adds.
  Key: the batch in order (file name, SHA-256, status, reason of every report), last year's stored
  reports the cross-year rules read (name, SHA-256, store format), the registry, the renames, the
  rule-set version and the source hash of the package (a code change invalidates, whatever
  ``ENGINE_REVISION`` says).
- ``gx-<key>/``: the findings, statistics and skipped checks of the batch expectations (Great
  Expectations, :func:`nianbao.rules.expectations.check_batch`) and a copy of their Data Docs.  Key: the
  same batch identity (the submission table is a function of it and of the code), the registry,
  the registry file name (it is quoted in findings), the renames and the expected years.  On a hit
  the Data Docs are hard-linked into the new run's ``gx`` folder and great_expectations is not
  imported.

Entries are written atomically (a temporary name, then a rename); only the newest :data:`KEEP` of
each kind are kept.  A memo that cannot be read is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from nianbao.catalogue import ruleset_version
from nianbao.domain.model import ParsedReport
from nianbao.domain.registry import Agency
from nianbao.outcome import Finding, RunOutcome, Suspect

log = logging.getLogger("nianbao.run.memo")

KEEP = 5  # entries kept per kind
FORMAT = 1  # bump when the layout of an entry changes
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
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()[:32]


def batch_identity(reports: Sequence[ParsedReport]) -> list[list[Any]]:
    return [[r.file, r.sha256, r.status, r.reason_code, r.reason] for r in reports]


def _registry(registry: Sequence[Agency] | None) -> Any:
    return None if registry is None else [[a.county, a.agency, a.level] for a in registry]


def validation_key(
    reports: Sequence[ParsedReport],
    previous: Sequence[Sequence[Any]],
    registry: Sequence[Agency] | None,
    renames: Mapping[str, str] | None,
) -> str:
    from nianbao.localise import budget_per_report

    return _digest(
        {
            "format": FORMAT,
            "ruleset": ruleset_version(),
            "code": code_hash(),
            "batch": batch_identity(reports),
            "localise_budget": budget_per_report(),  # NIANBAO_LOCALISE_BUDGET decides which reports are localised
            "previous": [list(p) for p in previous],
            "registry": _registry(registry),
            "renames": sorted((renames or {}).items()),
        }
    )


def gx_key(
    reports: Sequence[ParsedReport],
    registry: Sequence[Agency] | None,
    registry_file: str | None,
    renames: Mapping[str, str] | None,
    expected_years: Sequence[int] | None,
) -> str:
    return _digest(
        {
            "format": FORMAT,
            "ruleset": ruleset_version(),
            "code": code_hash(),
            "batch": batch_identity(reports),
            "registry": _registry(registry),
            "registry_file": registry_file,
            "renames": sorted((renames or {}).items()),
            "expected_years": list(expected_years) if expected_years is not None else None,
        }
    )


# ------------------------------------------------------------------ findings <-> JSON


def finding_to_json(f: Finding) -> dict[str, Any]:
    out = f.to_json()
    out["report"] = f.report
    for k in ("quote", "suspects", "where"):  # keep None apart from absent
        out.setdefault(k, None)
    return out


def finding_from_json(d: dict[str, Any]) -> Finding:
    d = dict(d)
    sus = d.pop("suspects")
    return Finding(**d, suspects=None if sus is None else [Suspect(**s) for s in sus])


# ------------------------------------------------------------------ the memo folder


class Memo:
    def __init__(self, store: Path) -> None:
        self.root = store / "memo"

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

    # validation
    def get_validation(self, key: str) -> dict[str, Any] | None:
        p = self.root / f"validate-{key}.json"
        was_enabled = gc.isenabled()
        gc.disable()  # thousands of findings, no cycles: a collection would walk every report
        try:
            data: dict[str, Any] = json.loads(p.read_bytes())
            data["findings"] = [finding_from_json(d) for d in data["findings"]]
        except (OSError, ValueError, TypeError, KeyError):
            return None
        finally:
            if was_enabled:
                gc.enable()
        self._touch(p)
        return data

    def put_validation(self, key: str, findings: Sequence[Finding], extra: dict[str, Any]) -> None:
        from nianbao.io.atomic import dumps, write_bytes

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            body = {"findings": [finding_to_json(f) for f in findings], "extra": extra}
            write_bytes(self.root / f"validate-{key}.json", dumps(body), durable=False)
            self._prune("validate-")
        except OSError:
            log.warning("could not write the validation memo", exc_info=True)

    # batch expectations
    def get_gx(self, key: str, gx_dir: Path) -> dict[str, Any] | None:
        d = self.root / f"gx-{key}"
        try:
            data: dict[str, Any] = json.loads((d / "result.json").read_bytes())
            data["findings"] = [finding_from_json(x) for x in data["findings"]]
            if data["docs"] is not None:
                target = gx_dir / DOCS
                if target.exists():
                    shutil.rmtree(target)
                shutil.copytree(d / "docs", target, copy_function=_link_or_copy)
        except (OSError, ValueError, TypeError, KeyError):
            return None
        self._touch(d)
        return data

    def put_gx(self, key: str, gx_dir: Path, result: Any) -> None:
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


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


# ------------------------------------------------------------------ the validation, memoised


def validate_memoised(
    reports: list[ParsedReport],
    inputs: Sequence[str],
    timings: dict[str, float] | None,
    *,
    store: Path,
    previous_key: Sequence[Sequence[Any]],
    load_previous: Callable[[], list[ParsedReport]],
    registry: Sequence[Agency] | None,
    registry_file: str | None,
    renames: Mapping[str, str] | None,
    gx_dir: Path | None,
    expected_years: Sequence[int] | None,
) -> RunOutcome:
    """:func:`nianbao.run.validation.validate_reports`, each half reused from the memo when its inputs are unchanged.

    ``previous_key``: (name, SHA-256, store format) of the stored last-year reports that
    ``load_previous`` would return; they are loaded only on a miss."""
    from nianbao.rules.expectations import BATCH_RULES, NOT_RUN
    from nianbao.run.validation import assemble_outcome, batch_extra, run_validation
    from nianbao.validate.batch import sort_findings

    memo = Memo(store)
    timings = dict(timings or {})
    t0 = time.perf_counter()
    vkey = validation_key(reports, previous_key, registry, renames)
    hit = memo.get_validation(vkey)
    memo_hits: list[str] = []
    if hit is not None:
        findings: list[Finding] = hit["findings"]
        vextra: dict[str, Any] = hit["extra"]
        timings["validate"] = time.perf_counter() - t0
        memo_hits.append("validate")
    else:
        findings, vextra = run_validation(
            reports, timings, previous=load_previous(), registry=registry, renames=renames
        )
        memo.put_validation(vkey, findings, vextra)
    extra: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    if gx_dir is not None:
        t1 = time.perf_counter()
        gkey = gx_key(reports, registry, registry_file, renames, expected_years)
        ghit = memo.get_gx(gkey, gx_dir)
        if ghit is not None:
            batch_findings, bskipped, stats = ghit["findings"], ghit["skipped"], ghit["statistics"]
            docs = gx_dir / DOCS / ghit["docs"] if ghit["docs"] is not None else None
            memo_hits.append("batch_expectations")
        else:
            from nianbao.rules.expectations import check_batch

            batch = check_batch(
                reports,
                gx_dir,
                registry=registry,
                registry_file=registry_file,
                renames=renames,
                expected_years=expected_years,
            )
            memo.put_gx(gkey, gx_dir, batch)
            batch_findings, bskipped, stats, docs = batch.findings, batch.skipped, batch.statistics, batch.docs
        findings = sort_findings(findings + batch_findings)
        timings["batch_expectations"] = time.perf_counter() - t1
        skipped |= bskipped
        extra |= batch_extra(stats, docs, gx_dir)
    else:
        skipped |= dict.fromkeys(BATCH_RULES, NOT_RUN)
    outcome = assemble_outcome(reports, findings, inputs, timings, registry, skipped, extra | vextra)
    outcome.extra["memo_hits"] = memo_hits
    return outcome
