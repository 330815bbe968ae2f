"""Canonical data of a whole batch as polars frames (built column-wise, one frame per kind).

- ``batch_arrays``: the cells of all reports as 2-D arrays per format (the fast path);
- ``cells``: one row per (report, cell id) — value, state, kind, source location;
- ``table_frame(cells, fmt, table)``: one row per report, one column per cell id of that table;
- ``layout``: one row per structural element of each report (sections, tables, rows, columns);
  ``pos`` leads back to the fact in ``report.layout`` (statutory label, alias, line);
- ``meta``: one row per report (agency, year, period, format).
``report`` is the index of the report in the batch list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import polars as pl

from nianbao.domain.model import ALL_IDS, ELEMENTS, INDEX, STATES, CellMap, LayoutList, ParsedReport
from nianbao.domain.spec import Fmt, all_cells, cell_kind, tables
from nianbao.read.bulk import joined
from nianbao.rules.ahead import Registered, frame_parts

STATE_NAMES = [s.value for s in STATES]
STATE_DTYPE = pl.Enum(STATE_NAMES)
KINDS = ["count", "amount", "delta"]
KIND_DTYPE = pl.Enum(KINDS)
# the long cells frame's cell ids and formats as categories (4 million rows at 20,000 reports: a
# category is a number, a string column would be built and hashed string by string)
CELL_DTYPE = pl.Enum(list(ALL_IDS))
FMT_DTYPE = pl.Enum([f.value for f in Fmt])


@cache
def _fmt_index(fmt: Fmt) -> np.ndarray:
    return np.array([INDEX[c] for c in all_cells(fmt)], dtype=np.intp)


@dataclass
class FmtArrays:
    """The canonical cells of every readable report of one format, as 2-D arrays (report x cell)."""

    fmt: Fmt
    ids: tuple[str, ...]
    report: np.ndarray  # uint32, the report's index in the batch
    values: np.ndarray  # float64, NaN = no value
    states: np.ndarray  # uint8 codes into STATES
    lines: np.ndarray  # uint32, 0 = unknown
    pos: np.ndarray  # uint16, 0 = unknown

    def column(self, cid: str) -> int:
        return _columns(self.fmt)[cid]

    def has(self, cid: str) -> bool:
        return cid in _columns(self.fmt)

    def shifted(self, offset: int) -> FmtArrays:
        """The same cells with every ``report`` index moved by ``offset`` (the arrays are shared)."""
        return FmtArrays(
            self.fmt, self.ids, self.report + np.uint32(offset), self.values, self.states, self.lines, self.pos
        )


@cache
def _columns(fmt: Fmt) -> dict[str, int]:
    return {c: i for i, c in enumerate(all_cells(fmt))}


def batch_arrays(reports: Sequence[ParsedReport]) -> dict[Fmt, FmtArrays]:
    """Stack the cells of all readable reports, per format (no per-cell Python work: the reports of
    each format picked by one comprehension, each of its arrays joined, reshaped and cut to its
    cells once)."""
    fmts = [rep.fmt if rep.status == "validated" else None for rep in reports]
    out: dict[Fmt, FmtArrays] = {}
    for fmt in Fmt:
        rid = [i for i, f in enumerate(fmts) if f is fmt]
        vals, sts, lns, pss = CellMap.columns([reports[i].cells for i in rid])
        idx = _fmt_index(fmt)
        n = len(rid)
        cut = _fmt_slice(fmt)

        def stack(
            parts: list[Any], dtype: type[np.generic], n: int = n, idx: np.ndarray = idx, cut: slice | None = cut
        ) -> np.ndarray:
            # every report's array has the same length: one join, one reshape, one gather (a
            # format whose cells are one run of the canonical ids: a view of that slice of the
            # joined buffer, read-only, not a second copy of it)
            if not n:
                return np.empty((0, len(idx)), dtype=dtype)
            flat = np.frombuffer(joined(parts, np.dtype(dtype).itemsize)[0], dtype=dtype).reshape(n, -1)
            return flat[:, cut] if cut is not None else np.take(flat, idx, axis=1)

        out[fmt] = FmtArrays(
            fmt,
            all_cells(fmt),
            np.array(rid, dtype=np.uint32),
            stack(vals, np.float64),
            stack(sts, np.uint8),
            stack(lns, np.uint32),
            stack(pss, np.uint16),
        )
    return out


@cache
def _fmt_slice(fmt: Fmt) -> slice | None:
    """The format's cells as one slice of the canonical ids when they are a run of them, else None."""
    idx = _fmt_index(fmt)
    if len(idx) and bool((np.diff(idx) == 1).all()):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return None


def cells_frame(
    reports: Sequence[ParsedReport] | dict[Fmt, FmtArrays],
    idx: Sequence[int] | None = None,
    where: Callable[[FmtArrays], np.ndarray] | None = None,
) -> pl.DataFrame:
    """Long frame of every canonical cell of the readable reports (one row per report x cell);
    ``where`` (given a format's arrays: a report x cell mask) keeps the cells it marks only, in the
    same order (the frame of a few suspect cells without the long frame's 20 million rows)."""
    if not isinstance(reports, dict):
        chosen = reports if idx is None else [reports[i] for i in idx]
        arrays = batch_arrays(chosen)
        if idx is not None:  # keep the caller's report indices
            for a in arrays.values():
                a.report = np.array([idx[j] for j in a.report], dtype=np.uint32)
    else:
        arrays = reports
    parts = []
    state_names = pl.Series(STATE_NAMES, dtype=STATE_DTYPE)
    for fmt, a in arrays.items():
        n, k = a.values.shape
        if n == 0:
            continue
        ids = pl.Series(list(a.ids), dtype=CELL_DTYPE)
        kinds = pl.Series([cell_kind(fmt, c).value for c in a.ids], dtype=KIND_DTYPE)
        if where is None:  # every cell: the arrays' rows one after another
            rows: np.ndarray = np.repeat(a.report, k)
            col = pl.Series(np.tile(np.arange(k, dtype=np.uint32), n))
            values, states, lines, pos = a.values.ravel(), a.states.ravel(), a.lines.ravel(), a.pos.ravel()
        else:
            r, c = np.nonzero(where(a))  # (row-major: the order of the whole frame)
            if not len(r):
                continue
            rows, col = a.report[r], pl.Series(c.astype(np.uint32))
            values, states, lines, pos = a.values[r, c], a.states[r, c], a.lines[r, c], a.pos[r, c]
        m = len(rows)
        pos = pos.astype(np.uint32)
        parts.append(
            pl.DataFrame(
                {
                    "report": rows,
                    "cell": ids.gather(col),
                    "fmt": pl.Series([fmt.value], dtype=FMT_DTYPE).gather(np.zeros(m, dtype=np.uint32)),
                    "kind": kinds.gather(col),
                    "value": pl.Series(values, nan_to_null=True),
                    "state": state_names.gather(pl.Series(states)),
                    # 0 encodes "no location" in the arrays
                    "line": pl.Series(lines, dtype=pl.UInt32).scatter(np.flatnonzero(lines == 0), None),
                    "pos": pl.Series(pos, dtype=pl.UInt32).scatter(np.flatnonzero(pos == 0), None),
                }
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={
                "report": pl.UInt32,
                "cell": CELL_DTYPE,
                "fmt": FMT_DTYPE,
                "kind": KIND_DTYPE,
                "value": pl.Float64,
                "state": STATE_DTYPE,
                "line": pl.UInt32,
                "pos": pl.UInt32,
            }
        )
    return pl.concat(parts, how="vertical")


def cell_values(arrays: Iterable[FmtArrays], ids: Sequence[str]) -> pl.DataFrame:
    """One row per report of ``arrays`` whose format has one of ``ids`` (formats in turn), one
    Float64 column per cell id: its value, null when blank, unread or not a cell of the format.

    The wide frame of a few cells read straight from the arrays (not by filtering and pivoting the
    long cells frame)."""
    parts = []
    for a in arrays:
        n = len(a.report)
        if n == 0 or not any(a.has(c) for c in ids):
            continue
        cols = {
            c: pl.Series(c, a.values[:, a.column(c)], dtype=pl.Float64, nan_to_null=True)
            if a.has(c)
            else pl.Series(c, [None], dtype=pl.Float64).gather(np.zeros(n, dtype=np.uint32))
            for c in ids
        }
        parts.append(pl.DataFrame({"report": pl.Series(a.report, dtype=pl.UInt32), **cols}))
    if not parts:
        return pl.DataFrame(schema={"report": pl.UInt32, **dict.fromkeys(ids, pl.Float64)})
    return pl.concat(parts, how="vertical")


def table_frame(source: pl.DataFrame | dict[Fmt, FmtArrays], fmt: Fmt, table: str) -> pl.DataFrame:
    """Wide frame of one statutory table: one row per report, one Float64 column per cell id."""
    ids = list(tables(fmt)[table].cells())
    if isinstance(source, dict):
        a = source[fmt]
        cols = {c: pl.Series(c, a.values[:, a.column(c)], dtype=pl.Float64, nan_to_null=True) for c in ids}
        return pl.DataFrame({"report": pl.Series(a.report, dtype=pl.UInt32), **cols})
    cell = pl.col("cell").cast(pl.String)
    sub = source.filter((pl.col("fmt") == fmt.value) & cell.str.starts_with(f"{table}:")).with_columns(cell)
    if sub.height == 0:
        return pl.DataFrame(
            {"report": pl.Series([], dtype=pl.UInt32), **{c: pl.Series([], dtype=pl.Float64) for c in ids}}
        )
    wide = sub.pivot(on="cell", index="report", values="value", on_columns=ids)
    return wide.select(pl.col("report").cast(pl.UInt32), *[pl.col(c).cast(pl.Float64) for c in ids]).sort("report")


_ELEMENTS = pl.Series([*ELEMENTS, "?"], dtype=pl.String)


def element_kind(element: str) -> str:
    """section | table | row | column of a structural element id (``sec:三``, ``3:*:*``, ``3:3.1:*``, ``3:*:total``)."""
    if element.startswith("sec:"):
        return "section"
    _t, row, col = element.split(":")
    if row == "*" and col == "*":
        return "table"
    return "row" if col == "*" else "column"


_ELEMENT_KINDS = pl.Series([*(element_kind(e) for e in ELEMENTS), "?"], dtype=pl.String)


# the columns layout_frame adds with ``words``: the words of a fact with words of its own
LAYOUT_WORDS = {"fmt": pl.String, "statutory": pl.String, "previous": pl.String, "line": pl.UInt32}


def layout_frame(reports: Sequence[ParsedReport], suspects: bool = False, words: bool = False) -> pl.DataFrame:
    """One row per layout fact (and per row issue) of every readable report.

    ``pos`` is the fact's position in ``report.layout`` (row issues follow the facts), so a failing
    row leads back to the fact with its statutory label, printed alias and source line.
    ``suspects``: only the rows that may break a rule of :data:`schemas.layout.LAYOUT_RULES` — a
    fact not found, out of order or with words of its own (printed alias, last year's words, an
    element outside the statute), and every row issue; a fact found, in order and printed as the
    statute words it is readable, no duplicate and no issue, and passes every rule (at 100,000
    reports: ~200,000 rows instead of 4 million).
    ``words``: the columns of :data:`LAYOUT_WORDS` after the schema's — for a fact with words of
    its own, its report's format (null: none), statutory label, last year's words and source line
    (null: none); all four null on every other row (``statutory`` null: not given) — so that the
    layout family words the failing rows of such facts (every report's I06) without a report's
    Python objects each.
    """
    # the readable reports' layouts, codes, flags and sparse parts gathered by comprehensions (no
    # Python statement per report); then the reports with facts: index, count of facts, buffers
    live = [i for i, rep in enumerate(reports) if rep.status == "validated"]
    lays = [reports[i].layout for i in live]
    all_codes, all_flags, all_kinds, all_sparse, all_lines, all_statutory = LayoutList.columns(lays)
    n_of = list(map(len, all_flags))
    with_facts = [k for k, n in enumerate(n_of) if n]
    rid = [live[k] for k in with_facts]
    counts = [n_of[k] for k in with_facts]
    codes = [all_codes[k] for k in with_facts]
    flags = [all_flags[k] for k in with_facts]
    # the facts with words of their own: (place among the live reports, position, (printed, previous, element))
    sparse = [(k, pos, v) for k, sp in enumerate(all_sparse) if sp for pos, v in sp.items()]
    n_arr = np.array(n_of, dtype=np.int64)
    first = np.cumsum(n_arr) - n_arr  # each live report's first row
    sparse_pos: list[int] = []
    if sparse:
        sparse_pos = (first[[k for k, _p, _v in sparse]] + [p for _k, p, _v in sparse]).tolist()
    sparse_printed = [v[0] for _k, _p, v in sparse]
    sparse_element = [v[2] or "" for _k, _p, v in sparse]
    sparse_kind = [all_kinds[k][p] for k, p, _v in sparse]
    sparse_words: list[tuple[str | None, str, str | None, int | None]] = []  # fmt, statutory, previous, line
    if words:
        fmt_value: dict[Fmt | None, str | None] = {None: None, **{f: f.value for f in Fmt}}  # (not the enum's property)
        sparse_words = [
            (fmt_value[reports[live[k]].fmt], all_statutory[k][p], v[1], all_lines[k][p] or None) for k, p, v in sparse
        ]
    issue_rows: list[tuple[int, int, str, bool, bool, str]] = [  # report, pos, element, readable, dup, code
        (live[k], n_of[k] + j, ri.element, ri.code != "I07", ri.code == "I08", ri.code)
        for k, i in enumerate(live)
        if (ris := reports[i].row_issues)
        for j, ri in enumerate(ris)
    ]
    if rid:
        code16 = np.frombuffer(joined(codes, 2)[0], dtype=np.uint16)
        flag_arr = np.frombuffer(joined(flags, 1)[0], dtype=np.uint8)
        n_facts = np.array(counts, dtype=np.int64)
        if suspects:  # the facts not found or out of order, and those with words of their own
            keep = (flag_arr & 3) != 3
            keep[sparse_pos] = True
            kept = np.flatnonzero(keep)
            ends = np.cumsum(n_facts)
            of = np.searchsorted(ends, kept, side="right")  # each kept fact's report (its place in rid)
            rep_arr = np.array(rid, dtype=np.uint32)[of]
            pos_arr = (kept - (ends - n_facts)[of]).astype(np.uint32)
            code16, flag_arr = code16[kept], flag_arr[kept]
            sparse_pos = np.searchsorted(kept, sparse_pos).tolist()  # (every one kept)
        else:
            rep_arr = np.repeat(np.array(rid, dtype=np.uint32), n_facts)
            starts = np.repeat(np.cumsum(n_facts) - n_facts, n_facts)  # each fact's report's first row
            pos_arr = (np.arange(len(flag_arr), dtype=np.int64) - starts).astype(np.uint32)
        code_arr = code16.astype(np.uint32)
        code_arr[code_arr == 0xFFFF] = len(ELEMENTS)
        element = _ELEMENTS.gather(pl.Series(code_arr))
        kind = _ELEMENT_KINDS.gather(pl.Series(code_arr))  # each statutory element has one kind
        total = len(flag_arr)
        printed = pl.Series("printed", [None], dtype=pl.String).gather(np.zeros(total, dtype=np.uint32))
        if sparse_pos:
            idx = pl.Series(sparse_pos, dtype=pl.UInt32)
            printed = printed.scatter(idx, pl.Series(sparse_printed, dtype=pl.String))
            named = [(p, e, k) for p, e, k in zip(sparse_pos, sparse_element, sparse_kind, strict=True) if e]
            if named:
                at = pl.Series([p for p, _, _ in named], dtype=pl.UInt32)
                element = element.scatter(at, pl.Series([e for _, e, _ in named]))
                kind = kind.scatter(at, pl.Series([k for _, _, k in named]))
        facts = pl.DataFrame(
            {
                "report": rep_arr,
                "pos": pos_arr,
                "element": element,
                "kind": kind,
                "found": pl.Series((flag_arr & 1).astype(bool)),
                "printed": printed,
                "in_order": pl.Series((flag_arr & 2).astype(bool)),
                "readable": pl.Series(np.ones(total, dtype=bool)),
                "duplicate": pl.Series(np.zeros(total, dtype=bool)),
                "issue": pl.Series("issue", [None], dtype=pl.String).gather(np.zeros(total, dtype=np.uint32)),
            }
        )
        if words:  # null but at the facts with words of their own
            cols = [
                pl.Series(n, [None], dtype=d).gather(np.zeros(total, dtype=np.uint32)) for n, d in LAYOUT_WORDS.items()
            ]
            if sparse_pos:
                at = pl.Series(sparse_pos, dtype=pl.UInt32)
                given = zip(*sparse_words, strict=True)
                cols = [c.scatter(at, pl.Series(v, dtype=c.dtype)) for c, v in zip(cols, given, strict=True)]
            facts = facts.with_columns(cols)
    else:
        facts = None
    schema = {
        "report": pl.UInt32,
        "pos": pl.UInt32,
        "element": pl.String,
        "kind": pl.String,
        "found": pl.Boolean,
        "printed": pl.String,
        "in_order": pl.Boolean,
        "readable": pl.Boolean,
        "duplicate": pl.Boolean,
        "issue": pl.String,  # the code of a row issue (I07 … I10); null for layout facts
    }
    issues = pl.DataFrame(
        {
            "report": [r[0] for r in issue_rows],
            "pos": [r[1] for r in issue_rows],
            "element": [r[2] for r in issue_rows],
            "kind": ["table" if r[2].endswith(":*:*") else "row" for r in issue_rows],
            "found": [True] * len(issue_rows),
            "printed": [None] * len(issue_rows),
            "in_order": [True] * len(issue_rows),
            "readable": [r[3] for r in issue_rows],
            "duplicate": [r[4] for r in issue_rows],
            "issue": [r[5] for r in issue_rows],
        },
        schema=schema,
    )
    if words:
        schema |= LAYOUT_WORDS
        issues = issues.with_columns(pl.lit(None, dtype=d).alias(n) for n, d in LAYOUT_WORDS.items())
    if facts is None:
        return issues
    return pl.concat([facts.cast(schema), issues], how="vertical")  # type: ignore[arg-type]


def suspect_layout_frame(reports: Sequence[ParsedReport]) -> pl.DataFrame:
    """``layout_frame(reports, suspects=True, words=True)``: the layout family's frame (a part the
    parse workers compute ahead: :mod:`nianbao.rules.ahead`)."""
    return layout_frame(reports, suspects=True, words=True)


# the order of layout_frame's rows: the facts, then the row issues, each by report (a report's
# facts, and its issues, come from one piece in their order)
_LAYOUT_ORDER: list[pl.Expr | str] = [pl.col("issue").is_not_null(), "report"]


def layout_suspects(reg: Registered) -> pl.DataFrame:
    """:func:`suspect_layout_frame` of the batch, from the frames the parse workers made ahead of
    the chunks they read, the reports without one read here."""
    return frame_parts(reg, "layout", suspect_layout_frame, _LAYOUT_ORDER)


def meta_frame(reports: Sequence[ParsedReport]) -> pl.DataFrame:
    """One row per readable report: agency, year, title, format, statistical period, invalid bytes."""
    idx = [i for i, r in enumerate(reports) if r.readable]
    rs = [reports[i] for i in idx]
    fmt_value: dict[Fmt | None, str | None] = {None: None, **{f: f.value for f in Fmt}}  # (not the enum's property)
    # agency_source: None when read from the title, "file" / "registry" (P04); bad_bytes: invalid
    # bytes / control characters met while decoding (U09)
    columns: dict[str, tuple[pl.DataType, list[object]]] = {
        "report": (pl.UInt32(), list(idx)),
        "agency": (pl.String(), [r.agency for r in rs]),
        "agency_source": (pl.String(), [r.agency_source for r in rs]),
        "year": (pl.Int32(), [r.year for r in rs]),
        "title": (pl.String(), [r.title for r in rs]),
        "title_line": (pl.UInt32(), [r.title_line for r in rs]),
        "fmt": (pl.String(), [fmt_value[r.fmt] for r in rs]),
        "fmt_evidence": (pl.String(), [_evidence(m) if m else None for m in (r.fmt_evidence_2019 for r in rs)]),
        "period_text": (pl.String(), [r.period_text for r in rs]),
        "period_start_year": (pl.Int32(), [r.period_start_year for r in rs]),
        "period_end_year": (pl.Int32(), [r.period_end_year for r in rs]),
        "period_full_year": (pl.Boolean(), [r.period_full_year for r in rs]),
        "period_line": (pl.UInt32(), [r.period_line for r in rs]),
        "bad_bytes": (pl.UInt32(), [r.bad_bytes for r in rs]),
    }
    return pl.DataFrame([pl.Series(name, values, dtype=dtype) for name, (dtype, values) in columns.items()])


def _evidence(marks: list[str]) -> str | None:
    """The 2019 format's marks found in a report, each once, joined (None: none)."""
    return "；".join(dict.fromkeys(marks)) or None if marks else None
