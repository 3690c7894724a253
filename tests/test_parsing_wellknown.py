"""Tests for crawler.parsing.wellknown: robots.txt, security.txt and sitemaps."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from crawler.parsing.wellknown import (
    RobotsFacts,
    SecurityTxtFacts,
    SitemapFacts,
    parse_robots,
    parse_security_txt,
    parse_sitemap,
)

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_drupal_robots() -> None:
    facts = parse_robots(text("robots_usda.txt"))
    assert facts == RobotsFacts(
        disallows_all=False,
        crawl_delay=10.0,
        sitemaps=("https://www.usda.gov/sitemap.xml",),
    )


def test_robots_star_group_shared_with_other_agent_disallows_all() -> None:
    # "User-agent: bingbot" and "User-Agent: *" share one group; CRLF line ends; comments.
    facts = parse_robots(text("robots_disallow_all.txt"))
    assert facts.disallows_all is True
    assert facts.crawl_delay == 2.5
    # relative sitemap URLs are not usable
    assert facts.sitemaps == ("https://staging.example-agency.gov/sitemap_index.xml",)


def test_disallow_all_for_another_agent_only() -> None:
    facts = parse_robots("User-agent: BadBot\nDisallow: /\n\nUser-agent: *\nDisallow: /tmp/\n")
    assert facts.disallows_all is False


def test_allow_root_overrides_disallow_root() -> None:
    assert parse_robots("User-agent: *\nDisallow: /\nAllow: /\n").disallows_all is False


def test_disallow_star_and_bom() -> None:
    assert parse_robots("\ufeffuser-agent:*\ndisallow : /*\n").disallows_all is True


def test_groups_before_any_user_agent_are_ignored() -> None:
    assert parse_robots("Disallow: /\n").disallows_all is False


def test_empty_disallow_allows_everything() -> None:
    assert parse_robots("User-agent: *\nDisallow:\n").disallows_all is False


@pytest.mark.parametrize(
    "body",
    ["", "<!DOCTYPE html><html><body>Disallow: /</body></html>", "\x00\x01", "::::"],
)
def test_robots_garbage(body: str) -> None:
    assert parse_robots(body) == RobotsFacts(disallows_all=False, crawl_delay=None, sitemaps=())


def test_robots_bad_crawl_delay_is_ignored() -> None:
    assert parse_robots("User-agent: *\nCrawl-delay: soon\n").crawl_delay is None


def test_signed_security_txt() -> None:
    facts = parse_security_txt(text("security_txt_signed.txt"))
    assert facts == SecurityTxtFacts(
        contact=("https://www.cisa.gov/report", "mailto:vulnerability@cisa.dhs.gov"),
        policy="https://www.cisa.gov/vulnerability-disclosure-policy",
        expires="2026-01-01T05:00:00.000Z",
        looks_valid=True,
    )


def test_security_txt_without_expires_is_not_valid() -> None:
    facts = parse_security_txt(text("security_txt_no_expires.txt"))
    assert facts.contact == ("mailto:security@example-agency.gov",)
    assert facts.policy == "https://www.example-agency.gov/vdp"
    assert facts.looks_valid is False


@pytest.mark.parametrize(
    "body",
    [
        "<!doctype html><html><head><title>Page not found</title></head></html>",
        "\n\n<html>\nContact: mailto:a@b.gov\nExpires: 2030-01-01T00:00:00Z\n</html>",
    ],
)
def test_html_at_security_txt_path_is_not_valid(body: str) -> None:
    assert parse_security_txt(body).looks_valid is False


@pytest.mark.parametrize(
    "body",
    [
        "Contact: mailto:a@b.gov\nExpires: 2030-01-01T00:00:00Z\nExpires: 2031-01-01T00:00:00Z\n",
        "Contact: mailto:a@b.gov\nExpires: next year\n",
        "Contact: mailto:a@b.gov\nExpires: 2030-01-01\n",
        "Contact: security team\nExpires: 2030-01-01T00:00:00Z\n",
        "Expires: 2030-01-01T00:00:00Z\n",
        "",
    ],
)
def test_invalid_security_txt(body: str) -> None:
    assert parse_security_txt(body).looks_valid is False


def test_minimal_valid_security_txt_with_comments_and_crlf() -> None:
    body = "# our policy\r\ncontact: tel:+1-202-555-0100\r\nexpires: 2030-01-01T00:00:00+00:00\r\n"
    facts = parse_security_txt(body)
    assert facts.looks_valid is True
    assert facts.contact == ("tel:+1-202-555-0100",)


def test_urlset_sitemap() -> None:
    body = (FIXTURES / "sitemap_urlset.xml").read_bytes()
    assert parse_sitemap(body) == SitemapFacts(
        is_index=False, url_count=3, valid=True, hosts=("www.usda.gov",)
    )


def test_sitemap_index() -> None:
    body = (FIXTURES / "sitemap_index.xml").read_bytes()
    assert parse_sitemap(body) == SitemapFacts(
        is_index=True, url_count=2, valid=True, hosts=("www.example-agency.gov",)
    )


def test_gzipped_sitemap() -> None:
    body = gzip.compress((FIXTURES / "sitemap_urlset.xml").read_bytes())
    assert parse_sitemap(body) == SitemapFacts(
        is_index=False, url_count=3, valid=True, hosts=("www.usda.gov",)
    )


def test_sitemap_without_namespace() -> None:
    body = b"<urlset><url><loc>https://a.gov/</loc></url></urlset>"
    assert parse_sitemap(body) == SitemapFacts(
        is_index=False, url_count=1, valid=True, hosts=("a.gov",)
    )


def test_text_sitemap() -> None:
    body = b"https://www.ssa.gov/\nhttps://WWW.SSA.GOV./open/\nhttps://x@data.ssa.gov:443/\n\n"
    assert parse_sitemap(body) == SitemapFacts(
        is_index=False, url_count=3, valid=True, hosts=("www.ssa.gov", "data.ssa.gov")
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        (FIXTURES / "usda_homepage.html").read_bytes(),
        b"<html><body><urlset></urlset></body></html>",
        b"<rss version='2.0'><channel></channel></rss>",
        b"\x1f\x8b\x08\x00garbage-not-gzip",
        b"\x00\x01\x02\x03",
        b"Not Found",
    ],
)
def test_not_a_sitemap(body: bytes) -> None:
    assert parse_sitemap(body).valid is False


def test_sitemap_entities_are_not_expanded() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<urlset><url><loc>&x;</loc></url></urlset>"
    )
    facts = parse_sitemap(body)
    assert facts.valid is True and facts.url_count == 1


def test_sitemap_hosts_are_bounded() -> None:
    from crawler.parsing.wellknown import MAX_SITEMAP_HOSTS

    locs = "".join(f"<url><loc>https://h{i}.nasa.gov/</loc></url>" for i in range(300))
    facts = parse_sitemap(f"<urlset>{locs}</urlset>".encode())
    assert facts.url_count == 300 and len(facts.hosts) == MAX_SITEMAP_HOSTS
    assert facts.hosts[:2] == ("h0.nasa.gov", "h1.nasa.gov")
