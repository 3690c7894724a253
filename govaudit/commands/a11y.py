"""`govaudit a11y`: axe-core in a real browser on each active homepage and /open page."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from govaudit.app import App, existing_file, fail_input, pass_app
from govaudit.output import ProgressLine


def a11y_targets(app: App, source_run: int | None) -> tuple[int | None, list[Any]]:
    """Final homepage URLs of the active sites of the newest finished site crawl, and each
    agency's /open page and plan page when they are HTML."""
    from audit.export import NoData, latest_run, plans_rows, sites_rows
    from crawler.a11y import PageTarget

    targets: list[PageTarget] = []
    with app.db.session() as session:
        try:
            run = latest_run(session, "sites", source_run)
        except NoData as exc:
            fail_input(str(exc))
        for site in sites_rows(session, run.id):
            if site["status"] == "active" and site["final_url"]:
                targets.append(
                    PageTarget(site["domain"], site["final_url"], "homepage", site["agency"])
                )
        try:
            open_run = latest_run(session, "open", source_run)
        except NoData:
            open_run = None
        if open_run is not None:
            for plan in plans_rows(session, open_run.id, app.policy.plan_deadline):
                if plan["open_page_url"]:
                    targets.append(
                        PageTarget(plan["domain"], plan["open_page_url"], "open", plan["agency"])
                    )
                if plan["plan_url"] and "html" in (plan["plan_content_type"] or ""):
                    targets.append(
                        PageTarget(plan["domain"], plan["plan_url"], "plan", plan["agency"])
                    )
    unique = {(t.kind, t.url): t for t in targets}
    return run.snapshot_id, list(unique.values())


@click.command()
@click.option(
    "--domain", "domains", multiple=True, metavar="D", help="Check only this domain (repeatable)."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most N pages.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Browser pages at once (never more than one per host).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Deadline per page, seconds (load and axe together).",
)
@click.option(
    "--ca-bundle",
    callback=existing_file,
    metavar="FILE",
    help="Extra trusted CA certificates (PEM), as for the crawl (else SSL_CERT_FILE).",
)
@click.option("--run", "source_run", type=int, help="Take the pages from this crawl run.")
@click.option("--no-robots", is_flag=True, help="Do not obey robots.txt (not recommended).")
@pass_app
def a11y(
    app: App,
    domains: tuple[str, ...],
    limit: int | None,
    concurrency: int,
    timeout: float,
    ca_bundle: Path | None,
    source_run: int | None,
    no_robots: bool,
) -> None:
    """Check accessibility with axe-core in headless Chromium after a crawl.

    Every `active` site's final homepage URL of the newest finished crawl, and each
    agency's /open page and HTML plan page. Polite like the crawl (its User-Agent,
    robots.txt, one page per host at a time); a page that fails to load is "couldn't
    check", never "no violations". Each run is a new observation.
    """
    from audit.domain_names import DomainError, normalise_gov_domain
    from crawler.a11y import axe_source, ca_bundle_path, check_run, task_key
    from crawler.run import RunProgress, TaskSpec, create_run

    snapshot_id, targets = a11y_targets(app, source_run)
    if domains:
        wanted = set()
        for raw in domains:
            try:
                wanted.add(normalise_gov_domain(raw))
            except DomainError as exc:
                fail_input(f"--domain {raw}: {exc}")
        targets = [t for t in targets if t.domain in wanted]
    if limit:
        targets = targets[:limit]
    if not targets:
        fail_input("nothing to check: no active site or /open page in the crawl selected")
    crawl_cfg = app.policy.section("crawl")
    user_agent = str(crawl_cfg.get("user_agent", "govaudit"))
    bundle = ca_bundle_path(ca_bundle)
    options = {
        "user_agent": user_agent,
        "concurrency": concurrency,
        "timeout": timeout,
        "obey_robots": not no_robots and bool(crawl_cfg.get("obey_robots", True)),
        "ca_bundle": bundle,
    }
    settings = {
        "jobs": ["a11y"],
        "a11y": {**options, "ca_bundle": str(bundle) if bundle else None},
        "source_run": source_run,
    }
    run_id = create_run(
        app.db,
        snapshot_id,
        settings,
        [TaskSpec("a11y", task_key(t), t.domain, t.agency) for t in targets],
    )
    click.echo(f"a11y run {run_id}: {len(targets)} pages, {concurrency} at once", err=True)
    line = ProgressLine(f"a11y run {run_id}")
    started = time.monotonic()

    def tick(done: int, total: int) -> None:
        line(RunProgress(total=total, done=done, pages=done), time.monotonic() - started)

    try:
        axe_source()
        checked, failed = check_run(app.db, run_id, on_progress=tick, **options)
    except FileNotFoundError as exc:
        line.close()
        fail_input(str(exc))
    line.close()
    _finish_run(app, run_id)
    with app.db.session() as session:
        from audit.a11y import SERIOUS, a11y_pages, worst_impact

        pages = a11y_pages(session, run_id)
    serious = sum(1 for p in pages if p["state"] == "checked" and worst_impact(p) in SERIOUS)
    click.echo(
        f"a11y run {run_id} finished: {checked} pages checked, {failed} couldn't check, "
        f"{serious} with serious or critical violations in {time.monotonic() - started:.1f} s"
    )
    if checked + failed < len(targets):
        sys.exit(1)


def _finish_run(app: App, run_id: int) -> None:
    from sqlalchemy import func, select

    from audit.models import CrawlRun, CrawlTask, utcnow

    with app.db.session() as session:
        pending = session.scalar(
            select(func.count())
            .select_from(CrawlTask)
            .where(CrawlTask.run_id == run_id, CrawlTask.state == "pending")
        )
        run = session.get(CrawlRun, run_id)
        run.status = "finished" if not pending else "interrupted"
        run.finished_at = utcnow()
