"""Each guideline predicate on saved pages and stored facts: pass, fail, couldn't check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audit.guideline_predicates import (
    COULDNT_CHECK,
    FAIL,
    PASS,
    PREDICATES,
    KeptPage,
    SiteFacts,
    Verdict,
)

HTML = Path(__file__).parent / "fixtures" / "html"
AT = "2026-11-30T03:00:00"


def page(name: str, url: str = "https://www.usda.gov/", **headers: str) -> KeptPage:
    return KeptPage(
        url=url,
        final_url=url,
        status=200,
        fetched_at=AT,
        headers={"content-type": "text/html", **{k.lower(): v for k, v in headers.items()}},
        body=(HTML / name).read_bytes(),
    )


def site(
    homepage: KeptPage | None = None,
    *,
    status: str = "active",
    facts: dict[str, Any] | None = None,
    endpoints: list[dict[str, Any]] | None = None,
    kept: bool = True,
    **observed: Any,
) -> SiteFacts:
    reached = homepage is not None or facts is not None
    url = homepage.final_url if homepage else ("https://www.usda.gov/" if reached else None)
    return SiteFacts(
        domain="usda.gov",
        agency="Department of Agriculture",
        status=status,
        status_reason="200 at https://www.usda.gov/" if reached else "dns: no such host",
        crawl_run=7,
        fetched_at=AT,
        homepage_url=url,
        homepage=facts or {},
        endpoints=endpoints or [],
        responses={"homepage": homepage} if homepage else {},
        responses_kept=kept,
        **observed,
    )


UNREACHABLE = site(status="unreachable")


def judge(test: str, facts: SiteFacts, **args: Any) -> Verdict:
    return PREDICATES[test].function(facts, args)


def test_homepage_links_to() -> None:
    usda = site(page("usda_homepage.html"))
    found = judge("homepage_links_to", usda, patterns=["privacy"])
    assert found.outcome == PASS
    assert found.match == {"url": "https://www.usda.gov/privacy-policy", "text": "Privacy Policy"}
    assert found.url == "https://www.usda.gov/" and found.fetched_at == AT
    # the URL counts too: USA.gov is an image link with no text
    assert judge("homepage_links_to", usda, patterns=[r"^https://www\.usa\.gov/"]).outcome == PASS
    missing = judge("homepage_links_to", usda, patterns=["budget and performance"])
    assert missing.outcome == FAIL and "links matches" in (missing.reason or "")
    nginx = site(page("nginx_default.html", "https://www.eta.gov/"))
    assert judge("homepage_links_to", nginx, patterns=["privacy"]).outcome == FAIL
    assert judge("homepage_links_to", UNREACHABLE, patterns=["privacy"]).outcome == COULDNT_CHECK
    old_crawl = site(facts={"dap": True}, kept=False)
    verdict = judge("homepage_links_to", old_crawl, patterns=["privacy"])
    assert verdict.outcome == COULDNT_CHECK and "kept no homepage" in (verdict.reason or "")


def test_a_truncated_homepage_without_the_link_could_not_be_checked() -> None:
    cut = page("usda_homepage.html")
    cut = KeptPage(cut.url, cut.final_url, 200, AT, cut.headers, cut.body[:2000], True)
    verdict = judge("homepage_links_to", site(cut), patterns=["no fear"])
    assert verdict.outcome == COULDNT_CHECK and "truncated" in (verdict.reason or "")


def test_homepage_text_matches_reads_the_declared_charset() -> None:
    spanish = site(page("latin1_spanish.html", **{"Content-Type": "text/html"}))
    found = judge("homepage_text_matches", spanish, patterns=["Información en español"])
    assert found.outcome == PASS and "Información" in found.match
    assert judge("homepage_text_matches", spanish, patterns=["in English"]).outcome == FAIL
    assert judge("homepage_text_matches", UNREACHABLE, patterns=["x"]).outcome == COULDNT_CHECK


def test_homepage_has_meta() -> None:
    usda = site(page("usda_homepage.html"))
    found = judge("homepage_has_meta", usda, name="viewport", patterns=["width=device-width"])
    assert found.outcome == PASS and found.match["content"].startswith("width=device-width")
    wrong = judge("homepage_has_meta", usda, name="viewport", patterns=["width=320"])
    assert wrong.outcome == FAIL and "does not match" in (wrong.reason or "")
    nginx = site(page("nginx_default.html", "https://www.eta.gov/"))
    assert judge("homepage_has_meta", nginx, name="viewport").outcome == FAIL
    assert judge("homepage_has_meta", UNREACHABLE, name="viewport").outcome == COULDNT_CHECK


def test_header_present() -> None:
    usda = site(page("usda_homepage.html", **{"Content-Security-Policy": "default-src 'self'"}))
    found = judge("header_present", usda, name="Content-Security-Policy")
    assert found.outcome == PASS and found.match["value"] == "default-src 'self'"
    assert judge("header_present", usda, name="Permissions-Policy").outcome == FAIL
    bad = judge("header_present", usda, name="Content-Security-Policy", patterns=["nonce-"])
    assert bad.outcome == FAIL
    not_kept = site(facts={"dap": True}, kept=False)
    assert judge("header_present", not_kept, name="X-Frame-Options").outcome == COULDNT_CHECK


def https(url: str, **e: Any) -> dict[str, Any]:
    return {"url": url, "status": 200, "error_kind": None, "final_url": url, "fetched_at": AT, **e}


def test_https_valid_reads_the_recorded_certificate_state() -> None:
    home = "https://www.usda.gov/"
    valid = site(facts={}, endpoints=[https(home, tls="valid")])
    assert judge("https_valid", valid).outcome == PASS
    expired = site(facts={}, endpoints=[https(home, tls="expired")])
    verdict = judge("https_valid", expired)
    assert verdict.outcome == FAIL and verdict.match["tls"] == "expired"
    # a crawl that did not verify certificates: couldn't check, never "fails"
    unverified = site(facts={}, endpoints=[https(home)])
    assert judge("https_valid", unverified).outcome == COULDNT_CHECK
    refused = site(
        facts={},
        endpoints=[
            {"url": home, "status": None, "error_kind": "refused"},
            {"url": "http://www.usda.gov/", "status": 200, "error_kind": None},
        ],
    )
    assert judge("https_valid", refused).outcome == FAIL


def test_hsts() -> None:
    home = "https://www.usda.gov/"
    preload = "max-age=63072000; includeSubDomains; preload"
    strong = site(facts={}, endpoints=[https(home, hsts=preload)])
    assert judge("hsts", strong, min_max_age=31536000, preload=True).outcome == PASS
    short = site(facts={}, endpoints=[https(home, hsts="max-age=300")])
    verdict = judge("hsts", short, min_max_age=31536000)
    assert verdict.outcome == FAIL and "below" in (verdict.reason or "")
    assert judge("hsts", short).outcome == PASS  # any max-age > 0 by default
    assert judge("hsts", site(facts={}, endpoints=[https(home)])).outcome == FAIL
    assert judge("hsts", UNREACHABLE).outcome == COULDNT_CHECK


def test_http_redirects_to_https() -> None:
    ok = site(
        facts={},
        endpoints=[
            https("http://usda.gov/", redirects_to_https=True, final_url="https://www.usda.gov/")
        ],
    )
    assert judge("http_redirects_to_https", ok).outcome == PASS
    plain = site(facts={}, endpoints=[https("http://www.usda.gov/", redirects_to_https=False)])
    assert judge("http_redirects_to_https", plain).outcome == FAIL
    timeouts = site(
        facts={}, endpoints=[{"url": "http://usda.gov/", "status": None, "error_kind": "timeout"}]
    )
    assert judge("http_redirects_to_https", timeouts).outcome == COULDNT_CHECK


def test_file_present() -> None:
    url = "https://www.usda.gov/.well-known/security.txt"
    there = site(facts={}, security_txt={"url": url, "status": 200, "present": True})
    assert judge("file_present", there, file="security.txt").outcome == PASS
    missing = site(facts={}, security_txt={"url": url, "status": 404, "present": False})
    assert judge("file_present", missing, file="security.txt").outcome == FAIL
    slow = site(
        facts={},
        security_txt={"url": url, "status": None, "present": False, "error": "timeout"},
    )
    assert judge("file_present", slow, file="security.txt").outcome == COULDNT_CHECK
    assert judge("file_present", UNREACHABLE, file="sitemap.xml").outcome == COULDNT_CHECK


def robots_site(name: str | None, status: int = 200, **seen: Any) -> SiteFacts:
    url = "https://www.usda.gov/robots.txt"
    facts = site(facts={}, robots={"url": url, "status": status, "present": status == 200, **seen})
    if name is not None:
        body = (HTML / name).read_bytes()
        facts.responses["robots"] = KeptPage(url, url, status, AT, {}, body)
    return facts


def test_robots_allows() -> None:
    blocked = judge("robots_allows", robots_site("robots_disallow_all.txt"), path="/")
    assert blocked.outcome == FAIL and "disallows /" in (blocked.reason or "")
    usda = robots_site("robots_usda.txt")
    assert judge("robots_allows", usda, path="/").outcome == PASS
    assert judge("robots_allows", robots_site(None, 404), path="/").outcome == PASS
    # an older crawl kept no robots body: the stored disallows_all still answers for "/"
    legacy = robots_site(None, disallows_all=True)
    assert judge("robots_allows", legacy, path="/").outcome == FAIL
    assert judge("robots_allows", legacy, path="/data/").outcome == COULDNT_CHECK
    assert judge("robots_allows", robots_site(None, 503), path="/").outcome == COULDNT_CHECK


@pytest.mark.parametrize(
    ("test", "key", "label"),
    [
        ("dap_present", "dap", "Digital Analytics"),
        ("site_search_present", "site_search", "site search"),
        ("uswds_banner_present", "uswds_banner", "USWDS"),
    ],
)
def test_homepage_facts_recorded_by_the_crawl(test: str, key: str, label: str) -> None:
    assert judge(test, site(facts={key: True})).outcome == PASS
    verdict = judge(test, site(facts={key: False}))
    assert verdict.outcome == FAIL and label in (verdict.reason or "")
    assert judge(test, site(facts={"title": "x"})).outcome == COULDNT_CHECK  # not recorded
    assert judge(test, UNREACHABLE).outcome == COULDNT_CHECK


def test_language_link() -> None:
    spanish = site(page("latin1_spanish.html", "https://www.ssa.gov/espanol/"))
    found = judge("language_link", spanish, language="es")
    assert found.outcome == PASS and "/espanol/" in found.match["url"]
    usda = site(page("usda_homepage.html"))
    assert judge("language_link", usda, language="es").outcome == FAIL
    assert judge("language_link", UNREACHABLE, language="es").outcome == COULDNT_CHECK


def test_any_of_passes_on_one_and_never_fails_on_an_unchecked_one() -> None:
    either = [
        {"test": "file_present", "file": "security.txt"},
        {"test": "homepage_links_to", "patterns": ["vulnerability disclosure"]},
    ]
    url = "https://www.usda.gov/.well-known/security.txt"
    usda = site(page("usda_homepage.html"), security_txt={"url": url, "status": 404})
    verdict = judge("any_of", usda, of=either)
    assert verdict.outcome == FAIL and ";" in (verdict.reason or "")
    with_txt = site(
        page("usda_homepage.html"), security_txt={"url": url, "status": 200, "present": True}
    )
    assert judge("any_of", with_txt, of=either).outcome == PASS
    slow = site(page("usda_homepage.html"), security_txt={"url": url, "error": "timeout"})
    assert judge("any_of", slow, of=either).outcome == COULDNT_CHECK


def test_every_predicate_is_documented_with_an_example() -> None:
    for predicate in PREDICATES.values():
        doc = predicate.function.__doc__ or ""
        assert "Example" in doc, predicate.name


def a11y_page(state: str = "checked", impacts: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "url": "https://www.usda.gov/",
        "state": state,
        "reason": None if state == "checked" else "timeout after 60 s",
        "checked_at": AT,
        "axe_version": "4.12.1",
        "violations": [
            {"rule": f"rule-{i}", "impact": impact, "nodes": 1} for i, impact in enumerate(impacts)
        ],
    }


def test_axe_max_impact_reads_the_stored_accessibility_check() -> None:
    clean = site(a11y=a11y_page(impacts=("minor", "moderate")), a11y_checked=True)
    assert judge("axe_max_impact", clean).outcome == PASS
    assert judge("axe_max_impact", clean, impact="moderate").outcome == FAIL
    serious = site(a11y=a11y_page(impacts=("serious",)), a11y_checked=True)
    failed = judge("axe_max_impact", serious, impact="serious")
    assert failed.outcome == FAIL and failed.match == ["rule-0"]
    assert "rule-0 (serious, 1)" in (failed.reason or "")
    # Not checked is never a failure.
    assert judge("axe_max_impact", site()).outcome == COULDNT_CHECK
    assert judge("axe_max_impact", site(a11y_checked=True)).outcome == COULDNT_CHECK
    unloaded = site(a11y=a11y_page("couldn't check"), a11y_checked=True)
    verdict = judge("axe_max_impact", unloaded)
    assert verdict.outcome == COULDNT_CHECK and "timeout" in (verdict.reason or "")
