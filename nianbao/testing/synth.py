"""Deterministic synthetic reports: whole counties over consecutive years, with planted defects.

Figures are generated consistently (every sum rule holds, carry-over and document stock carry
across years, the prose states the table's numbers), then a share of reports gets exactly one
planted defect, recorded in a ground-truth list.  The text layout is the seed report's own
(``synth_template.txt``: the seed with its numbers and names replaced by «placeholders»).
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from nianbao.catalogue import format_number
from nianbao.domain.spec import T3_PARTS, T4_PARTS, Fmt, tables

COUNTY_NAMES = (
    "示例县", "青山县", "河西区", "白水县", "临川县", "东源县", "南湖区", "北岭县", "西峰县", "长宁县",
)  # fmt: skip
_NAME_A = "安白宝长成大东丰福高和红黄吉金靖乐立龙明南宁平青清仁瑞三沙上石顺太天通万王文西新兴阳永裕振中"
_NAME_B = "安坝堡昌川店渡峰沟关河湖集涧口岭楼庙桥泉山石滩塘田湾溪峡寨庄"
MAX_TOWNSHIPS = len(set(_NAME_A)) * len(set(_NAME_B))  # distinct township names in one county

DEFECTS = (
    "digit_typo",
    "transposed",
    "b_only",
    "total_blank",
    "t4_total",
    "period_year",
    "non_numeric",
    "negative",
    "missing_row",
    "carry_over",
    "prose_received",
    "copy_last_year",
    "stock_break",
)
# Defects the bundled rules must find, with the rule codes each gives.  Cross-year and text defects
# (carry_over -> E, prose_received -> H) are checked by the rules of those families.
DEFECT_RULES: dict[str, tuple[str, ...]] = {
    "digit_typo": ("A01",),
    "transposed": ("A01",),
    "b_only": ("B01",),
    "total_blank": ("G04",),
    "t4_total": ("D01",),
    "period_year": ("P01",),
    "non_numeric": ("G01",),
    "negative": ("G02",),
    "missing_row": ("I04",),
    "carry_over": ("E01",),
    "prose_received": ("H01",),
    "copy_last_year": ("L01",),
    "stock_break": ("F01",),
}
# defects that need last year's report of the same agency
NEEDS_LAST_YEAR = frozenset({"carry_over", "copy_last_year", "stock_break"})


@dataclass
class SynthConfig:
    counties: int = 1
    townships: int = 12
    years: tuple[int, ...] = (2022, 2023)
    defect_rate: float = 0.3
    seed: int = 20231231
    mixed_encodings: bool = True
    defects: tuple[str, ...] = DEFECTS
    # only plant defects in these years (default: all)
    defect_years: tuple[int, ...] | None = None
    # an explicit plan instead of random planting: (township index in its county, year, defect)
    plan: tuple[tuple[int, int, str], ...] | None = None
    # townships (index in each county) renamed in the last year: earlier reports carry the old name
    # (乡 ↔ 镇, e.g. 撤乡设镇); see renames_csv()
    renamed: tuple[int, ...] = ()


@dataclass
class ReportData:
    county: str
    agency: str
    short: str
    level: str
    year: int
    values: dict[str, float]
    blanks: set[str] = field(default_factory=set)
    raw: dict[str, str] = field(default_factory=dict)  # printed text overriding a value
    drop_rows: set[str] = field(default_factory=set)  # "3:3.3.7"
    period: tuple[int, int] | None = None
    prose: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    crlf: bool = False
    current: str = ""  # the agency's current name (differs from ``agency`` before a rename)

    @property
    def file_name(self) -> str:
        return f"{self.agency}_{self.year}.txt"


@dataclass
class Planted:
    file: str
    agency: str
    county: str
    year: int
    defect: str
    rules: tuple[str, ...]
    cells: tuple[str, ...]
    original: Any
    planted: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "agency": self.agency,
            "county": self.county,
            "year": self.year,
            "defect": self.defect,
            "rules": list(self.rules),
            "cells": list(self.cells),
            "original": self.original,
            "planted": self.planted,
        }


# ------------------------------------------------------------------ consistent figures

_OUTCOME_WEIGHTS = {
    "3.1": 10,
    "3.2": 3,
    "3.3.4": 1,
    "3.3.5": 0.5,
    "3.3.6": 0.5,
    "3.4.1": 4,
    "3.4.2": 1,
    "3.4.3": 0.5,
    "3.5.1": 1,
    "3.5.2": 1,
    "3.5.5": 0.3,
    "3.6.1": 0.5,
    "3.6.3": 0.8,
}


def _agency_names(rng: random.Random, county: str, n: int) -> list[tuple[str, str]]:
    if n > MAX_TOWNSHIPS:  # the loop below draws distinct names: bounded only while there are enough
        raise ValueError(f"at most {MAX_TOWNSHIPS} townships per county (asked for {n})")
    names: list[tuple[str, str]] = []
    used: set[str] = set()
    while len(names) < n:
        short = rng.choice(_NAME_A) + rng.choice(_NAME_B)
        if short in used:
            continue
        used.add(short)
        suffix = "镇" if rng.random() < 0.7 else "乡"
        names.append((f"{county}{short}{suffix}", short))
    return names


@dataclass(frozen=True)
class _Profile:
    """A township's typical yearly volumes of table 二 (each year varies around them: no ×5 jumps)."""

    licensing: float
    penalty: float
    coercion: float
    fees: float  # 万元 (0: collects none)


def _profile(rng: random.Random, scale: float) -> _Profile:
    return _Profile(
        licensing=rng.expovariate(1 / (20 * scale)),
        penalty=rng.expovariate(1 / (60 * scale)),
        coercion=rng.expovariate(1 / (5 * scale)),
        fees=0.0 if rng.random() < 0.7 else rng.uniform(0.5, 80) * scale,
    )


def _vary(rng: random.Random, base: float) -> int:
    """This year's count around a typical volume (log-normal, σ 0.2; stochastic rounding)."""
    return int(base * rng.lognormvariate(0, 0.2) + rng.random()) if base > 0 else 0


def _t3_values(rng: random.Random, carried: dict[str, int], scale: float) -> dict[str, float]:
    v: dict[str, float] = {}
    rows = [r.id for r in tables(Fmt.F2021)["3"].rows]
    for r in rows:
        for c in T3_PARTS:
            v[f"3:{r}:{c}"] = 0.0
    outcome_rows = list(_OUTCOME_WEIGHTS)
    weights = list(_OUTCOME_WEIGHTS.values())
    for c in T3_PARTS:
        if c == "natural":
            new = int(rng.expovariate(1 / (6 * scale))) if rng.random() < 0.8 else 0
        else:
            new = rng.choice((0, 0, 0, 0, 1, 2)) if rng.random() < 0.5 * scale else 0
        prev = carried.get(c, 0)
        total_in = new + prev
        out = rng.choice((0, 0, 0, 1)) if total_in > 2 else 0
        out = min(out, total_in)
        handled = total_in - out
        v[f"3:1:{c}"] = float(new)
        v[f"3:2:{c}"] = float(prev)
        v[f"3:4:{c}"] = float(out)
        v[f"3:3.7:{c}"] = float(handled)
        for _ in range(handled):
            r = rng.choices(outcome_rows, weights)[0]
            v[f"3:{r}:{c}"] += 1
    for r in rows:
        v[f"3:{r}:total"] = sum(v[f"3:{r}:{c}"] for c in T3_PARTS)
    return v


def _t4_values(rng: random.Random) -> dict[str, float]:
    v: dict[str, float] = {}
    for r in ("review", "suit_direct", "suit_after_review"):
        for c in T4_PARTS:
            v[f"4:{r}:{c}"] = float(rng.choice((0,) * 12 + (1, 1, 2))) if c != "other" else 0.0
        v[f"4:{r}:total"] = sum(v[f"4:{r}:{c}"] for c in T4_PARTS)
    return v


def _t2_values(
    rng: random.Random, in_force: int, scale: float, prof: _Profile, vary: random.Random
) -> dict[str, float]:
    issued = rng.choice((0, 0, 0, 1, 1, 2, 3))
    repealed = min(in_force, rng.choice((0, 0, 0, 1)))
    # the main stream is drawn as it always was (every other figure of the county stays the same) ...
    if rng.random() >= 0.7:
        rng.uniform(0.5, 80)
    for mean in (20, 60, 5):
        rng.expovariate(1 / (mean * scale))
    # ... while the volumes come from the township's own profile, stable from year to year
    fees = round(prof.fees * vary.lognormvariate(0, 0.2), 4) if prof.fees else 0.0
    return {
        "2:rules:issued": 0.0,
        "2:rules:repealed": 0.0,
        "2:rules:in_force": 0.0,
        "2:normative:issued": float(issued),
        "2:normative:repealed": float(repealed),
        "2:normative:in_force": float(in_force + issued - repealed),
        "2:licensing:decisions": float(_vary(vary, prof.licensing)),
        "2:penalty:decisions": float(_vary(vary, prof.penalty)),
        "2:coercion:decisions": float(_vary(vary, prof.coercion)),
        "2:fees:amount": fees,
    }


_CN = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """Small counts as prose writes them in words (两件, 十二件)."""
    if n == 2:
        return "两"
    if n < 10:
        return _CN[n]
    tens, ones = divmod(n, 10)
    return ("十" if tens == 1 else _CN[tens] + "十") + (_CN[ones] if ones else "")


def _pct(part: int, base: int) -> str:
    """part/base as a percentage rounded half-up to one decimal (as a careful report writes it)."""
    q = (Decimal(part) * 100 / Decimal(base)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return str(q)


def _table_prose(d: ReportData) -> dict[str, str]:
    """The sentences of the prose that state the table's figures, in one of several phrasings real
    reports use (chosen per agency and year, so re-rendering a report gives the same words)."""
    v = d.values
    y = d.year
    pick = random.Random(f"{d.agency}|{y}")
    received = int(v["3:1:total"])
    carried = int(v["3:2:total"])
    handled = int(v["3:3.7:total"])
    forwarded = int(v["3:4:total"])

    def s(prefix: str) -> int:
        return int(sum(x for k, x in v.items() if k.endswith(":total") and k.startswith(f"3:{prefix}")))

    o, p, n, u, q, x = s("3.1"), s("3.2"), s("3.3"), s("3.4"), s("3.5"), s("3.6")
    if received == 0 and carried == 0:
        apply_para = pick.choice(
            (f"{y} 年未收到政府信息依申请公开件。", "本年度未收到政府信息公开申请。", "全年无依申请公开事项。")
        )
    else:
        variant = pick.randrange(4)
        if variant == 1:
            apply_para = (
                f"{y} 年，我镇共受理政府信息公开申请 {received} 件，上年度结转 {carried} 件。"
                f"全年办结 {handled} 件，其中予以公开 {o} 件、部分公开 {p} 件、不予公开 {n} 件、"
                f"无法提供 {u} 件、不予处理 {q} 件、其他处理 {x} 件，结转下年度继续办理 {forwarded} 件。"
            )
        elif variant == 2 and handled > 0:
            tail = "申请均已按时办结。" if forwarded == 0 else f"结转下年度继续办理 {forwarded} 件。"
            apply_para = (
                f"全年共收到公民、法人和其他组织提出的政府信息公开申请 {received} 件，上年结转 {carried} 件，"
                f"全年办结 {handled} 件。其中予以公开 {o} 件，占办结总数的 {_pct(o, handled)}%。{tail}"
            )
        elif variant == 3 and max(received, carried, handled, forwarded) < 100:
            apply_para = (
                f"{y} 年，本机关新收政府信息公开申请{_cn(received)}件，上年结转{_cn(carried)}件，"
                f"办结{_cn(handled)}件，结转下年度继续办理{_cn(forwarded)}件。"
            )
        else:
            apply_para = (
                f"{y} 年共收到政府信息公开申请 {received} 件，上年结转 {carried} 件；办结 {handled} 件，"
                f"其中予以公开 {o} 件，部分公开 {p} 件，不予公开 {n} 件，"
                f"无法提供 {u} 件，不予处理 {q} 件，其他处理 {x} 件；"
                f"结转下年度继续办理 {forwarded} 件。"
            )
    review = int(v["4:review:total"])
    suits = int(v["4:suit_direct:total"] + v["4:suit_after_review:total"])
    not_upheld = sum(
        v[f"4:{g}:{c}"]
        for g in ("review", "suit_direct", "suit_after_review")
        for c in ("corrected", "other", "pending")
    )
    if review or suits:
        variant = pick.randrange(3)
        if variant == 1:
            review_para = f"因政府信息公开被申请行政复议 {review} 件，被提起行政诉讼 {suits} 件。"
        elif variant == 2 and not_upheld == 0:
            review_para = f"全年发生政府信息公开行政复议 {review} 件、行政诉讼 {suits} 件，结果均获维持。"
        else:
            review_para = f"全年发生政府信息公开行政复议 {review} 件、行政诉讼 {suits} 件。"
    else:
        review_para = pick.choice(("", "全年未发生因政府信息公开引起的行政复议、行政诉讼。"))
    fee_para = pick.choice(
        (f"{y} 年无收取信息处理费情况。", "本年度未收取信息处理费。", "本机关未向申请人收取信息处理费。")
    )
    return {"apply_para": apply_para, "review_para": review_para, "fee_para": fee_para}


def _prose(d: ReportData, rng: random.Random) -> dict[str, str]:
    web, wechat, weibo, video, board = (
        rng.randint(20, 120),
        rng.randint(100, 500),
        rng.randint(0, 600),
        rng.randint(0, 20),
        rng.randint(10, 80),
    )
    return _table_prose(d) | {
        "pub_total": str(web + wechat + weibo + video + board),
        "pub_web": str(web),
        "pub_wechat": str(wechat),
        "pub_weibo": str(weibo),
        "pub_video": str(video),
        "pub_views": str(rng.randint(1000, 50000)),
        "pub_board": str(board),
        "phone": f"0955-{rng.randint(1000000, 9999999)}",
    }


def generate(cfg: SynthConfig) -> tuple[list[ReportData], list[Planted]]:
    """All reports of all counties and years, in a deterministic order, and the planted defects."""
    rng = random.Random(cfg.seed)
    reports: list[ReportData] = []
    planted: list[Planted] = []
    encodings = ("utf-8",) * 12 + ("utf-8-sig",) * 3 + ("gb18030",) * 4 + ("utf-16",)
    years = sorted(cfg.years)
    for ci in range(cfg.counties):
        county = COUNTY_NAMES[ci] if ci < len(COUNTY_NAMES) else f"示例{ci + 1}县"
        for ti, (agency, short) in enumerate(_agency_names(rng, county, cfg.townships)):
            scale = rng.choice((0.3, 0.6, 1.0, 1.0, 1.5, 3.0))
            vary = random.Random(f"{cfg.seed}|{county}|{short}")  # the township's own stream
            prof = _profile(vary, scale)
            carried: dict[str, int] = {}
            in_force = rng.randint(0, 12)
            old = agency[:-1] + ("乡" if agency.endswith("镇") else "镇")
            for y in years:
                values = (
                    _t3_values(rng, carried, scale) | _t4_values(rng) | _t2_values(rng, in_force, scale, prof, vary)
                )
                carried = {c: int(values[f"3:4:{c}"]) for c in T3_PARTS}
                in_force = int(values["2:normative:in_force"])
                name = old if ti in cfg.renamed and y != years[-1] else agency
                d = ReportData(county, name, short, "township", y, values, period=(y, y), current=agency)
                d.prose = _prose(d, rng)
                if cfg.mixed_encodings:
                    d.encoding = rng.choice(encodings)
                    d.crlf = rng.random() < 0.3
                reports.append(d)
    # plant defects after all figures exist (a carry-over defect needs no change to last year)
    defect_years = set(cfg.defect_years) if cfg.defect_years else set(years)
    by_key = {(d.county, d.current, d.year): d for d in reports}

    def last_year(d: ReportData) -> ReportData | None:
        return by_key.get((d.county, d.current, d.year - 1))

    if cfg.plan is not None:
        per_county = cfg.townships * len(years)
        for ti, y, kind in cfg.plan:
            for ci in range(cfg.counties):
                d = reports[ci * per_county + ti * len(years) + years.index(y)]
                p = plant(d, kind, rng, last_year(d))
                if p is not None:
                    planted.append(p)
        return reports, planted
    for d in reports:
        if d.year not in defect_years or rng.random() >= cfg.defect_rate:
            continue
        last = last_year(d)
        kinds = [k for k in cfg.defects if k not in NEEDS_LAST_YEAR or last is not None]
        kind = rng.choice(kinds)
        p = plant(d, kind, rng, last)
        if p is not None:
            planted.append(p)
    return reports, planted


# ------------------------------------------------------------------ defects


def _digit_typo(v: int, rng: random.Random) -> int:
    s = str(v)
    i = rng.randrange(len(s))
    choices = [c for c in "0123456789" if c != s[i] and not (i == 0 and c == "0" and len(s) > 1)]
    return int(s[:i] + rng.choice(choices) + s[i + 1 :])


def plant(d: ReportData, kind: str, rng: random.Random, last: ReportData | None = None) -> Planted | None:
    """Plant one defect of ``kind`` into ``d`` (in place); ``last`` is the agency's report of last year."""
    v = d.values
    t3_rows = [r.id for r in tables(Fmt.F2021)["3"].rows]

    def mk(cells: tuple[str, ...], original: Any, new: Any) -> Planted:
        return Planted(d.file_name, d.agency, d.county, d.year, kind, DEFECT_RULES[kind], cells, original, new)

    if kind in ("digit_typo", "transposed"):
        cands = [f"3:{r}:{c}" for r in t3_rows for c in T3_PARTS if r not in ("3.7",)]
        if kind == "transposed":
            cands = [k for k in cands if v[k] >= 10 and len(set(str(int(v[k])))) > 1]
            if not cands:
                return None
            cell = rng.choice(cands)
            s = str(int(v[cell]))
            new = int(s[1] + s[0] + s[2:])
        else:
            cell = rng.choice(cands)
            new = _digit_typo(int(v[cell]), rng)
        old = v[cell]
        v[cell] = float(new)
        return mk((cell,), int(old), new)
    if kind == "b_only":
        # an outcome cell and its row total move together: row sums (A) and 一+二=三(七)+四 (C) hold
        col = rng.choice(T3_PARTS)
        row = rng.choice([r for r in t3_rows if r.startswith("3.") and r != "3.7"])
        delta = rng.choice((1, 2, 3))
        cell = f"3:{row}:{col}"
        old = v[cell]
        v[cell] += delta
        v[f"3:{row}:total"] += delta
        return mk((cell, f"3:{row}:total"), int(old), int(old + delta))
    if kind == "total_blank":
        cells = tuple(f"3:{r}:total" for r in t3_rows if r not in ("1", "2", "3.7", "4"))
        d.blanks.update(cells)
        return mk(cells, None, "")
    if kind == "t4_total":
        row = rng.choice(("review", "suit_direct", "suit_after_review"))
        cell = f"4:{row}:total"
        old = v[cell]
        v[cell] += rng.choice((1, 2))
        return mk((cell,), int(old), int(v[cell]))
    if kind == "period_year":
        d.period = (d.year - 1, d.year - 1)
        return mk((), d.year, d.year - 1)
    if kind == "non_numeric":
        cell = rng.choice([f"3:{r}:{c}" for r in t3_rows for c in T3_PARTS if v[f"3:{r}:{c}"] == 0])
        d.raw[cell] = rng.choice(("若干", "不详", "待统计"))
        return mk((cell,), 0, d.raw[cell])
    if kind == "negative":
        cell = rng.choice(("2:penalty:decisions", "2:licensing:decisions", "2:coercion:decisions"))
        old = v[cell]
        v[cell] = -max(1.0, old)
        return mk((cell,), int(old), int(v[cell]))
    if kind == "missing_row":
        row = rng.choice([r for r in t3_rows if r.startswith("3.3.") and v[f"3:{r}:total"] == 0])
        d.drop_rows.add(f"3:{row}")
        return mk((f"3:{row}:*",), None, None)
    if kind == "carry_over":
        # this year's 上年结转 no longer equals last year's 结转下年度; the report itself stays consistent
        col = "natural"
        delta = rng.choice((1, 2))
        for r in ("2", "3.7", "3.1"):
            v[f"3:{r}:{col}"] += delta
            v[f"3:{r}:total"] += delta
        d.prose |= _table_prose(d)
        return mk((f"3:2:{col}",), int(v[f"3:2:{col}"] - delta), int(v[f"3:2:{col}"]))
    if kind == "prose_received":
        received = int(v["3:1:total"])
        stated = received + rng.choice((2, 3, 5))
        y = d.year
        d.prose["apply_para"] = (
            f"{y} 年共收到政府信息公开申请 {stated} 件，上年结转 {int(v['3:2:total'])} 件；"
            f"办结 {int(v['3:3.7:total'])} 件。"
        )
        return mk(("3:1:total",), received, stated)
    if kind == "copy_last_year":
        # last year's report re-published with only the year changed (内容雷同)
        if last is None:
            return None
        d.values = dict(last.values)
        d.blanks, d.raw, d.drop_rows = set(last.blanks), dict(last.raw), set(last.drop_rows)
        d.prose = {k: s.replace(str(last.year), str(d.year)) for k, s in last.prose.items()}
        return mk((), last.file_name, d.file_name)
    if kind == "stock_break":
        # the stock of 行政规范性文件 does not carry over from last year (a clean-up not reported)
        if last is None:
            return None
        cell = "2:normative:in_force"
        old = v[cell]
        v[cell] = old + rng.choice((2, 3, 5))
        return mk((cell,), int(old), int(v[cell]))
    raise ValueError(f"unknown defect kind {kind}")


# ------------------------------------------------------------------ rendering


@cache
def _template() -> str:
    return resources.files("nianbao.testing").joinpath("synth_template.txt").read_text(encoding="utf-8")


_PH = re.compile(r"«([^«»]+)»")


def render_text(d: ReportData) -> str:
    """The report as text in the seed's layout (tab-separated tables)."""
    lines = _template().split("\n")
    if d.drop_rows:
        lines = [ln for ln in lines if not any(f"«{r}:" in ln for r in d.drop_rows)]
    start, end = d.period or (d.year, d.year)
    scalars = {
        "agency": d.agency,
        "short": d.short,
        "county": d.county,
        "year": str(d.year),
        "period_start": str(start),
        "period_end": str(end),
        **d.prose,
    }

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in scalars:
            return scalars[key]
        if key in d.raw:
            return d.raw[key]
        if key in d.blanks:
            return ""
        return format_number(d.values[key])

    text = _PH.sub(sub, "\n".join(lines))
    return text.replace("\n", "\r\n") if d.crlf else text


def encode(d: ReportData, text: str) -> bytes:
    return text.encode(d.encoding)


def iter_files(cfg: SynthConfig) -> Iterator[tuple[str, bytes, ReportData]]:
    reports, _ = generate(cfg)
    for d in reports:
        yield f"{d.year}/{d.county}/{d.file_name}", encode(d, render_text(d)), d


def registry_csv(reports: list[ReportData]) -> str:
    """The agencies each county must submit, under their current names."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["county", "agency", "level"])
    seen: set[tuple[str, str]] = set()
    for d in reports:
        name = d.current or d.agency
        if (d.county, name) not in seen:
            seen.add((d.county, name))
            w.writerow([d.county, name, d.level])
    return buf.getvalue()


def renames_csv(reports: list[ReportData]) -> str:
    """``old,new`` for every agency whose earlier reports carry a former name (see SynthConfig.renamed)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["old", "new"])
    seen: set[tuple[str, str]] = set()
    for d in reports:
        if d.current and d.current != d.agency and (d.agency, d.current) not in seen:
            seen.add((d.agency, d.current))
            w.writerow([d.agency, d.current])
    return buf.getvalue()


def write_county_tree(out: Path, cfg: SynthConfig, beside: Path | None = None) -> int:
    """Write the inbox ``out/<year>/<county>/<agency>_<year>.txt`` and, *beside* it (``beside``,
    default ``out``'s parent folder — as ``data/registry.csv`` is beside ``data/submissions``),
    ``registry.csv``, ``ground_truth.json`` and (with renamed agencies) ``renames.csv``.  Nothing but
    submissions goes into the inbox: a run must never read the answer key as a report."""
    beside = out.parent if beside is None else beside
    if beside.resolve() == out.resolve() or beside.resolve().is_relative_to(out.resolve()):
        raise ValueError(f"真值文件应放在收件目录之外：{beside}")
    reports, planted = generate(cfg)
    for d in reports:
        p = out / str(d.year) / d.county / d.file_name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(encode(d, render_text(d)))
    beside.mkdir(parents=True, exist_ok=True)
    (beside / "registry.csv").write_text(registry_csv(reports), encoding="utf-8")
    if cfg.renamed:
        (beside / "renames.csv").write_text(renames_csv(reports), encoding="utf-8")
    gt = [p.to_json() | {"path": f"{p.year}/{p.county}/{p.file}"} for p in planted]
    (beside / "ground_truth.json").write_text(json.dumps(gt, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return len(reports)


def clean_copy(d: ReportData) -> ReportData:
    return replace(d, values=dict(d.values), blanks=set(d.blanks), raw=dict(d.raw), drop_rows=set(d.drop_rows))
