"""Site rows: one registered domain's stored observations of a crawl run plus the status
derived from them (audit/site_status.py). What the audit judges, `govaudit export sites`
writes and the report shows (columns documented in docs/reference.md). These only read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.archive_fields import ARCHIVE_COLUMNS, archive_fields
from audit.models import CrawlRun, EndpointObservation, SiteObservation
from audit.site_status import EndpointObservation as Endpoint
from audit.site_status import SiteStatus, classify_site
from audit.url_secrets import masked

SITE_COLUMNS = [
    "domain",
    "agency",
    "status",
    "status_reason",
    "redirect_target",
    "final_url",
    "https",
    "http_redirects_to_https",
    "hsts",
    "title",
    "robots_txt",
    "sitemap_xml",
    "security_txt",
    "dap",
    "required_links",
    "soft_404",
    "pages_crawled",
    "broken_links",
    "truncated",
    "hostnames",
    "unlisted_gov_domains",
    "site_search",
    "uswds_banner",
    "language",
    "generator",
    "crawl_run",
    "fetched_at",
    # added after the first release: at the end, so positional CSV readers keep working
    "tls",
    "tls_detail",
    *ARCHIVE_COLUMNS,
]


def _hsts_on(value: str | None) -> bool:
    if not value:
        return False
    for part in value.split(";"):
        key, _, num = part.strip().partition("=")
        if key.strip().lower() == "max-age":
            try:
                return int(num.strip().strip('"')) > 0
            except ValueError:
                return False
    return False


def certificate_summary(endpoints: list[EndpointObservation]) -> tuple[str | None, list[Any]]:
    """The site's certificate state and the per-endpoint evidence.

    `valid` when an https endpoint answered with a certificate that verifies (that endpoint is
    what makes HTTPS count as served); otherwise the state of the first https endpoint that
    answered (www before bare); None when none answered.
    """
    checked = [e for e in endpoints if e.url.startswith("https://") and e.tls]
    detail = [{"url": e.url, **(e.tls_detail or {"state": e.tls})} for e in checked]
    if not checked:
        return None, detail
    if any(e.tls == "valid" for e in checked):
        return "valid", detail
    return checked[0].tls, detail


def site_row(
    site: SiteObservation,
    endpoints: list[EndpointObservation],
    run: CrawlRun | None = None,
    classify: Callable[..., SiteStatus] = classify_site,
) -> dict[str, Any]:
    """One domain's row: the stored observations plus the classification derived from them
    (`run`: the crawl run, for a crawl of web archives' columns; `classify`: a website's is
    audit.website_status.classify_website)."""
    status = classify(
        site.domain,
        [
            Endpoint(e.url, e.status, e.error_kind, e.final_url, e.title, e.body_text)
            for e in endpoints
        ],
        run.as_of if run is not None else None,
    )
    reason = status.reason
    tls, tls_detail = certificate_summary(endpoints)
    if tls is not None and tls != "valid":
        first = next(d for d in tls_detail if d.get("state") == tls)
        why = first.get("reason") or tls
        reason = f"{reason}; HTTPS not counted: certificate {tls} at {first['url']} ({why})"
    verified = [e for e in endpoints if e.url.startswith("https://") and e.tls == "valid"]
    home = site.homepage or {}
    answered_http = [e for e in endpoints if e.url.startswith("http://") and e.error_kind is None]
    chosen = next((e for e in endpoints if e.final_url == site.homepage_url), None)
    final_url = site.homepage_url or next(
        (e.final_url for e in endpoints if e.final_url and e.error_kind is None), None
    )
    return {
        "domain": site.domain,
        "agency": site.agency,
        "status": status.status,
        "status_reason": reason,
        "redirect_target": status.redirect_target,
        "final_url": final_url,
        "https": any(e.https_ok for e in verified),
        "http_redirects_to_https": bool(answered_http)
        and all(e.redirects_to_https for e in answered_http),
        # A browser ignores HSTS sent over a connection whose certificate does not verify.
        "hsts": any(_hsts_on(e.hsts) for e in verified),
        "tls": tls,
        "tls_detail": tls_detail,
        "title": home.get("title") or (chosen.title if chosen else None),
        "robots_txt": bool((site.robots or {}).get("present")),
        "sitemap_xml": bool((site.sitemap or {}).get("present")),
        "security_txt": bool((site.security_txt or {}).get("present")),
        "dap": bool(home.get("dap")),
        "required_links": home.get("required_links") or {},
        "soft_404": bool((site.soft_404 or {}).get("answers_200")),
        "pages_crawled": site.pages_crawled,
        "broken_links": site.broken_links,
        "truncated": site.truncated,
        "hostnames": site.hostnames or [],
        "unlisted_gov_domains": site.unlisted_gov_domains or [],
        "site_search": bool(home.get("site_search")),
        "uswds_banner": bool(home.get("uswds_banner")),
        "language": home.get("language"),
        "generator": list(home.get("generator_hints") or []),
        "crawl_run": site.run_id,
        "fetched_at": site.fetched_at.isoformat(timespec="seconds"),
        **_homepage_capture(run, chosen, endpoints),
    }


def _homepage_capture(
    run: CrawlRun | None,
    chosen: EndpointObservation | None,
    endpoints: list[EndpointObservation],
) -> dict[str, Any]:
    """A site's archive columns: the capture of the endpoint that gave the homepage, else
    of the first endpoint an archive answered."""
    captured = chosen if chosen is not None and chosen.capture_url else None
    if captured is None:
        captured = next((e for e in endpoints if e.capture_url), None)
    if captured is None:
        return archive_fields(run, None, None)
    return archive_fields(run, captured.capture_url, captured.memento_datetime)


def endpoints_by_domain(session: Session, run_id: int) -> dict[str, list[EndpointObservation]]:
    """A run's endpoint rows per domain, in the order they were stored."""
    endpoints: dict[str, list[EndpointObservation]] = defaultdict(list)
    for e in session.scalars(
        select(EndpointObservation)
        .where(EndpointObservation.run_id == run_id)
        .order_by(EndpointObservation.id)
    ):
        endpoints[e.domain].append(e)
    return endpoints


def sites_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    endpoints = endpoints_by_domain(session, run_id)
    run = session.get(CrawlRun, run_id)
    sites = session.scalars(
        select(SiteObservation)
        .where(SiteObservation.run_id == run_id)
        .order_by(SiteObservation.domain)
    )
    return [masked(site_row(s, endpoints[s.domain], run)) for s in sites]
