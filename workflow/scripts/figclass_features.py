"""Rule figclass_features: one backbone's features of every kind's figures (batched),
one .npz per kind, and the speed."""

from _wf import Progress, ensure_src_on_path, logged, write_json

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.figclass.features import (ExtractStats, features_for_manifest, load_backbone,
                                                save_features, set_threads)
    from dlpaper2code.figclass.generate import read_manifest

    p = snakemake.params
    name = snakemake.wildcards.backbone
    set_threads(snakemake.threads)
    backbone = load_backbone(name, (p.vgg19_weights or None) if name == "vgg19" else None)
    total = ExtractStats(0, 0.0, 0.0, p.batch_size)
    manifests = [read_manifest(folder) for folder in snakemake.input.figures]
    progress = Progress(sum(map(len, manifests)), f"{name} features")
    for folder, rows, out in zip(snakemake.input.figures, manifests, snakemake.output.features):
        progress.offset = progress.done
        X, stats = features_for_manifest(rows, backbone, size=p.image_size, fit=p.fit, batch_size=p.batch_size,
                                         progress=progress)
        save_features(out, X, [r["file"] for r in rows], [r["kind"] for r in rows], [r["sha256"] for r in rows], name)
        total.images += stats.images
        total.seconds += stats.seconds
        total.network_seconds += stats.network_seconds
        log.info("%s: %d images, %.1f images/s", folder, stats.images, stats.images_per_s)
    speed = {"backbone": name, "dim": backbone.dim, "threads": snakemake.threads, **total.as_dict()}
    write_json(snakemake.output.speed, speed)
    log.info("%s: %d images, %d-d, %.1f images/s on %d threads (load + resize + network; network alone %.1f s)",
             name, total.images, backbone.dim, total.images_per_s, snakemake.threads, total.network_seconds)
