#!/usr/bin/env python3
"""Write the benchmark's PDFs from repository snapshots, checking each sha256.

usage: python3 data/realpapers/get.py OUT_DIR OWNER/NAME=GIT_DIR [OWNER/NAME=GIT_DIR ...]

GIT_DIR is a git directory holding the commit named in sources.tsv (a clone, or a
snapshot fetched with the search tool).  A path written with "\\n" stands for a
newline in the repository's file name.  Papers whose repository is not given or
whose file is absent are listed and skipped; a file whose sha256 differs is refused.
"""
import csv
import hashlib
import subprocess
import sys
from pathlib import Path

SOURCES = Path(__file__).with_name("sources.tsv")


def main(argv: list[str]) -> int:
    if len(argv) < 3 or any("=" not in a for a in argv[2:]):
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    repos = dict(a.split("=", 1) for a in argv[2:])
    written = skipped = 0
    with open(SOURCES, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            git_dir = repos.get(row["repo"])
            if git_dir is None:
                print(f"{row['name']}: skipped (no snapshot of {row['repo']} given)")
                skipped += 1
                continue
            path = row["path"].replace("\\n", "\n")
            r = subprocess.run(["git", "--git-dir", git_dir, "show", f"{row['commit']}:{path}"], capture_output=True)
            if r.returncode != 0:
                print(f"{row['name']}: skipped ({r.stderr.decode(errors='replace').strip()})")
                skipped += 1
                continue
            digest = hashlib.sha256(r.stdout).hexdigest()
            if digest != row["sha256"]:
                print(f"{row['name']}: refused (sha256 {digest}, sources.tsv says {row['sha256']})")
                skipped += 1
                continue
            (out / f"{row['name']}.pdf").write_bytes(r.stdout)
            written += 1
    print(f"{written} PDF(s) written to {out}, {skipped} skipped")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
