"""Rule paper_corpus: the synthetic papers (PDF + exact ground truth JSON)."""

from _wf import Progress, atomic_dir, ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.paper import generate_paper

    p = snakemake.params
    with atomic_dir(snakemake.output[0]) as tmp:
        # progress hook: generate_corpus(tmp, n, seed, dpi=dpi) one paper at a time
        progress = Progress(p.corpus_size, "synthetic papers")
        truths = [generate_paper(tmp, s, dpi=p.dpi) for s in progress.track(range(p.corpus_seed, p.corpus_seed + p.corpus_size))]
    log.info("%d synthetic papers in %s", len(truths), snakemake.output[0])
