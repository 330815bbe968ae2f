"""Pages reused from the previous run: an unchanged report is not rendered again.

Each run folder holds ``pages.json``: for every page it wrote, the *key* of what the page shows —
a SHA-256 over the page's inputs (for a report page: the file's bytes by their SHA-256, its
outcome row, its findings with their status against the previous run and their acknowledgement,
its county; for a county page: everything its context holds) salted with the source of the whole
``nianbao`` package (code, templates, style, catalogue: :func:`code_salt`), the rule-set version
and the loader limits.  When the previous run's ``pages.json`` has the same key for the same page,
the page is hard-linked from the previous run folder (copied where links are not possible)
instead of rendered; every other page is rendered as before.

What a page shows decides its key, so a page never carries data of another run: the report and
county pages show the report (and the comparison with the run before, which the key holds), never
the run's time — that is on ``index.html``, which is rendered on every run, like ``findings.xlsx``
(its 概况 sheet names the run's time and the run it compares with) and the JSON files.

``pages.json`` also records how many pages the run rendered and how many it reused
(:class:`PageStats`).

**The whole run at once** (:meth:`Reuse.adopt`): every key above is a function of the run's
outcome and of its review against the previous run.  ``pages.json`` also records the *views key*:
the salt, the digest of the contract files (``submissions.json`` and ``findings.json``: every
report and finding as the views read them), ``run.json`` but for this run's own facts
(:data:`VOLATILE`), the registry and the review (every finding's status and acknowledgement, every
report's change, the resolved and withdrawn lists).  When the previous run's contract files are
this run's byte for byte (the review's ``unchanged``: then their digest is the previous run's, not
computed again) and its views key is this run's, no page key is computed: every page the previous
run recorded is linked at once, the workbook takes its previous key, and only ``index.html`` (and
the workbook's 汇总) is rendered — an unchanged nightly rerun.

**The contract files by key** (:func:`link_contract`): a run that knows what its contract files
are a function of (:attr:`nianbao.outcome.RunOutcome.contract_key`) records that key, salted,
in ``.contract-key`` after writing them; the next run under the same key links the previous
run's files without serialising them, unless one was changed after its key was written.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from stat import S_ISREG
from typing import Any

import orjson

from nianbao.io.atomic import write_bytes
from nianbao.report.names import PageDir

MANIFEST = "pages.json"
FORMAT = 2  # bump when the manifest's layout or the meaning of a key changes (2: "views", "contract")
CONTRACT = ("submissions.json", "findings.json")  # what the views show of every report and finding
RUN_FACTS = "run.json"
VOLATILE = ("started_at", "timings_s", "previous_run")  # run.json facts of this run alone


@cache
def code_salt() -> str:
    """SHA-256 over every source file of the package (code, templates, style, rule data): any
    change to what renders a page, or to what the page's data is computed by, renders it again."""
    return tree_hash(Path(__file__).resolve().parents[1])  # the nianbao package


SOURCES = frozenset({".py", ".j2", ".css", ".toml", ".csv", ".json", ".txt"})


def tree_hash(root: Path) -> str:
    """SHA-256 over the names and bytes of the source files under ``root`` (:data:`SOURCES`)."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if "__pycache__" in rel.parts or p.suffix not in SOURCES or not p.is_file():
            continue
        h.update(str(rel).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _salt() -> str:
    from nianbao.catalogue import ruleset_version
    from nianbao.io.limits import Limits

    salt = f"{FORMAT}|{code_salt()}|{ruleset_version()}|{Limits.from_env()!r}"
    return hashlib.sha256(salt.encode()).hexdigest()


def _default(obj: Any) -> Any:
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=str)
    to_json = getattr(obj, "to_json", None)
    return to_json() if callable(to_json) else str(obj)


@dataclass
class PageStats:
    """What a run did with its pages (recorded in ``pages.json``)."""

    rendered: int = 0
    reused: int = 0
    rendered_pages: list[str] = field(default_factory=list)  # folder-relative names, in order
    seconds: float = 0.0  # time spent keying and linking


class Reuse:
    """The pages of one run folder ``out``, each reused from ``previous`` when its key is unchanged."""

    def __init__(self, out: Path, previous: Path | None) -> None:
        self.out = out
        self.previous = previous
        self.salt = _salt()
        self.keys: dict[str, str] = {}
        self.stats = PageStats()
        self._prev: dict[str, str] = {}
        self._prev_views: str | None = None
        self._prev_contract: str | None = None
        self.views: str | None = None  # this run's views key (None: its contract files are not known)
        self.contract: str | None = None  # the digest of this run's contract files, when known
        self.adopted = False  # every page taken from the previous run at once (:meth:`adopt`)
        if previous is not None and previous.resolve() != out.resolve():
            self._prev, self._prev_views, self._prev_contract = _load(previous / MANIFEST, self.salt)

    def key(self, kind: str, *parts: Any) -> str:
        t = time.perf_counter()
        k = self._hash(kind, parts)
        self.stats.seconds += time.perf_counter() - t
        return k

    def _hash(self, kind: str, parts: tuple[Any, ...]) -> str:
        body = orjson.dumps([self.salt, kind, parts], default=_default, option=orjson.OPT_NON_STR_KEYS)
        return hashlib.sha256(body).hexdigest()

    def match(self, rel: str, key: str) -> Path | None:
        """Record ``rel``'s key; the previous run's file when it was written under the same key."""
        self.keys[rel] = key
        if self.previous is not None and self._prev.get(rel) == key:
            return self.previous / rel
        return None

    @property
    def can_take(self) -> bool:
        """Whether any page can be taken from the previous run (it has keys under this salt):
        when not, every page is rendered and its key is only recorded — which the views do after
        their helper is forked, in parallel with the rendering."""
        return self.previous is not None and bool(self._prev)

    def take(self, rel: str, key: str, target: Path) -> bool:
        """Record ``rel``'s key; link the previous run's page to ``target`` when its key is the
        same (True), else leave it to be rendered (False, counted as rendered)."""
        prev = self.match(rel, key)
        if prev is not None:
            t = time.perf_counter()
            ok = _link(prev, target)
            self.stats.seconds += time.perf_counter() - t
            if ok:
                self.reused(rel)
                return True
        self.rendered(rel)
        return False

    def reused(self, rel: str) -> None:
        self.stats.reused += 1

    def adopt(
        self, unchanged: bool, *parts: Any, keep: Sequence[str] = (), meanwhile: Callable[[], object] | None = None
    ) -> bool:
        """The whole run's views key (the module's docstring): ``unchanged``: the previous run's
        contract files are byte for byte those in :attr:`out`; ``parts``: the review and whatever
        else the pages show beside the contract files and ``run.json``.  When it is the previous
        run's, every page the previous run recorded but those in ``keep`` is linked into
        :attr:`out` now, under its previous key (True: render none of them; :meth:`known` gives
        the previous key of those in ``keep``).  False: nothing taken, key the pages one by one.
        ``meanwhile``: work run once every page is known to be there to link, while the links are
        made (it may run even when the result is False: work the caller does again then)."""
        t = time.perf_counter()
        try:
            self.contract = self._prev_contract if unchanged and self._prev_contract else None
            if self.contract is None and unchanged:
                self.contract = contract_digest(self.out)
            facts = run_facts(self.out)
            if self.contract is None or facts is None:
                return False
            self.views = self._hash("views", (self.contract, facts, parts))
            if self.previous is None or self.views != self._prev_views or not self._prev:
                return False
            linked = _link_all(self.previous, self.out, [r for r in self._prev if r not in keep], meanwhile)
            if linked is None:
                return False
            self.keys.update((rel, self._prev[rel]) for rel in linked)
            self.stats.reused += len(linked)
            self.adopted = True
            return True
        finally:
            self.stats.seconds += time.perf_counter() - t

    def known(self, rel: str) -> str | None:
        """The previous run's key of ``rel`` when the whole run was adopted (:meth:`adopt`)."""
        return self._prev.get(rel) if self.adopted else None

    def rendered(self, rel: str) -> None:
        """A page rendered (its key changed, or it has none: it shows this run's own facts)."""
        self.stats.rendered += 1
        self.stats.rendered_pages.append(rel)

    def save(self) -> None:
        body = {
            "format": FORMAT,
            "salt": self.salt,
            "rendered": self.stats.rendered,
            "reused": self.stats.reused,
            "rendered_pages": sorted(self.stats.rendered_pages),
            "views": self.views,
            "contract": self.contract,
            "pages": dict(sorted(self.keys.items())),
        }
        write_bytes(self.out / MANIFEST, orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n", durable=False)


def _load(path: Path, salt: str) -> tuple[dict[str, str], str | None, str | None]:
    """The page keys, views key and contract digest of a previous run (nothing when it has no
    manifest, or another salt: nothing reused)."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}, None, None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("salt") != salt:
        return {}, None, None
    pages = data.get("pages")
    if not isinstance(pages, dict):
        return {}, None, None
    views, contract = data.get("views"), data.get("contract")
    return (
        {str(k): str(v) for k, v in pages.items() if isinstance(v, str)},
        views if isinstance(views, str) else None,
        contract if isinstance(contract, str) else None,
    )


def write_or_link(target: Path, body: bytes, previous: Path | None) -> bool:
    """Write ``body`` to ``target`` durably (:func:`nianbao.io.atomic.write_bytes`) — or, when the
    previous run's file of that name holds these very bytes, hard-link that one (True): an
    unchanged rerun writes and fsyncs no contract file again, and the review sees at once that its
    contract files are the previous run's (:func:`same_file`), without serialising them twice."""
    if previous is not None and previous.resolve() != target.parent.resolve():
        src = previous / target.name
        try:
            st = os.lstat(src)
            if S_ISREG(st.st_mode) and st.st_size == len(body) and src.read_bytes() == body and _link(src, target):
                return True
        except OSError:
            pass
    write_bytes(target, body)
    return False


CONTRACT_KEY = ".contract-key"  # the key a run folder's contract files were written under


def contract_key(run_key: str | None) -> str | None:
    """The key of a run's contract files: what the run says they are a function of
    (:attr:`nianbao.outcome.RunOutcome.contract_key`) salted as the pages are (the code that
    serialises them, the rule-set version, the loader limits); None when the run does not know."""
    if run_key is None:
        return None
    return hashlib.sha256(f"{_salt()}|{run_key}".encode()).hexdigest()


def link_contract(out: Path, previous: Path | None, key: str | None) -> bool:
    """When the previous run wrote its contract files (:data:`CONTRACT`) under ``key``: link them,
    and the key, into ``out`` (True) — an unchanged rerun neither serialises 100,000 files' rows
    nor reads the previous run's bytes to compare.  Not when a contract file there was changed after
    its key was written (a newer modification time: edited by hand), as :func:`write_or_link`,
    which compares the bytes, would not link it either.  False (nothing linked): write them, then
    :func:`record_contract`."""
    if key is None or previous is None or previous.resolve() == out.resolve():
        return False
    try:
        if (previous / CONTRACT_KEY).read_text(encoding="ascii").strip() != key:
            return False
        # (a link keeps the times, a copy's come in the order linked: the key's is the latest)
        written = os.lstat(previous / CONTRACT_KEY).st_mtime_ns
        if any(os.lstat(previous / name).st_mtime_ns > written for name in CONTRACT):
            return False
    except (OSError, ValueError):
        return False
    return all(_link(previous / name, out / name) for name in (*CONTRACT, CONTRACT_KEY))


def record_contract(out: Path, key: str | None) -> None:
    """Record the key the contract files in ``out`` were just written under (after them: a key
    never names files not yet written); none when the run does not know it."""
    target = out / CONTRACT_KEY
    if key is None:
        target.unlink(missing_ok=True)
        return
    write_bytes(target, key.encode("ascii") + b"\n", durable=False)


def same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` are one file (a link :func:`write_or_link` made); False when either is missing."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def contract_digest(folder: Path) -> str | None:
    """SHA-256 over the contract files of a run folder (:data:`CONTRACT`; None when one is missing)."""
    h = hashlib.sha256()
    try:
        for name in CONTRACT:
            with (folder / name).open("rb") as f:
                h.update(hashlib.file_digest(f, "sha256").digest())
    except OSError:
        return None
    return h.hexdigest()


def run_facts(folder: Path) -> dict[str, Any] | None:
    """``run.json`` of a run folder without this run's own facts (:data:`VOLATILE`); None when
    it cannot be read."""
    try:
        data = orjson.loads((folder / RUN_FACTS).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return {k: v for k, v in data.items() if k not in VOLATILE}


def _plain(rel: str) -> list[str] | None:
    """The parts of a page's folder-relative name when each is a plain name, else None."""
    parts = rel.split("/")
    if len(parts) > 2 or any(not p or p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
        return None
    return parts


def _link_all(
    previous: Path, out: Path, rels: Sequence[str], meanwhile: Callable[[], object] | None = None
) -> list[str] | None:
    """Every page of ``rels`` linked from ``previous`` into ``out`` (a hard link, else a copy;
    a page already in ``out`` is replaced); None when one of them cannot be (a name that is not a
    plain page name, a page missing or not a regular file in ``previous``).  ``meanwhile``: run
    once every page is known to be there, while the links are made (in a thread, by one compiled
    call a folder that releases the GIL: the links' system calls overlap the caller's Python)."""
    # (paths joined as strings: two pathlib joins a page were a third of the linking)
    folders: dict[str, str] = {"": str(out)}
    for rel in rels:
        parts = _plain(rel)
        if parts is None:
            return None
        if len(parts) == 2 and parts[0] not in folders:
            folders[parts[0]] = str(PageDir(out, parts[0]).path)  # checked once: inside ``out``
    prev = str(previous)
    # each folder's pages linked through descriptors of the two folders (``linkat`` of a name: not
    # two whole paths walked a page), the previous run's regular files known from one listing of
    # its folder (not an ``lstat`` a page): 11,000 pages of an unchanged rerun, ~0.03 s less
    fds: dict[str, tuple[int, int, frozenset[str]]] = {}
    # every page's folder and name, by folder in the pages' order (checked before any is linked)
    groups: dict[str, list[str]] = {}
    try:
        try:
            for rel in rels:
                head, _, name = rel.rpartition("/")
                at = fds.get(head)
                if at is None:
                    at = fds[head] = _folder_fds(f"{prev}/{head}" if head else prev, folders[head])
                if name not in at[2]:
                    return None  # missing, or not a regular file (a symlink planted in its place …)
                groups.setdefault(head, []).append(name)
        except OSError:
            return None
        # the links: (folder, name, errno) of each that failed
        failed: list[tuple[str, str, int]] = []
        if _linkat_all is None:
            if meanwhile is not None:
                meanwhile()
            for head, names in groups.items():
                sfd, dfd, _names = fds[head]
                for name in names:
                    try:
                        os.link(name, name, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)
                    except OSError as e:
                        failed.append((head, name, e.errno or 0))
        else:
            linkat_all = _linkat_all

            def link_groups() -> None:
                for head, names in groups.items():
                    failed.extend((head, names[i], err) for i, err in linkat_all(fds[head][0], fds[head][1], names))

            if meanwhile is None:
                link_groups()
            else:
                errors: list[BaseException] = []

                def worker() -> None:
                    try:
                        link_groups()
                    except BaseException as e:  # (raised in the caller's thread below)
                        errors.append(e)

                thread = threading.Thread(target=worker, name="nianbao-page-links", daemon=True)
                thread.start()
                try:
                    meanwhile()
                finally:
                    thread.join()  # (before the descriptors are closed)
                if errors:
                    raise errors[0]
        # a page that could not be linked as such, as before: one already in ``out`` replaced
        # atomically, one on another file system (too many links …) copied
        for head, name, err in failed:
            src = f"{prev}/{head}/{name}" if head else f"{prev}/{name}"
            target = f"{folders[head]}/{name}"
            try:
                if err == errno.EEXIST:
                    if not _link(Path(src), Path(target)):
                        return None
                else:
                    shutil.copyfile(src, target, follow_symlinks=False)
            except OSError:
                return None
    finally:
        for sfd, dfd, _names in fds.values():
            os.close(sfd)
            os.close(dfd)
    return list(rels)


# many names linked by one compiled call, the GIL released (optional: nianbao/io/decode.c)
_linkat_all: Callable[[int, int, list[str]], list[tuple[int, int]]] | None
try:
    from nianbao.io.decode import linkat_all as _compiled_linkat_all

    _linkat_all = _compiled_linkat_all
except ImportError:  # pragma: no cover - built without a C compiler
    _linkat_all = None


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def _folder_fds(src: str, target: str) -> tuple[int, int, frozenset[str]]:
    """Descriptors of a previous run's folder and of this run's, and the names of the regular
    files in the previous one (by the listing's file types: no stat of each)."""
    sfd = os.open(src, _DIR_FLAGS)
    try:
        with os.scandir(sfd) as it:
            names = frozenset(e.name for e in it if e.is_file(follow_symlinks=False))
        dfd = os.open(target, _DIR_FLAGS)
    except OSError:
        os.close(sfd)
        raise
    return sfd, dfd, names


def _link(src: Path, target: Path) -> bool:
    """``target`` becomes the same file as ``src`` (a hard link, else a copy), atomically: a
    temporary name in the target's folder, then a rename.  False when ``src`` is not a regular
    file (a page missing from the previous run, or a symlink planted in its place)."""
    try:
        if not src.is_file() or src.is_symlink():
            return False
        tmp = target.parent / f".{target.name}.{os.getpid()}.link.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            os.link(src, tmp, follow_symlinks=False)
        except OSError:
            shutil.copyfile(src, tmp, follow_symlinks=False)
        os.replace(tmp, target)
        return True
    except OSError:
        return False


def splice_zip(src: Path, target: Path, fresh: dict[str, bytes]) -> None:
    """``target`` (atomically): the zip ``src`` with the members named in ``fresh`` replaced by
    those bytes (compressed), every other member copied as it is stored — not decompressed and
    compressed again (that is most of the cost of writing a large workbook's archive).  Each name
    in ``fresh`` must be a member of ``src`` (at least one: writing one is what makes the archive's
    directory be written on close)."""
    import struct
    import tempfile
    import zipfile

    if not fresh:
        raise ValueError("splice_zip: nothing to replace (link the file instead)")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
            assert zin.fp is not None and zout.fp is not None
            for info in zin.infolist():
                if info.filename in fresh:
                    zi = zipfile.ZipInfo(info.filename, info.date_time)
                    zi.compress_type = zipfile.ZIP_DEFLATED
                    zi.external_attr = info.external_attr
                    zout.writestr(zi, fresh[info.filename])
                    continue
                zin.fp.seek(info.header_offset)
                head = zin.fp.read(30)
                name_len, extra_len = struct.unpack("<HH", head[26:30])
                zin.fp.seek(info.header_offset + 30 + name_len + extra_len)
                raw = zin.fp.read(info.compress_size)
                zi = zipfile.ZipInfo(info.filename, info.date_time)
                zi.compress_type = info.compress_type
                zi.flag_bits = info.flag_bits & ~0x08  # sizes in the header, no data descriptor
                zi.external_attr = info.external_attr
                zi.create_system = info.create_system
                zi.CRC, zi.compress_size, zi.file_size = info.CRC, info.compress_size, info.file_size
                zout.fp.seek(zout.start_dir)
                zi.header_offset = zout.fp.tell()
                zout.fp.write(zi.FileHeader())
                zout.fp.write(raw)
                zout.start_dir = zout.fp.tell()
                zout.filelist.append(zi)
                zout.NameToInfo[zi.filename] = zi
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
