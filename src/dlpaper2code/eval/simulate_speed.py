"""Benchmark of the simulated-dataset pipeline: speed, sizes, memory, projection.

One process = one core: the numbers are per core.  The run writes a real
shard (every depth of the range, `count` models each) into a scratch folder,
then projects the full dataset (SPEC: depths 5 to 40, 3,000 models each,
the styles of the full-run params) onto `cores` cores.
"""
from __future__ import annotations

import resource
import shutil
import tempfile
import time
from pathlib import Path

from ..simulate.dataset import ShardOptions, write_shard

FULL_DEPTHS = list(range(5, 41))
FULL_COUNT = 3000


def bench_simulate(depths: list[int], count: int, seed: int, styles: dict[str, dict], *,
                   full_styles: list[str] | None = None, cores: int = 16, keras_config: bool = True,
                   caffe: bool = True, work_dir: str | Path | None = None, keep: bool = False) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix="bench_simulate_", dir=work_dir))
    try:
        opts = ShardOptions(styles=styles, keras_config=keras_config, caffe=caffe)
        models = [(d, i) for d in depths for i in range(count)]
        # warm-up outside the clock: imports (Keras/PyTorch), fonts, templates
        warm = ShardOptions(styles=styles, keras_config=keras_config, caffe=caffe)
        write_shard(scratch / "warmup", [(depths[0], count + 1)], seed, warm)
        t0 = time.perf_counter()
        stats = write_shard(scratch / "shard", models, seed, opts)
        wall = time.perf_counter() - t0
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    n, images = stats.models, stats.images
    sec = stats.seconds
    render_s = {k.split(":", 1)[1]: v for k, v in sec.items() if k.startswith("render:")}
    per_model_fixed = (sec["generate"] + sec["keras_config"] + sec["caffe"]) / n
    per_style = {s: render_s[s] / stats.styles[s] for s in render_s}
    out: dict = {
        "models": n, "images": images, "depths": f"{min(depths)}-{max(depths)}", "styles": list(styles),
        "wall_s": round(wall, 3),
        "models_per_s_per_core": round(n / wall, 2),
        "images_per_s_per_core": round(images / wall, 2),
        "render_images_per_s_per_core": round(images / sum(render_s.values()), 2) if images else 0.0,
        "ms_per_model": {"generate+validate": round(1000 * sec["generate"] / n, 2),
                         "keras_config": round(1000 * sec["keras_config"] / n, 2),
                         "caffe_prototxt": round(1000 * sec["caffe"] / n, 2)},
        "ms_per_image": {s: round(1000 * v, 2) for s, v in per_style.items()},
        "bytes_per_image": round(stats.image_bytes / images) if images else 0,
        "bytes_per_model": round(stats.model_bytes / n),
        "rss_mb_at_25_50_100pct": [round(x, 1) for x in stats.rss_mb],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_child_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }
    # projection of the full run (108,000 models) onto `cores` cores
    full_styles = [s for s in (full_styles or list(styles)) if s in per_style]
    s_model = per_model_fixed + sum(per_style[s] for s in full_styles)
    full_models = len(FULL_DEPTHS) * FULL_COUNT
    fixed_bytes = (stats.model_bytes - sum(stats.style_bytes.values())) / n
    bytes_model = fixed_bytes + sum(stats.style_bytes[s] / stats.styles[s] for s in full_styles)
    out["full_run"] = {
        "models": full_models, "images": full_models * len(full_styles), "styles": full_styles, "cores": cores,
        "hours": round(full_models * s_model / cores / 3600, 2),
        "disk_gb": round(full_models * bytes_model / 1e9, 1),
    }
    return out


def format_bench(result: dict) -> str:
    lines = []
    for key, value in result.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        lines.append(f"{key:32s} {value}")
    return "\n".join(lines)
