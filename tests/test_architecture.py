"""The package's layer order is a contract: lint-imports keeps it, and breaks on a forbidden import."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
LINT = Path(sys.executable).with_name("lint-imports")
LAYERS = ["core", "emit", "formats", "render", "simulate", "read", "paper", "figclass", "eval", "web", "workflow"]


def _lint(src: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(src))
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=src.parent,
                          env=env, capture_output=True, text=True, timeout=300)


def test_contracts_kept():
    r = _lint(SRC)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kept, 0 broken" in r.stdout


@pytest.mark.parametrize("module,forbidden", [
    ("core/graph.py", "from ..web import service"),              # the core reaching up to the website
    ("paper/pdf.py", "from .figures import extract_figures"),     # the old paper/ circle, back again
])
def test_a_forbidden_import_breaks_the_contract(tmp_path, module, forbidden):
    copy = tmp_path / "src"
    shutil.copytree(SRC / "dlpaper2code", copy / "dlpaper2code",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "pycaffe_shim"))
    target = copy / "dlpaper2code" / module
    target.write_text(target.read_text() + f"\n{forbidden}  # added by the test\n")
    r = _lint(copy)
    assert r.returncode != 0
    assert "BROKEN" in r.stdout or "broken" in r.stdout
    importer = "dlpaper2code." + module[:-3].replace("/", ".")
    assert importer in r.stdout


def test_no_import_cycles():
    """No circle of module imports anywhere (function-level imports included)."""
    g = grimp.build_graph("dlpaper2code")
    adj = {m: sorted(g.find_modules_directly_imported_by(m)) for m in g.modules}
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):                      # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    for m in sorted(adj):
        if m not in index:
            visit(m)
    assert cycles == []


def test_no_private_names_across_modules():
    """Modules use each other's public helpers, never their underscored names."""
    g = grimp.build_graph("dlpaper2code")
    bad = []
    for m in sorted(g.modules):
        for dep in g.find_modules_directly_imported_by(m):
            for d in g.get_import_details(importer=m, imported=dep):
                line = d["line_contents"]
                if " import " in line:
                    names = line.split(" import ", 1)[1].strip("() ")
                    if any(n.strip().split(" as ")[0].startswith("_") for n in names.split(",")):
                        bad.append(f"{m}:{d['line_number']}: {line}")
    # the pyCaffe shim is laid out like pycaffe itself (its _backend is part of that shape)
    assert [b for b in bad if "pycaffe_shim" not in b] == []


def test_each_layer_says_what_it_owns():
    top = sorted(p.name for p in (SRC / "dlpaper2code").iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert top == sorted(LAYERS)
    for name in LAYERS:
        doc = (SRC / "dlpaper2code" / name / "__init__.py").read_text()
        assert doc.startswith('"""'), name
        assert "may import" in doc.lower(), name
    flat = sorted(p.name for p in (SRC / "dlpaper2code").glob("*.py"))
    assert flat == ["__init__.py", "cli.py"]
