"""The submission inbox: ``<root>/<year>/<county>/<file>``, and the registry of who must submit.

- ``<root>/<year>/<county>/<agency>_<year>.<ext>`` — one folder per report year (four digits), one
  per county (its name as in the registry), the townships' files inside (the file name is free;
  ``<agency>_<year>`` is the convention).  Files in deeper subfolders of a county folder belong to
  that county.
- ``<root>/registry.csv`` (or ``registry.csv`` next to the root, as ``data/registry.csv`` is next to
  ``data/submissions``) — the agencies each county must submit (``county,agency,level``); also
  ``renames.csv`` (``old,new``) beside it.
- ``<root>/.nianbao/`` — nianbao's own state (the Parquet store); never read as a submission.

Every other file under the root is a submission too, just outside the layout (no county or year
from its path): it is read and listed like any other, never dropped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path, PurePosixPath
from stat import S_ISREG

from nianbao.domain.normalize import nfkc
from nianbao.domain.registry import Agency, load_registry, load_renames, normalise_agency
from nianbao.run.collector import gc_paused

STATE_DIR = ".nianbao"  # nianbao's own state (the Parquet store of an inbox), never a submission
# files at the root that are not submissions: the registry, the rename table, the reviews, and the
# synthetic generator's answer key (``nianbao synth`` writes it beside the inbox; an older sample
# folder may still hold it at the root)
CONTROL_FILES = ("registry.csv", "renames.csv", "acknowledgements.csv", "ground_truth.json")
SYMLINK = "文件是符号链接，为安全起见未读取；请提交文件本身"
SPECIAL = "不是普通文件（设备、管道等），未读取"
_YEAR = re.compile(r"^(19|20)\d\d$")
_STEM_YEAR = re.compile(r"[_\-\s]*(19|20)\d\d(年度?)?$")


@dataclass(frozen=True, slots=True)
class Submission:
    """A file to read: its path, its name as shown in the outputs, and why it is not read, if so."""

    # the path (the listing gives a string: 100,000 files make no ``Path``, ~5 µs each, for files
    # a rerun does not read; :attr:`path` makes one)
    location: str | os.PathLike[str]
    name: str  # as shown in the outputs
    problem: str | None = None  # a reason the file is not read at all (symlink, special file)

    @property
    def path(self) -> Path:
        return Path(self.location)


@dataclass(frozen=True, slots=True)
class InboxFile:
    """One file found, with what its path says."""

    sub: Submission  # under an inbox, ``sub.name`` is the path relative to the root (POSIX)
    county: str | None = None  # the county folder (None outside the inbox layout)
    year: int | None = None  # the year folder (None outside the inbox layout)
    # (size, modification time in ns) of a regular file as discovery found it, else None
    stat: tuple[int, int] | None = field(default=None, compare=False)

    @property
    def rel(self) -> str:
        return self.sub.name

    @property
    def in_layout(self) -> bool:
        return self.county is not None and self.year is not None

    @property
    def agency_hint(self) -> str:
        """The agency the file name suggests (``示例县南川镇_2023.txt`` → ``示例县南川镇``), normalised."""
        name = self.rel.rpartition("/")[2]
        dot = name.rfind(".")
        stem = name[:dot] if 0 < dot < len(name) - 1 else name  # as PurePosixPath(name).stem
        return normalise_agency(_STEM_YEAR.sub("", stem))


def layout_of(rel: PurePosixPath) -> tuple[str | None, int | None]:
    """(county, year) from a path relative to the root; (None, None) outside the layout."""
    parts = rel.parts
    if len(parts) >= 3 and _YEAR.match(parts[0]):
        return nfkc(parts[1]).strip(), int(parts[0])
    return None, None


def shown_name(name: str) -> str:
    """``name`` (a file's name or path) as the outputs show it: itself, unless the file system gave
    bytes that are not UTF-8 (Python keeps them as lone surrogates, which no JSON, workbook or
    store can hold): then each such part of the path read as GB18030 (a folder made on a Chinese
    Windows machine), else with U+FFFD for what neither reads.  The file is still opened by its
    own path."""
    if _utf8(name):
        return name
    return "/".join(_shown_part(part) for part in os.fsencode(name).split(b"/"))


def _shown_part(raw: bytes) -> str:
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def discover(paths: Iterable[Path], *, inbox: Path | None = None, stat: bool = True) -> list[InboxFile]:
    """Every file under the given files/folders, sorted; symlinks and special files are listed
    (with the reason), never read.  The only folder skipped is nianbao's state folder ``.nianbao/``.

    ``inbox``: the paths are that inbox's root — names are relative to it, county and year come
    from the layout, and the control files at its top (registry, renames …) are not submissions.
    Otherwise a file's name is its path as given, with no county or year.

    One pass: a folder is listed with :func:`os.scandir` and each regular file is stat-ed once, its
    size and modification time kept in :attr:`InboxFile.stat` for the store look-up (the plan
    needs not stat the file again).  In each folder: the symlinked subfolders (by name), the files
    (by name), then each real subfolder (by name).

    ``stat`` False: a run without a store (nothing to compare a file's size and time with) lists
    the files without their stats (:attr:`InboxFile.stat` None): regular files and special files
    are told apart by the listing's file types (``DirEntry.is_file``: a stat only where the file
    system does not give them) — 100,000 files: ~0.30 -> ~0.16 s, the parse's one serial step.
    """
    out: list[InboxFile] = []
    seen: set[str] = set()
    layout_cache: dict[str, tuple[str | None, int | None]] = {}

    def add(p: str, name: str, rel: str | None, problem: str | None, stat: tuple[int, int] | None) -> None:
        if name in seen:
            return
        seen.add(name)
        if inbox is None or rel is None:
            out.append(InboxFile(Submission(p, shown_name(name), problem), stat=stat))
            return
        rel = shown_name(rel)
        sep = "/" in rel
        if not sep and rel in CONTROL_FILES:
            return
        folder = rel.rpartition("/")[0]
        layout = layout_cache.get(folder)
        if layout is None:
            layout = layout_cache[folder] = layout_of(PurePosixPath(rel))
        out.append(InboxFile(Submission(p, rel, problem), *layout, stat=stat))

    def add_path(p: Path) -> None:
        """A path given as such (a file, a symlink, a special file): checked with ``Path``."""
        problem = None
        if p.is_symlink():
            problem = SYMLINK
        elif not p.is_file():
            problem = SPECIAL
        rel = None
        if inbox is not None:
            rel = PurePosixPath(p.relative_to(inbox).as_posix()).as_posix()
        add(str(p), str(p), rel, problem, None)

    def walk(d: str, rel_dir: str | None) -> None:
        fd = None
        try:
            if _SCAN_FD:
                # listed through a descriptor of the folder: each entry's stat below is then an
                # ``fstatat`` of its name in that folder, not an ``lstat`` walking the whole path
                # again (100,000 files: ~0.05 s less, a fifth of the stats)
                fd = os.open(d, _DIR_FLAGS)
            with os.scandir(d if fd is None else fd) as it:
                entries = list(it)
        except OSError:
            if fd is not None:
                os.close(fd)
            return  # as os.walk: an unreadable folder lists nothing
        # ``str(Path(e.path))`` without making the Path: ``d`` is a normalised path (a Path's
        # string, or made here from one), so only "." and "/" need care
        prefix = "" if d == "." else d if d.endswith("/") else d + "/"
        try:
            dirs = listed(prefix, rel_dir, entries, fd)
        finally:
            if fd is not None:
                os.close(fd)  # (before the subfolders: one descriptor open at a time)
        for e in dirs:
            walk(prefix + e.name, None if rel_dir is None else rel_dir + shown_name(e.name) + "/")

    def listed(
        prefix: str, rel_dir: str | None, entries: list[os.DirEntry[str]], fd: int | None
    ) -> list[os.DirEntry[str]]:
        """Add a folder's symlinks and files (its ``entries``; ``prefix``: its path and "/"; ``fd``:
        its descriptor, None when listed by path); its real subfolders, by name."""
        links: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        dirs: list[os.DirEntry[str]] = []
        for e in entries:
            try:
                is_dir = e.is_dir()  # follows symlinks, as os.walk sorts entries
            except OSError:
                is_dir = False
            if not is_dir:
                files.append(e)
            elif e.name == STATE_DIR:
                continue
            elif e.is_symlink():
                links.append(e)
            else:
                dirs.append(e)
        for e in sorted(links, key=_name):
            rel = None if rel_dir is None else rel_dir + e.name
            add(prefix + e.name, prefix + e.name, rel, SYMLINK, None)
        # a name the outputs cannot hold as it is (not UTF-8): shown as shown_name gives it (one
        # check a folder: its names joined)
        plain = _utf8("\0".join([e.name for e in files]))
        plain_prefix = rel_dir is not None or _utf8(prefix)  # (the folders' names, for a file named by its path)
        # the files, written out (the loop of a listing: ~1 µs a file above the stat itself): what
        # ``add`` does, with the folder's layout worked out once (a file's county and year are its
        # folder's) and the control files looked for at the inbox's top only
        if rel_dir is None or inbox is None:
            county, year = None, None
        else:
            county, year = layout_of(PurePosixPath(rel_dir + "_"))
        top = rel_dir == ""
        add_file, make, isreg = out.append, inbox_file, S_ISREG
        files.sort(key=_name)
        # the files' sizes and times by one compiled call (``fstatat`` each, no ``stat_result``
        # made: ~0.4 us a file less), else by each entry's stat as below; none without ``stat``
        # (then only each entry's file type)
        stats = None if not stat or fd is None or _stat_all is None else _stat_all(fd, [e.name for e in files])
        for i, e in enumerate(files):
            name = e.name
            if top and name in CONTROL_FILES:
                continue
            p = prefix + name
            if several:  # (one folder walked: no path can come twice)
                if p in seen:
                    continue
                seen.add(p)
            problem = None
            found = None  # (size, modification time)
            if e.is_symlink():
                problem = SYMLINK
            elif stats is not None:
                found = stats[i]
                if found is None:
                    problem = SPECIAL
            elif not stat:
                if not e.is_file(follow_symlinks=False):
                    problem = SPECIAL
            else:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    st = None
                if st is None or not isreg(st.st_mode):
                    problem = SPECIAL
                else:
                    found = (st.st_size, st.st_mtime_ns)
            if rel_dir is None:  # named by its path (its folders' names shown too)
                shown = p if plain and plain_prefix else shown_name(p)
            else:
                shown = rel_dir + (name if plain else shown_name(name))
            add_file(make(p, shown, problem, county, year, found))
        return sorted(dirs, key=_name)

    # no cyclic GC while the listing is built (no cycles are made; at 100,000 files the collections
    # walking the run's imported modules took ~45 % of the listing)
    roots = list(paths)
    # a path listed twice only when several files or folders are given (one may hold another)
    several = len(roots) > 1
    with gc_paused():
        for root in roots:
            if root.is_dir() and not root.is_symlink():
                rel_root = None
                if inbox is not None:
                    r = PurePosixPath(root.relative_to(inbox).as_posix()).as_posix()
                    rel_root = "" if r == "." else r + "/"
                walk(str(root), rel_root)
            else:
                add_path(root)
    return out


# a folder listed through its descriptor (POSIX): the stats of its entries by ``fstatat``
_SCAN_FD = os.scandir in os.supports_fd
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


# each file's (size, mtime) in a folder by one compiled call (optional: nianbao/io/decode.c)
_stat_all: Callable[[int, list[str]], list[tuple[int, int] | None]] | None
try:
    from nianbao.io.decode import stat_all as _compiled_stat_all

    _stat_all = _compiled_stat_all
except ImportError:  # pragma: no cover - built without a C compiler
    _stat_all = None

_name = attrgetter("name")  # (a DirEntry's name: the sort key of a listing, in C)

_new = object.__new__
_set_location, _set_name, _set_problem = (Submission.__dict__[k].__set__ for k in ("location", "name", "problem"))
_set_sub, _set_county, _set_year, _set_stat = (InboxFile.__dict__[k].__set__ for k in ("sub", "county", "year", "stat"))


def inbox_file(
    location: str,
    name: str,
    problem: str | None,
    county: str | None,
    year: int | None,
    stat: tuple[int, int] | None,
) -> InboxFile:
    """``InboxFile(Submission(location, name, problem), county, year, stat)``, its slots set as they
    are (the frozen dataclasses' ``__init__`` sets each field through ``object.__setattr__``: half
    the cost of listing 100,000 files above their stats): what :func:`discover` makes of each file
    it lists (``tests/run/test_inbox.py`` holds the fields to those set here)."""
    sub = _new(Submission)
    _set_location(sub, location)
    _set_name(sub, name)
    _set_problem(sub, problem)
    f = _new(InboxFile)
    _set_sub(f, sub)
    _set_county(f, county)
    _set_year(f, year)
    _set_stat(f, stat)
    return f


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def find_registry(root: Path) -> Path | None:
    """``<root>/registry.csv``, else ``registry.csv`` next to the root; None when there is none."""
    for cand in (root / "registry.csv", root.parent / "registry.csv"):
        if cand.is_file():
            return cand
    return None


def load_expected(registry: Path | None) -> tuple[list[Agency] | None, dict[str, str]]:
    """The registry's agencies (None without a registry) and the rename table beside it."""
    if registry is None:
        return None, {}
    return load_registry(registry), load_renames(registry.parent / "renames.csv")


@dataclass(frozen=True, slots=True)
class Scope:
    """The part of the inbox a run re-reads: a year, a county, an agency (None: all)."""

    year: int | None = None
    county: str | None = None
    agency: str | None = None

    @property
    def everything(self) -> bool:
        return self.year is None and self.county is None and self.agency is None

    def describe(self) -> str:
        parts = []
        if self.year is not None:
            parts.append(f"{self.year} 年度")
        if self.county:
            parts.append(self.county)
        if self.agency:
            parts.append(self.agency)
        return "、".join(parts) if parts else "全部"

    def covers(self, f: InboxFile, known_agency: str | None = None, known_year: int | None = None) -> bool:
        """Does the run re-read this file?  ``known_*``: what the last run read in it (from the store)."""
        if self.year is not None and (f.year if f.year is not None else known_year) != self.year:
            return False
        if self.county is not None and (f.county or "") != nfkc(self.county).strip():
            return False
        if self.agency is not None:
            want = normalise_agency(self.agency)
            names = [f.agency_hint, normalise_agency(known_agency)]
            if not want or not any(n and (n == want or n.endswith(want)) for n in names):
                return False
        return True


def missing_agencies(
    registry: Sequence[Agency],
    years: Sequence[int],
    submitted: Sequence[tuple[str | None, int | None, Sequence[str]]],
    renames: dict[str, str] | None = None,
) -> dict[tuple[str, int], list[Agency]]:
    """Registry agencies without any submission for a year: ``(county, year) -> [agency]``.

    ``submitted`` holds, per file, (county folder, report year, agency keys it may stand for: the
    name in its title and the one its file name suggests).  A county's agency counts as submitted
    when a file of that year names it, in that county's folder or outside the layout.
    """
    renames = renames or {}

    def follow(k: str) -> str:
        seen: set[str] = set()
        while k in renames and k not in seen:
            seen.add(k)
            k = renames[k]
        return k

    have: set[tuple[str | None, int | None, str]] = set()
    for county, year, keys in submitted:
        for k in keys:
            if k:
                have.add((county, year, follow(k)))
    out: dict[tuple[str, int], list[Agency]] = {}
    for y in sorted(set(years)):
        for a in registry:
            k = follow(a.key)
            if (a.county, y, k) not in have and (None, y, k) not in have:
                out.setdefault((a.county, y), []).append(a)
    return out
