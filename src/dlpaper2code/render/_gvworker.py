"""Graphviz layout server, run as a child process by dlpaper2code.render.gv.

Standalone (no package imports) so it starts fast.  It loads Graphviz's C
library (libgvc) once, then serves requests on stdin/stdout: a request is
the output formats and a DOT text; the answer is one rendering of the same
layout per format.  Graphviz aborts the process on some layouts (for
example "trapezoid.c: newtrap: Assertion" with splines=ortho); the parent
then sees end-of-file, starts a new server and reports that graph.

Framing, all integers big-endian uint32:
  request:  n_formats, (len, bytes) per format, len, DOT bytes
  answer:   status (0 ok, 1 error), then ok: (len, bytes) per format;
            error: len, message bytes
A request with n_formats = 0xFFFFFFFF is a ping, answered with status 0.
"""
import ctypes
import ctypes.util
import struct
import sys


def _load():
    gvc = ctypes.CDLL(ctypes.util.find_library("gvc") or "libgvc.so.6")
    cgraph = ctypes.CDLL(ctypes.util.find_library("cgraph") or "libcgraph.so.6")
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    gvc.gvContext.restype = vp
    gvc.gvContext.argtypes = []
    cgraph.agmemread.restype = vp
    cgraph.agmemread.argtypes = [cp]
    cgraph.agclose.argtypes = [vp]
    cgraph.agseterr.argtypes = [ctypes.c_int]
    cgraph.agseterr(1)                          # AGERR: no warnings on stderr
    gvc.gvLayout.argtypes = [vp, vp, cp]
    gvc.gvLayout.restype = ctypes.c_int
    gvc.gvRenderData.argtypes = [vp, vp, cp, ctypes.POINTER(vp), ctypes.POINTER(ctypes.c_uint)]
    gvc.gvRenderData.restype = ctypes.c_int
    gvc.gvFreeRenderData.argtypes = [vp]
    gvc.gvFreeLayout.argtypes = [vp, vp]
    ctx = gvc.gvContext()
    if not ctx:
        raise OSError("gvContext() failed")
    return gvc, cgraph, ctx


def _layout(gvc, cgraph, ctx, dot: bytes, formats: list) -> list:
    g = cgraph.agmemread(dot)
    if not g:
        raise ValueError("Graphviz could not parse the DOT text")
    try:
        if gvc.gvLayout(ctx, g, b"dot") != 0:
            raise ValueError("Graphviz layout failed")
        out = []
        try:
            for fmt in formats:
                buf, n = ctypes.c_void_p(), ctypes.c_uint()
                if gvc.gvRenderData(ctx, g, fmt, ctypes.byref(buf), ctypes.byref(n)) != 0:
                    raise ValueError("Graphviz could not render format " + fmt.decode())
                try:
                    out.append(ctypes.string_at(buf, n.value))
                finally:
                    gvc.gvFreeRenderData(buf)
        finally:
            gvc.gvFreeLayout(ctx, g)
        return out
    finally:
        cgraph.agclose(g)


def _read(stream, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError
    return data


def _u32(stream) -> int:
    return struct.unpack(">I", _read(stream, 4))[0]


def main() -> None:
    rd, wr = sys.stdin.buffer, sys.stdout.buffer
    try:
        lib = _load()
    except Exception as exc:                       # report, then answer every request with it
        lib, load_error = None, f"libgvc did not load: {exc}"
    while True:
        try:
            n = _u32(rd)
            if n == 0xFFFFFFFF:
                wr.write(struct.pack(">I", 0 if lib else 1))
                if not lib:
                    msg = load_error.encode()
                    wr.write(struct.pack(">I", len(msg)) + msg)
                wr.flush()
                continue
            formats = [_read(rd, _u32(rd)) for _ in range(n)]
            dot = _read(rd, _u32(rd))
        except EOFError:
            return
        try:
            if lib is None:
                raise ValueError(load_error)
            outs = _layout(*lib, dot, formats)
        except Exception as exc:
            msg = str(exc).encode()
            wr.write(struct.pack(">II", 1, len(msg)) + msg)
        else:
            wr.write(struct.pack(">I", 0))
            for data in outs:
                wr.write(struct.pack(">I", len(data)))
                wr.write(data)
        wr.flush()


if __name__ == "__main__":
    main()
