"""The rule catalogue: rules as data (``rules/catalogue.toml``) plus the linear rule instances.

A *rule* is a catalogue entry (code, severity, citation, message template, fix).  A *linear rule
instance* is one equation of the sum rules A–D (e.g. A01 on row ``3.3.4``) written over canonical
cell ids; the pandera schemas, the findings and the error localisation all compile from these.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from nianbao.spec import T3_PARTS, T4_PARTS, Fmt, tables

# Bump when the engine's interpretation of the rules changes without a catalogue edit.
ENGINE_REVISION = 1


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


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
        key = (code, *((k, type(v), v) for k, v in params.items()))  # 1, 1.0 and True render apart
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


def _catalogue_bytes() -> bytes:
    return resources.files("nianbao.rules").joinpath("catalogue.toml").read_bytes()


@cache
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
        )
    return out


def rule(code: str) -> Rule:
    return catalogue()[code]


@cache
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


@cache
def linear_rules(fmt: Fmt) -> tuple[LinearRule, ...]:
    ts = tables(fmt)
    t3, t4 = ts["3"], ts["4"]
    out: list[LinearRule] = []
    # A: every row of table 三, total = Σ applicant columns
    for r in t3.rows:
        out.append(
            LinearRule(
                "A01",
                f"3:{r.id}:*",
                "3",
                (f"3:{r.id}:total",),
                tuple(f"3:{r.id}:{c}" for c in T3_PARTS),
                (("row_label", r.label),),
            )
        )
    outcome_rows = [r.id for r in t3.rows if r.id.startswith("3.") and r.id != "3.7"]
    for c in t3.columns:
        # B: 3.7 = Σ outcome rows
        out.append(
            LinearRule(
                "B01",
                f"3:*:{c.id}",
                "3",
                (f"3:3.7:{c.id}",),
                tuple(f"3:{r}:{c.id}" for r in outcome_rows),
                (("col_label", c.label),),
            )
        )
    for c in t3.columns:
        # C: 1 + 2 = 3.7 + 4
        out.append(
            LinearRule(
                "C01",
                f"3:*:{c.id}",
                "3",
                (f"3:1:{c.id}", f"3:2:{c.id}"),
                (f"3:3.7:{c.id}", f"3:4:{c.id}"),
                (("col_label", c.label),),
            )
        )
    for r in t4.rows:
        out.append(
            LinearRule(
                "D01",
                f"4:{r.id}:*",
                "4",
                (f"4:{r.id}:total",),
                tuple(f"4:{r.id}:{c}" for c in T4_PARTS),
                (("row_label", r.label),),
            )
        )
    return tuple(out)


# ---------------------------------------------------------------- cross-year rules (E, F)


@cache
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


@cache
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
