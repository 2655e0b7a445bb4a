"""Helpers shared by the workflow scripts: logging to the rule's log file and
atomic outputs (written under a temporary name, then renamed, so a failed or
interrupted job never leaves a complete-looking output)."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sys
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
