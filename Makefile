# CityOps Console developer tasks. `make test` is what CI runs (through .ci/run).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
PYTEST := $(PYTHON) -m pytest -q -p no:cacheprovider

.PHONY: setup test lint demo bench clean distclean

# Debian packages, .venv with the project and its dev extras, derived data.
# Idempotent and fast when everything is already there.
setup:
	bash packaging/setup-dev.sh

define run-lint
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
endef

lint: setup
	$(run-lint)

# Qt runs offscreen: there is no display on developers' machines or in CI. After the
# whole suite, the core (tests/domain, tests/comms) runs again with PySide6 and the
# rest of the GUI stack made unimportable by the support.no_qt plugin.
test: export QT_QPA_PLATFORM := offscreen
test: setup
	$(run-lint)
	$(PYTEST) tests
	$(PYTEST) -p support.no_qt tests/domain tests/comms

demo: setup
	$(BIN)/cityops demo

bench: setup
	mkdir -p bench-results
	$(BIN)/cityops bench sync --json bench-results/sync.json
	$(BIN)/cityops bench ui --json bench-results/ui.json
	$(BIN)/cityops bench map --json bench-results/map.json
	$(BIN)/cityops bench dashboard --json bench-results/dashboard.json
	$(BIN)/cityops bench video --json bench-results/video.json
	$(BIN)/cityops bench calls --json bench-results/calls.json

# Caches and build output; keeps .venv and data.
clean:
	find . -path ./.venv -prune -o -type d -name __pycache__ -print0 | xargs -0 -r rm -rf
	rm -rf .mypy_cache .ruff_cache .pytest_cache .import_linter_cache build dist
	find . -path ./.venv -prune -o -type d -name '*.egg-info' -print0 | xargs -0 -r rm -rf

# Everything made here, the virtual environment and benchmark results included.
distclean: clean
	rm -rf $(VENV) bench-results
