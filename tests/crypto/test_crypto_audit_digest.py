"""Digests for the audit hash chain and keyed identifiers (BLAKE2b, personalised)."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

import crypto

GENESIS = bytes(32)
links = st.binary(min_size=32, max_size=32)


def test_chain_digest_is_32_bytes_and_deterministic() -> None:
    d = crypto.chain_digest(GENESIS, b'{"action":"login"}')
    assert len(d) == 32
    assert d == crypto.chain_digest(GENESIS, b'{"action":"login"}')


def test_chain_digest_is_personalised_blake2b_256_of_previous_then_entry() -> None:
    """Independent implementation (hashlib) of what docs/CRYPTO.md specifies."""
    prev, entry = bytes(range(32)), b"entry bytes"
    expected = hashlib.blake2b(prev + entry, digest_size=32, person=b"sealbox-audit").digest()
    assert crypto.chain_digest(prev, entry) == expected
    unpersonalised = hashlib.blake2b(prev + entry, digest_size=32).digest()
    assert crypto.chain_digest(prev, entry) != unpersonalised


@given(links, links, st.binary(max_size=200), st.binary(max_size=200))
def test_chain_digest_changes_with_either_input(
    prev_a: bytes, prev_b: bytes, entry_a: bytes, entry_b: bytes
) -> None:
    same = prev_a == prev_b and entry_a == entry_b
    assert (crypto.chain_digest(prev_a, entry_a) == crypto.chain_digest(prev_b, entry_b)) == same


def test_chain_detects_a_changed_entry_anywhere_downstream() -> None:
    entries = [f"entry {i}".encode() for i in range(10)]

    def chain(items: list[bytes]) -> list[bytes]:
        out, prev = [], GENESIS
        for e in items:
            prev = crypto.chain_digest(prev, e)
            out.append(prev)
        return out

    original = chain(entries)
    for i in range(10):
        altered = chain([*entries[:i], b"entry X", *entries[i + 1 :]])
        assert altered[:i] == original[:i]
        assert all(a != b for a, b in zip(altered[i:], original[i:], strict=True))


def test_keyed_digest_differs_per_key_and_per_data() -> None:
    k1, k2 = crypto.new_key(), crypto.new_key()
    d = crypto.keyed_digest(k1, b"198.51.100.7")
    assert len(d) == 32
    assert d == crypto.keyed_digest(k1, b"198.51.100.7")
    assert d != crypto.keyed_digest(k2, b"198.51.100.7")
    assert d != crypto.keyed_digest(k1, b"198.51.100.8")
    assert d != crypto.chain_digest(k1, b"198.51.100.7")


def test_keyed_digest_is_keyed_personalised_blake2b_256() -> None:
    key, data = bytes(range(32)), b"session token"
    expected = hashlib.blake2b(data, digest_size=32, key=key, person=b"sealbox-keyed").digest()
    assert crypto.keyed_digest(key, data) == expected


@given(st.binary(min_size=16, max_size=64), st.binary(min_size=16, max_size=64), st.binary())
def test_keyed_digest_key_separation(k1: bytes, k2: bytes, data: bytes) -> None:
    assert (crypto.keyed_digest(k1, data) == crypto.keyed_digest(k2, data)) == (k1 == k2)


@given(
    data=st.binary(max_size=3000),
    person=st.binary(max_size=16),
    key=st.binary(max_size=64),
    size=st.integers(min_value=1, max_value=64),
    cut=st.integers(min_value=0, max_value=3000),
)
def test_the_blake2b_primitive_is_libsodiums_generic_hash(
    data: bytes, person: bytes, key: bytes, size: int, cut: int
) -> None:
    """``crypto._primitives`` hashes with hashlib for speed: it must be, byte for byte,
    libsodium's ``crypto_generichash_blake2b_salt_personal`` (what docs/CRYPTO.md names and
    the browser calls), in one piece and fed in two."""
    import nacl.bindings

    from crypto import _primitives as p

    sodium = bytes(nacl.bindings.crypto_generichash_blake2b_salt_personal(
        data, digest_size=size, key=key, person=person.ljust(16, b"\0")))
    assert p.blake2b(data, person=person, key=key, size=size) == sodium
    if not key:
        stream = p.Blake2bStream(person=person, size=size)
        stream.update(data[:cut])
        stream.update(data[cut:])
        assert stream.digest() == sodium
