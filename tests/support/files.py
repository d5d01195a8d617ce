"""Real, minimal image and PDF files: uploads are sniffed and PDFs are read, so the bytes must be genuine."""

from __future__ import annotations

import io
import struct
import zlib

from pypdf import PdfWriter


def make_png(width: int = 2, height: int = 2, raw: bytes | None = None) -> bytes:
    """A real, minimal PNG, so content sniffing sees a genuine image.

    ``raw`` replaces the pixel rows: a few bytes with a huge ``width`` and ``height`` make a file whose header
    declares an enormous image that no one could decode (a decompression bomb, for the upload checks).
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    if raw is None:
        raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def make_pdf(pages: int = 1) -> bytes:
    """A real PDF of blank pages (uploads count a PDF's pages, so it must be readable)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF_BYTES = make_pdf()
