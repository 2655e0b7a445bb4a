# dlpaper2code: setup, reproducible workflow, tests.  GNU make; run as root on a
# fresh Debian machine (or with sudo available).  `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := setup
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

# System packages (Debian) the project needs; extend as required.
# postgresql: the web tests and load test also run on a throwaway server (dlpaper2code.web.pgserver)
APT_PACKAGES ?= graphviz tesseract-ocr fonts-dejavu-core fonts-liberation gsfonts fonts-freefont-ttf poppler-utils qpdf chromium postgresql slurmctld slurmd slurm-client munge
PYTHON ?= python3
VENV ?= .venv
CORES ?= $(shell nproc 2>/dev/null || echo 1)
PYTEST_ARGS ?= -n 2
SNAKEMAKE_ARGS ?= --profile workflow/profiles/local
TORCH_SPEC ?= torch==2.13.0

BIN := $(VENV)/bin
WEB_BUNDLE := src/dlpaper2code/web/static/build/app.js
WEB_DB ?= results/web/catalog.sqlite
PORT ?= 8000
PY := $(BIN)/python
STAMP := $(VENV)/.stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# This machine's pip config names index locations that may not exist; pip warns
# about each one.  Drop only those lines (pipefail keeps pip's exit status).
PIP := $(PY) -m pip
PIP_QUIET := sed -u "/^WARNING: Location '.*' is ignored/d"

export KERAS_BACKEND := torch
export OMP_THREAD_LIMIT := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
export DVC_NO_ANALYTICS := 1
# DVC stage commands call `snakemake`: make it the venv's.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup apt run test bench dvc dvc-check dvc-lock dvc-lock-check report repro clean distclean serve

help:
	@echo "make setup   apt packages ($(APT_PACKAGES)) + $(VENV) (torch CPU, package, frameworks, workflow, test)"
	@echo "make run     snakemake --cores \$$CORES all   (CORES=$(CORES)); results in results/"
	@echo "make test    pytest (PYTEST_ARGS=...)"
	@echo "make serve   the catalog website + editor on http://127.0.0.1:$$PORT (PORT=$(PORT), WEB_DB=$(WEB_DB))"
	@echo "make bench   benchmarks (code generation, simulated dataset, diagram reader on 1008 models x styles, real papers) + slow tests"
	@echo "make dvc     regenerate dvc.yaml from the Snakemake workflow (dvc-check: verify it)"
	@echo "make dvc-lock  make run, then check that dvc.lock is current (run it in a fresh clone; commit dvc.lock)"
	@echo "make dvc-lock-check  is dvc.lock current with the code, params and stage commands?"
	@echo "make report  the table of results of the last run"
	@echo "make repro   dvc repro"
	@echo "make clean   remove results/ (distclean: also $(VENV) and Snakemake state)"

setup: apt $(STAMP) $(WEB_BUNDLE)

# The web front end (cytoscape, edgehandles, dagre, highlight.js), bundled by esbuild into
# the package's static folder: the pages load nothing from the internet.
$(WEB_BUNDLE): web/package.json web/package-lock.json web/build.mjs $(wildcard web/src/*.js)
	@echo "web: building the front-end bundle (npm ci + esbuild)"
	@cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent

apt:
	@missing=""; \
	for pkg in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) \
	    2>&1 >/dev/null | sed -u '/^debconf: delaying package configuration/d'; \
	fi

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || { echo "venv: creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "venv: installing packages (quiet)"
	@$(PIP) install -q --upgrade pip 2>&1 | $(PIP_QUIET)
	@# torch first and pinned: a bare `torch` requirement would pull a CUDA build.
	@$(PIP) install -q '$(TORCH_SPEC)' 2>&1 | $(PIP_QUIET)
	@$(PIP) install -q -e '.[frameworks,workflow,test,web]' 2>&1 | $(PIP_QUIET)
	@$(PIP) install -q --no-deps caffe2onnx 2>&1 | $(PIP_QUIET)
	@# RapidOCR (figure labels; its models are inside the wheel): its runtime is in pyproject.toml,
	@# --no-deps keeps its opencv-python (GUI build) from replacing opencv-python-headless's cv2.
	@$(PIP) install -q --no-deps 'rapidocr_onnxruntime==1.4.4' 2>&1 | $(PIP_QUIET)
	@touch $@
	@echo "venv: ready ($(VENV))"

# The run: one line per finished job (N/M, elapsed, time left; workflow.progress folds
# Snakemake's log), long jobs' progress in their own logs under results/logs/.  Then, on
# success and only for params.yaml (no --configfile/--config in SNAKEMAKE_ARGS), dvc.lock
# records the stages Snakemake ran (`dvc commit -f`): `dvc status` is clean, `dvc repro`
# has nothing to do.  Last, the table of results.
run: setup
	@$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS) all 2>&1 | $(PY) -m dlpaper2code.workflow.progress || { \
	  echo >&2 "make run: the workflow failed; see the messages above and results/logs/"; exit 1; }
	@$(PY) -m dlpaper2code.workflow.lock commit --snakemake-args "$(SNAKEMAKE_ARGS)"
	@echo
	@echo "Results (full tables: results/verify/summary.md, results/read/summary.md, results/figclass/tables.md,"
	@echo "results/papers/, results/realpapers/summary.md; code in results/codegen/<graph>/; logs in results/logs/):"
	@echo
	@$(PY) -m dlpaper2code.workflow.report

# dvc.lock for the embedded default (params.yaml), refreshed: run it in a fresh clone
# (git clone; make dvc-lock), then commit dvc.lock.  `make run` records the stages it
# ran; the check (also a test) then finds nothing stale.
dvc-lock: run
	@$(PY) -m dlpaper2code.workflow.lock check

# Is the committed dvc.lock current with the code, params and commands?  (seconds; a test too)
dvc-lock-check: setup
	@$(PY) -m dlpaper2code.workflow.lock check

report:
	@$(PY) -m dlpaper2code.workflow.report

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: setup
	@$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS) --forcerun bench_codegen bench_loc bench_simulate bench_read realpapers -- bench_codegen bench_loc bench_simulate bench_read realpapers
	@for f in results/metrics/codegen_bench.json results/metrics/loc.json results/metrics/simulate_bench.json; do echo "$$f:"; cat $$f; done
	@cat results/read_bench/summary.md results/realpapers/summary.md
	@# slow tests, if any (pytest exits 5 when none is selected)
	@rc=0; $(PY) -m pytest -q -m slow $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -ne 0 ] && [ $$rc -ne 5 ]; then exit $$rc; fi

# The website on the pipeline's papers: runs the paper stage first if results/papers/ is empty.
serve: setup
	@ls results/papers/*/report.json >/dev/null 2>&1 || $(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS) paper_summary
	$(PY) -m dlpaper2code.web serve --port $(PORT) --db $(WEB_DB) --import results/papers

dvc: setup
	$(PY) -m dlpaper2code.workflow.sync

dvc-check: setup
	$(PY) -m dlpaper2code.workflow.sync --check

repro: setup
	$(BIN)/dvc repro

clean:
	find results -mindepth 1 ! -name .gitkeep -delete 2>/dev/null || true
	rm -rf .snakemake/incomplete .snakemake/shadow

distclean: clean
	rm -rf $(VENV) .snakemake .pytest_cache
