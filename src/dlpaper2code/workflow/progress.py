"""A readable log for ``make run``: Snakemake's output, one line per finished job.

Snakemake (with ``--quiet rules host``, the local profile) still prints, per job, a
timestamp, "Select jobs to execute...", "Execute N jobs...", "Finished jobid: K (Rule: R)"
and "N of M steps (x%) done".  This filter, fed Snakemake's stdout and stderr, folds those
into one line per finished job with the elapsed time and an estimate of the time left::

    [07:31:02]  12/96 (12%) verify            elapsed 0:03:10  left ~0:22:10

and passes every other line (job stats, errors, failed jobs' logs) through unchanged.
The estimate is the mean time per finished job so far times the jobs left.

Usage::

    snakemake ... 2>&1 | python -m dlpaper2code.workflow.progress
"""

from __future__ import annotations

import re
import sys
import time
from typing import Callable, Iterable, TextIO

_DATE = re.compile(r"^\[\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}\]$")
_NOISE = re.compile(r"^(Select jobs to execute\.\.\.|Execute \d+ jobs\.\.\.|Using shell: .*|"
                    r"Rules claiming more threads will be scaled down\.|Provided cores: \d+)$")
# TensorFlow's C++ start-up notes (absl info lines), written to the job's stderr before its
# log file takes over: not news, and one per TensorFlow job.
_TF_NOTES = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR|"
                       r"I\d{4} [\d:.]+ +\d+ \S+:\d+\] .*)$")
_FINISHED = re.compile(r"^Finished jobid: \d+ \(Rule: (\S+)\)$")
_STEPS = re.compile(r"^(\d+) of (\d+) steps \((\S+)\) done$")


def clock(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def job_line(done: int, total: int, rule: str, elapsed: float, now: str) -> str:
    left = elapsed * (total - done) / done if done else 0.0
    pct = 100 * done // total if total else 100
    return (f"[{now}] {done:>4}/{total} ({pct:>3}%) {rule:<22} elapsed {clock(elapsed)}  "
            f"left ~{clock(left)}")


def fold(lines: Iterable[str], clock_now: Callable[[], float] = time.monotonic,
         wall: Callable[[], str] = lambda: time.strftime("%H:%M:%S")) -> Iterable[str]:
    """The folded log, line by line (without newlines)."""
    t0 = clock_now()
    rule = "?"
    for raw in lines:
        line = raw.rstrip("\n")
        if _DATE.match(line) or _NOISE.match(line) or _TF_NOTES.match(line):
            continue
        m = _FINISHED.match(line)
        if m:
            rule = m.group(1)
            continue
        m = _STEPS.match(line)
        if m:
            yield job_line(int(m.group(1)), int(m.group(2)), rule, clock_now() - t0, wall())
            rule = "?"
            continue
        yield line


def run(stdin: TextIO, stdout: TextIO) -> int:
    for line in fold(stdin):
        stdout.write(line + "\n")
        stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.stdin, sys.stdout))
