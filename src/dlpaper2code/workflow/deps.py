"""The code each workflow rule depends on, derived once from the import graph.

A rule runs a thin script (``workflow/scripts/<name>.py``); its code
dependencies are the package modules that script imports, followed through
every module they import in turn (module-level and function-level imports,
relative and absolute, and ``python -m dlpaper2code.<module>`` strings for
subprocesses), plus the data files those modules read:

* the package's configuration (``dlpaper2code/config/``) belongs to
  :mod:`dlpaper2code.core.paths`, which every reader of it goes through;
* a package's other non-Python files (templates, the web front end's bundle and
  CSS) belong to that package, and :data:`EXTRA` names the few files a module
  runs by path (the Graphviz worker, the pyCaffe shim).

So a CSS edit reruns nothing of the pipeline, and a change in the reader reruns
only what reads diagrams.  :data:`SKIP_PARTS` is the one list of what is never
code (caches, build metadata); ``.dvcignore`` is written from it
(:func:`dvcignore_text`), so Snakemake and DVC agree by construction.

Standard library only: the Snakefile loads this file by path before the package
is importable.
"""
from __future__ import annotations

import ast
import os
import re
from functools import lru_cache
from pathlib import Path

PACKAGE = "dlpaper2code"
SKIP_PARTS = ("__pycache__", ".egg-info", ".pyc", ".pyo", ".DS_Store", ".tmp")
# module -> files or folders (relative to the package root) it reads or runs by path
EXTRA = {
    "dlpaper2code.core.paths": ["config"],
    "dlpaper2code.render.gv": ["render/_gvworker.py"],
    "dlpaper2code.emit.caffe": ["emit/caffe/pycaffe_shim"],
}
_MODULE_STRING = re.compile(r"\bdlpaper2code(?:\.[A-Za-z_]\w*)+")


def _skipped(rel_parts: tuple[str, ...]) -> bool:
    return any(p.endswith(SKIP_PARTS) for p in rel_parts)


def _files_under(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not _skipped(p.relative_to(path).parts))


@lru_cache(maxsize=None)
def _modules(pkg_root: str) -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    root = Path(pkg_root)
    out = {}
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root)
        if _skipped(rel.parts):
            continue
        parts = [PACKAGE, *rel.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest module prefix of a dotted name (an attribute import names its module)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _named(tree: ast.AST, package: str) -> list[str]:
    """Every dotted name a module's source imports or runs (``python -m`` strings), relative
    imports resolved against `package` (an import of ``a.b`` also names ``a.b.<each name>``)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            names += [stem] + [f"{stem}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names += _MODULE_STRING.findall(node.value)
    return names


def _imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for n in _named(tree, package):
        hit = _resolve(n, modules)
        if hit:
            found.add(hit)
            # importing a module imports its parent packages
            parts = hit.split(".")
            found.update(".".join(parts[:k]) for k in range(1, len(parts)) if ".".join(parts[:k]) in modules)
    found.discard(module)
    return found


def closure(roots: set[str], pkg_root: Path) -> set[str]:
    modules = _modules(str(pkg_root))
    seen: set[str] = set()
    todo = [r for r in roots if r in modules]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        parts = m.split(".")
        parents = {".".join(parts[:k]) for k in range(1, len(parts))} & modules.keys()
        todo.extend((_imports_of(m, modules[m], modules) | parents) - seen)
    return seen


def script_modules(script: Path, pkg_root: Path) -> set[str]:
    """Package modules a workflow script (and the sibling helpers it imports) imports."""
    modules = _modules(str(pkg_root))
    out: set[str] = set()
    todo, done = [script], set()
    while todo:
        s = todo.pop()
        if s in done or not s.is_file():
            continue
        done.add(s)
        tree = ast.parse(s.read_text(encoding="utf-8"), filename=str(s))
        for n in _named(tree, ""):               # a script: its relative imports name nothing
            hit = _resolve(n, modules)
            if hit:
                out.add(hit)
            sibling = s.parent / f"{n.split('.')[0]}.py"
            if n and sibling.is_file() and sibling != s:
                todo.append(sibling)
    return out


def module_files(mods: set[str], pkg_root: Path) -> list[Path]:
    """Source files of the modules, their packages' data files and the EXTRA paths."""
    modules = _modules(str(pkg_root))
    files: set[Path] = set()
    for m in mods:
        path = modules[m]
        files.add(path)
        if path.name == "__init__.py" and m != PACKAGE:
            # the package's data: non-Python files in its folder and in folders that are no package
            folder = path.parent
            for p in _files_under(folder):
                rel = p.relative_to(folder)
                if p.suffix == ".py":
                    continue
                inner = [folder.joinpath(*rel.parts[:k]) for k in range(1, len(rel.parts))]
                if any((d / "__init__.py").exists() for d in inner):
                    continue           # belongs to a subpackage
                files.add(p)
        for extra in EXTRA.get(m, []):
            files.update(_files_under(pkg_root / extra))
    return sorted(files)


def compress(files: list[str], pkg_root: str, root: str | os.PathLike = ".") -> list[str]:
    """Whole folders where every file under them is listed (fewer, stable DVC deps).
    `files` and `pkg_root` are relative to `root`; so is the answer."""
    root = Path(root)
    have = set(files)
    out: list[str] = []
    covered: set[str] = set()
    folders = sorted({str(Path(f).parent) for f in files}, key=lambda d: (d.count("/"), d))
    for folder in [pkg_root] + [d for d in folders if d != pkg_root]:
        if any(folder == c or folder.startswith(c + "/") for c in covered):
            continue
        under = [os.path.relpath(p, root) for p in _files_under(root / folder)]
        if under and all(u in have for u in under):
            covered.add(folder)
            out.append(folder)
    out += [f for f in files if not any(f.startswith(c + "/") for c in covered)]
    return sorted(out)


def code_files(script: str | os.PathLike, root: str | os.PathLike = ".", *, compressed: bool = False) -> list[str]:
    """The package files a workflow script depends on, as paths relative to `root`."""
    root = Path(root)
    pkg_root = root / "src" / PACKAGE
    if not pkg_root.is_dir():
        raise FileNotFoundError(f"{pkg_root} not found: run the workflow from the repository root")
    mods = closure(script_modules(root / script, pkg_root) | {PACKAGE}, pkg_root)
    files = [os.path.relpath(p, root) for p in module_files(mods, pkg_root)]
    return compress(files, os.path.relpath(pkg_root, root), root) if compressed else files


def dvcignore_text() -> str:
    lines = ["# GENERATED by `python -m dlpaper2code.workflow.sync` from dlpaper2code.workflow.deps.SKIP_PARTS:",
             "# what is never code nor data, for Snakemake's code deps and DVC's hashes alike.",
             ".snakemake/", ".venv/"]
    lines += [f"*{part}" for part in SKIP_PARTS]      # a file or folder whose name ends so
    return "\n".join(lines) + "\n"


__all__ = ["SKIP_PARTS", "EXTRA", "closure", "code_files", "compress", "dvcignore_text", "module_files",
           "script_modules"]
