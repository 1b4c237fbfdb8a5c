# Quick start:  make run   (service + demo city on SQLite, http://127.0.0.1:8000/docs)
#               make test  (lint, types, migrations and the whole suite on SQLite and PostgreSQL)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install install-dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.dev-installed

run: install
	$(BIN)/wenming serve --demo

test: install-dev
	VENV=$(VENV) bash scripts/test

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: install-dev
	$(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
