# hdbench: set-up, tests and the benchmark suite. Everything runs in .venv, made here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RESULTS ?= results

.PHONY: setup test docs dist bench bench-quick discovery families sweep frontier scaling reference lint format perf perf-suites clean

setup: $(STAMP)

# torch goes in first, pinned: a bare `torch` requirement would pull a multi-GB CUDA build.
# The speech extra (pyworld) compiles from source; the core installs without it.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,speech,web,docs]'
	touch $(STAMP)

# The tests run in as many processes as there are cores (at most 4): each runs torch on one
# thread (hdbench/threads.py), so a second process uses the second core.
test: $(STAMP)
	$(BIN)/pytest -q -n auto --maxprocesses 4 --dist worksteal

# The documentation site in site/, strict: a broken link or anchor is an error (not with
# --quiet, which hides the warnings that strict mode counts).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@echo "docs: wrote site/index.html"

# A wheel and an sdist in dist/, each installed in a clean virtual environment (torch pinned
# first, as above) and smoke-tested there, outside the checkout: --version and a tiny run.
SMOKE_RUN := run --oracle paper_like --method data_diffusion --set train_steps=20 \
	--set num_steps=20 --eval-samples 50
dist: $(STAMP)
	rm -rf dist build/smoke
	$(BIN)/python -m build --outdir dist . > build/dist.log 2>&1 || (cat build/dist.log; false)
	for archive in dist/*.whl dist/*.tar.gz; do \
		env=build/smoke/$$(basename $$archive); \
		$(PYTHON) -m venv $$env && \
		$$env/bin/pip install --quiet torch==2.13.0 && \
		$$env/bin/pip install --quiet $$archive && \
		(cd build/smoke && $$OLDPWD/$$env/bin/hdbench --version && \
			$$OLDPWD/$$env/bin/hdbench $(SMOKE_RUN) --out run-$$(basename $$archive)) \
		|| exit 1; \
	done
	@echo "dist: $$(ls dist) installed and ran in clean environments"

bench: $(STAMP)
	$(BIN)/hdbench bench --suite standard --out $(RESULTS)

bench-quick: $(STAMP)
	$(BIN)/hdbench bench --suite quick --out $(RESULTS)

discovery: $(STAMP)
	$(BIN)/hdbench bench --suite discovery --out $(RESULTS)

# Every method on 20 generated discovery oracles × 3 seeds, against the ratings-free baselines;
# resumable (finished runs are skipped). 15 min on 2 cores (docs/results.md); not part of `make test`.
families: $(STAMP)
	$(BIN)/hdbench families benchmarks/families.toml --out $(RESULTS)

reference: $(STAMP)
	$(BIN)/hdbench reference

sweep: $(STAMP)
	$(BIN)/hdbench sweep benchmarks/sigma_r_lambda.toml --out $(RESULTS)

frontier: $(STAMP)
	$(BIN)/hdbench sweep benchmarks/frontier.toml --out $(RESULTS)

# Every method against the dimension d and the number of real data N; the whole grid takes
# hours: pass a part, e.g. make scaling SCALING_ARGS="--dims 2,8 --num-real 100".
scaling: $(STAMP)
	$(BIN)/python -m hdbench.experiments.scaling benchmarks/scaling.toml --out $(RESULTS) $(SCALING_ARGS)

# numpy's OpenBLAS on one thread, as the command line sets it (hdbench/threads.py). The table
# shows the suites' times too once `make perf-suites` has measured them.
PERF := OPENBLAS_NUM_THREADS=1 $(BIN)/pytest benchmarks -q -p no:cacheprovider --benchmark-enable
perf: $(STAMP)
	mkdir -p $(RESULTS)/perf
	$(PERF) -m "not suites" --benchmark-json=$(RESULTS)/perf/benchmarks.json
	$(BIN)/python benchmarks/perf_table.py $(RESULTS)/perf/benchmarks.json \
		$(wildcard $(RESULTS)/perf/suites.json)

# `make bench`, the same suite with the paper's fixed chains, and `make sweep`, timed from
# fresh folders one after the other (50 minutes on 2 cores: docs/speed.md), into the speed table.
perf-suites: $(STAMP)
	mkdir -p $(RESULTS)/perf
	$(PERF) -m suites --benchmark-json=$(RESULTS)/perf/suites.json
	$(BIN)/python benchmarks/perf_table.py $(wildcard $(RESULTS)/perf/benchmarks.json) \
		$(RESULTS)/perf/suites.json

lint: $(STAMP)
	$(BIN)/ruff check hdbench tests benchmarks examples docs setup.py
	$(BIN)/ruff format --check hdbench tests benchmarks examples docs setup.py

format: $(STAMP)
	$(BIN)/ruff check --fix hdbench tests benchmarks examples docs setup.py
	$(BIN)/ruff format hdbench tests benchmarks examples docs setup.py

clean:
	rm -rf $(VENV) build *.egg-info
