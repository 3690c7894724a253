"""Site inventory spider: what each registered domain actually runs.

Per domain: the four endpoints (as pshtt does), then on the homepage's host the well-known
files, a soft-404 probe, and a bounded breadth-first crawl. It records observations only; the
audit classifies them (audit/site_status.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from audit.domain_names import registrable_domain, suffix_of
from crawler.items import SiteResult
from crawler.kept_responses import kept_response
from crawler.parsing.soft404 import fingerprint
from crawler.parsing.urls import canonical_url, fetch_refusal, host_of
from crawler.parsing.wellknown import parse_robots, parse_security_txt, parse_sitemap
from crawler.spiders.base import Fetch, UnitSpider, UnitState

BODY_TEXT_CHARS = 2000
# Hosts a site showed that the crawl keeps (links, sitemap URLs): enough to find the websites
# of a domain, bounded for a page of thousands of links.
MAX_SEEN_HOSTS = 500
# A bound left links of the site unfetched: the site was cut off, not fully seen.
PAGE_LIMIT = "truncated: page limit"
DEPTH_LIMIT = "truncated: depth limit"


def endpoint_urls(domain: str) -> list[str]:
    """In the order a homepage is chosen from: https before http, www before bare."""
    return [
        f"https://www.{domain}/",
        f"https://{domain}/",
        f"http://www.{domain}/",
        f"http://{domain}/",
    ]


def probe_path(domain: str, run_id: int) -> str:
    """A path no site can have, stable within a run so a resumed run asks the same."""
    token = hashlib.sha256(f"{run_id}:{domain}".encode()).hexdigest()[:16]
    return f"/govaudit-not-a-page-{token}"


class SitesSpider(UnitSpider):
    """One unit per registered domain (`www.D` and `D`); the website spider
    (crawler/spiders/websites.py) reuses all of it with one unit per host."""

    name = "sites"
    # Ask for a path no site can have (the soft-404 fingerprint).
    probe = True

    def __init__(
        self,
        run_id: int,
        tasks: list[tuple[str, str | None]],
        registry: set[str],
        max_pages: int = 50,
        max_depth: int = 2,
        nonfederal: set[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.tasks = tasks
        self.registry = registry  # every domain any loaded snapshot lists
        self.nonfederal = nonfederal or set()  # of those, the state, local, tribal... ones
        self.max_pages = max_pages
        self.max_depth = max_depth

    async def start(self) -> Any:
        for task in self.tasks:
            await self.room_for_unit()
            state = self.new_unit(task)
            self.units[state.key] = state
            for url in self.endpoints(state):
                yield self.fetch(state, url, "endpoint", follow_refresh=True)

    def new_unit(self, task: Any) -> UnitState:
        domain, agency = task
        return self.unit_state(domain, domain, agency)

    def endpoints(self, state: UnitState) -> list[str]:
        return endpoint_urls(state.key)

    def is_home(self, state: UnitState, final_url: str) -> bool:
        """Whether an endpoint that ended on `final_url` can be the unit's homepage."""
        return registrable_domain(host_of(final_url)) == state.domain

    @staticmethod
    def unit_state(key: str, domain: str, agency: str | None) -> UnitState:
        state = UnitState(key=key, domain=domain, phase="endpoints")
        state.data = {
            "agency": agency,
            "endpoints": {},
            "homepage": {},
            "pages": [],
            "links": [],
            "seen": set(),
            "hostnames": set(),
            "unlisted": {},
            "nonfederal": set(),
            "robots": {},
            "sitemap": {},
            "security_txt": {},
            "soft_404": {},
            "seen_hosts": {},
        }
        return state

    # ------------------------------------------------------------------ handling
    def handle(self, state: UnitState, fetch: Fetch) -> Iterable[Any] | None:
        return getattr(self, f"_on_{fetch.purpose.replace('-', '_')}")(state, fetch)

    def _on_endpoint(self, state: UnitState, fetch: Fetch) -> None:
        facts = fetch.page_facts() if fetch.ok else None
        first = fetch.chain[0] if fetch.chain else None
        https = fetch.url.startswith("https://")
        hsts = None
        tls = None
        if https and fetch.error_kind is None:
            # HSTS and the certificate count on the endpoint's own first answer, before any
            # redirect.
            hsts = first.get("hsts") if first else fetch.header("Strict-Transport-Security")
            tls = fetch.tls
        text = None
        if fetch.response is not None and fetch.is_html:
            text = _visible_text(fetch.response.body)[:BODY_TEXT_CHARS]
        state.data["endpoints"][fetch.url] = {
            "url": fetch.url,
            "fetched_at": fetch.fetched_at,
            "status": fetch.status,
            "error_kind": fetch.error_kind,
            "error": fetch.error,
            "final_url": fetch.final_url,
            "redirect_chain": fetch.chain,
            "https_ok": https and (fetch.status is not None or bool(fetch.chain)),
            "redirects_to_https": (not https)
            and any(str(h.get("location", "")).startswith("https://") for h in fetch.chain)
            and (fetch.final_url or "").startswith("https://"),
            "hsts": hsts,
            "tls": tls["state"] if tls else None,
            "tls_detail": tls,
            "response_ms": fetch.latency_ms,
            "server": fetch.header("Server"),
            "content_type": fetch.content_type,
            "content_length": len(fetch.response.body) if fetch.response is not None else None,
            "title": facts.title if facts else None,
            "body_text": text,
        }
        if facts is not None and fetch.final_url:
            state.data.setdefault("facts", {})[fetch.url] = (fetch.final_url, facts)
            state.data.setdefault("kept", {})[fetch.final_url] = kept_response(fetch, "homepage")

    def _choose_homepage(self, state: UnitState) -> tuple[str, Any] | None:
        for url in self.endpoints(state):
            candidate = state.data.get("facts", {}).get(url)
            if candidate and self.is_home(state, candidate[0]):
                return candidate
        return None

    def idle(self, state: UnitState) -> Iterator[Any]:
        if state.phase == "endpoints":
            chosen = self._choose_homepage(state)
            if chosen is not None:
                state.phase = "site"
                yield from self._start_site(state, *chosen)
                if state.pending:
                    return
        state.finished = True
        yield self._result(state)

    def _start_site(self, state: UnitState, home_url: str, facts: Any) -> Iterator[Any]:
        parts = urlsplit(home_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        state.data["origin"] = origin
        state.data["home_host"] = parts.hostname or ""
        state.data["homepage_url"] = home_url
        state.data["homepage"] = {k: v for k, v in asdict(facts).items() if k != "links"}
        state.data["responses"] = [state.data.pop("kept", {}).get(home_url)]
        state.data["seen"].add(canonical_url(home_url))
        state.data["pages"].append(
            {
                "url": home_url,
                "depth": 0,
                "referrer": None,
                "status": 200,
                "title": facts.title,
                "content_type": "text/html",
                "content_hash": None,
            }
        )
        yield self.fetch(state, f"{origin}/robots.txt", "robots", obey_robots=False, priority=20)
        yield self.fetch(state, f"{origin}/.well-known/security.txt", "security_txt", priority=20)
        if self.probe:
            yield self.fetch(
                state, origin + probe_path(state.key, self.run_id), "probe", priority=20
            )
        yield from self._follow_links(state, home_url, facts.links, depth=0)

    def _follow_links(
        self, state: UnitState, page_url: str, links: Iterable[str], depth: int
    ) -> Iterator[Any]:
        data = state.data
        for link in links:
            refusal = fetch_refusal(link)
            if refusal is not None:
                if refusal != "scheme":
                    data["links"].append(
                        {
                            "from_url": page_url,
                            "to_url": link[:2000],
                            "to_host": None,
                            "kind": f"refused:{refusal}",
                            "status": None,
                        }
                    )
                continue
            host = host_of(link)
            reg = registrable_domain(host)
            if reg == state.domain:
                if host != data["home_host"]:
                    data["hostnames"].add(host)
                    self._saw_host(state, host, page_url, "link")
                    continue
                key = canonical_url(link)
                if key in data["seen"]:
                    continue
                if len(data["seen"]) >= self.max_pages:
                    data["truncated"] = PAGE_LIMIT
                    continue
                if depth >= self.max_depth:
                    data.setdefault("truncated", DEPTH_LIMIT)
                    continue
                data["seen"].add(key)
                yield self.fetch(
                    state,
                    link,
                    "page",
                    follow_refresh=False,
                    priority=10 - depth,
                    depth=depth + 1,
                    referrer=page_url,
                )
            elif reg in self.registry and reg not in self.nonfederal:
                self._saw_host(state, host, page_url, "link")
            elif reg in self.nonfederal and reg not in data["nonfederal"]:
                # A registered state or local .gov: known, shown as such, never a finding.
                data["nonfederal"].add(reg)
                data["links"].append(
                    {
                        "from_url": page_url,
                        "to_url": link[:2000],
                        "to_host": host,
                        "kind": "gov-nonfederal",
                        "status": None,
                    }
                )
            elif (
                suffix_of(host) == "gov"
                and reg
                and reg not in self.registry
                and reg not in data["unlisted"]
            ):
                data["unlisted"][reg] = page_url
                data["links"].append(
                    {
                        "from_url": page_url,
                        "to_url": link[:2000],
                        "to_host": host,
                        "kind": "gov-unlisted",
                        "status": None,
                    }
                )

    def _saw_host(self, state: UnitState, host: str, where: str, how: str) -> None:
        """A host of a registered federal domain the site showed (a website the inventory
        may not know: audit/website_sightings.py judges it)."""
        seen = state.data["seen_hosts"]
        if host not in seen and len(seen) < MAX_SEEN_HOSTS:
            seen[host] = {"url": where[:2000], "how": how}

    def _on_page(self, state: UnitState, fetch: Fetch) -> Iterator[Any]:
        depth = int(fetch.meta.get("depth", 1))
        referrer = fetch.meta.get("referrer")
        facts = fetch.page_facts() if fetch.ok else None
        body = fetch.response.body if fetch.response is not None else None
        state.data["pages"].append(
            {
                "url": fetch.url,
                "depth": depth,
                "referrer": referrer,
                "fetched_at": fetch.fetched_at,
                "status": fetch.status,
                "error_kind": fetch.error_kind,
                "title": facts.title if facts else None,
                "content_type": fetch.content_type,
                "content_hash": hashlib.sha256(body).hexdigest() if body is not None else None,
            }
        )
        if fetch.status is not None and fetch.status >= 400:
            state.data["links"].append(
                {
                    "from_url": referrer or "",
                    "to_url": fetch.url,
                    "to_host": host_of(fetch.url),
                    "kind": "broken",
                    "status": fetch.status,
                }
            )
        if facts is not None:
            yield from self._follow_links(state, fetch.final_url or fetch.url, facts.links, depth)

    def _on_robots(self, state: UnitState, fetch: Fetch) -> Iterator[Any]:
        state.data.setdefault("responses", []).append(kept_response(fetch, "robots"))
        facts = None
        if fetch.ok and fetch.response is not None and not fetch.is_html:
            facts = parse_robots(fetch.response.body.decode("utf-8", "replace"))
        state.data["robots"] = {
            "url": fetch.url,
            "status": fetch.status,
            "present": facts is not None,
            "disallows_all": facts.disallows_all if facts else False,
            "crawl_delay": facts.crawl_delay if facts else None,
            "sitemaps": list(facts.sitemaps) if facts else [],
            "error": fetch.error_kind,
        }
        sitemap = f"{state.data['origin']}/sitemap.xml"
        for listed in state.data["robots"]["sitemaps"]:
            if self.may_fetch(state, listed):
                sitemap = listed
                break
        yield self.fetch(state, sitemap, "sitemap", priority=20)

    def _on_sitemap(self, state: UnitState, fetch: Fetch) -> None:
        facts = parse_sitemap(fetch.response.body) if fetch.ok and fetch.response else None
        state.data["sitemap"] = {
            "url": fetch.url,
            "status": fetch.status,
            "present": bool(facts and facts.valid),
            "url_count": facts.url_count if facts else 0,
            "is_index": facts.is_index if facts else False,
            "error": fetch.error_kind,
        }
        for host in facts.hosts if facts else ():
            reg = registrable_domain(host)
            if reg in self.registry and reg not in self.nonfederal:
                self._saw_host(state, host, fetch.url, "sitemap")

    def _on_security_txt(self, state: UnitState, fetch: Fetch) -> None:
        facts = None
        if fetch.ok and fetch.response is not None and not fetch.is_html:
            facts = parse_security_txt(fetch.response.body.decode("utf-8", "replace"))
        state.data["security_txt"] = {
            "url": fetch.url,
            "status": fetch.status,
            # Present: a text file with a Contact; RFC 9116 validity (Expires) apart.
            "present": bool(facts and facts.contact),
            "valid": bool(facts and facts.looks_valid),
            "contact": list(facts.contact) if facts else [],
            "policy": facts.policy if facts else None,
            "error": fetch.error_kind,
        }

    def _on_probe(self, state: UnitState, fetch: Fetch) -> None:
        facts = fetch.page_facts() if fetch.ok else None
        body = fetch.response.body if fetch.response is not None else b""
        status = fetch.status or 0
        fp = fingerprint(status, body, facts.title if facts else None)
        state.data["soft_404"] = {
            "url": fetch.url,
            "status": fetch.status,
            "final_url": fetch.final_url,
            "title": fp.title,
            "content_hash": fp.content_hash,
            "answers_200": fetch.ok
            and registrable_domain(host_of(fetch.final_url or "")) == state.domain,
            "error": fetch.error_kind,
        }

    def unit_hosts(self, state: UnitState) -> Iterable[str]:
        return (state.key, f"www.{state.key}")

    # ------------------------------------------------------------------ result
    def _result(self, state: UnitState) -> SiteResult:
        data = state.data
        endpoints = [data["endpoints"][u] for u in self.endpoints(state) if u in data["endpoints"]]
        pages = data["pages"]
        site = {
            "agency": data["agency"],
            "homepage_url": data.get("homepage_url"),
            "homepage": data["homepage"],
            "robots": data["robots"],
            "sitemap": data["sitemap"],
            "security_txt": data["security_txt"],
            "soft_404": data["soft_404"],
            "hostnames": sorted(data["hostnames"]),
            "unlisted_gov_domains": sorted(data["unlisted"]),
            "pages_crawled": sum(1 for p in pages if p["status"] is not None),
            "broken_links": sum(1 for lk in data["links"] if lk["kind"] == "broken"),
            "truncated": data.get("truncated"),
            "seen_hosts": data["seen_hosts"],
        }
        result = SiteResult(
            self.run_id, state.key, endpoints, site, pages, data["links"], job=self.name
        )
        result.responses = [r for r in data.get("responses", []) if r]
        state.data = {}  # a finished domain's state is no longer needed: free it
        return result

    def failed(self, state: UnitState, error: str) -> Iterator[Any]:
        state.data = {}
        yield SiteResult(self.run_id, state.key, [], {}, state="failed", error=error, job=self.name)


def _visible_text(body: bytes) -> str:
    from parsel import Selector

    try:
        sel = Selector(text=body.decode("utf-8", "replace"))
        parts = sel.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]").getall()
    except Exception:
        return ""
    return " ".join(" ".join(parts).split())
