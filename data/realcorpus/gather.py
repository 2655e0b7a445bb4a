#!/usr/bin/env python3
"""Gather a corpus of real deep-learning paper PDFs from fetched repository snapshots.

usage: gather.py OUT_DIR SNAPSHOT_DIR [SNAPSHOT_DIR ...]
       gather.py OUT_DIR --from-sources sources.tsv OWNER/NAME=SNAPSHOT_DIR ...

SNAPSHOT_DIR is a git directory the search tool's ``fetch github:OWNER/NAME`` answers with
(``/work/.mirror/OWNER+NAME/repo``).  Every ``*.pdf`` blob of its HEAD is taken unless

- its path or its first page names one of the 17 papers held back for the independent
  evaluation (../../shared/realpapers/README.md), by title or arXiv id;
- it is not a paper (homework, a textbook, notes: ``NOT_PAPERS``);
- it is a copy (same sha256, or same first-page title) of one already taken;
- the blob is absent from the snapshot or does not start with ``%PDF``.

Each PDF is written as ``OUT_DIR/<name>.pdf``; ``sources.tsv`` (beside this script) gets a row per
PDF: name, repository, commit, path, sha256, pages, title (first line of page 1).  The PDFs are
not stored in the project.  ``--from-sources`` re-extracts exactly the listed PDFs and checks
each sha256.
"""
import csv
import hashlib
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# the 17 held-back papers: path patterns and first-page patterns (titles, arXiv ids)
HELD_BACK = [
    r"\bvgg\b(?!.*visualiz)", r"very[ _-]?deep[ _-]?conv", r"simonyan", r"1409\.1556",
    r"alexnet", r"krizhevsky", r"imagenet[ _-]classification[ _-]with[ _-]deep",
    r"\blenet", r"gradient[ _-]based[ _-]learning[ _-]applied",
    r"googlenet", r"going[ _-]deeper[ _-]with[ _-]conv", r"szegedy[ _-]going", r"1409\.4842",
    r"inception[ _-]?v4", r"inception[ _-]resnet", r"szegedy[ _-]inception", r"1602\.07261",
    r"\bresnet\b(?![ _-]?(v2|50))", r"he[ _-]resnet", r"deep[ _-]residual[ _-]learning", r"1512\.03385",
    r"network[ _-]in[ _-]network", r"1312\.4400",
    r"mobilenets?(?![ _-]?v?3)", r"1704\.04861", r"1801\.04381", r"inverted[ _-]residuals",
    r"u[ _-]?net\b", r"ronneberger", r"1505\.04597",
    r"attention[ _-]is[ _-]all[ _-]you[ _-]need", r"vaswani", r"1706\.03762",
    r"densenet", r"densely[ _-]connected[ _-]conv", r"1608\.06993",
    r"yolov3", r"yolo[ _-]v3", r"darknet[ _-]?53", r"1804\.02767",
    r"efficientnet", r"1905\.11946",
    r"resnext", r"aggregated[ _-]residual", r"1611\.05431",
    r"mlp[ _-]?mixer", r"2105\.01601",
    r"gpt[ _-]?1\b", r"generative[ _-]pre[ _-]?training",
]
HELD_BACK_RE = re.compile("|".join(HELD_BACK), re.I)
# on the first page: the held-back titles and arXiv ids only (another paper's title may name them)
HELD_BACK_TITLES = re.compile("|".join([
    r"very deep convolutional networks for large-scale", r"imagenet classification with deep conv",
    r"gradient-based learning applied to document", r"going deeper with convolutions",
    r"inception-v4", r"deep residual learning for image", r"^network in network",
    r"mobilenets: efficient", r"mobilenetv2", r"u-net: convolutional", r"attention is all you need",
    r"densely connected convolutional", r"yolov3", r"efficientnet: rethinking",
    r"aggregated residual transformations", r"mlp-mixer", r"improving language understanding by generative",
    r"1409\.1556", r"1409\.4842", r"1602\.07261", r"1512\.03385", r"1312\.4400", r"1704\.04861",
    r"1801\.04381", r"1505\.04597", r"1706\.03762", r"1608\.06993", r"1804\.02767", r"1905\.11946",
    r"1611\.05431", r"2105\.01601"]), re.I)
# not research papers: course homework and reports, a textbook, blog printouts
NOT_PAPERS = re.compile(r"\bhw\d|hw\d\b|homework|problem[ _]set|_report\.pdf$|report\.pdf$|b-ok|understanding[ _]analysis|"
                        r"interpolation_and_segmentation|rotation_and_mesh|troubleshooting|/blogs?/|survey_imagenet", re.I)


def first_page(pdf: Path) -> str:
    r = subprocess.run(["pdftotext", "-l", "1", "-q", str(pdf), "-"], capture_output=True, timeout=60)
    return r.stdout.decode("utf-8", "replace")


def pages(pdf: Path) -> int:
    r = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, timeout=60)
    m = re.search(rb"^Pages:\s+(\d+)", r.stdout, re.M)
    return int(m.group(1)) if m else 0


def slug(repo: str, path: str) -> str:
    stem = Path(path).stem
    s = re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_")[:60] or "paper"
    return f"{repo.split('/')[0][:12]}__{s}"


def repo_name(snap: str) -> str:
    d = Path(snap).resolve()
    name = d.parent.name if d.name in ("repo", ".git") else d.name
    return name.replace("+", "/", 1)


def gather(out: Path, snaps):
    out.mkdir(parents=True, exist_ok=True)
    seen_sha, seen_title, rows, skipped = set(), set(), [], []
    for snap in snaps:
        repo = repo_name(snap)
        commit = subprocess.run(["git", "-C", snap, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        paths = subprocess.run(["git", "-C", snap, "ls-tree", "-r", "--name-only", "-z", "HEAD"],
                               capture_output=True).stdout.decode().split("\0")
        for path in sorted(p for p in paths if p.lower().endswith(".pdf")):
            if HELD_BACK_RE.search(path):
                skipped.append((repo, path, "held back (path)"))
                continue
            if NOT_PAPERS.search("/" + path):
                skipped.append((repo, path, "not a paper"))
                continue
            blob = subprocess.run(["git", "-C", snap, "show", f"{commit}:{path}"], capture_output=True).stdout
            if not blob.startswith(b"%PDF"):
                skipped.append((repo, path, "blob absent or not a PDF"))
                continue
            sha = hashlib.sha256(blob).hexdigest()
            if sha in seen_sha:
                skipped.append((repo, path, "duplicate"))
                continue
            name = slug(repo, path)
            n = 2
            while (out / f"{name}.pdf").exists():
                name = f"{slug(repo, path)}_{n}"
                n += 1
            dest = out / f"{name}.pdf"
            dest.write_bytes(blob)
            text = first_page(dest)
            lines = [ln.strip() for ln in text.splitlines() if len(ln.strip()) > 8]
            body = [ln for ln in lines if not re.match(r"(see discussions|arxiv:|published as|under review|proceedings|author manuscript|communicated by)", ln, re.I)]
            title = (body[0] if body else "")[:100]
            # the title (first lines) and the paper's own arXiv stamp, not the abstract's citations
            head = " ".join(lines[:3] + re.findall(r"arXiv:\d{4}\.\d{4,5}", text)[:1])
            key = re.sub(r"\W+", "", title.lower())[:40]
            if HELD_BACK_TITLES.search(head):
                dest.unlink()
                skipped.append((repo, path, "held back (first page)"))
                continue
            if "jupyter notebook" in text.lower() or "colah's blog" in text.lower():
                dest.unlink()
                skipped.append((repo, path, "not a paper"))
                continue
            if key and key in seen_title:
                dest.unlink()
                skipped.append((repo, path, "duplicate (title)"))
                continue
            seen_sha.add(sha)
            seen_title.add(key)
            rows.append({"name": name, "repo": repo, "commit": commit, "path": path, "sha256": sha,
                         "pages": pages(dest), "title": title})
    with open(HERE / "sources.tsv", "w", newline="") as f:
        w = csv.DictWriter(f, ["name", "repo", "commit", "path", "sha256", "pages", "title"], delimiter="\t")
        w.writeheader()
        w.writerows(rows)
    for s in skipped:
        print("skip", *s, sep="\t")
    print(f"{len(rows)} PDF(s) in {out}; {len(skipped)} skipped")


def from_sources(out: Path, tsv: str, snaps: dict):
    out.mkdir(parents=True, exist_ok=True)
    got = 0
    with open(tsv, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            snap = snaps.get(row["repo"])
            if not snap:
                print(f"skip {row['name']}: no snapshot given for {row['repo']}")
                continue
            blob = subprocess.run(["git", "-C", snap, "show", f"{row['commit']}:{row['path']}"], capture_output=True).stdout
            if hashlib.sha256(blob).hexdigest() != row["sha256"]:
                print(f"skip {row['name']}: blob absent or sha256 differs")
                continue
            (out / f"{row['name']}.pdf").write_bytes(blob)
            got += 1
    print(f"{got} PDF(s) in {out}")


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) < 2:
        sys.exit(__doc__)
    if a[1] == "--from-sources":
        from_sources(Path(a[0]), a[2], dict(x.split("=", 1) for x in a[3:]))
    else:
        gather(Path(a[0]), a[1:])
