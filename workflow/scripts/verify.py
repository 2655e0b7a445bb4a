"""Rule verify: build, run and compare the emitted code of one graph.

A failure of the verification itself is recorded in the JSON (``ok: false``,
``error``) instead of failing the job; verify_summary turns it into an error."""

import shutil
import tempfile
import time
import traceback
from pathlib import Path

from _wf import ensure_src_on_path, logged, write_json

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive
graph_name = snakemake.wildcards.graph
p = snakemake.params

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.emit.verify import verify_graph

    work_dir = Path(tempfile.mkdtemp(prefix=f"verify-{graph_name.replace('/', '_')}-",
                                     dir=getattr(snakemake.resources, "tmpdir", None)))
    start = time.perf_counter()
    try:
        result = dict(
            verify_graph(
                graph_path=str(snakemake.input.graph),
                targets=list(p.targets),
                work_dir=str(work_dir),
                equivalence=bool(p.equivalence),
                training=bool(p.training),
                lr=float(p.training_lr),
                training_rtol=float(p.training_rtol),
                atol=float(p.atol),
                rtol=float(p.rtol),
                seed=int(p.seed),
                timeout_s=float(p.timeout_s),
                caffe_version=str(p.caffe_version),
            )
        )
    except Exception as exc:  # recorded, judged by verify_summary
        log.error("verification of %s raised:\n%s", graph_name, traceback.format_exc())
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result.setdefault("graph", graph_name)
    result.setdefault("wall_s", round(time.perf_counter() - start, 3))
    write_json(snakemake.output[0], result)
    if result.get("ok") is False:
        log.warning("%s FAILED; work files kept in %s", graph_name, work_dir)
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
        log.info("%s verified", graph_name)
