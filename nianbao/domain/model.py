"""Canonical data of one parsed report: metadata, cells keyed by cell id, layout facts."""

from __future__ import annotations

import codecs
import math
from array import array
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt, all_cells


@dataclass(frozen=True, slots=True)
class Cell:
    """One printed number, keyed by its canonical id."""

    value: float | None
    raw: str
    state: State
    line: int | None = None  # 1-based line in the source text (or row in a sheet)
    col: int | None = None  # 1-based cell position within that line
    where: str | None = None  # a richer location for non-text sources ("表格2 第3行第4格", "第2页")


# Every canonical cell id of both formats, with a fixed position: a report's cells are stored as
# arrays over these positions (compact to hold and cheap to pickle across processes).
ALL_IDS: tuple[str, ...] = tuple(dict.fromkeys(all_cells(Fmt.F2021) + all_cells(Fmt.F2019)))
INDEX: dict[str, int] = {c: i for i, c in enumerate(ALL_IDS)}
STATES: tuple[State, ...] = tuple(State)
STATE_CODE: dict[State, int] = {st: i for i, st in enumerate(STATES)}
_ABSENT = 255
_N = len(ALL_IDS)
_NAN_ROW = array("d", [math.nan]) * _N
_ZERO_I = array("I", [0]) * _N
_PLAIN_EMPTY = frozenset({STATE_CODE[State.BLANK], STATE_CODE[State.MISSING], _ABSENT})
_NUMBER_CODES = frozenset({STATE_CODE[State.VALUE], STATE_CODE[State.ZERO]})


@lru_cache(maxsize=1 << 14)
def number_text(v: float) -> str:
    """How a number is printed when nothing else is known (``12.0`` → ``12``)."""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def plain_raw(code: int, v: float) -> str | None:
    """The printed text a cell of this state and value has in the common case (None: no such case)."""
    if code in _PLAIN_EMPTY:
        return ""
    if code in _NUMBER_CODES and not math.isnan(v):
        return number_text(v)
    return None


class RawView:
    """The printed texts of a :class:`CellMap` by position (``raws[i]``), without a list per report."""

    __slots__ = ("_m",)

    def __init__(self, m: CellMap) -> None:
        self._m = m

    def __getitem__(self, i: int) -> str:
        return self._m.raw_at(i)

    def __len__(self) -> int:
        return _N


_ZERO_H = array("H", [0]) * _N


class CellMap(MutableMapping[str, Cell]):
    """The cells of one report, ``cell id -> Cell``, stored column-wise in arrays.

    Behaves like a dict of :class:`Cell`; a Cell read from it is a value (frozen): to change a cell,
    assign a new Cell.  Unknown ids (not in either format) are kept in a side dict.  A printed text
    is kept only when it is not the plain one (``"12"`` for 12, ``""`` for a blank): most are.
    """

    __slots__ = ("_cols", "_extra", "_lines", "_raw", "_states", "_values", "_where")

    def __init__(self) -> None:
        self._values = array("d", _NAN_ROW)
        self._states = bytearray([_ABSENT]) * _N
        self._lines = array("I", _ZERO_I)
        self._cols = array("H", _ZERO_H)
        self._raw: dict[int, str] | None = None  # position -> printed text, only where not plain
        self._where: dict[int, str] | None = None
        self._extra: dict[str, Cell] | None = None

    def __getitem__(self, cid: str) -> Cell:
        i = INDEX.get(cid)
        if i is None:
            if self._extra is None:
                raise KeyError(cid)
            return self._extra[cid]
        code = self._states[i]
        if code == _ABSENT:
            raise KeyError(cid)
        v = self._values[i]
        line = self._lines[i]
        col = self._cols[i]
        return Cell(
            None if math.isnan(v) else v,
            self.raw_at(i),
            STATES[code],
            line or None,
            col or None,
            self._where.get(i) if self._where else None,
        )

    def __setitem__(self, cid: str, cell: Cell) -> None:
        i = INDEX.get(cid)
        if i is None:
            if self._extra is None:
                self._extra = {}
            self._extra[cid] = cell
            return
        self._values[i] = math.nan if cell.value is None else cell.value
        self._states[i] = STATE_CODE[cell.state]
        self._lines[i] = min(cell.line or 0, 0xFFFFFFFF)
        self._cols[i] = min(cell.col or 0, 0xFFFF)
        self._set_raw(i, cell.raw)
        self._set_where(i, cell.where)

    def put(
        self,
        cid: str,
        value: float | None,
        raw: str,
        state: State,
        line: int | None = None,
        col: int | None = None,
        where: str | None = None,
    ) -> None:
        """``self[cid] = Cell(value, raw, state, line, col, where)``, without building the Cell (hot path)."""
        i = INDEX.get(cid)
        if i is None:
            self[cid] = Cell(value, raw, state, line, col, where)
            return
        self._values[i] = math.nan if value is None else value
        self._states[i] = STATE_CODE[state]
        self._lines[i] = min(line or 0, 0xFFFFFFFF)
        self._cols[i] = min(col or 0, 0xFFFF)
        self._set_raw(i, raw)
        self._set_where(i, where)

    def put_row(
        self, positions: Sequence[int], reads: Sequence[tuple[float, int, str | None]], src: Sequence[Any]
    ) -> None:
        """Many cells at once (the parser's hot path): at each position, ``(value or NaN, state code,
        printed text or None when plain)`` read from a source value with ``line``/``pos``/``where``."""
        vals, sts, lns, cls = self._values, self._states, self._lines, self._cols
        for i, (v, code, raw), s in zip(positions, reads, src, strict=True):
            vals[i] = v
            sts[i] = code
            lns[i] = min(s.line or 0, 0xFFFFFFFF)
            cls[i] = min(s.pos or 0, 0xFFFF)
            if raw is not None:
                if self._raw is None:
                    self._raw = {}
                self._raw[i] = raw
            elif self._raw:
                self._raw.pop(i, None)
            if s.where is not None or self._where:
                self._set_where(i, s.where)

    def _set_where(self, i: int, where: str | None) -> None:
        if where is not None:
            if self._where is None:
                self._where = {}
            self._where[i] = where
        elif self._where:
            self._where.pop(i, None)

    def _set_raw(self, i: int, raw: str) -> None:
        if raw == plain_raw(self._states[i], self._values[i]):
            if self._raw:
                self._raw.pop(i, None)
            return
        if self._raw is None:
            self._raw = {}
        self._raw[i] = raw

    def raw_at(self, i: int) -> str:
        """The printed text of the cell at position ``i``."""
        if self._raw:
            got = self._raw.get(i)
            if got is not None:
                return got
        return plain_raw(self._states[i], self._values[i]) or ""

    def __delitem__(self, cid: str) -> None:
        i = INDEX.get(cid)
        if i is None:
            if self._extra is None:
                raise KeyError(cid)
            del self._extra[cid]
            return
        if self._states[i] == _ABSENT:
            raise KeyError(cid)
        self._states[i] = _ABSENT
        if self._raw:
            self._raw.pop(i, None)
        if self._where:
            self._where.pop(i, None)

    def __iter__(self) -> Iterator[str]:
        st = self._states
        for i, cid in enumerate(ALL_IDS):
            if st[i] != _ABSENT:
                yield cid
        if self._extra:
            yield from self._extra

    def __len__(self) -> int:
        return _N - self._states.count(_ABSENT) + (len(self._extra) if self._extra else 0)

    def __contains__(self, cid: object) -> bool:
        i = INDEX.get(cid) if isinstance(cid, str) else None
        if i is None:
            return bool(self._extra) and cid in self._extra  # type: ignore[operator]
        return self._states[i] != _ABSENT

    def __repr__(self) -> str:
        return f"CellMap({len(self)} cells)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MutableMapping):
            return NotImplemented
        return dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    # --- fast columnar access for the batch frames
    def arrays(self) -> tuple[array[float], bytearray, array[int], array[int], RawView]:
        """(values with NaN for None, state codes, lines (0 = none), positions (0 = none), raw texts)."""
        return self._values, self._states, self._lines, self._cols, RawView(self)

    @staticmethod
    def columns(maps: Sequence[CellMap]) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """The value, state, line and position arrays of each of ``maps`` (as :meth:`arrays` gives
        them), four lists: a batch's cells gathered without a call per report."""
        return (
            [m._values for m in maps],
            [m._states for m in maps],
            [m._lines for m in maps],
            [m._cols for m in maps],
        )

    def sparse(self) -> tuple[dict[int, str] | None, dict[int, str] | None, dict[str, Cell] | None]:
        """(printed texts that are not plain, source locations, cells of unknown ids) by position."""
        return self._raw, self._where, self._extra

    def where_at(self, i: int) -> str | None:
        return self._where.get(i) if self._where else None

    def __getstate__(self) -> dict[str, Any]:
        return {
            "v": self._values.tobytes(),
            "s": bytes(self._states),
            "l": self._lines.tobytes(),
            "c": self._cols.tobytes(),
            "r": self._raw,
            "w": self._where,
            "x": self._extra,
        }

    def __setstate__(self, st: dict[str, Any]) -> None:
        self._load(st["v"], st["s"], st["l"], st["c"], st["r"], st["w"], st["x"])

    def _load(
        self,
        values: Any,
        states: Any,
        lines: Any,
        cols: Any,
        raw: dict[int, str] | None,
        where: dict[int, str] | None,
        extra: dict[str, Cell] | None,
        copy: bool = True,
    ) -> None:
        """Its arrays from their bytes (any buffer; copied) and its sparse parts (kept); ``copy``
        False: the arrays given are its own (``array`` d, ``bytearray``, ``array`` I, ``array`` H)."""
        if copy:
            values, states, lines, cols = _array("d", values), bytearray(states), _array("I", lines), _array("H", cols)
        self._values = values
        self._states = states
        self._lines = lines
        self._cols = cols
        self._raw = raw
        self._where = where
        self._extra = extra


def cellmap_of(
    values: Any,
    states: Any,
    lines: Any,
    cols: Any,
    raw: dict[int, str] | None,
    where: dict[int, str] | None,
    extra: dict[str, Cell] | None,
    copy: bool = True,
) -> CellMap:
    """A CellMap from its arrays' bytes (any buffer; copied) and sparse parts (kept), as
    :meth:`CellMap.__setstate__` without its dict: how a parse worker's chunk is rebuilt
    (``copy`` False: the arrays are given as its own, see :meth:`CellMap._load`)."""
    cm = _new(CellMap)
    cm._load(values, states, lines, cols, raw, where, extra, copy)
    return cm


_new = object.__new__


def _array(typecode: str, buf: Any) -> array[Any]:
    """An array of ``typecode`` holding a copy of ``buf``'s bytes."""
    a = array(typecode)
    a.frombytes(buf)
    return a


@dataclass(slots=True)
class LayoutFact:
    """A structural element of the statutory format, and what the report has of it.

    ``element`` is a cell id with ``*`` (``3:3.3.7:*``, ``4:*:*``) or ``sec:三`` for sections.
    ``kind`` is section|table|row|column.  ``found`` False means it is missing.
    ``printed`` is the label as printed when it differs from the statutory one (an alias).
    """

    element: str
    kind: str
    found: bool
    statutory: str
    printed: str | None = None
    line: int | None = None
    in_order: bool = True
    previous: str | None = None  # for sections out of order: the section that came before


def _elements() -> tuple[str, ...]:
    from nianbao.domain.spec import SECTIONS, tables

    out: list[str] = [f"sec:{s.number}" for s in SECTIONS]
    for fmt in Fmt:
        for t in tables(fmt).values():
            out.append(f"{t.id}:*:*")
            out += [f"{t.id}:{r.id}:*" for r in t.rows]
            out += [f"{t.id}:*:{c.id}" for c in t.columns]
            out += [f"{t.id}:{r.id}:{c}" for r in t.rows for c in t.row_columns.get(r.id, ())]
    return tuple(dict.fromkeys(out))


# Every structural element of both formats, with a fixed code (a report's layout is stored by code).
ELEMENTS: tuple[str, ...] = _elements()
ELEMENT_CODE: dict[str, int] = {e: i for i, e in enumerate(ELEMENTS)}
_F_FOUND, _F_ORDER = 1, 2


class LayoutList:
    """The layout facts of one report, stored column-wise; iterates as :class:`LayoutFact` objects.

    Its kinds, statutory labels and sparse part may be shared with other reports' (``_shared``: the
    same lists for most reports of a parse chunk, :func:`layout_of`): copied before it first changes."""

    __slots__ = ("_codes", "_flags", "_kinds", "_lines", "_shared", "_sparse", "_statutory")

    def __init__(self) -> None:
        self._codes = array("H")
        self._flags = bytearray()
        self._lines = array("I")
        self._kinds: list[str] = []
        self._statutory: list[str] = []
        self._sparse: dict[int, tuple[str | None, str | None, str | None]] = {}  # pos -> printed, previous, element
        self._shared = False

    def append(self, f: LayoutFact) -> None:
        if self._shared:  # its own lists from now on
            self._kinds, self._statutory, self._sparse = list(self._kinds), list(self._statutory), dict(self._sparse)
            self._shared = False
        pos = len(self._flags)
        code = ELEMENT_CODE.get(f.element)
        self._codes.append(code if code is not None else 0xFFFF)
        self._flags.append((_F_FOUND if f.found else 0) | (_F_ORDER if f.in_order else 0))
        self._lines.append(min(f.line or 0, 0xFFFFFFFF))
        self._kinds.append(f.kind)
        self._statutory.append(f.statutory)
        if f.printed is not None or f.previous is not None or code is None:
            self._sparse[pos] = (f.printed, f.previous, f.element if code is None else None)

    def extend(self, facts: Iterable[LayoutFact]) -> None:
        for f in facts:
            self.append(f)

    def __len__(self) -> int:
        return len(self._flags)

    def __getitem__(self, pos: int) -> LayoutFact:
        if pos < 0:
            pos += len(self)
        printed, previous, element = self._sparse.get(pos, (None, None, None))
        code = self._codes[pos]
        flags = self._flags[pos]
        return LayoutFact(
            element if element is not None else ELEMENTS[code],
            self._kinds[pos],
            bool(flags & _F_FOUND),
            self._statutory[pos],
            printed=printed,
            line=self._lines[pos] or None,
            in_order=bool(flags & _F_ORDER),
            previous=previous,
        )

    def __iter__(self) -> Iterator[LayoutFact]:
        for pos in range(len(self)):
            yield self[pos]

    def __repr__(self) -> str:
        return f"LayoutList({len(self)} facts)"

    def arrays(
        self,
    ) -> tuple[array[int], bytearray, list[str], dict[int, tuple[str | None, str | None, str | None]]]:
        """(element codes, flags, kinds, sparse printed/previous/element by position)."""
        return self._codes, self._flags, self._kinds, self._sparse

    def lines(self) -> array[int]:
        """Source line of each fact (0 = none)."""
        return self._lines

    @staticmethod
    def columns(lays: Sequence[LayoutList]) -> tuple[list[Any], ...]:
        """The element codes, flags, kinds, sparse parts (as :meth:`arrays` gives them), lines and
        statutory labels of each of ``lays``, six lists: a batch's layouts gathered without a call
        per report."""
        return (
            [x._codes for x in lays],
            [x._flags for x in lays],
            [x._kinds for x in lays],
            [x._sparse for x in lays],
            [x._lines for x in lays],
            [x._statutory for x in lays],
        )

    def statutory(self) -> list[str]:
        """Statutory label of each fact."""
        return self._statutory

    def __getstate__(self) -> dict[str, Any]:
        return {
            "c": self._codes.tobytes(),
            "f": bytes(self._flags),
            "l": self._lines.tobytes(),
            "k": self._kinds,
            "s": self._statutory,
            "x": self._sparse,
        }

    def __setstate__(self, st: dict[str, Any]) -> None:
        # (its lists may be another report's: one pickle of both, its memo)
        self._load(st["c"], st["f"], st["l"], st["k"], st["s"], st["x"], shared=True)

    def _load(
        self,
        codes: Any,
        flags: Any,
        lines: Any,
        kinds: list[str],
        statutory: list[str],
        sparse: dict[int, tuple[str | None, str | None, str | None]],
        shared: bool = False,
        copy: bool = True,
    ) -> None:
        """Its arrays from their bytes (any buffer; copied; ``copy`` False: given as its own) and
        its lists and sparse part (kept; ``shared``: others' too, copied before it first changes)."""
        if copy:
            codes, flags, lines = _array("H", codes), bytearray(flags), _array("I", lines)
        self._codes = codes
        self._flags = flags
        self._lines = lines
        self._kinds = kinds
        self._statutory = statutory
        self._sparse = sparse
        self._shared = shared


def layout_of(
    codes: Any,
    flags: Any,
    lines: Any,
    kinds: list[str],
    statutory: list[str],
    sparse: dict[int, tuple[str | None, str | None, str | None]],
    shared: bool = False,
    copy: bool = True,
) -> LayoutList:
    """A LayoutList from its arrays' bytes (copied; ``copy`` False: given as its own) and lists
    (kept: give it its own, or say they are ``shared`` with other reports), as
    :meth:`LayoutList.__setstate__` without its dict."""
    lay = _new(LayoutList)
    lay._load(codes, flags, lines, kinds, statutory, sparse, shared, copy)
    return lay


SectionLines = list[tuple[int, str]]
# a Sections' text: a str, or still encoded as UTF-16-LE, ``(buffer, start, end)`` (see Sections)
SectionText = str | tuple[bytes, int, int]
_utf16 = codecs.utf_16_le_decode


class Sections(MutableMapping[str, SectionLines]):
    """The prose of a report: section name -> [(line, text), …], in the order the parser found them.

    Held packed — one string of all the texts, and arrays of line numbers and lengths — rather than
    a tuple and a string object per line: a fifth of the memory, no objects for the collector to
    walk, and frames can be built from it without a Python object per line.  Reading a section
    gives a fresh list; assigning one unpacks until :meth:`pack` (the parser packs when it is done).

    The text may be held still encoded, as ``(buffer, start, end)``: UTF-16-LE bytes ``start`` to
    ``end`` of a buffer shared with other reports (a parse chunk's, :func:`sections_of`), decoded
    the first time it is read.  The run's process rebuilds every report of a parse, and most texts
    are only read where the parse workers analysed them (the text rules' findings quote a few).
    """

    __slots__ = ("_counts", "_lens", "_lines", "_names", "_open", "_text")

    def __init__(self, items: Mapping[str, SectionLines] | None = None) -> None:
        self._names: list[str] = []
        self._counts = array("I")
        self._lines = array("I")
        self._lens = array("I")
        self._text: SectionText = ""
        self._open: dict[str, SectionLines] | None = dict(items) if items else None
        self.pack()

    @classmethod
    def from_packed(cls, names: list[str], counts: bytes, lines: bytes, lens: bytes, text: str) -> Sections:
        """The inverse of :meth:`packed` (as the store keeps it)."""
        out = cls()
        out._names = list(names)
        out._counts.frombytes(counts)
        out._lines.frombytes(lines)
        out._lens.frombytes(lens)
        out._text = text
        n_lines = len(out._lines)
        if len(out._counts) != len(out._names) or sum(out._counts) != n_lines or len(out._lens) != n_lines:
            raise ValueError("packed sections do not add up")
        if sum(out._lens) != len(text):
            raise ValueError("packed sections do not add up")
        return out

    def pack(self) -> None:
        if self._open is None:
            return
        names, counts, lines, lens, texts = [], array("I"), array("I"), array("I"), []
        for name, items in self._open.items():
            names.append(name)
            counts.append(len(items))
            for no, t in items:
                lines.append(no)
                lens.append(len(t))
                texts.append(t)
        self._names, self._counts, self._lines, self._lens = names, counts, lines, lens
        self._text = "".join(texts)
        self._open = None

    def _str(self) -> str:
        """The text, decoded now if it was held encoded."""
        t = self._text
        if isinstance(t, str):
            return t
        buf, start, end = t
        text: str = _utf16(memoryview(buf)[start:end])[0]
        self._text = text
        return text

    def _unpack(self) -> dict[str, SectionLines]:
        if self._open is None:
            self._open = {name: self[name] for name in self._names}
        return self._open

    def packed(self) -> tuple[list[str], array[int], array[int], array[int], str]:
        """(names, lines per section, line numbers, text lengths, all texts joined)."""
        self.pack()
        return self._names, self._counts, self._lines, self._lens, self._str()

    def joined(self) -> str:
        """Every text of every section, in order, joined without separator."""
        self.pack()
        return self._str()

    def __getitem__(self, name: str) -> SectionLines:
        if self._open is not None:
            return self._open[name]
        k = self._names.index(name) if name in self._names else -1
        if k < 0:
            raise KeyError(name)
        first = sum(self._counts[:k])
        last = first + self._counts[k]
        pos = sum(self._lens[:first])
        out: SectionLines = []
        text = self._str()
        for j in range(first, last):
            n = self._lens[j]
            out.append((self._lines[j], text[pos : pos + n]))
            pos += n
        return out

    def __setitem__(self, name: str, items: SectionLines) -> None:
        self._unpack()[name] = list(items)

    def __delitem__(self, name: str) -> None:
        del self._unpack()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._open) if self._open is not None else list(self._names))

    def __len__(self) -> int:
        return len(self._open) if self._open is not None else len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in (self._open if self._open is not None else self._names)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Sections({list(self)})"

    def __getstate__(self) -> dict[str, Any]:
        self.pack()
        return {
            "n": self._names,
            "k": self._counts.tobytes(),
            "l": self._lines.tobytes(),
            "z": self._lens.tobytes(),
            "t": self._str(),
        }

    def __setstate__(self, st: dict[str, Any]) -> None:
        self._load(st["n"], st["k"], st["l"], st["z"], st["t"])

    def _load(self, names: list[str], counts: Any, lines: Any, lens: Any, text: SectionText, copy: bool = True) -> None:
        """Its packed parts: the arrays from their bytes (copied; ``copy`` False: given as its own
        ``array`` I), the names and text (a str, or encoded: see the class) kept."""
        self._names = names
        if copy:
            counts, lines, lens = _array("I", counts), _array("I", lines), _array("I", lens)
        self._counts = counts
        self._lines = lines
        self._lens = lens
        self._text = text
        self._open = None


def sections_of(names: list[str], counts: Any, lines: Any, lens: Any, text: SectionText, copy: bool = True) -> Sections:
    """Sections from their packed parts (arrays' bytes copied, unless ``copy`` is False: given as
    its own; the rest kept; ``text`` a str or, still encoded, ``(UTF-16-LE buffer, start, end)``),
    as :meth:`Sections.__setstate__` without its dict (nothing checked: see :meth:`Sections.from_packed`)."""
    sec = _new(Sections)
    sec._load(names, counts, lines, lens, text, copy)
    return sec


@dataclass(slots=True)
class RowIssue:
    """A table row the parser found but could not read by columns, or that was printed twice."""

    code: str  # I07 (row not readable), I08 (row twice), I09 (table not readable), I10 (digits split)
    element: str  # "3:3.3.4:*"
    raw: str
    line: int | None
    detail: str | None = None  # I10: the split read from the run-together digits ("64|0|0|2|0|4|70")


@dataclass(slots=True)
class ParsedReport:
    file: str
    sha256: str
    size: int
    status: str = "validated"  # validated | unreadable
    reason: str | None = None  # Chinese, when unreadable
    reason_code: str | None = None  # the catalogue's U-rule of an unreadable file (U01 …)
    encoding: str | None = None
    source_type: str = "text"
    agency: str | None = None
    # where the agency was read: None from the title; "file" the file name; "registry" the registry
    # entry the file name names (P04 says so)
    agency_source: str | None = None
    year: int | None = None
    title: str | None = None
    title_line: int | None = None
    period_text: str | None = None
    period_start_year: int | None = None
    period_end_year: int | None = None
    period_full_year: bool | None = None
    period_line: int | None = None
    fmt: Fmt | None = None
    fmt_evidence_2019: list[str] = field(default_factory=list)
    # invalid bytes replaced / control characters removed while decoding (U09), and where
    bad_bytes: int = 0
    bad_bytes_detail: str | None = None
    # the file's modification time (ns) as it was before it was read, when settled (nianbao.io.files.settled_mtime):
    # a later run that finds the same size and time reuses the stored report without hashing the file
    mtime_ns: int | None = None
    cells: CellMap = field(default_factory=CellMap)
    layout: LayoutList = field(default_factory=LayoutList)
    row_issues: list[RowIssue] = field(default_factory=list)
    # Text of the report, kept as (line, text) pairs per section for the text-vs-table rules.
    sections: Sections = field(default_factory=Sections)

    def __post_init__(self) -> None:
        # accept plain dicts/lists (e.g. when rebuilding a report from storage)
        if not isinstance(self.cells, CellMap):
            cm = CellMap()
            for cid, c in dict(self.cells).items():
                cm[cid] = c
            self.cells = cm
        if not isinstance(self.sections, Sections):
            self.sections = Sections(self.sections)
        if not isinstance(self.layout, LayoutList):
            ll = LayoutList()
            ll.extend(self.layout)
            self.layout = ll

    @property
    def readable(self) -> bool:
        return self.status == "validated"


def unreadable(file: str, sha256: str, size: int, reason: str, source_type: str = "text") -> ParsedReport:
    return ParsedReport(
        file=file, sha256=sha256, size=size, status="unreadable", reason=reason, source_type=source_type
    )
