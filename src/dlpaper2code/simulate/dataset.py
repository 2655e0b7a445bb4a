"""Write the simulated dataset: one folder per model, streamed shard by shard.

A shard is a run of model indices of one depth.  For each model it writes, in
``<shard>/<model>/``:

* ``graph.json``          the generated graph (our format; `source` says how it was drawn)
* ``keras_model.json``    ``model.to_json()`` of the emitted Keras code (built on the meta device)
* ``model.prototxt``      the emitted Caffe net, when Caffe can express the model
* ``<style>.png``         one diagram per style (``render.styles`` in params.yaml)
* ``<style>.json``        its pixel ground truth (node boxes, text boxes, edge polylines)

and ``<shard>/manifest.csv`` (one row per image) and ``<shard>/stats.json``.
A model folder is written under a temporary name and renamed when complete,
so an interrupted run never leaves a folder that looks finished; the manifest
and the statistics are written last.  Nothing is held in memory but counters.
"""
from __future__ import annotations

import csv
import json
import os
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..core.atomic import atomic_dir, atomic_path, atomic_write_text
from ..emit.codegen import emit
from ..core.errors import EmitError
from .grammar import DrawStats, Grammar, describe, generate_model, load_grammar

MANIFEST_FIELDS = ["model", "style", "look", "image", "ground_truth", "graph", "keras_config", "prototxt",
                   "input", "depth", "layers", "edges", "merges", "params", "width", "height", "image_bytes",
                   "seed", "index"]


@dataclass
class ShardOptions:
    styles: dict[str, dict] = field(default_factory=dict)   # style name -> render knobs
    keras_config: bool = True
    caffe: bool = True
    inputs: list[str] | None = None                          # restrict the grammar's inputs


def model_dir_name(depth: int, index: int) -> str:
    return f"d{depth:02d}_{index:05d}"


def image_seed(seed: int, depth: int, index: int, style: str) -> int:
    """Seed of one image's style draws (knob choices of the `varied` style)."""
    return zlib.crc32(f"{seed}/{depth}/{index}/{style}".encode())


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dump(obj) -> str:
    return json.dumps(obj, indent=1, sort_keys=False) + "\n"


class ShardStats:
    """Counters of one shard (or of many, merged): what stats.json holds."""

    def __init__(self):
        self.draw = DrawStats()
        self.models = 0
        self.images = 0
        self.image_bytes = 0
        self.model_bytes = 0
        self.symbols: Counter = Counter()
        self.depths: Counter = Counter()
        self.inputs: Counter = Counter()
        self.merges: Counter = Counter()      # Concat layers per model -> models
        self.forks: Counter = Counter()       # tensors used more than once per model -> models
        self.layers = 0
        self.edges = 0
        self.caffe_refused: Counter = Counter()
        self.render_failed: Counter = Counter()   # "style: reason" -> images not drawn
        self.styles: Counter = Counter()
        self.style_bytes: Counter = Counter()  # style -> bytes of its PNGs + ground-truth JSON
        self.seconds: Counter = Counter()     # phase -> seconds
        self.rss_mb: list[float] = []

    def to_dict(self) -> dict:
        d = self.draw
        return {
            "models": self.models, "images": self.images,
            "image_bytes": self.image_bytes, "model_bytes": self.model_bytes,
            "layers": self.layers, "edges": self.edges,
            "symbols": dict(sorted(self.symbols.items())),
            "depths": {str(k): v for k, v in sorted(self.depths.items())},
            "inputs": dict(sorted(self.inputs.items())),
            "concat_per_model": {str(k): v for k, v in sorted(self.merges.items())},
            "forks_per_model": {str(k): v for k, v in sorted(self.forks.items())},
            "styles": dict(sorted(self.styles.items())),
            "style_bytes": dict(sorted(self.style_bytes.items())),
            "caffe_refused": dict(sorted(self.caffe_refused.items())),
            "render_failed": dict(sorted(self.render_failed.items())),
            "draws": {"attempts": d.attempts, "rejected": d.rejected,
                      "rejection_rate": d.rejected / d.attempts if d.attempts else 0.0,
                      "filtered_transitions": dict(sorted(d.filtered.items())),
                      "repaired_windows": dict(sorted(d.repaired.items()))},
            "seconds": {k: round(v, 4) for k, v in sorted(self.seconds.items())},
            "rss_mb": [round(x, 1) for x in self.rss_mb],
        }

    @classmethod
    def from_dict(cls, doc: dict) -> "ShardStats":
        s = cls()
        for key in ("models", "images", "image_bytes", "model_bytes", "layers", "edges"):
            setattr(s, key, int(doc.get(key, 0)))
        s.symbols.update(doc.get("symbols", {}))
        s.depths.update({int(k): v for k, v in doc.get("depths", {}).items()})
        s.inputs.update(doc.get("inputs", {}))
        s.merges.update({int(k): v for k, v in doc.get("concat_per_model", {}).items()})
        s.forks.update({int(k): v for k, v in doc.get("forks_per_model", {}).items()})
        s.styles.update(doc.get("styles", {}))
        s.style_bytes.update(doc.get("style_bytes", {}))
        s.caffe_refused.update(doc.get("caffe_refused", {}))
        s.render_failed.update(doc.get("render_failed", {}))
        draws = doc.get("draws", {})
        s.draw.attempts = int(draws.get("attempts", 0))
        s.draw.rejected = int(draws.get("rejected", 0))
        s.draw.filtered.update(draws.get("filtered_transitions", {}))
        s.draw.repaired.update(draws.get("repaired_windows", {}))
        s.seconds.update(doc.get("seconds", {}))
        s.rss_mb = list(doc.get("rss_mb", []))
        return s

    def merge(self, other: "ShardStats") -> None:
        self.draw.merge(other.draw)
        for key in ("models", "images", "image_bytes", "model_bytes", "layers", "edges"):
            setattr(self, key, getattr(self, key) + getattr(other, key))
        for key in ("symbols", "depths", "inputs", "merges", "forks", "styles", "style_bytes", "caffe_refused", "render_failed",
                    "seconds"):
            getattr(self, key).update(getattr(other, key))
        self.rss_mb = self.rss_mb + other.rss_mb


def _caffe_reason(exc: EmitError) -> str:
    text = str(exc)
    # "caffe: layer 'x': SimpleRNN cannot be expressed: ..." -> "SimpleRNN cannot be expressed"
    parts = text.split(": ")
    return ": ".join(parts[2:3]) if len(parts) > 2 else text


def write_model(out_dir: Path, depth: int, index: int, seed: int, opts: ShardOptions, grammar: Grammar,
                stats: ShardStats) -> list[dict]:
    """Draw, build, render and write one model folder; returns its manifest rows."""
    name = model_dir_name(depth, index)
    final = out_dir / name
    clock = time.perf_counter
    with atomic_dir(final) as tmp:
        t0 = clock()
        graph, doc = generate_model(depth, index, seed, grammar, stats.draw, opts.inputs)
        info = describe(graph, grammar)
        (tmp / "graph.json").write_text(_dump(doc), encoding="utf-8")
        t1 = clock()
        stats.seconds["generate"] += t1 - t0
        params = ""
        keras_file = ""
        if opts.keras_config:
            from .frameworks import keras_config

            config, n_params = keras_config(graph)
            (tmp / "keras_model.json").write_text(json.dumps(config) + "\n", encoding="utf-8")
            keras_file, params = "keras_model.json", n_params
        t2 = clock()
        stats.seconds["keras_config"] += t2 - t1
        proto_file = ""
        if opts.caffe:
            try:
                files = emit(graph, "caffe")
            except EmitError as exc:
                stats.caffe_refused[_caffe_reason(exc)] += 1
            else:
                (tmp / "model.prototxt").write_text(files["model.prototxt"], encoding="utf-8")
                proto_file = "model.prototxt"
        t3 = clock()
        stats.seconds["caffe"] += t3 - t2
        rows = []
        for style, knobs in opts.styles.items():
            from ..render import render_diagram
            from ..render.gv import GraphvizCrash

            ts = clock()
            png = tmp / f"{style}.png"
            try:
                gt = render_diagram(graph, knobs, png, seed=image_seed(seed, depth, index, style))
            except GraphvizCrash as exc:
                # Graphviz itself failed on this layout (the renderer already retries
                # ortho routing with polylines): the model keeps its other images
                stats.render_failed[f"{style}: {str(exc)[:120]}"] += 1
                continue
            gt["image"] = f"{style}.png"
            gt_path = tmp / f"{style}.json"
            gt_path.write_text(json.dumps(gt, separators=(",", ":")) + "\n", encoding="utf-8")
            size = png.stat().st_size
            stats.style_bytes[style] += size + gt_path.stat().st_size
            stats.seconds[f"render:{style}"] += clock() - ts
            stats.images += 1
            stats.image_bytes += size
            stats.styles[style] += 1
            rows.append({"model": name, "style": style, "look": gt.get("look", ""),
                         "image": f"{name}/{style}.png", "ground_truth": f"{name}/{style}.json",
                         "graph": f"{name}/graph.json",
                         "keras_config": f"{name}/{keras_file}" if keras_file else "",
                         "prototxt": f"{name}/{proto_file}" if proto_file else "",
                         "input": doc["source"]["input"], "depth": depth, "layers": info["layers"],
                         "edges": info["edges"], "merges": info["merges"], "params": params,
                         "width": gt.get("width", ""), "height": gt.get("height", ""), "image_bytes": size,
                         "seed": seed, "index": index})
    stats.models += 1
    stats.layers += info["layers"]
    stats.edges += info["edges"]
    stats.symbols.update(info["symbols"])
    stats.depths[depth] += 1
    stats.inputs[doc["source"]["input"]] += 1
    stats.merges[info["merges"]] += 1
    stats.forks[info["forks"]] += 1
    stats.model_bytes += sum(p.stat().st_size for p in final.iterdir())
    return rows


def plan_size(depths: list[int], count: int) -> int:
    return len(depths) * count


def n_shards(depths: list[int], count: int, shard_size: int) -> int:
    """Number of fixed-size shards the dataset (every depth x `count` models) splits into."""
    if count < 1 or shard_size < 1 or not depths:
        raise ValueError(f"need depths, count >= 1 and shard_size >= 1 (got {depths}, {count}, {shard_size})")
    return -(-plan_size(depths, count) // shard_size)


def shard_items(depths: list[int], count: int, shard_size: int, shard: int) -> range:
    """Global model numbers of shard `shard` (model g is index g % count of depth depths[g // count])."""
    total = plan_size(depths, count)
    first = shard * shard_size
    if not 0 <= first < total:
        raise ValueError(f"shard {shard} is out of range: the dataset has {n_shards(depths, count, shard_size)} shards")
    return range(first, min(first + shard_size, total))


def write_shard(out_dir: str | Path, models: list[tuple[int, int]] | range, seed: int, opts: ShardOptions,
                grammar: Grammar | None = None, progress: Callable[[str], None] | None = None,
                depths: list[int] | None = None, count: int | None = None) -> ShardStats:
    """Write the given models into `out_dir`; manifest.csv and stats.json last.

    `models` is a list of (depth, index) pairs, or a range of global model
    numbers together with `depths` and `count` (see :func:`shard_items`).
    """
    if isinstance(models, range):
        if depths is None or count is None:
            raise ValueError("a range of model numbers needs depths and count")
        pairs = ((depths[g // count], g % count) for g in models)
    else:
        pairs = iter(models)
    total = len(models)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("manifest.csv", "stats.json"):
        (out_dir / stale).unlink(missing_ok=True)
    grammar = grammar or load_grammar()
    stats = ShardStats()
    t0 = time.perf_counter()
    checkpoints = {max(1, total // 4), max(1, total // 2), total}
    with atomic_path(out_dir / "manifest.csv") as tmp_manifest, open(tmp_manifest, "w", encoding="utf-8",
                                                                      newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        for k, (depth, index) in enumerate(pairs, 1):
            for row in write_model(out_dir, depth, index, seed, opts, grammar, stats):
                writer.writerow(row)
            if k in checkpoints:
                stats.rss_mb.append(_rss_mb())
            if progress and (k % 50 == 0 or k == total):
                progress(f"{k}/{total} models, {time.perf_counter() - t0:.1f} s")
        stats.seconds["total"] += time.perf_counter() - t0
    atomic_write_text(out_dir / "stats.json", json.dumps(stats.to_dict(), indent=1) + "\n")
    return stats


def merge_shards(shard_dirs: list[str | Path], manifest_out: str | Path, root: str | Path = ".") -> ShardStats:
    """Concatenate shard manifests (paths made relative to `root`) and merge their statistics."""
    total = ShardStats()
    manifest_out = Path(manifest_out)
    with atomic_path(manifest_out) as tmp, open(tmp, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        for shard in shard_dirs:
            shard = Path(shard)
            manifest = shard / "manifest.csv"
            if not manifest.is_file() or not (shard / "stats.json").is_file():
                raise FileNotFoundError(f"{shard}: shard is incomplete (no manifest.csv/stats.json); rerun it")
            prefix = os.path.relpath(shard, root)
            with open(manifest, encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    for key in ("image", "ground_truth", "graph", "keras_config", "prototxt"):
                        if row[key]:
                            row[key] = f"{prefix}/{row[key]}"
                    writer.writerow(row)
            total.merge(ShardStats.from_dict(json.loads((shard / "stats.json").read_text(encoding="utf-8"))))
    return total


def parse_depths(text: str | int) -> list[int]:
    """"12" -> [12]; "5-40" -> [5, ..., 40]; "5,10,20" -> [5, 10, 20]."""
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            if hi < lo:
                raise ValueError(f"depth range {part!r} is empty")
            out.extend(range(lo, hi + 1))
        elif part:
            out.append(int(part))
    if not out or min(out) < 1:
        raise ValueError(f"depths must be >= 1, got {text!r}")
    return out


def select_styles(defined: dict[str, dict], names: list[str] | None) -> dict[str, dict]:
    """The render knobs of the named styles (all defined ones when `names` is None)."""
    if names is None:
        return dict(defined)
    unknown = [n for n in names if n not in defined]
    if unknown:
        raise ValueError(f"unknown style(s) {unknown}; defined: {sorted(defined)}")
    return {n: defined[n] for n in names}
