"""Rule figclass_compare: the six classifiers on one backbone's features (Tables 3 to 5, stages)."""

from _wf import ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from pathlib import Path

    from dlpaper2code.figclass.compare import compare, load_features, write_outputs

    p = snakemake.params
    name = snakemake.wildcards.backbone
    fs = load_features(snakemake.input.features, name)
    log.info("%s: %d images, %d-d features", name, len(fs.kinds), fs.X.shape[1])
    result = compare(fs, seed=p.seed, split=tuple(p.split), classifiers=list(p.classifiers),
                     mlp_hidden=tuple(p.mlp_hidden), scale=p.scale, progress=log.info)
    plots = {Path(f).stem.rsplit("_", 1)[1]: f for f in snakemake.output.plots}
    out_dir = Path(snakemake.output.comparison).parent
    write_outputs(result, out_dir, plots)
    for task in [t for t in ("table3", "table4", "table5", "stages") if t in result["tasks"]]:
        log.info("\n%s", (out_dir / f"{task}.md").read_text())
