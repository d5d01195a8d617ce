"""One page of a PDF document as a PNG, for the case page's viewer.

Reviewers look at PDFs page by page inside the admin, and a browser's own PDF viewer cannot be used: the file
view answers with ``Content-Security-Policy: sandbox``, which keeps the viewer's scripts out too. So the page is
rendered here, with PDFium (``pypdfium2``), and sent as an image through the same permission check and audit as
the file itself. The PNG is written with the standard library, so rendering needs no imaging library.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

#: The rendered page's width in pixels (height follows the page's proportions): sharp enough to read a
#: statement's small print at the viewer's 2x zoom, small enough to send quickly.
PAGE_WIDTH_PX = 1200
#: No page is rendered larger than this many pixels, whatever size the PDF declares (a poster-sized page would
#: otherwise cost hundreds of megabytes of memory).
MAX_PIXELS = 4_000_000


class PdfPageError(ValueError):
    """The file is not a PDF PDFium can read, or has no such page."""


@dataclass(frozen=True)
class RenderedPage:
    png: bytes
    number: int
    page_count: int


def render_page(data: bytes, number: int) -> RenderedPage:
    """Page ``number`` (1-based) of the PDF ``data`` as a PNG, with the document's page count."""
    import pypdfium2 as pdfium  # imported here: only this view needs the PDFium binary loaded

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PdfPageError(f"The PDF cannot be read: {exc}") from exc
    try:
        count = len(document)
        if not 1 <= number <= count:
            raise PdfPageError(f"The PDF has {count} page(s); there is no page {number}.")
        page = document[number - 1]
        width, height = page.get_size()
        scale = PAGE_WIDTH_PX / max(width, 1.0)
        if width * height * scale * scale > MAX_PIXELS:
            scale = (MAX_PIXELS / max(width * height, 1.0)) ** 0.5
        bitmap = page.render(scale=scale, rev_byteorder=True)  # RGB, in the byte order PNG wants
        png = encode_png(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride, bitmap.n_channels)
    finally:
        document.close()
    return RenderedPage(png=png, number=number, page_count=count)


def encode_png(pixels: bytes, width: int, height: int, stride: int, channels: int) -> bytes:
    """An 8-bit RGB (3 channels) or RGBA (4) PNG of ``pixels``, rows ``stride`` bytes apart."""
    if channels not in (3, 4):
        raise PdfPageError(f"Unexpected bitmap with {channels} channels.")
    row = width * channels
    rows = b"".join(b"\x00" + pixels[y * stride : y * stride + row] for y in range(height))
    colour_type = 2 if channels == 3 else 6
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"".join(
        (b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(rows, 6)), _chunk(b"IEND", b""))
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
