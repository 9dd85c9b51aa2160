# Developer entry points: a local virtualenv, the test suite and the demo REPL.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
DEMO_DIR := .demo

.PHONY: venv test fuzz demo clean

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

demo: $(STAMP)
	$(VENV)/bin/python -m piot.demo --dir $(DEMO_DIR)
	$(VENV)/bin/piot-sql --catalog $(DEMO_DIR)/catalog.toml

clean:
	rm -rf $(VENV) $(DEMO_DIR) build dist *.egg-info .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
