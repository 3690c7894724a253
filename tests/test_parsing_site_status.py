"""Tests for audit.site_status: one domain's status from its endpoint observations."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.site_status import (
    BLOCKED_BY_ROBOTS,
    EndpointObservation,
    SiteStatus,
    classify_site,
    could_not_check,
    parked_reason,
)
from crawler.parsing._html import make_selector, page_title, visible_text

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def page(name: str) -> tuple[str | None, str]:
    sel = make_selector((FIXTURES / name).read_bytes(), "https://example.gov/")
    return page_title(sel), visible_text(sel)


def ok(
    url: str, final: str | None = None, status: int = 200, name: str | None = None
) -> EndpointObservation:
    title, text = page(name or "usda_homepage.html")
    return EndpointObservation(url, status, None, final or url, title=title, body_text=text)


def down(url: str, kind: str) -> EndpointObservation:
    return EndpointObservation(url, None, kind, None)


def http(url: str, status: int, final: str | None = None) -> EndpointObservation:
    return EndpointObservation(url, status, None, final or url)


# --- parked_reason ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("parked_godaddy.html", "domain parking page"),
        ("apache_debian_default.html", "Apache2 Debian Default Page"),
        ("nginx_default.html", "Welcome to nginx"),
        ("apache_it_works.html", "It works!"),
    ],
)
def test_placeholder_fixtures(name: str, fragment: str) -> None:
    title, text = page(name)
    reason = parked_reason(title, text)
    assert reason is not None and fragment in reason


@pytest.mark.parametrize(
    "name",
    ["usda_homepage.html", "wordpress_site.html", "ssa_open.html", "ssa_customerserviceplan.html"],
)
def test_real_sites_are_not_parked(name: str) -> None:
    assert parked_reason(*page(name)) is None


@pytest.mark.parametrize(
    ("title", "text", "fragment"),
    [
        ("IIS Windows Server", "", "IIS Windows Server"),
        ("Coming Soon", "A new website for the agency " * 60, "Coming Soon"),
        (None, "Site under construction. Please check back later.", "under construction"),
        (None, "This domain is for sale! Inquire now.", "domain parking"),
        (None, "", "nearly empty"),
        (None, "Hi", "nearly empty"),
        ("Agency", " \n ... ", "nearly empty"),
    ],
)
def test_parked_reason_heuristics(title: str | None, text: str, fragment: str) -> None:
    reason = parked_reason(title, text)
    assert reason is not None and fragment in reason


def test_coming_soon_in_a_long_real_page_is_not_parked() -> None:
    text = "The Department of Energy news and programs. " * 40 + "New grants coming soon."
    assert parked_reason("Department of Energy", text) is None


def test_small_page_with_title_is_not_parked() -> None:
    assert parked_reason("Zeta home", "Zeta home") is None


def test_unknown_body_is_not_evidence() -> None:
    assert parked_reason("Agency home", None) is None
    assert parked_reason(None, None) is None


# --- classify_site ----------------------------------------------------------------------------


def test_active() -> None:
    result = classify_site(
        "usda.gov",
        [
            down("http://usda.gov/", "timeout"),
            ok("https://usda.gov/", final="https://www.usda.gov/"),
            ok("https://www.usda.gov/"),
        ],
    )
    assert result == SiteStatus("active", "the homepage answers 200 at https://www.usda.gov/", None)


def test_active_wins_over_a_parked_endpoint() -> None:
    result = classify_site(
        "example.gov",
        [ok("http://example.gov/", name="apache_it_works.html"), ok("https://www.example.gov/")],
    )
    assert result.status == "active"
    assert result.reason == "the homepage answers 200 at https://www.example.gov/"


def test_parked() -> None:
    result = classify_site(
        "ruralhousingfinance.gov",
        [
            ok("https://ruralhousingfinance.gov/", name="parked_godaddy.html"),
            down("https://www.ruralhousingfinance.gov/", "dns"),
        ],
    )
    assert result.status == "parked"
    assert result.reason == 'the homepage is a domain parking page ("This domain name is parked")'
    assert result.redirect_target is None


def test_redirect_to_most_common_domain() -> None:
    result = classify_site(
        "socialsecurity.gov",
        [
            http("http://socialsecurity.gov/", 301, "https://www.ssa.gov/"),
            ok("https://socialsecurity.gov/", final="https://www.ssa.gov/"),
            ok("https://www.socialsecurity.gov/", final="https://www.usa.gov/"),
            down("http://www.socialsecurity.gov/", "refused"),
        ],
    )
    assert result == SiteStatus("redirect", "the homepage redirects to ssa.gov", "ssa.gov")


def test_redirect_beats_errors_on_the_domain() -> None:
    result = classify_site(
        "fedjobs.gov",
        [
            http("https://fedjobs.gov/", 500),
            http("https://www.fedjobs.gov/", 302, "https://www.usajobs.gov/"),
        ],
    )
    assert result.status == "redirect" and result.redirect_target == "usajobs.gov"


def test_off_site_error_is_not_a_redirect() -> None:
    result = classify_site(
        "old.gov", [http("https://old.gov/", 404, "https://www.new.gov/missing")]
    )
    assert result == SiteStatus("error", "https://old.gov answers 404", None)


def test_subdomain_of_own_domain_is_not_a_redirect() -> None:
    result = classify_site("usda.gov", [ok("https://usda.gov/", final="https://www.fs.usda.gov/")])
    assert result.status == "active"


def test_blocked() -> None:
    result = classify_site(
        "example.gov",
        [
            http("https://example.gov/", 403),
            http("https://www.example.gov/", 401),
            down("http://example.gov/", "timeout"),
        ],
    )
    assert result == SiteStatus(
        "error",
        "blocked: https://www.example.gov answers 401; https://example.gov answers 403; "
        "http://example.gov times out",
        None,
    )
    assert could_not_check(result.status, result.reason)


def test_mixed_errors() -> None:
    result = classify_site(
        "example.gov", [http("https://example.gov/", 503), http("https://www.example.gov/", 403)]
    )
    assert result == SiteStatus(
        "error", "https://www.example.gov answers 403; https://example.gov answers 503", None
    )
    assert not could_not_check(result.status, result.reason)


def test_unreachable_single_kind() -> None:
    result = classify_site(
        "gone.gov", [down("https://gone.gov/", "dns"), down("https://www.gone.gov/", "dns")]
    )
    assert result == SiteStatus(
        "unreachable",
        "no endpoint answers: both https endpoints (www and bare) have no DNS address",
        None,
    )


def test_four_endpoints_in_words() -> None:
    result = classify_site(
        "old.gov",
        [
            http(f"{scheme}://{host}old.gov/", 404)
            for scheme in ("https", "http")
            for host in ("www.", "")
        ],
    )
    assert result.reason == "all four endpoints (www and bare, https and http) answer 404"
    result = classify_site(
        "old.gov",
        [
            http("https://www.old.gov/", 500),
            http("http://www.old.gov/", 500),
            down("https://old.gov/", "dns"),
            down("http://old.gov/", "dns"),
        ],
    )
    assert result.reason == (
        "both www endpoints (https and http) answer 500; both bare endpoints (https and http) "
        "have no DNS address"
    )


def test_unreachable_mixed_kinds() -> None:
    result = classify_site(
        "gone.gov", [down("https://gone.gov/", "tls"), down("http://gone.gov/", "refused")]
    )
    assert result.status == "unreachable"
    assert result.reason == (
        "no endpoint answers: https://gone.gov fails the TLS handshake; "
        "http://gone.gov refuses the connection"
    )


def test_no_endpoints() -> None:
    assert classify_site("x.gov", []).status == "unreachable"


def test_domain_given_with_www_and_upper_case() -> None:
    result = classify_site("WWW.USDA.GOV.", [ok("https://www.usda.gov/")])
    assert result.status == "active"


def test_robots_txt_forbidding_every_endpoint_is_blocked_not_unreachable() -> None:
    result = classify_site(
        "dhs.gov", [down("https://www.dhs.gov/", "robots"), down("https://dhs.gov/", "robots")]
    )
    assert result == SiteStatus("error", BLOCKED_BY_ROBOTS, None)
    assert could_not_check(result.status, result.reason)


def test_robots_refusal_beside_other_failures_counts_as_other() -> None:
    result = classify_site(
        "dhs.gov", [down("https://www.dhs.gov/", "robots"), down("http://dhs.gov/", "dns")]
    )
    assert result == SiteStatus(
        "unreachable",
        "no endpoint answers: https://www.dhs.gov is forbidden by robots.txt; "
        "http://dhs.gov has no DNS address",
        None,
    )
    answered = classify_site(
        "usda.gov", [down("https://usda.gov/", "robots"), ok("https://www.usda.gov/")]
    )
    assert answered.status == "active"
    assert not could_not_check(answered.status, answered.reason)


def test_could_not_check() -> None:
    assert could_not_check("unreachable", "no endpoint answers: ...")
    assert could_not_check("error", "blocked: all four endpoints (...) answer 403")
    assert not could_not_check("error", "all four endpoints (...) answer 500")
    assert not could_not_check("parked", "placeholder page: coming soon")
