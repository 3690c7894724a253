"""`govaudit run` when something fails (issue 27): a unit's failure is the unit's, an
optional step's failure does not take the report with it (`partial`), and no step is
resumed into the same error twice.

Faults are real or planted into the real `govaudit run`: a page whose check raises (a
`sitecustomize` module on PYTHONPATH wraps the checker), a browser that does not start
(GOVAUDIT_CHROMIUM names a program that exits at once), an output folder whose `latest` is
not a symlink (the report step refuses it).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from crawler.a11y import CHROMIUM
from tests.crawl_world import FILES, sites
from tests.test_periodic_job import SMALL, job_world, query, run_job, summary

pytestmark = pytest.mark.integration

PLANTED = "https://www.alpha.gov/"
RAISING_CHECK = f'''
"""Test fault: the accessibility check of {PLANTED} raises (tests/test_run_failures.py)."""
import crawler.a11y as _checker

_original = _checker.AccessibilityChecker._check_in


async def _check_in(self, visit, target, started):
    if target.url == {PLANTED!r}:
        raise RuntimeError("planted: the check of this page raises")
    return await _original(self, visit, target, started)


_checker.AccessibilityChecker._check_in = _check_in
'''


def page_text(path: Path) -> str:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
    return " ".join(soup.get_text(" ", strip=True).split())


def assert_one_line_failures(stderr: str, log_file: Path) -> None:
    """A failure is one line on stderr; its traceback is in the log file, at DEBUG."""
    assert "Traceback" not in stderr, stderr[-3000:]
    log = log_file.read_text()
    assert "Traceback (most recent call last)" in log
    debug = [line for line in log.splitlines() if " DEBUG govaudit run: " in line]
    assert debug, "no DEBUG record before the traceback"


@pytest.mark.browser
def test_a_page_whose_check_raises_is_a_failed_unit_and_the_run_partial(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (make test installs it)"
    web = simulated_web_factory(sites(), files=FILES)
    world = job_world(tmp_path, SMALL, a11y=True)
    fault = tmp_path / "fault"
    fault.mkdir()
    (fault / "sitecustomize.py").write_text(textwrap.dedent(RAISING_CHECK))
    env = {"SSL_CERT_FILE": str(web.ca_pem_path), "PYTHONPATH": str(fault)}
    result = run_job(web, world["config"], env=env)
    data = summary(result)
    assert result.returncode == 1, result.stderr[-3000:]
    assert data["status"] == "partial" and data["run"] == 1
    reason = (
        f"1 unit(s) failed: {PLANTED}: couldn't check: internal error: RuntimeError: "
        "planted: the check of this page raises"
    )
    assert data["failed_steps"] == [{"step": "a11y", "reason": reason}]
    # The step went on with the other pages, counted the failed unit, and the run reported.
    log = (tmp_path / "job.log").read_text()
    assert f"a11y: failed unit {PLANTED}: couldn't check: internal error" in log
    assert "step a11y done in" in log and "failed 1" in log
    checked = query(world["db"], "select url, state from a11y_check")
    assert ("http://www.beta.gov/", "checked") in checked and PLANTED not in dict(checked)
    assert "run 1 partial in" in log and "the next `govaudit run` starts a new run" in log
    report = Path(data["report"])
    assert report.is_file() and (world["out"] / "latest").resolve() == report.parent
    methodology = page_text(report.parent / "about.html")
    assert "Run 1 of govaudit run is partial" in methodology
    assert f"a11y : {reason}" in methodology
    accessibility = page_text(report.parent / "accessibility.html")
    assert f"{PLANTED} : internal error" in accessibility
    assert_one_line_failures(result.stderr, tmp_path / "job.log")
    assert "the check of https://www.alpha.gov/ raised" in (tmp_path / "job.log").read_text()

    # Partial is over: the next run is a new one, and without the fault it is done.
    again = run_job(web, world["config"], env={"SSL_CERT_FILE": str(web.ca_pem_path)})
    second = summary(again)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (second["run"], second["status"], second["failed_steps"]) == (2, "done", [])
    assert "run 2: started at step registry" in again.stderr


@pytest.mark.browser
def test_an_optional_step_that_fails_as_a_whole_leaves_a_partial_run_with_its_report(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    web = simulated_web_factory(sites(), files=FILES)
    world = job_world(tmp_path, SMALL, a11y=True)
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'this browser does not start' >&2\nexit 1\n")
    broken.chmod(0o755)
    env = {"GOVAUDIT_CHROMIUM": str(broken)}
    first = run_job(web, world["config"], env=env)
    data = summary(first)
    assert first.returncode == 1, first.stderr[-3000:]
    assert data["status"] == "partial" and data["run"] == 1
    [failed] = data["failed_steps"]
    assert failed["step"] == "a11y" and "BrowserType.launch" in failed["reason"]
    assert f"Chromium at {broken} did not start" in failed["reason"]
    assert "\n" not in failed["reason"]
    # Audited and reported all the same; OUT/latest points at the new report.
    assert data["findings"]["total"] > 0
    report = Path(data["report"])
    assert (world["out"] / "latest").resolve() == report.parent
    assert (report.parent / "index.html").is_file()
    errors = [line for line in first.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and errors[0].endswith("the run goes on without it (partial)")
    assert "run 1: step a11y failed: " in errors[0]
    assert "run 1: step audit done in" in first.stderr
    assert_one_line_failures(first.stderr, tmp_path / "job.log")
    assert "a11y" in page_text(report.parent / "about.html")
    assert report.parent.joinpath("accessibility.html").read_text().count("a11y-step-failed") == 1
    assert query(world["db"], "select status, finished_at is not null from job_run") == [
        ("partial", 1)
    ]

    # A run stopped at the a11y step by its own error, as issue 27's runs were (status
    # failed, unfinished): the next run tries the step once more; failing again, it goes on
    # and ends partial instead of stopping there for good.
    query(
        world["db"],
        "update job_run set status = 'failed', finished_at = null, step = 'a11y', "
        "error = 'a11y: IntegrityError: UNIQUE constraint failed: a11y_check.run_id'",
    )
    resumed = run_job(web, world["config"], env=env)
    assert resumed.returncode == 1
    assert "run 1 stopped at step a11y last time (a11y: IntegrityError" in resumed.stderr
    assert "trying it once more" in resumed.stderr
    assert (summary(resumed)["run"], summary(resumed)["status"]) == (1, "partial")
    # ... so the next scheduled run starts a new run.
    third = run_job(web, world["config"], env=env)
    assert summary(third)["run"] == 2 and "run 2: started at step registry" in third.stderr


def test_a_required_step_is_resumed_once_then_the_next_run_starts_anew(
    simulated_web_factory: Any, tmp_path: Path
) -> None:
    web = simulated_web_factory(sites(), files=FILES)
    world = job_world(tmp_path, SMALL)
    # OUT/latest is a folder, not a symlink: the report step refuses to replace it.
    (world["out"] / "latest").mkdir(parents=True)
    first = run_job(web, world["config"])
    assert first.returncode == 2 and summary(first)["status"] == "failed"
    reason = f"{world['out'] / 'latest'}: exists and is not a symlink; move it away"
    assert summary(first)["failed_steps"] == [{"step": "report", "reason": reason}]
    last = first.stderr.strip().splitlines()[-1]
    assert last.endswith(
        f"ERROR govaudit run: run 1 failed at step report: {reason}; "
        "the next `govaudit run` continues there"
    )

    second = run_job(web, world["config"])
    assert second.returncode == 2 and summary(second)["run"] == 1
    assert "run 1 stopped at step report last time" in second.stderr
    assert (
        second.stderr.strip()
        .splitlines()[-1]
        .endswith(
            f"run 1 failed at step report again: {reason}; the next `govaudit run` starts a new run"
        )
    )
    assert query(world["db"], "select status, finished_at is not null from job_run") == [
        ("failed", 1)
    ]

    # Not resumed into the same error a third time: a new run.
    third = run_job(web, world["config"])
    assert summary(third)["run"] == 2 and "run 2: started at step registry" in third.stderr
    assert "continuing" not in third.stderr
    # Once the cause is fixed, the next run continues run 2 where it stopped, and is done.
    (world["out"] / "latest").rmdir()
    fixed = run_job(web, world["config"], check=True)
    assert "run 2 stopped at step report last time" in fixed.stderr
    data = summary(fixed)
    assert (data["run"], data["status"], data["failed_steps"]) == (2, "done", [])
    assert (world["out"] / "latest" / "index.html").is_file()
    for result in (first, second, third, fixed):
        assert "Traceback" not in result.stderr
