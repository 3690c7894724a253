"""Environment variables that exist for the test suite and the benchmarks only, named here.

Each changes how a process the tests start behaves (`govaudit run`, a crawler process), so a
pytest fixture cannot stand in for it in-process: the tests set it in that process's
environment. None is configuration: the user documentation does not list them, and
`govaudit` does not warn about them as unknown variables (govaudit/job_config.py).
"""

from __future__ import annotations

# `govaudit run` sleeps at this step ("audit-written", "report-written") until killed: the
# tests kill it there and check the next run continues (govaudit/periodic_job.py).
JOB_HOLD = "GOVAUDIT_JOB_HOLD"
# Stub DNS answers, a JSON object name -> address, checked like any other answer, so they
# can only make lookups fail: .gov names resolving to forbidden addresses (crawler/resolver.py).
TEST_DNS = "GOVAUDIT_TEST_DNS"
# WARC files rotate at this many bytes instead of 1 GB, so a small crawl writes several
# (crawler/crawl_process.py).
WARC_MAX_BYTES = "GOVAUDIT_WARC_MAX_BYTES"
# The PostgreSQL server of the tests and benchmarks (.ci/services.sh prints it).
TEST_PG_URL = "GOVAUDIT_TEST_PG_URL"
# The real registry snapshots the tests and benchmarks read (../shared/data/dotgov).
DOTGOV_DATA = "GOVAUDIT_DOTGOV_DATA"

TEST_VARIABLES = (JOB_HOLD, TEST_DNS, WARC_MAX_BYTES, TEST_PG_URL, DOTGOV_DATA)
