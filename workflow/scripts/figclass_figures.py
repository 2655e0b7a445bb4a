"""Rule figclass_figures: draw the generated figures of one kind (PNG + manifest.csv)."""

from _wf import atomic_dir, ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    import time

    from dlpaper2code.figclass.generate import kind_count, render_context, write_kind

    p = snakemake.params
    kind = snakemake.wildcards.kind
    n = kind_count(kind, p.n_per_style, p.n_negative, p.n_simulated, p.negative_kinds)
    ctx = render_context(p.render["styles"], p.simulated_styles, p.box2d_render_style or None,
                         p.box2d_render_share, p.degrade_p)
    log.info("kind %s: %d images, seed %d", kind, n, p.seed)
    t0 = time.perf_counter()
    with atomic_dir(snakemake.output[0]) as tmp:
        rows = write_kind(tmp, kind, n, p.seed, ctx, progress=log.info)
    secs = time.perf_counter() - t0
    log.info("%d images in %.1f s (%.1f images/s)", len(rows), secs, len(rows) / max(secs, 1e-9))
