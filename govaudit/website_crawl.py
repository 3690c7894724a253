"""The website crawl (`govaudit crawl --websites`, `[crawl] websites = true`): which websites,
with which settings, and the hosts every crawl saw recorded as websites of the source
`crawl`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from audit.crawl_settings import CrawlSettings
from govaudit.app import App, domain_options

# Homepage and well-known files only: the whole federal web (some 30,000 websites) in the
# benchmark's half hour on two cores (benchmarks/README.md, "Websites").
WEBSITE_MAX_PAGES = 1
WEBSITE_PER_DOMAIN = 8


def website_crawl_settings(
    crawl: CrawlSettings, max_pages: int | None = None, per_domain: int | None = None
) -> CrawlSettings:
    """A website crawl's settings: a domain crawl's with its own page budget and per-domain
    limit (`crawl --websites --max-pages-per-site N --per-domain N`)."""
    return crawl.evolve(
        {
            "max_pages_per_site": max_pages or WEBSITE_MAX_PAGES,
            "concurrent_requests_per_domain": per_domain or WEBSITE_PER_DOMAIN,
        }
    )


def website_selection(
    app: App,
    domains: tuple[str, ...] = (),
    agency: str | None = None,
    limit: int | None = None,
) -> tuple[int, list[str], list[Any]]:
    """(snapshot id, jobs, tasks) of a website crawl: every website of the inventory under a
    federal domain of the registry, narrowed to --domain's domains and --agency's agencies,
    at most --limit of them (by domain, then host)."""
    from sqlalchemy import select

    from audit.inventory import find_snapshot
    from audit.models import Website
    from crawler.crawl_run import WEBSITES_JOB, TaskSpec
    from govaudit.website_sources import ensure_website_inventory

    registry = ensure_website_inventory(app)
    wanted_domains = set(domain_options(domains))
    with app.db.session() as session:
        snapshot_id = find_snapshot(session).id
        rows = session.execute(
            select(Website.host, Website.domain, Website.agency).order_by(
                Website.domain, Website.host
            )
        ).all()
    needle = agency.lower() if agency else None
    tasks = []
    for host, domain, owner in rows:
        if not (registry.domains.get(domain) or (None, False))[1]:
            continue  # the domain is no longer a federal one of the registry
        if wanted_domains and domain not in wanted_domains:
            continue
        if needle and needle not in (owner or "").lower():
            continue
        tasks.append(TaskSpec(WEBSITES_JOB, host, domain, owner))
    if limit:
        tasks = tasks[:limit]
    return snapshot_id, [WEBSITES_JOB], tasks


def record_sightings(
    app: App, run_id: int, echo: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The hosts a finished (or stopped) crawl run saw, as websites of the source `crawl`."""
    from audit.nonpublic_names import bundled_nonpublic_names
    from audit.website_sightings import record_crawl_sightings
    from govaudit.website_sources import ensure_website_inventory

    registry = ensure_website_inventory(app)
    with app.db.session() as session:
        load = record_crawl_sightings(session, run_id, registry, bundled_nonpublic_names())
    say = echo or (lambda line: click.echo(line, err=True))
    say(
        f"crawl run {run_id}: {load.rows_read} hosts seen, "
        f"{load.websites} websites of the inventory ({load.new_websites} new)"
    )
    return {"hosts": load.rows_read, "websites": load.websites, "new_websites": load.new_websites}


def job_website_crawl(job: Any, domain_run_id: int) -> dict[str, Any]:
    """The periodic job's website crawl (`[crawl] websites = true`), after its domain crawl:
    a run of its own (noted as `websites_run`, continued by the next `govaudit run` when
    killed), then the hosts both runs saw recorded as websites of the source `crawl`.
    `status` is the run's; `error` says why when it did not finish (the job fails the step)."""
    import json

    from audit.db import mask_passwords
    from crawler.crawl_run import WEBSITES_JOB, create_run, progress

    log = job.log
    record_sightings(job.app, domain_run_id, echo=lambda line: log.info("crawl: %s", line))
    run_id = job._job_crawl_run("websites_run")
    if run_id is None:
        snapshot_id, jobs, tasks = website_selection(job.app)
        from govaudit.run_settings import crawl_run_settings

        settings = crawl_run_settings(
            job.app.policy,
            jobs,
            website_crawl_settings(job.crawl_settings()),
            plans=False,
            job_run=[job.job.id, "websites_run"],
            warc=bool(job.config["warc"]),
            warc_dir=job.config["warc_dir"],
        )
        settings = json.loads(mask_passwords(json.dumps(settings, default=str)))
        run_id = create_run(job.app.db, snapshot_id, settings, tasks)
        job._save(websites_run=run_id)
        log.info("crawl: website crawl run %s: %s websites", run_id, len(tasks))
    else:
        log.info("crawl: continuing website crawl run %s", run_id)
    status = job.crawl(run_id, [WEBSITES_JOB])
    job.units("crawl").from_tasks(job.app.db, run_id)
    prog = progress(job.app.db, run_id)
    record_sightings(job.app, run_id, echo=lambda line: log.info("crawl: %s", line))
    return {
        "status": status,
        "error": None
        if status == "finished"
        else (
            f"website crawl run {run_id} did not finish ({prog.done + prog.failed}/"
            f"{prog.total} websites): a crawler process failed"
        ),
        "run": run_id,
        "tasks": prog.total,
        "done": prog.done,
        "failed": prog.failed,
        "pages": prog.pages,
    }
