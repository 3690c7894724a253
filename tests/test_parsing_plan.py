"""Tests for crawler.parsing.plan: finding and reading Customer Service Plans."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.plan_text import check_elements, find_stated_date
from crawler.parsing.plan import (
    OpenGovExtras,
    extract_text,
    find_plan_candidates,
    open_gov_extras,
)

FIXTURES = Path(__file__).parent / "fixtures" / "html"
OPEN_URL = "https://www.ssa.gov/open/"
PATTERNS = [
    r"customer\s+service\s+plan",
    r"customer\s*service",
    r"EO\s*13571",
    r"Executive\s+Order\s+13571",
    r"customerserviceplan",
    r"signature\s+initiative",
]
ELEMENTS = {
    "signature_initiative": [r"signature\s+initiative"],
    "feedback_mechanisms": ["feedback", "survey", "comment"],
    "service_standards": [r"service\s+standards?", r"standards?\s+of\s+service"],
    "timeline": ["timeline", "timing", "milestones?", r"implementation\s+(?:plan|steps)"],
    "eo_13571_reference": [r"(?:executive\s+order|E\.?O\.?)\s*13571"],
    "performance_goals": [r"performance\s+goals?", "GPRA", r"performance\.gov"],
}


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- find_plan_candidates -------------------------------------------------------------------


def test_candidates_on_ssa_open_page() -> None:
    found = find_plan_candidates(load("ssa_open.html"), OPEN_URL, PATTERNS)
    urls = [c.url for c in found]
    assert urls[:2] == [
        "https://www.ssa.gov/open/customerserviceplan/",
        "https://www.ssa.gov/open/customerserviceplan/SSA-Customer-Service-Plan-2011.pdf",
    ]
    assert len(urls) == len(set(urls))
    first = found[0]
    assert first.match == PATTERNS[0]
    # The left-nav "Customer Service" link comes first in the document, but the
    # "Read our Customer Service Plan" link to the same URL matches the better pattern.
    assert first.text == "Read our Customer Service Plan"
    # The PDF's link text says nothing; its file name does.
    assert found[1].text == "Download the plan (PDF, 212 KB)"
    # Under the "Signature Initiative" heading: a heading-only match, ranked by its pattern.
    assert found[-1].url == "https://www.ssa.gov/myaccount/"
    assert found[-1].match == PATTERNS[5]
    assert "https://www.ssa.gov/open/data/" not in urls


def test_candidates_order_follows_pattern_order() -> None:
    html = (
        '<a href="/eo">EO 13571 implementation</a>'
        '<a href="/cs">Customer service</a>'
        '<a href="/plan">Our Customer Service Plan</a>'
    )
    found = find_plan_candidates(html, "https://x.gov/open", PATTERNS)
    assert [c.url for c in found] == ["https://x.gov/plan", "https://x.gov/cs", "https://x.gov/eo"]
    assert [c.match for c in found] == [PATTERNS[0], PATTERNS[1], PATTERNS[2]]


def test_candidate_by_title_attribute_and_self_links_dropped() -> None:
    html = (
        '<a href="#plan">Customer Service Plan (on this page)</a>'
        '<a href="/open">Customer Service Plan</a>'
        '<a href="docs/csp.pdf" title="Customer Service Plan (PDF)"><img src="pdf.gif"></a>'
        '<a href="javascript:openPlan()">Customer Service Plan</a>'
    )
    found = find_plan_candidates(html, "https://x.gov/open", PATTERNS)
    assert [c.url for c in found] == ["https://x.gov/docs/csp.pdf"]
    assert found[0].text == "Customer Service Plan (PDF)"


def test_candidates_uppercase_and_base_href() -> None:
    html = (
        '<HTML><HEAD><BASE HREF="https://www.example.gov/open/"></HEAD><BODY>'
        '<H3>Executive Order 13571</H3><A HREF="CSP_2011.pdf">Download</A></BODY></HTML>'
    )
    found = find_plan_candidates(html, "https://www.example.gov/open", PATTERNS)
    assert [(c.url, c.match) for c in found] == [
        ("https://www.example.gov/open/CSP_2011.pdf", PATTERNS[3])
    ]


def test_candidates_from_garbage() -> None:
    assert find_plan_candidates(b"", OPEN_URL, PATTERNS) == []
    assert find_plan_candidates(b"\x00\xff\xfe", OPEN_URL, PATTERNS) == []


def test_bad_pattern_is_a_configuration_error() -> None:
    with pytest.raises(re.error):
        find_plan_candidates(load("ssa_open.html"), OPEN_URL, ["customer(service"])


# --- extract_text -----------------------------------------------------------------------------


def test_html_text_drops_script_style_and_nav() -> None:
    body = load("ssa_customerserviceplan.html")
    extracted = extract_text(body, "text/html; charset=utf-8")
    assert extracted.kind == "html" and extracted.error is None
    assert "Published October 24, 2011" in extracted.text
    assert "var pageName" not in extracted.text
    assert "color: #003366" not in extracted.text
    # inline markup does not break the sentence across lines
    assert "signed Executive Order 13571, Streamlining Service Delivery" in extracted.text


def test_html_nav_element_dropped() -> None:
    body = b"<html><body><nav><a href='/'>Home</a> Menu</nav><p>Plan text</p></body></html>"
    assert extract_text(body, "text/html").text == "Plan text"


def test_pdf_plan_fixture() -> None:
    extracted = extract_text(load("customer_service_plan.pdf"), "application/pdf")
    assert extracted.kind == "pdf"
    assert extracted.error is None
    assert "Customer Service Plan" in extracted.text
    assert "Published October 24, 2011" in extracted.text
    assert "milestones for fiscal years 2012 and 2013" in extracted.text  # second page


def test_pdf_detected_by_magic_despite_content_type() -> None:
    extracted = extract_text(load("customer_service_plan.pdf"), "application/octet-stream")
    assert extracted.kind == "pdf" and "Executive Order 13571" in extracted.text
    assert extract_text(load("customer_service_plan.pdf"), "text/html").kind == "pdf"


def test_corrupt_pdf_gives_error_not_exception() -> None:
    extracted = extract_text(load("corrupt.pdf"), "application/pdf")
    assert extracted.kind == "pdf"
    assert extracted.text == ""
    assert extracted.error


def test_html_served_as_pdf() -> None:
    extracted = extract_text(b"<html><body>Not found</body></html>", "application/pdf")
    assert extracted.kind == "pdf" and extracted.error and extracted.text == ""


def test_max_chars() -> None:
    assert len(extract_text(load("customer_service_plan.pdf"), None, max_chars=50).text) == 50
    assert len(extract_text(b"x" * 1000, "text/plain", max_chars=10).text) == 10


@pytest.mark.parametrize(
    ("body", "content_type", "kind", "text", "fmt", "error"),
    [
        (b"Customer Service Plan\r\nIssued 2011", "text/plain", "text", "Customer", "text", None),
        (
            "Caf\xe9".encode("latin-1"),
            "text/plain; charset=iso-8859-1",
            "text",
            "Café",
            "text",
            None,
        ),
        ("Caf\xe9".encode("latin-1"), "text/plain", "text", "Café", "text", None),
        (b"\xef\xbb\xbfplain with BOM", None, "text", "plain with BOM", "text", None),
        (b"<!DOCTYPE html><p>sniffed</p>", None, "html", "sniffed", "html", None),
        (b"<frameset><frame src=a.html></frameset>", None, "html", "", "html", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", "other", "", "png", "PNG image"),
        (b"\x00\x01\x02\x03binary", None, "other", "", "binary", "unknown binary file"),
        (b"PK\x03\x04\x14\x00", "application/vnd.openxmlformats", "other", "", "zip", "ZIP"),
        (b"{}", "application/json", "other", "", "other", "application/json"),
        (b"", None, "other", "", "other", None),
        (b"", "text/html", "html", "", "html", None),
    ],
)
def test_extract_kinds(
    body: bytes, content_type: str | None, kind: str, text: str, fmt: str, error: str | None
) -> None:
    extracted = extract_text(body, content_type)
    assert (extracted.kind, extracted.format) == (kind, fmt)
    assert text in extracted.text
    if error is None:
        assert extracted.error is None
    else:
        assert extracted.error and error in extracted.error
        assert extracted.text == ""


# --- check_elements ---------------------------------------------------------------------------


def test_all_elements_found_in_ssa_plan() -> None:
    text = extract_text(load("ssa_customerserviceplan.html"), "text/html").text
    found = check_elements(text, ELEMENTS)
    assert set(found) == set(ELEMENTS)
    assert all(found.values()), found
    for snippet in found.values():
        assert snippet is not None and len(snippet) <= 170
        assert "\n" not in snippet and "  " not in snippet
    assert found["eo_13571_reference"] is not None
    assert "Executive Order 13571" in found["eo_13571_reference"]
    assert "Performance Goals" in (found["performance_goals"] or "")


def test_missing_element_is_none_and_pattern_order_matters() -> None:
    text = "We ran a survey. Later we asked for feedback."
    found = check_elements(text, {"feedback": ["feedback", "survey"], "x": ["timeline"]})
    assert found["x"] is None
    assert found["feedback"] == text  # short text: the whole of it
    long_text = ("filler words " * 40) + "our survey results" + (" more filler" * 40)
    snippet = check_elements(long_text, {"f": ["survey"]})["f"]
    assert snippet is not None and "survey" in snippet and len(snippet) <= 160
    assert not snippet.startswith(("iller", "ords")) and not snippet.endswith("fill")


def test_check_elements_empty_text() -> None:
    assert check_elements("", ELEMENTS) == dict.fromkeys(ELEMENTS)


# --- find_stated_date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Customer Service Plan\nPublished October 24, 2011\n", date(2011, 10, 24)),
        ("Issued: 10/24/2011", date(2011, 10, 24)),
        ("Date: 2011-10-24", date(2011, 10, 24)),
        # An update or review date is not the publication date.
        ("Updated September 2011", None),
        ("Page last reviewed: March 3, 2023", None),
        ("Released on Oct. 24th, 2011 by OMB", date(2011, 10, 24)),
        ("Dated 24 October 2011", date(2011, 10, 24)),
        ("Posted: Sept. 30, 2011", date(2011, 9, 30)),
        ("issued 10-24-11", date(2011, 10, 24)),
        # The citation of the Executive Order is not the plan's date.
        (
            "Executive Order 13571 of April 27, 2011 asks agencies to plan. Published "
            "October 24, 2011.",
            date(2011, 10, 24),
        ),
        ("Executive Order 13571 of April 27, 2011. Our plan, November 2011.", None),
        ("Meeting on March 3, 2011. Last updated: June 1, 2012", None),
        ("Revised 2012-02-30 then published 2012-03-01", date(2012, 3, 1)),
        ("Our plan for 2011", None),
        # A milestone is not a publication date.
        ("Plan of June 3, 2011. Milestone Target date Launch May 2012", None),
        ("Signature initiative: launch by December 2012", None),
        ("13571", None),
        ("", None),
        ("Published 13/45/2011", None),
    ],
)
def test_find_stated_date(text: str, expected: date | None) -> None:
    assert find_stated_date(text) == expected


def test_stated_date_from_pdf_and_html() -> None:
    pdf = extract_text(load("customer_service_plan.pdf"), "application/pdf").text
    html = extract_text(load("ssa_customerserviceplan.html"), "text/html").text
    assert find_stated_date(pdf) == date(2011, 10, 24)
    assert find_stated_date(html) == date(2011, 10, 24)


# --- open_gov_extras --------------------------------------------------------------------------


def test_ssa_open_extras() -> None:
    extras = open_gov_extras(load("ssa_open.html"), OPEN_URL)
    assert extras == OpenGovExtras(
        open_gov_plan_url="https://www.ssa.gov/open/Open_Government_Plan_2.0.pdf",
        # "Give Us Feedback" beats the earlier, generic "Contact Us" and the mailto: link.
        feedback_url="https://www.ssa.gov/open/feedback/",
    )


def test_feedback_by_form_then_mailto_then_contact() -> None:
    form = (
        '<a href="/contact">Contact Us</a><a href="mailto:open@x.gov">open@x.gov</a>'
        '<form action="/open/submit" method="post"><textarea name="idea"></textarea></form>'
    )
    assert open_gov_extras(form, "https://x.gov/open").feedback_url == "https://x.gov/open/submit"
    mailto = '<a href="/contact">Contact Us</a><a href="mailto:open@x.gov">open@x.gov</a>'
    assert open_gov_extras(mailto, "https://x.gov/open").feedback_url == "mailto:open@x.gov"
    contact = '<a href="/contact">Contact Us</a><form role="search"><input name="q"></form>'
    assert open_gov_extras(contact, "https://x.gov/open").feedback_url == "https://x.gov/contact"


def test_feedback_mailto_with_feedback_words_beats_form() -> None:
    html = (
        '<form action="/x"><textarea></textarea></form>'
        '<a href="mailto:opengov@x.gov?subject=Feedback">Send us feedback</a>'
    )
    extras = open_gov_extras(html, "https://x.gov/open")
    assert extras.feedback_url == "mailto:opengov@x.gov?subject=Feedback"


def test_open_gov_plan_by_url_only() -> None:
    html = '<a href="/open/docs/open-government-plan-v3.pdf">Version 3 (PDF)</a>'
    extras = open_gov_extras(html, "https://x.gov/open/")
    assert extras.open_gov_plan_url == "https://x.gov/open/docs/open-government-plan-v3.pdf"
    assert extras.feedback_url is None


def test_open_gov_extras_garbage() -> None:
    assert open_gov_extras(b"", OPEN_URL) == OpenGovExtras(None, None)
    assert open_gov_extras(b"\xff\x00<a href=", OPEN_URL) == OpenGovExtras(None, None)


@settings(max_examples=100, deadline=None)
@given(
    st.binary(max_size=3000),
    st.sampled_from([None, "text/html", "application/pdf", "text/plain", "image/gif"]),
)
def test_extract_text_never_raises(body: bytes, content_type: str | None) -> None:
    extracted = extract_text(body, content_type)
    assert extracted.kind in ("html", "pdf", "docx", "doc", "rtf", "text", "other")
    assert extracted.error is None or extracted.text == "" or extracted.kind == "pdf"
    find_stated_date(extracted.text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600).map(lambda b: b"%PDF-1.4\n" + b))
def test_damaged_pdf_never_raises(body: bytes) -> None:
    assert extract_text(body, "application/pdf").kind == "pdf"
