"""`govaudit crawl`: observe every registered domain and each agency's /open page."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from audit.crawl_settings import BY_NAME as SETTING
from audit.crawl_settings import CrawlSettings, SettingError
from govaudit.app import App, Failure, domain_options, fail_input, pass_app
from govaudit.output import ProgressLine
from govaudit.registry_files import audited_entries, ensure_registry

# Domains per queued batch of a distributed crawl (benchmarks/README.md: 32 ran at 0.96x a
# local crawl's requests/s, 8 at 0.83x).
DEFAULT_BATCH_SIZE = 32


@click.command()
@click.option(
    "--domain", "domains", multiple=True, metavar="D", help="Crawl only this domain (repeatable)."
)
@click.option("--agency", metavar="TEXT", help="Only domains of agencies whose name contains TEXT.")
@click.option("--limit", type=click.IntRange(min=1), help="At most N domains (and agencies).")
@click.option(
    "--only",
    type=click.Choice(["sites", "open"]),
    help="Run one spider: the site inventory or the /open plan check.",
)
@click.option("--resume", is_flag=True, help="Continue the newest unfinished run (or --run ID).")
@click.option("--run", "run_id", type=int, help="With --resume: the run to continue.")
@click.option(
    "--workers", type=click.IntRange(min=1), help="Crawler processes (default: one per core)."
)
@click.option(
    "--distributed",
    is_flag=True,
    help="Queue the tasks in batches for `govaudit worker` processes (PostgreSQL --db) and "
    "wait for them, instead of starting local workers.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help=f"With --distributed: domains (or agencies) per batch (default {DEFAULT_BATCH_SIZE}).",
)
@click.option(
    "--websites",
    is_flag=True,
    help="Crawl every website of the inventory (`inventory websites`: hosts under registered "
    "federal domains) instead of the registered domains; --domain, --agency and --limit "
    "select websites.",
)
@click.option(
    "--max-pages-per-site",
    type=click.IntRange(min=SETTING["max_pages_per_site"].minimum),
    help=f"Default {SETTING['max_pages_per_site'].default} (domains); 1 with --websites (the "
    "homepage and well-known files).",
)
@click.option(
    "--per-domain",
    type=click.IntRange(min=1),
    help="With --websites: requests in flight to all hosts of one registered domain (8).",
)
@click.option(
    "--max-depth",
    type=click.IntRange(min=SETTING["max_depth"].minimum),
    help=f"Default {SETTING['max_depth'].default}.",
)
@click.option(
    "--user-agent",
    help="User-Agent header (default: the policy's [crawl] user_agent; --policy may set it).",
)
@click.option(
    "--concurrency",
    "concurrent_requests",
    type=click.IntRange(min=SETTING["concurrent_requests"].minimum),
    help="Requests in flight per process.",
)
@click.option(
    "--per-host",
    type=click.IntRange(min=SETTING["concurrent_requests_per_host"].minimum),
    help=f"Requests in flight per host ({SETTING['concurrent_requests_per_host'].default}).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=SETTING["download_timeout"].minimum),
    help=f"Download timeout, seconds ({SETTING['download_timeout'].default:g}).",
)
@click.option("--no-robots", is_flag=True, help="Do not obey robots.txt (not recommended).")
@click.option(
    "--all-types",
    is_flag=True,
    help="Crawl every domain of the newest snapshot (a full list's state, local, tribal... "
    "domains too), not only the federal ones.",
)
@click.option(
    "--keep-evidence",
    is_flag=True,
    help="Store the raw bodies of /open and of every plan candidate (compressed) as evidence.",
)
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM certificates to trust besides the system's (certifi, OS store, SSL_CERT_FILE).",
)
@click.option(
    "--warc",
    "warc_dir",
    type=click.Path(file_okay=False, writable=True),
    metavar="DIR",
    help="Write every request and response to WARC files in DIR (replayable evidence).",
)
@click.option(
    "--archive",
    "archives",
    multiple=True,
    metavar="URL",
    help="Crawl this web archive as of --as-of instead of the live web: a Wayback or pywb "
    "replay prefix (https://web.archive.org/web/, http://host:port/<collection>/). "
    "Repeatable: archives are tried in order.",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="DATE",
    help="With --archive: the date (YYYY-MM-DD) the web is seen as of.",
)
@click.option(
    "--window",
    "window_days",
    type=click.IntRange(min=0),
    metavar="DAYS",
    help="With --archive: how far from DATE a capture may be (default 60 days).",
)
@pass_app
def crawl(
    app: App,
    domains: tuple[str, ...],
    agency: str | None,
    limit: int | None,
    only: str | None,
    resume: bool,
    run_id: int | None,
    workers: int | None,
    distributed: bool,
    batch_size: int | None,
    websites: bool,
    max_pages_per_site: int | None,
    per_domain: int | None,
    max_depth: int | None,
    user_agent: str | None,
    concurrent_requests: int | None,
    per_host: int | None,
    timeout: float | None,
    no_robots: bool,
    all_types: bool,
    keep_evidence: bool,
    ca_bundle: Path | None = None,
    warc_dir: str | None = None,
    archives: tuple[str, ...] = (),
    as_of: Any = None,
    window_days: int | None = None,
) -> None:
    """Crawl every registered domain (newest snapshot) and each agency's /open page.

    Records the four endpoints of each domain, homepage facts, well-known files, a soft-404
    probe and a bounded crawl; then checks each agency's Open Government page for its
    Customer Service Plan. Resumable: state is kept per domain in the database.
    With --distributed the crawling is done by `govaudit worker` processes on any number of
    machines sharing the PostgreSQL database; this command queues the batches and waits.
    With --archive URL --as-of DATE the same checks run against a web archive's captures
    near DATE (a URL with none is `not-archived`); the run is recorded as such.

    With --websites: every website of the inventory instead (a run of its own): its https
    and http endpoints, redirects, homepage, robots.txt, sitemap, security.txt and a crawl
    bounded by --max-pages-per-site (default 1: the homepage); per host --per-host, per
    registered domain --per-domain requests in flight. Any crawl's hosts become websites of
    the source `crawl` when it ends.
    """
    from crawler.crawl_run import JOBS, create_run, default_workers, execute, resumable_run

    if batch_size is not None and not distributed:
        fail_input("--batch-size goes with --distributed")
    batch_size = batch_size or DEFAULT_BATCH_SIZE
    if distributed:
        from crawler.distributed import is_postgresql

        if workers is not None:
            fail_input("--workers does not go with --distributed (see `govaudit worker`)")
        if not is_postgresql(app.db.url):
            fail_input(
                f"--distributed needs a PostgreSQL database shared with the workers "
                f"(--db postgresql://user:pass@host/db), not {app.db.url}"
            )
    # Read the seeds first: a bad file must be refused before anything is written.
    _ = app.policy, app.agencies
    # A crawl of web archives asks one host: one process by default keeps its limits whole.
    workers = workers or (1 if archives else default_workers())
    archive = _archive_settings(app, archives, as_of, window_days, resume, workers)
    if resume:
        run = resumable_run(app.db, run_id)
        if run is None:
            fail_input(
                "nothing to resume: no unfinished crawl run"
                if run_id is None
                else f"no crawl run {run_id}"
            )
        jobs = run.settings.get("jobs", list(JOBS))
        new_id = run.id
        if warc_dir:
            set_warc_dir(app, new_id, warc_directory(warc_dir))
        click.echo(f"resuming crawl run {new_id}", err=True)
    else:
        if run_id is not None:
            fail_input("--run goes with --resume")
        if websites:
            from govaudit.website_crawl import website_selection

            if only:
                fail_input("--only does not go with --websites (a website crawl is one job)")
            if all_types:
                fail_input("--all-types does not go with --websites (websites are federal)")
            if archive is not None:
                fail_input("--archive does not go with --websites (archives are read per domain)")
            snapshot_id, jobs, tasks = website_selection(app, domains, agency, limit)
        else:
            snapshot_id, jobs, tasks = _domain_selection(
                app, domains, agency, limit, only, all_types
            )
        if not tasks:
            fail_input("nothing to crawl: no domain or agency matches the selection")
        crawl_settings = _crawl_settings(
            app,
            {
                "max_pages_per_site": max_pages_per_site,
                "max_depth": max_depth,
                "user_agent": user_agent,
                "concurrent_requests": concurrent_requests,
                "concurrent_requests_per_host": per_host,
                "download_timeout": timeout,
                "ca_bundle": str(ca_bundle.resolve()) if ca_bundle else None,
                "obey_robots": False if no_robots else None,
            },
        )
        if websites:
            from govaudit.website_crawl import website_crawl_settings

            crawl_settings = website_crawl_settings(crawl_settings, max_pages_per_site, per_domain)
        elif per_domain is not None:
            fail_input("--per-domain goes with --websites")
        from govaudit.run_settings import crawl_run_settings

        settings = crawl_run_settings(
            app.policy,
            jobs,
            crawl_settings,
            selection={"domains": list(domains), "agency": agency, "limit": limit},
            keep_evidence=keep_evidence,
            warc_dir=warc_directory(warc_dir) if warc_dir else None,
            distributed=distributed,
            archive=archive,
        )
        new_id = create_run(app.db, snapshot_id, settings, tasks)
        how = (
            f"batches of {batch_size} for `govaudit worker`"
            if distributed
            else f"{workers} worker(s)"
        )
        seen = f", as archived near {archive['as_of']}" if archive else ""
        click.echo(
            f"crawl run {new_id}: {len(tasks)} tasks ({', '.join(jobs)}{seen}), {how}", err=True
        )
    line = ProgressLine(f"run {new_id}")
    started = time.monotonic()
    try:
        if distributed:
            status = _coordinate(app, new_id, jobs, batch_size, line)
        else:
            status = execute(app.db, new_id, jobs, workers, app.verbose, on_tick=line)
    except KeyboardInterrupt:
        line.close()
        again = " --distributed" if distributed else ""
        click.echo(
            f"interrupted: continue with `govaudit crawl --resume{again} --run {new_id}`",
            err=True,
        )
        sys.exit(1)
    line.close()
    _print_crawl_summary(app, new_id, status, time.monotonic() - started)
    from govaudit.website_crawl import record_sightings

    try:
        record_sightings(app, new_id)
    except Exception as exc:  # the crawl is stored either way: say so, do not fail it
        click.echo(f"govaudit: warning: hosts of crawl run {new_id} not recorded: {exc}", err=True)
    if status != "finished":
        sys.exit(1)


def _crawl_settings(app: App, options: dict[str, Any]) -> CrawlSettings:
    """The policy's [crawl] with the options given (None: not given) laid over it."""
    try:
        return app.policy.crawl_settings.evolve(options, where=lambda key: "govaudit crawl")
    except SettingError as exc:  # the options' own ranges are the model's: not expected
        fail_input(str(exc))


def _archive_settings(
    app: App,
    archives: tuple[str, ...],
    as_of: Any,
    window_days: int | None,
    resume: bool,
    workers: int,
) -> dict[str, Any] | None:
    """The run's `archive` settings from --archive/--as-of/--window (None: the live web)."""
    if not archives:
        if as_of is not None or window_days is not None:
            fail_input("--as-of and --window go with --archive URL")
        return None
    if resume:
        fail_input("--archive does not go with --resume (the run keeps its own archives)")
    if as_of is None:
        fail_input("--archive needs --as-of DATE (YYYY-MM-DD): the date to see the web as of")
    from crawler.archive import ArchiveConfigError, archive_run_settings

    try:
        return archive_run_settings(
            list(archives), as_of.date(), window_days, app.policy.section("archive"), workers
        )
    except ArchiveConfigError as exc:
        fail_input(str(exc))


def _domain_selection(
    app: App,
    domains: tuple[str, ...],
    agency: str | None,
    limit: int | None,
    only: str | None,
    all_types: bool,
) -> tuple[int, list[str], list[Any]]:
    """The registered domains (site crawl) and agencies (/open) the options select."""
    from crawler.crawl_run import JOBS, TaskSpec

    ensure_registry(app)
    snapshot_id, entries = audited_entries(app, all_types=all_types)
    registry = {e["domain"]: e for e in entries}
    wanted: list[dict[str, Any]]
    if domains:
        wanted = [
            registry.get(name, {"domain": name, "agency": None}) for name in domain_options(domains)
        ]
    else:
        wanted = list(entries)
    if agency:
        needle = agency.lower()
        wanted = [e for e in wanted if needle in (e.get("agency") or "").lower()]
    if limit:
        wanted = wanted[:limit]
    jobs = [only] if only else list(JOBS)
    tasks: list[TaskSpec] = []
    if "sites" in jobs:
        tasks += [TaskSpec("sites", e["domain"], e["domain"], e.get("agency")) for e in wanted]
    if "open" in jobs:
        chosen = {e["domain"] for e in wanted}
        seeds = [
            a
            for a in app.agencies
            if (
                a.primary_domain in chosen
                if (domains or limit)
                else (not agency or agency.lower() in a.agency.lower())
            )
        ]
        tasks += [TaskSpec("open", a.agency, a.primary_domain, a.agency) for a in seeds]
    return snapshot_id, jobs, tasks


def _coordinate(app: App, run_id: int, jobs: list[str], batch_size: int, line: Any) -> str:
    from crawler.distributed import DistributedError, coordinate

    try:
        return coordinate(app.db, run_id, jobs, batch_size, on_tick=line)
    except DistributedError as exc:
        line.close()
        raise Failure(str(exc)) from exc


def warc_directory(given: str) -> str:
    """The absolute WARC directory, created now: a bad path is refused before crawling."""
    from pathlib import Path

    path = Path(given).expanduser().absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail_input(f"--warc {given}: cannot create the directory ({exc.strerror or exc})")
    return str(path)


def set_warc_dir(app: App, run_id: int, directory: str) -> None:
    """A resumed run given --warc writes its new files there (old files stay where they are,
    and the observations already stored keep naming them)."""
    from audit.models import CrawlRun

    with app.db.session() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        run.settings = {**(run.settings or {}), "warc": True, "warc_dir": directory}


def _print_crawl_summary(app: App, run_id: int, status: str, elapsed: float) -> None:
    from audit.models import CrawlRun
    from crawler.crawl_run import progress

    prog = progress(app.db, run_id)
    parts = [f"{job}: {finished}/{total}" for job, (finished, total) in sorted(prog.by_job.items())]
    with app.db.session() as session:
        run = session.get(CrawlRun, run_id)
        seen = f" (as archived near {run.as_of})" if run is not None and run.as_of else ""
    click.echo(
        f"crawl run {run_id}{seen} {status}: {', '.join(parts)} tasks done "
        f"({prog.failed} failed), {prog.pages} pages in {elapsed:.1f} s"
    )
