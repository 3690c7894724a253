"""Plans govaudit must not call absent (issue 26): documents in other formats (Word, RTF, a PDF
without a text layer, a damaged PDF, a PDF served as application/octet-stream), /open pages
that are a meta refresh, and plan links shown in frames.

Three parts:

* the parsing functions on bytes made here (python-docx, simweb/office.py and simweb/pdf.py
  write the documents, so no opaque binary is kept);
* the real OpenPagesSpider driven offline on saved pages (tests/test_open_pages.py's
  `drive`), one test per shape and its neighbours;
* an integration test (`-m integration`): a small world of the simulated web, one agency per
  shape, crawled through the proxy, audited, exported, re-judged under another policy with
  `govaudit audit --policy` without a crawl, and rendered as a report.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from audit.policy_file import load_policy
from crawler.parsing.document_text import sniff_format
from crawler.parsing.plan import extract_text, find_frames
from crawler.parsing.word97 import Word97Error, word97_text
from simweb.office import make_doc, make_docx, make_rtf
from simweb.pdf import make_pdf, make_scanned_pdf
from tests.test_open_pages import drive, ok, page, plan_html, standard_site

FIXTURES = Path(__file__).parent / "fixtures" / "html"
PLANS = load_policy().section("plans")
REQUIRED = list(PLANS["required_elements"])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OCTET = "application/octet-stream"

# A plan with the six elements of the shipped policy, as lines of a document.
PLAN_LINES = [
    "# Customer Service Plan",
    "Published October 24, 2011",
    "This plan responds to Executive Order 13571, Streamlining Service Delivery.",
    "# Signature Initiative",
    "Online statements for every retiree.",
    "# Customer Feedback",
    "We run online surveys after each visit.",
    "# Service Standards",
    "We answer calls within 5 minutes.",
    "# Timing",
    "Launch in fiscal year 2012.",
    "# Performance Goals",
    "Measured under the GPRA Modernization Act.",
]
UNREAD_SCANNED = "PDF without a text layer (a scanned image?)"


# ============================================================================================
# Parsing functions on bytes
# ============================================================================================


@pytest.mark.parametrize(
    ("body", "content_type", "fmt"),
    [
        (make_pdf(["x"]), OCTET, "pdf"),
        (b"junk before " + make_pdf(["x"]), "text/html", "pdf"),
        (make_docx(["x"]), OCTET, "docx"),
        (make_docx(["x"]), "application/msword", "docx"),
        (make_doc(["x"]), OCTET, "doc"),
        (make_doc(["x"]), None, "doc"),
        (make_rtf(["x"]), "application/msword", "rtf"),
        (b"  {\\rtf1 x}", OCTET, "rtf"),
        (b"PK\x03\x04 not a zip", OCTET, "zip"),
        (bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 600, OCTET, "ole"),
        (b"<!doctype html><p>x</p>", OCTET, "html"),
        (b"plain words", OCTET, "text"),
        (b"\x00\x01binary", OCTET, "binary"),
        (b"anything", DOCX, "docx"),
        (b"anything", "application/rtf; charset=x", "rtf"),
        (b"", None, "other"),
    ],
)
def test_format_is_taken_from_the_bytes_first(body: bytes, content_type: str, fmt: str) -> None:
    assert sniff_format(body, content_type) == fmt


def test_docx_written_by_python_docx_is_read_with_every_element() -> None:
    from audit.plan_text import check_elements, find_stated_date

    extracted = extract_text(make_docx(PLAN_LINES), OCTET)
    assert (extracted.kind, extracted.format, extracted.error) == ("docx", "docx", None)
    assert extracted.text.splitlines()[:2] == [
        "Customer Service Plan",
        "Published October 24, 2011",
    ]
    found = check_elements(extracted.text, PLANS["elements"])
    assert all(found[name] for name in REQUIRED), found
    assert str(find_stated_date(extracted.text)) == "2011-10-24"


def test_docx_tables_and_tabs_are_text() -> None:
    from docx import Document

    document = Document()
    document.add_paragraph("Service\tStandards")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Signature Initiative"
    table.cell(0, 1).text = "Timeline"
    out = io.BytesIO()
    document.save(out)
    text = extract_text(out.getvalue(), DOCX).text
    assert text.splitlines() == ["Service Standards", "Signature Initiative", "Timeline"]


def test_docx_damaged_empty_or_too_large_is_not_read() -> None:
    good = make_docx(PLAN_LINES)
    damaged = extract_text(good[: len(good) // 2], DOCX)
    assert damaged.kind == "docx" and damaged.text == ""
    assert damaged.error and damaged.error.startswith("damaged Word file (.docx)")
    empty = extract_text(make_docx([]), DOCX)
    assert empty.error == "Word file (.docx) without text (images only?)"
    # A small ZIP that unpacks to more than 64 MiB is refused before it is unpacked.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<" + b" " * (65 * 1024 * 1024))
    assert len(bomb.getvalue()) < 1024 * 1024
    refused = extract_text(bomb.getvalue(), OCTET)
    assert (refused.format, refused.error) == ("docx", "Word file (.docx) too large once unpacked")


def test_word97_doc_is_read_through_its_piece_table() -> None:
    body = make_doc([*PLAN_LINES, "Café, “quotes” — dash"])
    extracted = extract_text(body, "application/msword")
    assert (extracted.kind, extracted.format, extracted.error) == ("doc", "doc", None)
    lines = extracted.text.splitlines()
    assert lines[0] == "Customer Service Plan"
    assert lines[-1] == "Café, “quotes” — dash"
    assert "Executive Order 13571" in extracted.text


def test_word97_fields_keep_their_result_and_controls_become_text() -> None:
    from crawler.parsing.word97 import _clean

    raw = 'See \x13 HYPERLINK "http://x.gov" \x14our plan\x15 now\x07cell\rnext\x0bline\x1f'
    assert _clean(raw) == "See our plan now\tcell\nnext\nline"
    nested = "a\x13 IF \x13 PAGE \x141\x15 \x14shown\x15b"
    assert _clean(nested) == "ashownb"


def test_word97_encrypted_old_or_damaged_says_why() -> None:
    body = bytearray(make_doc(["secret"]))
    word_at = 512 + 512 * 2  # header, FAT sector, directory sector: then WordDocument
    (flags,) = struct.unpack_from("<H", body, word_at + 0x0A)
    struct.pack_into("<H", body, word_at + 0x0A, flags | 0x0100)
    with pytest.raises(Word97Error, match="encrypted"):
        word97_text(bytes(body))
    assert extract_text(bytes(body), OCTET).error == (
        "unreadable Word 97-2003 file (.doc): encrypted (password-protected)"
    )
    struct.pack_into("<H", body, word_at + 2, 0x0065)  # nFib of Word 6
    struct.pack_into("<H", body, word_at + 0x0A, flags)
    with pytest.raises(Word97Error, match="Word 6/95"):
        word97_text(bytes(body))
    cut = make_doc(["x"])[:1500]
    assert extract_text(cut, "application/msword").error.startswith(
        "unreadable Word 97-2003 file (.doc)"
    )


def test_rtf_is_read_with_its_escapes() -> None:
    extracted = extract_text(
        make_rtf(["# Customer Service Plan", "Signature {Initiative} é"]), OCTET
    )
    assert (extracted.kind, extracted.error) == ("rtf", None)
    assert extracted.text.splitlines()[:2] == ["Customer Service Plan", "Signature {Initiative} é"]


def test_pdf_without_text_layer_damaged_or_mislabelled() -> None:
    scanned = extract_text(make_scanned_pdf(3), "application/pdf")
    assert (scanned.kind, scanned.text, scanned.error) == ("pdf", "", UNREAD_SCANNED)
    corrupt = extract_text((FIXTURES / "corrupt.pdf").read_bytes(), "application/pdf")
    assert corrupt.text == "" and corrupt.error and corrupt.error.startswith("damaged PDF")
    octet = extract_text(make_pdf(PLAN_LINES), OCTET)
    assert (octet.kind, octet.error) == ("pdf", None) and "Signature Initiative" in octet.text


def test_binary_document_over_the_size_bound_is_not_read_and_says_so() -> None:
    body = make_pdf(PLAN_LINES * 40)
    over = extract_text(body, "application/pdf", max_bytes=len(body) - 1)
    assert (over.kind, over.text) == ("pdf", "")
    assert over.error == f"larger than the {len(body) - 1} bytes read limit: not read"
    html = b"<p>Customer Service Plan</p>" + b"<p>more</p>" * 100
    cut = extract_text(html, "text/html", max_bytes=40)
    assert cut.error is None and cut.text.startswith("Customer Service Plan")


@pytest.mark.parametrize(
    ("body", "frames"),
    [
        ('<iframe src="/open/list.html"></iframe>', ["https://www.a.gov/open/list.html"]),
        (
            '<frameset><frame src="nav.html"><frame src="main.cfm"></frameset>',
            ["https://www.a.gov/open/nav.html", "https://www.a.gov/open/main.cfm"],
        ),
        ('<noscript><iframe src="/ns"></iframe></noscript>', []),
        ('<iframe src="/open/"></iframe><iframe src="javascript:0"></iframe>', []),
        (
            '<iframe src="https://www.youtube.com/embed/x"></iframe>',
            ["https://www.youtube.com/embed/x"],
        ),
        ('<iframe src="/a"></iframe><iframe src="/a#top"></iframe>', ["https://www.a.gov/a"]),
    ],
)
def test_find_frames(body: str, frames: list[str]) -> None:
    assert find_frames(f"<html><body>{body}</body></html>", "https://www.a.gov/open/") == frames


# ============================================================================================
# The spider on saved pages, offline
# ============================================================================================


def open_linking(link: str, text: str = "Customer Service Plan") -> dict[str, Any]:
    return ok(page("Open Government", f'<p>Our plan:</p><a href="{link}">{text}</a>'))


def test_docx_plan_is_published_and_judged_on_its_elements() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": open_linking(
            "/open/csp-2011.docx", "Customer Service Plan (Word)"
        ),
        "https://www.alpha.gov/open/csp-2011.docx": ok(make_docx(PLAN_LINES), DOCX),
    }
    check, blobs, _ = drive(pages)
    assert check["status"] == "published", check["reason"]
    assert check["plan_url"] == "https://www.alpha.gov/open/csp-2011.docx"
    assert check["reason"] == "the plan has every required element"
    assert all(check["elements"][name] for name in REQUIRED)
    assert check["evidence"]["plan_format"] == "docx"
    assert check["evidence"]["unread_documents"] == []
    assert str(check["stated_date"]) == "2011-10-24"
    assert any(b["url"].endswith(".docx") for b in blobs)


def test_docx_plan_missing_elements_is_incomplete() -> None:
    lines = [line for line in PLAN_LINES if "Timing" not in line and "fiscal" not in line]
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": open_linking("/open/plan.docx"),
        "https://www.alpha.gov/open/plan.docx": ok(make_docx(lines), OCTET),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "incomplete"
    assert check["extras"]["missing"] == ["timeline"]


@pytest.mark.parametrize(
    ("name", "body", "ctype"),
    [
        ("plan.doc", make_doc(PLAN_LINES), "application/msword"),
        ("plan.rtf", make_rtf(PLAN_LINES), "application/rtf"),
        ("plan.pdf", make_pdf(PLAN_LINES), OCTET),
        ("plan.txt", "\n".join(PLAN_LINES).encode(), "text/plain"),
    ],
)
def test_other_readable_formats_are_judged_on_their_elements(
    name: str, body: bytes, ctype: str
) -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": open_linking(f"/open/{name}"),
        f"https://www.alpha.gov/open/{name}": ok(body, ctype),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "published", check["reason"]
    assert all(check["elements"][n] for n in REQUIRED)


@pytest.mark.parametrize(
    ("body", "ctype", "reason"),
    [
        (make_scanned_pdf(2), "application/pdf", UNREAD_SCANNED),
        ((FIXTURES / "corrupt.pdf").read_bytes(), "application/pdf", "damaged PDF"),
        (make_scanned_pdf(1), OCTET, UNREAD_SCANNED),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", "unread format (PNG image)"),
    ],
)
def test_named_plan_that_cannot_be_read_is_published_with_elements_unknown(
    body: bytes, ctype: str, reason: str
) -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": open_linking("/open/document-7.pdf"),
        "https://www.alpha.gov/open/document-7.pdf": ok(body, ctype),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "published"
    assert check["reason"].startswith(f"elements: couldn't check, {reason}")
    assert check["plan_url"] == "https://www.alpha.gov/open/document-7.pdf"
    assert check["extras"]["missing"] == []
    assert check["extras"]["elements_unread"].startswith(reason)
    assert set(check["elements"]) == set(REQUIRED)
    assert all(v is None for v in check["elements"].values())
    (unread,) = check["evidence"]["unread_documents"]
    assert unread["url"] == "https://www.alpha.gov/open/document-7.pdf"
    assert unread["names_plan"] is True and unread["reason"].startswith(reason)


def test_unread_plan_wins_over_an_incomplete_page_beside_it() -> None:
    """/open itself holds three elements (an inline plan, incomplete), and links the real plan
    as a scanned PDF: the plan is published with its elements unknown, not incomplete."""
    inline = plan_html(skip=("service_standards", "timeline", "performance_goals"))
    body = inline.replace(
        b"</body>", b'<a href="/open/scan.pdf">Customer Service Plan (PDF)</a></body>'
    )
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(body),
        "https://www.alpha.gov/open/scan.pdf": ok(make_scanned_pdf(), "application/pdf"),
    }
    check, _, _ = drive(pages)
    assert (check["status"], check["plan_url"]) == (
        "published",
        "https://www.alpha.gov/open/scan.pdf",
    )
    # A complete readable plan beside an unreadable one is judged on its own elements.
    pages["https://www.alpha.gov/open"] = ok(
        plan_html().replace(b"</body>", b'<a href="/open/scan.pdf">Customer Service Plan</a>')
    )
    check, _, _ = drive(pages)
    assert check["status"] == "published"
    assert check["plan_url"] == "https://www.alpha.gov/open"
    assert check["reason"] == "the plan has every required element"


def test_unnamed_candidate_that_cannot_be_read_is_couldnt_check_not_no_plan() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": open_linking("/open/eo-13571.pdf", "EO 13571"),
        "https://www.alpha.gov/open/eo-13571.pdf": ok(make_scanned_pdf(), "application/pdf"),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "unreachable"
    assert check["reason"] == (
        f"couldn't check: a candidate document could not be read: {UNREAD_SCANNED}"
    )
    assert check["evidence"]["unread_documents"][0]["names_plan"] is False
    # The same link to a readable page without plan elements is no plan.
    pages["https://www.alpha.gov/open/eo-13571.pdf"] = ok(make_pdf(["A speech."]), OCTET)
    check, _, _ = drive(pages)
    assert check["status"] == "no-plan"


@pytest.mark.parametrize(
    "content",
    [
        "0; URL=/open/index.cfm",
        "5;url='/open/index.cfm'",
        '30; URL="https://www.alpha.gov/open/index.cfm"',
        "2,/open/index.cfm",
        "  7 ;  Url = '/open/index.cfm",
    ],
)
def test_open_page_that_is_a_meta_refresh_is_followed_whatever_its_delay(content: str) -> None:
    quote = "'" if '"' in content else '"'
    refresh = f"<html><head><meta http-equiv=Refresh content={quote}{content}{quote}></head></html>"
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(refresh.encode()),
        "https://www.alpha.gov/open/index.cfm": open_linking("/open/plan.html"),
        "https://www.alpha.gov/open/plan.html": ok(plan_html()),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "published", check["reason"]
    assert check["open_page_url"] == "https://www.alpha.gov/open/index.cfm"
    assert check["evidence"]["open_redirect_chain"] == [
        {
            "url": "https://www.alpha.gov/open",
            "status": "meta-refresh",
            "location": "https://www.alpha.gov/open/index.cfm",
        }
    ]


def test_refresh_header_and_a_plan_page_that_refreshes_are_followed() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": {
            **open_linking("/open/plan"),
            "headers": {"Refresh": "3; url=/open/new"},
        },
        "https://www.alpha.gov/open/new": open_linking("/open/plan"),
        "https://www.alpha.gov/open/plan": ok(
            b'<meta http-equiv="refresh" content="10;URL=/open/plan-2011.html">Moved'
        ),
        "https://www.alpha.gov/open/plan-2011.html": ok(plan_html()),
    }
    check, _, _ = drive(pages)
    assert check["open_page_url"] == "https://www.alpha.gov/open/new"
    assert check["evidence"]["open_redirect_chain"][0]["status"] == "refresh-header"
    assert check["status"] == "published"
    assert check["plan_url"] == "https://www.alpha.gov/open/plan"
    visit = next(v for v in check["evidence"]["visits"] if v["url"].endswith("/open/plan"))
    assert visit["final_url"] == "https://www.alpha.gov/open/plan-2011.html"
    assert visit["chain"][0]["status"] == "meta-refresh"


def test_refresh_loop_is_bounded() -> None:
    loop = {
        f"https://www.alpha.gov/open/{i}": ok(
            f'<meta http-equiv="refresh" content="0;url=/open/{1 - i}">'.encode()
        )
        for i in (0, 1)
    }
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(b'<meta http-equiv="refresh" content="1;url=/open/0">'),
        **loop,
    }
    check, _, asked = drive(pages)
    assert len(asked) < 60
    tries = {t["url"]: t for t in check["evidence"]["open_tries"]}
    assert tries["https://www.alpha.gov/open"]["verdict"] == "error:other"
    assert check["status"] == "unreachable"


def test_plan_link_inside_a_same_site_frame_is_found() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(
            page("Open Government", '<h1>Open</h1><iframe src="/open/doclist.aspx"></iframe>')
        ),
        "https://www.alpha.gov/open/doclist.aspx": open_linking("/open/docs/csp.pdf"),
        "https://www.alpha.gov/open/docs/csp.pdf": ok(make_pdf(PLAN_LINES), "application/pdf"),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "published", check["reason"]
    assert check["plan_url"] == "https://www.alpha.gov/open/docs/csp.pdf"
    (frame,) = check["evidence"]["frames"]
    assert frame == {
        "url": "https://www.alpha.gov/open/doclist.aspx",
        "from": "https://www.alpha.gov/open",
        "level": 1,
        "followed": True,
    }
    candidate = next(c for c in check["extras"]["candidates"] if c["url"].endswith("csp.pdf"))
    assert (candidate["from"], candidate["depth"]) == (frame["url"], 1)


def test_plan_page_showing_the_document_in_a_frame() -> None:
    """The link names the plan; its page shows the PDF in an <iframe>: the frame is the plan,
    named by the link that led to its page."""
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": open_linking("/open/csp"),
        "https://www.alpha.gov/open/csp": ok(
            page("Plan", '<iframe src="/files/2011-10-24.pdf" width="100%"></iframe>')
        ),
        "https://www.alpha.gov/files/2011-10-24.pdf": ok(make_scanned_pdf(), "application/pdf"),
    }
    check, _, _ = drive(pages)
    assert check["status"] == "published"
    assert check["plan_url"] == "https://www.alpha.gov/files/2011-10-24.pdf"
    assert check["reason"] == f"elements: couldn't check, {UNREAD_SCANNED}"


def test_off_site_frame_is_recorded_not_fetched_and_is_couldnt_check() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(
            page("Open", '<iframe src="https://cms.example.com/alpha/open"></iframe>')
        ),
        "https://cms.example.com/alpha/open": open_linking("/plan.pdf"),
    }
    check, _, asked = drive(pages)
    assert not any("example.com" in url for url in asked)
    (frame,) = check["evidence"]["frames"]
    assert frame["followed"] is False and frame["why"] == "outside the agency's domains"
    assert check["status"] == "unreachable"
    assert check["reason"] == (
        "couldn't check: /open or the plan page shows a frame from cms.example.com, outside "
        "the agency's domains, which the crawler does not fetch"
    )
    assert any("cms.example.com" in note for note in check["evidence"]["notes"])
    # Beside a plan found on the site, the off-site frame changes nothing.
    pages["https://www.alpha.gov/open"] = ok(
        page(
            "Open",
            '<iframe src="https://www.youtube.com/embed/x"></iframe>'
            '<a href="/open/plan">Customer Service Plan</a>',
        )
    )
    pages["https://www.alpha.gov/open/plan"] = ok(plan_html())
    check, _, _ = drive(pages)
    assert check["status"] == "published"


def test_frames_nested_in_a_loop_are_bounded() -> None:
    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": ok(page("Open", '<iframe src="/f/1"></iframe>')),
        **{
            f"https://www.alpha.gov/f/{i}": ok(
                page(f"F{i}", f'<iframe src="/f/{i + 1}"></iframe><p>frame {i}</p>')
            )
            for i in range(1, 10)
        },
    }
    check, _, asked = drive(pages)
    fetched = [url for url in asked if "/f/" in url]
    assert fetched == ["https://www.alpha.gov/f/1", "https://www.alpha.gov/f/2"]
    deep = [f for f in check["evidence"]["frames"] if not f["followed"]]
    assert deep == [
        {
            "url": "https://www.alpha.gov/f/3",
            "from": "https://www.alpha.gov/f/2",
            "level": 3,
            "followed": False,
            "why": "frames nested too deep",
        }
    ]


def test_script_only_open_page_stays_couldnt_check() -> None:
    shell = (
        b'<!doctype html><html><head><title>Alpha</title><script src="/app.js"></script>'
        b'</head><body><div id="root"></div></body></html>'
    )
    check, _, _ = drive(standard_site("alpha.gov", shell), catch_all=ok(shell))
    assert check["status"] == "unreachable"
    assert check["reason"].startswith("script-only page: ")


def test_no_reason_is_a_list_of_urls() -> None:
    """Reasons are sentences; the URLs and answers are in the evidence."""
    checks = [
        drive(standard_site("alpha.gov"))[0],
        drive(
            {
                **standard_site("alpha.gov"),
                "https://www.alpha.gov/open": open_linking("/open/csp.pdf"),
            }
        )[0],
    ]
    for check in checks:
        assert not re.search(r"https?://\S+: ", check["reason"]), check["reason"]
        assert check["evidence"]["visits"]
    assert checks[1]["reason"] == "the plan link answers 404"
    assert checks[1]["evidence"]["dead_links"][0]["url"] == "https://www.alpha.gov/open/csp.pdf"


def test_exported_elements_of_an_unread_plan_are_null_not_false() -> None:
    from audit.plan_rows import plan_row

    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": open_linking("/open/plan.pdf"),
        "https://www.alpha.gov/open/plan.pdf": ok(make_scanned_pdf(), "application/pdf"),
    }
    check, _, _ = drive(pages)
    row = plan_row({**check, "run_id": 1}, None, None)
    assert row["elements"] == dict.fromkeys(REQUIRED)
    assert row["missing_elements"] == []
    assert row["evidence"]["elements_unread"] == UNREAD_SCANNED
    json.dumps(row, default=str)


# ============================================================================================
# Integration: each shape on the simulated web, audited, re-judged without a crawl, reported
# ============================================================================================

HOME = "<html><head><title>{t}</title></head><body><p>{t} serves the public.</p></body></html>"


def open_page(body: str) -> dict[str, str]:
    return {"body": f"<html><head><title>Open Government</title></head><body>{body}</body></html>"}


def link(href: str, text: str = "Customer Service Plan") -> str:
    return f'<h1>Open Government</h1><p><a href="{href}">{text}</a></p>'


PLAN_HTML = (
    "<html><head><title>Customer Service Plan</title></head><body>"
    + "".join(
        f"<h2>{line[2:]}</h2>" if line.startswith("# ") else f"<p>{line}</p>" for line in PLAN_LINES
    )
    + "</body></html>"
)

# domain -> (pages of the site, expected status, expected reason (regex))
SHAPES: dict[str, tuple[dict[str, Any], str, str]] = {
    "refresh.gov": (
        {
            "/open": {"body": "<meta http-equiv=refresh content=\"5; URL='/open/index.cfm'\">"},
            "/open/index.cfm": open_page(link("/open/customer-service-plan.html")),
            "/open/customer-service-plan.html": {"body": PLAN_HTML},
        },
        "published",
        "the plan has every required element",
    ),
    "frames.gov": (
        {
            "/open": open_page('<h1>Open</h1><iframe src="/open/documents.aspx"></iframe>'),
            "/open/documents.aspx": open_page(link("/open/docs/csp.pdf")),
            "/open/docs/csp.pdf": {"pdf_text": PLAN_LINES},
        },
        "published",
        "the plan has every required element",
    ),
    "offframe.gov": (
        {"/open": open_page('<iframe src="https://cms.example.com/offframe/open"></iframe>')},
        "unreachable",
        re.escape(
            "couldn't check: /open or the plan page shows a frame from cms.example.com, "
            "outside the agency's domains, which the crawler does not fetch"
        ),
    ),
    "docx.gov": (
        {
            "/open": open_page(link("/open/csp-2011.docx", "Customer Service Plan (Word)")),
            "/open/csp-2011.docx": {"docx_text": PLAN_LINES},
        },
        "published",
        "the plan has every required element",
    ),
    "worddoc.gov": (
        {
            "/open": open_page(link("/open/CustomerServicePlan.doc", "Our plan (Word 97)")),
            "/open/CustomerServicePlan.doc": {"doc_text": PLAN_LINES},
        },
        "published",
        "the plan has every required element",
    ),
    "rtf.gov": (
        {
            "/open": open_page(link("/open/plan.rtf")),
            "/open/plan.rtf": {"rtf_text": PLAN_LINES, "content_type": "application/msword"},
        },
        "published",
        "the plan has every required element",
    ),
    "octet.gov": (
        {
            "/open": open_page(link("/open/download.aspx?id=7")),
            "/open/download.aspx": {"pdf_text": PLAN_LINES, "content_type": OCTET},
        },
        "published",
        "the plan has every required element",
    ),
    "scanned.gov": (
        {
            "/open": open_page(link("/open/csp-signed.pdf", "Customer Service Plan (PDF)")),
            "/open/csp-signed.pdf": {"scanned_pdf": 2},
        },
        "published",
        re.escape(f"elements: couldn't check, {UNREAD_SCANNED}"),
    ),
    "corrupt.gov": (
        {
            "/open": open_page(link("/open/csp.pdf")),
            "/open/csp.pdf": {
                "text": "%PDF-1.4\n1 0 obj garbage",
                "content_type": "application/pdf",
            },
        },
        "published",
        r"elements: couldn't check, damaged PDF \(.+\)",
    ),
    "flaky.gov": (
        {
            "/open": open_page(link("/open/customer-service-plan.pdf")),
            "/open/customer-service-plan.pdf": {"status": 503, "body": "Try again later"},
        },
        "unreachable",
        re.escape("the plan link answered 503 three times, so the plan could not be checked"),
    ),
    "unnamed.gov": (
        {
            "/open": open_page(link("/open/eo13571.pdf", "Executive Order 13571")),
            "/open/eo13571.pdf": {"scanned_pdf": 1},
        },
        "unreachable",
        re.escape(f"couldn't check: a candidate document could not be read: {UNREAD_SCANNED}"),
    ),
}


def shape_sites() -> dict[str, dict[str, Any]]:
    sites: dict[str, dict[str, Any]] = {
        "cms": {"hosts": ["cms.example.com"], "catch_all": open_page(link("/plan.html"))}
    }
    for domain, (pages, _, _) in SHAPES.items():
        name = domain.split(".")[0]
        sites[name] = {
            "hosts": [domain, f"www.{domain}"],
            "https_redirect": True,
            "redirect_host": {domain: f"www.{domain}"},
            "pages": {"/": {"body": HOME.format(t=name.title() + " Agency")}, **pages},
        }
    return sites


@pytest.mark.integration
def test_each_shape_on_the_simulated_web_then_rejudged_without_a_crawl(tmp_path: Path) -> None:
    from simweb.server import SimulatedWeb
    from tests.crawl_world import export, govaudit, registry_csv
    from tests.simweb_plugin import write_sites

    folder = write_sites(tmp_path / "world", shape_sites())
    agencies = tmp_path / "agencies.csv"
    agencies.write_text(
        "agency,slug,primary_domain,source\n"
        + "".join(f"{d.split('.')[0].title()} Agency,{d.split('.')[0]},{d},test\n" for d in SHAPES),
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path}/shapes.db"
    registry = registry_csv(tmp_path / "registry-2026-01-01.csv", sorted(SHAPES))
    common = ("--agencies", str(agencies))
    with SimulatedWeb.from_directory(folder) as web:
        govaudit(None, db, "inventory", "load", str(registry))
        govaudit(web, db, *common, "crawl", "--only", "open", "--workers", "1", "--timeout", "5")
        assert web.requests("cms.example.com") == []  # the off-site frame: recorded only
        crawled = len(web.requests())
        rows = {r["domain"]: r for r in export(web, db, "plans")}
        govaudit(None, db, *common, "audit")
        findings = export(None, db, "findings")

        for domain, (_, status, reason) in SHAPES.items():
            row = rows[domain]
            assert row["status"] == status, (domain, row["status_reason"])
            assert re.fullmatch(reason, row["status_reason"]), (domain, row["status_reason"])
        # Evidence of each shape.
        refresh = rows["refresh.gov"]
        assert refresh["open_page_url"] == "https://www.refresh.gov/open/index.cfm"
        assert refresh["evidence"]["open_redirect_chain"][-1]["status"] == "meta-refresh"
        frames = rows["frames.gov"]["evidence"]["frames"]
        assert [(f["url"], f["followed"]) for f in frames] == [
            ("https://www.frames.gov/open/documents.aspx", True)
        ]
        off = rows["offframe.gov"]["evidence"]["frames"]
        assert [(f["url"], f["followed"]) for f in off] == [
            ("https://cms.example.com/offframe/open", False)
        ]
        for domain in ("docx.gov", "worddoc.gov", "rtf.gov", "octet.gov"):
            assert rows[domain]["elements"] == dict.fromkeys(REQUIRED, True), domain
        assert rows["docx.gov"]["plan_content_type"] == DOCX
        assert rows["docx.gov"]["evidence"]["plan_format"] == "docx"
        assert rows["rtf.gov"]["evidence"]["plan_format"] == "rtf"
        assert rows["octet.gov"]["evidence"]["plan_format"] == "pdf"
        assert rows["docx.gov"]["stated_date"] == "2011-10-24"
        for domain in ("scanned.gov", "corrupt.gov"):
            row = rows[domain]
            assert row["elements"] == dict.fromkeys(REQUIRED) and row["missing_elements"] == []
            assert row["plan_url"] and row["evidence"]["unread_documents"][0]["names_plan"]
            assert row["late"] is None
        by_rule: dict[str, set[str]] = {}
        for f in findings:
            by_rule.setdefault(f["rule"], set()).add(f["domain"])
        assert not by_rule.get("plan-missing") and not by_rule.get("plan-incomplete")
        assert not by_rule.get("open-page-missing")
        assert by_rule["site-unreachable"] == {"offframe.gov", "unnamed.gov", "flaky.gov"}

        # Another policy (a timeline must be a Gantt chart), the same stored observations:
        # the readable plans are judged on their elements again; the unread stay unknown.
        other = tmp_path / "other.toml"
        other.write_text('[plans.elements]\ntimeline = ["gantt\\\\s+chart"]\n', encoding="utf-8")
        govaudit(None, db, *common, "audit", "--policy", str(other))
        out = govaudit(None, db, "--policy", str(other), "export", "plans", "--format", "json")
        rejudged = {r["domain"]: r for r in json.loads(out.stdout)}
        incomplete = {d for d, r in rejudged.items() if r["status"] == "incomplete"}
        assert incomplete == {
            "refresh.gov",
            "frames.gov",
            "docx.gov",
            "worddoc.gov",
            "rtf.gov",
            "octet.gov",
        }
        assert rejudged["docx.gov"]["missing_elements"] == ["timeline"]
        for domain in ("scanned.gov", "corrupt.gov"):
            assert rejudged[domain]["status"] == "published"
        assert rejudged["unnamed.gov"]["status"] == "unreachable"
        assert rejudged["flaky.gov"]["status"] == "unreachable"
        findings = export(None, db, "findings", "--rule", "plan-incomplete")
        assert {f["domain"] for f in findings} == incomplete
        assert len(web.requests()) == crawled  # judged again without a crawl

        # The report says which plan documents could not be read, and why.
        report = tmp_path / "report"
        govaudit(None, db, *common, "report", "--out", str(report))
        about = (report / "about.html").read_text(encoding="utf-8")
        unread = about.split('id="unread-plan-documents"', 1)[1].split("</ul>", 1)[0]
        assert "https://www.scanned.gov/open/csp-signed.pdf" in unread
        assert UNREAD_SCANNED in unread and "damaged PDF" in unread
        assert "https://www.unnamed.gov/open/eo13571.pdf" in unread
        assert "docx.gov" not in unread
        plans = (report / "plans.html").read_text(encoding="utf-8")
        scanned_row = plans.split('data-agency="Scanned Agency"', 1)[1].split("</tr>", 1)[0]
        assert "elements could not be read" in scanned_row


def test_word_plan_stored_before_formats_were_read_is_rejudged_as_couldnt_check() -> None:
    """A crawl made before revision 0004pf kept a .docx with no text, no error and no format:
    `govaudit audit` re-judges it as a plan whose elements could not be read, not absent."""
    import datetime as dt
    import zlib

    from audit.plan_status import PlanPolicy, check_fields, facts_from_rows, judge_plan
    from tests.test_open_pages import spider_result

    pages = {
        **standard_site("alpha.gov"),
        "https://www.alpha.gov/open": open_linking("/open/plan.docx"),
        "https://www.alpha.gov/open/plan.docx": ok(make_docx(PLAN_LINES), DOCX),
    }
    result, _ = spider_result(pages)
    old = [
        {**d, "text_kind": "other", "text_error": None, "text_z": zlib.compress(b""), "dates": []}
        if d["url"].endswith(".docx")
        else d
        for d in result.documents
    ]
    for d in old:
        d.pop("format")
    observation = {**result.observation, "agency": result.agency, "fetched_at": dt.datetime.now()}
    facts = facts_from_rows(observation, result.tries, old)
    check = check_fields(facts, judge_plan(facts, PlanPolicy.from_section(PLANS)))
    assert check["status"] == "published"
    assert check["reason"] == (
        "elements: couldn't check, a format the crawl that stored it did not read"
    )
