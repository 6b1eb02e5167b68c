# The book machine. `make book` builds the site, `make test` runs every check CI runs.
# Needs only python3 (3.10+; 3.11 tested) and make; the first target creates .venv.

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# Pinned here, not in pyproject.toml: the library keeps floors so Colab keeps its own torch.
TORCH   ?= torch==2.13.0
CHAPTER ?=
PROFILE ?=
CI_RESULTS := _build/ci-results
# nbval re-executes chapters in the ci profile: 2 workers, one torch thread each.
NBVAL_ENV := BOOK_PROFILE=ci BOOK_PROGRESS=0 BOOK_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
             BOOK_RESULTS_DIR=$(abspath $(CI_RESULTS)) PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= \
             MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
             MKL_CBWR=AVX2,STRICT ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2

.PHONY: help venv book run full stale status test lint unit check-book nbval compare site site-check browser \
        env-check clean wheelhouse bench

help:
	@echo "make book                      build the site into _build/html (re-executes stale chapters)"
	@echo "make test                      every check CI runs"
	@echo "make run CHAPTER=a01 [PROFILE=ci|full]   execute one chapter and update its notebook and results"
	@echo "make full [CHAPTER=a01] [EXECUTOR=inline|local|slurm]   full profile, resumable (estimate first)"
	@echo "make stale                     list chapters whose notebook is out of date"
	@echo "make bench                     fast paths vs peers and the machine limit (results/bench.json, Performance page)"
	@echo "make wheelhouse                wheels of the execution tools for an offline GPU machine"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH)" -e ".[book,dev]"
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m rnnbook.runner run "$(CHAPTER)" $(if $(PROFILE),--profile $(PROFILE))

# The full profile: every chapter (or CHAPTER=a01), resumable; EXECUTOR=local|slurm uses submitit.
full: $(STAMP)
	$(BIN)/python -m rnnbook.runner full $(CHAPTER) $(if $(EXECUTOR),--executor $(EXECUTOR))

stale: $(STAMP)
	$(BIN)/python -m rnnbook.runner stale

status: $(STAMP)
	$(BIN)/python -m rnnbook.runner status

book: $(STAMP)
	$(BIN)/python -m rnnbook.runner run-stale $(if $(PROFILE),--profile $(PROFILE))
	$(BIN)/python -m rnnbook.runner status
	$(MAKE) site

site: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

test: $(STAMP)
	$(MAKE) lint
	$(MAKE) env-check
	$(MAKE) unit
	$(MAKE) check-book
	$(MAKE) nbval
	$(MAKE) compare
	$(MAKE) site
	$(MAKE) site-check
	@echo "make test: all checks passed"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

env-check: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_packaging.py

unit: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not site" --ignore=tests/test_packaging.py

check-book: $(STAMP)
	$(BIN)/python -m rnnbook.runner check

nbval: $(STAMP)
	rm -rf $(CI_RESULTS) && mkdir -p $(CI_RESULTS)
	$(NBVAL_ENV) $(BIN)/python -m pytest -q -n 2 --dist loadfile --nbval-lax --nbval-current-env \
	    --nbval-cell-timeout=600 book

compare: $(STAMP)
	$(BIN)/python -m rnnbook.runner compare $(CI_RESULTS)

# The site check opens the built pages in headless Chromium (Debian's packages). Installed here
# when missing and we are root with apt (a fresh machine, CI); otherwise a one-line instruction.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium and chromium-driver (apt-get) for the site check"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "error: the site check needs headless Chromium: sudo apt-get install chromium chromium-driver" >&2; exit 1; fi

site-check: $(STAMP) browser
	$(BIN)/python -m pytest -q -m site tests/test_site.py

# Wheels of the tools that execute chapters (papermill, jupytext, nbformat, nbclient, ipykernel
# and their dependencies) for a GPU machine without internet that already has PyTorch.
WHEEL_PY ?= 3.12
WHEELS   ?= papermill jupytext nbformat nbclient ipykernel pyyaml
wheelhouse: $(STAMP)
	$(BIN)/python -m pip download -q --only-binary=:all: --python-version $(WHEEL_PY) \
	    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
	    --platform manylinux2014_x86_64 -d wheelhouse $(WHEELS)
	@echo "on the GPU machine: pip install --no-index --find-links wheelhouse $(WHEELS) && pip install --no-deps -e ."


# Speed of the library's fast paths (batched training, parallel scan) vs plain loops, and
# every chapter's ci wall time: writes results/bench.json and book/performance.md.
bench: $(STAMP)
	$(BIN)/python bench/bench.py

clean:
	rm -rf _build
