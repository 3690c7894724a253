"""Tests for crawler.parsing.homepage on saved pages modelled on real federal sites."""

from __future__ import annotations

import dataclasses
from html import escape
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.parsing.homepage import REQUIRED_LINK_PATTERNS, PageFacts, parse_page

FIXTURES = Path(__file__).parent / "fixtures" / "html"
REQUIRED_KEYS = {
    "privacy",
    "accessibility",
    "foia",
    "no_fear",
    "inspector_general",
    "usa_gov",
    "about",
    "contact",
    "open_gov",
}


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="module")
def usda() -> PageFacts:
    return parse_page(load("usda_homepage.html"), "https://www.usda.gov/")


def test_usda_metadata(usda: PageFacts) -> None:
    assert usda.title == "Home | USDA"
    assert usda.description is not None
    assert usda.description.startswith("We provide leadership on food, agriculture")
    assert usda.language == "en"
    assert usda.canonical_url == "https://www.usda.gov/"
    assert usda.meta_refresh is None


def test_usda_federal_features(usda: PageFacts) -> None:
    assert usda.generator_hints == ("Drupal",)
    assert usda.dap is True
    assert usda.site_search is True
    assert usda.uswds_banner is True


def test_usda_required_links(usda: PageFacts) -> None:
    assert set(usda.required_links) == REQUIRED_KEYS
    assert usda.required_links == {
        "privacy": "https://www.usda.gov/privacy-policy",
        "accessibility": "https://www.usda.gov/accessibility-statement",
        "foia": "https://www.dm.usda.gov/foia/",
        "no_fear": "https://www.usda.gov/ocr/no-fear-act",
        "inspector_general": "https://usdaoig.oversight.gov/",
        # The footer link is a logo: only its alt text says USA.gov.
        "usa_gov": "https://www.usa.gov/",
        "about": "https://www.usda.gov/about-usda",
        "contact": "https://www.usda.gov/contact-us",
        "open_gov": "https://www.usda.gov/our-agency/about-usda/open",
    }


def test_usda_links_are_absolute_unique_and_ordered(usda: PageFacts) -> None:
    links = usda.links
    assert links[0] == "https://www.usda.gov/"
    assert len(links) == len(set(links))
    assert all(link.startswith(("http://", "https://")) for link in links)
    assert not any("#" in link for link in links)
    # "#details" and the plain link to the press release are one link.
    assert links.count("https://www.usda.gov/media/press-releases/2024/rural-infrastructure") == 1
    assert not any(link.lower().startswith("javascript") for link in links)
    assert links.index("https://www.usda.gov/topics") < links.index("https://www.usa.gov/")
    assert "https://www.fs.usda.gov/" in links


def test_required_link_keys_are_exactly_the_documented_ones() -> None:
    assert set(REQUIRED_LINK_PATTERNS) == REQUIRED_KEYS


def test_wordpress_site() -> None:
    facts = parse_page(load("wordpress_site.html"), "https://www.cfa.gov/")
    assert facts.title == "Home – U.S. Commission of Fine Arts"
    assert facts.generator_hints == ("WordPress",)
    assert facts.dap is True
    assert facts.uswds_banner is False
    assert facts.site_search is True  # WordPress search form: role=search, input name=s
    assert facts.canonical_url == "https://www.cfa.gov/"  # relative canonical made absolute
    assert facts.required_links["foia"] == "https://www.cfa.gov/foia"  # "Freedom of Information"
    assert facts.required_links["inspector_general"] is None
    assert facts.required_links["open_gov"] is None
    assert facts.required_links["usa_gov"] == "https://www.usa.gov/"


@pytest.mark.parametrize(
    ("name", "hint"),
    [("sharepoint_site.html", "SharePoint"), ("aem_site.html", "AEM")],
)
def test_other_cms_markers(name: str, hint: str) -> None:
    assert hint in parse_page(load(name), "https://www.example.gov/").generator_hints


def test_aem_search_via_role_attribute() -> None:
    assert parse_page(load("aem_site.html"), "https://www.example-health.gov/").site_search


@pytest.fixture(scope="module")
def tricky() -> PageFacts:
    return parse_page(load("tricky_uppercase.html"), "https://www.example-agency.gov/old/page.htm")


def test_uppercase_tags_and_whitespace(tricky: PageFacts) -> None:
    assert tricky.title == "Bureau of Example Statistics & Data"
    assert tricky.description == "Bureau of Example Statistics"
    assert tricky.language == "EN-US"


def test_base_href_governs_relative_links(tricky: PageFacts) -> None:
    assert tricky.canonical_url == "https://www.example-agency.gov/legacy/en/home.html"
    assert tricky.links[0] == "https://www.example-agency.gov/legacy/en/about/index.html"
    assert tricky.meta_refresh == (5.0, "https://www.example-agency.gov/legacy/new-site/index.html")


def test_fragments_duplicates_and_unusable_hrefs(tricky: PageFacts) -> None:
    assert tricky.links == (
        "https://www.example-agency.gov/legacy/en/about/index.html",
        # paths are case-sensitive, so this one is a different link
        "https://www.example-agency.gov/legacy/en/ABOUT/index.html",
        "https://www.example-agency.gov/foia/",
        "https://www.usa.gov/",
        "https://www.example-agency.gov/oig-reports",
        "https://www.example-agency.gov/privacy/",
        "https://www.example-agency.gov/legacy/en/contact.html",
    )


def test_required_links_from_title_attribute_area_and_path(tricky: PageFacts) -> None:
    links = tricky.required_links
    assert links["inspector_general"] == "https://www.example-agency.gov/oig-reports"  # title=
    assert links["privacy"] == "https://www.example-agency.gov/privacy/"  # <area> path
    assert links["contact"] == "https://www.example-agency.gov/legacy/en/contact.html"
    assert links["usa_gov"] == "https://www.usa.gov/"  # by host; text does not say USA.gov
    assert links["about"] == "https://www.example-agency.gov/legacy/en/about/index.html"
    assert links["no_fear"] is None
    assert tricky.site_search is True  # action /cgi-bin/search.pl


def test_latin1_page_declared_in_meta() -> None:
    facts = parse_page(load("latin1_spanish.html"), "https://www.ssa.gov/espanol/")
    assert facts.title == "Administración del Seguro Social - Información en español"
    assert facts.description == "Página oficial: jubilación, incapacidad y sobrevivientes"
    assert facts.language == "es"
    assert facts.required_links["privacy"] == "https://www.ssa.gov/espanol/privacidad.html"
    assert facts.required_links["contact"] == "https://www.ssa.gov/espanol/contacto/"


def test_undeclared_windows_1252_page() -> None:
    facts = parse_page(load("cp1252_undeclared.html"), "https://www.example.gov/")
    assert facts.title == "Café Programs – Naïve Sample"


def test_header_encoding_is_used_when_page_is_silent() -> None:
    body = "<title>Niño</title>".encode("latin-1")
    assert parse_page(body, "https://x.gov/", encoding="iso-8859-1").title == "Niño"


def test_bom_beats_meta_charset() -> None:
    facts = parse_page(load("utf8_bom.html"), "https://www.example.gov/")
    assert facts.title == "Données — BOM wins over the meta charset"
    assert facts.required_links["open_gov"] == "https://www.example.gov/open"


def test_str_body_is_accepted() -> None:
    html = '<html lang="en"><title>x</title><a href="/open">Open</a></html>'
    facts = parse_page(html, "https://www.example.gov/a/")
    assert facts.links == ("https://www.example.gov/open",)
    assert facts.required_links["open_gov"] == "https://www.example.gov/open"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"\x00\x01\x02\xff\xfe garbage \x00",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"<html><head><title>unclosed",
        b"<<<<>>>><a href=>",
        b"\xef\xbb\xbf",
        "<p>\udcff lone surrogate</p>",
    ],
)
def test_garbage_never_raises(body: bytes | str) -> None:
    facts = parse_page(body, "https://www.example.gov/")
    assert set(facts.required_links) == REQUIRED_KEYS
    assert facts.dap is False and facts.uswds_banner is False


def test_unclosed_title_is_still_text_only() -> None:
    facts = parse_page(b"<html><head><title>Agency <b>Home</b>", "https://x.gov/")
    assert facts.title == "Agency Home"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("0; url=https://www.usa.gov/", (0.0, "https://www.usa.gov/")),
        ("0;URL='/home'", (0.0, "https://x.gov/home")),
        ('3; url="new.html"', (3.0, "https://x.gov/dir/new.html")),
        ("0, /moved", (0.0, "https://x.gov/moved")),
        ("1.5;url=/x", (1.5, "https://x.gov/x")),
        ("10", None),
        ("", None),
        ("; url=/nodelay", None),
        ("0; url=javascript:alert(1)", None),
    ],
)
def test_meta_refresh_forms(content: str, expected: tuple[float, str] | None) -> None:
    html = f'<html><head><meta http-equiv="Refresh" content="{escape(content)}"></head></html>'
    assert parse_page(html, "https://x.gov/dir/page").meta_refresh == expected


def test_meta_refresh_unquoted_attribute_and_noscript() -> None:
    html = (
        "<html><head><noscript><meta http-equiv=refresh content=0;url=/nojs></noscript>"
        "<META HTTP-EQUIV=REFRESH CONTENT=0;URL=/real></head></html>"
    )
    assert parse_page(html, "https://x.gov/").meta_refresh == (0.0, "https://x.gov/real")


def test_banner_text_without_class_and_dap_by_name() -> None:
    html = (
        "<div><p>An official   website of the\n United States government</p></div>"
        '<script src="/js/Universal-Federated-Analytics-Min.js"></script>'
    )
    facts = parse_page(html, "https://x.gov/")
    assert facts.uswds_banner and facts.dap


def test_dap_must_be_a_script_source() -> None:
    html = '<a href="https://dap.digitalgov.gov/">About DAP</a>'
    assert parse_page(html, "https://x.gov/").dap is False


def test_search_form_without_search_input_is_not_site_search() -> None:
    html = '<form action="/subscribe"><input type="email" name="email"></form>'
    assert parse_page(html, "https://x.gov/").site_search is False


def test_generator_meta_unknown_product_is_kept_verbatim() -> None:
    html = '<meta name="generator" content="Agency CMS 4.2">'
    assert parse_page(html, "https://x.gov/").generator_hints == ("Agency CMS 4.2",)


def test_page_facts_is_frozen(usda: PageFacts) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        usda.title = "changed"  # type: ignore[misc]


def test_privacy_path_does_not_match_unrelated_article() -> None:
    html = '<a href="/news/2024/privacy-act-changes-announced">Read the story</a>'
    assert parse_page(html, "https://x.gov/").required_links["privacy"] is None


def test_open_gov_path_match() -> None:
    html = '<a href="/open/">Data and transparency</a><a href="/opening-hours">Hours</a>'
    assert parse_page(html, "https://x.gov/").required_links["open_gov"] == "https://x.gov/open/"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000) | st.text(max_size=500).map(lambda t: f"<a href='{t}'>{t}</a>"))
def test_parse_page_never_raises(body: bytes | str) -> None:
    facts = parse_page(body, "https://www.example.gov/")
    assert all(link.startswith(("http://", "https://")) for link in facts.links)


def test_title_is_raw_text_as_a_browser_shows_it() -> None:
    """<title> is RCDATA: markup in it is its text (kept verbatim as evidence)."""
    hostile = b"<html><head><title><script>alert(1)</script></title></head><body>x</body></html>"
    assert parse_page(hostile, "https://x.gov/").title == "<script>alert(1)</script>"
    entity = b"<title>A &amp; B</title>"
    assert parse_page(entity, "https://x.gov/").title == "A & B"
    svg_first = b"<html><body><svg><title>icon</title></svg></body></html>"
    assert parse_page(svg_first, "https://x.gov/").title is None
