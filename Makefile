# Sparkify ELT: the two commands of the quickstart are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
ARGS ?=

.PHONY: setup run test bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: setup  ## the ELT on the embedded default (local S3 emulator + embedded PostgreSQL)
	$(PY) flows/main.py $(ARGS)

test: setup  ## the whole test suite
	$(PY) -m pytest $(ARGS)

bench: setup  ## the performance benchmark (not a test)
	$(PY) benchmarks/run.py $(ARGS)

lint: setup
	$(PY) -m pip install --quiet ruff sqlfluff
	$(VENV)/bin/ruff check .

clean:
	rm -rf .sparkify .pytest_cache
