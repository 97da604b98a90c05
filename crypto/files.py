"""Streaming file encryption with libsodium's secretstream.

Files are cut into fixed-size chunks; each chunk is sealed in order, the last one with the
FINAL tag, so truncation, reordering, dropping and tampering are all detected. Neither
direction ever holds more than one chunk. Format (docs/CRYPTO.md):
``b"SBF" | version(1) | chunk size u32 BE | stream header(24) | chunk ciphertexts``;
every chunk's associated data is the context binding followed by that 8-byte preamble, so
the (otherwise unauthenticated) chunk size cannot be altered either.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from crypto import _primitives as p
from crypto._primitives import DecryptionError
from crypto.envelopes import Context

FILE_VERSION = 1
CHUNK_SIZE = 64 * 1024
_MAGIC = b"SBF"
_PREAMBLE = struct.Struct(">3sBI")
MAX_CHUNK_SIZE = 16 * 1024 * 1024


class FileSealer:
    """Encrypt a file whose length is not known in advance (an upload as it streams in).

    ``push`` returns the ciphertext bytes ready to write (possibly empty) and ``finish``
    the rest. Holds at most one chunk of plaintext.
    """

    def __init__(self, key: bytes, context: Context, chunk_size: int = CHUNK_SIZE) -> None:
        if not 0 < chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError("chunk size out of range")
        self._pusher = p.StreamPusher(key)
        self._aad = context.binding(FILE_VERSION) + _PREAMBLE.pack(_MAGIC, FILE_VERSION, chunk_size)
        self._chunk = chunk_size
        self._pending: bytes | bytearray = b""
        self._started = False
        self._finished = False
        self.plaintext_size = 0

    def _preamble(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return _PREAMBLE.pack(_MAGIC, FILE_VERSION, self._chunk) + self._pusher.header

    def push(self, data: bytes) -> bytes:
        if self._finished:
            raise ValueError("stream already finished")
        self.plaintext_size += len(data)
        out = [] if self._started else [self._preamble()]
        chunk = self._chunk
        if isinstance(self._pending, bytearray) and len(self._pending) + len(data) <= chunk:
            self._pending += data  # small pieces: just gather them
            return b"".join(out)
        rest = memoryview(data).cast("B")
        # Keep the last (maybe full) chunk back: only finish() knows which one is final.
        # Copies are kept off the common path (bench/bench_file_stream.py): a whole chunk
        # pushed as one bytes object is held and sealed as it is, not copied.
        while rest:
            if len(self._pending) == chunk:  # more data follows: it is not the final chunk
                out.append(self._pusher.push(bytes(self._pending), self._aad, final=False))
                self._pending = b""
            if not self._pending and len(rest) >= chunk:
                whole = type(data) is bytes and len(rest) == len(data) == chunk
                self._pending = data if whole else bytes(rest[:chunk])
                rest = rest[chunk:]
            else:
                if not isinstance(self._pending, bytearray):
                    self._pending = bytearray(self._pending)
                room = chunk - len(self._pending)
                self._pending += rest[:room]
                rest = rest[room:]
        return b"".join(out)

    def finish(self) -> bytes:
        if self._finished:
            raise ValueError("stream already finished")
        self._finished = True
        last = self._pusher.push(bytes(self._pending), self._aad, final=True)
        self._pending = b""
        return self._preamble() + last


def encrypt_stream(
    key: bytes, chunks: Iterable[bytes], context: Context, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """Encrypt an iterable of plaintext pieces, yielding ciphertext pieces."""
    sealer = FileSealer(key, context, chunk_size)
    for piece in chunks:
        out = sealer.push(piece)
        if out:
            yield out
    yield sealer.finish()


def decrypt_stream(key: bytes, source: BinaryIO, context: Context) -> Iterator[bytes]:
    """Decrypt from a readable binary file, yielding plaintext chunks as they verify.

    Raises DecryptionError on any tampering, and on truncation once the input ends before
    the FINAL chunk, so a caller streaming to a client must treat that as a failed download.
    """
    preamble = source.read(_PREAMBLE.size)
    if len(preamble) != _PREAMBLE.size:
        raise DecryptionError("not a Sealbox file")
    magic, version, chunk_size = _PREAMBLE.unpack(preamble)
    if magic != _MAGIC or version != FILE_VERSION or not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise DecryptionError("not a version-1 Sealbox file")
    header = source.read(p.STREAM_HEADER_BYTES)
    if len(header) != p.STREAM_HEADER_BYTES:
        raise DecryptionError("file truncated in its header")
    puller = p.StreamPuller(key, header)
    aad = context.binding(FILE_VERSION) + preamble
    sealed_chunk = chunk_size + p.STREAM_ABYTES
    while True:
        block = source.read(sealed_chunk)
        if not block:
            raise DecryptionError("file truncated: final chunk missing")
        plaintext, final = puller.pull(block, aad)
        if final:
            if source.read(1):
                raise DecryptionError("data after the final chunk")
            if plaintext:
                yield plaintext
            return
        if len(block) != sealed_chunk:
            raise DecryptionError("short chunk before the end")
        yield plaintext


def sealed_size(plaintext_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """Exact ciphertext size for a plaintext of this size.

    The writer keeps the last chunk back for the FINAL tag, so a plaintext that is an exact
    multiple of the chunk size ends with a full FINAL chunk (no empty extra one); only the
    empty plaintext has a chunk with nothing in it.
    """
    chunks = max(1, -(-plaintext_size // chunk_size))
    return _PREAMBLE.size + p.STREAM_HEADER_BYTES + plaintext_size + chunks * p.STREAM_ABYTES


def sealed_plaintext_size(head: bytes, ciphertext_size: int) -> int:
    """The plaintext size of a sealed file made elsewhere (the reporter's browser), from its
    first 8 bytes and its length alone: the preamble must be this version's, with the one
    chunk size Sealbox seals with, and the length one that :func:`sealed_size` gives. Says
    nothing about the chunks themselves, which only the key opens; raises DecryptionError."""
    if len(head) < _PREAMBLE.size:
        raise DecryptionError("too short for a sealed file")
    magic, version, chunk_field = _PREAMBLE.unpack(head[: _PREAMBLE.size])
    chunk = int(chunk_field)
    if magic != _MAGIC or version != FILE_VERSION or chunk != CHUNK_SIZE:
        raise DecryptionError("not a sealed file of this version")
    body = ciphertext_size - _PREAMBLE.size - p.STREAM_HEADER_BYTES
    chunks = max(1, -(-body // (chunk + p.STREAM_ABYTES)))
    plaintext = body - chunks * p.STREAM_ABYTES
    if plaintext < 0 or sealed_size(plaintext, chunk) != ciphertext_size:
        raise DecryptionError("a length no sealed file has")
    return plaintext
