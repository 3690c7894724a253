# govaudit: the two set-up commands (README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: install install-test demo test test-fast lint wheel-check benchmark screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

## Install govaudit and run the main job: the whole audit against the simulated .gov web.
demo: install
	$(BIN)/govaudit demo

## Install govaudit, PostgreSQL and Chromium (Debian packages), start them, run every test.
# The services script's output is kept in a file so that its failure stops `make test`
# (inside `eval "$$(...)"` a failed script would let pytest run and skip whole groups).
# Two pytest-xdist workers (the machine has 2 cores); a file stays on one worker, and the
# files go out longest first (tests/conftest.py, tests/durations.json).
PYTEST_PARALLEL ?= -n 2 --dist loadfile --no-loadscope-reorder
test: install-test
	bash .ci/services.sh > .services.env
	. ./.services.env && $(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_PARALLEL) \
		--durations=25

## The quick loop: no crawl, no browser, no PostgreSQL (no services needed), under a minute.
# Installs only when pyproject.toml changed, so the loop does not wait for pip.
$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

test-fast: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_PARALLEL) \
		-m "not integration and not browser and not postgres"

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## Build the wheel, install it in a fresh virtualenv outside the checkout, run the demo there.
wheel-check: install-test
	bash .ci/wheel_check.sh

benchmark: install-test
	$(BIN)/python -m benchmarks

screenshots: install-test
	$(BIN)/python docs/make_screenshots.py

clean:
	rm -rf $(VENV) govaudit-demo .pytest_cache .services.env build dist
