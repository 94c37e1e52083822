# Every target creates its own virtual environment, so a fresh machine needs only
# python3 (3.10+) and make. `make test` installs the package the way users do (a regular,
# non-editable install) so packaging mistakes fail here, not on a user's machine;
# `make dev` gives an editable install for working on the code.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SOURCES := $(shell find src -type f \( -name '*.py' -o -name '*.yaml' -o -name '*.json' -o -name '*.csv' -o -name '*.md' -o -name '*.j2' \) 2>/dev/null) pyproject.toml
PYTEST_ARGS ?=

.PHONY: demo test bench lint dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# A regular install, redone whenever a source file changes.
$(VENV)/.installed: $(BIN)/python $(SOURCES)
	$(BIN)/python -m pip install --quiet '.[test,lint,pdf]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/sprawl-audit demo

test: $(VENV)/.installed
	$(BIN)/pytest -q -n auto $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python -m bench

# ruff; mypy strict over the package; the layer contract in .importlinter (read from
# src, not the installed copy).
lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench tools
	$(BIN)/mypy src/sprawl_audit
	PYTHONPATH=src $(BIN)/lint-imports --no-cache

dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint,pdf]'

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
