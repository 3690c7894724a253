"""Websites a crawl saw: the hosts its observations name, as a list of the source `crawl`.

A crawl run (of domains or of websites) shows hosts in four ways, each kept with the page or
endpoint that showed it: a link on a crawled page (`link`), where an endpoint's redirects
led (`redirect`), a URL of a sitemap (`sitemap`), a name in an https endpoint's certificate
(`certificate`, wildcards left out). Each host is judged as a list row is (under a
registered federal domain, not a non-public name); the run becomes one `website_list`
(kind `crawl`), recomputed whole each time so that a resumed run's later units count too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.models import CrawlRun, EndpointObservation, SiteObservation, WebsiteList, utcnow
from audit.nonpublic_names import NonPublicNames
from audit.source_list_csv import DUPLICATE, NON_PUBLIC, HostRejected, clean_host
from audit.website_inventory import (
    CRAWL_SOURCE,
    Accepted,
    RegistryView,
    SourceLoad,
    drop_orphans,
    refresh_agencies,
    store_sightings,
)

_LIST = WebsiteList.__table__


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return clean_host(url)
    except HostRejected:
        return None


def seen_hosts(session: Session, run_id: int) -> Iterator[tuple[str, str, str]]:
    """(host, the page or endpoint that showed it, how) for every host a run's observations
    name, the units' own hosts included (the caller drops what the inventory has)."""
    for unit, homepage, hostnames, seen in session.execute(
        select(
            SiteObservation.domain,
            SiteObservation.homepage_url,
            SiteObservation.hostnames,
            SiteObservation.seen_hosts,
        )
        .where(SiteObservation.run_id == run_id)
        .order_by(SiteObservation.id)
    ):
        for host, where in (seen or {}).items():
            yield host, str(where.get("url") or homepage or unit), str(where.get("how") or "link")
        for host in hostnames or []:
            yield host, homepage or unit, "link"
    for url, final_url, chain, tls_detail in session.execute(
        select(
            EndpointObservation.url,
            EndpointObservation.final_url,
            EndpointObservation.redirect_chain,
            EndpointObservation.tls_detail,
        )
        .where(EndpointObservation.run_id == run_id)
        .order_by(EndpointObservation.id)
    ):
        own = _host(url)
        for hop in chain or []:
            target = _host(hop.get("location")) if isinstance(hop, dict) else None
            if target and target != own:
                yield target, url, "redirect"
        target = _host(final_url)
        if target and target != own:
            yield target, url, "redirect"
        for name in (tls_detail or {}).get("names") or []:
            if isinstance(name, str) and not name.startswith("*") and name.lower() != own:
                yield name, url, "certificate"


def record_crawl_sightings(
    session: Session, run_id: int, registry: RegistryView, names: NonPublicNames
) -> SourceLoad:
    """The run's hosts as the list of the source `crawl` for this run (replacing the one an
    earlier call made), in the caller's transaction."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    as_of = (run.started_at or utcnow()).date()
    accepted: dict[str, Accepted] = {}
    rejected: Counter[str] = Counter()
    judged: set[str] = set()
    for raw, where, how in seen_hosts(session, run_id):
        try:
            host = clean_host(raw)
            if host in judged:
                raise HostRejected(DUPLICATE, host)
            judged.add(host)
            domain, agency = registry.judge(host)
            if names.match(host) is not None:
                raise HostRejected(NON_PUBLIC, host)
        except HostRejected as exc:
            if exc.reason != DUPLICATE:
                rejected[exc.reason] += 1
            continue
        accepted[host] = Accepted(None, host, domain, agency, None, seen_on=where, how=how)
    conn = session.connection()
    values: dict[str, Any] = {
        "source": CRAWL_SOURCE,
        "file": f"crawl run {run_id}",
        "kind": "crawl",
        "crawl_run_id": run_id,
        "as_of": as_of,
        "loaded_at": utcnow(),
        "registry_key": registry.key,
        # One row per distinct host: websites + rejected = rows, as for a file.
        "rows_read": len(accepted) + sum(rejected.values()),
        "rows_loaded": len(accepted),
        "rejected": dict(rejected),
    }
    existing = conn.execute(select(_LIST.c.id).where(_LIST.c.crawl_run_id == run_id)).scalar()
    if existing is not None:
        list_id = existing
        conn.execute(update(_LIST).where(_LIST.c.id == list_id).values(**values))
    else:
        list_id = conn.execute(_LIST.insert().returning(_LIST.c.id), values).scalar_one()
    added = store_sightings(session, list_id, as_of, list(accepted.values()))
    if existing is not None:
        drop_orphans(session)
    refresh_agencies(session, registry)
    return SourceLoad(
        f"crawl run {run_id}",
        CRAWL_SOURCE,
        as_of,
        list_id,
        False,
        int(values["rows_read"]),
        len(accepted),
        added,
        rejected,
    )
