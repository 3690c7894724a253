"""`govaudit a11y`: axe-core in a real browser on each active homepage and /open page."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from govaudit.app import App, domain_options, existing_file, fail_input, pass_app
from govaudit.output import ProgressLine


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
    check", never "no violations". A page is checked once whatever roles it plays. A page
    whose check fails inside govaudit is "couldn't check: internal error" (exit 1); the
    other pages are checked all the same. Each run is a new observation.
    """
    from crawler.a11y import chromium_missing
    from crawler.crawl_run import RunProgress
    from govaudit.a11y_job import a11y_options, a11y_targets, create_a11y_run, execute_a11y_run

    missing = chromium_missing()
    if missing:
        fail_input(missing)
    snapshot_id, targets = a11y_targets(app, source_run)
    if domains:
        wanted = set(domain_options(domains))
        targets = [t for t in targets if t.domain in wanted]
    if limit:
        targets = targets[:limit]
    if not targets:
        fail_input("nothing to check: no active site or /open page in the crawl selected")
    options = a11y_options(
        app, concurrency=concurrency, timeout=timeout, ca_bundle=ca_bundle, no_robots=no_robots
    )
    run_id = create_a11y_run(app, snapshot_id, targets, options, {"source_run": source_run})
    click.echo(f"a11y run {run_id}: {len(targets)} pages, {concurrency} at once", err=True)
    line = ProgressLine(f"a11y run {run_id}")
    started = time.monotonic()

    def tick(done: int, total: int) -> None:
        line(RunProgress(total=total, done=done, pages=done), time.monotonic() - started)

    try:
        counts = execute_a11y_run(app, run_id, options, on_progress=tick)
    finally:
        line.close()
    failed = f"; {counts['failed']} failed (internal error)" if counts["failed"] else ""
    click.echo(
        f"a11y run {run_id} finished: {counts['checked']} pages checked, "
        f"{counts['couldnt_check']} couldn't check, {counts['serious']} with serious or "
        f"critical violations in {time.monotonic() - started:.1f} s{failed}"
    )
    if counts["pending"] or counts["failed"]:
        sys.exit(1)
