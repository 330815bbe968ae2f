"""The rule catalogue: rules as data (``rules/catalogue.toml``) plus the linear rule instances.

A *rule* is a catalogue entry (code, severity, citation, message template, fix).  A sum rule's
entry also has its terms (``[rule.sum]``: the table, one equation per row or per column, the
printed side, the parts, the role of the printed cell — see :class:`SumRule`).  A *linear rule
instance* is one equation of a sum rule (e.g. A01 on row ``3.3.4``) written over canonical cell
ids; the pandera schemas, the findings, the error localisation and the reading of run-together
digits all compile from these: adding a sum rule is one catalogue entry (plus its fixtures).

Every value computed from the catalogue is cached with :func:`derived`; :func:`use_catalogue`
swaps the catalogue (a test's temporary one) and clears them all.
"""

from __future__ import annotations

import fnmatch
import hashlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from nianbao.domain.spec import Fmt, tables

_F = TypeVar("_F", bound=Callable[..., Any])
_DERIVED: list[Any] = []


def derived(fn: _F) -> _F:
    """``functools.cache`` for a value computed from the catalogue: cleared by :func:`use_catalogue`."""
    cached = cache(fn)
    _DERIVED.append(cached)
    return cached  # type: ignore[return-value]


# Bump when the engine's interpretation of the rules changes without a catalogue edit.
ENGINE_REVISION = 1


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


# the role of a sum rule's printed cell: the total of its row (A01, D01: a blank one is the missing
# total, imputed by the localisation; a run-together row is split at it), the total of a group of
# rows (B01), or neither (C01: two sides balance)
ROW_TOTAL, GROUP_TOTAL, BALANCE = "row_total", "group_total", "balance"
TOTAL_ROLES = (ROW_TOTAL, GROUP_TOTAL)


@dataclass(frozen=True)
class SumRule:
    """The terms of a sum rule (``[rule.sum]`` of its catalogue entry).

    ``each`` = ``"row"``: one equation per row of ``table``, ``printed`` and ``parts`` are column
    ids; ``"column"``: one per column, they are row ids.  ``sum(printed) == sum(parts)``; a part
    may be a pattern (``"3.*"``: every matching id in the table's order, the printed ones left out).
    """

    table: str
    each: str
    printed: tuple[str, ...]
    parts: tuple[str, ...]
    role: str

    def terms(self, ids: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(printed ids, part ids) among the table's ``ids`` (rows or columns, in order)."""
        for i in self.printed:
            if i not in ids:
                raise ValueError(f"sum rule on table {self.table}: no {self.each} {i!r} in {ids}")
        parts: list[str] = []
        for p in self.parts:
            if any(ch in p for ch in "*?["):
                parts += [i for i in ids if fnmatch.fnmatchcase(i, p) and i not in self.printed and i not in parts]
            elif p in ids:
                parts.append(p)
            else:
                raise ValueError(f"sum rule on table {self.table}: no {self.each} {p!r} in {ids}")
        return self.printed, tuple(parts)


def _sum_rule(code: str, data: dict[str, Any]) -> SumRule:
    sr = SumRule(
        table=str(data["table"]),
        each=data["each"],
        printed=tuple(data["printed"]),
        parts=tuple(data["parts"]),
        role=data["role"],
    )
    if sr.each not in ("row", "column") or sr.role not in (ROW_TOTAL, GROUP_TOTAL, BALANCE):
        raise ValueError(
            f"rule {code}: [rule.sum] each must be row or column, role one of {ROW_TOTAL}, {GROUP_TOTAL}, {BALANCE}"
        )
    if sr.role in TOTAL_ROLES and len(sr.printed) != 1:
        raise ValueError(f"rule {code}: a total ({sr.role}) is one printed cell")
    return sr


@dataclass(frozen=True)
class Rule:
    code: str
    family: str
    severity: Severity
    title: str
    citation: str
    checks: str
    why: str
    message: str
    fix: str
    retired: bool = False
    sum: SumRule | None = None  # the terms of a sum rule (A–D)
    # an info kept once per run for all the reports it applies to (nianbao.outcome.InfoSummary)
    summarised: bool = False

    def render(self, **params: Any) -> str:
        return _format(self.message, params)

    def render_fix(self, **params: Any) -> str:
        return _format(self.fix, params)


_RENDERED: dict[tuple[Any, ...], tuple[str, str, str]] = {}
_RENDERED_MAX = 1 << 16


def rendered(code: str, params: dict[str, Any]) -> tuple[str, str, str]:
    """(severity, message, fix) of rule ``code`` with ``params``.  The same finding recurs on many
    reports (an accepted alias, a missing last-year report): each distinct text is rendered once."""
    try:
        key = (code, *params.items(), *map(type, params.values()))  # 1, 1.0 and True render apart
        hit = _RENDERED.get(key)
    except TypeError:  # an unhashable parameter (a list): render without the cache
        key, hit = None, None
    if hit is not None:
        return hit
    r = rule(code)
    out = (r.severity.value, r.render(**params), r.render_fix(**params))
    if key is not None:
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        _RENDERED[key] = out
    return out


class _Default(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _format(template: str, params: dict[str, Any]) -> str:
    return template.format_map(_Default({k: _fmt_value(v) for k, v in params.items()}))


def _fmt_value(v: Any) -> Any:
    if isinstance(v, float):
        return format_number(v)
    return v


def format_number(v: float | None) -> str:
    if v is None:
        return "空白"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6f}".rstrip("0").rstrip(".")


_SOURCE: list[bytes] = []  # a catalogue in use instead of the packaged one (use_catalogue)


def _catalogue_bytes() -> bytes:
    if _SOURCE:
        return _SOURCE[0]
    return resources.files("nianbao.catalogue").joinpath("catalogue.toml").read_bytes()


def use_catalogue(toml: bytes | None) -> None:
    """Read the rules from ``toml`` instead of the packaged catalogue (None: the packaged one
    again); every value derived from the catalogue is recomputed on its next use."""
    _SOURCE.clear()
    if toml is not None:
        _SOURCE.append(toml)
    for cached in _DERIVED:
        cached.cache_clear()
    _RENDERED.clear()


@derived
def catalogue() -> dict[str, Rule]:
    data = tomllib.loads(_catalogue_bytes().decode("utf-8"))
    out: dict[str, Rule] = {}
    for entry in data["rule"]:
        code = entry["code"]
        if code in out:
            raise ValueError(f"rule code {code} is defined twice in the catalogue")
        out[code] = Rule(
            code=code,
            family=entry["family"],
            severity=Severity(entry["severity"]),
            title=entry["title"],
            citation=entry["citation"],
            checks=entry["checks"],
            why=entry["why"],
            message=entry["message"],
            fix=entry["fix"],
            retired=bool(entry.get("retired", False)),
            sum=_sum_rule(code, entry["sum"]) if "sum" in entry else None,
            summarised=bool(entry.get("summarised", False)),
        )
        if out[code].summarised and out[code].severity is not Severity.INFO:
            raise ValueError(f"rule {code}: only an info can be summarised (summarised = true)")
    return out


@derived
def summarised_codes() -> frozenset[str]:
    """The rules whose findings a run keeps as summaries (``summarised = true``: infos nearly every
    report carries), each summary once for all the reports with the same words."""
    return frozenset(code for code, r in catalogue().items() if r.summarised and not r.retired)


def rule(code: str) -> Rule:
    return catalogue()[code]


@derived
def ruleset_version() -> str:
    """Changes whenever the catalogue or the engine revision changes (cache key for reruns)."""
    h = hashlib.sha256(_catalogue_bytes())
    h.update(f"engine={ENGINE_REVISION}".encode())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- linear rules (A–D)


# In a cross-year rule, a cell of the same agency's previous-year report: ``prev:3:4:natural``.
PREV = "prev:"


@dataclass(frozen=True)
class LinearRule:
    """``sum(lhs) == sum(rhs)`` over canonical cells (blanks count as 0).

    ``actual`` of a finding is ``sum(lhs)``, ``expected`` is ``sum(rhs)``.
    """

    code: str
    key: str  # the instance, as a cell id with '*' (e.g. "3:3.3.4:*", "3:*:natural")
    table: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    params: tuple[tuple[str, str], ...] = ()
    role: str = BALANCE  # of the printed cell (lhs): ROW_TOTAL, GROUP_TOTAL or BALANCE

    @property
    def name(self) -> str:
        return f"{self.code}|{self.key}"

    @property
    def cells(self) -> tuple[str, ...]:
        return self.lhs + self.rhs

    @property
    def own_cells(self) -> tuple[str, ...]:
        """The cells of the report itself (a cross-year rule also names last year's cells)."""
        return tuple(c for c in self.cells if not c.startswith(PREV))

    @property
    def prev_cells(self) -> tuple[str, ...]:
        """Last year's cells of a cross-year rule, without the ``prev:`` prefix."""
        return tuple(c[len(PREV) :] for c in self.cells if c.startswith(PREV))


def _cell_id(table: str, line: str, across: str, by_row: bool) -> str:
    """The cell of ``table`` on ``line`` (a row when ``by_row``, else a column) and ``across`` it."""
    return f"{table}:{line}:{across}" if by_row else f"{table}:{across}:{line}"


@derived
def linear_rules(fmt: Fmt) -> tuple[LinearRule, ...]:
    """Every equation of every sum rule of the catalogue (its ``[rule.sum]`` terms), in catalogue order."""
    ts = tables(fmt)
    out: list[LinearRule] = []
    for r in catalogue().values():
        sr = r.sum
        if sr is None or r.retired:
            continue
        t = ts[sr.table]
        by_row = sr.each == "row"  # one equation a row (its columns summed), else one a column
        printed, parts = sr.terms([x.id for x in (t.columns if by_row else t.rows)])
        key = "row_label" if by_row else "col_label"
        for line in t.rows if by_row else t.columns:
            out.append(
                LinearRule(
                    r.code,
                    _cell_id(sr.table, line.id, "*", by_row),
                    sr.table,
                    tuple(_cell_id(sr.table, line.id, x, by_row) for x in printed),
                    tuple(_cell_id(sr.table, line.id, x, by_row) for x in parts),
                    ((key, line.label),),
                    sr.role,
                )
            )
    return tuple(out)


@derived
def sum_rule_codes() -> frozenset[str]:
    """The codes of the rules the localisation explains: the sum rules and the carry-over rule E01."""
    return frozenset(lr.code for fmt in Fmt for lr in linear_rules(fmt)) | {lr.code for lr in carry_over_rules()}


@derived
def total_cells() -> frozenset[str]:
    """The cells that are a total by a sum rule (the printed cell of a row or group total)."""
    return frozenset(lr.lhs[0] for fmt in Fmt for lr in linear_rules(fmt) if lr.role in TOTAL_ROLES)


# ---------------------------------------------------------------- cross-year rules (E, F)


@derived
def carry_over_rules() -> tuple[LinearRule, ...]:
    """E01 per column of table 三: this year's 3:2:* = last year's 3:4:* (rows 2 and 4 exist in both formats)."""
    return tuple(
        LinearRule(
            "E01",
            f"3:*:{c.id}",
            "3",
            (f"3:2:{c.id}",),
            (f"{PREV}3:4:{c.id}",),
            (("col_label", c.label),),
        )
        for c in tables(Fmt.F2021)["3"].columns
    )


@derived
def stock_rules() -> tuple[LinearRule, ...]:
    """F01 per row of table 二 第（一）项 (2021 format, both years): in_force = last in_force + issued − repealed,
    written without subtraction as in_force + repealed = issued + last year's in_force."""
    t2 = tables(Fmt.F2021)["2"]
    return tuple(
        LinearRule(
            "F01",
            f"2:{row}:*",
            "2",
            (f"2:{row}:in_force", f"2:{row}:repealed"),
            (f"2:{row}:issued", f"{PREV}2:{row}:in_force"),
            (("row_label", t2.row(row).label),),
        )
        for row in ("rules", "normative")
    )
