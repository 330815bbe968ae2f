"""The Parquet store: the canonical data of every parsed submission, partitioned by year.

One row per submission (keyed by its path under the inbox root), holding everything its
:class:`~nianbao.model.ParsedReport` holds — metadata, every cell (value, printed text, state,
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
import io
import logging
import time
import types
import typing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import polars as pl

from nianbao.catalogue import ruleset_version
from nianbao.model import Cell, LayoutFact, ParsedReport, RowIssue
from nianbao.normalize import State
from nianbao.output.atomic import write_bytes

log = logging.getLogger("nianbao.store")

STORE_FORMAT = 1
PARTITION_FILE = "data.parquet"
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


def _struct_of(cls: type) -> pl.Struct:
    hints = _hints(cls)
    fields = {}
    for f in dataclasses.fields(cls):
        dt = _scalar_dtype(hints[f.name])
        if dt is None:
            raise TypeError(f"store: {cls.__name__}.{f.name} has a type the store cannot encode")
        fields[f.name] = dt
    return pl.Struct(fields)


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
_LAYOUT = _struct_of(LayoutFact)
_ROW_ISSUE = _struct_of(RowIssue)
_CELL_FIELDS = [f.name for f in dataclasses.fields(Cell)]


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
        "cell_id": pl.List(pl.String),
        "cell_value": pl.List(pl.Float64),
        "cell_raw": pl.List(pl.String),
        "cell_state": pl.List(pl.String),
        "cell_line": pl.List(pl.Int64),
        "cell_col": pl.List(pl.Int64),
        "cell_where": pl.List(pl.String),
        "layout": pl.List(_LAYOUT),
        "row_issues": pl.List(_ROW_ISSUE),
        "section_name": pl.List(pl.String),
        "section_lines": pl.List(pl.List(pl.Int64)),
        "section_texts": pl.List(pl.List(pl.String)),
    }
    return s


SCHEMA = _schema()


def model_signature() -> str:
    """Changes when the report model or this encoding changes: rows of another signature are not reused."""
    h = hashlib.sha256(f"store={STORE_FORMAT}".encode())
    for name, dt in SCHEMA.items():
        h.update(f"{name}:{dt}".encode())
    h.update(",".join(_CELL_FIELDS).encode())
    return h.hexdigest()[:16]


MODEL = model_signature()


def current_model() -> str:
    """The store format plus the loader limits in force: a file that was unreadable under other
    limits (a size or time limit since raised) is parsed again."""
    from nianbao.loaders.limits import Limits

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
    now = written_ns if written_ns is not None else time.time_ns()
    rv = ruleset_version()
    model = current_model()
    cols: dict[str, list[Any]] = {name: [] for name in SCHEMA}
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
        ids, vals, raws, states, lines, poss, wheres = [], [], [], [], [], [], []
        for cid, c in r.cells.items():
            ids.append(cid)
            vals.append(c.value)
            raws.append(c.raw)
            states.append(c.state.value)
            lines.append(c.line)
            poss.append(c.col)
            wheres.append(c.where)
        cols["cell_id"].append(ids)
        cols["cell_value"].append(vals)
        cols["cell_raw"].append(raws)
        cols["cell_state"].append(states)
        cols["cell_line"].append(lines)
        cols["cell_col"].append(poss)
        cols["cell_where"].append(wheres)
        cols["layout"].append([{k: _enc(v) for k, v in _asdict(f).items()} for f in r.layout])
        cols["row_issues"].append([_asdict(x) for x in r.row_issues])
        names = list(r.sections)
        cols["section_name"].append(names)
        cols["section_lines"].append([[ln for ln, _t in r.sections[n]] for n in names])
        cols["section_texts"].append([[t for _ln, t in r.sections[n]] for n in names])
    return pl.DataFrame(cols, schema=SCHEMA)


def _asdict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _enum_of(tp: Any) -> type[Enum] | None:
    for t in typing.get_args(tp) or (tp,):
        if isinstance(t, type) and issubclass(t, Enum):
            return t
    return None


def _flat(df: pl.DataFrame, list_cols: Sequence[str]) -> pl.DataFrame:
    """The elements of parallel list columns, flattened, with the row (``_row``) each belongs to."""
    return df.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"), *list_cols).explode(list_cols)


def reports_from_frame(df: pl.DataFrame) -> list[ParsedReport]:
    """Rebuild the reports of the given rows (the inverse of :func:`entries_frame`)."""
    n = df.height
    if n == 0:
        return []
    reports: list[ParsedReport] = []
    scal = {name: df.get_column(name).to_list() for name in _SCALARS}
    enums = {name: e for name, (_dt, tp) in _SCALARS.items() if (e := _enum_of(tp)) is not None}
    for name, e in enums.items():
        scal[name] = [None if v is None else e(v) for v in scal[name]]
    names = list(scal)
    for vals in zip(*scal.values(), strict=True):
        reports.append(ParsedReport(**dict(zip(names, vals, strict=True))))
    cells = _flat(df, _CELL_COLS)
    if cells.height and not _fill_cells_fast(n, cells, reports):
        _fill_cells(cells, reports)
    layout = _flat(df, ["layout"]).unnest("layout")
    if layout.height and not _fill_layout_fast(layout, reports):
        fields = [f.name for f in dataclasses.fields(LayoutFact)]
        cols = [layout.get_column(f).to_list() for f in fields]
        for k, r in enumerate(layout.get_column("_row").to_list()):
            reports[r].layout.append(LayoutFact(*(c[k] for c in cols)))
    issues = _flat(df, ["row_issues"])
    for r, d in zip(issues.get_column("_row").to_list(), issues.get_column("row_issues").to_list(), strict=True):
        reports[r].row_issues.append(RowIssue(**d))
    sec = _flat(df, ["section_name", "section_lines", "section_texts"])
    for r, name, lines, texts in sec.iter_rows():
        reports[r].sections[name] = list(zip(lines, texts, strict=True))
    return reports


_CELL_COLS = ["cell_id", "cell_value", "cell_raw", "cell_state", "cell_line", "cell_col", "cell_where"]


def _fill_cells(cells: pl.DataFrame, reports: list[ParsedReport]) -> None:
    states = {s.value: s for s in State}
    for r, cid, v, raw, st, line, pos, where in cells.iter_rows():
        reports[r].cells[cid] = Cell(v, raw, states[st], line, pos, where)


# The report model keeps cells and layout facts column-wise (``CellMap``, ``LayoutList``); their
# pickle state is filled directly from the Parquet columns, many reports at once.  Used only when
# that state has the layout this code knows (checked here), else the public mapping API is used.
def _fast_model() -> Any:
    try:
        from array import array

        from nianbao import model

        cm, ll = model.CellMap(), model.LayoutList()
        ok = (
            set(cm.__getstate__()) == {"v", "s", "l", "c", "r", "w", "x"}
            and set(ll.__getstate__()) == {"c", "f", "l", "k", "s", "x"}
            and array("I").itemsize == 4
            and array("H").itemsize == 2
            and len(model.STATES) == len(State)
        )
        return model if ok else None
    except (AttributeError, TypeError, ImportError):
        return None


def _fill_cells_fast(n: int, cells: pl.DataFrame, reports: list[ParsedReport]) -> bool:
    import numpy as np

    model = _fast_model()
    if model is None:
        return False
    width = len(model.ALL_IDS)
    index: dict[str, int] = model.INDEX
    codes = {st.value: code for st, code in model.STATE_CODE.items()}
    pos = (
        cells.get_column("cell_id")
        .replace_strict(list(index), list(index.values()), default=-1, return_dtype=pl.Int64)
        .to_numpy()
    )
    rows = cells.get_column("_row").to_numpy()
    where = cells.get_column("cell_where")
    plain = (pos >= 0) & where.is_null().to_numpy()
    r_, p_ = rows[plain], pos[plain]
    sub = cells.filter(pl.Series(plain))
    values = np.full((n, width), np.nan)
    values[r_, p_] = sub.get_column("cell_value").fill_null(float("nan")).to_numpy()
    states = np.full((n, width), 255, dtype=np.uint8)
    states[r_, p_] = sub.get_column("cell_state").replace_strict(codes, return_dtype=pl.UInt8).to_numpy()
    lines = np.zeros((n, width), dtype=np.uint32)
    lines[r_, p_] = sub.get_column("cell_line").fill_null(0).clip(0, 0xFFFFFFFF).to_numpy()
    cols = np.zeros((n, width), dtype=np.uint16)
    cols[r_, p_] = sub.get_column("cell_col").fill_null(0).clip(0, 0xFFFF).to_numpy()
    raw = np.full((n, width), "", dtype=object)
    raw[r_, p_] = np.asarray(sub.get_column("cell_raw").to_list(), dtype=object)
    for r in range(n):
        reports[r].cells.__setstate__(
            {
                "v": values[r].tobytes(),
                "s": states[r].tobytes(),
                "l": lines[r].tobytes(),
                "c": cols[r].tobytes(),
                "r": raw[r].tolist(),
                "w": None,
                "x": None,
            }
        )
    if not plain.all():  # cells with a source location or an id outside the formats
        _fill_cells(cells.filter(~pl.Series(plain)), reports)
    return True


def _fill_layout_fast(layout: pl.DataFrame, reports: list[ParsedReport]) -> bool:
    import numpy as np

    model = _fast_model()
    if model is None:
        return False
    ecode: dict[str, int] = model.ELEMENT_CODE
    code = (
        layout.get_column("element")
        .replace_strict(list(ecode), list(ecode.values()), default=0xFFFF, return_dtype=pl.Int64)
        .to_numpy()
        .astype(np.uint16)
    )
    flags = (layout.get_column("found").cast(pl.UInt8) | (layout.get_column("in_order").cast(pl.UInt8) * 2)).to_numpy()
    lines = layout.get_column("line").fill_null(0).clip(0, 0xFFFFFFFF).to_numpy().astype(np.uint32)
    kinds = layout.get_column("kind").to_list()
    statutory = layout.get_column("statutory").to_list()
    rows = layout.get_column("_row").to_numpy()
    sparse_mask = (
        layout.get_column("printed").is_not_null() | layout.get_column("previous").is_not_null()
    ).to_numpy() | (code == 0xFFFF)
    printed = layout.get_column("printed").to_list()
    previous = layout.get_column("previous").to_list()
    element = layout.get_column("element").to_list()
    bounds = np.flatnonzero(np.diff(rows)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(rows)]))
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        sparse = {}
        for k in (np.flatnonzero(sparse_mask[a:b]) + a).tolist():
            sparse[k - a] = (printed[k], previous[k], element[k] if code[k] == 0xFFFF else None)
        reports[int(rows[a])].layout.__setstate__(
            {
                "c": code[a:b].tobytes(),
                "f": flags[a:b].tobytes(),
                "l": lines[a:b].tobytes(),
                "k": kinds[a:b],
                "s": statutory[a:b],
                "x": sparse,
            }
        )
    return True


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

    def _read_file(self, path: Path) -> pl.DataFrame | None:
        try:
            df = pl.read_parquet(path)
        except Exception as e:  # a damaged partition: its reports are parsed again
            log.warning("存储分区 %s 无法读取（%s），其中的报告将重新解析", path, e)
            return None
        if dict(df.schema) != SCHEMA:
            return None  # another store format: not reused, rewritten on the next save
        return df

    def read(self, years: Iterable[str] | None = None) -> pl.DataFrame:
        """Every current row (one per ``rel``, the latest write wins), of the given partitions or all."""
        paths = self.partitions() if years is None else [self._path(y) for y in years]
        frames = [df for p in paths if p.is_file() and (df := self._read_file(p)) is not None]
        if not frames:
            return pl.DataFrame(schema=SCHEMA)
        df = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
        if df.get_column("rel").n_unique() != df.height:
            df = df.sort("written_ns", descending=True).unique("rel", keep="first", maintain_order=True)
        return df

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
        new = entries_frame(entries)
        new_parts = [partition_of(e.report, e.path_year) for e in entries]
        new = new.with_columns(pl.Series("_part", new_parts, dtype=pl.String))
        touched = set(new_parts)
        gone = set(delete) | {e.rel for e in entries}
        written = 0
        with self.lock():
            self._clean_temp()
            for p in self.partitions():
                part = p.parent.name.removeprefix("year=")
                if part in touched:
                    continue
                df = self._read_file(p)
                if df is None or df.get_column("rel").is_in(list(gone)).any():
                    touched.add(part)
            for part in sorted(touched):
                path = self._path(part)
                old = self._read_file(path) if path.is_file() else None
                rows = new.filter(pl.col("_part") == part).drop("_part")
                if old is not None:
                    rows = pl.concat([old.filter(~pl.col("rel").is_in(list(gone))), rows], how="vertical")
                if rows.height == 0:
                    path.unlink(missing_ok=True)
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()
                else:
                    buf = io.BytesIO()
                    rows.sort("rel").write_parquet(buf, compression="zstd", statistics=False)
                    write_bytes(path, buf.getvalue())
                written += 1
                if checkpoint is not None:
                    checkpoint("store-partition")
        return written

    def _clean_temp(self) -> None:
        """Temporary files left by a killed write (safe: only a lock holder writes them)."""
        for p in self.root.glob("year=*/.*.tmp"):
            p.unlink(missing_ok=True)


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
