# Developer entry points: a local virtualenv, the test suite, the demo REPL and the benchmark.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
DEMO_DIR := .demo

.PHONY: venv test fuzz demo bench clean

# The stamp is rewritten whenever pyproject.toml changes, so dependencies follow it.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -e '.[test]'
	touch $@

venv: $(STAMP)

test: $(STAMP)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# A long fuzz run by hand: FUZZ_ARGS="--cases 5000 --minutes 15 --seed 1" (see tests/fuzz/fuzz_main.py).
FUZZ_ARGS ?= --cases 5000 --minutes 15 --seed 1
fuzz: $(STAMP)
	$(VENV)/bin/python tests/fuzz/fuzz_main.py $(FUZZ_ARGS)

# The side-by-side benchmark, by hand only (never part of make test): the full run by default
# (4M trades, TPC-H SF 1; it prints its expected duration first). Flags go in BENCH_ARGS, e.g.
# BENCH_ARGS="--rows 200000 --scale 0.01 --repeat 2", "--only range", "--dry-run" (see --help).
BENCH_ARGS ?=
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(VENV)/bin/python -m pip install --disable-pip-version-check -e '.[test,bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(VENV)/bin/python benchmarks/bench.py $(BENCH_ARGS)

demo: $(STAMP)
	$(VENV)/bin/python -m piot.demo --dir $(DEMO_DIR)
	$(VENV)/bin/piot-sql --catalog $(DEMO_DIR)/catalog.toml

clean:
	rm -rf $(VENV) benchmarks/.venv-pit benchmarks/.venv-daft $(DEMO_DIR) build dist *.egg-info .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
