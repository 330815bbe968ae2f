"""The Parquet store: the canonical data of every parsed submission, partitioned by year.

One row per submission (keyed by its path under the inbox root), holding everything its
:class:`~nianbao.domain.model.ParsedReport` holds — metadata, every cell (value, printed text, state,
line, position, location), the layout facts, the rows that could not be read, and the prose of
each section — so that a report rebuilt from the store is equal to the one the parser gave.

- ``<store>/year=<YYYY>/data.parquet`` (``year=none`` for submissions without a year): the
  report's own year (title), else the year folder it was filed under.
- A row is reused only when the file's SHA-256, the rule-set version and the store format (a
  signature of the report model) are all unchanged; otherwise the file is parsed again.
- Writes are atomic per partition (a temporary file in the same folder, fsync, rename), under a
  lock file, so readers never see a half-written file and concurrent runs do not lose each
  other's rows; a run killed between two partitions leaves both readable (a row found in two
  partitions is resolved by its write time).  A partition that cannot be read is ignored (its
  reports are parsed again) and rewritten on the next save.

The cross-year and text rules read the previous year's reports with :func:`load_year`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import logging
import os
import threading
import time
import types
import typing
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import polars as pl

from nianbao.catalogue import ruleset_version
from nianbao.domain.model import Cell, LayoutFact, ParsedReport, RowIssue
from nianbao.domain.normalize import State
from nianbao.domain.spec import Fmt
from nianbao.io.atomic import write_with

log = logging.getLogger("nianbao.run.store")

STORE_FORMAT = 2
PARTITION_FILE = "data.parquet"
SAVE_CHUNK = 10_000  # reports per frame chunk when saving
NO_YEAR = "none"

# ParsedReport fields with a dedicated encoding; every other field is a scalar (or list[str])
# column found from the type hints, so a field added to the model is stored without code here.
_SPECIAL = {"cells", "layout", "row_issues", "sections"}


def _scalar_dtype(tp: Any) -> pl.DataType | None:
    """polars dtype of a scalar annotation (``str | None``, ``int``, an Enum, ``list[str]``)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        return _scalar_dtype(rest[0]) if len(rest) == 1 else None
    if typing.get_origin(tp) is list and args in ((str,),):
        return pl.List(pl.String)
    if isinstance(tp, type):
        if issubclass(tp, Enum) or tp is str:
            return pl.String()
        if tp is bool:
            return pl.Boolean()
        if tp is int:
            return pl.Int64()
        if tp is float:
            return pl.Float64()
    return None


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _report_scalars() -> dict[str, tuple[pl.DataType, Any]]:
    hints = _hints(ParsedReport)
    out: dict[str, tuple[pl.DataType, Any]] = {}
    for f in dataclasses.fields(ParsedReport):
        if f.name in _SPECIAL:
            continue
        dt = _scalar_dtype(hints[f.name])
        if dt is None:
            raise TypeError(f"store: ParsedReport.{f.name} has a type the store cannot encode; add it to store.py")
        out[f.name] = (dt, hints[f.name])
    return out


_SCALARS = _report_scalars()
_CELL_FIELDS = [f.name for f in dataclasses.fields(Cell)]
_LAYOUT_FIELDS = [f.name for f in dataclasses.fields(LayoutFact)]
_ISSUE_FIELDS = [f.name for f in dataclasses.fields(RowIssue)]

# Cells and layout facts are stored as the report model holds them: fixed-width binary arrays over
# the canonical cell ids / structural elements (their order is part of the model signature), plus
# the few values that are not plain (printed texts that differ from the number, source locations,
# ids outside the formats, aliases).  No Python object per cell is made to write or read a row.
KINDS = ("section", "table", "row", "column")
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}


def _statutory_vocabulary() -> tuple[str, ...]:
    from nianbao.domain.spec import SECTIONS, tables

    words: list[str] = [s.heading for s in SECTIONS]
    for fmt in Fmt:
        for t in tables(fmt).values():
            words.append(t.title)
            words += [r.label for r in t.rows]
            words += [c.label for c in t.columns]
    return tuple(dict.fromkeys(words))


STATUTORY = _statutory_vocabulary()
_STATUTORY_CODE = {w: i for i, w in enumerate(STATUTORY)}
_NONE16 = 0xFFFF


def _schema() -> dict[str, pl.DataType]:
    s: dict[str, pl.DataType] = {
        "rel": pl.String(),
        "sha256": pl.String(),
        "ruleset": pl.String(),
        "model": pl.String(),
        "written_ns": pl.Int64(),
        "county": pl.String(),
        "path_year": pl.Int64(),
    }
    for name, (dt, _tp) in _SCALARS.items():
        s[name] = dt
    s |= {
        "cells_value": pl.Binary(),  # float64 per canonical cell id, NaN = no value
        "cells_state": pl.Binary(),  # uint8 code into State (255 = not in the report)
        "cells_line": pl.Binary(),  # uint32, 0 = unknown
        "cells_col": pl.Binary(),  # uint16, 0 = unknown
        "layout_code": pl.Binary(),  # uint16 element code (0xFFFF: see layout_sparse)
        "layout_flag": pl.Binary(),  # uint8: found | in order
        "layout_line": pl.Binary(),  # uint32
        "layout_kind": pl.Binary(),  # uint8 into KINDS (255: see layout_sparse)
        "layout_statutory": pl.Binary(),  # uint16 into STATUTORY (0xFFFF: see layout_sparse)
        # everything else, as one JSON object (null when empty): printed texts that are not the
        # plain number / blank ("raw": [[pos, text]…]), source locations ("where"), cells of ids
        # outside both formats ("extra"), layout facts with an alias or an element/kind/label
        # outside the format ("layout"), row issues ("issues") and section names ("sections")
        "sparse": pl.String(),
        "section_count": pl.Binary(),  # uint32 lines per section
        "section_line": pl.Binary(),  # uint32 line number of each prose line
        "section_len": pl.Binary(),  # uint32 length (characters) of each prose line
        "section_text": pl.String(),  # every prose line, joined
    }
    return s


SCHEMA = _schema()


def model_signature() -> str:
    """Changes when the report model or this encoding changes: rows of another signature are not reused."""
    from array import array

    from nianbao.domain.model import ALL_IDS, ELEMENTS, STATES

    h = hashlib.sha256(f"store={STORE_FORMAT}".encode())
    for name, dt in SCHEMA.items():
        h.update(f"{name}:{dt}".encode())
    h.update(",".join(_CELL_FIELDS + _LAYOUT_FIELDS + _ISSUE_FIELDS).encode())
    for seq in (ALL_IDS, ELEMENTS, [s.value for s in STATES], KINDS, STATUTORY):
        h.update("\x1f".join(seq).encode() + b"\x1e")
    h.update(bytes(array(t).itemsize for t in "dIH"))
    return h.hexdigest()[:16]


MODEL = model_signature()


def current_model() -> str:
    """The store format plus the loader limits in force: a file that was unreadable under other
    limits (a size or time limit since raised) is parsed again."""
    from nianbao.io.limits import Limits

    lim = hashlib.sha256(repr(Limits.from_env()).encode()).hexdigest()[:8]
    return f"{MODEL}-{lim}"


# ------------------------------------------------------------------ report <-> row


@dataclass(slots=True)
class Entry:
    """A submission to store: its report and where it was filed."""

    rel: str
    report: ParsedReport
    county: str | None = None
    path_year: int | None = None


def _enc(v: Any) -> Any:
    return v.value if isinstance(v, Enum) else v


def entries_frame(entries: Sequence[Entry], written_ns: int | None = None) -> pl.DataFrame:
    """The rows of the given submissions (column-wise, one row per submission)."""
    from array import array

    now = written_ns if written_ns is not None else time.time_ns()
    rv = ruleset_version()
    model = current_model()
    cols: dict[str, list[Any]] = {name: [] for name in SCHEMA}
    kind_memo: dict[tuple[str, ...], bytes] = {}
    stat_memo: dict[tuple[str, ...], bytes] = {}
    for e in entries:
        r = e.report
        cols["rel"].append(e.rel)
        cols["ruleset"].append(rv)
        cols["model"].append(model)
        cols["written_ns"].append(now)
        cols["county"].append(e.county)
        cols["path_year"].append(e.path_year)
        for name in _SCALARS:
            v = getattr(r, name)
            cols[name].append(list(v) if isinstance(v, list) else _enc(v))
        # cells
        v, st, ln, cc, _raws = r.cells.arrays()
        raw, where, extra = r.cells.sparse()
        cols["cells_value"].append(v.tobytes())
        cols["cells_state"].append(bytes(st))
        cols["cells_line"].append(ln.tobytes())
        cols["cells_col"].append(cc.tobytes())
        sparse: dict[str, Any] = {}
        if raw:
            sparse["raw"] = list(raw.items())
        if where:
            sparse["where"] = list(where.items())
        if extra:
            sparse["extra"] = [[cid, *(_enc(getattr(c, f)) for f in _CELL_FIELDS)] for cid, c in extra.items()]
        # layout
        codes, flags, kinds, lsparse = r.layout.arrays()
        statutory = r.layout.statutory()
        cols["layout_code"].append(codes.tobytes())
        cols["layout_flag"].append(bytes(flags))
        cols["layout_line"].append(r.layout.lines().tobytes())
        kt, stt = tuple(kinds), tuple(statutory)
        kb = kind_memo.get(kt)
        if kb is None:
            kb = kind_memo[kt] = bytes(_KIND_CODE.get(k, 255) for k in kt)
        sb = stat_memo.get(stt)
        if sb is None:
            sb = stat_memo[stt] = array("H", (_STATUTORY_CODE.get(w, _NONE16) for w in stt)).tobytes()
        cols["layout_kind"].append(kb)
        cols["layout_statutory"].append(sb)
        odd = set(lsparse)
        odd.update(i for i, k in enumerate(kt) if k not in _KIND_CODE)
        odd.update(i for i, w in enumerate(stt) if w not in _STATUTORY_CODE)
        if odd:
            sparse["layout"] = [
                [
                    pos,
                    *lsparse.get(pos, (None, None, None)),
                    kt[pos] if kt[pos] not in _KIND_CODE else None,
                    stt[pos] if stt[pos] not in _STATUTORY_CODE else None,
                ]
                for pos in sorted(odd)
            ]
        if r.row_issues:
            sparse["issues"] = [[getattr(x, f) for f in _ISSUE_FIELDS] for x in r.row_issues]
        names, counts, nos, lens, text = r.sections.packed()
        if names:
            sparse["sections"] = names
        cols["sparse"].append(orjson.dumps(sparse).decode() if sparse else None)
        cols["section_count"].append(counts.tobytes())
        cols["section_line"].append(nos.tobytes())
        cols["section_len"].append(lens.tobytes())
        cols["section_text"].append(text)
    return pl.DataFrame(cols, schema=SCHEMA)


def _asdict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _enum_of(tp: Any) -> type[Enum] | None:
    for t in typing.get_args(tp) or (tp,):
        if isinstance(t, type) and issubclass(t, Enum):
            return t
    return None


_ENUMS = {name: e for name, (_dt, tp) in _SCALARS.items() if (e := _enum_of(tp)) is not None}


_FLAT = (pl.Int64, pl.String, pl.Boolean)  # a value of these is an immutable Python object


def column_values(s: pl.Series) -> list[Any]:
    """``s.to_list()``; a column of one value (the store's status, rule-set, format … columns of
    most runs) as that one value repeated — the same immutable object, not a new one a row (an
    unchanged rerun of 100,000 reports: ~4 ms a column of ``to_list`` to ~0.5 ms)."""
    n = len(s)
    if n > 1 and s.dtype in _FLAT:
        nulls = s.null_count()
        if nulls == n:
            return [None] * n
        if nulls == 0 and s.min() == s.max():
            return [s[0]] * n
    return s.to_list()


def _scalar_columns(
    df: pl.DataFrame, given: dict[str, list[Any]] | None = None, names: Sequence[str] = tuple(_SCALARS)
) -> dict[str, list[Any]]:
    """The report's scalar fields (``names``, all by default) of every row, decoded (enums
    rebuilt); ``given``: fields whose values the caller has already (not read from the frame)."""
    given = given or {}
    scal = {name: given[name] if name in given else column_values(df.get_column(name)) for name in names}
    for name, e in _ENUMS.items():
        if name not in scal:
            continue
        members: dict[Any, Any] = {m.value: m for m in e}  # (a dict look-up, not an Enum call, per row)
        scal[name] = [None if v is None else members[v] if v in members else e(v) for v in scal[name]]
    return scal


# the fields of a report a rebuild from the store costs: rebuilt only when asked for (StoredReport)
HEAVY = ("cells", "layout", "row_issues", "sections")
SCALAR_COLUMNS = tuple(_SCALARS)  # what :func:`stored_reports` needs besides the index columns
_SLOTS = {name: ParsedReport.__dict__[name] for name in (*_SCALARS, *HEAVY)}  # the dataclass's slots
# scalar fields an unchanged rerun does not read (its validation a memo hit, its pages reused): a
# stored report's are decoded from the store's columns when one of them is first read, for every
# report of the same look-up together (100,000 reports: ~0.05 s of to_list and slot stores saved)
LATER = tuple(
    n
    for n in (
        "agency_source",
        "title",
        "title_line",
        "period_text",
        "period_start_year",
        "period_end_year",
        "period_full_year",
        "period_line",
        "fmt_evidence_2019",
        "bad_bytes",
        "bad_bytes_detail",
        "mtime_ns",
    )
    if n in _SCALARS
)
_EAGER = tuple(n for n in _SCALARS if n not in LATER)

# how many reports were rebuilt whole from the store in this process (tests count them)
rebuilt = {"reports": 0}


class _Pending:
    """Reports whose heavy fields are still in the store: all rebuilt at once, on first use; and
    whose :data:`LATER` scalar fields are still in ``scalars``: all decoded at once, on first use.
    Under a lock (one for every look-up: a pending look-up pickles with its reports): two threads
    may read such fields at once (the rule families beside the others, nianbao.validate.batch) —
    one rebuilds, the other waits for it."""

    __slots__ = ("__weakref__", "reports", "rows", "scalars", "store")

    def __init__(self, store: Store, rows: pl.DataFrame, scalars: pl.DataFrame | None = None) -> None:
        self.store = store
        self.rows: pl.DataFrame | None = rows
        self.scalars = scalars
        self.reports: list[ParsedReport] = []
        _PENDING.add(self)

    def load(self) -> None:
        with _LOADING:
            if self.rows is None:
                return
            full = self.store.rebuild(self.rows)
            for rep, whole in zip(self.reports, full, strict=True):
                for name in HEAVY:
                    _SLOTS[name].__set__(rep, getattr(whole, name))
            self.rows = None
            if self.scalars is None:
                self.reports = []

    def load_scalars(self) -> None:
        with _LOADING:
            if self.scalars is None:
                return
            cols = _scalar_columns(self.scalars, names=LATER)
            for name, values in cols.items():
                put = _SLOTS[name].__set__
                for rep, v in zip(self.reports, values, strict=True):
                    put(rep, v)
            self.scalars = None
            if self.rows is None:
                self.reports = []


_PENDING: weakref.WeakSet[_Pending] = weakref.WeakSet()  # look-ups not rebuilt yet, in this process
_LOADING = threading.RLock()  # held while a look-up's reports are rebuilt or their scalars decoded


def load_pending() -> int:
    """Rebuild now every stored report still waiting for its heavy fields; how many were rebuilt.

    Runs before every ``os.fork`` of this process (e.g. the views' helper, nianbao.report.parallel):
    the rebuild runs polars, and a child forked from a process whose polars thread pool runs cannot
    use polars (the pool's threads are not copied): it would wait for ever."""
    n = 0
    for pending in list(_PENDING):
        pending.load_scalars()  # (its columns' to_list: polars too)
        if pending.rows is not None:
            k = len(pending.reports)
            try:
                pending.load()
            except (RuntimeError, OSError, pl.exceptions.PolarsError):
                # a look-up of an earlier run of this process whose rows a later run replaced (a
                # file changed): not rebuilt here — reading one of its reports says why
                _PENDING.discard(pending)
                continue
            n += k
    return n


os.register_at_fork(before=load_pending)


def _deferred(name: str, load: Callable[[_Pending], None]) -> property:
    """The field ``name`` of a stored report, its slot filled by ``load`` (of the report's look-up) on first read."""
    slot = _SLOTS[name]

    def get(self: StoredReport) -> Any:
        try:
            return slot.__get__(self, StoredReport)
        except AttributeError:
            load(self._pending)
            return slot.__get__(self, StoredReport)

    def put(self: StoredReport, value: Any) -> None:
        slot.__set__(self, value)

    return property(get, put)


def _lazy(name: str) -> property:
    """A heavy field (cells, layout …): the report's own row rebuilt on first read."""
    return _deferred(name, _Pending.load)


def _later(name: str) -> property:
    """A scalar field an unchanged rerun does not read: decoded for the whole look-up on first read."""
    return _deferred(name, _Pending.load_scalars)


class StoredReport(ParsedReport):
    """A report reused from the store: its scalar fields at once (the plan reads them with the
    index), its cells, layout, rows not read and prose rebuilt only when something reads one of
    them — then for every report of the same look-up together (:meth:`Store.rebuild`).  An
    unchanged rerun whose validation is a memo hit and whose pages are reused never rebuilds
    them.  Equal to, and pickled as, the report a whole rebuild gives."""

    __slots__ = ("_pending",)
    _pending: _Pending

    cells = _lazy("cells")
    layout = _lazy("layout")
    row_issues = _lazy("row_issues")
    sections = _lazy("sections")

    def __eq__(self, other: object) -> bool:  # equal to a ParsedReport with the same fields
        if not isinstance(other, ParsedReport):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in _SLOTS)

    __hash__ = None  # type: ignore[assignment]  # as the dataclass: mutable, not hashable


for _name in LATER:  # the LATER scalar fields: decoded on first use
    setattr(StoredReport, _name, _later(_name))


def stored_reports(
    store: Store, rows: pl.DataFrame, files: list[str] | None = None, sha256: list[str] | None = None
) -> list[ParsedReport]:
    """The reports of the given index rows (``rel``, ``written_ns``, ``_part`` and
    :data:`SCALAR_COLUMNS`), in their order, as :class:`StoredReport` (heavy fields on demand);
    ``files``: each report's ``file`` (its name in this run), in place of the stored one;
    ``sha256``: the rows' ``sha256`` column as a list when the caller has it (not read again)."""
    if rows.height == 0:
        return []
    if files is not None and len(files) != rows.height:
        raise ValueError(f"{len(files)} file names for {rows.height} stored reports")
    if sha256 is not None and len(sha256) != rows.height:
        raise ValueError(f"{len(sha256)} SHA-256 values for {rows.height} stored reports")
    given = {} if files is None else {"file": files}
    if sha256 is not None:
        given["sha256"] = sha256
    pending = _Pending(store, rows.select("_part", "rel", "written_ns"), rows.select(LATER) if LATER else None)
    scal = _scalar_columns(rows, given, _EAGER)
    out = _build_stored(StoredReport.__new__, StoredReport, pending, *scal.values())
    pending.reports = out
    return out


def _builder(names: Sequence[str]) -> Callable[..., list[ParsedReport]]:
    """``build(new, cls, pending, *columns)``: a :class:`StoredReport` per row of the scalar
    columns (in the order of ``names``), each field set by a plain attribute store — a function
    written for these fields, ~2x faster than setting the slots in a loop of descriptor calls."""
    cols = [f"c{k}" for k in range(len(names))]
    body = [
        f"def build(new, cls, pending, {', '.join(cols)}):",
        "    out = []",
        "    add = out.append",
        f"    for {', '.join(f'v{k}' for k in range(len(names)))} in zip({', '.join(cols)}, strict=True):",
        "        r = new(cls)",
        *(f"        r.{name} = v{k}" for k, name in enumerate(names)),
        "        r._pending = pending",
        "        add(r)",
        "    return out",
    ]
    ns: dict[str, Any] = {}
    exec("\n".join(body), ns)  # the field names are the dataclass's own
    build: Callable[..., list[ParsedReport]] = ns["build"]
    return build


_build_stored = _builder(list(_EAGER))


def reports_from_frame(df: pl.DataFrame) -> list[ParsedReport]:
    """Rebuild the reports of the given rows (the inverse of :func:`entries_frame`)."""
    from array import array

    from nianbao.domain.model import Sections

    n = df.height
    if n == 0:
        return []
    reports: list[ParsedReport] = []
    scal = _scalar_columns(df)
    names = list(scal)
    col = {
        name: df.get_column(name).to_list()
        for name in SCHEMA
        if name.startswith(("cells_", "layout_", "section_", "sparse"))
    }
    states = {s.value: s for s in State}
    kind_memo: dict[bytes, list[str]] = {}
    stat_memo: dict[bytes, list[str]] = {}
    for k, vals in enumerate(zip(*scal.values(), strict=True)):
        rep = ParsedReport(**dict(zip(names, vals, strict=True)))
        sp: dict[str, Any] = orjson.loads(col["sparse"][k]) if col["sparse"][k] is not None else {}
        rep.cells.__setstate__(
            {
                "v": col["cells_value"][k],
                "s": col["cells_state"][k],
                "l": col["cells_line"][k],
                "c": col["cells_col"][k],
                "r": {int(i): t for i, t in sp["raw"]} if "raw" in sp else None,
                "w": {int(i): t for i, t in sp["where"]} if "where" in sp else None,
                "x": None,
            }
        )
        for cid, *vals in sp.get("extra", ()):
            x = dict(zip(_CELL_FIELDS, vals, strict=True))
            x["state"] = states[x["state"]]
            rep.cells[cid] = Cell(**x)
        kb, sb = col["layout_kind"][k], col["layout_statutory"][k]
        kinds = kind_memo.get(kb)
        if kinds is None:
            kinds = kind_memo[kb] = [KINDS[c] if c < len(KINDS) else "" for c in kb]
        stat = stat_memo.get(sb)
        if stat is None:
            stat = stat_memo[sb] = [STATUTORY[c] if c < len(STATUTORY) else "" for c in array("H", sb)]
        kinds, stat = list(kinds), list(stat)
        lsparse: dict[int, tuple[str | None, str | None, str | None]] = {}
        for pos, printed, previous, element, kind, statutory in sp.get("layout", ()):
            if kind is not None:
                kinds[pos] = kind
            if statutory is not None:
                stat[pos] = statutory
            if printed is not None or previous is not None or element is not None:
                lsparse[pos] = (printed, previous, element)
        rep.layout.__setstate__(
            {
                "c": col["layout_code"][k],
                "f": col["layout_flag"][k],
                "l": col["layout_line"][k],
                "k": kinds,
                "s": stat,
                "x": lsparse,
            }
        )
        rep.row_issues = [RowIssue(*x) for x in sp.get("issues", ())]
        rep.sections = Sections.from_packed(
            sp.get("sections", []),
            col["section_count"][k],
            col["section_line"][k],
            col["section_len"][k],
            col["section_text"][k],
        )
        reports.append(rep)
    return reports


def partition_of(report: ParsedReport, path_year: int | None) -> str:
    y = report.year if report.year is not None else path_year
    return str(y) if y is not None else NO_YEAR


# ------------------------------------------------------------------ the store on disk


class Store:
    """The store folder.  :meth:`read` gives every current row; :meth:`save` upserts/deletes rows."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def partitions(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p / PARTITION_FILE for p in self.root.glob("year=*") if (p / PARTITION_FILE).is_file())

    def _path(self, part: str) -> Path:
        return self.root / f"year={part}" / PARTITION_FILE

    def _read_file(self, path: Path, columns: Sequence[str] | None = None) -> pl.DataFrame | None:
        try:
            if columns is not None:
                if dict(pl.read_parquet_schema(path)) != SCHEMA:
                    return None  # another store format: not reused, rewritten on the next save
                return pl.read_parquet(path, columns=list(columns))
            df = pl.read_parquet(path)
        except Exception as e:  # a damaged partition: its reports are parsed again
            log.warning("存储分区 %s 无法读取（%s），其中的报告将重新解析", path, e)
            return None
        if dict(df.schema) != SCHEMA:
            return None  # another store format: not reused, rewritten on the next save
        return df

    def read(self, years: Iterable[str] | None = None, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """Every current row (one per ``rel``, the latest write wins), of the given partitions or all;
        with ``columns``, only those (plus ``rel``, ``written_ns`` and ``_part``, the partition)."""
        paths = self.partitions() if years is None else [self._path(y) for y in years]
        cols = None if columns is None else list(dict.fromkeys(["rel", "written_ns", *columns]))
        frames = []
        for p in paths:
            if p.is_file() and (df := self._read_file(p, cols)) is not None:
                part = p.parent.name.removeprefix("year=")
                frames.append(df if cols is None else df.with_columns(pl.lit(part).alias("_part")))
        if not frames:
            schema = dict(SCHEMA) if cols is None else {c: SCHEMA[c] for c in cols} | {"_part": pl.String()}
            return pl.DataFrame(schema=schema)
        df = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
        if df.get_column("rel").n_unique() != df.height:
            df = df.sort("written_ns", descending=True).unique("rel", keep="first", maintain_order=True)
        return df

    def rebuild(self, rows: pl.DataFrame) -> list[ParsedReport]:
        """The reports of the given index rows (``rel``, ``written_ns``, ``_part`` from
        :meth:`read` with ``columns``), in their order.  Each partition's key columns are read
        first to find the row groups that hold the rows asked for; only those row groups are read
        whole, one at a time (a row group is at most :data:`SAVE_CHUNK` rows), by polars."""
        import pyarrow.parquet as pq

        want = rows.select("_part", "rel", "written_ns").with_row_index("_order")
        out: dict[int, ParsedReport] = {}
        for part, keys in want.group_by("_part", maintain_order=True):
            path = self._path(str(part[0]))
            keys = keys.select("rel", "written_ns", "_order")
            where = (
                pl.read_parquet(path, columns=["rel", "written_ns"])
                .with_row_index("_row")
                .join(keys, on=["rel", "written_ns"], how="inner")
                .get_column("_row")
            )
            meta = pq.ParquetFile(path).metadata
            start = 0
            for g in range(meta.num_row_groups):
                n = meta.row_group(g).num_rows
                if where.is_between(start, start + n, closed="left").any():
                    chunk = pl.scan_parquet(path).slice(start, n).collect()
                    hit = chunk.join(keys, on=["rel", "written_ns"], how="inner")
                    for k, rep in zip(hit.get_column("_order").to_list(), reports_from_frame(hit), strict=True):
                        out[k] = rep
                    del chunk, hit
                start += n
        if len(out) != rows.height:
            raise RuntimeError(f"store: {rows.height - len(out)} rows asked for are not in the store")
        rebuilt["reports"] += rows.height
        return [out[k] for k in range(rows.height)]

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def save(self, entries: Sequence[Entry], delete: Iterable[str] = (), checkpoint: Any = None) -> int:
        """Upsert ``entries`` (by ``rel``) and delete the ``delete`` rels; returns the partitions written."""
        by_part: dict[str, list[Entry]] = {}
        for e in sorted(entries, key=lambda e: e.rel):
            by_part.setdefault(partition_of(e.report, e.path_year), []).append(e)
        touched = set(by_part)
        gone = set(delete) | {e.rel for e in entries}
        written = 0
        with self.lock():
            self._clean_temp()
            for p in self.partitions():
                part = p.parent.name.removeprefix("year=")
                if part not in touched and self._holds_any(p, gone):
                    touched.add(part)
            for part in sorted(touched):
                path = self._path(part)
                old = self._read_file(path) if path.is_file() else None
                kept = old.filter(~pl.col("rel").is_in(list(gone))) if old is not None else None
                del old
                fresh = by_part.get(part, [])
                if not fresh and (kept is None or kept.height == 0):
                    path.unlink(missing_ok=True)
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()
                elif kept is None or kept.height == 0:
                    # a partition of new rows only (a first run): built and written a chunk at a time
                    write_with(path, partial(_write_chunks, _chunks(fresh)))
                else:
                    rows = pl.concat([kept, self._frame(fresh)], how="vertical").sort("rel")
                    write_with(path, partial(_write_chunks, [rows]))
                    del rows
                del kept
                written += 1
                if checkpoint is not None:
                    checkpoint("store-partition")
        return written

    @staticmethod
    def _frame(entries: Sequence[Entry]) -> pl.DataFrame:
        """The rows of the given entries, built in chunks (the Python lists behind one chunk's
        columns are freed before the next is built)."""
        chunks = list(_chunks(entries))
        return pl.concat(chunks, how="vertical", rechunk=False) if chunks else entries_frame([])

    def _holds_any(self, path: Path, rels: set[str]) -> bool:
        """Whether a partition must be rewritten: it has one of ``rels``, or cannot be read as the
        current format (read by its ``rel`` column only)."""
        try:
            if dict(pl.read_parquet_schema(path)) != SCHEMA:
                return True
            return bool(pl.read_parquet(path, columns=["rel"]).get_column("rel").is_in(list(rels)).any())
        except Exception:  # a damaged partition: rewritten without its unreadable rows
            return True

    def _clean_temp(self) -> None:
        """Temporary files left by a killed write (safe: only a lock holder writes them)."""
        for p in self.root.glob("year=*/.*.tmp"):
            p.unlink(missing_ok=True)


def _chunks(entries: Sequence[Entry]) -> Iterator[pl.DataFrame]:
    for i in range(0, len(entries), SAVE_CHUNK):
        yield entries_frame(entries[i : i + SAVE_CHUNK])


def _write_chunks(frames: Iterable[pl.DataFrame], f: BinaryIO) -> None:
    """One Parquet file from frames of the store's schema, row groups of at most :data:`SAVE_CHUNK`
    rows (each frame is encoded and written before the next is built: memory is one chunk, not the
    partition; :meth:`Store.rebuild` reads a row group at a time)."""
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    try:
        for df in frames:
            table = df.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(f, table.schema, compression="zstd", write_statistics=False)
            writer.write_table(table, row_group_size=min(SAVE_CHUNK, max(1, df.height)))
            del table
    finally:
        if writer is not None:
            writer.close()


def reusable(df: pl.DataFrame) -> pl.DataFrame:
    """The rows written under the current rule-set version and store format."""
    return df.filter((pl.col("ruleset") == ruleset_version()) & (pl.col("model") == current_model()))


def load_year(store: Path | Store, year: int) -> list[ParsedReport]:
    """The reports of one year as of the last run (for the cross-year and text rules).

    Every stored report of that year is returned, whatever rule-set version stored it (the parsed
    data does not depend on the rules), as long as the store format is the current one.
    """
    s = store if isinstance(store, Store) else Store(store)
    df = s.read([str(year)])
    return reports_from_frame(df.filter(pl.col("model").str.starts_with(MODEL)))


def describe(store: Path | Store) -> dict[str, int]:
    """Rows per partition (for ``nianbao run`` diagnostics and tests)."""
    s = store if isinstance(store, Store) else Store(store)
    out: dict[str, int] = {}
    for p in s.partitions():
        df = s._read_file(p)
        out[p.parent.name.removeprefix("year=")] = -1 if df is None else df.height
    return out
