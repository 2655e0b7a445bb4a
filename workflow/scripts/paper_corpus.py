"""Rule paper_corpus: the synthetic papers (PDF + exact ground truth JSON)."""

from _wf import atomic_dir, ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.paper import generate_corpus

    p = snakemake.params
    with atomic_dir(snakemake.output[0]) as tmp:
        truths = generate_corpus(tmp, n=p.corpus_size, seed=p.corpus_seed, dpi=p.dpi)
    log.info("%d synthetic papers in %s", len(truths), snakemake.output[0])
