"""`govaudit dns`: the DNS of every registered domain (NS, SOA, MX, SPF, DMARC, addresses,
DNSSEC, CAA), observed and stored; `govaudit export dns` judges it."""

from __future__ import annotations

import sys
import time

import click

from govaudit.app import App, pass_app
from govaudit.output import ProgressLine

DEFAULT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY = 50


@click.command()
@click.option(
    "--domain",
    "domains",
    multiple=True,
    metavar="D",
    help="Observe only D (repeatable; any name under .gov, e.g. a mail host).",
)
@click.option(
    "--nameserver",
    "nameservers",
    multiple=True,
    metavar="IP[:PORT]",
    help="Resolver to ask (repeatable, tried in order; default: GOVAUDIT_DNS_NAMESERVERS "
    "(comma-separated), else the system's, from /etc/resolv.conf).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds before a query with no answer is a timeout (couldn't check).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Domains observed at once (each asks its 12 questions at once).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Observer processes (default: one per core); --concurrency is shared out.",
)
@click.option(
    "--all-types",
    is_flag=True,
    help="Every domain of the newest snapshot (a full list's state, local, tribal... "
    "domains too), not only the federal ones.",
)
@pass_app
def dns(
    app: App,
    domains: tuple[str, ...],
    nameservers: tuple[str, ...],
    timeout: float,
    concurrency: int,
    workers: int | None,
    all_types: bool,
) -> None:
    """Observe the DNS of every registered domain of the newest snapshot.

    For each domain: NS, SOA, MX, TXT (SPF), _dmarc TXT, A and AAAA of the domain and of
    its www host, DS (at the parent) and DNSKEY, CAA. Answers are stored as received, with
    the query time and the resolver; SPF and DMARC are parsed and validated with checkdmarc
    (SPF's 10-lookup limit, DMARC's sp= from the organizational domain). A timeout, SERVFAIL
    or REFUSED is stored as such: `govaudit export dns` shows it as couldn't check.
    """
    from crawler.crawl_run import RunProgress
    from govaudit.dns_job import create_dns_run, dns_options, dns_targets, execute_dns_run

    options = dns_options(nameservers, timeout, concurrency, workers=workers)
    _ = app.policy  # a bad policy file is refused before anything is written
    snapshot_id, targets = dns_targets(app, domains, all_types)
    if not targets:
        click.echo("dns: nothing to observe (no domain in the newest snapshot)")
        return
    run_id = create_dns_run(app, snapshot_id, targets, options)
    click.echo(
        f"dns run {run_id}: {len(targets)} domains via {', '.join(options['nameservers'])}"
        f"{' (system resolver)' if options['system_resolver'] else ''}, "
        f"{concurrency} at once in {options['workers']} process(es)",
        err=True,
    )
    line = ProgressLine(f"dns run {run_id}", unit="domains")
    started = time.monotonic()

    def tick(done: int, total: int) -> None:
        line(RunProgress(total=total, done=done, pages=done), time.monotonic() - started)

    try:
        counts = execute_dns_run(app, run_id, on_progress=tick)
    finally:
        line.close()
    click.echo(
        f"dns run {run_id} {'finished' if not counts['pending'] else 'interrupted'}: "
        f"{counts['domains']} domains ({counts['ok']} ok, {counts['unreachable']} unreachable, "
        f"{counts['couldnt_check']} couldn't check); email: {counts['compliant']} compliant, "
        f"{counts['not_compliant']} not compliant, {counts['email_couldnt_check']} couldn't "
        f"check; {time.monotonic() - started:.1f} s"
    )
    if counts["pending"]:
        sys.exit(1)
