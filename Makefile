# govaudit: the two set-up commands (README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: install install-test demo test lint benchmark screenshots clean

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
test: install-test
	eval "$$(bash .ci/services.sh)" && $(BIN)/python -m pytest -q -p no:cacheprovider

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

benchmark: install-test
	$(BIN)/python -m benchmarks

screenshots: install-test
	$(BIN)/python docs/make_screenshots.py

clean:
	rm -rf $(VENV) govaudit-demo .pytest_cache
