"""DNS runs: which domains to observe, and a run over them (`govaudit dns`, and the periodic
job's dns step). The queries are crawler/'s (dns_observation.py); judging is audit/'s."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from govaudit.app import App, fail_input

# The periodic job's `dns_nameservers` as a variable; `govaudit dns` honours it too.
NAMESERVERS_ENV = "GOVAUDIT_DNS_NAMESERVERS"


def dns_targets(
    app: App, domains: Sequence[str] = (), all_types: bool = False
) -> tuple[int | None, list[tuple[str, str | None]]]:
    """(snapshot id, [(domain, agency)]): the newest snapshot's audited domains (every
    domain of it with `all_types`), or the names given (any name under .gov; the agency
    from the snapshot when it lists the name's registrable domain)."""
    from audit.domain_names import DomainError, normalise_gov_domain, normalise_host
    from audit.domain_names import registrable_domain as registrable
    from govaudit.registry_files import audited_entries, ensure_registry

    ensure_registry(app)
    snapshot_id, entries = audited_entries(app, all_types=True if domains else all_types)
    agency_of = {e["domain"]: e.get("agency") for e in entries}
    if not domains:
        return snapshot_id, [(e["domain"], e.get("agency")) for e in entries]
    names = []
    for raw in domains:
        try:
            name = normalise_gov_domain(raw)
        except DomainError as exc:
            # a host below a .gov domain (mail.agency.gov) is observed too
            try:
                name = normalise_host(raw)
            except DomainError:
                fail_input(f"--domain {raw}: {exc}")
            if not name.endswith(".gov") or not registrable(name):
                fail_input(f"--domain {raw}: {exc}")
        names.append(name)
    unique = list(dict.fromkeys(names))
    return snapshot_id, [(n, agency_of.get(n) or agency_of.get(registrable(n))) for n in unique]


def dns_options(
    nameservers: Sequence[str],
    timeout: float,
    concurrency: int,
    where: str = "--nameserver",
    workers: int | None = None,
) -> dict[str, Any]:
    """The run's settings: nameservers as IP:PORT (default: GOVAUDIT_DNS_NAMESERVERS, as
    for `govaudit run`, else the system's resolvers)."""
    import os

    from crawler.crawl_run import default_workers
    from crawler.dns_query import NameserverError, parse_nameserver, system_nameservers

    if not nameservers and os.environ.get(NAMESERVERS_ENV, "").strip():
        nameservers = [n for n in os.environ[NAMESERVERS_ENV].split(",") if n.strip()]
        where = NAMESERVERS_ENV
    parsed = []
    for raw in nameservers:
        try:
            parsed.append(parse_nameserver(raw))
        except NameserverError as exc:
            fail_input(f"{where} {exc}")
    parsed_from_user = bool(parsed)
    if not parsed:
        parsed = system_nameservers()
        if not parsed:
            fail_input("no nameserver: /etc/resolv.conf names none; give --nameserver IP[:PORT]")
    return {
        "nameservers": [str(n) for n in parsed],
        "system_resolver": not parsed_from_user,
        "timeout": float(timeout),
        "concurrency": int(concurrency),
        # observer processes (default one per core): the run's concurrency is shared out
        "workers": int(workers or default_workers()),
    }


def create_dns_run(
    app: App,
    snapshot_id: int | None,
    targets: Sequence[tuple[str, str | None]],
    options: dict[str, Any],
    extra_settings: dict[str, Any] | None = None,
) -> int:
    from crawler.crawl_run import TaskSpec, create_run
    from govaudit.run_settings import run_settings

    settings = run_settings(["dns"], dns=options, **(extra_settings or {}))
    return create_run(app.db, snapshot_id, settings, [TaskSpec("dns", d, d, a) for d, a in targets])


def execute_dns_run(
    app: App, run_id: int, on_progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Observe the run's pending domains with the run's own settings, mark it finished when
    none is left; return the counts (DNS states, email verdicts) of the whole run."""
    from audit.dns_results import dns_observations, judged_rows
    from audit.email_dns import EmailPolicy
    from audit.models import CrawlRun, utcnow
    from crawler.dns_observation import observe_in_processes, observe_run, pending_count
    from crawler.dns_query import parse_nameserver

    with app.db.session() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        options = dict((run.settings or {}).get("dns") or {})
    workers = int(options.get("workers") or 1)
    if workers > 1:
        observe_in_processes(app.db, run_id, workers, on_progress)
    else:
        observe_run(
            app.db,
            run_id,
            nameservers=[parse_nameserver(n) for n in options["nameservers"]],
            timeout=float(options["timeout"]),
            concurrency=int(options["concurrency"]),
            on_progress=on_progress,
        )
    done, total = pending_count(app.db, run_id)
    pending = total - done
    with app.db.session() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        run.status = "finished" if not pending else "interrupted"
        run.finished_at = utcnow()
        rows = judged_rows(
            dns_observations(session, run_id), EmailPolicy.from_section(app.policy.section("email"))
        )
    states = Counter(r["dns_state"] for r in rows)
    verdicts = Counter(r["email_verdict"] for r in rows)
    return {
        "domains": len(rows),
        "ok": states["ok"],
        "unreachable": states["unreachable"],
        "couldnt_check": states["couldn't-check"],
        "compliant": verdicts["compliant"],
        "not_compliant": verdicts["not-compliant"],
        "email_couldnt_check": verdicts["couldn't-check"],
        "pending": pending,
        # domains whose DNS or email could not be checked, with the reason (for logs)
        "unchecked": [
            {
                "domain": r["domain"],
                "reason": r["dns_reason"] if r["dns_state"] != "ok" else r["email_reason"],
            }
            for r in rows
            if r["dns_state"] == "couldn't-check" or r["email_verdict"] == "couldn't-check"
        ],
    }
