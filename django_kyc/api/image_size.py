"""The width and height an image declares in its header, read without decoding anything.

Why not Pillow: its ``Image.open`` refuses anything above its own process-wide ceiling (about 179 million
pixels) before telling the size, so a 50000 x 50000 PNG could not be answered with the limit the site set,
and it would be a large C dependency for what is, in each of these formats, a few fixed fields near the
start of the file:

* PNG: the ``IHDR`` chunk, which the specification puts first;
* JPEG: the first frame header (``SOFn``), after the segments before it, each skipped by its length;
* WebP: the first chunk, ``VP8 `` (lossy), ``VP8L`` (lossless) or ``VP8X`` (extended: the canvas size);
* HEIC, HEIF and AVIF: the ``ispe`` (image spatial extent) properties in the ``meta`` box; the largest one
  counts, since a file holds one per image (the primary image, its tiles, its thumbnail).

The readers work on the file's bytes (at most ``MAX_UPLOAD_BYTES``), every offset checked against its
length, and anything unexpected is an :class:`UnreadableImage`: the upload check answers it with a 400.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: JPEG frame headers: SOF0-3, 5-7, 9-11, 13-15 (C4 is DHT, C8 JPG, CC DAC: not frames).
JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
#: JPEG markers without a length: TEM, RST0-7, SOI.
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})
#: ISO base media boxes that hold the properties, and how many bytes of version and flags each starts with.
ISOBMFF_CONTAINERS = {b"meta": 4, b"iprp": 0, b"ipco": 0}


class UnreadableImage(ValueError):
    """The header is missing, cut short or inconsistent."""


def _at(data: bytes, offset: int, size: int) -> bytes:
    if offset + size > len(data):
        raise UnreadableImage("the header is cut short")
    return data[offset : offset + size]


def _png(data: bytes) -> tuple[int, int]:
    header = _at(data, 0, 24)
    if header[:8] != PNG_SIGNATURE or header[12:16] != b"IHDR":
        raise UnreadableImage("no IHDR chunk first")
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _jpeg(data: bytes) -> tuple[int, int]:
    if _at(data, 0, 2) != b"\xff\xd8":
        raise UnreadableImage("no start-of-image marker")
    offset = 2
    while True:
        offset = data.find(b"\xff", offset)  # decoders skip stray bytes between segments too
        if offset < 0:
            raise UnreadableImage("no frame header")
        marker = _at(data, offset + 1, 1)[0]
        offset += 2
        if marker == 0xFF:
            offset -= 1  # a fill byte: the marker is the next byte
            continue
        if marker in JPEG_STANDALONE:
            continue
        if marker in (0xD9, 0xDA):
            raise UnreadableImage("no frame header before the image data")
        (length,) = struct.unpack(">H", _at(data, offset, 2))
        if length < 2:
            raise UnreadableImage("a segment shorter than its length field")
        if marker in JPEG_FRAMES:
            height, width = struct.unpack(">HH", _at(data, offset + 3, 4))
            return width, height
        offset += length


def _webp(data: bytes) -> tuple[int, int]:
    header = _at(data, 0, 16)
    if header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        raise UnreadableImage("no RIFF/WEBP header")
    kind, body = header[12:16], 20  # the first chunk's type, then its size (4 bytes), then its data
    if kind == b"VP8 ":
        frame = _at(data, body, 10)
        if frame[3:6] != b"\x9d\x01\x2a":
            raise UnreadableImage("no VP8 start code")
        width, height = struct.unpack("<HH", frame[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L":
        frame = _at(data, body, 5)
        if frame[0] != 0x2F:
            raise UnreadableImage("no VP8L signature")
        bits = int.from_bytes(frame[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        canvas = _at(data, body, 10)
        return int.from_bytes(canvas[4:7], "little") + 1, int.from_bytes(canvas[7:10], "little") + 1
    raise UnreadableImage("an unknown first WebP chunk")


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload start, payload end)`` of the boxes laid end to end in ``data[start:end]``."""
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        payload = offset + 8
        if size == 1:  # a 64-bit size follows the type
            (size,) = struct.unpack(">Q", _at(data, offset + 8, 8))
            payload = offset + 16
        elif size == 0:  # to the end
            size = end - offset
        if size < payload - offset or offset + size > end:
            raise UnreadableImage("a box larger than its parent")
        yield kind, payload, offset + size
        offset += size


def _extents(data: bytes, start: int, end: int, depth: int = 0) -> list[tuple[int, int]]:
    found = []
    for kind, payload, payload_end in _boxes(data, start, end):
        if kind == b"ispe" and payload_end - payload >= 12:
            width, height = struct.unpack(">II", data[payload + 4 : payload + 12])  # after version and flags
            found.append((width, height))
        elif kind in ISOBMFF_CONTAINERS and depth < len(ISOBMFF_CONTAINERS):
            found += _extents(data, payload + ISOBMFF_CONTAINERS[kind], payload_end, depth + 1)
    return found


def _isobmff(data: bytes) -> tuple[int, int]:
    extents = _extents(data, 0, len(data))
    if not extents:
        raise UnreadableImage("no image spatial extent (ispe) property")
    return max(extents, key=lambda extent: extent[0] * extent[1])


READERS: dict[str, Callable[[bytes], tuple[int, int]]] = {
    "image/png": _png,
    "image/jpeg": _jpeg,
    "image/webp": _webp,
    "image/heic": _isobmff,
    "image/heif": _isobmff,
    "image/avif": _isobmff,
}


def declared_size(data: bytes, content_type: str) -> tuple[int, int]:
    """``(width, height)`` from the header of an image of ``content_type``; :class:`UnreadableImage` if not.

    ``data`` is the whole file (a JPEG's frame header may follow many kilobytes of metadata).
    """
    reader = READERS.get(content_type)
    if reader is None:
        raise UnreadableImage(f"no header reader for {content_type}")
    width, height = reader(data)
    if width <= 0 or height <= 0:
        raise UnreadableImage("a zero width or height")
    return width, height
