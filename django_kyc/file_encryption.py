"""Envelope encryption of document files, under the same key ring as the encrypted fields.

Each file gets its own random 256-bit data key. The content is encrypted with AES-256-GCM in fixed-size
chunks, so memory stays constant whatever the file size, and the data key is kept in the file's header,
wrapped by ``DJANGO_KYC["ENCRYPTION_KEYS"]`` (a Fernet token: the first key wraps, any key unwraps). A copy
of the storage is as useless without the keys as a database dump is.

Why chunks with a counter and a final flag in the nonce (the STREAM construction): each chunk is
authenticated before any byte of it is released, and a chunk moved, dropped, repeated, or cut off at the
end fails authentication, so a reader never gets bytes that were not written together. The whole header is
the associated data of every chunk, so it cannot be altered either. The data key is random per file, so a
counter nonce never repeats under one key.

Layout (integers big-endian):

* ``magic`` (8 bytes): ``DJKYC\\0F1``. No accepted upload type starts like this (JPEG ``FF D8``, PNG
  ``89 50``, WebP ``RIFF``, PDF ``%PDF``, HEIC ``....ftyp``), so it tells an encrypted file from a plaintext
  one written before encryption existed;
* ``chunk`` (1 byte): log2 of the plaintext chunk size (16: 64 KiB);
* ``length`` (2 bytes) and ``key``: the wrapped data key;
* the chunks: ``AES-256-GCM(data key, nonce = counter (11 bytes) + final flag (1 byte), aad = header)``.
  Every chunk but the last holds exactly ``chunk`` plaintext bytes; the last may be shorter, even empty.
  Each carries a 16-byte tag.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from django_kyc.crypto import KEYS_SETTING, DecryptionError, get_fernet, is_current_token
from django_kyc.exceptions import DocumentIntegrityError

MAGIC = b"DJKYC\x00F1"
TAG_SIZE = 16
CHUNK_LOG = 16
#: Chunk sizes a header may declare: a forged header must not make a reader allocate gigabytes.
CHUNK_LOG_RANGE = range(10, 25)
_LENGTHS = struct.Struct(">BH")
_MAX_WRAPPED_KEY = 1024


@dataclass(frozen=True)
class Header:
    raw: bytes
    wrapped_key: bytes
    chunk_size: int

    @property
    def is_current(self) -> bool:
        """Whether the data key is wrapped by the first key in ``ENCRYPTION_KEYS`` (rotation skips it)."""
        return is_current_token(self.wrapped_key.decode("ascii"))

    def data_key(self, label: str) -> bytes:
        try:
            key = get_fernet().decrypt(self.wrapped_key)
        except InvalidToken as exc:
            raise DecryptionError(
                f"Cannot decrypt {label}: no key in {KEYS_SETTING} unwraps its data key. Was a key removed "
                "before `manage.py kyc_rotate_keys` re-encrypted the document files?"
            ) from exc
        if len(key) != 32:
            raise DocumentIntegrityError(f"{label} has a malformed header; it is not served.")
        return key

    def plaintext_size(self, total: int) -> int:
        """The plaintext length of a file of ``total`` bytes with this header, without reading it."""
        body = total - len(self.raw)
        chunks = max(1, -(-body // (self.chunk_size + TAG_SIZE)))
        return max(0, body - chunks * TAG_SIZE)


def _nonce(counter: int, final: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def read_exactly(source: IO[bytes], size: int) -> bytes:
    """``size`` bytes, fewer only at the end of ``source`` (a raw stream may return short reads)."""
    parts: list[bytes] = []
    missing = size
    while missing > 0:
        part = source.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def read_header(source: IO[bytes], *, label: str) -> Header | None:
    """The header of an encrypted file, or ``None`` for a plaintext one (``source`` is then consumed: rewind)."""
    magic = read_exactly(source, len(MAGIC))
    if magic != MAGIC:
        return None
    lengths = read_exactly(source, _LENGTHS.size)
    if len(lengths) != _LENGTHS.size:
        raise DocumentIntegrityError(f"{label} has a truncated header; it is not served.")
    chunk_log, key_length = _LENGTHS.unpack(lengths)
    if chunk_log not in CHUNK_LOG_RANGE or not 0 < key_length <= _MAX_WRAPPED_KEY:
        raise DocumentIntegrityError(f"{label} has a malformed header; it is not served.")
    wrapped_key = read_exactly(source, key_length)
    if len(wrapped_key) != key_length or not wrapped_key.isascii():
        raise DocumentIntegrityError(f"{label} has a malformed header; it is not served.")
    return Header(raw=magic + lengths + wrapped_key, wrapped_key=wrapped_key, chunk_size=1 << chunk_log)


def _blocks(chunks: Iterable[bytes], size: int) -> Iterator[tuple[bytes, bool]]:
    """``chunks`` regrouped into blocks of exactly ``size`` bytes, each with whether it is the last one.

    There is always at least one block (empty content gives one empty final block).
    """
    buffer = bytearray()
    pending: bytes | None = None
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            if pending is not None:
                yield pending, False
            pending = bytes(buffer[:size])
            del buffer[:size]
    if pending is not None:
        if buffer:
            yield pending, False
        else:
            yield pending, True
            return
    yield bytes(buffer), True


def encrypt(chunks: Iterable[bytes], *, chunk_log: int = CHUNK_LOG) -> Iterator[bytes]:
    """The encrypted file, piece by piece, for plaintext arriving as ``chunks`` of any sizes."""
    data_key = AESGCM.generate_key(bit_length=256)
    wrapped_key = get_fernet().encrypt(data_key)
    header = MAGIC + _LENGTHS.pack(chunk_log, len(wrapped_key)) + wrapped_key
    yield header
    aead = AESGCM(data_key)
    for counter, (block, final) in enumerate(_blocks(chunks, 1 << chunk_log)):
        yield aead.encrypt(_nonce(counter, final), block, header)


class DecryptingReader(io.RawIOBase):
    """The plaintext of an encrypted file, chunk by chunk, each authenticated before it is returned.

    The first chunk is decrypted at once, so a missing key or an altered header fails when the file is
    opened rather than in the middle of a response. Truncation shows at the end: the last chunk left was not
    written as the final one, so it fails authentication.
    """

    def __init__(self, source: IO[bytes], header: Header, *, label: str) -> None:
        super().__init__()
        self._source = source
        self._header = header
        self._label = label
        self._aead = AESGCM(header.data_key(label))
        self._sealed_size = header.chunk_size + TAG_SIZE
        self._counter = 0
        self._lookahead = b""
        self._buffer = b""
        self._offset = 0
        self._position = 0
        self._finished = False
        self._next_chunk()

    def _next_chunk(self) -> None:
        sealed = self._lookahead + read_exactly(self._source, self._sealed_size + 1 - len(self._lookahead))
        final = len(sealed) <= self._sealed_size
        sealed, self._lookahead = (sealed, b"") if final else (sealed[: self._sealed_size], sealed[-1:])
        try:
            self._buffer = self._aead.decrypt(_nonce(self._counter, final), sealed, self._header.raw)
        except InvalidTag as exc:
            raise DocumentIntegrityError(
                f"{self._label} failed authentication at chunk {self._counter}: it was altered or cut short, "
                "and is not served."
            ) from exc
        self._offset = 0
        self._counter += 1
        self._finished = final

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._offset >= len(self._buffer) and not self._finished:
            self._next_chunk()
        count = min(len(buffer), len(self._buffer) - self._offset)
        buffer[:count] = self._buffer[self._offset : self._offset + count]
        self._offset += count
        self._position += count
        return count

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if not self.closed:
            self._source.close()
            self._buffer = b""
        super().close()
