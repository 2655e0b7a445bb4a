"""One paper in a child process with a time and memory limit (the workflow's rule ``paper``).

:func:`process_paper_guarded` runs :func:`~.pipeline.process_paper` in a forked child, in its own
process group, with an address-space limit (``resource.setrlimit(RLIMIT_AS)``, when
``address_space_mb`` is set) and a resident-memory watchdog (the child's whole process tree,
sampled at once and then every 0.2 s, against ``mem_mb``).  A paper too quick for the samples
is held to the same limit by its own peak (``getrusage`` ``ru_maxrss``, itself or its largest
subprocess), checked by the child when the route returns, so the outcome does not depend on
when the samples fell.  A route that failed while its address space stood at the limit (the
failure may surface as ``MemoryError``, ``SystemError`` or a failed import) counts as over the
limit.  A paper that runs past ``timeout_s``, goes over the
memory limit or kills its process is stopped (the whole group) and recorded instead of raising:
the output folder then holds ``report.json`` with ``status: failed`` and ``kind`` ``timeout``,
``memory`` or ``crashed``, like any other failure, so the batch goes on.

Every paper's folder also gets ``status.json``, the small record a corpus summary reads::

    {"paper": ..., "status": "ok" | "no_model" | "failed" | "timeout" | "memory", "reason": ...,
     "pages": ..., "seconds": ..., "graphs": ..., "valid_graphs": ...}
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

#: report kinds that have their own status in status.json (others are "failed")
_OWN_STATUS = {"timeout": "timeout", "memory": "memory"}
_EXIT_MEMORY = 3          # the child: over the address-space limit
_EXIT_RESIDENT = 4        # the child: its peak resident memory went over mem_mb
_AS_NEAR = 0.9            # a failure with the virtual size peaking at this share of the limit is the limit's
#: report statuses of a paper the route went through (the others are failures)
PROCESSED = ("ok", "no_model")


def _peak_resident_mb() -> float:
    """The larger of the process's peak resident memory and its largest finished subprocess's
    (MB).  Not their sum: a forked worker's peak counts the pages it shares with this process,
    and the sum read a 1.5 GB paper (its tree's largest sample) as over 3 GB."""
    import resource

    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def _peak_virtual_mb() -> float:
    """VmPeak of /proc/self/status (MB; 0 when it cannot be read)."""
    try:
        m = re.search(r"^VmPeak:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    except OSError:
        return 0.0
    return int(m.group(1)) / 1024 if m else 0.0


def _child(pdf: str, out_dir: str, options, address_space_mb: int | None, mem_mb: float | None = None) -> None:
    os.setpgid(0, 0)                       # its own group: a timeout kills OCR/Caffe subprocesses too
    try:                                   # and it dies with the job (a cancelled job leaves no orphan)
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if address_space_mb:
        import resource

        limit = int(address_space_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        from .pipeline import process_paper

        report = process_paper(pdf, out_dir, options)
        if address_space_mb and report.get("status") == "failed" and _peak_virtual_mb() >= _AS_NEAR * address_space_mb:
            os._exit(_EXIT_MEMORY)         # failed at the address-space limit, whatever the error said
        if mem_mb and _peak_resident_mb() > mem_mb:
            os._exit(_EXIT_RESIDENT)
    except MemoryError:                    # the address-space limit, met outside the route's own guard
        os._exit(_EXIT_MEMORY)


def _tree_rss_mb(pid: int) -> float:
    try:
        import psutil

        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20
    except Exception:  # noqa: BLE001 - no psutil or the process is gone: nothing measured
        return 0.0


def _kill_group(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.3 if sig == signal.SIGTERM else 0)


def _stop_child_on_term(pid: int) -> None:
    """A cancelled job (SIGTERM, SIGINT) stops the paper's whole process group before it exits."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum, frame):
        _kill_group(pid)
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)


def count_pages(pdf: Path) -> int | None:
    """Pages of a PDF by ``pdfinfo`` (None when it cannot tell): for papers stopped before the
    route counted them."""
    try:
        r = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(rb"^Pages:\s+(\d+)", r.stdout, re.M)
    return int(m.group(1)) if m else None


def paper_status(report: dict) -> dict:
    """The small per-paper record (status.json) of a report.json."""
    graphs = report.get("graphs") or []
    kind = report.get("kind")
    # ok: a candidate graph found (valid or not: valid_graphs says); no_model: processed, nothing
    # recognised as a model (not a failure)
    processed = report.get("status") in PROCESSED
    status = report["status"] if processed else _OWN_STATUS.get(kind or "", "failed")
    reason = None if processed else (kind or "error")
    return {"paper": report.get("name"), "status": status, "reason": reason,
            "message": report.get("message"), "pages": report.get("pages"),
            "seconds": (report.get("seconds") or {}).get("total"),
            "graphs": len(graphs), "valid_graphs": sum(bool(g.get("valid")) for g in graphs)}


def process_paper_guarded(pdf: str | Path, out_dir: str | Path, options=None, *, timeout_s: float | None = None,
                          mem_mb: float | None = None, address_space_mb: int | None = None) -> dict:
    """:func:`~.pipeline.process_paper` under a time and memory limit; returns the status record
    (also written as ``out_dir/status.json``, beside ``report.json``).  Never raises for the paper."""
    pdf, out_dir = Path(pdf), Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    ctx = multiprocessing.get_context("fork")
    t0 = time.perf_counter()
    proc = ctx.Process(target=_child, args=(str(pdf), str(out_dir), options, address_space_mb, mem_mb), daemon=False)
    proc.start()
    _stop_child_on_term(proc.pid)
    kind = message = None
    peak = 0.0
    while proc.is_alive():                 # a sample at once, then one after each 0.2 s wait
        elapsed = time.perf_counter() - t0
        if mem_mb:
            rss = _tree_rss_mb(proc.pid)
            peak = max(peak, rss)
            if rss > mem_mb:
                kind, message = "memory", f"{pdf}: over the memory limit ({rss:.0f} MB resident > {mem_mb:.0f} MB)"
        if kind is None and timeout_s and elapsed > timeout_s:
            kind, message = "timeout", f"{pdf}: stopped after {timeout_s:g} s (paper.timeout_s)"
        if kind is not None:
            _kill_group(proc.pid)
            proc.join(5)
            break
        proc.join(0.2)
    seconds = round(time.perf_counter() - t0, 3)
    code = proc.exitcode
    if kind is None and code == _EXIT_MEMORY:
        kind, message = "memory", f"{pdf}: over the address-space limit ({address_space_mb} MB, paper.address_space_mb)"
    if kind is None and code == _EXIT_RESIDENT:
        kind, message = "memory", f"{pdf}: over the memory limit (peak resident memory > {mem_mb:g} MB, paper.mem_mb)"
    report_path = out_dir / "report.json"
    report = None
    if kind is None and report_path.is_file():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        if report.get("kind") == "internal" and "MemoryError" in (report.get("message") or ""):
            report.update(kind="memory")           # the address-space limit, met inside the route
            report_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if report is None:
        if kind is None:                           # the child died without a report
            kind = "crashed"
            message = f"{pdf}: the paper's process ended with {'signal ' + str(-code) if code and code < 0 else 'exit code ' + str(code)}"
        # what the stopped child left: its temporary folder (and never a complete-looking output)
        for tmp in out_dir.parent.glob(f".{out_dir.name}.*.tmp"):
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
        report = {"pdf": str(pdf), "name": pdf.stem, "status": "failed", "kind": kind, "message": message,
                  "pages": count_pages(pdf), "seconds": {"total": seconds}, "graphs": []}
        report_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    status = paper_status(report)
    status["wall_seconds"] = seconds                # with the child's start and imports
    status["peak_rss_mb"] = round(peak, 1) if mem_mb else None
    (out_dir / "status.json").write_text(json.dumps(status, indent=1) + "\n", encoding="utf-8")
    return status


def corpus_summary(out_dirs) -> dict:
    """The corpus as a whole from each paper's status.json (report.json where there is none):
    papers, pages, seconds (total, per page, median and worst per paper), graphs found and valid,
    failures by reason, and the per-paper rows."""
    import statistics

    rows = []
    for d in sorted(Path(x) for x in out_dirs):
        st = d / "status.json"
        if st.is_file():
            row = json.loads(st.read_text(encoding="utf-8"))
        else:
            row = paper_status(json.loads((d / "report.json").read_text(encoding="utf-8")))
        row["paper"] = row.get("paper") or d.name
        rows.append(row)
    secs = [r["seconds"] or 0.0 for r in rows]
    pages = sum(r["pages"] or 0 for r in rows)
    done = [r for r in rows if r["status"] in PROCESSED]
    by_reason: dict[str, int] = {}
    for r in rows:
        if r["status"] not in PROCESSED:
            by_reason[r["reason"] or "error"] = by_reason.get(r["reason"] or "error", 0) + 1
    ok_pages = sum(r["pages"] or 0 for r in done)
    ok_secs = sum(r["seconds"] or 0.0 for r in done)
    return {"papers": len(rows), "processed": len(done), "ok": sum(r["status"] == "ok" for r in rows),
            "no_model": sum(r["status"] == "no_model" for r in rows), "failed": len(rows) - len(done),
            "failures_by_reason": dict(sorted(by_reason.items())),
            "pages": pages, "pages_ok": ok_pages,
            "seconds_total": round(sum(secs), 1),
            "wall_seconds_total": round(sum(r.get("wall_seconds") or r["seconds"] or 0.0 for r in rows), 1),
            "seconds_per_page_ok": round(ok_secs / ok_pages, 3) if ok_pages else None,
            "seconds_per_paper_median": round(statistics.median(secs), 3) if secs else None,
            "seconds_per_paper_worst": round(max(secs), 3) if secs else None,
            "papers_with_graphs": sum(1 for r in rows if r["graphs"]),
            "graphs": sum(r["graphs"] for r in rows), "valid_graphs": sum(r["valid_graphs"] for r in rows),
            "papers_with_valid_graphs": sum(1 for r in rows if r["valid_graphs"]),
            "per_paper": rows}


def corpus_table(summary: dict) -> list[str]:
    """Markdown lines of :func:`corpus_summary`: the totals, failures by reason, a row per paper."""
    s = summary
    lines = ["## Corpus", "",
             f"- papers: {s['papers']}: {s['processed']} processed ({s['ok']} with a candidate graph, {s['no_model']} without), "
             f"{s['failed']} failed",
             f"- pages: {s['pages']}",
             f"- seconds: {s['seconds_total']} in the route ({s['wall_seconds_total']} with process start-up); "
             f"{s['seconds_per_page_ok']} per page of the papers processed; per paper median {s['seconds_per_paper_median']}, "
             f"worst {s['seconds_per_paper_worst']}",
             f"- graphs found: {s['graphs']} in {s['papers_with_graphs']} papers; valid {s['valid_graphs']} "
             f"in {s['papers_with_valid_graphs']} papers",
             "- failures by reason: " + (", ".join(f"{k} {v}" for k, v in s["failures_by_reason"].items()) or "none"),
             "", "| paper | status | reason | pages | seconds | graphs | valid graphs |",
             "|---|---|---|---:|---:|---:|---:|"]
    for r in s["per_paper"]:
        why = ": ".join(x for x in (r["reason"], r.get("message")) if x)
        why = why.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r['paper']} | {r['status']} | {why} | {r['pages'] if r['pages'] is not None else ''} | "
                     f"{r['seconds'] if r['seconds'] is not None else ''} | {r['graphs']} | {r['valid_graphs']} |")
    return lines
