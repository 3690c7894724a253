"""The settings stored on a crawl run (`crawl_run.settings`), built in one place for
`govaudit crawl`, `crawl --websites` and `govaudit run`'s crawl steps: what was crawled,
with which crawl settings (audit/crawl_settings.py) and policy, where its WARC files go.
A resumed run and every crawler process read them back from the run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audit.policy_file import Policy


def crawl_run_settings(
    policy: Policy,
    jobs: Sequence[str],
    crawl: dict[str, Any],
    *,
    selection: dict[str, Any] | None = None,
    plans: bool = True,
    keep_evidence: bool | None = None,
    warc_dir: str | None = None,
    warc: bool | None = None,
    distributed: bool | None = None,
    job_run: list[Any] | None = None,
    archive: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`crawl`: the run's crawl settings (the policy's [crawl] with overrides); `plans`: the
    run checks /open plans under the policy's [plans]; `warc`: WARC files are written (in
    `warc_dir`, default the data directory's warc/); `job_run`: [job run id, step] of the
    periodic job that started it; `archive`: a crawl of web archives."""
    settings: dict[str, Any] = {"jobs": list(jobs), "crawl": crawl}
    if plans:
        settings["plans"] = policy.section("plans")
    if keep_evidence is not None:
        settings["keep_evidence"] = keep_evidence
    settings["policy_sources"] = list(policy.sources)
    settings["selection"] = selection or {"domains": [], "agency": None, "limit": None}
    if job_run is not None:
        settings["job_run"] = job_run
    settings["warc"] = bool(warc if warc is not None else warc_dir)
    settings["warc_dir"] = warc_dir if settings["warc"] else None
    if distributed is not None:
        settings["distributed"] = distributed
    if archive is not None:
        settings["archive"] = archive
    return settings
