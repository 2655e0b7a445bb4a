"""Where the project's configuration lives.

The YAML vocabulary, templates, schema and reference zoo sit in the
repository's ``config/`` folder; ``DLPAPER2CODE_CONFIG`` points elsewhere.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def config_dir() -> Path:
    env = os.environ.get("DLPAPER2CODE_CONFIG")
    path = Path(env) if env else REPO_ROOT / "config"
    if not (path / "layers.yaml").is_file():
        raise FileNotFoundError(
            f"configuration folder {path} has no layers.yaml; set DLPAPER2CODE_CONFIG to the project's config/ folder")
    return path


def config_file(*parts: str) -> Path:
    return config_dir().joinpath(*parts)
