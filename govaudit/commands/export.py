"""`govaudit export`: stored results as CSV or JSON."""

from __future__ import annotations

from typing import Any

import click

from govaudit.app import App, fail_input, pass_app
from govaudit.output import emit


@click.group()
def export() -> None:
    """Stored results as CSV or JSON: sites, pages, links, plans, findings, a11y, dns,
    websites."""


EXPORT_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
RUN_OPTION = click.option(
    "--run", "run_id", type=int, help="Crawl run (default: the newest finished)."
)


def _export_rows(app: App, job: str, run_id: int | None, build: Any) -> list[dict[str, Any]]:
    from audit.run_selection import NoData, latest_run

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
    from audit.site_rows import SITE_COLUMNS, sites_rows

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
    from audit.plan_rows import PLAN_COLUMNS, plans_rows

    deadline = app.policy.plan_deadline
    plans = app.policy.section("plans")
    emit(
        _export_rows(app, "open", run_id, lambda s, r: plans_rows(s, r, deadline, plans)),
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
    from audit.export import FINDING_COLUMNS, findings_rows
    from audit.rules import RULES
    from audit.run_selection import NoData, latest_audit

    # guideline:<check id> names one check of the policy's guideline set
    if rule and rule not in RULES and not rule.startswith("guideline:"):
        known = ", ".join(r if r != "guideline" else "guideline:<check id>" for r in RULES)
        fail_input(f"--rule {rule}: unknown rule (known: {known})")
    with app.db.session() as session:
        try:
            run = latest_audit(session, audit_run_id)
        except NoData as exc:
            fail_input(str(exc))
        rows = findings_rows(session, run.id, rule)
    emit(rows, FINDING_COLUMNS, fmt)


@export.command("a11y")
@click.option("--run", "run_id", type=int, help="Accessibility run (default: the newest).")
@EXPORT_FORMAT
@pass_app
def export_a11y(app: App, run_id: int | None, fmt: str) -> None:
    """One row per violated axe rule per page (a page with none: one row, empty rule)."""
    from audit.a11y import A11Y_COLUMNS, a11y_pages, export_rows

    emit(
        _export_rows(app, "a11y", run_id, lambda s, r: export_rows(a11y_pages(s, r))),
        A11Y_COLUMNS,
        fmt,
    )


@export.command("dns")
@click.option("--run", "run_id", type=int, help="DNS run (default: the newest finished).")
@EXPORT_FORMAT
@pass_app
def export_dns(app: App, run_id: int | None, fmt: str) -> None:
    """One row per domain: DNS state, NS, MX, SPF, DMARC, BOD 18-01 email verdict, IPv6,
    DNSSEC, with the resolver, the time and the answers as evidence."""
    from audit.dns_results import (
        DNS_COLUMNS,
        csv_words,
        dns_observations,
        homepage_hosts,
        judged_rows,
    )
    from audit.email_dns import EmailPolicy
    from audit.run_selection import NoData, latest_run

    policy = EmailPolicy.from_section(app.policy.section("email"))

    def build(session: Any, dns_run: int) -> list[dict[str, Any]]:
        try:
            sites_run = latest_run(session, "sites").id
        except NoData:
            sites_run = None
        return judged_rows(
            dns_observations(session, dns_run), policy, homepage_hosts(session, sites_run)
        )

    rows = [{c: r[c] for c in DNS_COLUMNS} for r in _export_rows(app, "dns", run_id, build)]
    emit(csv_words(rows) if fmt == "csv" else rows, DNS_COLUMNS, fmt)


@export.command("websites")
@click.option("--run", "run_id", type=int, help="Website crawl run (default: the newest).")
@click.option("--agency", metavar="TEXT", help="Only websites of agencies containing TEXT.")
@click.option("--source", metavar="NAME", help="Only websites this source lists or saw.")
@click.option(
    "--candidate",
    type=click.Choice(["add", "retire"]),
    help="Only the candidates to add (live, found only by crawls) or to retire.",
)
@EXPORT_FORMAT
@pass_app
def export_websites(
    app: App,
    run_id: int | None,
    agency: str | None,
    source: str | None,
    candidate: str | None,
    fmt: str,
) -> None:
    """One row per website of the inventory: sources, first/last seen, and what the newest
    website crawl (`crawl --websites`) saw: status, HTTPS, DAP, banner, search, candidate.
    A website no website crawl saw yet has empty crawl columns."""
    from audit.run_selection import NoData
    from audit.website_rows import EXPORT_COLUMNS, export_rows, judged_websites
    from govaudit.website_sources import ensure_website_inventory

    ensure_website_inventory(app)
    with app.db.session() as session:
        try:
            _, rows = judged_websites(session, run_id, agency, source)
        except NoData as exc:
            fail_input(str(exc))
    if candidate:
        rows = [r for r in rows if r["candidate"] == candidate]
    emit(export_rows(rows), EXPORT_COLUMNS, fmt)
