"""One way to write a file so that a reader never sees half of it.

Everything the project writes for someone else to read (graphs, code, metrics,
manifests, images, whole output folders) is written next to its destination
under a temporary name and renamed into place (``os.replace``, atomic on one
file system).  A failure leaves the previous file, or nothing, never a partial
file that looks complete; the temporary is removed.

    atomic_write_text(path, text)
    atomic_write_bytes(path, data)
    with atomic_path(path) as tmp:          # any writer that takes a path (savefig, PIL, csv)
        image.save(tmp)
"""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """A temporary path beside `path` (same suffix, so writers pick the same format), renamed to `path`
    when the block ends without an exception; removed otherwise.  Works for folders too."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix if suffix is None else suffix}")
    try:
        yield tmp
        if tmp.is_dir() and path.is_dir():
            old = path.with_name(f".{path.name}.{os.getpid()}.old")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text"]
