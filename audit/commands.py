"""Command groups beyond inventory: crawl, rdap, audit, export, report, demo."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from audit.cli import App, cli, emit, ensure_registry, fail_input, pass_app


def _snapshot_entries(app: App) -> tuple[int, list[dict[str, Any]]]:
    """The newest snapshot's domains that govaudit audits: federal ones (and those of no
    stated type). A full registry list also names cities, counties, states...: they are
    known (not "unlisted"), not crawled."""
    from audit.inventory import entry_rows, find_snapshot

    with app.db.session() as session:
        snap = find_snapshot(session)
        rows = entry_rows(session, snap)
    return snap.id, [r for r in rows if (r["domain_type"] or "Federal").startswith("Federal")]


class ProgressLine:
    """A live progress line on a terminal; silent otherwise (logs and pipes stay clean)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.live: Any = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.live import Live

            self.live = Live(console=Console(stderr=True), refresh_per_second=4, transient=True)
            self.live.start()

    def __call__(self, prog: Any, elapsed: float) -> None:
        if self.live is None:
            return
        rate = prog.pages / elapsed if elapsed > 0 else 0.0
        finished = prog.done + prog.failed
        self.live.update(
            f"{self.label}: {finished}/{prog.total} done, {prog.failed} failed, "
            f"{prog.pages} pages, {rate:.1f} pages/s, {elapsed:.0f} s"
        )

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


@cli.command()
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
@click.option("--max-pages-per-site", type=click.IntRange(min=1), help="Default 50.")
@click.option("--max-depth", type=click.IntRange(min=0), help="Default 2.")
@click.option("--user-agent", help="User-Agent header (default from policy [crawl]).")
@click.option("--concurrency", type=click.IntRange(min=1), help="Requests in flight per process.")
@click.option("--per-host", type=click.IntRange(min=1), help="Requests in flight per host (2).")
@click.option("--timeout", type=click.FloatRange(min=0.1), help="Download timeout, seconds (20).")
@click.option("--no-robots", is_flag=True, help="Do not obey robots.txt (not recommended).")
@click.option(
    "--keep-evidence",
    is_flag=True,
    help="Store the raw /open and plan bodies (compressed) as evidence.",
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
    max_pages_per_site: int | None,
    max_depth: int | None,
    user_agent: str | None,
    concurrency: int | None,
    per_host: int | None,
    timeout: float | None,
    no_robots: bool,
    keep_evidence: bool,
) -> None:
    """Crawl every registered domain (newest snapshot) and each agency's /open page.

    Records the four endpoints of each domain, homepage facts, well-known files, a soft-404
    probe and a bounded crawl; then checks each agency's Open Government page for its
    Customer Service Plan. Resumable: state is kept per domain in the database.
    """
    from crawler.run import JOBS, TaskSpec, create_run, default_workers, execute, resumable_run

    workers = workers or default_workers()
    # Read the seeds first: a bad file must be refused before anything is written.
    _ = app.policy, app.agencies
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
        click.echo(f"resuming crawl run {new_id}", err=True)
    else:
        if run_id is not None:
            fail_input("--run goes with --resume")
        ensure_registry(app)
        snapshot_id, entries = _snapshot_entries(app)
        registry = {e["domain"]: e for e in entries}
        wanted: list[dict[str, Any]]
        if domains:
            from audit.domain_names import DomainError, normalise_gov_domain

            wanted = []
            for raw in domains:
                try:
                    name = normalise_gov_domain(raw)
                except DomainError as exc:
                    fail_input(f"--domain {raw}: {exc}")
                if all(w["domain"] != name for w in wanted):
                    wanted.append(registry.get(name, {"domain": name, "agency": None}))
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
        if not tasks:
            fail_input("nothing to crawl: no domain or agency matches the selection")
        crawl_cfg = app.policy.section("crawl")
        overrides = {
            "max_pages_per_site": max_pages_per_site,
            "max_depth": max_depth,
            "user_agent": user_agent,
            "concurrent_requests": concurrency,
            "concurrent_requests_per_host": per_host,
            "download_timeout": timeout,
        }
        crawl_cfg.update({k: v for k, v in overrides.items() if v is not None})
        if no_robots:
            crawl_cfg["obey_robots"] = False
        settings = {
            "jobs": jobs,
            "crawl": crawl_cfg,
            "plans": app.policy.section("plans"),
            "keep_evidence": keep_evidence,
            "policy_sources": list(app.policy.sources),
            "selection": {"domains": list(domains), "agency": agency, "limit": limit},
        }
        new_id = create_run(app.db, snapshot_id, settings, tasks)
        click.echo(
            f"crawl run {new_id}: {len(tasks)} tasks ({', '.join(jobs)}), {workers} worker(s)",
            err=True,
        )
    line = ProgressLine(f"run {new_id}")
    started = time.monotonic()
    try:
        status = execute(app.db, new_id, jobs, workers, app.verbose, on_tick=line)
    except KeyboardInterrupt:
        line.close()
        click.echo(f"interrupted: continue with `govaudit crawl --resume --run {new_id}`", err=True)
        sys.exit(1)
    line.close()
    _print_crawl_summary(app, new_id, status, time.monotonic() - started)
    if status != "finished":
        sys.exit(1)


def _print_crawl_summary(app: App, run_id: int, status: str, elapsed: float) -> None:
    from crawler.run import progress

    prog = progress(app.db, run_id)
    parts = [f"{job}: {finished}/{total}" for job, (finished, total) in sorted(prog.by_job.items())]
    click.echo(
        f"crawl run {run_id} {status}: {', '.join(parts)} tasks done "
        f"({prog.failed} failed), {prog.pages} pages in {elapsed:.1f} s"
    )


# ---------------------------------------------------------------- rdap


def rdap_base_url(app: App, given: str | None) -> str:
    """--rdap-url, else policy [rdap] base_url, else the IANA bootstrap copy in seeds/."""
    import json as _json

    from audit.seeds import SEEDS_DIR

    if given:
        return given
    cfg = app.policy.section("rdap")
    if cfg.get("base_url"):
        return str(cfg["base_url"])
    path = SEEDS_DIR / str(cfg.get("bootstrap_file", "rdap-dns.json"))
    try:
        services = _json.loads(path.read_text(encoding="utf-8"))["services"]
    except (OSError, ValueError, KeyError) as exc:
        fail_input(f"{path}: not a usable RDAP bootstrap file ({exc})")
    for tlds, urls in services:
        if "gov" in tlds and urls:
            return str(urls[0])
    fail_input(f"{path}: no RDAP service for .gov")


IANA_BOOTSTRAP_URL = "https://data.iana.org/rdap/dns.json"


def refresh_bootstrap(app: App, url: str) -> Path:
    """Replace the bundled IANA RDAP bootstrap copy with the current one (RFC 9224).

    Fetched with the environment's proxy settings and normal TLS verification; written only
    when it parses and names an RDAP service for .gov, so a bad download changes nothing.
    """
    import json as _json
    import os
    import urllib.request

    from audit.seeds import SEEDS_DIR

    target = SEEDS_DIR / str(app.policy.section("rdap").get("bootstrap_file", "rdap-dns.json"))
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            raw = answer.read(5_000_000)
        data = _json.loads(raw)
        gov = [u for tlds, urls in data["services"] if "gov" in tlds for u in urls]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail_input(f"{url}: not a usable RDAP bootstrap file ({exc})")
    if not gov:
        fail_input(f"{url}: the bootstrap file names no RDAP service for .gov")
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(raw)
    os.replace(tmp, target)
    return target


@cli.command()
@click.option(
    "--domain", "domains", multiple=True, metavar="D", help="Ask only for D (repeatable)."
)
@click.option(
    "--only-unknown",
    is_flag=True,
    help="Skip domains that already have a conclusive cached answer.",
)
@click.option(
    "--rdap-url",
    metavar="URL",
    help="RDAP base URL (default: the IANA bootstrap for .gov in seeds/).",
)
@click.option("--timeout", type=click.FloatRange(min=0.1), help="Download timeout, seconds.")
@click.option(
    "--refresh-bootstrap",
    "refresh",
    is_flag=True,
    help="First replace seeds/rdap-dns.json with the current IANA bootstrap file.",
)
@click.option(
    "--bootstrap-url",
    default=IANA_BOOTSTRAP_URL,
    metavar="URL",
    help=f"Where --refresh-bootstrap reads it (default {IANA_BOOTSTRAP_URL}).",
)
@pass_app
def rdap(
    app: App,
    domains: tuple[str, ...],
    only_unknown: bool,
    rdap_url: str | None,
    timeout: float | None,
    refresh: bool,
    bootstrap_url: str,
) -> None:
    """Ask the registry's RDAP service for each domain's registration date.

    Default: every domain of the newest snapshot, the unlisted .gov domains crawls found, and
    the waivers' domains. Answers are cached with their fetch time; 404 = not registered.
    """
    from sqlalchemy import func, select

    from audit.domain_names import DomainError, normalise_gov_domain
    from audit.models import LinkObservation, RdapResult
    from crawler.run import TaskSpec, create_run, execute

    # Read the seeds first: a bad file must be refused before anything is written.
    _ = app.policy, app.waivers
    if refresh:
        click.echo(f"rdap: bootstrap refreshed: {refresh_bootstrap(app, bootstrap_url)}", err=True)
    base = rdap_base_url(app, rdap_url)
    if domains:
        names = []
        for raw in domains:
            try:
                names.append(normalise_gov_domain(raw))
            except DomainError as exc:
                fail_input(f"--domain {raw}: {exc}")
        snapshot_id = None
    else:
        from audit.domain_names import registrable_domain

        ensure_registry(app)
        snapshot_id, entries = _snapshot_entries(app)
        names = [e["domain"] for e in entries]
        with app.db.session() as session:
            hosts = session.scalars(
                select(LinkObservation.to_host)
                .where(LinkObservation.kind == "gov-unlisted")
                .distinct()
            )
            names += sorted({registrable_domain(h) for h in hosts if h})
        names += [w.domain for w in app.waivers]
    names = list(dict.fromkeys(n for n in names if n))
    if only_unknown:
        with app.db.session() as session:
            known = set(
                session.scalars(
                    select(RdapResult.domain)
                    .where(RdapResult.state.in_(["registered", "not-registered"]))
                    .distinct()
                )
            )
        names = [n for n in names if n not in known]
    if not names:
        click.echo("rdap: nothing to ask")
        return
    crawl_cfg = app.policy.section("crawl")
    if timeout is not None:
        crawl_cfg["download_timeout"] = timeout
    run_id = create_run(
        app.db,
        snapshot_id,
        {"jobs": ["rdap"], "crawl": crawl_cfg, "rdap_url": base},
        [TaskSpec("rdap", n, n, None) for n in names],
    )
    click.echo(f"rdap run {run_id}: {len(names)} domains from {base}", err=True)
    line = ProgressLine(f"rdap run {run_id}")
    status = execute(app.db, run_id, ["rdap"], 1, app.verbose, on_tick=line)
    line.close()
    with app.db.session() as session:
        counts = dict(
            session.execute(
                select(RdapResult.state, func.count())
                .where(RdapResult.run_id == run_id)
                .group_by(RdapResult.state)
            ).all()
        )
    parts = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    click.echo(f"rdap run {run_id} {status}: {parts or 'no answers'}")
    if status != "finished":
        sys.exit(1)


# ---------------------------------------------------------------- audit


def _override_seeds(app: App, policy: Path | None, waivers: Path | None) -> None:
    if policy is not None:
        app.policy_path = policy
        app.__dict__.pop("policy", None)
    if waivers is not None:
        app.waivers_path = waivers
        app.__dict__.pop("waivers", None)


def _file_option(name: str, help_text: str) -> Any:
    from audit.cli import existing_file

    return click.option(name, callback=existing_file, metavar="FILE", help=help_text)


@cli.group(invoke_without_command=True)
@_file_option("--policy", "A policy TOML laid over seeds/policy.toml.")
@_file_option("--waivers", "Use this waivers.csv.")
@click.option("--run", "run_id", type=int, help="Audit this crawl run (default: the newest).")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.pass_context
def audit(
    ctx: click.Context, policy: Path | None, waivers: Path | None, run_id: int | None, fmt: str
) -> None:
    """Run every audit rule over the stored observations and store the findings.

    Rules: freeze-registration, late-waiver, orphan-waiver, unlisted-domain,
    open-page-missing, plan-missing, plan-incomplete, plan-late, site-unreachable.
    Changing the policy and re-running changes the findings without re-crawling.
    """
    import json as _json
    from collections import Counter

    from audit.runner import run_audit

    app: App = ctx.obj
    _override_seeds(app, policy, waivers)
    if ctx.invoked_subcommand is not None:
        return
    from audit.seeds import SEEDS_DIR

    waivers_file = str(app.waivers_path or SEEDS_DIR / "waivers.csv")
    from audit.export import NoData

    try:
        audit_id, drafts, data = run_audit(app.db, app.policy, app.waivers, run_id, waivers_file)
    except NoData as exc:
        fail_input(str(exc))
    counts = Counter((d.rule, d.severity) for d in drafts)
    if fmt == "json":
        click.echo(
            _json.dumps(
                {
                    "audit_run": audit_id,
                    "crawl_run": data.crawl_run_id,
                    "findings": len(drafts),
                    "by_rule": {f"{r}/{s}": n for (r, s), n in sorted(counts.items())},
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"audit run {audit_id} (crawl run {data.crawl_run_id or '-'}, "
        f"/open run {data.open_run_id or '-'}): {len(drafts)} findings"
    )
    rows = [{"rule": r, "severity": s, "findings": n} for (r, s), n in sorted(counts.items())]
    if rows:
        emit(rows, ["rule", "severity", "findings"], "table")


@audit.command("freeze")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--all", "show_all", is_flag=True, help="Also list domains classified outside or unknown."
)
@click.pass_obj
def audit_freeze(app: App, fmt: str, show_all: bool) -> None:
    """Print the freeze table alone: each domain's classification per freeze window."""
    import json as _json

    from audit.runner import gather

    with app.db.session() as session:
        data = gather(session, app.policy, app.waivers)
    rows = [
        r.as_json()
        for r in data.freeze_rows
        if show_all or r.classification.classification in ("in-freeze", "possibly-in-freeze")
    ]
    if fmt == "json":
        click.echo(_json.dumps(rows, indent=2))
        return
    emit(
        rows,
        [
            "domain",
            "agency",
            "window",
            "classification",
            "waiver",
            "registration_date",
            "interval",
            "basis",
        ],
        "table",
    )


# ---------------------------------------------------------------- export


@cli.group()
def export() -> None:
    """Stored results as CSV or JSON: sites, pages, links, plans, findings."""


EXPORT_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
RUN_OPTION = click.option("--run", "run_id", type=int, help="Crawl run (default: the newest).")


def _export_rows(app: App, job: str, run_id: int | None, build: Any) -> list[dict[str, Any]]:
    from audit.export import NoData, latest_run

    with app.db.session() as session:
        try:
            run = latest_run(session, job, run_id)
        except NoData as exc:
            fail_input(str(exc))
        return build(session, run.id)


@export.command("sites")
@RUN_OPTION
@EXPORT_FORMAT
@pass_app
def export_sites(app: App, run_id: int | None, fmt: str) -> None:
    """One row per domain: status, HTTPS, homepage facts, well-known files, crawl counts."""
    from audit.export import SITE_COLUMNS, sites_rows

    emit(_export_rows(app, "sites", run_id, sites_rows), SITE_COLUMNS, fmt)


@export.command("pages")
@RUN_OPTION
@EXPORT_FORMAT
@pass_app
def export_pages(app: App, run_id: int | None, fmt: str) -> None:
    """Every page the bounded crawl fetched (or was refused), with status and title."""
    from audit.export import PAGE_COLUMNS, pages_rows

    emit(_export_rows(app, "sites", run_id, pages_rows), PAGE_COLUMNS, fmt)


@export.command("links")
@RUN_OPTION
@EXPORT_FORMAT
@pass_app
def export_links(app: App, run_id: int | None, fmt: str) -> None:
    """Broken internal links, unlisted .gov links and refused URLs, with the linking page."""
    from audit.export import LINK_COLUMNS, links_rows

    emit(_export_rows(app, "sites", run_id, links_rows), LINK_COLUMNS, fmt)


@export.command("plans")
@RUN_OPTION
@EXPORT_FORMAT
@pass_app
def export_plans(app: App, run_id: int | None, fmt: str) -> None:
    """One row per agency: /open page, plan status, elements, evidence."""
    from audit.export import PLAN_COLUMNS, plans_rows

    deadline = app.policy.plan_deadline
    emit(
        _export_rows(app, "open", run_id, lambda s, r: plans_rows(s, r, deadline)),
        PLAN_COLUMNS,
        fmt,
    )


@export.command("findings")
@click.option("--audit-run", "audit_run_id", type=int, help="Audit run (default: the newest).")
@click.option("--rule", help="Only findings of this rule id.")
@EXPORT_FORMAT
@pass_app
def export_findings(app: App, audit_run_id: int | None, rule: str | None, fmt: str) -> None:
    """Findings of the newest audit: rule, severity, domain, agency, window, evidence."""
    from audit.export import FINDING_COLUMNS, NoData, findings_rows, latest_audit
    from audit.rules import RULES

    if rule and rule not in RULES:
        fail_input(f"--rule {rule}: unknown rule (known: {', '.join(RULES)})")
    with app.db.session() as session:
        try:
            run = latest_audit(session, audit_run_id)
        except NoData as exc:
            fail_input(str(exc))
        rows = findings_rows(session, run.id, rule)
    emit(rows, FINDING_COLUMNS, fmt)


# ---------------------------------------------------------------- report and demo


@cli.command()
@click.option("--run", "run_id", type=int, help="Crawl run to report (default: the newest).")
@click.option("--audit-run", "audit_run_id", type=int, help="Audit run (default: the newest).")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the static report into.",
)
@pass_app
def report(app: App, run_id: int | None, audit_run_id: int | None, out_dir: Path) -> None:
    """Render the static HTML report (opens from file://, works offline).

    Prints the absolute path of index.html. Pages: overview, agencies, freeze, plans,
    inventory, changes, guidelines, methodology, and CSV/JSON downloads.
    """
    from audit.export import NoData
    from reports.render import render_report

    try:
        index = render_report(
            app.db,
            out_dir,
            run_id=run_id,
            audit_run_id=audit_run_id,
            policy=app.policy,
            agencies=app.agencies,
        )
    except NoData as exc:
        fail_input(str(exc))
    click.echo(str(index))


DEMO_DIR = Path(__file__).resolve().parent.parent / "simweb" / "demo"


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("govaudit-demo"),
    show_default=True,
    help="Folder for the demo's database and report (a previous demo's folder is replaced; "
    "any other non-empty folder is refused).",
)
@click.option("--workers", type=click.IntRange(min=1), help="Crawler processes per crawl.")
@click.pass_context
def demo(ctx: click.Context, out_dir: Path, workers: int | None) -> None:
    """The whole audit against the simulated .gov web, offline, in about a minute.

    Starts the simulated web on a free local port, loads the demo registry snapshots,
    crawls every demo domain and /open page, asks RDAP, audits, then crawls and audits the
    world again after it changed, and renders the report. Prints the absolute path of the
    report's index.html on its own line.
    """
    import os
    import shutil

    from simweb.server import SimulatedWeb

    app: App = ctx.obj
    seeds = DEMO_DIR / "seeds"
    out_dir = out_dir.resolve()
    marker = out_dir / ".govaudit-demo"
    if out_dir.exists() and any(out_dir.iterdir()):
        if not marker.exists():
            fail_input(
                f"--out {out_dir}: not empty and not a previous demo's folder; "
                "give a new or empty folder"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text("made by govaudit demo; replaced by the next demo run\n")
    app.db_url = f"sqlite:///{out_dir / 'govaudit-demo.db'}"
    app.policy_path = app.policy_path or seeds / "policy.toml"
    app.agencies_path = app.agencies_path or seeds / "agencies.csv"
    app.waivers_path = app.waivers_path or seeds / "waivers.csv"
    started = time.monotonic()

    def step(message: str) -> None:
        click.echo(f"demo [{time.monotonic() - started:5.1f} s] {message}", err=True)

    with SimulatedWeb.demo() as web:
        os.environ.update(web.proxy_env())  # the crawler processes inherit the proxy
        step(f"simulated .gov web on {web.proxy_url} ({len(web.hosts())} hosts)")
        from audit.cli import load_files

        if load_files(
            app,
            sorted(seeds.glob("demo-federal-*.csv")),
            echo=lambda line: step(f"registry: {line}"),
        ):
            raise click.ClickException("the demo registry did not load")
        for epoch in (1, 2):
            web.set_epoch(epoch)
            step(f"crawl {epoch} of 2 (the world {'as first seen' if epoch == 1 else 'later'})")
            try:
                ctx.invoke(crawl, workers=workers)
            except SystemExit as exc:
                if exc.code:
                    raise click.ClickException(f"demo crawl {epoch} did not finish") from exc
            if epoch == 1:
                step("RDAP registration dates")
                ctx.invoke(rdap)
            step("audit")
            ctx.invoke(audit, fmt="table")
    step("report")
    from reports.render import render_report

    index = render_report(app.db, out_dir / "report", policy=app.policy, agencies=app.agencies)
    step(f"done; database {out_dir / 'govaudit-demo.db'}")
    click.echo(str(index))
