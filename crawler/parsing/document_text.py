"""The format of a fetched document, from its bytes, and its text.

Servers label documents badly (a PDF as ``application/octet-stream``, a Word file as
``text/html``), so the format is taken from the bytes first: the signatures of PDF (``%PDF-``),
ZIP packages (Word 2007+ when it holds ``word/document.xml``), OLE2 compound files (Word
97-2003 when it holds a WordDocument stream) and RTF (``{\\rtf``); then from a specific
Content-Type; then, for a generic one, by sniffing HTML or text.

Formats read: html, pdf (pypdf), docx (python-docx), doc (olefile, `word97`), rtf
(striprtf), text. Every other format is recorded by name and not read. A document that cannot
be read (an unread format, a PDF without a text layer, a damaged or encrypted file) gives an
empty text and the reason in words, never an exception: the audit reports it as "couldn't
check", not as a document without a plan.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
import zipfile

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

from crawler.parsing._html import collapse, decode_body
from crawler.parsing.word97 import Word97Error, is_word97, word97_text

READ_FORMATS = ("html", "pdf", "docx", "doc", "rtf", "text")
# What a reason calls each format.
FORMAT_NAMES = {
    "html": "HTML",
    "pdf": "PDF",
    "docx": "Word (.docx)",
    "doc": "Word 97-2003 (.doc)",
    "rtf": "RTF",
    "text": "plain text",
    "xlsx": "Excel workbook (.xlsx)",
    "pptx": "PowerPoint (.pptx)",
    "odt": "OpenDocument text (.odt)",
    "zip": "ZIP archive",
    "xls": "Excel 97-2003 workbook (.xls)",
    "ppt": "PowerPoint 97-2003 (.ppt)",
    "ole": "OLE compound file",
    "png": "PNG image",
    "jpeg": "JPEG image",
    "gif": "GIF image",
    "tiff": "TIFF image",
    "binary": "unknown binary file",
}
# Content types that say nothing about the format.
GENERIC_TYPES = frozenset(
    {
        "",
        "application/octet-stream",
        "binary/octet-stream",
        "application/download",
        "application/x-download",
        "application/force-download",
        "application/unknown",
        "application/x-unknown",
    }
)
_SPECIFIC_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/rtf": "rtf",
    "application/x-rtf": "rtf",
    "text/rtf": "rtf",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/zip": "zip",
}
_ZIP_PARTS = (
    ("word/document.xml", "docx"),
    ("xl/workbook.xml", "xlsx"),
    ("ppt/presentation.xml", "pptx"),
    ("content.xml", "odt"),
)
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_HTML_SNIFF = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"(?:<!doctype\s+html|<html|<head|<body|<meta|<title|<div|<p\b|<h1|<frameset|<iframe)",
    re.IGNORECASE | re.DOTALL,
)
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
# fmt: off
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "ol", "p", "pre", "section", "table", "tr", "ul",
)
# fmt: on
_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "iframe", "svg", "head")
MAX_PDF_PAGES = 300
# A .docx part larger than this unpacked is refused (a small ZIP can unpack to gigabytes).
MAX_UNPACKED_BYTES = 64 * 1024 * 1024


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _zip_format(body: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        # A cut or damaged package still names its parts in its local headers.
        return next((fmt for part, fmt in _ZIP_PARTS if part.encode() in body), "zip")
    return next((fmt for part, fmt in _ZIP_PARTS if part in names), "zip")


def _ole_format(body: bytes) -> str:
    if is_word97(body):
        return "doc"
    return "ole"


def sniff_format(body: bytes, content_type: str | None) -> str:
    """The document's format: one of FORMAT_NAMES' keys, or "other" for an empty body or
    a specific content type govaudit does not know (an image/svg+xml, a video...)."""
    # The PDF header may be preceded by junk; readers look in the first 1024 bytes.
    if b"%PDF-" in body[:1024]:
        return "pdf"
    if body.startswith(b"PK\x03\x04"):
        return _zip_format(body)
    if body.startswith(OLE_MAGIC):
        return _ole_format(body)
    if body.lstrip()[:5] == b"{\\rtf":
        return "rtf"
    for magic, fmt in _IMAGES:
        if body.startswith(magic):
            return fmt
    ctype = media_type(content_type)
    if ctype in _SPECIFIC_TYPES:
        return _SPECIFIC_TYPES[ctype]
    if ctype.startswith("text/"):
        return "text"
    if ctype in GENERIC_TYPES:
        if not body:
            return "other"
        if _HTML_SNIFF.match(body[:2048]):
            return "html"
        if not _BINARY_BYTES.search(body[:4096]):
            return "text"
        return "binary"
    return "other"


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([\w.:\-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def html_text(body: bytes, content_type: str | None) -> str:
    """The visible text of an HTML page: script, style, nav and similar non-content elements
    dropped; a line per block element, so a sentence with <em> or <a> in it stays whole."""
    markup = decode_body(body, _charset(content_type))
    with warnings.catch_warnings():
        # bs4 warns about XHTML with an XML declaration, or text that looks like a file name;
        # neither matters for reading the text.
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(markup, "lxml")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for tag in soup.find_all(("td", "th")):
        tag.insert_after(" ")
    lines = (collapse(line) for line in soup.get_text().splitlines())
    return "\n".join(line for line in lines if line)


def plain_text(body: bytes, content_type: str | None) -> str:
    """Text decoded by its BOM, else as declared, else UTF-8, else Windows-1252."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16", errors="replace")
    charset = _charset(content_type)
    if charset:
        try:
            return body.decode(charset, errors="replace")
        except LookupError:
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def pdf_text(body: bytes, max_chars: int) -> tuple[str, str | None]:
    """The text layer of a PDF, and the reason it could not be read (or the first page that
    failed, when the others gave text)."""
    from pypdf import PdfReader

    if b"%PDF-" not in body[:1024]:
        return "", "not a PDF file (no %PDF- header)"
    # pypdf logs every recoverable defect; a crawl of thousands of PDFs would drown the log.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return "", "encrypted PDF (password-protected)"
        chunks: list[str] = []
        size = 0
        first_error: str | None = None
        for number, page in enumerate(reader.pages):
            if number >= MAX_PDF_PAGES or size >= max_chars:
                break
            try:
                chunk = page.extract_text() or ""
            except Exception as exc:  # pypdf raises many types on damaged content streams
                first_error = first_error or f"page {number + 1}: {type(exc).__name__}: {exc}"
                continue
            chunks.append(chunk)
            size += len(chunk)
    except Exception as exc:  # a damaged file can fail anywhere in pypdf; never propagate
        return "", f"damaged PDF ({type(exc).__name__}: {exc})"[:300]
    text = "\n".join(chunks)
    if not text.strip():
        if first_error is not None:
            return "", f"damaged PDF ({first_error})"[:300]
        return "", "PDF without a text layer (a scanned image?)"
    return text, first_error[:300] if first_error else None


def docx_text(body: bytes) -> tuple[str, str | None]:
    """The paragraphs of a .docx (table cells included), in document order."""
    from docx import Document
    from docx.oxml.ns import qn

    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED_BYTES:
                return "", "Word file (.docx) too large once unpacked"
        document = Document(io.BytesIO(body))
        body_el = document.element.body
        paragraph, text_tag, tab, brk = qn("w:p"), qn("w:t"), qn("w:tab"), qn("w:br")
        lines = []
        for p in body_el.iter(paragraph):
            parts = []
            for el in p.iter(text_tag, tab, brk):
                parts.append(el.text or "" if el.tag == text_tag else " ")
            lines.append("".join(parts))
        text = "\n".join(line for line in lines if line.strip())
    except Exception as exc:  # python-docx and lxml raise many types on damaged files
        return "", f"damaged Word file (.docx) ({type(exc).__name__}: {exc})"[:300]
    if not text.strip():
        return "", "Word file (.docx) without text (images only?)"
    return text, None


def doc_text(body: bytes, max_chars: int) -> tuple[str, str | None]:
    try:
        text = word97_text(body, max_chars)
    except Word97Error as exc:
        return "", f"unreadable Word 97-2003 file (.doc): {exc}"[:300]
    if not text.strip():
        return "", "Word 97-2003 file (.doc) without text (images only?)"
    return text, None


def rtf_text(body: bytes) -> tuple[str, str | None]:
    from striprtf.striprtf import rtf_to_text

    try:
        text = rtf_to_text(body.decode("cp1252", errors="replace"), errors="replace")
    except Exception as exc:  # striprtf is regex-based; a malformed escape may raise
        return "", f"damaged RTF file ({type(exc).__name__}: {exc})"[:300]
    if not text.strip():
        return "", "RTF file without text (images only?)"
    return text, None


def read_document(
    body: bytes, content_type: str | None, max_chars: int
) -> tuple[str, str, str | None]:
    """(format, text, error) of a document: see the module's docstring."""
    fmt = sniff_format(body, content_type)
    if fmt == "html":
        return fmt, html_text(body, content_type)[:max_chars], None
    if fmt == "text":
        return fmt, plain_text(body, content_type)[:max_chars], None
    if fmt == "pdf":
        text, error = pdf_text(body, max_chars)
    elif fmt == "docx":
        text, error = docx_text(body)
    elif fmt == "doc":
        text, error = doc_text(body, max_chars)
    elif fmt == "rtf":
        text, error = rtf_text(body)
    elif fmt == "other" and not body:
        return fmt, "", None
    elif fmt == "other":
        return fmt, "", f"unread format ({media_type(content_type) or 'unknown'})"
    else:
        return fmt, "", f"unread format ({FORMAT_NAMES.get(fmt, fmt)})"
    return fmt, text[:max_chars], error
