"""The guarded worker: heavy formats (PDF, Word, Excel, HTML) are parsed in a separate process.

A hostile or broken file can make a parsing library loop, recurse or allocate without end, or crash
in C code.  The worker (``python -m nianbao.read.worker``, a plain child process: independent of
how the parent was started) is kept alive between files, so the parsing libraries are imported
once and only there.  The parent waits for each answer at most ``parse_timeout`` (+ a grace), then
kills the worker, reports the file as ``unreadable`` (U06) and starts a fresh worker for the next
file; a worker that dies (a crash in C code) gives U05.  The worker's address space is capped
(``NIANBAO_WORKER_MEMORY_MB``, default 2048), so a memory bomb fails inside it with a MemoryError.
Answers come back pickled, and are unpickled with an allow-list of the report's own classes: a
worker subverted by a malicious file cannot make the parent run code.  Where no child process can
be started the file is parsed in-process, still within the size, structure and time limits.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from nianbao.domain.model import ParsedReport
from nianbao.io.limits import Limits
from nianbao.io.sniff import sniff

GRACE_S = 5.0  # the worker's own (soft) time limit fires first; the hard kill follows after this
DEFAULT_WORKER_MB = 2048
_HEADER = struct.Struct("!Q")
MAX_ANSWER = 512 * 1024 * 1024

# what an answer may contain (module, name): the report model, its enums and plain containers
_ALLOWED = {
    ("nianbao.domain.model", "ParsedReport"),
    ("nianbao.domain.model", "CellMap"),
    ("nianbao.domain.model", "LayoutList"),
    ("nianbao.domain.model", "Sections"),
    ("nianbao.domain.model", "Cell"),
    ("nianbao.domain.model", "LayoutFact"),
    ("nianbao.domain.model", "RowIssue"),
    ("nianbao.domain.normalize", "State"),
    ("nianbao.domain.spec", "Fmt"),
    ("array", "array"),
    ("array", "_array_reconstructor"),
    ("builtins", "bytearray"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "getattr"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a worker's answer")
        return super().find_class(module, name)


def _loads(data: bytes) -> Any:
    return _Unpickler(io.BytesIO(data)).load()


def _write(fh: IO[bytes], obj: object) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(_HEADER.pack(len(payload)) + payload)
    fh.flush()


def _read_exact(fh: IO[bytes], n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = fh.read(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _worker_mb() -> int:
    try:
        return max(256, int(os.environ.get("NIANBAO_WORKER_MEMORY_MB", DEFAULT_WORKER_MB)))
    except ValueError:
        return DEFAULT_WORKER_MB


def serve(load: Callable[[str, bytes, Limits], ParsedReport]) -> None:  # pragma: no cover - worker
    """The worker's loop: read (name, data, limits), answer the parsed report ``load`` reads
    (:func:`nianbao.read.load.load_bytes`, handed in by :mod:`nianbao.read.worker`)."""
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    try:
        import resource

        cap = _worker_mb() * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass
    import logging
    import warnings

    logging.disable(logging.WARNING)  # library chatter (fontTools, pdfminer) is not the user's business
    warnings.simplefilter("ignore")

    while True:
        try:
            (n,) = _HEADER.unpack(_read_exact(proto_in, _HEADER.size))
            name, data, limits = pickle.loads(_read_exact(proto_in, n))  # from our own parent
        except (EOFError, OSError, pickle.UnpicklingError, struct.error):
            return
        if name is None:
            return
        rep = load(name, data, limits)
        try:
            _write(proto_out, rep)
        except (OSError, ValueError):
            return


WORKER_CMD = [sys.executable, "-m", "nianbao.read.worker"]


class Worker:
    def __init__(self) -> None:
        env = dict(os.environ)
        env.setdefault("PYTHONHASHSEED", "0")
        self.proc = subprocess.Popen(
            WORKER_CMD,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        try:
            _write(self.stdin, (None, b"", None))
            self.proc.wait(timeout=2)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for fh in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                fh.close()

    def _send(self, msg: object) -> None:
        with contextlib.suppress(OSError, ValueError):
            _write(self.stdin, msg)

    def run(self, name: str, data: bytes, limits: Limits) -> ParsedReport | str:
        """The parsed report, or ``"timeout"`` / ``"crash"``."""
        deadline = time.monotonic() + limits.parse_timeout + GRACE_S
        # the request is written from a thread: a worker that stops reading must not block the parent
        sender = threading.Thread(target=self._send, args=((name, data, limits),), daemon=True)
        sender.start()
        try:
            fd = self.stdout.fileno()
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready:
                return "timeout"
            (n,) = _HEADER.unpack(_read_exact(self.stdout, _HEADER.size))
            if n > MAX_ANSWER:
                return "crash"
            rep = _loads(_read_exact(self.stdout, n))
        except (EOFError, OSError, ValueError, pickle.UnpicklingError, struct.error, AttributeError):
            return "crash"
        return rep if isinstance(rep, ParsedReport) else "crash"


_lock = threading.Lock()
_worker: Worker | None = None
_disabled = False


def _shutdown() -> None:
    global _worker
    if _worker is not None:
        _worker.stop()
        _worker = None


atexit.register(_shutdown)


def _get_worker() -> Worker | None:
    global _worker, _disabled
    if _disabled:
        return None
    if _worker is not None and _worker.alive():
        return _worker
    if _worker is not None:
        _worker.kill()
        _worker = None
    try:
        _worker = Worker()
    except (OSError, ValueError, AssertionError):
        _disabled = True  # no child processes here: parse in-process (still within the limits)
        return None
    return _worker


def guarded_load(
    name: str,
    data: bytes,
    limits: Limits,
    load_bytes: Callable[[str, bytes, Limits], ParsedReport],
    failed: Callable[..., ParsedReport],
) -> ParsedReport:
    """Parse one heavy file in the worker process, within the time limit (``load_bytes`` in this
    process where no worker can start; ``failed``: the report of a file that could not be read)."""
    global _worker

    with _lock:
        w = _get_worker()
        if w is None:
            return load_bytes(name, data, limits)
        out = w.run(name, data, limits)
        if isinstance(out, ParsedReport):
            return out
        w.kill()
        _worker = None
    kind = sniff(data, name)
    if out == "timeout":
        return failed(name, data, "U06", kind, limit=f"{limits.parse_timeout:g}")
    return failed(name, data, "U05", kind, detail="解析进程异常退出（文件可能被恶意构造或已损坏）")
