"""The predicates a guideline check may use (`test = "..."` in `[[guidelines.checks]]`).

Each predicate is a small pure function over one site's stored facts (`SiteFacts`, gathered
by audit/audit_run.py from the crawl) and the check's arguments, returning a `Verdict`: pass,
fail or couldn't check, with evidence (the matching link, header or file, or the reason).
A fact the stored crawl did not collect is "couldn't check", never "fail". Patterns are
Python regular expressions, matched case-insensitively anywhere in the text (re.search).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

# The parsers (lxml, urllib.robotparser) are imported when a check first reads a page: the
# policy's validation imports this module for PREDICATES alone, in every command that reads
# the policy (`inventory load` too).
if TYPE_CHECKING:
    from audit.homepage_document import HomepageDocument

PASS = "pass"
FAIL = "fail"
NOT_APPLICABLE = "not applicable"
COULDNT_CHECK = "couldn't check"
OUTCOMES = (PASS, FAIL, NOT_APPLICABLE, COULDNT_CHECK)


@dataclass(frozen=True)
class KeptPage:
    """A final response the crawl kept (crawler/kept_responses.py): headers and body."""

    url: str
    final_url: str | None
    status: int | None
    fetched_at: str
    headers: dict[str, str]
    body: bytes | None
    truncated: bool = False

    @staticmethod
    def from_stored(row: Mapping[str, Any], compressed: bytes | None) -> KeptPage:
        return KeptPage(
            url=row["url"],
            final_url=row["final_url"],
            status=row["status"],
            fetched_at=row["fetched_at"],
            headers=dict(row["headers"] or {}),
            body=zlib.decompress(compressed) if compressed is not None else None,
            truncated=bool(row["truncated"]),
        )


@dataclass
class SiteFacts:
    """One domain as one crawl saw it, in the shapes the crawl stored.

    `endpoints`: the four endpoint observations (url, status, error_kind, final_url, hsts,
    redirects_to_https, tls when the crawl verified certificates). `homepage`: the homepage
    facts (dap, site_search, uswds_banner, ...). `robots`, `sitemap`, `security_txt`: the
    well-known file observations. `responses`: purpose ("homepage", "robots") -> KeptPage.
    `responses_kept`: whether the crawl run kept responses at all (older runs did not).
    """

    domain: str
    agency: str | None
    status: str
    status_reason: str | None
    crawl_run: int
    fetched_at: str
    homepage_url: str | None = None
    homepage: dict[str, Any] = field(default_factory=dict)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    robots: dict[str, Any] = field(default_factory=dict)
    sitemap: dict[str, Any] = field(default_factory=dict)
    security_txt: dict[str, Any] = field(default_factory=dict)
    responses: dict[str, KeptPage] = field(default_factory=dict)
    responses_kept: bool = True
    # The homepage's page of the newest accessibility run (audit.a11y.a11y_pages), and
    # whether any accessibility run exists at all.
    a11y: dict[str, Any] | None = None
    a11y_checked: bool = False
    # The domain's observation in the newest DNS run (audit.dns_results.dns_observations),
    # and whether any DNS run exists at all (`govaudit dns`).
    dns: dict[str, Any] | None = None
    dns_checked: bool = False

    @cached_property
    def document(self) -> HomepageDocument | None:
        page = self.responses.get("homepage")
        if page is None or page.body is None:
            return None
        from audit.homepage_document import HomepageDocument

        charset = re.search(r"charset=([\w.:-]+)", page.headers.get("content-type", ""), re.I)
        return HomepageDocument(
            page.body, page.final_url or page.url, charset.group(1) if charset else None
        )


@dataclass(frozen=True)
class Verdict:
    outcome: str
    url: str | None = None
    fetched_at: str | None = None
    match: Any = None
    reason: str | None = None

    def evidence(self) -> dict[str, Any]:
        found: dict[str, Any] = {"url": self.url, "fetched_at": self.fetched_at}
        if self.match is not None:
            found["match"] = self.match
        if self.reason is not None:
            found["reason"] = self.reason
        return found


Args = Mapping[str, Any]
PredicateFunction = Callable[[SiteFacts, Args], Verdict]


@dataclass(frozen=True)
class Param:
    """An argument of a predicate: kind is patterns|str|int|bool|choice|checks."""

    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None


@dataclass(frozen=True)
class Predicate:
    name: str
    function: PredicateFunction
    params: dict[str, Param]
    summary: str


@lru_cache(maxsize=512)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _rx(args: Args, key: str = "patterns") -> re.Pattern[str] | None:
    patterns = tuple(args.get(key) or ())
    return _compiled(patterns) if patterns else None


def _couldnt(site: SiteFacts, reason: str, url: str | None = None) -> Verdict:
    return Verdict(COULDNT_CHECK, url or site.homepage_url, site.fetched_at, reason=reason)


def _not_reached(site: SiteFacts) -> Verdict:
    why = site.status_reason or site.status
    return _couldnt(site, f"homepage not reached ({site.status}: {why})")


def _document(site: SiteFacts) -> tuple[HomepageDocument | None, Verdict | None]:
    """The kept homepage, or the couldn't-check verdict saying why there is none."""
    if site.homepage_url is None:
        return None, _not_reached(site)
    if site.document is None:
        if not site.responses_kept:
            reason = f"crawl run {site.crawl_run} kept no homepage responses (crawled before"
            reason += " govaudit kept them): crawl again to judge this check"
        else:
            reason = "the homepage response was not kept by the crawl"
        return None, _couldnt(site, reason)
    return site.document, None


def _page_verdict(site: SiteFacts) -> tuple[str, str]:
    page = site.responses["homepage"]
    return page.final_url or page.url, page.fetched_at


def _not_found(site: SiteFacts, reason: str) -> Verdict:
    """Fail, unless the kept body was cut short: then what was sought may lie beyond it."""
    url, at = _page_verdict(site)
    if site.responses["homepage"].truncated:
        return Verdict(
            COULDNT_CHECK, url, at, reason=f"{reason} in the kept part of a truncated homepage"
        )
    return Verdict(FAIL, url, at, reason=reason)


def _snippet(text: str, match: re.Match[str], width: int = 60) -> str:
    return text[max(0, match.start() - width) : match.end() + width]


def homepage_links_to(site: SiteFacts, args: Args) -> Verdict:
    """The homepage has a link whose text (or image alt, aria-label, title) or URL matches
    one of `patterns`.

    Example: `test = "homepage_links_to"`, `patterns = ["privacy"]` passes on
    `<a href="/privacy-policy">Privacy</a>`; evidence `match = {"url": ..., "text": ...}`.
    """
    doc, why = _document(site)
    if doc is None:
        return why  # type: ignore[return-value]
    rx = _rx(args)
    assert rx is not None
    for link in doc.links:
        if rx.search(link.text) or rx.search(link.url):
            url, at = _page_verdict(site)
            return Verdict(PASS, url, at, match={"url": link.url, "text": link.text})
    return _not_found(
        site, f"none of the {len(doc.links)} links matches {' | '.join(args['patterns'])}"
    )


def homepage_text_matches(site: SiteFacts, args: Args) -> Verdict:
    """The homepage's visible text matches one of `patterns`.

    Example: `patterns = ["an official website of the united states government"]` passes
    on a page showing the USWDS banner text; evidence `match` is the text around the match.
    """
    doc, why = _document(site)
    if doc is None:
        return why  # type: ignore[return-value]
    rx = _rx(args)
    assert rx is not None
    found = rx.search(doc.text)
    if found:
        url, at = _page_verdict(site)
        return Verdict(PASS, url, at, match=_snippet(doc.text, found))
    return _not_found(site, f"the text does not match {' | '.join(args['patterns'])}")


def homepage_has_meta(site: SiteFacts, args: Args) -> Verdict:
    """The homepage has `<meta name=NAME>` (or property/http-equiv), and when `patterns`
    are given its content matches one of them.

    Example: `name = "viewport"`, `patterns = ["width=device-width"]` passes on
    `<meta name="viewport" content="width=device-width, initial-scale=1">`.
    """
    doc, why = _document(site)
    if doc is None:
        return why  # type: ignore[return-value]
    name = str(args["name"]).lower()
    rx = _rx(args)
    tags = [t for t in doc.meta_tags if t.name == name]
    url, at = _page_verdict(site)
    for tag in tags:
        if rx is None or rx.search(tag.content):
            return Verdict(PASS, url, at, match={"name": name, "content": tag.content})
    if tags:
        return Verdict(
            FAIL,
            url,
            at,
            reason=f"<meta name={name}> content {tags[0].content!r} does not match "
            f"{' | '.join(args['patterns'])}",
        )
    return _not_found(site, f"no <meta name={name}>")


def header_present(site: SiteFacts, args: Args) -> Verdict:
    """The final homepage response has header `name`, and when `patterns` are given its
    value matches one of them.

    Example: `name = "Content-Security-Policy"` passes when the homepage's final answer
    carries that header; evidence `match = {"header": ..., "value": ...}`.
    """
    if site.homepage_url is None:
        return _not_reached(site)
    page = site.responses.get("homepage")
    if page is None:
        return _document(site)[1]  # type: ignore[return-value]
    name = str(args["name"]).lower()
    value = page.headers.get(name)
    url, at = page.final_url or page.url, page.fetched_at
    rx = _rx(args)
    if value is None:
        return Verdict(FAIL, url, at, reason=f"no {args['name']} header")
    if rx is not None and not rx.search(value):
        return Verdict(
            FAIL,
            url,
            at,
            reason=f"{args['name']}: {value!r} does not match {' | '.join(args['patterns'])}",
        )
    return Verdict(PASS, url, at, match={"header": args["name"], "value": value})


def _https_endpoints(site: SiteFacts) -> list[dict[str, Any]]:
    return [e for e in site.endpoints if str(e.get("url", "")).startswith("https://")]


def _http_answered(site: SiteFacts) -> bool:
    return any(
        e.get("status") is not None and str(e.get("url", "")).startswith("http://")
        for e in site.endpoints
    )


def _main_https_endpoint(site: SiteFacts) -> dict[str, Any] | None:
    """The https endpoint the homepage was chosen from, else the first that answered."""
    https = _https_endpoints(site)
    for e in https:
        if site.homepage_url and e.get("final_url") == site.homepage_url:
            return e
    return next((e for e in https if e.get("status") is not None), None)


def _https_refused(site: SiteFacts) -> Verdict | None:
    """Fail when the site answers over http while every https endpoint refused or failed
    the handshake: an observed fact, not a gap in the crawl."""
    https = _https_endpoints(site)
    if (
        https
        and _http_answered(site)
        and all(
            e.get("status") is None and e.get("error_kind") in ("refused", "tls") for e in https
        )
    ):
        kinds = sorted({str(e.get("error_kind")) for e in https})
        return Verdict(
            FAIL,
            https[0]["url"],
            https[0].get("fetched_at") or site.fetched_at,
            reason=f"the site answers over http, but no https endpoint does ({', '.join(kinds)})",
        )
    return None


def https_valid(site: SiteFacts, args: Args) -> Verdict:
    """The site's https endpoint presents a valid certificate (the crawl's verification
    state `tls` of the endpoint: valid, expired, wrong-host, untrusted, other).

    Example: passes when https://www.D/ was verified `valid`; fails with `expired`; a crawl
    that did not verify certificates gives "couldn't check".
    """
    refused = _https_refused(site)
    if refused is not None:
        return refused
    recorded = [e for e in _https_endpoints(site) if e.get("tls")]
    if not recorded:
        return _couldnt(
            site, f"crawl run {site.crawl_run} recorded no certificate verification state"
        )
    main = _main_https_endpoint(site)
    chosen = main if main is not None and main.get("tls") else recorded[0]
    at = chosen.get("fetched_at") or site.fetched_at
    detail = {"endpoint": chosen["url"], "tls": chosen["tls"]}
    if chosen.get("tls_detail"):
        detail["detail"] = chosen["tls_detail"]
    if chosen["tls"] == "valid":
        return Verdict(PASS, chosen["url"], at, match=detail)
    return Verdict(FAIL, chosen["url"], at, match=detail, reason=f"certificate {chosen['tls']}")


def parse_hsts(value: str) -> dict[str, Any]:
    """Strict-Transport-Security directives: max_age (int or None), include_subdomains,
    preload."""
    found: dict[str, Any] = {"max_age": None, "include_subdomains": False, "preload": False}
    for part in value.split(";"):
        key, _, num = part.strip().partition("=")
        key = key.strip().lower()
        if key == "max-age":
            try:
                found["max_age"] = int(num.strip().strip('"'))
            except ValueError:
                found["max_age"] = None
        elif key == "includesubdomains":
            found["include_subdomains"] = True
        elif key == "preload":
            found["preload"] = True
    return found


def hsts(site: SiteFacts, args: Args) -> Verdict:
    """The site's https endpoint sends Strict-Transport-Security on its own answer, with
    max-age of at least `min_max_age` (default 1), and `includeSubDomains` / `preload`
    when `include_subdomains` / `preload` are true.

    Example: `min_max_age = 31536000`, `preload = true` passes on
    `Strict-Transport-Security: max-age=63072000; includeSubDomains; preload`.
    """
    refused = _https_refused(site)
    if refused is not None:
        return refused
    main = _main_https_endpoint(site)
    if main is None:
        return _couldnt(site, "no https endpoint answered")
    at = main.get("fetched_at") or site.fetched_at
    value = main.get("hsts")
    if not value:
        return Verdict(FAIL, main["url"], at, reason="no Strict-Transport-Security header")
    found = parse_hsts(value)
    minimum = int(args.get("min_max_age") or 1)
    match = {"header": value}
    if found["max_age"] is None or found["max_age"] < minimum:
        reason = f"max-age {found['max_age']} is below {minimum}"
        return Verdict(FAIL, main["url"], at, match=match, reason=reason)
    if args.get("include_subdomains") and not found["include_subdomains"]:
        return Verdict(FAIL, main["url"], at, match=match, reason="no includeSubDomains")
    if args.get("preload") and not found["preload"]:
        return Verdict(FAIL, main["url"], at, match=match, reason="no preload directive")
    return Verdict(PASS, main["url"], at, match=match)


def http_redirects_to_https(site: SiteFacts, args: Args) -> Verdict:
    """Every http endpoint that answers ends on https (or http is not served at all: every
    http endpoint refused the connection).

    Example: passes when http://D/ answers 301 to https://www.D/; fails when
    http://www.D/ serves the page itself.
    """
    http = [e for e in site.endpoints if str(e.get("url", "")).startswith("http://")]
    answered = [e for e in http if e.get("status") is not None or e.get("redirect_chain")]
    if answered:
        plain = [e for e in answered if not e.get("redirects_to_https")]
        first = plain[0] if plain else answered[0]
        at = first.get("fetched_at") or site.fetched_at
        if plain:
            end = first.get("final_url") or first["url"]
            return Verdict(FAIL, first["url"], at, reason=f"{first['url']} ends on {end}")
        return Verdict(PASS, first["url"], at, match={"final_url": first.get("final_url")})
    if http and all(e.get("error_kind") == "refused" for e in http) and _https_endpoints(site):
        return Verdict(
            PASS,
            http[0]["url"],
            http[0].get("fetched_at") or site.fetched_at,
            match="http is not served (connection refused)",
        )
    return _couldnt(site, "no http endpoint answered")


_FILES = {"robots.txt": "robots", "sitemap.xml": "sitemap", "security.txt": "security_txt"}


def file_present(site: SiteFacts, args: Args) -> Verdict:
    """The site publishes `file`: robots.txt (a text file), sitemap.xml (a valid sitemap,
    also when robots.txt names it) or security.txt (with a Contact).

    Example: `file = "security.txt"` passes when /.well-known/security.txt has a Contact
    line; fails on a 404; a timeout is "couldn't check".
    """
    seen: dict[str, Any] = getattr(site, _FILES[args["file"]]) or {}
    if not seen:
        if site.homepage_url is None:
            return _not_reached(site)
        return _couldnt(site, f"{args['file']} was not fetched")
    url, at = seen.get("url"), site.fetched_at
    if seen.get("present"):
        return Verdict(PASS, url, at, match={"url": url, "status": seen.get("status")})
    status = seen.get("status")
    if seen.get("error") or status is None or status >= 500:
        why = seen.get("error") or (f"HTTP {status}" if status else "no answer")
        return _couldnt(site, f"{url}: {why}", url)
    return Verdict(FAIL, url, at, reason=f"{url}: HTTP {status}, not a valid {args['file']}")


def robots_allows(site: SiteFacts, args: Args) -> Verdict:
    """robots.txt lets `user_agent` (default "*") fetch `path` (default "/"): a site that
    blocks the whole site is closed to search engines. No robots.txt allows everything.

    Example: `path = "/"` fails on `User-agent: *` / `Disallow: /`.
    """
    seen = site.robots or {}
    path = str(args.get("path") or "/")
    agent = str(args.get("user_agent") or "*")
    if not seen:
        if site.homepage_url is None:
            return _not_reached(site)
        return _couldnt(site, "robots.txt was not fetched")
    url, at, status = seen.get("url"), site.fetched_at, seen.get("status")
    if seen.get("error") or status is None or status >= 500:
        why = seen.get("error") or (f"HTTP {status}" if status else "no answer")
        return _couldnt(site, f"{url}: {why}", url)
    if not seen.get("present"):
        return Verdict(PASS, url, at, match=f"no robots.txt (HTTP {status}): everything allowed")
    page = site.responses.get("robots")
    if page is not None and page.body is not None:
        from urllib import robotparser

        parser = robotparser.RobotFileParser()
        parser.parse(page.body.decode("utf-8", "replace").splitlines())
        origin = urlsplit(url or site.homepage_url or "")
        target = f"{origin.scheme}://{origin.netloc}{path}"
        if parser.can_fetch(agent, target):
            return Verdict(PASS, url, at, match=f"{agent} may fetch {path}")
        return Verdict(FAIL, url, at, reason=f"robots.txt disallows {path} for {agent}")
    if path == "/" and agent == "*":
        if seen.get("disallows_all"):
            return Verdict(FAIL, url, at, reason="robots.txt disallows / for every crawler")
        return Verdict(PASS, url, at, match="robots.txt does not disallow the whole site")
    return _couldnt(site, "the robots.txt body was not kept by the crawl", url)


def _homepage_fact(site: SiteFacts, key: str, label: str) -> Verdict:
    if site.homepage_url is None:
        return _not_reached(site)
    value = site.homepage.get(key)
    if value is None:
        return _couldnt(site, f"the crawl did not record {label}")
    if value:
        return Verdict(PASS, site.homepage_url, site.fetched_at, match=label)
    return Verdict(FAIL, site.homepage_url, site.fetched_at, reason=f"no {label} on the homepage")


def dap_present(site: SiteFacts, args: Args) -> Verdict:
    """The homepage loads the Digital Analytics Program script (dap.digitalgov.gov).

    Example: passes on `<script src="https://dap.digitalgov.gov/Universal-Federated-
    Analytics-Min.js?agency=GSA">`.
    """
    return _homepage_fact(site, "dap", "Digital Analytics Program script")


def site_search_present(site: SiteFacts, args: Args) -> Verdict:
    """The homepage offers site search (a search role or element, a search input, or a form
    posting to search.usa.gov or /search).

    Example: passes on `<form role="search" action="/search"><input name="q"></form>`.
    """
    return _homepage_fact(site, "site_search", "site search")


def uswds_banner_present(site: SiteFacts, args: Args) -> Verdict:
    """The homepage shows the USWDS "An official website of the United States government"
    banner (class `usa-banner`, or its text).

    Example: passes on `<section class="usa-banner">An official website of ...</section>`.
    """
    return _homepage_fact(site, "uswds_banner", "USWDS official-website banner")


# Link text and URL shapes of a page in another language, by language code.
LANGUAGE_PATTERNS: dict[str, tuple[str, ...]] = {
    "es": (r"\bespa[ñn]ol\b", r"^https?://[^/]*/es(?:/|$|\.|-)", r"^https?://es\.", r"/espanol\b"),
    "fr": (r"\bfran[çc]ais\b", r"^https?://[^/]*/fr(?:/|$|\.|-)"),
    "zh": (r"中文", r"^https?://[^/]*/zh(?:/|$|\.|-)"),
    "vi": (r"tiếng việt", r"^https?://[^/]*/vi(?:/|$|\.|-)"),
    "ko": (r"한국어", r"^https?://[^/]*/ko(?:/|$|\.|-)"),
    "tl": (r"\btagalog\b", r"^https?://[^/]*/tl(?:/|$|\.|-)"),
    "ru": (r"русский", r"^https?://[^/]*/ru(?:/|$|\.|-)"),
    "ar": (r"العربية", r"^https?://[^/]*/ar(?:/|$|\.|-)"),
    "ht": (r"krey[oò]l", r"^https?://[^/]*/ht(?:/|$|\.|-)"),
    "pt": (r"portugu[êe]s", r"^https?://[^/]*/pt(?:/|$|\.|-)"),
}


def language_link(site: SiteFacts, args: Args) -> Verdict:
    """The homepage links to a page in `language` (an ISO 639-1 code): a link with that
    hreflang or lang, or whose text or URL matches the language's usual shapes (for "es":
    "Español", /es/, es.D) or the check's own `patterns`.

    Example: `language = "es"` passes on `<a href="/es/" hreflang="es">Español</a>`.
    """
    doc, why = _document(site)
    if doc is None:
        return why  # type: ignore[return-value]
    code = str(args["language"]).lower()
    rx = _rx(args) or _compiled(LANGUAGE_PATTERNS.get(code, (rf"^https?://[^/]*/{code}/",)))
    for link in doc.links:
        lang = (link.hreflang or "").lower()
        if (
            lang == code
            or lang.startswith(code + "-")
            or rx.search(link.text)
            or rx.search(link.url)
        ):
            url, at = _page_verdict(site)
            return Verdict(PASS, url, at, match={"url": link.url, "text": link.text})
    return _not_found(site, f"no link to a page in {code!r}")


def any_of(site: SiteFacts, args: Args) -> Verdict:
    """Passes when any of the checks in `of` passes; else couldn't check when any of them
    could not be checked; else fails (with every reason).

    Example: `of = [{test = "file_present", file = "security.txt"}, {test =
    "homepage_links_to", patterns = ["vulnerability disclosure"]}]`.
    """
    verdicts = [PREDICATES[sub["test"]].function(site, sub) for sub in args["of"]]
    for v in verdicts:
        if v.outcome == PASS:
            return v
    for v in verdicts:
        if v.outcome == COULDNT_CHECK:
            return v
    reasons = "; ".join(v.reason or "" for v in verdicts)
    return Verdict(FAIL, verdicts[0].url, verdicts[0].fetched_at, reason=reasons)


def axe_max_impact(site: SiteFacts, args: Args) -> Verdict:
    """Passes when the homepage's accessibility check (`govaudit a11y`, axe-core) found no
    violation at or above `impact` (default serious).

    Example: `test = "axe_max_impact"`, `impact = "serious"`: no serious or critical
    violation. No accessibility run, a homepage not checked, or one that could not be loaded
    is "couldn't check".
    """
    from audit.a11y import impact_rank

    if not site.a11y_checked:
        return _couldnt(site, "no accessibility check stored (run `govaudit a11y`)")
    page = site.a11y
    if page is None:
        return _couldnt(site, "homepage not in the accessibility run")
    if page["state"] != "checked":
        return _couldnt(site, f"accessibility: couldn't check: {page['reason']}", page["url"])
    limit = impact_rank(str(args.get("impact") or "serious"))
    over = [v for v in page["violations"] if impact_rank(v.get("impact")) >= limit]
    if not over:
        return Verdict(PASS, page["url"], page["checked_at"])
    rules = ", ".join(f"{v['rule']} ({v['impact']}, {v['nodes']})" for v in over)
    return Verdict(
        FAIL,
        page["url"],
        page["checked_at"],
        match=[v["rule"] for v in over],
        reason=f"axe-core {page['axe_version']}: {rules}",
    )


def _dns_observation(site: SiteFacts) -> tuple[dict[str, Any] | None, Verdict | None]:
    """The domain's DNS observation when it can be judged, else why not."""
    from audit.email_dns import OK, dns_state

    if not site.dns_checked:
        return None, _couldnt(site, "no DNS observation stored (run `govaudit dns`)")
    obs = site.dns
    if obs is None:
        return None, _couldnt(site, f"{site.domain} is not in the newest DNS run")
    state, why = dns_state(obs)
    if state != OK:
        return None, Verdict(COULDNT_CHECK, None, obs["checked_at"], reason=f"DNS {state}: {why}")
    return obs, None


def _dns_verdict(obs: dict[str, Any], part: Any) -> Verdict:
    """A judged part of audit.email_dns as a verdict; its URL names the DNS question it rests
    on (an RFC 4501 `dns:` URI)."""
    name, rtype = part.answers[-1] if part.answers else (obs["domain"], "TXT")
    url = f"dns:{name}?type={rtype}"
    reason = None if part.outcome == PASS else part.reason
    match = part.match if part.outcome == PASS else None
    if part.outcome == PASS and match is None:
        match = part.reason
    return Verdict(part.outcome, url, obs["checked_at"], match=match, reason=reason)


def _known_verdict(obs: dict[str, Any], url: str, known: bool | None, reason: str) -> Verdict:
    """True / False / None (not known) of audit.email_dns as pass / fail / couldn't check."""
    if known is None:
        return Verdict(COULDNT_CHECK, url, obs["checked_at"], reason=reason)
    if known:
        return Verdict(PASS, url, obs["checked_at"], match=reason)
    return Verdict(FAIL, url, obs["checked_at"], reason=reason)


def spf_valid(site: SiteFacts, args: Args) -> Verdict:
    """The domain publishes one valid SPF record (checkdmarc: syntax, at most ten DNS
    lookups through includes and redirects, every lookup answered), not ending in `+all`.
    `v=spf1 -all` is the valid record of a domain that sends no mail.

    Example: passes on `v=spf1 mx ip4:192.0.2.0/24 -all`; fails on `v=spf1 +all` or an SPF
    record needing 11 lookups; an include that times out is "couldn't check".
    """
    from audit.email_dns import spf_part

    obs, why = _dns_observation(site)
    if obs is None:
        return why  # type: ignore[return-value]
    return _dns_verdict(obs, spf_part(obs))


def dmarc_policy(site: SiteFacts, args: Args) -> Verdict:
    """The domain's DMARC record (its organizational domain's sp= for a subdomain without
    one) asks for at least `policy` (none < quarantine < reject; default reject) on at least
    `pct` percent of mail (default 100; absent pct= is 100), and with `subdomains = true` an
    explicit sp= no weaker.

    Example: `policy = "reject"` passes on `v=DMARC1; p=reject; rua=...`; fails on `p=none`,
    on `pct=50`, and on no DMARC record; a `_dmarc` query that timed out is couldn't check.
    """
    from audit.email_dns import dmarc_policy_part

    obs, why = _dns_observation(site)
    if obs is None:
        return why  # type: ignore[return-value]
    part = dmarc_policy_part(
        obs,
        str(args.get("policy") or "reject"),
        int(args.get("pct", 100)),
        bool(args.get("subdomains")),
    )
    return _dns_verdict(obs, part)


def dmarc_reports_to(site: SiteFacts, args: Args) -> Verdict:
    """The DMARC record sends aggregate reports (`rua=mailto:`) to `address` (default CISA's
    reports@dmarc.cyber.dhs.gov).

    Example: passes on `rua=mailto:dmarc@agency.gov,mailto:reports@dmarc.cyber.dhs.gov`.
    """
    from audit.email_dns import CISA_REPORTS, dmarc_reports_part

    obs, why = _dns_observation(site)
    if obs is None:
        return why  # type: ignore[return-value]
    return _dns_verdict(obs, dmarc_reports_part(obs, [str(args.get("address") or CISA_REPORTS)]))


def ipv6_reachable(site: SiteFacts, args: Args) -> Verdict:
    """The website's homepage host has an IPv6 address (AAAA): the crawl's homepage host
    when it is the domain or its www host, else the first of www.D and D with an address.

    Example: passes when www.D (the homepage) has AAAA 2001:db8::1, even if D has none.
    """
    from audit.email_dns import ipv6, website_host

    obs, why = _dns_observation(site)
    if obs is None:
        return why  # type: ignore[return-value]
    crawl_host = urlsplit(site.homepage_url).hostname if site.homepage_url else None
    found, reason = ipv6(obs, crawl_host)
    url = f"dns:{website_host(obs, crawl_host) or obs['domain']}?type=AAAA"
    return _known_verdict(obs, url, found, reason)


def dnssec_signed(site: SiteFacts, args: Args) -> Verdict:
    """The zone is signed: a DS record at the parent (.gov) and a DNSKEY in the zone.

    Example: fails on a zone with no DS at the parent; a DS query that timed out is "couldn't
    check".
    """
    from audit.email_dns import dnssec

    obs, why = _dns_observation(site)
    if obs is None:
        return why  # type: ignore[return-value]
    signed, reason = dnssec(obs)
    return _known_verdict(obs, f"dns:{obs['domain']}?type=DS", signed, reason)


PATTERNS = Param("patterns")
IMPACT_NAMES = ("minor", "moderate", "serious", "critical")
PREDICATES: dict[str, Predicate] = {
    p.name: p
    for p in [
        Predicate(
            "homepage_links_to",
            homepage_links_to,
            {"patterns": Param("patterns", True)},
            "a homepage link's text or URL matches a pattern",
        ),
        Predicate(
            "homepage_text_matches",
            homepage_text_matches,
            {"patterns": Param("patterns", True)},
            "the homepage's visible text matches a pattern",
        ),
        Predicate(
            "homepage_has_meta",
            homepage_has_meta,
            {"name": Param("str", True), "patterns": PATTERNS},
            "a <meta name> on the homepage (content matching a pattern)",
        ),
        Predicate(
            "header_present",
            header_present,
            {"name": Param("str", True), "patterns": PATTERNS},
            "a header on the final homepage response (value matching a pattern)",
        ),
        Predicate("https_valid", https_valid, {}, "a valid certificate on the https endpoint"),
        Predicate(
            "hsts",
            hsts,
            {
                "min_max_age": Param("int", default=1),
                "include_subdomains": Param("bool", default=False),
                "preload": Param("bool", default=False),
            },
            "Strict-Transport-Security on the https endpoint",
        ),
        Predicate(
            "http_redirects_to_https",
            http_redirects_to_https,
            {},
            "every http endpoint ends on https",
        ),
        Predicate(
            "file_present",
            file_present,
            {"file": Param("choice", True, tuple(_FILES))},
            "robots.txt, sitemap.xml or security.txt is published",
        ),
        Predicate(
            "robots_allows",
            robots_allows,
            {"path": Param("str", default="/"), "user_agent": Param("str", default="*")},
            "robots.txt allows a path",
        ),
        Predicate("dap_present", dap_present, {}, "the DAP script on the homepage"),
        Predicate("site_search_present", site_search_present, {}, "site search on the homepage"),
        Predicate(
            "uswds_banner_present",
            uswds_banner_present,
            {},
            "the USWDS .gov banner on the homepage",
        ),
        Predicate(
            "language_link",
            language_link,
            {"language": Param("str", True), "patterns": PATTERNS},
            "a link to a page in another language",
        ),
        Predicate(
            "axe_max_impact",
            axe_max_impact,
            {
                "impact": Param(
                    "choice",
                    choices=("minor", "moderate", "serious", "critical"),
                    default="serious",
                )
            },
            "no axe-core violation at or above an impact on the homepage (`govaudit a11y`)",
        ),
        Predicate("spf_valid", spf_valid, {}, "a valid SPF record (`govaudit dns`)"),
        Predicate(
            "dmarc_policy",
            dmarc_policy,
            {
                "policy": Param(
                    "choice", choices=("none", "quarantine", "reject"), default="reject"
                ),
                "pct": Param("int", default=100),
                "subdomains": Param("bool", default=False),
            },
            "a DMARC policy at least this strong (`govaudit dns`)",
        ),
        Predicate(
            "dmarc_reports_to",
            dmarc_reports_to,
            {"address": Param("str", default="reports@dmarc.cyber.dhs.gov")},
            "DMARC aggregate reports go to an address (`govaudit dns`)",
        ),
        Predicate("ipv6", ipv6_reachable, {}, "the homepage host has an IPv6 address (AAAA)"),
        Predicate("dnssec_signed", dnssec_signed, {}, "the zone is DNSSEC-signed (DS and DNSKEY)"),
        Predicate("any_of", any_of, {"of": Param("checks", True)}, "any of several tests passes"),
    ]
}
