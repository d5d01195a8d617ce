"""The file format: chunked AES-256-GCM under a per-file data key wrapped by ENCRYPTION_KEYS.

Every way of altering a file at rest (a flipped bit, a dropped, moved or repeated chunk, a cut-off end, a
swapped header) must end in an error, never in bytes that were not written together.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import override_settings

from django_kyc.crypto import DecryptionError
from django_kyc.exceptions import DocumentIntegrityError
from django_kyc.file_encryption import MAGIC, TAG_SIZE, DecryptingReader, encrypt, read_header
from django_kyc.storage import EncryptedStorage, PrivateFileSystemStorage
from tests.support.files import make_png
from tests.support.kyc_settings import kyc_settings_with

CHUNK_LOG = 10  # 1 KiB chunks: many chunks from little data
CHUNK = 1 << CHUNK_LOG
OLD_KEY = settings.DJANGO_KYC["ENCRYPTION_KEYS"][0]


def sealed(plaintext: bytes, pieces: int = 1) -> bytes:
    step = max(1, len(plaintext) // pieces)
    chunks = [plaintext[i : i + step] for i in range(0, len(plaintext), step)]
    return b"".join(encrypt(chunks, chunk_log=CHUNK_LOG))


def opened(ciphertext: bytes) -> DecryptingReader:
    source = io.BytesIO(ciphertext)
    header = read_header(source, label="test file")
    assert header is not None
    return DecryptingReader(source, header, label="test file")


def header_length(ciphertext: bytes) -> int:
    header = read_header(io.BytesIO(ciphertext), label="test file")
    assert header is not None
    return len(header.raw)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7])
@pytest.mark.parametrize("pieces", [1, 7])
def test_round_trip_at_every_chunk_boundary(size: int, pieces: int) -> None:
    plaintext = os.urandom(size)
    ciphertext = sealed(plaintext, pieces)
    assert ciphertext.startswith(MAGIC)
    header = read_header(io.BytesIO(ciphertext), label="test file")
    assert header is not None
    assert header.plaintext_size(len(ciphertext)) == size
    assert opened(ciphertext).read() == plaintext
    assert opened(ciphertext).readall() == plaintext


def test_the_same_content_encrypts_differently_each_time() -> None:
    plaintext = make_png()
    assert sealed(plaintext) != sealed(plaintext)  # a fresh data key per file


def test_a_reader_sees_nothing_beyond_one_chunk_at_a_time() -> None:
    """Streaming: reading the start of a large file decrypts only its first chunk."""
    source = io.BytesIO(sealed(os.urandom(50 * CHUNK)))
    header = read_header(source, label="test file")
    assert header is not None
    reader = DecryptingReader(source, header, label="test file")
    assert len(reader.read(10)) == 10
    assert source.tell() <= len(header.raw) + 2 * (CHUNK + TAG_SIZE)


def chunks_of(ciphertext: bytes) -> tuple[bytes, list[bytes]]:
    start = header_length(ciphertext)
    body = ciphertext[start:]
    step = CHUNK + TAG_SIZE
    return ciphertext[:start], [body[i : i + step] for i in range(0, len(body), step)]


def altered() -> Iterator[tuple[str, bytes]]:
    ciphertext = sealed(os.urandom(3 * CHUNK + 100))
    header, chunks = chunks_of(ciphertext)
    assert len(chunks) == 4
    flipped = bytearray(ciphertext)
    flipped[len(header) + CHUNK + TAG_SIZE + 5] ^= 0x01
    yield "bit flipped in the second chunk", bytes(flipped)
    yield "last chunk dropped", header + b"".join(chunks[:3])
    yield "cut off inside the last chunk", ciphertext[:-5]
    yield "chunks swapped", header + chunks[1] + chunks[0] + chunks[2] + chunks[3]
    yield "chunk repeated", header + chunks[0] + chunks[0] + chunks[1] + chunks[2] + chunks[3]
    yield "bytes appended", ciphertext + b"\x00" * 20
    yield "only the header", header
    other_header, _ = chunks_of(sealed(b"other"))
    yield "header of another file", other_header + b"".join(chunks)


@pytest.mark.parametrize(("case", "ciphertext"), list(altered()), ids=[case for case, _ in altered()])
def test_every_alteration_is_refused(case: str, ciphertext: bytes) -> None:
    with pytest.raises((DocumentIntegrityError, DecryptionError)):
        opened(ciphertext).read()


def test_a_refused_file_names_itself_and_no_content() -> None:
    ciphertext = bytearray(sealed(b"secret passport scan" * 100))
    ciphertext[-1] ^= 0x01
    with pytest.raises(DocumentIntegrityError, match=r"test file failed authentication at chunk \d+") as caught:
        opened(bytes(ciphertext)).read()
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    "header",
    [
        MAGIC,  # nothing after the magic
        MAGIC + b"\x40\x00\x10" + b"A" * 16,  # a chunk of 2**64 bytes
        MAGIC + b"\x10\x00\x00",  # no wrapped key
        MAGIC + b"\x10\x00\x20" + b"A" * 5,  # a key shorter than announced
    ],
    ids=["truncated", "huge-chunk", "no-key", "short-key"],
)
def test_a_malformed_header_is_refused_before_anything_is_read(header: bytes) -> None:
    with pytest.raises(DocumentIntegrityError, match="header"):
        read_header(io.BytesIO(header), label="test file")


def test_without_the_wrapping_key_the_error_names_the_setting() -> None:
    ciphertext = sealed(make_png())
    with (
        override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[Fernet.generate_key().decode()])),
        pytest.raises(DecryptionError, match=r"ENCRYPTION_KEYS.*kyc_rotate_keys"),
    ):
        opened(ciphertext)


def test_an_older_key_still_unwraps_and_the_header_says_it_is_stale() -> None:
    ciphertext = sealed(make_png())
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[Fernet.generate_key().decode(), OLD_KEY])):
        header = read_header(io.BytesIO(ciphertext), label="test file")
        assert header is not None
        assert not header.is_current
        assert opened(ciphertext).read() == make_png()


def test_a_plaintext_file_that_is_not_a_document_is_refused(tmp_path: Path) -> None:
    """A file whose magic was damaged would otherwise be served as if it were plaintext from before."""
    storage = EncryptedStorage(PrivateFileSystemStorage(location=str(tmp_path)))
    name = storage.save("documents/ab/scan.png", ContentFile(make_png()))
    path = tmp_path / name
    damaged = bytearray(path.read_bytes())
    damaged[0] ^= 0x01
    path.write_bytes(bytes(damaged))
    with pytest.raises(DocumentIntegrityError, match="neither encrypted nor an image or PDF"):
        storage.open(name)
