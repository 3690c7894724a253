"""The settings stored on a run (`crawl_run.settings`), built in one place for every kind of
run: `govaudit crawl` (also `--websites`, `--archive`), `govaudit run`'s crawl steps, `rdap`,
`archive first-seen`, `a11y` and `dns`. What was done, with which crawl settings
(audit/crawl_settings.py) and policy, where its WARC files go. A resumed run and every
crawler process read them back from the run; the report and `export` show them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from audit.crawl_settings import CrawlSettings
from audit.policy_file import Policy

# A crawl of everything the registry lists (no --domain, --agency or --limit).
WHOLE_REGISTRY = {"domains": [], "agency": None, "limit": None}


def run_settings(
    jobs: Sequence[str],
    *,
    crawl: CrawlSettings | None = None,
    policy: Policy | None = None,
    plans: bool = False,
    keep_evidence: bool | None = None,
    selection: Mapping[str, Any] | None = None,
    job_run: Sequence[Any] | None = None,
    warc: bool | None = None,
    warc_dir: str | None = None,
    distributed: bool | None = None,
    archive: Mapping[str, Any] | None = None,
    **own: Any,
) -> dict[str, Any]:
    """A run's settings; a key given None is not stored (each kind of run stores the keys it
    always has). `crawl`: the crawl settings (the settings given are stored); `policy`: its
    files (`policy_sources`) and, with `plans`, its [plans] for the /open check; `job_run`:
    [job run id, step] of the periodic job that started the run; `warc`: WARC files are
    written (in `warc_dir`, default the data directory's warc/); `archive`: a crawl of web
    archives; `own`: the settings of the run's kind (`a11y`, `dns`, `rdap_url`, ...)."""
    settings: dict[str, Any] = {"jobs": list(jobs)}
    if crawl is not None:
        settings["crawl"] = crawl.as_stored()
    settings.update(own)
    if policy is not None and plans:
        settings["plans"] = policy.section("plans")
    if keep_evidence is not None:
        settings["keep_evidence"] = keep_evidence
    if policy is not None:
        settings["policy_sources"] = list(policy.sources)
    if selection is not None:
        settings["selection"] = dict(selection)
    if job_run is not None:
        settings["job_run"] = list(job_run)
    if warc is not None:
        settings["warc"] = warc
        settings["warc_dir"] = warc_dir if warc else None
    if distributed is not None:
        settings["distributed"] = distributed
    if archive is not None:
        settings["archive"] = dict(archive)
    return settings


def crawl_run_settings(
    policy: Policy,
    jobs: Sequence[str],
    crawl: CrawlSettings,
    *,
    selection: Mapping[str, Any] | None = None,
    plans: bool = True,
    warc_dir: str | None = None,
    warc: bool | None = None,
    **more: Any,
) -> dict[str, Any]:
    """A crawl run's settings (`govaudit crawl`, `crawl --websites`, `govaudit run`'s crawl
    steps): always its policy files, selection and whether WARC files are written."""
    return run_settings(
        jobs,
        crawl=crawl,
        policy=policy,
        plans=plans,
        selection=selection or WHOLE_REGISTRY,
        warc=bool(warc if warc is not None else warc_dir),
        warc_dir=warc_dir,
        **more,
    )
