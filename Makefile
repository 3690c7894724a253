# govaudit: the two set-up commands (README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# pywb, the replay engine of the demo's and the tests' web archives, lives in a virtualenv of
# its own: its pins (pyOpenSSL < 26.2, brotlipy) break the crawler's TLS and brotli decoding.
REPLAY ?= .venv-replay
WAYBACK = $(CURDIR)/$(REPLAY)/bin/wayback

.PHONY: install install-test replay demo test lint wheel-check benchmark screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python replay
	$(BIN)/pip install -q -e '.[test]'

## pywb (pyproject's `replay` extra) in $(REPLAY), for `govaudit demo` and the archive tests.
replay: $(REPLAY)/bin/wayback

$(REPLAY)/bin/wayback:
	$(PYTHON) -m venv $(REPLAY)
	$(REPLAY)/bin/pip install -q --upgrade pip
	$(REPLAY)/bin/pip install -q "$$($(PYTHON) .ci/replay_requirement.py)"

## Install govaudit and run the main job: the whole audit against the simulated .gov web,
## accessibility included (Debian's Chromium is installed first where it can be: .ci/browser.sh).
demo: install replay
	bash .ci/browser.sh --if-possible
	GOVAUDIT_WAYBACK=$(WAYBACK) $(BIN)/govaudit demo

## Install govaudit, PostgreSQL and Chromium (Debian packages), start them, run every test.
# The services script's output is kept in a file so that its failure stops `make test`
# (inside `eval "$$(...)"` a failed script would let pytest run and skip whole groups).
test: install-test
	bash .ci/services.sh > .services.env
	. ./.services.env && GOVAUDIT_WAYBACK=$(WAYBACK) $(BIN)/python -m pytest -q -p no:cacheprovider

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
	rm -rf $(VENV) $(REPLAY) govaudit-demo .pytest_cache .services.env build dist
