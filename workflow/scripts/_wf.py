"""Helpers shared by the workflow scripts: logging to the rule's log file and
atomic outputs (written under a temporary name, then renamed, so a failed or
interrupted job never leaves a complete-looking output)."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import sys
import time
import traceback
from pathlib import Path

log = logging.getLogger("workflow")


@contextlib.contextmanager
def logged(snakemake):
    """Send logging, print() and tracebacks of the script to ``snakemake.log[0]``."""
    log_path = Path(snakemake.log[0])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", buffering=1) as fh:
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        log.info("rule %s, wildcards %s", snakemake.rule, dict(snakemake.wildcards))
        try:
            with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
                yield log
        except SystemExit:
            raise
        except BaseException:
            fh.write(traceback.format_exc())
            raise
        finally:
            root.removeHandler(handler)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Progress of a long job in its own log: ``label: k/n done (x%), elapsed h:mm:ss, ETA h:mm:ss``,
    at most one line every ``every_s`` seconds, plus the first and the last.

    ``set(k)`` / ``advance(n)`` move it; called with a message (the package's ``progress=``
    callbacks, e.g. ``"120/500 models, 31.0 s"``) it takes ``k`` from the message's leading
    ``k/n``, counted from ``offset`` (items done before the current batch)."""

    _COUNT = re.compile(r"(\d+)\s*/\s*\d+")

    def __init__(self, total: int, label: str = "", *, logger=None, every_s: float = 10.0):
        self.total, self.label, self.every_s = int(total), label, every_s
        self.logger = logger or log
        self.done = 0
        self.offset = 0
        self.t0 = time.monotonic()
        self._last: float | None = None

    def set(self, done: int) -> None:
        self.done = int(done)
        now = time.monotonic()
        if self._last is not None and self.done < self.total and now - self._last < self.every_s:
            return
        self._last = now
        elapsed = now - self.t0
        left = max(self.total - self.done, 0)
        eta = _clock(elapsed * left / self.done) if self.done else "?"
        pct = 100.0 * self.done / self.total if self.total else 100.0
        prefix = f"{self.label}: " if self.label else ""
        self.logger.info("%s%d/%d done (%.0f%%), elapsed %s, ETA %s", prefix, self.done, self.total, pct,
                         _clock(elapsed), eta)

    def advance(self, n: int = 1) -> None:
        self.set(self.done + n)

    def __call__(self, message: str) -> None:
        m = self._COUNT.search(str(message))
        if m:
            self.set(self.offset + int(m.group(1)))

    def track(self, items):
        """Yield ``items``, advancing by one after each."""
        self.set(self.done)
        for item in items:
            yield item
            self.advance()


def write_text(path, text: str) -> None:
    """Atomically write ``text`` to ``path`` (dlpaper2code.core.atomic, the project's one helper)."""
    ensure_src_on_path()
    from dlpaper2code.core.atomic import atomic_write_text

    atomic_write_text(path, text, fsync=True)


def _jsonable(obj):
    """Strict JSON: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and not isinstance(obj, (str, bytes)):
        try:
            obj = obj.item()
        except (TypeError, ValueError):
            pass
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path, obj) -> None:
    """Atomically write ``obj`` as sorted, indented, strict JSON."""
    write_text(path, json.dumps(_jsonable(obj), indent=2, sort_keys=True, allow_nan=False) + "\n")


def atomic_dir(path):
    """A temporary sibling directory that becomes ``path`` on success (dlpaper2code.core.atomic)."""
    ensure_src_on_path()
    from dlpaper2code.core.atomic import atomic_dir as _atomic_dir

    return _atomic_dir(path)


def ensure_src_on_path() -> None:
    """Make ``import dlpaper2code`` work from a plain checkout (no editable install)."""
    try:
        import dlpaper2code  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(Path.cwd() / "src"))
