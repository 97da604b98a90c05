"""Hashes for the tamper-evident audit chain and for keyed, non-reversible identifiers."""

from __future__ import annotations

from crypto import _primitives as p


def chain_digest(previous: bytes, entry: bytes) -> bytes:
    """BLAKE2b-256 over the previous link and this entry's canonical bytes."""
    return p.blake2b(previous + entry, person=b"sealbox-audit")


def keyed_digest(key: bytes, data: bytes) -> bytes:
    """A keyed BLAKE2b: used where a value must be compared but never recoverable
    (rate-limit buckets keyed with a rotating in-memory key, session token look-ups)."""
    return p.blake2b(data, person=b"sealbox-keyed", key=key)
