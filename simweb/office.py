"""Word and RTF documents for the simulated web, written from text.

Agencies published Customer Service Plans as Word files as often as PDFs. The simulated web
serves them from text given in a site file, so that no opaque binary is kept in the tree:

* ``make_docx``: Word 2007+ (.docx), written with python-docx;
* ``make_doc``: Word 97-2003 (.doc): an OLE2 compound file ([MS-CFB]) holding a WordDocument
  stream and its table stream with a one-piece piece table ([MS-DOC]), as Word writes them
  (only what a reader needs to find the text);
* ``make_rtf``: Rich Text Format.

Each takes the lines of the document; a line starting with ``# `` is a heading.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOC_TYPE = "application/msword"
RTF_TYPE = "application/rtf"


def _lines(text: str | Iterable[str]) -> list[str]:
    return text.splitlines() if isinstance(text, str) else [str(x) for x in text]


def make_docx(text: str | Iterable[str], *, title: str | None = None) -> bytes:
    from docx import Document

    document = Document()
    if title:
        document.core_properties.title = title
    for line in _lines(text):
        if line.startswith("# "):
            document.add_heading(line[2:], level=1)
        else:
            document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_rtf(text: str | Iterable[str]) -> bytes:
    def escape(line: str) -> str:
        out = []
        for char in line:
            if char in "\\{}":
                out.append("\\" + char)
            elif ord(char) < 128:
                out.append(char)
            else:
                code = ord(char) if ord(char) < 32768 else ord(char) - 65536
                out.append(f"\\u{code}?")
        return "".join(out)

    body = []
    for line in _lines(text):
        if line.startswith("# "):
            body.append(r"{\pard\b\fs32 " + escape(line[2:]) + r"\par}")
        else:
            body.append(r"{\pard " + escape(line) + r"\par}")
    head = r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\froman Times New Roman;}}"
    return (head + "\n" + "\n".join(body) + "\n}\n").encode("ascii")


# --------------------------------------------------------------------------- Word 97-2003

_SECTOR = 512
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_MINI_CUTOFF = 4096
_TEXT_AT = 0x800  # where the WordDocument stream holds the text, after the FIB


def _word_streams(text: str) -> tuple[bytes, bytes]:
    """The WordDocument and 1Table streams of a document holding ``text`` (one piece of
    8-bit characters)."""
    chars = "\r".join(line.removeprefix("# ") for line in _lines(text)) + "\r"
    data = chars.encode("cp1252", errors="replace")
    table = bytearray()
    # Clx: one Pcdt whose PlcPcd has CPs [0, n] and one Pcd at fc (compressed: fc * 2 | bit 30).
    plc = struct.pack("<II", 0, len(data)) + struct.pack("<HIH", 0, (_TEXT_AT * 2) | 0x40000000, 0)
    table += b"\x02" + struct.pack("<I", len(plc)) + plc
    fc_clx, lcb_clx = 0, len(table)
    table += b"\x00" * (_MINI_CUTOFF - len(table))

    csw, cslw, cb_rg_fc_lcb = 14, 22, 0x5D
    word = bytearray(_TEXT_AT)
    struct.pack_into("<HH", word, 0, 0xA5EC, 0x00C1)
    struct.pack_into("<H", word, 0x0A, 0x0200)  # fWhichTblStm: the table is 1Table
    struct.pack_into("<H", word, 0x20, csw)
    rg_lw = 0x22 + 2 * csw + 2
    struct.pack_into("<H", word, rg_lw - 2, cslw)
    struct.pack_into("<i", word, rg_lw + 12, len(data))  # ccpText
    blob = rg_lw + 4 * cslw
    struct.pack_into("<H", word, blob, cb_rg_fc_lcb)
    struct.pack_into("<II", word, blob + 2 + 33 * 8, fc_clx, lcb_clx)
    word += data
    if len(word) < _MINI_CUTOFF:
        word += b"\x00" * (_MINI_CUTOFF - len(word))
    return bytes(word), bytes(table)


def _dir_entry(
    name: str, kind: int, start: int, size: int, child: int = _NOSTREAM, left: int = _NOSTREAM
) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    return (
        encoded.ljust(64, b"\x00")
        + struct.pack("<HBB", len(encoded) if name else 0, kind, 1)
        + struct.pack("<III", left, _NOSTREAM, child)
        + b"\x00" * 16  # CLSID
        + struct.pack("<I", 0)  # state bits
        + b"\x00" * 16  # creation and modification times
        + struct.pack("<IQ", start, size)
    )


def make_doc(text: str | Iterable[str]) -> bytes:
    """A Word 97-2003 document of ``text`` in an OLE2 compound file (version 3, 512-byte
    sectors; both streams are past the mini-stream cutoff, so no mini stream is needed)."""
    word, table = _word_streams("\n".join(_lines(text)))
    streams = [word, table]
    counts = [-(-len(s) // _SECTOR) for s in streams]
    data_sectors = 1 + sum(counts)  # the directory, then the streams
    fat_sectors = 1
    while fat_sectors * 128 < fat_sectors + data_sectors:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("document too large for this writer")
    fat = [_FATSECT] * fat_sectors
    directory_at = len(fat)
    fat.append(_END)
    starts = []
    for count in counts:
        starts.append(len(fat))
        fat.extend(range(len(fat) + 1, len(fat) + count))
        fat.append(_END)
    fat += [_FREE] * (fat_sectors * 128 - len(fat))

    entries = (
        _dir_entry("Root Entry", 5, _END, 0, child=1)
        + _dir_entry("WordDocument", 2, starts[0], len(word), left=2)
        + _dir_entry("1Table", 2, starts[1], len(table))
        + _dir_entry("", 0, 0, 0)
    )
    difat = list(range(fat_sectors)) + [_FREE] * (109 - fat_sectors)
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, fat_sectors, directory_at, 0, _MINI_CUTOFF, _END, 0, _END, 0)
        + struct.pack("<109I", *difat)
    )
    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    out += entries
    for stream, count in zip(streams, counts, strict=True):
        out += stream.ljust(count * _SECTOR, b"\x00")
    return bytes(out)
