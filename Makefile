# One virtual environment, created on first use and reused afterwards. quickfix builds from
# source on the first install (about six minutes on two cores); pip keeps the built wheel in
# its cache, so later installs take seconds. Then the venue's command path is compiled with
# mypyc, with the gateway's C speedups (see setup.py; about half a minute), and compiled again
# by the targets that run code whenever a venue source or fixgw/_speedups.c is newer than the
# last build. `build` compiles it unconditionally;
# `FIXGW_NO_COMPILE=1 make build` removes it, to run the venue from its sources.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
COMPILED := $(VENV)/.venue-compiled

.PHONY: run test lint bench build clean

run: $(COMPILED)
	$(BIN)/fixgw serve

test: $(COMPILED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(COMPILED)
	$(BIN)/pytest -m benchmark -s -o addopts="--strict-markers"

build: $(STAMP)
	rm -f venue/*.so fixgw/*.so
	$(BIN)/python -m pip install --no-deps -e .
	touch $(COMPILED)

$(COMPILED): $(STAMP) setup.py $(wildcard venue/*.py) fixgw/_speedups.c
	$(BIN)/python -m pip install --no-deps -e .
	touch $@

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip wheel
	FIXGW_NO_COMPILE=1 $(BIN)/python -m pip install -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

clean:
	rm -rf $(VENV) var build .pytest_cache .mypy_cache .ruff_cache
	rm -f venue/*.so fixgw/*.so
