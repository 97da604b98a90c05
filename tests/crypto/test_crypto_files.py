"""Streaming file encryption (secretstream): round trips, exact sizes, every kind of
truncation/reordering/tampering, and bounded memory. Real libsodium, no mocks."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crypto

C = crypto.CHUNK_SIZE
CTX = crypto.Context("c-91b2", "attachment:5")
PREAMBLE = 8  # "SBF" | version | chunk size u32
HEADER = 24  # secretstream header
ABYTES = 17  # per chunk: 1 encrypted tag byte + 16-byte MAC


def seal(key: bytes, data: bytes, ctx: crypto.Context = CTX, chunk_size: int = C) -> bytes:
    return b"".join(crypto.encrypt_stream(key, [data], ctx, chunk_size))


def unseal(key: bytes, sealed: bytes, ctx: crypto.Context = CTX) -> bytes:
    return b"".join(crypto.decrypt_stream(key, io.BytesIO(sealed), ctx))


def pattern(n: int) -> bytes:
    """Non-repeating-per-chunk content, so swapped chunks really differ."""
    return hashlib.shake_256(n.to_bytes(8, "big")).digest(n) if n else b""


def split_chunks(sealed: bytes, chunk_size: int) -> tuple[bytes, list[bytes]]:
    head, body = sealed[: PREAMBLE + HEADER], sealed[PREAMBLE + HEADER :]
    step = chunk_size + ABYTES
    return head, [body[i : i + step] for i in range(0, len(body), step)]


# --- round trips and sizes ------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, C - 1, C, C + 1, 2 * C, 3 * C, 3 * C + 5])
def test_round_trip_and_exact_size(size: int, tmp_path: Path) -> None:
    key = crypto.new_key()
    data = pattern(size)
    sealed = seal(key, data)
    assert len(sealed) == crypto.sealed_size(size)
    assert sealed[:4] == b"SBF\x01"
    assert int.from_bytes(sealed[4:8], "big") == C
    assert unseal(key, sealed) == data
    # Same through a real file, as attachments are stored.
    path = tmp_path / "blob"
    path.write_bytes(sealed)
    with path.open("rb") as f:
        assert b"".join(crypto.decrypt_stream(key, f, CTX)) == data


def test_number_of_chunks() -> None:
    key = crypto.new_key()
    for size, chunks in [(0, 1), (1, 1), (C, 1), (C + 1, 2), (3 * C, 3), (3 * C + 1, 4)]:
        assert len(seal(key, pattern(size))) == PREAMBLE + HEADER + size + chunks * ABYTES


def test_sealed_size_formula_for_many_sizes_and_chunk_sizes() -> None:
    key = crypto.new_key()
    for chunk_size in (1, 2, 3, 16, 100):
        for size in range(0, 5 * chunk_size + 3):
            assert len(seal(key, pattern(size), chunk_size=chunk_size)) == crypto.sealed_size(
                size, chunk_size
            ), (size, chunk_size)


@settings(max_examples=60, deadline=None)
@given(
    st.binary(max_size=3000),
    st.lists(st.integers(0, 3000), max_size=12),
    st.sampled_from([1, 7, 64, 500, C]),
)
def test_any_push_split_gives_the_same_plaintext(
    data: bytes, cuts: list[int], chunk_size: int
) -> None:
    key = crypto.new_key()
    bounds = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *bounds], [*bounds, len(data)], strict=True)]
    sealer = crypto.FileSealer(key, CTX, chunk_size)
    out = b"".join(sealer.push(p) for p in pieces) + sealer.finish()
    assert sealer.plaintext_size == len(data)
    assert len(out) == crypto.sealed_size(len(data), chunk_size)
    assert unseal(key, out) == data
    # The chunk size travels in the preamble; the reader needs no parameter.
    assert int.from_bytes(out[4:8], "big") == chunk_size


def test_sealer_emits_ciphertext_as_soon_as_a_chunk_is_complete() -> None:
    key = crypto.new_key()
    sealer = crypto.FileSealer(key, CTX, 100)
    # One full chunk pending might be the final one: only the preamble comes out.
    assert len(sealer.push(b"a" * 100)) == PREAMBLE + HEADER
    # More than one chunk pending: the first is sealed (non-final) and released.
    assert len(sealer.push(b"b")) == 100 + ABYTES
    assert len(sealer.finish()) == 1 + ABYTES


def test_sealer_holds_back_at_most_one_chunk() -> None:
    key = crypto.new_key()
    sealer = crypto.FileSealer(key, CTX, 100)
    emitted = 0
    for i in range(1, 50):
        emitted += len(sealer.push(b"x" * 37))
        pushed = 37 * i
        sealed_chunks = (emitted - PREAMBLE - HEADER) // (100 + ABYTES)
        assert pushed - sealed_chunks * 100 <= 100


def test_sealer_cannot_be_used_after_finish() -> None:
    sealer = crypto.FileSealer(crypto.new_key(), CTX)
    sealer.push(b"x")
    sealer.finish()
    with pytest.raises(ValueError):
        sealer.push(b"y")
    with pytest.raises(ValueError):
        sealer.finish()


@pytest.mark.parametrize("chunk_size", [0, -1, 16 * 1024 * 1024 + 1])
def test_chunk_size_out_of_range(chunk_size: int) -> None:
    with pytest.raises(ValueError):
        crypto.FileSealer(crypto.new_key(), CTX, chunk_size)


def test_same_file_encrypts_differently_each_time() -> None:
    key = crypto.new_key()
    data = pattern(1000)
    a, b = seal(key, data), seal(key, data)
    assert a != b
    assert a[PREAMBLE : PREAMBLE + HEADER] != b[PREAMBLE : PREAMBLE + HEADER]
    assert data[:32] not in a


# --- truncation, reordering, splicing, tampering --------------------------------------

SMALL = 64  # small chunks so exhaustive tampering stays fast


def four_chunk_file() -> tuple[bytes, bytes, bytes]:
    """(key, plaintext, sealed): three full chunks of SMALL bytes and a final partial one."""
    key = crypto.new_key()
    data = pattern(3 * SMALL + 20)
    return key, data, seal(key, data, chunk_size=SMALL)


def test_every_truncation_fails() -> None:
    """Covers cutting the preamble, the stream header, mid-chunk, and exactly at a chunk
    boundary (the final chunk dropped)."""
    key, _, sealed = four_chunk_file()
    for length in range(len(sealed)):
        with pytest.raises(crypto.DecryptionError):
            unseal(key, sealed[:length])


def test_dropping_the_final_chunk_fails_after_yielding_the_rest() -> None:
    key, data, sealed = four_chunk_file()
    head, chunks = split_chunks(sealed, SMALL)
    assert len(chunks) == 4
    received = []
    with pytest.raises(crypto.DecryptionError):
        for piece in crypto.decrypt_stream(key, io.BytesIO(head + b"".join(chunks[:3])), CTX):
            received.append(piece)
    # Streaming: verified chunks were released, so a caller must treat the error as a
    # failed download, not a short file.
    assert b"".join(received) == data[: 3 * SMALL]


def test_reordered_dropped_duplicated_chunks_fail() -> None:
    key, data, sealed = four_chunk_file()
    head, ch = split_chunks(sealed, SMALL)
    assert unseal(key, head + b"".join(ch)) == data
    variants = {
        "swap 0 and 1": [ch[1], ch[0], ch[2], ch[3]],
        "swap 1 and 2": [ch[0], ch[2], ch[1], ch[3]],
        "final moved earlier": [ch[0], ch[3], ch[1], ch[2]],
        "drop a middle chunk": [ch[0], ch[2], ch[3]],
        "drop the first chunk": [ch[1], ch[2], ch[3]],
        "duplicate a chunk": [ch[0], ch[1], ch[1], ch[2], ch[3]],
        "duplicate the final chunk": [ch[0], ch[1], ch[2], ch[3], ch[3]],
        "only the final chunk": [ch[3]],
    }
    for name, chunks in variants.items():
        with pytest.raises(crypto.DecryptionError):
            unseal(key, head + b"".join(chunks))
            pytest.fail(name)


@pytest.mark.parametrize("extra", [b"\0", b"garbage", b"x" * (SMALL + ABYTES)])
def test_appended_data_fails(extra: bytes) -> None:
    key, _, sealed = four_chunk_file()
    with pytest.raises(crypto.DecryptionError):
        unseal(key, sealed + extra)


@pytest.mark.parametrize("extra", [b"\0", b"x" * (SMALL + ABYTES)])
def test_appended_data_after_a_full_final_chunk_fails(extra: bytes) -> None:
    """When the plaintext is a multiple of the chunk size the last read ends exactly at
    the FINAL chunk, so only the explicit end-of-input check catches what follows it."""
    key = crypto.new_key()
    for size in (SMALL, 3 * SMALL):
        sealed = seal(key, pattern(size), chunk_size=SMALL)
        assert unseal(key, sealed) == pattern(size)
        with pytest.raises(crypto.DecryptionError):
            unseal(key, sealed + extra)


def test_chunks_from_another_file_fail() -> None:
    key = crypto.new_key()
    a = seal(key, pattern(3 * SMALL), chunk_size=SMALL)
    b = seal(key, pattern(3 * SMALL + 1), chunk_size=SMALL)
    head_a, ch_a = split_chunks(a, SMALL)
    _, ch_b = split_chunks(b, SMALL)
    with pytest.raises(crypto.DecryptionError):
        unseal(key, head_a + ch_a[0] + ch_b[1] + ch_a[2])


def test_every_flipped_bit_fails() -> None:
    key = crypto.new_key()
    sealed = seal(key, pattern(2 * SMALL + 10), chunk_size=SMALL)
    for bit in range(len(sealed) * 8):
        tampered = bytearray(sealed)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(crypto.DecryptionError):
            unseal(key, bytes(tampered))


@pytest.mark.parametrize("size", [0, 5, 1000])
def test_changed_chunk_size_in_preamble_fails(size: int) -> None:
    """The preamble is authenticated: a one-chunk file would otherwise still read back
    under any chunk size large enough to hold its only chunk."""
    key = crypto.new_key()
    sealed = seal(key, pattern(size))
    for other in (size + 1, 2 * C, C - 1, 16 * 1024 * 1024):
        tampered = sealed[:4] + other.to_bytes(4, "big") + sealed[8:]
        with pytest.raises(crypto.DecryptionError):
            unseal(key, tampered)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_flipped_bit_anywhere_in_a_multi_chunk_file_fails(data: st.DataObject) -> None:
    key = crypto.new_key()
    sealed = seal(key, pattern(C + 100))
    bit = data.draw(st.integers(0, len(sealed) * 8 - 1))
    tampered = bytearray(sealed)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(crypto.DecryptionError):
        unseal(key, bytes(tampered))


@pytest.mark.parametrize("head", [b"", b"SB", b"XBF\x01", b"SBF\x02", b"SBF\x00"])
def test_bad_preamble_fails(head: bytes) -> None:
    key = crypto.new_key()
    sealed = seal(key, b"hello")
    bad = head + sealed[len(head) :] if len(head) >= 4 else head
    with pytest.raises(crypto.DecryptionError):
        unseal(key, bad)


def test_wrong_key_fails() -> None:
    sealed = seal(crypto.new_key(), pattern(C + 1))
    with pytest.raises(crypto.DecryptionError):
        unseal(crypto.new_key(), sealed)


@pytest.mark.parametrize(
    "other",
    [
        crypto.Context("c-91b2", "attachment:6"),
        crypto.Context("c-91b3", "attachment:5"),
        crypto.Context("c-91b2", "attachment-meta:5"),
    ],
)
def test_wrong_context_fails(other: crypto.Context) -> None:
    key = crypto.new_key()
    for size in (0, 10, C + 1):
        with pytest.raises(crypto.DecryptionError):
            unseal(key, seal(key, pattern(size)), other)


# --- memory: never the whole file -----------------------------------------------------

BIG = 64 * 1024 * 1024
PIECE = 64 * 1024


def big_plaintext() -> Iterator[bytes]:
    """64 MiB made lazily, piece by piece; each piece distinct."""
    for i in range(BIG // PIECE):
        yield i.to_bytes(8, "big") * (PIECE // 8)


def test_encrypt_and_decrypt_of_64_mib_stay_in_bounded_memory(tmp_path: Path) -> None:
    key = crypto.new_key()
    path = tmp_path / "big.sealed"
    limit = 2 * 1024 * 1024  # 1/32 of the file

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with path.open("wb") as out:
            for piece in crypto.encrypt_stream(key, big_plaintext(), CTX):
                out.write(piece)
        _, encrypt_peak = tracemalloc.get_traced_memory()

        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as f:
            for piece in crypto.decrypt_stream(key, f, CTX):
                digest.update(piece)
                size += len(piece)
        _, decrypt_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert path.stat().st_size == crypto.sealed_size(BIG)
    assert size == BIG
    expected = hashlib.sha256()
    for piece in big_plaintext():
        expected.update(piece)
    assert digest.digest() == expected.digest()
    assert encrypt_peak < limit, f"encrypt peaked at {encrypt_peak} bytes"
    assert decrypt_peak < limit, f"decrypt peaked at {decrypt_peak} bytes"
