"""Where the configuration lives.

The layer vocabulary (``layers.yaml``), blocks, grammar, styles, templates, the
graph schema and the table-classifier data are package data: they ship inside
the package (``dlpaper2code/config/``) and are found with
:mod:`importlib.resources`, so an installed wheel works outside the checkout.
``DLPAPER2CODE_CONFIG`` points to another folder of the same layout.

The workflow's ``params.yaml`` is the project's, not the package's:
:func:`project_params` reads ``DLPAPER2CODE_PARAMS``, else ``./params.yaml``,
else the checkout's, and is empty when there is none (an installed package).
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def config_dir() -> Path:
    env = os.environ.get("DLPAPER2CODE_CONFIG")
    path = Path(env) if env else Path(str(resources.files("dlpaper2code") / "config"))
    if not (path / "layers.yaml").is_file():
        where = "DLPAPER2CODE_CONFIG" if env else "the installed package"
        raise FileNotFoundError(f"configuration folder {path} ({where}) has no layers.yaml")
    return path


def config_file(*parts: str) -> Path:
    return config_dir().joinpath(*parts)


def params_file() -> Path | None:
    """The project's params.yaml, or None when there is none."""
    env = os.environ.get("DLPAPER2CODE_PARAMS")
    for p in ([Path(env)] if env else [Path.cwd() / "params.yaml", REPO_ROOT / "params.yaml"]):
        if p.is_file():
            return p
    return None


def project_params() -> dict:
    """The project's params.yaml as a dict ({} when there is none)."""
    import yaml

    p = params_file()
    return (yaml.safe_load(p.read_text(encoding="utf-8")) or {}) if p else {}
