# govaudit: the two set-up commands (README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# pywb, the replay engine of the demo's and the tests' web archives, lives in a virtualenv of
# its own: its pins (pyOpenSSL < 26.2, brotlipy) break the crawler's TLS and brotli decoding.
REPLAY ?= .venv-replay
WAYBACK = $(CURDIR)/$(REPLAY)/bin/wayback

.PHONY: install install-test replay demo test test-fast test-newest lint wheel-check benchmark screenshots clean

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
# Two pytest-xdist workers (the machine has 2 cores); a file stays on one worker, and the
# files go out longest first (tests/conftest.py, tests/durations.json).
PYTEST_PARALLEL ?= -n 2 --dist loadfile --no-loadscope-reorder
test: install-test
	bash .ci/services.sh > .services.env
	. ./.services.env && GOVAUDIT_WAYBACK=$(WAYBACK) $(BIN)/python -m pytest -q -p no:cacheprovider \
		$(PYTEST_PARALLEL) --durations=25

## The crawler-facing tests against the newest Scrapy, Twisted and procrastinate on the package
# index, beyond pyproject.toml's pins (pip warns when they exceed them: the pin may need
# widening), in a venv of their own (.venv-newest). NEWEST_TESTS=tests runs every test.
NEWEST_VENV  ?= .venv-newest
NEWEST_TESTS ?= tests/test_scrapy_seams.py tests/test_tls_certificates.py \
	tests/test_crawl_sites.py tests/test_hostile_web.py tests/test_parsing_urls.py \
	tests/test_domain_names_uts46.py tests/test_inventory.py tests/test_open_pages.py \
	tests/test_warc.py tests/test_unit_outcomes.py tests/test_unit_memory.py \
	tests/test_site_unreachable.py tests/test_rdap.py tests/test_rdap_killed.py \
	tests/test_pipeline.py tests/test_guidelines_crawl.py tests/test_run_progress.py \
	tests/test_distributed.py tests/test_distributed_open_warc.py \
	tests/test_distributed_schema.py
test-newest:
	test -x $(NEWEST_VENV)/bin/python || $(PYTHON) -m venv $(NEWEST_VENV)
	$(NEWEST_VENV)/bin/pip install -q --upgrade pip
	$(NEWEST_VENV)/bin/pip install -q --upgrade -e '.[test]'
	$(NEWEST_VENV)/bin/pip install -q --upgrade scrapy twisted procrastinate
	$(NEWEST_VENV)/bin/python -c "import scrapy, twisted, procrastinate; print('newest: Scrapy', \
	scrapy.__version__, '- Twisted', twisted.__version__, '- procrastinate', procrastinate.__version__)"
	bash .ci/services.sh > .services.env
	. ./.services.env && GOVAUDIT_WAYBACK=$(WAYBACK) $(NEWEST_VENV)/bin/python -m pytest -q -p no:cacheprovider $(NEWEST_TESTS)

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
	rm -rf $(VENV) $(REPLAY) $(NEWEST_VENV) govaudit-demo .pytest_cache .services.env build dist
