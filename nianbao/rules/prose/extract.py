"""Reading the claims out of the prose: vectorised patterns over clauses, and the few sentences parsed
in Python (H19: a 主动公开 total and its parts; H20: percentages).

Every claim pattern is one polars regular expression evaluated over the distinct clauses of the
batch (with their sentence's facts); the claims are then joined back to every line that has them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

import polars as pl

from nianbao.rules.prose.claims import CLAIMS, NEGATIVE_BLOCK, NO_CASES, UPHELD
from nianbao.rules.prose.numerals import normalise, normalise_text, number
from nianbao.rules.prose.text import CLAUSE_TRIGGER, FLAGS

# the columns of the sentence and clause frames that are text or facts, not keys
_TEXT_COLUMNS = frozenset({"text", "sentence", "norm", "clause", *FLAGS})
# the order of the claims frame
_ORDER = ("report", "tid", "line", "sent", "pos")
# a clause that matches none of these states no claim: the claim expressions run only on the others
_ANY_CLAIM = "|".join([*(f"(?:{p})" for c in CLAIMS for p in c.patterns), f"(?:{UPHELD})", f"(?:{NO_CASES})"])


@cache
def claim_exprs() -> tuple[tuple[pl.Expr, ...], tuple[pl.Expr, ...], tuple[str, ...]]:
    """(the facts of a clause that several kinds read, every claim kind's expression, the kinds):
    the facts are columns (``_f…``) added first, each evaluated once (seven kinds share one block
    pattern, and the statements about table 四 read the same few tests twice each); the kinds'
    expressions read them.  Made once (building them costs ~0.9 ms; callers do not change them)."""
    context = pl.col("ctx")
    named: dict[str, str] = {}  # a fact's key → its column
    facts: list[pl.Expr] = []

    def fact(expr: pl.Expr, key: str) -> pl.Expr:
        """The column of this fact (added once per distinct ``key``)."""
        if key not in named:
            named[key] = f"_f{len(facts)}"
            facts.append(expr.alias(named[key]))
        return pl.col(named[key])

    exprs: list[pl.Expr] = []
    for c in CLAIMS:
        if c.check == "equal":
            caps = [pl.col("clause").str.extract(p, 1) for p in c.patterns]
            # a column: number() reads the captured text three times
            val = number(fact(pl.coalesce(caps) if len(caps) > 1 else caps[0], f"number {c.kind}"))
        else:
            hit = pl.any_horizontal([pl.col("clause").str.contains(p) for p in c.patterns])
            val = pl.when(hit).then(pl.lit(0, dtype=pl.Int64))
        ok = ~fact(pl.col("clause").str.contains(c.block), f"block {c.block}")
        if c.needs_context:
            ok = ok & context
        if c.sentence_block:
            ok = ok & ~pl.col("s_carry")
        exprs.append(pl.when(ok).then(val).otherwise(None).cast(pl.Int64).alias(c.kind))
    # statements about table 四 without numbers, one claim per group they name
    in_clause = {
        "review": fact(pl.col("clause").str.contains("复议"), "review"),
        "suits": fact(pl.col("clause").str.contains("诉讼"), "suits"),
    }
    either = in_clause["review"] | in_clause["suits"]
    upheld = fact(pl.col("clause").str.contains(UPHELD) & (pl.col("s_review") | pl.col("s_suit")), "upheld")
    none = fact(
        pl.col("clause").str.contains(NO_CASES) & ~pl.col("clause").str.contains(NEGATIVE_BLOCK) & context, "none"
    )
    zero = pl.lit(0, dtype=pl.Int64)
    for group, sentence_flag in (("review", "s_review"), ("suits", "s_suit")):
        # "均获维持" names its groups in its own clause, else in its sentence
        scope = pl.when(either).then(in_clause[group]).otherwise(pl.col(sentence_flag))
        exprs.append(pl.when(upheld & scope).then(zero).otherwise(None).alias(f"upheld_{group}"))
        exprs.append(pl.when(none & in_clause[group]).then(zero).otherwise(None).alias(f"no_{group}"))
    kinds = [c.kind for c in CLAIMS] + [f"{p}_{g}" for g in ("review", "suits") for p in ("upheld", "no")]
    return tuple(facts), tuple(exprs), tuple(kinds)


def stating_texts(cand: pl.DataFrame) -> pl.DataFrame:
    """The texts (with ``norm``: text.trigger_texts) whose sentences may state a claim or a
    percentage (H20): a sentence's normalised text is a piece of its text's and no pattern is
    anchored, so the sentences :func:`claim_sentences` and :func:`wrong_percentages` keep are all
    cut from these (each report's own 主动公开 counts are not cut at all)."""
    return cand.filter(pl.col("norm").str.contains(_ANY_CLAIM) | pl.col("norm").str.contains("%", literal=True))


def claim_sentences(sents: pl.DataFrame) -> pl.DataFrame:
    """The sentences that may state a claim: a clause is a piece of its sentence's normalised text
    and no claim pattern is anchored, so a sentence that matches none of them (``_ANY_CLAIM``) has
    no clause that does (most of a chunk's sentences with a figure: their clauses are not cut)."""
    return sents.filter(pl.col("norm").str.contains(_ANY_CLAIM))


def extract_claims(cl: pl.DataFrame) -> pl.DataFrame:
    """(keys…, sent, pos, kind, value) — every claim the clauses state; the keys are the clause
    frame's own (``report, section, line`` of lines, or ``tid, section`` of distinct texts).

    The patterns run once per distinct clause (with its sentence's facts): report texts share much
    wording.  Every kind's expression is evaluated in one ``select`` (polars runs them in parallel),
    then the claims are unpivoted to one row each."""
    facts, exprs, kinds = claim_exprs()
    keys = [c for c in cl.columns if c not in _TEXT_COLUMNS]
    # a clause states something only with a number, a negation or an "all"; and only the distinct
    # clauses that match some claim's pattern can state a claim (~1 in 8): both tested once per
    # distinct clause (with its sentence's facts)
    distinct = (
        cl.select("clause", *FLAGS)
        .unique()
        .filter(pl.col("clause").str.contains(CLAUSE_TRIGGER))
        .filter(pl.col("clause").str.contains(_ANY_CLAIM))
    )
    found = (
        distinct.with_columns(*facts)
        .with_columns(*exprs)
        .unpivot(index=["clause", *FLAGS], on=list(kinds), variable_name="kind", value_name="value")
        .filter(pl.col("value").is_not_null())
    )
    return (
        cl.select(*keys, "clause", *FLAGS)
        .join(found, on=["clause", *FLAGS], how="inner")
        .select(*keys, "kind", "value")
        .sort(*(k for k in _ORDER if k in keys), "kind")
    )


def line_claims(lines: pl.DataFrame, text_claims: pl.DataFrame) -> pl.DataFrame:
    """(report, section, line, sent, pos, kind, value): the claims of the distinct texts
    (:func:`extract_claims` over them, keyed by ``tid``) on every line with that text."""
    return (
        lines.select("report", "section", "line", "tid")
        .join(text_claims.drop("section"), on="tid", how="inner")
        .select("report", "section", "line", "sent", "pos", "kind", "value")
        .sort("report", "line", "sent", "pos", "kind")
    )


# ------------------------------------------------------------------ H19: 主动公开 total and parts

_PUB_TOTAL_RX = (
    r"(?:主动公开|发布|公开)[^。;!?]*?(?:共计|共|合计|累计|总计)(?:发布|公开)?[^\d。;,]{0,8}?(\d+)(?:条|篇|则)"
)


# the H19 total and the text after its 其中: groups ``stated`` and ``tail`` (polars), 1 and 2 (re)
_PUB_GROUPS_RX = _PUB_TOTAL_RX.replace("(\\d+)", "(?<stated>\\d+)") + r".{0,4}?其中(?<tail>[^。]*)"
_PUB_GROUPS = re.compile(_PUB_TOTAL_RX + r".{0,4}?其中([^。]*)")
# the UTF-8 lead bytes of the characters beyond U+FFFF (four bytes; no other byte of UTF-8 is one
# of these): there the two engines' \d differ (their Unicode versions)
_ASTRAL_LEADS = tuple(bytes([b]) for b in range(0xF0, 0xF5))


def publication_groups(norm: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(stated, tail): the groups of the H19 pattern in each normalised text (null: no match).

    Found by Python's ``re`` (one search a candidate text, ~1 a report), which resolves this
    pattern's groups ~4x faster than polars' regex (slow on its ``.{0,4}?``).  Both engines find the
    leftmost-first match with the same quantifier and alternation priorities, and their character
    classes here agree on every character below U+10000 (tested); a text with one beyond is read by
    polars (the same groups, by definition)."""
    raw = norm.cast(pl.Binary)  # (a byte scan each: ~5x faster than a regex of the characters)
    if any(raw.bin.contains(lead).any() for lead in _ASTRAL_LEADS):
        got = norm.str.extract_groups(_PUB_GROUPS_RX)
        return got.struct.field("stated"), got.struct.field("tail")
    found = [None if t is None else _PUB_GROUPS.search(t) for t in norm.to_list()]
    return (
        pl.Series("stated", [m and m.group(1) for m in found], dtype=pl.String),
        pl.Series("tail", [m and m.group(2) for m in found], dtype=pl.String),
    )


def publication_sums(lines: pl.DataFrame) -> pl.DataFrame:
    """H19 candidates, vectorised: lines stating 主动公开 … 共 N 条 followed by 其中 and its parts;
    (keys…, text, stated, sum) with the frame's own keys (``norm``, the normalised ``text``, is
    read when the frame has it).

    The same reading as :func:`parse_publication_sum` (which builds the quote of a finding)."""
    keys = [c for c in lines.columns if c not in _TEXT_COLUMNS]
    # one filter after the other: each scans only the rows the one before kept (the rarest first)
    cand = (
        lines.filter(pl.col("text").str.contains("其中", literal=True))
        .filter(pl.col("text").str.contains("条", literal=True))
        .filter(pl.col("text").str.contains("共|合计|累计|总计"))
    )
    if "norm" not in cand.columns:  # (the frame of text.trigger_texts has it)
        cand = cand.with_columns(normalise(pl.col("text")).alias("norm"))
    stated, tail = publication_groups(cand.get_column("norm"))
    body = tail.str.replace_all(r"\([^()]*\)", "")
    # each part is digits and a one-character unit: the unit cut off, the digits cast (read only
    # for the candidates that pass the other tests)
    parts = (
        pl.col("body")
        .str.extract_all(r"\d+(?:条|期|篇|则)")
        .list.eval(pl.element().str.head(-1).cast(pl.Int64, strict=False))
    )
    return (
        cand.with_columns(stated.cast(pl.Int64, strict=False).alias("stated"), body.alias("body"))
        .filter(pl.col("stated").is_not_null() & ~pl.col("body").str.contains("其中|另|此外"))
        .with_columns(parts.alias("parts"))
        .filter(pl.col("parts").list.len() >= 2)
        .with_columns(pl.col("parts").list.sum().alias("sum"))
        .select(*keys, "text", "stated", "sum")
    )


_PUB_TOTAL = re.compile(
    r"(?:主动公开|发布|公开)[^。;!?]*?(?:共计|共|合计|累计|总计)(?:发布|公开)?[^\d。;,]{0,8}?(\d+)(条|篇|则)"
)
_PUB_PART = re.compile(r"(\d+)(条|期|篇|则)")
_PAREN = re.compile(r"\([^()]*\)|（[^（）]*）")


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


# ------------------------------------------------------------------ H20: percentages

_PERCENT = re.compile(
    r"(\d+)件[^,;。%\d]{0,3}?,?(?:占比为|占比|占总数的|占(?P<base>[^,;。%\d]{0,10}?)的?|比例为)(\d+(?:\.\d+)?)%"
)
_BASE_HANDLED = re.compile(r"(?:办结|已答复|答复完毕|作出答复|办理完毕)[^\d%、,;。]{0,16}?(\d+)件")
_BASE_RECEIVED = re.compile(r"(?:新收|收到|受理|接收|接到)[^\d%、,;。]{0,24}?申请[^\d%、,;。]{0,6}?(\d+)件")
# sentences that may state a percentage of a count (the ones parsed in Python)
PERCENT_SENTENCE = r"\d件.{0,16}\d%"


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


@dataclass(frozen=True)
class PercentError:
    """A percentage that is not its part over its base (rounded half-up to the stated decimals)."""

    part: int
    stated: Decimal
    base_kind: str  # "handled" | "received"
    base: int
    expected: Decimal


def percent_errors(norm_sentence: str, norm_line: str) -> list[PercentError]:
    """The wrong percentages of a sentence; the bases (办结 N 件, 收到…申请 N 件) are read from its
    line (``norm_line``), each only when the line states one number for it."""
    bases: dict[str, int] = {}
    for kind, pat in (("handled", _BASE_HANDLED), ("received", _BASE_RECEIVED)):
        found = {int(x) for x in pat.findall(norm_line)}
        if len(found) == 1:
            bases[kind] = found.pop()
    out: list[PercentError] = []
    for p in parse_percentages(norm_sentence):
        cands = {k: v for k, v in bases.items() if v > 0 and (p.base_kind is None or k == p.base_kind)}
        if not cands:
            continue
        checks = {k: percent_ok(p.part, v, p.stated) for k, v in cands.items()}
        if any(ok for ok, _e in checks.values()):
            continue
        kind = "handled" if "handled" in checks else "received"
        out.append(PercentError(p.part, p.stated, kind, cands[kind], checks[kind][1]))
    return out


# ------------------------------------------------------------------ the wrong ones, per distinct text


def wrong_publication_sums(texts: pl.DataFrame) -> dict[int, PubSum]:
    """H19 over the distinct texts (``tid``, ``text``; or those of them that have a trigger word,
    with ``norm``: text.trigger_texts, as every candidate has 条): the candidates found vectorised, each one
    whose parts do not add up parsed once in Python; text id → its sum."""
    bad = publication_sums(texts).filter(pl.col("stated") != pl.col("sum"))
    wrong: dict[int, PubSum] = {}
    for tid, text in bad.select("tid", "text").iter_rows():
        ps = parse_publication_sum(normalise_text(text))
        if ps is not None and sum(n for n, _u in ps.parts) != ps.total:
            wrong[tid] = ps
    return wrong


def wrong_percentages(texts: pl.DataFrame, sents: pl.DataFrame) -> dict[int, list[tuple[int, PercentError]]]:
    """H20 over the distinct texts: the sentences that may state a percentage (``sents`` keyed by
    ``tid``), parsed once each in Python; text id → its wrong percentages (sentence, error)."""
    cand = (
        # the pattern's literal first (a fast scan): the regular expression runs on those rows only
        sents.filter(pl.col("norm").str.contains("%", literal=True))
        .filter(pl.col("norm").str.contains(PERCENT_SENTENCE))
        .join(texts.select("tid", "text"), on="tid", how="left")
        .select("tid", "sent", "norm", "text")
    )
    wrong: dict[int, list[tuple[int, PercentError]]] = {}
    for tid, sent, norm, text in cand.sort("tid", "sent").iter_rows():
        for e in percent_errors(norm, normalise_text(text)):
            wrong.setdefault(tid, []).append((sent, e))
    return wrong
