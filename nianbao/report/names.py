"""Safe names and safe text for the outputs.

Everything here treats submission text as hostile: agency names become file names only through
:func:`safe_stem` (no path separators, no ``..``, no control characters, bounded length, Chinese
kept), and every string written to HTML or Excel first goes through :func:`clean_text` (no control
characters, no lone surrogates, which would corrupt the file or crash the encoder).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import unicodedata
from pathlib import Path

from nianbao.io.atomic import FILE_MODE, UnsafePath, inside, write_text

MAX_STEM = 40  # characters of the readable part of a page name (a Chinese char is 3 bytes)

# C0/C1 control characters except tab and newline, lone surrogates, non-characters.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_text(s: str) -> str:
    """``s`` without characters that HTML/XML cannot carry (each replaced by U+FFFD)."""
    # every character the pattern replaces is non-printable: most strings skip the regex
    return s if s.isprintable() else _BAD_CHARS.sub("\ufffd", s)


def safe_stem(text: str | None, max_len: int = MAX_STEM) -> str:
    """A file-name stem from submission text: letters and digits of any script (Chinese kept),
    ``-`` and ``_``; everything else (``/``, ``\\``, ``.``, ``:``, spaces, controls, …) becomes ``_``."""
    if text and text.isalnum() and text.isprintable() and unicodedata.is_normalized("NFKC", text):
        return text[:max_len]  # an agency name as most are (letters and digits only): nothing to replace
    s = unicodedata.normalize("NFKC", clean_text(text or ""))
    out = []
    for ch in s:
        out.append(ch if (ch.isalnum() and ch.isprintable()) or ch in "-" else "_")
    stem = re.sub(r"_+", "_", "".join(out)).strip("_-")
    return stem[:max_len].rstrip("_-") or "report"


def short_hash(text: str, n: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:n]


def page_name(file: str, agency: str | None, year: int | None) -> str:
    """The report page of a submission: ``<agency>_<year>-<hash of the file path>.html``.

    The hash makes names unique (two files of the same agency) and stable across runs."""
    stem = safe_stem(agency) if agency else safe_stem(Path(file).stem)
    if year is not None:
        stem = f"{stem}_{year}"
    return f"{stem}-{short_hash(file)}.html"


def county_page_name(county: str) -> str:
    """The page of a county under ``counties/``: ``<county>-<hash of the name>.html``."""
    return f"{safe_stem(county)}-{short_hash(county)}.html"


def page_path(root: Path, sub: str, name: str) -> Path:
    """``root/sub/name``, checked to stay inside ``root`` (raises :class:`UnsafePath`)."""
    if Path(name).name != name:
        raise UnsafePath(f"{name} 不是单纯的文件名")
    return inside(root, Path(sub) / name)


class PageDir:
    """A folder of the output that many pages go to (``reports/``, ``counties/``), checked once.

    The folder is resolved and checked to be inside ``root`` when it is opened (a planted symlink
    ``reports -> /elsewhere`` raises :class:`UnsafePath`); each page name is then only checked to be
    a plain file name — no per-page ``resolve()`` (thousands of ``lstat`` calls for a large run).
    A page is written by a rename, which replaces a symlink of that name rather than following it."""

    def __init__(self, root: Path, sub: str) -> None:
        self.path = inside(root, sub)
        self.path.mkdir(parents=True, exist_ok=True)
        self.folder = str(self.path)

    def file(self, name: str) -> Path:
        return self.path / _plain_name(name)

    def write(self, name: str, text: str) -> None:
        """Write page ``name`` as :func:`nianbao.io.atomic.write_text` does without ``durable``
        (a temporary file of mode 0644 renamed over the page; removed on failure), in fewer steps
        a page: a temporary name made of the page's name and the process id (``O_EXCL``, no symlink
        followed), no ``mkdir``, file object or random name.  A temporary file of that name left by
        a killed run: the page is written the usual way."""
        target = f"{self.folder}/{_plain_name(name)}"
        tmp = f"{self.folder}/.{name}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, _TMP_FLAGS, FILE_MODE)
        except FileExistsError:
            write_text(Path(target), text, durable=False)
            return
        try:
            os.fchmod(fd, FILE_MODE)  # as write_with: whatever the umask
            data = memoryview(text.encode("utf-8"))
            while data:
                data = data[os.write(fd, data) :]
            os.close(fd)
            fd = -1
            os.rename(tmp, target)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _plain_name(name: str) -> str:
    """``name`` when it is a plain file name (else :class:`UnsafePath`)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise UnsafePath(f"{name} 不是单纯的文件名")
    return name


_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
