"""Rule simulate_shard: write one fixed-size shard of the simulated dataset."""

from _wf import Progress, atomic_dir, ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.simulate.dataset import ShardOptions, select_styles, shard_items, write_shard

    p = snakemake.params
    depths = list(range(p.depth_min, p.depth_max + 1))
    shard = int(snakemake.wildcards.shard)
    models = shard_items(depths, p.models_per_depth, p.shard_size, shard)
    opts = ShardOptions(styles=select_styles(dict(p.render["styles"]), list(p.styles)),
                        keras_config=p.keras_config, caffe=p.caffe,
                        inputs=None if p.inputs == "all" else list(p.inputs))
    log.info("shard %d: models %d..%d of %d depths x %d, styles %s", shard, models.start, models.stop - 1,
             len(depths), p.models_per_depth, list(opts.styles))
    with atomic_dir(snakemake.output[0]) as tmp:
        stats = write_shard(tmp, models, p.seed, opts, depths=depths, count=p.models_per_depth, progress=Progress(len(models), f"shard {shard}"))
    log.info("%d models, %d images, %.1f s", stats.models, stats.images, stats.seconds["total"])
