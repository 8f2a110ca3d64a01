# Sparkify ELT: the two commands of the quickstart are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
ARGS ?=

.PHONY: setup run test test-fast test-reference bench bench-summary bench-gets notify-setup lint lock clean

setup: $(STAMP)

# Installs the versions in constraints.txt, those the tests last passed with.
$(STAMP): pyproject.toml constraints.txt setup.py $(wildcard sparkify/staging/native/*.c sparkify/staging/native/*.h)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

lock:  ## re-resolve the newest versions pyproject.toml allows into constraints.txt (then make test)
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[test]'
	{ sed -n '1,2p' constraints.txt; .lock-venv/bin/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .lock-venv

run: setup  ## the ELT on the embedded default (local S3 emulator + embedded PostgreSQL)
	$(VENV)/bin/sparkify run $(ARGS)

# The staging tests again with the compiled parser off (SPARKIFY_NATIVE=off): the reference
# parses every line, as on an install without a C compiler (docs/operations.md, "Installing").
STAGING_TESTS := tests/test_records.py tests/test_bench_smoke.py tests/test_native_rows.py \
	tests/test_oddities.py tests/test_compressed.py

test-fast: setup  ## the layer to run on every change: no flow runs, servers, browser or subprocess commands
	$(PY) -m pytest -m "not slow" $(ARGS)

test: setup  ## the whole test suite, then (without ARGS) the staging tests without the compiled parser
	$(PY) -m pytest $(ARGS)
	@if [ -z "$(ARGS)" ]; then $(MAKE) --no-print-directory test-reference; fi

test-reference: setup  ## the staging tests with the compiled parser off
	SPARKIFY_NATIVE=off $(PY) -m pytest -k "not runs_at_a_tiny_scale" $(STAGING_TESTS)

# Without ARGS: every data shape on the embedded and a default PostgreSQL at 1M events, and the
# generator's data at 10M on the embedded one; results in benchmarks/results/ (docs/performance.md).
bench: setup  ## the performance benchmark (not a test)
	$(PY) benchmarks/run.py $(ARGS)

bench-summary: setup  ## the table of the latest results file in benchmarks/results/ (or ARGS=FILE)
	$(PY) benchmarks/run.py --summary $(ARGS)

bench-gets: setup  ## GETs/s and client CPU per GET of the S3 clients on many small objects (not a test)
	$(PY) benchmarks/gets.py $(ARGS)

notify-setup: setup  ## the failure notifications of automations/ on the Prefect server at PREFECT_API_URL
	$(VENV)/bin/sparkify notify $(ARGS)

lint: setup
	$(PY) -m pip install --quiet ruff sqlfluff
	$(VENV)/bin/ruff check .

clean:
	rm -rf .sparkify .pytest_cache
