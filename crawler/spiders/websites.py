"""Website spider: what each website (a host of the inventory) runs.

The site spider's work with one unit per host instead of per registered domain: the https
and http endpoints of the host, redirects followed within its registered domain (a website
that ends on another host redirects to that website), then on the host itself the homepage,
robots.txt, sitemap, security.txt and a bounded crawl. No soft-404 probe: the website crawl
is sized for the whole federal web (`--max-pages-per-site` defaults to the homepage alone).
Observations go to the same tables as the site crawl's, with the host as the unit
(`site_observation.domain` and the others hold the host in a run of this job).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crawler.parsing.urls import host_of
from crawler.spiders.base import UnitState
from crawler.spiders.sites import SitesSpider


def website_endpoints(host: str) -> list[str]:
    """In the order a homepage is chosen from: https before http."""
    return [f"https://{host}/", f"http://{host}/"]


class WebsitesSpider(SitesSpider):
    name = "websites"
    probe = False

    def new_unit(self, task: Any) -> UnitState:
        host, domain, agency = task
        return self.unit_state(host, domain, agency)

    def endpoints(self, state: UnitState) -> list[str]:
        return website_endpoints(state.key)

    def is_home(self, state: UnitState, final_url: str) -> bool:
        return host_of(final_url) == state.key

    def unit_hosts(self, state: UnitState) -> Iterable[str]:
        return (state.key,)
