"""The report's cells of tables 二, 三 and 四 from the rows the parser read: canonical cell ids,
parsed values and states, the layout facts of missing tables, rows and columns."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

from nianbao.domain.model import INDEX, LayoutFact, ParsedReport, RowIssue
from nianbao.domain.normalize import State, nfkc, norm_label, parse_number
from nianbao.domain.spec import Fmt, Kind, Table, cell_kind, tables
from nianbao.read import fast, grid
from nianbao.read.labels import find_column, record_near_header
from nianbao.read.values import RowRead, Value


@lru_cache(maxsize=1 << 15)
def _read_cell(raw: str, kind: Kind) -> tuple[float | None, State, str]:
    value, state = parse_number(raw, kind)
    return value, state, raw.strip()


def _cell(rep: ParsedReport, fmt: Fmt, cid: str, v: Value | None, recovered: bool = False) -> None:
    if v is None:
        rep.cells.put(cid, None, "", State.MISSING)
        return
    value, state, raw = _read_cell(v.raw, cell_kind(fmt, cid))
    if recovered and state in (State.VALUE, State.ZERO):
        state = State.RECOVERED
    rep.cells.put(cid, value, raw, state, v.line, v.pos, v.where)


_RowSlots = tuple[tuple[tuple[str, Kind], ...], tuple[Kind, ...], tuple[int, ...] | None]


def _row_slots(fmt: Fmt, table: str, row: str, cols: tuple[str, ...]) -> _RowSlots:
    """(cell id, kind) of each column of one row, their kinds and their array positions (None if one
    is not a canonical id): built once per process, not per report (:func:`_table_slots`)."""
    slots = tuple((cid, cell_kind(fmt, cid)) for cid in (f"{table}:{row}:{c}" for c in cols))
    pos = tuple(INDEX.get(cid, -1) for cid, _k in slots)
    return slots, tuple(k for _c, k in slots), None if -1 in pos else pos


def _slots_of(fmt: Fmt, table: Table) -> dict[str, _RowSlots]:
    cols = tuple(c.id for c in table.columns)
    return {r.id: _row_slots(fmt, table.id, r.id, cols) for r in table.rows}


@cache
def _statutory_slots(fmt: Fmt, table_id: str) -> dict[str, _RowSlots]:
    return _slots_of(fmt, tables(fmt)[table_id])


def _table_slots(fmt: Fmt, table: Table) -> dict[str, _RowSlots]:
    """:func:`_row_slots` of every row of a table, by row id: once per process for the statutory
    tables (a row's were two cached calls a report, hashing its ids and kinds)."""
    if tables(fmt).get(table.id) is table:
        return _statutory_slots(fmt, table.id)
    return _slots_of(fmt, table)


@lru_cache(maxsize=1 << 14)  # rows print the same texts again and again (a row of 0s): read once
def _row_reads(kinds: tuple[Kind, ...], raws: tuple[str, ...]) -> tuple[tuple[float, int, str | None], ...]:
    """fast.read_code of each printed text of a row with its cell's kind."""
    read = fast.read_code
    return tuple([read(raw, kind) for raw, kind in zip(raws, kinds, strict=True)])


def _put_row(rep: ParsedReport, row: _RowSlots, values: Sequence[Value], recovered: bool) -> None:
    slots, kinds, positions = row
    if positions is not None and not recovered:
        rep.cells.put_row(positions, _row_reads(kinds, tuple([v.raw for v in values])), values)
        return
    assert rep.fmt is not None
    for (cid, _kind), v in zip(slots, values, strict=True):
        _cell(rep, rep.fmt, cid, v, recovered)  # a recovered row: each cell as one printed alone


def _missing_table(rep: ParsedReport, table: Table) -> None:
    rep.layout.append(LayoutFact(f"{table.id}:*:*", "table", False, table.title))
    for cid in table.cells():
        rep.cells.put(cid, None, "", State.MISSING)


def fill_t2(rep: ParsedReport, table: Table, rows: dict[str, tuple[dict[str, Value], int]]) -> None:
    assert rep.fmt is not None
    if not rows:
        _missing_table(rep, table)
        return
    rep.layout.append(LayoutFact("2:*:*", "table", True, table.title))
    for r in table.rows:
        cols = table.row_columns[r.id]
        if r.id not in rows:
            rep.layout.append(LayoutFact(f"2:{r.id}:*", "row", False, r.label))
            for c in cols:
                rep.cells.put(f"2:{r.id}:{c}", None, "", State.MISSING)
            continue
        got, line = rows[r.id]
        rep.layout.append(LayoutFact(f"2:{r.id}:*", "row", True, r.label, line=line))
        if not got:  # not machine-readable (I07 recorded)
            for c in cols:
                rep.cells.put(f"2:{r.id}:{c}", None, "", State.MISSING, line)
            continue
        if "_positional" in got:  # no header row: read the values in the statutory order
            pv = got["_positional"]
            raws = pv.raw.split("\t")
            got = {c: Value(raws[j] if j < len(raws) else "", line, None, pv.where) for j, c in enumerate(cols)}
        for c in cols:
            if c not in got:
                rep.layout.append(LayoutFact(f"2:{r.id}:{c}", "column", False, table.column(c).label, line=line))
                rep.cells.put(f"2:{r.id}:{c}", None, "", State.MISSING, line)
                continue
            _cell(rep, rep.fmt, f"2:{r.id}:{c}", got[c])


_NUMBERED_COLS = frozenset(f"数据{k}" for k in range(1, 7))


def fill_t3(
    rep: ParsedReport,
    table: Table,
    rows: dict[str, RowRead],
    header_cells: list[str],
    header_lines: Sequence[Sequence[str]] = (),
) -> None:
    assert rep.fmt is not None
    if not rows:
        _missing_table(rep, table)
        return
    rep.layout.append(LayoutFact("3:*:*", "table", True, table.title))
    lines = [*header_lines, header_cells]
    # columns printed as 数据1 … 数据6 (a conversion to Markdown): the applicant columns in statutory order
    numbered = {nfkc(t).replace(" ", "") for line in lines for t in line} >= _NUMBERED_COLS
    for col in table.columns:
        got = find_column(header_cells, col.id, (col.label, *col.aliases))
        if got is None and header_lines:  # a label wrapped over header lines (社会 / 公益 / 组织)
            got = next((lab for lab in (col.label, *col.aliases) if grid.assembled(lab, lines)), None)
        if got is None and numbered and col.id != "total":
            got = col.label
        if got is None:
            rep.layout.append(LayoutFact(f"3:*:{col.id}", "column", False, col.label))
        elif got in col.aliases:  # an accepted alias (I06); a near label is I12
            rep.layout.append(LayoutFact(f"3:*:{col.id}", "column", True, col.label, printed=got))
    cols = tuple(c.id for c in table.columns)
    plan = _table_slots(rep.fmt, table)
    merged = rep.fmt is Fmt.F2021 and "3.6" in rows and not any(rid.startswith("3.6.") for rid in rows)
    if merged:
        # （六）其他处理 printed as one row without its sub-rows: the group's printed total, kept in
        # the row of 3.其他 so that the sum rules add exactly the printed total as （六）; one I13
        rows = dict(rows)
        total = rows.pop("3.6")
        rows["3.6.3"] = total
        rep.row_issues.append(RowIssue("I13", "3:3.6.3:*", total.printed, total.line))
    for r in table.rows:
        rr = rows.get(r.id)
        if rr is None and merged and r.id in ("3.6.1", "3.6.2"):
            for c in cols:  # said once by I13, not as two missing rows
                rep.cells.put(f"3:{r.id}:{c}", None, "", State.MISSING)
            continue
        if rr is None:
            rep.layout.append(LayoutFact(f"3:{r.id}:*", "row", False, r.label))
            for c in cols:
                rep.cells.put(f"3:{r.id}:{c}", None, "", State.MISSING)
            continue
        rep.layout.append(LayoutFact(f"3:{r.id}:*", "row", True, r.label, line=rr.line))
        if not rr.values:  # not machine-readable (I07 recorded)
            for c in cols:
                rep.cells.put(f"3:{r.id}:{c}", None, "", State.MISSING, rr.line)
            continue
        _put_row(rep, plan[r.id], rr.values, rr.recovered)
    # rows of the other format's table 三 (e.g. 3.6.x in a 2019 report) are extra rows: note them
    known = {r.id for r in table.rows}
    for rid, rr in rows.items():
        if rid not in known:
            rep.row_issues.append(RowIssue("I08", f"3:{rid}:*", rr.printed, rr.line))


def fill_t4(
    rep: ParsedReport, table: Table, rows: dict[str, RowRead], header: str, header_lines: Sequence[Sequence[str]] = ()
) -> None:
    assert rep.fmt is not None
    if not rows and not any(ri.element == "4:*:*" for ri in rep.row_issues):
        _missing_table(rep, table)
        return
    rep.layout.append(LayoutFact("4:*:*", "table", True, table.title))
    for r in table.rows:
        if (
            norm_label(r.keys[0]) not in header
            and not grid.assembled(r.keys[0], header_lines)
            and not record_near_header(rep, f"4:{r.id}:*", r.keys[0], header)
        ):
            rep.layout.append(LayoutFact(f"4:{r.id}:*", "row", False, r.label))
    for col in table.columns:
        if (
            norm_label(col.label) not in header
            and not grid.assembled(col.label, header_lines)
            and not record_near_header(rep, f"4:*:{col.id}", col.label, header)
        ):
            rep.layout.append(LayoutFact(f"4:*:{col.id}", "column", False, col.label))
    cols = tuple(c.id for c in table.columns)
    plan = _table_slots(rep.fmt, table)
    for r in table.rows:
        rr = rows.get(r.id)
        if rr is None or not rr.values:
            for c in cols:
                rep.cells.put(f"4:{r.id}:{c}", None, "", State.MISSING)
            continue
        _put_row(rep, plan[r.id], rr.values, rr.recovered)
