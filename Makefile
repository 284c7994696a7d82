# hisgw: `make serve` runs the gateway on its embedded default; `make test` passes the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup serve test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Embedded default: SQLite file var/hisgw.sqlite, the demo county's policy and reference data, every listener.
serve: setup
	$(BIN)/hisgw demo load
	$(BIN)/hisgw serve --log-format console

lint: setup
	$(BIN)/ruff check gateway tests simulators bench

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

test: lint typecheck unit

# Every path beside its bare baseline; prints a table, writes var/bench.json (about 6 minutes).
bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
