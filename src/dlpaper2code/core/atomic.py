"""One way to write a file or a folder so that a reader never sees half of it.

Everything the project writes for someone else to read (graphs, code, metrics,
manifests, images, model files, whole output folders) is written beside its
destination under a temporary name and renamed into place (``os.replace``,
atomic on one file system).  A failure leaves the previous file, or nothing,
never a partial file that looks complete; the temporary is removed.  Files get
the permissions the umask gives a new file (not the 0600 of a temp file).

    atomic_write_text(path, text)
    atomic_write_bytes(path, data)
    with atomic_path(path) as tmp:          # any writer that takes a path (savefig, PIL, joblib, csv)
        image.save(tmp)
    with atomic_dir(folder) as tmp:         # a whole folder, swapped in at the end
        (tmp / "a.json").write_text("...")
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def replace_into(tmp: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Move a finished temporary file or folder into place: a file by one rename; a folder by
    renaming the old one aside, the new one in, then removing the old (never a moment without
    either).  For writers that must name their temporary themselves (a PDF library, a whole
    output folder built step by step)."""
    tmp, path = Path(tmp), Path(path)
    if tmp.is_dir() and path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
        os.replace(path, old / path.name)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, fsync: bool = False) -> Iterator[Path]:
    """A temporary file path beside `path` (with the same suffix, so writers choose the same
    format); it becomes `path` when the block ends without an exception, and is removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary folder beside `path` that replaces `path` (and whatever it held) on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        replace_into(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, fsync: bool = False) -> Path:
    with atomic_path(path, fsync=fsync) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8", *, fsync: bool = False) -> Path:
    with atomic_path(path, fsync=fsync) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


__all__ = ["atomic_dir", "atomic_path", "atomic_write_bytes", "atomic_write_text", "replace_into"]
