"""Hashes for the tamper-evident audit chain, for the content it commits to, and for
keyed, non-reversible identifiers."""

from __future__ import annotations

import struct

from crypto import _primitives as p

CONTENT_PERSON = b"sealbox-content"


def chain_digest(previous: bytes, entry: bytes) -> bytes:
    """BLAKE2b-256 over the previous link and this entry's canonical bytes."""
    return p.blake2b(previous + entry, person=b"sealbox-audit")


def keyed_digest(key: bytes, data: bytes) -> bytes:
    """A keyed BLAKE2b: used where a value must be compared but never recoverable
    (rate-limit buckets keyed with a rotating in-memory key, session token look-ups)."""
    return p.blake2b(data, person=b"sealbox-keyed", key=key)


class ContentDigest:
    """BLAKE2b-256 of a stored ciphertext (a message, or an attachment's three parts), fed
    as it is written or read back, so a 1 GiB file is never held to be hashed."""

    def __init__(self) -> None:
        self._stream = p.Blake2bStream(person=CONTENT_PERSON)

    def update(self, data: bytes) -> None:
        self._stream.update(data)

    def digest(self) -> bytes:
        return self._stream.digest()


def content_digest(*parts: bytes) -> bytes:
    """``ContentDigest`` of the parts one after another (docs/CRYPTO.md)."""
    digest = ContentDigest()
    for part in parts:
        digest.update(part)
    return digest.digest()


def content_link(previous: bytes, position: int, item_id: str, digest: bytes) -> bytes:
    """One link of a case's content chain: the item at ``position`` (a message or an
    attachment, by id) with its content digest, after the chain's previous head."""
    name = item_id.encode()
    item = struct.pack(">IH", position, len(name)) + name + digest
    return p.blake2b(previous + item, person=b"sealbox-chead")
