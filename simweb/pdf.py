"""A tiny, dependency-free PDF writer.

It produces a valid PDF 1.4 file with text set in the standard Helvetica font, one line of the
input per line of the page, wrapping long lines and starting a new page when one is full.  The
text is written with WinAnsiEncoding so that ``pypdf`` (and any PDF reader) extracts it back.

Only what the simulated web needs: plan documents that a crawler downloads and parses.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

PAGE_WIDTH = 612  # US Letter, in points
PAGE_HEIGHT = 792
MARGIN = 72


def _pdf_string(text: str) -> bytes:
    """A PDF literal string ``(...)`` in WinAnsiEncoding, with the special characters escaped."""
    raw = text.encode("cp1252", errors="replace")
    raw = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    raw = raw.replace(b"\r", b"").replace(b"\t", b"    ")
    return b"(" + raw + b")"


def _split_lines(text: str | Iterable[str], width: int) -> list[str]:
    lines = text.splitlines() if isinstance(text, str) else [str(x) for x in text]
    out: list[str] = []
    for line in lines:
        if not line.strip():
            out.append("")
            continue
        out.extend(textwrap.wrap(line, width=width, break_long_words=True) or [""])
    return out


def paginate(
    text: str | Iterable[str], *, lines_per_page: int = 48, width: int = 90
) -> list[list[str]]:
    """Split text into wrapped lines and group them into pages (at least one page)."""
    lines = _split_lines(text, width)
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    return pages or [[]]


def _content_stream(lines: Sequence[str], font_size: float) -> bytes:
    leading = font_size * 1.35
    parts = [
        b"BT",
        f"/F1 {font_size:g} Tf".encode(),
        f"{leading:.2f} TL".encode(),
        f"{MARGIN} {PAGE_HEIGHT - MARGIN} Td".encode(),
    ]
    for i, line in enumerate(lines):
        if i:
            parts.append(b"T*")
        parts.append(_pdf_string(line) + b" Tj")
    parts.append(b"ET")
    return b"\n".join(parts) + b"\n"


def _document(
    resource: bytes, resources: bytes, streams: Sequence[bytes], producer: str, title: str | None
) -> bytes:
    """A PDF of one page per content stream. Object numbers: 1 catalog, 2 page tree, 3 the
    shared resource (a font, an image), 4 info, then (page, content) pairs."""
    objects: dict[int, bytes] = {}
    page_ids = [5 + 2 * i for i in range(len(streams))]
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = b" ".join(f"{pid} 0 R".encode() for pid in page_ids)
    objects[2] = (
        b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(len(streams)).encode() + b" >>"
    )
    objects[3] = resource
    info = b"<< /Producer (" + producer.encode() + b")"
    if title:
        info += b" /Title " + _pdf_string(title)
    objects[4] = info + b" >>"
    for pid, stream in zip(page_ids, streams, strict=True):
        objects[pid] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 "
            + f"{PAGE_WIDTH} {PAGE_HEIGHT}".encode()
            + b"] /Resources << "
            + resources
            + b" >> /Contents "
            + f"{pid + 1} 0 R".encode()
            + b" >>"
        )
        objects[pid + 1] = (
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"endstream"
        )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    count = max(objects) + 1
    for num in range(1, count):
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + objects[num] + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {count}\n".encode()
    out += b"0000000000 65535 f \n"
    for num in range(1, count):
        out += f"{offsets[num]:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {count} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return bytes(out)


def make_scanned_pdf(pages: int = 1, *, title: str | None = None) -> bytes:
    """A PDF whose pages are images only, as a scanner makes them: no text layer."""
    side = 16
    # A grey page with darker rows, like lines of type seen from afar.
    pixels = bytes(
        (90 if (row % 4 == 1 and 2 <= col < side - 2) else 235)
        for row in range(side)
        for col in range(side)
    )
    image = (
        (
            f"<< /Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace "
            f"/DeviceGray /BitsPerComponent 8 /Length {len(pixels)} >>\nstream\n"
        ).encode()
        + pixels
        + b"\nendstream"
    )
    draw = f"q {PAGE_WIDTH - 2 * MARGIN} 0 0 {PAGE_HEIGHT - 2 * MARGIN} {MARGIN} {MARGIN} cm"
    stream = (draw + " /Im1 Do Q\n").encode()
    return _document(image, b"/XObject << /Im1 3 0 R >>", [stream] * pages, "simweb scanner", title)


def make_pdf(
    text: str | Iterable[str],
    *,
    title: str | None = None,
    font_size: float = 11,
    lines_per_page: int = 48,
    width: int = 90,
) -> bytes:
    """Return the bytes of a PDF document showing ``text`` (a string or a list of lines)."""
    pages = paginate(text, lines_per_page=lines_per_page, width=width)
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    streams = [_content_stream(lines, font_size) for lines in pages]
    return _document(font, b"/Font << /F1 3 0 R >>", streams, "simweb", title)
