"""Judging websites: status words per website, consolidation, and the two lists an inventory
keeper acts on (candidates to add and to retire). Pure functions of stored observations.

A website is a host, so it is judged on the host: it is **active** (or **parked**) when an
endpoint ends with 2xx on the host itself, a **redirect** when its endpoints end on another
host (the website it consolidates into: `redirect_target`, another website of its domain or
of another), else in **error** or **unreachable** exactly as a domain is
(audit/site_status.py, whose categories and reasons it reuses).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from audit.site_status import EndpointObservation, SiteStatus, classify_site

ADD = "add"
RETIRE = "retire"
# A listed website in one of these states is a candidate to retire (a redirect only when it
# leads to another website than its own www./bare twin, which is one site).
RETIRE_STATUSES = ("unreachable", "parked", "redirect")
# Sources that are not inventory lists: the registry's own bare and www. names, and hosts a
# crawl saw.
REGISTRY = "registry"
CRAWL = "crawl"


def _host(url: str | None) -> str:
    if not url:
        return ""
    try:
        return (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def classify_website(
    host: str, endpoints: Sequence[EndpointObservation], as_of: dt.date | None = None
) -> SiteStatus:
    """Classify a website (e.g. "science.nasa.gov") from its endpoint observations
    (`as_of`: a crawl of web archives' date, as for a domain)."""
    if endpoints and all(e.error_kind == "robots" for e in endpoints):
        return classify_site(host, endpoints, as_of)
    answered = [e for e in endpoints if e.status is not None and e.error_kind != "robots"]
    on_host = [
        e
        for e in answered
        if e.status is not None and 200 <= e.status < 300 and _host(e.final_url or e.url) == host
    ]
    if on_host:
        return classify_site(host, on_host, as_of)
    targets: Counter[str] = Counter()
    for e in answered:
        target = _host(e.final_url or e.url)
        if target and target != host and e.status is not None and 200 <= e.status < 400:
            targets[target] += 1
    if targets:
        target = targets.most_common(1)[0][0]
        return SiteStatus("redirect", f"the homepage redirects to {target}", target)
    # Nothing usable on the host and no other host reached: error or unreachable, as a domain.
    return classify_site(host, endpoints, as_of)


def is_twin(host: str, target: str | None) -> bool:
    """`www.x.gov` and `x.gov` are one site: a redirect between them consolidates nothing."""
    if not target:
        return False
    return host == f"www.{target}" or target == f"www.{host}"


def listed(sources: Iterable[str]) -> bool:
    """Named by an inventory list (not only by the registry's names or a crawl)."""
    return any(s not in (REGISTRY, CRAWL) for s in sources)


def candidate(row: Mapping[str, Any]) -> str | None:
    """`add` for a live website only crawls found (no list, not the registry's); `retire`
    for a listed website that is unreachable, parked or only redirects to another site."""
    status = row.get("status")
    sources = set(row.get("sources") or ())
    if status == "active" and sources == {CRAWL}:
        return ADD
    if listed(sources) and retire_status(row["host"], status, row.get("redirect_target")):
        return RETIRE
    return None


def retire_status(host: str, status: str | None, target: str | None) -> bool:
    if status not in RETIRE_STATUSES:
        return False
    return status != "redirect" or not is_twin(host, target)


Counts = dict[str, Counter[str]]


def status_counts(rows: Iterable[Mapping[str, Any]], key: str = "agency") -> Counts:
    """Per agency (or other `key`): websites by status ("not-crawled" when no run saw it)."""
    out: dict[str, Counter[str]] = {}
    for row in rows:
        out.setdefault(row.get(key) or "(no agency)", Counter())[
            row.get("status") or "not-crawled"
        ] += 1
    return out


def source_counts(rows: Iterable[Mapping[str, Any]], key: str = "agency") -> Counts:
    """Per agency: websites by source (a website counts once under each of its sources)."""
    out: dict[str, Counter[str]] = {}
    for row in rows:
        counts = out.setdefault(row.get(key) or "(no agency)", Counter())
        for source in row.get("sources") or ():
            counts[source] += 1
    return out
