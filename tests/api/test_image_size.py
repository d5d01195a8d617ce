"""Declared image sizes, read from headers: checked against what a real encoder (Pillow) wrote, and against
damaged files, which must be an ``UnreadableImage`` and nothing else."""

from __future__ import annotations

import io
import random
import struct

import pytest
from PIL import Image

from django_kyc.api.image_size import UnreadableImage, declared_size
from tests.support.files import make_png

SIZES = [(1, 1), (3, 7), (640, 480), (1001, 17)]


def encoded(width: int, height: int, kind: str, **options: object) -> bytes:
    mode = "RGBA" if options.pop("alpha", False) else "RGB"
    out = io.BytesIO()
    Image.new(mode, (width, height), (20, 120, 200)).save(out, kind, **options)
    return out.getvalue()


ENCODINGS = {
    "png": ("image/png", {"kind": "PNG"}),
    "jpeg": ("image/jpeg", {"kind": "JPEG"}),
    "jpeg-progressive": ("image/jpeg", {"kind": "JPEG", "progressive": True}),
    "jpeg-exif": ("image/jpeg", {"kind": "JPEG", "exif": b"Exif\x00\x00" + b"\x00" * 40_000}),
    "webp-lossy": ("image/webp", {"kind": "WEBP"}),
    "webp-lossless": ("image/webp", {"kind": "WEBP", "lossless": True}),
    "webp-extended": ("image/webp", {"kind": "WEBP", "alpha": True, "exif": b"Exif\x00\x00" + b"\x00" * 64}),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_size_an_encoder_wrote_is_the_size_read(encoding: str, width: int, height: int) -> None:
    content_type, spec = ENCODINGS[encoding]
    options = dict(spec)
    content = encoded(width, height, str(options.pop("kind")), **options)
    assert declared_size(content, content_type) == (width, height)


def test_a_png_declaring_50000_a_side_is_read_from_its_header_alone() -> None:
    bomb = make_png(50_000, 50_000, raw=b"\x00" * 16)
    assert len(bomb) < 100
    assert declared_size(bomb, "image/png") == (50_000, 50_000)


def test_jpeg_fill_bytes_and_stray_bytes_before_the_frame_are_skipped() -> None:
    content = encoded(33, 44, "JPEG")
    padded = content[:2] + b"junk" + b"\xff\xff" + content[2:]  # stray bytes, then fill bytes before a marker
    assert declared_size(padded, "image/jpeg") == (33, 44)


def ispe(width: int, height: int) -> bytes:
    return box(b"ispe", b"\x00" * 4 + struct.pack(">II", width, height))


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def heic(*extents: bytes) -> bytes:
    """ftyp, then meta (a full box) > iprp > ipco > ispe..., then the image data."""
    properties = box(b"iprp", box(b"ipco", b"".join(extents)))
    return box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + box(b"meta", b"\x00" * 4 + properties) + box(b"mdat", b"x")


def test_heic_takes_the_largest_spatial_extent() -> None:
    content = heic(ispe(320, 240), ispe(4032, 3024))  # a thumbnail and the primary image
    assert declared_size(content, "image/heic") == (4032, 3024)
    with pytest.raises(UnreadableImage, match="ispe"):
        declared_size(heic(), "image/heic")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (make_png()[:20], "image/png"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIEND" + b"\x00" * 16, "image/png"),
        (b"\xff\xd8\xff\xd9", "image/jpeg"),  # start, end, no frame
        (b"\xff\xd8\xff\xda\x00\x02", "image/jpeg"),  # scan data before any frame header
        (b"\xff\xd8\xff\xe0\x00\x01", "image/jpeg"),  # a segment shorter than its own length field
        (b"\xff\xd8\xff\xc0\x00\x11\x08\x00\x00\x00\x10", "image/jpeg"),  # height 0
        (b"RIFF\x10\x00\x00\x00WEBPVP8 \x00\x00\x00\x00" + b"\x00" * 10, "image/webp"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x00\x00\x00\x00\x00", "image/webp"),
        (b"RIFF\x10\x00\x00\x00WEBPALPH" + b"\x00" * 20, "image/webp"),
        (box(b"ftyp", b"heic") + struct.pack(">I4s", 4096, b"meta"), "image/heic"),
        (make_png(), "image/gif"),
    ],
    ids=[
        "png-cut",
        "png-no-ihdr",
        "jpeg-no-frame",
        "jpeg-scan-first",
        "jpeg-short-segment",
        "jpeg-zero-height",
        "webp-no-start-code",
        "webp-no-signature",
        "webp-unknown-chunk",
        "heic-box-too-long",
        "unknown-type",
    ],
)
def test_damaged_headers_are_unreadable(content: bytes, content_type: str) -> None:
    with pytest.raises(UnreadableImage):
        declared_size(content, content_type)


@pytest.mark.parametrize("encoding", ["png", "jpeg", "webp-lossy", "webp-lossless", "webp-extended"])
def test_every_prefix_and_random_damage_gives_the_size_or_unreadable(encoding: str) -> None:
    """Never an IndexError or struct.error (a 500): cut the file anywhere, or scribble on its start."""
    content_type, spec = ENCODINGS[encoding]
    options = dict(spec)
    content = encoded(21, 13, str(options.pop("kind")), **options)
    samples = [content[:length] for length in range(min(len(content), 400))]
    chance = random.Random(encoding)
    for _ in range(300):
        damaged = bytearray(content)
        for _ in range(chance.randint(1, 4)):
            damaged[chance.randrange(min(len(damaged), 64))] = chance.randrange(256)
        samples.append(bytes(damaged))
    for sample in samples:
        try:
            width, height = declared_size(sample, content_type)
        except UnreadableImage:
            continue
        assert width > 0
        assert height > 0
