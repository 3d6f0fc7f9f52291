# One entry point for people and CI: `make demo` and `make test` are the README's quickstart as
# make targets (the README gives the same steps as plain commands for Windows, macOS and Linux);
# `make docs` builds the user guide (docs/, mkdocs.yml) into site/.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_CPU := torch==2.13.0
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: install demo test lint typecheck docs bench clean

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# A CPU build of torch first where no NVIDIA GPU is present: a loose `torch` would pull
	# a multi-GB CUDA build.
	if ! command -v nvidia-smi >/dev/null 2>&1; then $(PIP) install -q "$(TORCH_CPU)"; fi
	$(PIP) install -q -e ".[test,umap,docs]"
	touch $@

install: $(VENV)/.installed

demo: install
	ingest load examples/patents.xlsx --id application_number --collection demo
	search like 0 --collection demo --limit 5

test: install
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy
	# No --quiet: it hides the warnings that --strict counts, and the build then passes.
	$(PY) -m mkdocs build --strict
	$(PY) -m pytest -q

lint: install
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench

typecheck: install
	$(PY) -m mypy

# --strict: a broken link or anchor, or a page missing from mkdocs.yml's nav, fails the build.
docs: install
	$(PY) -m mkdocs build --strict

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) qdrant_data site .pytest_cache .mypy_cache .ruff_cache
