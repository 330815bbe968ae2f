"""Text vs tables (rules H, J): the numbers the prose states, checked against the tables and themselves.

Precision over recall: a claim is read only from a clause that matches one of the patterns below,
and a clause that also mentions a change from last year, a single applicant type, a share, a
review/lawsuit (for application counts) or a cumulative period is skipped — a sentence the
extractor does not understand produces nothing.

All reports are handled together: the prose lines of every report become one polars frame,
sentences and clauses are split and normalised there, and each claim pattern is one vectorised
regular expression over all clauses (Rust regex syntax: no look-around).  Only the few sentences
with a 主动公开 total and its parts (H19) or a percentage (H20) are parsed in Python.

Normalised text: NFKC-like (full-width digits and punctuation to ASCII), no whitespace, thousands
separators removed, "公民、法人和其他组织" collapsed (its 、 would otherwise end a list item).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import polars as pl

from nianbao.catalogue import format_number
from nianbao.domain.model import ParsedReport
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt
from nianbao.outcome import Finding, finding_for
from nianbao.rules.base import failing_rows
from nianbao.rules.frames import FmtArrays
from schemas.prose import fee_schema, prose_schema, prose_sums_schema

# ------------------------------------------------------------------ normalisation

_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {
    "（": "(",
    "）": ")",
    "，": ",",
    "；": ";",
    "：": ":",
    "％": "%",
    "．": ".",
    "！": "!",
    "？": "?",
}
_CN_DIGITS = "零一二两三四五六七八九"
_CN_VALUE = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_numerals() -> dict[str, int]:
    """Chinese numerals 零 … 九十九 (prose writes small counts in words: 两件, 十二件)."""
    out = dict(_CN_VALUE)
    out["十"] = 10
    for d in range(1, 10):
        t = "一二三四五六七八九"[d - 1]
        out[f"十{t}"] = 10 + d
        if d > 1:
            out[f"{t}十"] = d * 10
            for e in range(1, 10):
                out[f"{t}十{'一二三四五六七八九'[e - 1]}"] = d * 10 + e
    return out


CN_NUMERALS = _cn_numerals()

# a number as prose writes it: digits, or a Chinese numeral
NUM = r"(\d+|[零一二两三四五六七八九十]{1,3})"
# a gap inside one clause: no digit, no percent sign, no list separator
GAP = r"[^\d%、]"
UNIT = r"(?:件|个|宗|份)"
CASE_UNIT = r"(?:件|起|宗|个)"


def normalise(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.replace_all(r"\s+", "")
        .str.replace_many(list(_FULLWIDTH), list(_FULLWIDTH.values()))
        .str.replace_all(r"(\d),(\d{3})", "${1}${2}")
        .str.replace_all(r"公民、法人(?:和|或者|或|及|以及|与)其他组织", "公民法人其他组织")
    )


_TRANSLATE = {ord(k): v for k, v in _FULLWIDTH.items()}


def normalise_text(s: str) -> str:
    """The same normalisation for one string (tests, Python-side parsing)."""
    s = re.sub(r"\s+", "", s)
    s = s.translate(_TRANSLATE)
    s = re.sub(r"(\d),(\d{3})", r"\1\2", s)
    return re.sub(r"公民、法人(?:和|或者|或|及|以及|与)其他组织", "公民法人其他组织", s)


# ------------------------------------------------------------------ the claims, as data

# clauses mentioning these are not about the year's own count of applications
_NOT_A_COUNT = (
    r"较上年|比上年|同比|上年同期|环比|增长|减少|下降|增加|上升|多于|少于|以来|历年|近[三五十\d]年"
    r"|自然人|商业企业|科研机构|社会公益组织|法律服务机构|平均|%|率"
)
_APPLICATION_BLOCK = _NOT_A_COUNT + r"|复议|诉讼|其中|含上年|包括上年|含结转"
_CATEGORY_BLOCK = _NOT_A_COUNT + r"|复议|诉讼"
_CASE_BLOCK = _NOT_A_COUNT + r"|纠正|维持|撤销|确认违法|败诉|胜诉|审结|其中|驳回|终止"
_NEGATIVE_BLOCK = r"纠正|纠错|败诉|撤销|确认违法|维持|责任追究|投诉|举报|逾期|超期|收费|费用|无需|无须|\d+(?:件|起)"


@dataclass(frozen=True)
class ClaimKind:
    """One kind of statement the prose makes, the table cells it is checked against, and its rule.

    ``cells`` is a regex over canonical cell ids (summed); ``check`` is ``equal`` (the stated number
    equals the cells' sum) or ``zero`` (a statement without a number that the cells' sum is 0).
    """

    kind: str
    rule: str
    label: str  # 中文, for messages about the prose's own arithmetic
    cells: str
    patterns: tuple[str, ...]
    block: str
    check: str = "equal"
    # only read in a sentence mentioning 信息公开 or in section 四 (review/lawsuit counts)
    needs_context: bool = False
    # a sentence matching this is skipped as a whole (e.g. "上年结转的申请均已办结" is not about 结转下年度)
    sentence_block: str | None = None


CLAIMS: tuple[ClaimKind, ...] = (
    ClaimKind(
        "received",
        "H01",
        "本年收到",
        r"^3:1:total$",
        (
            rf"(?:新收|收到|受理|接收|接到|收悉|登记){GAP}{{0,24}}?申请(?:公开)?(?:事项|件数|件|数量|数)?"
            rf"(?:共计|合计|总计|共|为|达|计)?{NUM}{UNIT}",
        ),
        _APPLICATION_BLOCK,
    ),
    ClaimKind(
        "carried",
        "H02",
        "上年结转",
        r"^3:2:total$",
        (rf"(?:上一?年度?结转|结转上一?年度?){GAP}{{0,16}}?{NUM}{UNIT}",),
        _APPLICATION_BLOCK.replace("|含上年|包括上年|含结转", "") + r"|下一?年",
    ),
    ClaimKind(
        "handled",
        "H03",
        "办结",
        r"^3:3\.7:total$",
        (rf"(?:办结|已答复|答复完毕|作出答复|予以答复|完成答复|办理完毕|处理完毕){GAP}{{0,16}}?{NUM}{UNIT}",),
        _APPLICATION_BLOCK.replace("|其中", "") + r"|结转",
    ),
    ClaimKind(
        "open",
        "H04",
        "予以公开",
        r"^3:3\.1:total$",
        (rf"(?:予以公开|同意公开){GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "partial",
        "H05",
        "部分公开",
        r"^3:3\.2:total$",
        (rf"部分公开{GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "refused",
        "H06",
        "不予公开",
        r"^3:3\.3\.\d:total$",
        (rf"不予公开{GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "unable",
        "H07",
        "无法提供",
        r"^3:3\.4\.\d:total$",
        (rf"无法提供{GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "not_processed",
        "H08",
        "不予处理",
        r"^3:3\.5\.\d:total$",
        (rf"不予处理{GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "other_processing",
        "H09",
        "其他处理",
        r"^3:3\.6(?:\.\d)?:total$",
        (rf"其他处理{GAP}{{0,6}}?{NUM}{UNIT}",),
        _CATEGORY_BLOCK,
    ),
    ClaimKind(
        "forwarded",
        "H10",
        "结转下年度",
        r"^3:4:total$",
        (
            rf"(?:结转(?:至|到)?下一?年度?|转入下一?年度?|结转(?:至|到)?20\d\d年度?)(?:继续)?(?:办理)?{GAP}{{0,6}}?{NUM}{UNIT}",
        ),
        _NOT_A_COUNT + r"|复议|诉讼",
    ),
    ClaimKind(
        "none_received",
        "H11",
        "未收到申请",
        r"^3:1:total$",
        (
            r"(?:未|没有|无)(?:收到|受理|接到|发生|出现|产生)[^\d%]{0,20}?(?:信息公开申请|依申请公开|公开申请)",
            r"(?:未|没有)(?:收到|受理|接到)[^\d%]{0,12}?申请",
            r"(?:无|没有)(?:政府信息公开申请|依申请公开(?:事项|件|申请)?)",
        ),
        _NEGATIVE_BLOCK + r"|复议|诉讼|未予|未按|无法|无正当",
        check="zero",
    ),
    ClaimKind(
        "all_handled",
        "H12",
        "全部办结",
        r"^3:4:total$",
        (r"(?:均已|全部|均|皆已|已全部)(?:按时|按期|依法|及时)?(?:办结|答复完毕|办理完毕|办理完成)",),
        _NOT_A_COUNT + r"|结转|复议|诉讼|未",
        check="zero",
        sentence_block=r"结转|除",
    ),
    ClaimKind(
        "review",
        "H15",
        "行政复议",
        r"^4:review:total$",
        (
            rf"行政复议(?:案件|申请)?{GAP}{{0,6}}?{NUM}{CASE_UNIT}",
            rf"行政复议(?:和|、|及|与)行政诉讼(?:案件)?(?:各|均为|均){NUM}{CASE_UNIT}",
        ),
        _CASE_BLOCK,
        needs_context=True,
    ),
    ClaimKind(
        "suits",
        "H16",
        "行政诉讼",
        r"^4:suit_(?:direct|after_review):total$",
        (
            rf"行政诉讼(?:案件)?{GAP}{{0,6}}?{NUM}{CASE_UNIT}",
            rf"行政复议(?:和|、|及|与)行政诉讼(?:案件)?(?:各|均为|均){NUM}{CASE_UNIT}",
        ),
        _CASE_BLOCK,
        needs_context=True,
    ),
)
CLAIM = {c.kind: c for c in CLAIMS}
CATEGORIES = ("open", "partial", "refused", "unable", "not_processed", "other_processing")

# statements about table 四 without a number; the groups they cover are read from the clause
_UPHELD = r"(?:均|全部|皆)(?:获得?|被|予以|得到|为)?(?:依法)?维持|结果均为维持"
_NO_CASES = (
    r"(?:未|没有|无)(?:发生|出现|收到|产生|涉及|被提起|被申请|提起)[^\d%]{0,20}?(?:行政复议|行政诉讼)"
    r"|(?:无|没有)(?:政府信息公开)?(?:行政复议|行政诉讼)"
)
_FEE = r"信息处理费|处理费|收取[^。]{0,12}?费用|收费"
_TRIGGER = r"\d\s*(?:件|条|起|宗|期|篇|个)|[零一二两三四五六七八九十](?:件|起)|未|没有|无|均|全部|皆|%|％"

# a line is looked at only when it has one of these (a cheap literal scan before the patterns)
_TRIGGER_WORDS = ("件", "条", "起", "宗", "期", "篇", "个", "未", "没有", "无", "均", "全部", "皆", "%", "％")
_CLAUSE_TRIGGER = r"\d|[零一二两三四五六七八九十](?:件|起|个)|未|没有|无|均|全部|皆"


def _number(expr: pl.Expr) -> pl.Expr:
    """A captured number (digits or a Chinese numeral) as Int64; null when not a number."""
    return (
        pl.when(expr.str.contains(r"^\d+$"))
        .then(expr.str.slice(0, 12).cast(pl.Int64, strict=False))
        .otherwise(expr.replace_strict(CN_NUMERALS, default=None, return_dtype=pl.Int64))
    )


# ------------------------------------------------------------------ frames


def prose_lines(reports: Sequence[ParsedReport], span: range | None = None) -> pl.DataFrame:
    """One row per prose line of every readable report (the 引言 before section 一 is left out);
    with ``span``, of the reports at those positions only (``report`` stays the batch position).

    Built from the packed sections (one string per report): the lines are cut by polars, so no
    Python string is made per line."""
    rep_ids: list[int] = []
    docs: list[str] = []
    sec_names: list[str] = []
    sec_counts: list[int] = []
    lines: list[bytes] = []
    lens: list[bytes] = []
    n_secs: list[int] = []
    for i in span if span is not None else range(len(reports)):
        rep = reports[i]
        if not rep.readable:
            continue
        names, counts, nos, ls, text = rep.sections.packed()
        if not names:
            continue
        rep_ids.append(i)
        docs.append(text)
        sec_names.extend(names)
        sec_counts.extend(counts)
        n_secs.append(len(names))
        lines.append(nos.tobytes())
        lens.append(ls.tobytes())
    line_no = np.frombuffer(b"".join(lines), dtype=np.uint32)
    length = np.frombuffer(b"".join(lens), dtype=np.uint32).astype(np.int64)
    per_doc = np.add.reduceat(np.asarray(sec_counts, dtype=np.int64), _starts(n_secs)) if n_secs else np.zeros(0)
    doc_of_line = np.repeat(np.arange(len(docs), dtype=np.uint32), per_doc.astype(np.int64))
    # offset of each line in its report's text: a running sum that restarts at each report
    ends = np.cumsum(length)
    first_line = np.concatenate(([0], np.cumsum(per_doc)[:-1])).astype(np.int64) if len(per_doc) else per_doc
    doc_start = ends[first_line] - length[first_line] if len(first_line) else first_line
    offset = ends - length - np.repeat(doc_start, per_doc.astype(np.int64))
    sec_of_line = pl.Series(sec_names, dtype=pl.String).gather(
        np.repeat(np.arange(len(sec_names), dtype=np.uint32), np.asarray(sec_counts, dtype=np.int64))
    )
    frame = pl.DataFrame(
        {
            "report": pl.Series(np.asarray(rep_ids, dtype=np.uint32)[doc_of_line], dtype=pl.UInt32),
            "section": sec_of_line,
            "line": pl.Series(line_no, dtype=pl.UInt32),
            "_doc": pl.Series(doc_of_line, dtype=pl.UInt32),
            "_off": pl.Series(offset, dtype=pl.Int64),
            "_len": pl.Series(length, dtype=pl.Int64),
        }
    )
    frame = frame.filter(pl.col("section") != "引言")
    doc_series = pl.Series("_text", docs, dtype=pl.String)
    return frame.select(
        "report",
        "section",
        "line",
        doc_series.gather(frame.get_column("_doc"))
        .str.slice(frame.get_column("_off"), frame.get_column("_len"))
        .alias("text"),
    )


def _starts(sizes: Sequence[int]) -> np.ndarray:
    """Start index of each group of the given sizes (for ``np.add.reduceat``)."""
    return np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)


def split_sentences(text: str) -> list[str]:
    """The sentences of a line as :func:`sentences` cuts them: after every 。 (the mark kept)."""
    return re.split(r"(?<=。)", text)


def sentences(lines: pl.DataFrame) -> pl.DataFrame:
    """Sentences (cut after each 。) of the lines that may state a figure; ``sent`` is the sentence's
    position in its line, ``norm`` its normalised text (computed once per distinct sentence)."""
    cand = lines.filter(pl.col("text").str.contains_any(list(_TRIGGER_WORDS)))
    s = (
        cand.with_columns(pl.col("text").str.split("。", inclusive=True).alias("sentence"))
        .with_columns(pl.int_ranges(0, pl.col("sentence").list.len()).alias("sent"))
        .explode("sentence", "sent")
        .filter(pl.col("sentence").str.contains(_TRIGGER))
        .drop("text")
    )
    distinct = s.select("sentence").unique().with_columns(normalise(pl.col("sentence").str.strip_chars()).alias("norm"))
    return s.join(distinct, on="sentence", how="left")


def clauses(sents: pl.DataFrame) -> pl.DataFrame:
    """Clauses (split at , ; 。 ! ?) with the facts of their sentence the claim patterns need."""
    flags = sents.with_columns(
        (pl.col("norm").str.contains("信息公开|依申请") | (pl.col("section") == "四")).alias("ctx"),
        pl.col("norm").str.contains("结转|除").alias("s_carry"),
        pl.col("norm").str.contains("复议").alias("s_review"),
        pl.col("norm").str.contains("诉讼").alias("s_suit"),
    )
    return (
        flags.with_columns(pl.col("norm").str.extract_all(r"[^,;。!?]+").alias("clause"))
        .with_columns(pl.int_ranges(0, pl.col("clause").list.len()).alias("pos"))
        .explode("clause", "pos")
        .filter(pl.col("clause").is_not_null())
    )


_FLAGS = ("ctx", "s_carry", "s_review", "s_suit")


def _claim_exprs() -> tuple[list[pl.Expr], list[str]]:
    context = pl.col("ctx")
    blocks: dict[str, pl.Expr] = {}
    exprs: list[pl.Expr] = []
    for c in CLAIMS:
        if c.check == "equal":
            caps = [pl.col("clause").str.extract(p, 1) for p in c.patterns]
            val = _number(pl.coalesce(caps) if len(caps) > 1 else caps[0])
        else:
            hit = pl.any_horizontal([pl.col("clause").str.contains(p) for p in c.patterns])
            val = pl.when(hit).then(pl.lit(0, dtype=pl.Int64))
        blocked = blocks.setdefault(c.block, pl.col("clause").str.contains(c.block))
        ok = ~blocked
        if c.needs_context:
            ok = ok & context
        if c.sentence_block:
            ok = ok & ~pl.col("s_carry")
        exprs.append(pl.when(ok).then(val).otherwise(None).cast(pl.Int64).alias(c.kind))
    # statements about table 四 without numbers, one claim per group they name
    in_clause = {"review": pl.col("clause").str.contains("复议"), "suits": pl.col("clause").str.contains("诉讼")}
    either = in_clause["review"] | in_clause["suits"]
    upheld = pl.col("clause").str.contains(_UPHELD) & (pl.col("s_review") | pl.col("s_suit"))
    none = pl.col("clause").str.contains(_NO_CASES) & ~pl.col("clause").str.contains(_NEGATIVE_BLOCK) & context
    zero = pl.lit(0, dtype=pl.Int64)
    for group, sentence_flag in (("review", "s_review"), ("suits", "s_suit")):
        # "均获维持" names its groups in its own clause, else in its sentence
        scope = pl.when(either).then(in_clause[group]).otherwise(pl.col(sentence_flag))
        exprs.append(pl.when(upheld & scope).then(zero).otherwise(None).alias(f"upheld_{group}"))
        exprs.append(pl.when(none & in_clause[group]).then(zero).otherwise(None).alias(f"no_{group}"))
    kinds = [c.kind for c in CLAIMS] + [f"{p}_{g}" for g in ("review", "suits") for p in ("upheld", "no")]
    return exprs, kinds


def extract_claims(cl: pl.DataFrame) -> pl.DataFrame:
    """(report, section, line, sent, pos, kind, value) — every claim the clauses state.

    The patterns run once per distinct clause (with its sentence's facts): report texts share much
    wording.  Every kind's expression is evaluated in one ``select`` (polars runs them in parallel),
    then the claims are unpivoted to one row each."""
    exprs, kinds = _claim_exprs()
    keys = ["report", "section", "line", "sent", "pos"]
    # a clause states something only with a number, a negation or an "all"
    cand = cl.filter(pl.col("clause").str.contains(_CLAUSE_TRIGGER))
    distinct = cand.select("clause", *_FLAGS).unique()
    found = (
        distinct.with_columns(*exprs)
        .unpivot(index=["clause", *_FLAGS], on=kinds, variable_name="kind", value_name="value")
        .filter(pl.col("value").is_not_null())
    )
    return (
        cand.select(*keys, "clause", *_FLAGS)
        .join(found, on=["clause", *_FLAGS], how="inner")
        .select(*keys, "kind", "value")
        .sort("report", "line", "sent", "pos", "kind")
    )


# table targets of the number-less table-四 claims
_T4_TARGETS = {
    "upheld_review": r"^4:review:(?:corrected|other|pending)$",
    "upheld_suits": r"^4:suit_(?:direct|after_review):(?:corrected|other|pending)$",
    "no_review": r"^4:review:total$",
    "no_suits": r"^4:suit_(?:direct|after_review):total$",
}
T4_RULE = {"upheld_review": "H17", "upheld_suits": "H17", "no_review": "H18", "no_suits": "H18"}
# the rule codes of the claims: one check each in the claims schema
CLAIM_RULES: tuple[str, ...] = tuple(sorted({c.rule for c in CLAIMS} | set(T4_RULE.values())))


def _targets() -> dict[str, str]:
    return {c.kind: c.cells for c in CLAIMS} | _T4_TARGETS


def table_targets(arrays: Mapping[Fmt, FmtArrays]) -> pl.DataFrame:
    """Per (report, kind): the sum of the kind's table cells (blank = 0), whether its table is there
    (no cell missing), the sum of the same cells' 自然人 column (for the hint), the cells, the line
    of the first — computed on the batch's cell arrays, one numpy reduction per kind."""
    from nianbao.domain.model import STATES

    missing = STATES.index(State.MISSING)
    parts: list[pl.DataFrame] = []
    for a in arrays.values():
        if a.values.shape[0] == 0:
            continue
        ids = list(a.ids)
        for kind, pat in _targets().items():
            rx = re.compile(pat)
            cols = [j for j, c in enumerate(ids) if rx.search(c)]
            if not cols:
                continue
            nat_rx = re.compile(pat.replace(":total$", ":natural$")) if pat.endswith(":total$") else None
            nat = [j for j, c in enumerate(ids) if nat_rx is not None and nat_rx.search(c)]
            v = a.values[:, cols]
            lines = a.lines[:, cols].astype(np.float64)
            lines[lines == 0] = np.inf  # 0: no location
            first_line = lines.min(axis=1)
            first_line[np.isinf(first_line)] = np.nan
            parts.append(
                pl.DataFrame(
                    {
                        "report": pl.Series(a.report, dtype=pl.UInt32),
                        "kind": pl.Series([kind] * len(a.report), dtype=pl.String),
                        "table": np.nansum(v, axis=1),
                        "present": (a.states[:, cols] != missing).all(axis=1),
                        "natural": np.nansum(a.values[:, nat], axis=1) if nat else np.full(len(a.report), np.nan),
                        "table_line": pl.Series(first_line, nan_to_null=True).cast(pl.UInt32),
                    }
                ).with_columns(
                    pl.col("natural").fill_nan(None),
                    pl.lit([ids[j] for j in cols], dtype=pl.List(pl.String)).alias("cells"),
                )
            )
    if not parts:
        return pl.DataFrame(
            schema={
                "report": pl.UInt32,
                "kind": pl.String,
                "table": pl.Float64,
                "present": pl.Boolean,
                "natural": pl.Float64,
                "table_line": pl.UInt32,
                "cells": pl.List(pl.String),
            }
        )
    return pl.concat(parts)


# ------------------------------------------------------------------ checks


def claim_checks(claims: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """The claims joined with their table values: the frame the ``prose`` schema validates."""
    rules = {c.kind: c.rule for c in CLAIMS} | T4_RULE
    checks = {c.kind: c.check for c in CLAIMS} | {k: "zero" for k in _T4_TARGETS}
    return (
        claims.join(targets, on=["report", "kind"], how="inner")
        .filter(pl.col("present"))
        .with_columns(
            pl.col("kind").replace_strict(rules).alias("rule"),
            pl.col("kind").replace_strict(checks).alias("check_kind"),
            pl.col("value").cast(pl.Float64).alias("stated"),
        )
        .select(
            "report",
            "section",
            "line",
            "sent",
            "pos",
            "kind",
            "rule",
            "check_kind",
            "stated",
            "table",
            "natural",
            "cells",
            "table_line",
        )
    )


def paragraph_sums(claims: pl.DataFrame) -> pl.DataFrame:
    """The prose's own arithmetic per paragraph (line): H13 (categories vs handled), H14 (balance).

    A kind stated more than once in one paragraph makes it ambiguous: that paragraph is left out.
    """
    kinds = ["received", "carried", "handled", "forwarded", *CATEGORIES]
    sub = claims.filter(pl.col("kind").is_in(kinds))
    if sub.height == 0:
        return pl.DataFrame(
            schema={"report": pl.UInt32, "line": pl.UInt32, "section": pl.String, "sent": pl.Int64}
            | {k: pl.Int64 for k in kinds}
            | {"n_categories": pl.UInt32, "parts": pl.Int64}
        )
    counts = sub.group_by("report", "line", "kind").agg(pl.len().alias("n"), pl.col("value").first())
    ambiguous = counts.filter(pl.col("n") > 1).select("report", "line").unique()
    first = sub.group_by("report", "line").agg(pl.col("section").first(), pl.col("sent").min())
    wide = (
        counts.join(ambiguous, on=["report", "line"], how="anti")
        .pivot(on="kind", index=["report", "line"], values="value", on_columns=kinds)
        .join(first, on=["report", "line"], how="left")
    )
    return wide.with_columns(
        pl.sum_horizontal(pl.col(c).is_not_null() for c in CATEGORIES).alias("n_categories"),
        pl.sum_horizontal(pl.col(c) for c in CATEGORIES).alias("parts"),
    ).select("report", "line", "section", "sent", *kinds, "n_categories", "parts")


# ------------------------------------------------------------------ H19, H20 (parsed in Python)

_PUB_TOTAL = re.compile(
    r"(?:主动公开|发布|公开)[^。;!?]*?(?:共计|共|合计|累计|总计)(?:发布|公开)?[^\d。;,]{0,8}?(\d+)(条|篇|则)"
)
_PUB_PART = re.compile(r"(\d+)(条|期|篇|则)")
_PAREN = re.compile(r"\([^()]*\)|（[^（）]*）")
_PERCENT = re.compile(
    r"(\d+)件[^,;。%\d]{0,3}?,?(?:占比为|占比|占总数的|占(?P<base>[^,;。%\d]{0,10}?)的?|比例为)(\d+(?:\.\d+)?)%"
)
_BASE_HANDLED = re.compile(r"(?:办结|已答复|答复完毕|作出答复|办理完毕)[^\d%、,;。]{0,16}?(\d+)件")
_BASE_RECEIVED = re.compile(r"(?:新收|收到|受理|接收|接到)[^\d%、,;。]{0,24}?申请[^\d%、,;。]{0,6}?(\d+)件")


@dataclass(frozen=True)
class PubSum:
    total: int
    parts: tuple[tuple[int, str], ...]  # (number, unit)
    quote: str


def parse_publication_sum(norm_line: str) -> PubSum | None:
    """``…共 N 条。其中 a 条，b 条…`` → the total and its parts; None when not that shape.

    Parts are read after the 其中 that follows the total, up to the end of that sentence, with
    parenthesised remarks (such as page views) left out; a nested 其中 makes it ambiguous."""
    m = _PUB_TOTAL.search(norm_line)
    if not m:
        return None
    rest = norm_line[m.end() :]
    k = rest.find("其中")
    if k < 0 or k > 4:
        return None
    tail = rest[k + 2 :]
    end = tail.find("。")
    body = tail if end < 0 else tail[:end]
    body = _PAREN.sub("", body)
    if "其中" in body or "另" in body or "此外" in body:
        return None
    parts = tuple((int(n), u) for n, u in _PUB_PART.findall(body))
    if len(parts) < 2:
        return None
    start = norm_line.rfind("。", 0, m.start()) + 1
    stop = len(norm_line) if end < 0 else m.end() + k + 2 + end + 1
    return PubSum(int(m.group(1)), parts, norm_line[start:stop])


@dataclass(frozen=True)
class Percent:
    part: int
    stated: Decimal
    base_kind: str | None  # "handled" | "received" | None (not named)
    quote: str


def parse_percentages(norm_sentence: str) -> list[Percent]:
    out = []
    for m in _PERCENT.finditer(norm_sentence):
        base = m.group("base") or ""
        kind = None
        if re.search("办结|答复|办理", base):
            kind = "handled"
        elif re.search("收到|申请|受理", base):
            kind = "received"
        elif base:
            continue  # a base the extractor does not know (e.g. 占全市的)
        out.append(Percent(int(m.group(1)), Decimal(m.group(3)), kind, norm_sentence))
    return out


def percent_ok(part: int, base: int, stated: Decimal) -> tuple[bool, Decimal]:
    """Whether ``stated`` is part/base × 100 rounded half-up to the stated decimals; and that value."""
    exponent = stated.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 0
    q = Decimal(1).scaleb(-max(0, places))
    exact = Decimal(part) * 100 / Decimal(base)
    expected = exact.quantize(q, rounding=ROUND_HALF_UP)
    return expected == stated, expected


# ------------------------------------------------------------------ findings


def _quote_of(rep: ParsedReport, line: int, sent: int | None) -> str:
    text = next((t for no, t in _all_lines(rep) if no == line), "")
    if sent is None:
        return text.strip()
    ss = split_sentences(text)
    return ss[sent].strip() if 0 <= sent < len(ss) else text.strip()


def _all_lines(rep: ParsedReport) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for sec, items in rep.sections.items():
        if sec != "引言":
            out.extend(items)
    return out


def _finding(
    rep: ParsedReport,
    ri: int,
    code: str,
    cells: list[str],
    expected: object,
    actual: object,
    params: dict[str, object],
    line: int | None,
    quote: str | None,
) -> Finding:
    shown = {k: (format_number(v) if isinstance(v, float) else v) for k, v in params.items()}
    return finding_for(
        code,
        rep,
        ri,
        cells=cells,
        expected=expected,
        actual=actual,
        params=shown,
        line=line,
        quote=quote,
    )


def _int(v: float | None) -> int | float | None:
    if v is None:
        return None
    return int(v) if v == int(v) else v


_GROUPS_ZH = {"review": "行政复议", "suits": "行政诉讼"}


def _sort_cells(cells: list[str]) -> list[str]:
    from nianbao.domain.spec import all_cells

    order = {c: k for k, c in enumerate(all_cells(Fmt.F2021) + all_cells(Fmt.F2019))}
    return sorted(set(cells), key=lambda c: order.get(c, 10**6))


def claim_findings(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    # a table-四 statement naming both groups gives one claim per group: merge them into one finding
    merged: dict[tuple[int, int, int, int, str], dict[str, object]] = {}
    for d in rows:
        ri = d["report"]
        rep = reports[ri]
        kind: str = d["kind"]
        code: str = d["rule"]
        cells = list(d["cells"])
        if code in ("H17", "H18"):
            key = (ri, d["line"], d["sent"], d["pos"], code)
            m = merged.setdefault(key, {"groups": [], "cells": [], "table": 0.0, "d": d})
            m["groups"].append(kind.split("_", 1)[1])  # type: ignore[attr-defined]
            m["cells"].extend(cells)  # type: ignore[attr-defined]
            m["table"] = float(m["table"]) + float(d["table"])  # type: ignore[arg-type]
            continue
        stated, table = d["stated"], d["table"]
        hint = ""
        nat = d["natural"]
        if d["check_kind"] == "equal" and nat is not None and stated == nat and nat != table:
            hint = "（正文的数字与表三“自然人”列相同，可能只写了自然人一类申请人的数字。）"
        params = {"stated": stated, "table": table, "hint": hint}
        expected: object = _int(table)
        actual: object = _int(stated)
        if d["check_kind"] == "zero":
            expected, actual = 0, _int(table)
        out.append(
            _finding(
                rep,
                ri,
                code,
                _sort_cells(cells),
                expected,
                actual,
                params,
                d["line"],
                _quote_of(rep, d["line"], d["sent"]),
            )
        )
    for (ri, line, sent, _pos, code), m in merged.items():
        rep = reports[ri]
        groups = "、".join(_GROUPS_ZH[g] for g in m["groups"])  # type: ignore[attr-defined]
        table = float(m["table"])  # type: ignore[arg-type]
        params = {"groups": groups, "table": table}
        out.append(
            _finding(
                rep,
                ri,
                code,
                _sort_cells(m["cells"]),  # type: ignore[arg-type]
                0,
                _int(table),
                params,
                line,
                _quote_of(rep, line, sent),
            )
        )
    return out


_CAT_ZH = {c: CLAIM[c].label for c in CATEGORIES}


def sum_findings(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for d in rows:
        ri = d["report"]
        rep = reports[ri]
        code = d["check"]
        quote = _quote_of(rep, d["line"], None)
        if code == "H13":
            listed = "、".join(f"{_CAT_ZH[c]} {d[c]} 件" for c in CATEGORIES if d[c] is not None)
            params: dict[str, object] = {"parts": d["parts"], "part_list": listed, "stated": d["handled"]}
            out.append(_finding(rep, ri, code, [], d["handled"], d["parts"], params, d["line"], quote))
        else:
            lhs = d["received"] + d["carried"]
            rhs = d["handled"] + d["forwarded"]
            params = {k: d[k] for k in ("received", "carried", "handled", "forwarded")} | {"lhs": lhs, "rhs": rhs}
            out.append(_finding(rep, ri, code, [], rhs, lhs, params, d["line"], quote))
    return out


_PUB_TOTAL_RX = (
    r"(?:主动公开|发布|公开)[^。;!?]*?(?:共计|共|合计|累计|总计)(?:发布|公开)?[^\d。;,]{0,8}?(\d+)(?:条|篇|则)"
)


def publication_sums(lines: pl.DataFrame) -> pl.DataFrame:
    """H19 candidates, vectorised: lines stating 主动公开 … 共 N 条 followed by 其中 and its parts.

    The same reading as :func:`parse_publication_sum` (which builds the quote of a finding)."""
    cand = lines.filter(
        pl.col("text").str.contains("其中", literal=True)
        & pl.col("text").str.contains("条", literal=True)
        & pl.col("text").str.contains_any(["共", "合计", "累计", "总计"])
    ).with_columns(normalise(pl.col("text")).alias("norm"))
    got = pl.col("norm").str.extract_groups(
        _PUB_TOTAL_RX.replace("(\\d+)", "(?<stated>\\d+)") + r".{0,4}?其中(?<tail>[^。]*)"
    )
    body = pl.col("m").struct.field("tail").str.replace_all(r"\([^()]*\)", "")
    parts = body.str.extract_all(r"\d+(?:条|期|篇|则)").list.eval(
        pl.element().str.extract(r"(\d+)", 1).cast(pl.Int64, strict=False)
    )
    return (
        cand.with_columns(got.alias("m"))
        .with_columns(
            pl.col("m").struct.field("stated").cast(pl.Int64, strict=False).alias("stated"),
            body.alias("body"),
            parts.alias("parts"),
        )
        .filter(
            pl.col("stated").is_not_null()
            & ~pl.col("body").str.contains("其中|另|此外")
            & (pl.col("parts").list.len() >= 2)
        )
        .with_columns(pl.col("parts").list.sum().alias("sum"))
        .select("report", "line", "text", "stated", "sum")
    )


def python_findings(reports: Sequence[ParsedReport], lines: pl.DataFrame, sents: pl.DataFrame) -> list[Finding]:
    """H19 (主动公开 total vs parts) and H20 (percentages): found vectorised, quoted in Python."""
    out: list[Finding] = []
    bad = publication_sums(lines).filter(pl.col("stated") != pl.col("sum"))
    for ri, line, text, _stated, _sum in bad.iter_rows():
        ps = parse_publication_sum(normalise_text(text))
        if ps is None:
            continue
        total = sum(n for n, _u in ps.parts)
        if total == ps.total:
            continue
        listed = "、".join(f"{n} {u}" for n, u in ps.parts)
        params: dict[str, object] = {"stated": ps.total, "parts": total, "part_list": listed}
        out.append(_finding(reports[ri], ri, "H19", [], ps.total, total, params, line, ps.quote))
    pct = sents.filter(pl.col("norm").str.contains(r"\d件.{0,16}\d%")).join(
        lines.select("report", "line", "text"), on=["report", "line"], how="left"
    )
    for ri, line, sent, norm, text in pct.select("report", "line", "sent", "norm", "text").iter_rows():
        rep = reports[ri]
        para = normalise_text(text)
        bases: dict[str, int] = {}
        for kind, pat in (("handled", _BASE_HANDLED), ("received", _BASE_RECEIVED)):
            found = {int(x) for x in pat.findall(para)}
            if len(found) == 1:
                bases[kind] = found.pop()
        for p in parse_percentages(norm):
            cands = {k: v for k, v in bases.items() if v > 0 and (p.base_kind is None or k == p.base_kind)}
            if not cands:
                continue
            checks = {k: percent_ok(p.part, v, p.stated) for k, v in cands.items()}
            if any(ok for ok, _e in checks.values()):
                continue
            kind = "handled" if "handled" in checks else "received"
            expected = checks[kind][1]
            params = {
                "part": p.part,
                "stated": str(p.stated),
                "base_label": "办结" if kind == "handled" else "收到",
                "base": cands[kind],
                "expected": str(expected),
            }
            out.append(
                _finding(rep, ri, "H20", [], float(expected), float(p.stated), params, line, _quote_of(rep, line, sent))
            )
    return out


# ------------------------------------------------------------------ J: the fee statement


def fee_frame(reports: Sequence[ParsedReport], lines: pl.DataFrame, span: range | None = None) -> pl.DataFrame:
    """One row per 2021-format report of 2021 or later that has a section 六: where it states the fee
    (of the reports at the positions ``span``, or of all)."""
    rows = [
        (i, rep.year)
        for i in (span if span is not None else range(len(reports)))
        if (rep := reports[i]).readable
        and rep.fmt is Fmt.F2021
        and (rep.year is None or rep.year >= 2021)
        and "六" in rep.sections
    ]
    base = pl.DataFrame(rows, schema={"report": pl.UInt32, "year": pl.Int32}, orient="row")
    fee = lines.filter(pl.col("text").str.contains("费", literal=True))
    fee = fee.filter(normalise(pl.col("text")).str.contains(_FEE))
    in_six = fee.filter(pl.col("section") == "六").group_by("report").agg(pl.len().alias("n_six"))
    elsewhere = (
        fee.filter(pl.col("section") != "六")
        .sort("line")
        .group_by("report")
        .agg(pl.col("section").first().alias("other_section"), pl.col("line").first().alias("other_line"))
    )
    return (
        base.join(in_six, on="report", how="left")
        .join(elsewhere, on="report", how="left")
        .with_columns(
            (pl.col("n_six").fill_null(0) > 0).alias("in_six"),
            pl.col("other_line").is_not_null().alias("elsewhere"),
        )
        .select("report", "in_six", "elsewhere", "other_section", "other_line")
    )


def fee_findings(reports: Sequence[ParsedReport], rows: Iterator[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    for d in rows:
        ri = d["report"]
        rep = reports[ri]
        code = d["check"]
        six = rep.sections.get("六") or []
        if code == "J01":
            line = six[0][0] - 1 if six else None
            out.append(_finding(rep, ri, code, [], "信息处理费收取情况", None, {}, line, None))
        else:
            params = {"section": d["other_section"], "line": d["other_line"]}
            quote = _quote_of(rep, d["other_line"], None)
            out.append(
                _finding(rep, ri, code, [], "第六部分", f"第{d['other_section']}部分", params, d["other_line"], quote)
            )
    return out


# ------------------------------------------------------------------ entry point


# The text rules are rules of each report on its own: a large batch is read in chunks of this many
# reports (each chunk validated at once), so the frames of the whole batch's prose — sentences,
# clauses, claims, several times the size of the text — never have to be held together.
PROSE_CHUNK = 10_000


def prose_findings(
    reports: Sequence[ParsedReport], arrays: Mapping[Fmt, FmtArrays], chunk: int | None = None
) -> list[Finding]:
    """Every H and J finding of the batch."""
    size = max(1, chunk or PROSE_CHUNK)
    targets = table_targets(arrays)
    out: list[Finding] = []
    for start in range(0, len(reports), size):
        span = range(start, min(len(reports), start + size))
        lines = prose_lines(reports, span)
        if lines.height:
            sents = sentences(lines)
            cl = clauses(sents)
            claims = extract_claims(cl)
            del cl
            checked = claim_checks(claims, targets)
            out += claim_findings(reports, failing_rows(prose_schema(CLAIM_RULES), checked))
            del checked
            sums = paragraph_sums(claims)
            out += sum_findings(reports, failing_rows(prose_sums_schema(), sums))
            del claims, sums
            out += python_findings(reports, lines, sents)
            del sents
        fees = fee_frame(reports, lines, span)
        out += fee_findings(reports, failing_rows(fee_schema(), fees))
    return out


__all__ = [
    "CLAIMS",
    "CN_NUMERALS",
    "ClaimKind",
    "extract_claims",
    "normalise_text",
    "parse_percentages",
    "parse_publication_sum",
    "percent_ok",
    "prose_findings",
]
