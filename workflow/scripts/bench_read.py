"""Rule bench_read: read and score a held-back simulated set, per style (dlpaper2code.eval.reader_bench)."""

import json
import shutil
import tempfile
from pathlib import Path

from _wf import ensure_src_on_path, logged, write_text

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.eval.reader_bench import bench_reader, format_report
    from dlpaper2code.simulate.dataset import parse_depths, select_styles

    p = snakemake.params
    styles = select_styles(dict(p.render["styles"]), list(p.styles))
    out = Path(snakemake.output.rows).parent
    scratch = Path(tempfile.mkdtemp(prefix="read_bench_"))
    try:
        report = bench_reader(out, models=p.models, seed=p.seed, depths=parse_depths(str(p.depths)), styles=styles,
                              processes=p.processes, set_dir=scratch, progress=log.info)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report.pop("rows")
    table = format_report(report)
    log.info("\n%s", table)
    write_text(snakemake.output.table, table)
    write_text(snakemake.output.metrics, json.dumps(report, indent=1) + "\n")
