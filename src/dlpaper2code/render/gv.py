"""Graphviz: one layout per image, served by a resident child process.

Starting the `dot` program costs about 15 ms (plugin and font set-up), more
than laying out a 40-layer graph (1 to 5 ms).  So a child process
(:mod:`._gvworker`) loads Graphviz's C library (libgvc) once and serves
layouts over a pipe: DOT text in, one rendering of that single layout per
format out (``json``: coordinates and Graphviz's drawing operations;
``png``: its cairo image), byte-identical to ``dot -T<format>``.  Graphviz
aborts its process on some layouts (splines=ortho: "trapezoid.c: newtrap:
Assertion"), which is why it does not run inside this process: a crash ends
only the server, the graph is reported with :class:`GraphvizCrash`, and the
next call starts a new server.  Where libgvc does not load, each layout is a
``dot -Tjson -o A -Tpng -o B`` run (one layout, several outputs).
"""
from __future__ import annotations

import atexit
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TIMEOUT_S = 120.0


class GraphvizError(RuntimeError):
    pass


class GraphvizCrash(GraphvizError):
    """Graphviz died (abort, assertion) or hung on this graph."""


def dot_program() -> str:
    exe = shutil.which("dot")
    if not exe:
        raise GraphvizError("Graphviz is not installed: no `dot` program (apt-get install graphviz)")
    return exe


class _Server:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-s", "-S", str(Path(__file__).with_name("_gvworker.py"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     bufsize=0)
        self.pid = os.getpid()
        self.buf = b""                 # always empty: reads take exactly what is asked
        self._send(struct.pack(">I", 0xFFFFFFFF))
        if self._u32() != 0:
            msg = self._read(self._u32()).decode(errors="replace")
            self.close()
            raise OSError(msg)

    def _send(self, data: bytes) -> None:
        self.proc.stdin.write(data)

    def _read(self, n: int) -> bytes:
        out = bytearray(n)
        view = memoryview(out)
        got = min(len(self.buf), n)
        view[:got] = self.buf[:got]
        self.buf = self.buf[got:]
        deadline = time.monotonic() + TIMEOUT_S
        stream = self.proc.stdout
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stream], [], [], left)[0]:
                raise TimeoutError
            k = stream.readinto(view[got:])
            if not k:
                raise EOFError
            got += k
        return bytes(out)

    def _u32(self) -> int:
        return struct.unpack(">I", self._read(4))[0]

    def run(self, dot: str, formats: tuple[str, ...]) -> dict[str, bytes]:
        req = [struct.pack(">I", len(formats))]
        for fmt in formats:
            req.append(struct.pack(">I", len(fmt)) + fmt.encode())
        body = dot.encode("utf-8")
        req.append(struct.pack(">I", len(body)) + body)
        self._send(b"".join(req))
        if self._u32() != 0:
            raise GraphvizError(self._read(self._u32()).decode(errors="replace"))
        return {fmt: self._read(self._u32()) for fmt in formats}

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


_LOCK = threading.Lock()
_SERVER: _Server | None = None
_NO_SERVER = False


def _close_server() -> None:
    global _SERVER
    if _SERVER is not None and _SERVER.pid == os.getpid():
        _SERVER.close()
    _SERVER = None


atexit.register(_close_server)


def _server() -> _Server | None:
    global _SERVER, _NO_SERVER
    if _SERVER is not None and _SERVER.pid != os.getpid():      # forked: the server is the parent's
        _SERVER = None
    if _SERVER is None and not _NO_SERVER and os.environ.get("DLPAPER2CODE_GRAPHVIZ") != "subprocess":
        try:
            _SERVER = _Server()
        except (OSError, EOFError, TimeoutError):
            _NO_SERVER = True
    return _SERVER


def _run_subprocess(dot: str, formats: tuple[str, ...]) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="dlp2c_gv_") as tmp:
        args, paths = [dot_program()], {}
        for fmt in formats:
            paths[fmt] = os.path.join(tmp, "out." + re.sub(r"\W", "_", fmt))
            args += [f"-T{fmt}", "-o", paths[fmt]]
        try:
            proc = subprocess.run(args, input=dot.encode("utf-8"), capture_output=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise GraphvizCrash(f"dot ran past {TIMEOUT_S:.0f} s") from None
        if proc.returncode < 0:
            raise GraphvizCrash(f"dot died (signal {-proc.returncode}): {proc.stderr.decode(errors='replace')[-300:]}")
        if proc.returncode != 0:
            raise GraphvizError(f"dot failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-400:]}")
        out = {}
        for fmt, path in paths.items():
            with open(path, "rb") as fh:
                out[fmt] = fh.read()
        return out


def run_graphviz(dot: str, formats: tuple[str, ...] = ("json",)) -> dict[str, bytes]:
    """Lay out `dot` once; return {format: bytes} for each format (json, png, ...)."""
    with _LOCK:
        server = _server()
        if server is None:
            return _run_subprocess(dot, formats)
        try:
            return server.run(dot, formats)
        except (EOFError, TimeoutError, BrokenPipeError) as exc:
            _close_server()
            what = "hung" if isinstance(exc, TimeoutError) else "crashed"
            raise GraphvizCrash(f"Graphviz {what} laying out this graph") from None


def backend() -> str:
    with _LOCK:
        return "libgvc server" if _server() is not None else "dot subprocess"
