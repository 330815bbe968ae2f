"""Statutory labels: which row or column of the format a printed label names.

A printed label is normalised (:func:`~nianbao.domain.normalize.norm_label`: full-width forms, spaces,
numbering and punctuation removed) and matched, in this order:

1. exactly, or as a known alias, or by a statutory key it starts with (``部分公开（区分处理的…）``);
2. with an explanatory note in brackets removed (``规章（设区的市、自治州人民政府应提供相关数据）``);
3. **near**: within a small edit distance of exactly one statutory label (``先行有效件数`` →
   ``现行有效件数``, ``其他法律和行政法规禁止公开`` → ``其他法律行政法规禁止公开``).  Never guessed:
   a label shorter than :data:`MIN_NEAR_LEN` characters, or as near to two statutory labels, or
   longer than :data:`MAX_NEAR_LEN`, is not matched.  The reader records each near match as an I12
   finding naming the printed and the statutory label.

Every lookup is cached per printed text (labels recur from report to report); a near lookup costs
at most one bounded Levenshtein distance per statutory key of its table (a few dozen keys, labels
of at most :data:`MAX_NEAR_LEN` characters).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from rapidfuzz.distance import Levenshtein

from nianbao.domain.model import ParsedReport, RowIssue
from nianbao.domain.normalize import nfkc, norm_label, squash
from nianbao.domain.spec import T3_COLUMNS, T3_GROUPS, Fmt, tables

MIN_NEAR_LEN = 4  # a shorter label (规章, 其他, 总计, 自然人) is matched exactly or not at all
MAX_NEAR_LEN = 40  # longer texts are prose, not labels: never matched by distance
LONG_LABEL = 8  # labels of this many characters or more may be two edits away; shorter ones one

_VALUE_LIKE = re.compile(r"^[\s\d.,，\-—–/／\\%％]*$")
_NOTE = re.compile(r"[（(][^（()）]*[)）]")  # an explanatory note in brackets


@lru_cache(maxsize=1 << 14)
def squashed(text: str) -> str:
    """``squash`` of a text that recurs from report to report (a label, a heading, a table's line):
    normalised once per process, not once a report."""
    return squash(text)


class LineLike(Protocol):
    """A line of cells as the loaders give it (:class:`nianbao.io.lines.Line`)."""

    cells: list[str]
    no: int


@dataclass(frozen=True, slots=True)
class Near:
    """A printed label matched by edit distance to one statutory label."""

    target: str  # the row or column id ("3.3.2", "in_force"); "group:3.3" for a group label of 表三
    statutory: str  # the statutory label it stands for
    distance: int  # edits between the normalised printed and statutory labels


def max_edits(n: str, key: str) -> int:
    """Edits allowed between a printed label and a statutory key: one, two for long labels."""
    return 2 if min(len(n), len(key)) >= LONG_LABEL else 1


class _Vocabulary:
    """Normalised statutory keys of one kind of label (e.g. the rows of 表三) for near matching."""

    def __init__(self, entries: Sequence[tuple[str, str, str]]) -> None:
        # (normalised key, target id, statutory label); keys too short for near matching are left out
        seen: dict[str, tuple[str, str]] = {}
        for key, target, statutory in entries:
            if len(key) >= MIN_NEAR_LEN:
                seen.setdefault(key, (target, statutory))
        self.keys = tuple((k, t, s) for k, (t, s) in seen.items())

    def near(self, n: str) -> Near | None:
        """The one statutory label within the allowed edits of ``n`` (normalised); None when there is
        none or when two different labels are equally near (never guessed)."""
        if not MIN_NEAR_LEN <= len(n) <= MAX_NEAR_LEN:
            return None
        best: int | None = None
        hits: dict[str, tuple[str, int]] = {}
        for key, target, statutory in self.keys:
            limit = max_edits(n, key)
            if abs(len(key) - len(n)) > limit:
                continue
            d = Levenshtein.distance(n, key, score_cutoff=limit)
            if d > limit or d == 0:
                continue
            if best is None or d < best:
                best, hits = d, {target: (statutory, d)}
            elif d == best:
                hits.setdefault(target, (statutory, d))
        if best is None or len(hits) != 1:
            return None
        (target, (statutory, d)), *_ = hits.items()
        return Near(target, statutory, d)


def _strip_notes(label: str) -> str:
    """The label without bracketed notes; the text itself when it is nothing but a note."""
    s = _NOTE.sub("", nfkc(label))
    return s if norm_label(s) else label


# ------------------------------------------------------------------ table 三 rows


def _build_t3_index() -> tuple[dict[str, str], list[tuple[str, str]], _Vocabulary]:
    exact: dict[str, str] = {}
    prefix: dict[str, str] = {}
    # group labels first: a near 其他处里 is the group (六), as the exact 其他处理 is
    entries: list[tuple[str, str, str]] = [(norm_label(k), f"group:{g}", k) for g, ks in T3_GROUPS.items() for k in ks]
    for fmt in Fmt:
        for r in tables(fmt)["3"].rows:
            for k in r.keys:
                nk = norm_label(k)
                exact.setdefault(nk, r.id)
                if len(nk) >= 4:
                    prefix.setdefault(nk, r.id)
                entries.append((nk, r.id, k))
    return exact, sorted(prefix.items(), key=lambda kv: -len(kv[0])), _Vocabulary(entries)


T3_EXACT, T3_PREFIX, _T3_VOCAB = _build_t3_index()
T3_GROUP_KEYS = {norm_label(k): g for g, ks in T3_GROUPS.items() for k in ks}


def _match_t3_exact(n: str) -> tuple[str, str] | None:
    for gk, g in T3_GROUP_KEYS.items():
        if n == gk or (n.startswith(gk) and len(n) <= len(gk) + 2):
            return "group", g
    if n in T3_EXACT:
        return "row", T3_EXACT[n]
    for k, rid in T3_PREFIX:
        if n.startswith(k):
            return "row", rid
    if len(n) >= 5:
        # a label cut by a line break ("2.其他法律行政法规禁"): the start of exactly one row's key
        hits = {rid for k, rid in T3_PREFIX if k.startswith(n)}
        if len(hits) == 1:
            return "row", hits.pop()
    return None


@lru_cache(maxsize=1 << 16)  # the same printed labels (and values) recur in every report
def near_t3(label: str) -> Near | None:
    """The near match of a printed 表三 label, when it matches neither exactly nor by a key."""
    if _VALUE_LIKE.match(label):
        return None
    n = norm_label(label)
    if not n or _match_t3_exact(n) is not None:
        return None
    stripped = norm_label(_strip_notes(label))
    if stripped != n and _match_t3_exact(stripped) is not None:
        return None
    return _T3_VOCAB.near(n)


@lru_cache(maxsize=1 << 16)
def match_t3(label: str) -> tuple[str, str] | None:
    """('row'|'group', id) for a printed label of table 三 (exact, without a note, or near)."""
    if _VALUE_LIKE.match(label):
        return None  # a number, a blank or a placeholder: not a label (the hot path)
    n = norm_label(label)
    if not n:
        return None
    m = _match_t3_exact(n)
    if m is not None:
        return m
    stripped = norm_label(_strip_notes(label))
    if stripped != n:
        m = _match_t3_exact(stripped)
        if m is not None:
            return m
    near = near_t3(label)
    if near is None:
        return None
    if near.target.startswith("group:"):
        return "group", near.target[len("group:") :]
    return "row", near.target


# ------------------------------------------------------------------ table 二 rows and columns


def _t2_rows() -> tuple[dict[str, str], _Vocabulary]:
    out: dict[str, str] = {}
    entries: list[tuple[str, str, str]] = []
    for fmt in Fmt:
        for r in tables(fmt)["2"].rows:
            for k in r.keys:
                out.setdefault(norm_label(k), r.id)
                entries.append((norm_label(k), r.id, k))
    return out, _Vocabulary(entries)


T2_ROWS, _T2_ROW_VOCAB = _t2_rows()


def _t2_cols() -> tuple[dict[str, tuple[Fmt | None, str]], _Vocabulary]:
    """Column label -> (format it belongs to or None for both, column id)."""
    cols: dict[str, tuple[Fmt | None, str]] = {}
    entries: list[tuple[str, str, str]] = []
    for fmt in Fmt:
        for c in tables(fmt)["2"].columns:
            for lab in (c.label, *c.aliases):
                key = norm_label(lab)
                if key in cols and cols[key][1] == c.id:
                    cols[key] = (None, c.id)
                else:
                    cols.setdefault(key, (fmt, c.id))
                entries.append((key, c.id, c.label))
    # 本年处理决定数量 / 处理决定数量 are used by both formats for the decisions column
    cols[norm_label("本年处理决定数量")] = (None, "decisions")
    cols[norm_label("处理决定数量")] = (None, "decisions")
    return cols, _Vocabulary(entries)


T2_COLS, _T2_COL_VOCAB = _t2_cols()


def _t2_row_exact(n: str) -> str | None:
    return T2_ROWS.get(n)


@lru_cache(maxsize=1 << 14)
def near_t2_row(label: str) -> Near | None:
    if _VALUE_LIKE.match(label):
        return None
    n = norm_label(label)
    if not n or n in T2_ROWS or norm_label(_strip_notes(label)) in T2_ROWS:
        return None
    return _T2_ROW_VOCAB.near(n)


@lru_cache(maxsize=1 << 14)
def match_t2_row(label: str) -> str | None:
    """The row id of table 二 a printed row label names (exact, without a note, or near)."""
    n = norm_label(label)
    if n in T2_ROWS:
        return T2_ROWS[n]
    if not n or _VALUE_LIKE.match(label):
        return None
    stripped = norm_label(_strip_notes(label))
    if stripped in T2_ROWS:
        return T2_ROWS[stripped]
    near = near_t2_row(label)
    return near.target if near is not None else None


def _t2_col_exact(n: str) -> tuple[Fmt | None, str] | None:
    if n in T2_COLS:
        return T2_COLS[n]
    for k, v in T2_COLS.items():
        if len(k) >= 4 and n.startswith(k):
            return v
    return None


@lru_cache(maxsize=1 << 14)
def near_t2_col(label: str) -> Near | None:
    if _VALUE_LIKE.match(label):
        return None
    n = norm_label(label)
    if not n or _t2_col_exact(n) is not None or _t2_col_exact(norm_label(_strip_notes(label))) is not None:
        return None
    return _T2_COL_VOCAB.near(n)


@lru_cache(maxsize=1 << 14)
def match_t2_col(label: str) -> tuple[Fmt | None, str] | None:
    """(format the column belongs to or None for both, column id) for a printed 表二 column label."""
    n = norm_label(label)
    m = _t2_col_exact(n)
    if m is not None or not n:
        return m
    m = _t2_col_exact(norm_label(_strip_notes(label)))
    if m is not None:
        return m
    near = near_t2_col(label)
    if near is None:
        return None
    fmts = {T2_COLS[k][0] for k, v in T2_COLS.items() if v[1] == near.target}
    return (fmts.pop() if len(fmts) == 1 else None), near.target


# ------------------------------------------------------------------ table 三 columns

_T3_COL_VOCAB = _Vocabulary([(norm_label(lab), c.id, c.label) for c in T3_COLUMNS for lab in (c.label, *c.aliases)])


@lru_cache(maxsize=1 << 14)
def near_t3_col(label: str) -> Near | None:
    if _VALUE_LIKE.match(label):
        return None
    n = norm_label(label)
    if not n or any(n == norm_label(lab) for c in T3_COLUMNS for lab in (c.label, *c.aliases)):
        return None
    return _T3_COL_VOCAB.near(n)


def header_has(header: str, labels: Sequence[str]) -> str | None:
    """The first of ``labels`` found in a squashed, normalised header text, or None."""
    for lab in labels:
        if norm_label(lab) in header:
            return lab
    return None


def find_column(header_cells: Sequence[str], col_id: str, labels: Sequence[str]) -> str | None:
    """The label under which a column of 表三 is printed: one of ``labels`` (statutory or alias)
    found in the header text, or a header cell near the statutory label; None when absent."""
    header = "".join(norm_label(c) for c in header_cells)
    got = header_has(header, labels)
    if got is not None:
        return got
    for c in header_cells:
        near = near_t3_col(c) if len(c) <= MAX_NEAR_LEN * 2 else None
        if near is not None and near.target == col_id:
            return c.strip()
    return None


# ------------------------------------------------------------------ findings (I12)


@lru_cache(maxsize=1 << 15)
def _near_elements(table: str, label: str) -> tuple[tuple[str, Near], ...]:
    """(element, near match) of a printed label of table ``table`` matched only by distance."""
    out: list[tuple[str, Near]] = []
    if table == "2":
        for near, fmt_el in ((near_t2_row(label), "2:{}:*"), (near_t2_col(label), "2:*:{}")):
            if near is not None:
                out.append((fmt_el.format(near.target), near))
    elif table == "3":
        near = near_t3(label)
        if near is not None and not near.target.startswith("group:"):
            out.append((f"3:{near.target}:*", near))
        near = near_t3_col(label)
        if near is not None:
            out.append((f"3:*:{near.target}", near))
    return tuple(out)


def _label_cells(cells: Sequence[str]) -> list[str]:
    """The label texts of a line: its cells up to the first value, and the words of a cell of words
    separated by single spaces (a header or row that an extraction printed as one cell)."""
    out: list[str] = []
    for c in cells:
        got = _cell_labels(c)
        if got is None:
            break
        out.extend(got)
    return out


def _cell_labels(c: str) -> tuple[str, ...] | None:
    """:func:`_label_cells` of one cell: its label texts, or None for a value (the labels end there)."""
    if not c or c.isspace():
        return ()
    if c[0].isdigit() and _VALUE_LIKE.match(c):
        return None
    if len(c) > MAX_NEAR_LEN * 2:
        return ()
    if " " in c.strip():
        return (c, *(w for w in c.split()[:MAX_WORDS] if not _VALUE_LIKE.match(w)))
    return (c,)


@lru_cache(maxsize=1 << 15)  # the same cells (labels, numbers) in every report
def _cell_hits(table: str, c: str) -> tuple[tuple[str, str, Near], ...] | None:
    """The near labels (element, printed, match) of one cell of a line of table ``table``, as
    :func:`record_near_labels` reads each label text of :func:`_label_cells`; None for a value."""
    labels = _cell_labels(c)
    if labels is None:
        return None
    return tuple((element, lab.strip(), near) for lab in labels for element, near in _near_elements(table, lab))


MAX_WORDS = 12  # words of one cell tried as labels


@lru_cache(maxsize=8)
def _known_elements(fmt: Fmt) -> frozenset[str]:
    known: set[str] = set()
    for t in tables(fmt).values():
        known.update(f"{t.id}:{r.id}:*" for r in t.rows)
        known.update(f"{t.id}:*:{c.id}" for c in t.columns)
    return frozenset(known)


def record_near_labels(rep: ParsedReport, windows: dict[str, Sequence[LineLike]]) -> None:
    """Add one I12 finding per statutory row or column of 表二/表三 that the report prints under a
    label matched only by distance (in the report's format, and read: not reported missing), unless
    the reader named it already.

    ``windows``: table id -> the lines of its section."""
    if rep.fmt is None:
        return
    hits: list[tuple[str, str, Near, int]] = []
    for table, window in windows.items():
        for ln in window:
            for c in ln.cells:  # _label_cells' texts, each cell's near labels read once per process
                got = _cell_hits(table, c)
                if got is None:
                    break
                for element, printed, near in got:
                    hits.append((element, printed, near, ln.no))
    if not hits:
        return
    known = _known_elements(rep.fmt)
    seen = {f.element for f in rep.layout if not f.found} | {ri.element for ri in rep.row_issues if ri.code == "I12"}
    # a row or column also printed under its exact label was read from that one: no I12 for it
    seen |= {e for table, window in windows.items() for ln in window for e in _exact_elements(table, ln.cells)}
    for element, printed, near, line in hits:
        if element in seen or element not in known:
            continue
        seen.add(element)
        rep.row_issues.append(RowIssue("I12", element, printed, line, detail=near.statutory))


def _exact_elements(table: str, cells: Sequence[str]) -> list[str]:
    """The rows and columns of table ``table`` that label cells of a line name without distance."""
    out: list[str] = []
    for c in _label_cells(cells):
        if table == "2":
            rid = match_t2_row(c)
            if rid is not None and near_t2_row(c) is None:
                out.append(f"2:{rid}:*")
            col = match_t2_col(c)
            if col is not None and near_t2_col(c) is None:
                out.append(f"2:*:{col[1]}")
        elif table == "3":
            m = match_t3(c)
            if m is not None and m[0] == "row" and near_t3(c) is None:
                out.append(f"3:{m[1]}:*")
            n = norm_label(c)
            out.extend(
                f"3:*:{col.id}" for col in T3_COLUMNS for lab in (col.label, *col.aliases) if norm_label(lab) == n
            )
    return out


def edits(printed: str, statutory: str) -> int:
    """Edits between two labels, as the near matching counts them (after normalisation)."""
    return int(Levenshtein.distance(norm_label(printed), norm_label(statutory)))


# ------------------------------------------------------------------ labels inside a header text (表四)

MAX_HEADER_CHARS = 400  # a longer header text is not searched by distance


def near_in_header(header: str, label: str) -> str | None:
    """The piece of a header text (normalised, labels run together: 表四's header) that prints
    ``label`` with one or two characters wrong, when there is exactly one such place; None when the
    label is too short, absent, or printed as two different pieces.  At most 5 × len(header) bounded
    distances."""
    key = norm_label(label)
    if len(key) < MIN_NEAR_LEN or not header or len(header) > MAX_HEADER_CHARS:
        return None
    limit = max_edits(key, key)
    places: list[tuple[int, int, int, str]] = []
    for size in range(len(key) - limit, len(key) + limit + 1):
        for start in range(0, len(header) - size + 1):
            piece = header[start : start + size]
            d = Levenshtein.distance(key, piece, score_cutoff=limit)
            if d <= limit:
                places.append((d, start, start + size, piece))
    if not places:
        return None
    d_min = min(p[0] for p in places)
    at = sorted((p for p in places if p[0] == d_min), key=lambda p: p[1])
    # overlapping windows are one place; a header printed three times (表四) repeats the same piece
    chosen: set[str] = set()
    cluster: list[tuple[int, int, int, str]] = []
    for p in [*at, None]:
        if p is not None and cluster and p[1] < max(q[2] for q in cluster):
            cluster.append(p)
            continue
        if cluster:
            chosen.add(min(cluster, key=lambda q: (abs(len(q[3]) - len(key)), q[1]))[3])
        cluster = [p] if p is not None else []
    return chosen.pop() if len(chosen) == 1 else None  # two different pieces: never guessed


def record_near_header(rep: ParsedReport, element: str, label: str, header: str) -> bool:
    """Whether ``label`` is printed with a typo in ``header``; if so, an I12 names both labels."""
    piece = near_in_header(header, label)
    if piece is None:
        return False
    rep.row_issues.append(RowIssue("I12", element, piece, None, detail=label))
    return True
