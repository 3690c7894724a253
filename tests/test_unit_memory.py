"""What a crawler process keeps per domain is dropped when the domain ends (saved objects,
no network): memory flat in the number of domains is the full-list benchmark's target."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from crawler.middlewares import OriginRobotsTxtMiddleware
from crawler.spiders.base import UnitState
from crawler.spiders.sites import SitesSpider


def _robots_middleware(parsers: dict[str, Any]) -> OriginRobotsTxtMiddleware:
    """The crawl's robots.txt middleware with these parsed robots.txt files, no crawler."""
    robots = object.__new__(OriginRobotsTxtMiddleware)
    robots.parsers = parsers
    robots.unreachable = {}
    return robots


def test_a_finished_domain_drops_its_state_and_its_origins_robots_txt() -> None:
    spider = SitesSpider(run_id=1, tasks=[], registry=set())
    in_progress: Deferred[Any] = Deferred()
    robots = _robots_middleware(
        {
            "https://www.alpha.gov": object(),
            "http://www.alpha.gov": None,  # robots.txt could not be read: allow all
            "https://alpha.gov": object(),
            "https://www.beta.gov": object(),
            "https://beta.gov": in_progress,  # still being fetched for beta: kept
        }
    )
    robots.unreachable["http://www.alpha.gov"] = TimeoutError("took longer than 5 s")
    spider._robots_mw = robots
    for domain in ("alpha.gov", "beta.gov"):
        spider.units[domain] = UnitState(key=domain, domain=domain)

    spider.forget(spider.units["alpha.gov"])

    assert set(spider.units) == {"beta.gov"}
    assert set(robots.parsers) == {"https://www.beta.gov", "https://beta.gov"}
    assert robots.unreachable == {}

    spider.forget(spider.units["beta.gov"])
    # A robots.txt still in flight is another request's to settle; the rest is gone.
    assert robots.parsers == {"https://beta.gov": in_progress}
    assert spider.units == {}


def test_certificate_notes_keep_the_newest_hosts_only(monkeypatch: Any) -> None:
    """The verify callback notes each host's chain; a full-list crawl meets ~30,000 hosts,
    so only the newest MAX_NOTES are kept (a host's notes are read while it is crawled)."""
    import trustme
    from OpenSSL import crypto

    from crawler import tls

    monkeypatch.setattr(tls, "MAX_NOTES", 3)
    monkeypatch.setattr(tls, "_NOTES", tls.OrderedDict())
    ca = trustme.CA()
    hosts = [f"www.site{i}.gov" for i in range(5)]
    for host in hosts:
        pem = ca.issue_cert(host).cert_chain_pems[0].bytes()
        leaf = crypto.load_certificate(crypto.FILETYPE_PEM, pem)
        tls._recording_callback(host, True)(None, leaf, 0, 0, 1)
    assert [host for host, _ in tls._NOTES] == hosts[-3:]
    assert all(notes.leaf is not None for notes in tls._NOTES.values())
