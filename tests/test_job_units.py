"""The periodic job's reusable unit handling (govaudit/job_units.py), its log (a failure in
one line, its traceback in the log file only), its summary's keys, and the demo's one line
when Chromium is missing: without a crawl or a browser."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from govaudit import job_log
from govaudit.job_units import INTERNAL_ERROR, StepUnits, task_reason
from govaudit.periodic_job import REGISTRY_KEYS, JobResult


@pytest.fixture
def job_log_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "job.log"
    job_log.close(logging.getLogger(job_log.LOGGER_NAME))


def open_log(path: Path) -> logging.Logger:
    """The job's log (stderr, and `path`), made inside the test: its stderr handler holds
    the stream pytest captures during the test itself."""
    return job_log.configure("INFO", path)


def test_a_unit_that_raises_fails_alone_and_the_step_goes_on(
    capsys: pytest.CaptureFixture[str], job_log_file: Path
) -> None:
    units = StepUnits("dns", open_log(job_log_file))

    def look_up(name: str) -> str:
        if name == "bad.gov":
            raise KeyError("no such zone")
        return f"{name}: ok"

    results = [units.run(name, look_up, name) for name in ("a.gov", "bad.gov", "c.gov")]
    assert results == ["a.gov: ok", None, "c.gov: ok"]
    assert [(f.key, f.reason) for f in units.failed] == [
        ("bad.gov", f"{INTERNAL_ERROR} (KeyError: 'no such zone')")
    ]
    assert (
        units.failure == f"1 unit(s) failed: bad.gov: {INTERNAL_ERROR} (KeyError: 'no such zone')"
    )
    stderr = capsys.readouterr().err
    assert "dns: failed unit bad.gov: couldn't check: internal error" in stderr
    assert "Traceback" not in stderr
    # The traceback is in the log file, at DEBUG, after the one-line warning.
    text = job_log_file.read_text()
    assert "WARNING govaudit run: dns: failed unit bad.gov" in text
    assert "DEBUG govaudit run: traceback of dns: unit bad.gov:" in text
    assert "Traceback (most recent call last)" in text and "in look_up" in text


def test_every_unit_handled_is_no_failure(job_log_file: Path) -> None:
    units = StepUnits("rdap", open_log(job_log_file))
    assert units.run("a.gov", lambda: 1) == 1
    assert units.failed == [] and units.failure is None


def test_failed_task_errors_read_as_couldnt_check() -> None:
    assert task_reason(None) == INTERNAL_ERROR
    assert task_reason("internal error: RuntimeError: x") == (
        "couldn't check: internal error: RuntimeError: x"
    )
    assert task_reason("not stored: IntegrityError: y") == (
        f"{INTERNAL_ERROR} (not stored: IntegrityError: y)"
    )


def test_a_crawler_traceback_reaches_the_log_file_only(
    capsys: pytest.CaptureFixture[str], job_log_file: Path
) -> None:
    open_log(job_log_file)
    try:
        raise ValueError("postgresql://auditor:s3cret@db/x refused")
    except ValueError:
        logging.getLogger("crawler.a11y").debug("the check raised", exc_info=True)
    logging.getLogger("crawler.a11y").debug("a plain debug line")
    assert "Traceback" not in capsys.readouterr().err
    text = job_log_file.read_text()
    assert "the check raised" in text and "ValueError" in text
    assert "a plain debug line" not in text
    assert "s3cret" not in text and "auditor:***@db" in text


def test_the_summary_has_every_documented_key_whatever_the_state() -> None:
    empty = JobResult(None, "locked", {}, 0.04).summary()
    assert empty == {
        "run": None,
        "status": "locked",
        "registry": dict(REGISTRY_KEYS),
        "crawl": {"tasks": 0, "done": 0, "failed": 0, "pages": 0},
        "findings": {"total": 0, "new": 0, "resolved": 0},
        "report": None,
        "failed_steps": [],
        "seconds": 0.0,
    }
    partial = JobResult(
        3,
        "partial",
        {
            "registry": {"files": 1, "loaded": 1},
            "failed_steps": [{"step": "a11y", "reason": "x", "extra": 1}],
        },
        1.0,
    ).summary()
    assert list(partial["registry"]) == list(REGISTRY_KEYS)
    assert partial["registry"]["files"] == 1 and partial["registry"]["unchanged"] == 0
    assert partial["failed_steps"] == [{"step": "a11y", "reason": "x"}]


def test_the_demo_without_chromium_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import crawler.a11y
    from govaudit.app import App
    from govaudit.commands.demo import check_accessibility

    monkeypatch.setattr(crawler.a11y, "CHROMIUM", str(tmp_path / "no-chromium"))
    lines: list[str] = []
    app = App(f"sqlite:///{tmp_path}/demo.db", None, None, None)
    check_accessibility(app, tmp_path / "ca.pem", lines.append)
    assert lines == [
        f"accessibility skipped: {tmp_path / 'no-chromium'} not found: install Debian's "
        "chromium-headless-shell (apt-get install chromium-headless-shell) or set "
        "GOVAUDIT_CHROMIUM; the report's "
        "Accessibility page says how to enable it"
    ]
