"""The test suite's own variables (audit/test_hooks.py) are neither offered to users as
configuration nor warned about as misspellings; a real misspelling still is."""

from __future__ import annotations

from audit.test_hooks import TEST_VARIABLES
from govaudit.job_config import known_variables, unknown_variable_warnings


def test_test_hooks_are_not_advertised_nor_warned_about() -> None:
    assert "GOVAUDIT_JOB_HOLD" in TEST_VARIABLES and "GOVAUDIT_TEST_DNS" in TEST_VARIABLES
    assert not set(TEST_VARIABLES) & set(known_variables())
    environ = {name: "1" for name in TEST_VARIABLES}
    assert unknown_variable_warnings(environ) == []
    warnings = unknown_variable_warnings({**environ, "GOVAUDIT_JOB_HOLDD": "x"})
    assert len(warnings) == 1 and warnings[0].startswith("unknown variable GOVAUDIT_JOB_HOLDD")
    assert "GOVAUDIT_JOB_HOLD," not in warnings[0] and "TEST_DNS" not in warnings[0]
