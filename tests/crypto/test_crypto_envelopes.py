"""Records (XChaCha20-Poly1305 bound to a context) and wrapped keys (sealed boxes with the
context sealed inside). Real libsodium, no mocks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crypto

CTX = crypto.Context("c-7f3a", "message:report:1")
HEADER = 1 + 24  # version + nonce
TAG = 16

texts = st.text(max_size=40)
contexts = st.builds(crypto.Context, texts, texts)


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- records --------------------------------------------------------------------------


@given(st.binary(max_size=4096), contexts)
def test_record_round_trip(plaintext: bytes, context: crypto.Context) -> None:
    key = crypto.new_key()
    record = crypto.encrypt_record(key, plaintext, context)
    assert len(record) == HEADER + len(plaintext) + TAG
    assert record[0] == 1
    assert crypto.decrypt_record(key, record, context) == plaintext


def test_record_does_not_contain_its_plaintext() -> None:
    plaintext = b"the director took the money " * 4
    record = crypto.encrypt_record(crypto.new_key(), plaintext, CTX)
    assert b"director" not in record


def test_wrong_key_fails() -> None:
    record = crypto.encrypt_record(crypto.new_key(), b"secret", CTX)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_record(crypto.new_key(), record, CTX)


def test_wrong_case_id_fails() -> None:
    key = crypto.new_key()
    record = crypto.encrypt_record(key, b"secret", crypto.Context("case-1", "message:report:1"))
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_record(key, record, crypto.Context("case-2", "message:report:1"))


def test_wrong_purpose_fails() -> None:
    key = crypto.new_key()
    record = crypto.encrypt_record(key, b"a note", crypto.Context("case-1", "message:note:9"))
    for purpose in ("message:reply:9", "message:note:10", "message:note:9 ", "MESSAGE:NOTE:9", ""):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_record(key, record, crypto.Context("case-1", purpose))


def test_context_fields_cannot_be_shifted_into_each_other() -> None:
    """The binding length-prefixes both fields: ("ab", "c") is not ("a", "bc")."""
    key = crypto.new_key()
    record = crypto.encrypt_record(key, b"x", crypto.Context("ab", "c"))
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_record(key, record, crypto.Context("a", "bc"))
    assert crypto.Context("ab", "c").binding(1) != crypto.Context("a", "bc").binding(1)


@given(contexts, contexts)
def test_context_binding_is_injective(a: crypto.Context, b: crypto.Context) -> None:
    assert (a.binding(1) == b.binding(1)) == (a == b)
    assert a.binding(1) != a.binding(2)


@given(st.binary(max_size=300), st.data())
def test_any_flipped_bit_fails(plaintext: bytes, data: st.DataObject) -> None:
    key = crypto.new_key()
    record = crypto.encrypt_record(key, plaintext, CTX)
    bit = data.draw(st.integers(0, len(record) * 8 - 1))
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_record(key, flip(record, bit), CTX)


def test_every_flipped_bit_of_a_short_record_fails() -> None:
    key = crypto.new_key()
    record = crypto.encrypt_record(key, b"hi", CTX)
    for bit in range(len(record) * 8):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_record(key, flip(record, bit), CTX)


def test_every_truncation_and_any_extension_fails() -> None:
    key = crypto.new_key()
    record = crypto.encrypt_record(key, b"twelve bytes", CTX)
    for length in range(len(record)):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_record(key, record[:length], CTX)
    for extra in (b"\0", b"x" * 16):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_record(key, record + extra, CTX)


@pytest.mark.parametrize("version", [0, 2, 0x81, 255])
def test_wrong_version_byte_fails(version: int) -> None:
    key = crypto.new_key()
    record = crypto.encrypt_record(key, b"secret", CTX)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_record(key, bytes([version]) + record[1:], CTX)


def test_same_plaintext_encrypts_differently_each_time() -> None:
    key = crypto.new_key()
    records = [crypto.encrypt_record(key, b"same", CTX) for _ in range(50)]
    assert len(set(records)) == 50
    assert len({r[1:HEADER] for r in records}) == 50  # fresh 24-byte nonces
    assert all(crypto.decrypt_record(key, r, CTX) == b"same" for r in records)


@pytest.mark.parametrize("bad", [b"", b"\0" * 31, b"\0" * 33, "k" * 32])
def test_keys_must_be_32_bytes(bad: object) -> None:
    with pytest.raises(ValueError):
        crypto.encrypt_record(bad, b"x", CTX)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        crypto.decrypt_record(bad, b"\1" + b"\0" * 40, CTX)  # type: ignore[arg-type]


# --- wrapped keys (sealed boxes) ------------------------------------------------------


@settings(max_examples=50)
@given(st.binary(max_size=200), contexts)
def test_seal_for_open_with_round_trip(secret: bytes, context: crypto.Context) -> None:
    private, public = crypto.new_keypair()
    wrapped = crypto.seal_for(public, secret, context)
    assert wrapped[0] == 1
    assert len(wrapped) == 1 + 48 + len(context.binding(1)) + len(secret)
    assert crypto.open_with(private, wrapped, context) == secret


def test_open_with_a_public_key_given_once_for_many() -> None:
    """A search passes the caseworker's own public key instead of deriving it per box;
    a wrong one only fails to open, it never opens anything else."""
    private, public = crypto.new_keypair()
    secret = crypto.new_key()
    wrapped = crypto.seal_for(public, secret, CTX)
    assert crypto.public_key_of(private) == public
    assert crypto.open_with(private, wrapped, CTX, public_key=public) == secret
    _, stranger = crypto.new_keypair()
    with pytest.raises(crypto.DecryptionError):
        crypto.open_with(private, wrapped, CTX, public_key=stranger)


def test_wrapped_key_for_someone_else_fails() -> None:
    _, public = crypto.new_keypair()
    other_private, _ = crypto.new_keypair()
    wrapped = crypto.seal_for(public, crypto.new_key(), CTX)
    with pytest.raises(crypto.DecryptionError):
        crypto.open_with(other_private, wrapped, CTX)


@pytest.mark.parametrize(
    "other",
    [
        crypto.Context("case-2", "thread-key"),
        crypto.Context("case-1", "internal-key"),
        crypto.Context("case-1", "identity-key:1"),
        crypto.Context("case-1", "thread-ke"),
        crypto.Context("case-1", "thread-key2"),
        crypto.Context("case-1thread-key", ""),
    ],
)
def test_wrapped_key_context_mismatch_fails(other: crypto.Context) -> None:
    private, public = crypto.new_keypair()
    key = crypto.new_key()
    wrapped = crypto.seal_for(public, key, crypto.Context("case-1", "thread-key"))
    assert crypto.open_with(private, wrapped, crypto.Context("case-1", "thread-key")) == key
    with pytest.raises(crypto.DecryptionError):
        crypto.open_with(private, wrapped, other)


def test_every_flipped_bit_of_a_wrapped_key_fails() -> None:
    private, public = crypto.new_keypair()
    wrapped = crypto.seal_for(public, crypto.new_key(), CTX)
    for bit in range(len(wrapped) * 8):
        with pytest.raises(crypto.DecryptionError):
            crypto.open_with(private, flip(wrapped, bit), CTX)


def test_truncated_or_empty_wrapped_key_fails() -> None:
    private, public = crypto.new_keypair()
    wrapped = crypto.seal_for(public, crypto.new_key(), CTX)
    for length in range(len(wrapped)):
        with pytest.raises(crypto.DecryptionError):
            crypto.open_with(private, wrapped[:length], CTX)
    with pytest.raises(crypto.DecryptionError):
        crypto.open_with(private, wrapped + b"\0", CTX)


def test_wrapped_keys_differ_each_time() -> None:
    private, public = crypto.new_keypair()
    key = crypto.new_key()
    wraps = {crypto.seal_for(public, key, CTX) for _ in range(20)}
    assert len(wraps) == 20  # fresh ephemeral key per sealed box
    assert all(crypto.open_with(private, w, CTX) == key for w in wraps)


# --- keys -----------------------------------------------------------------------------


def test_new_case_keys_are_distinct_random_32_byte_keys() -> None:
    seen: set[bytes] = set()
    for _ in range(50):
        keys = crypto.new_case_keys()
        trio = (keys.thread, keys.internal)
        assert all(isinstance(k, bytes) and len(k) == 32 for k in trio)
        assert len(set(trio)) == 2
        seen.update(trio)
    assert len(seen) == 100


def test_new_keypair_and_public_key_of_agree() -> None:
    pairs = [crypto.new_keypair() for _ in range(20)]
    assert len({priv for priv, _ in pairs}) == 20
    for private, public in pairs:
        assert len(private) == 32 and len(public) == 32
        assert crypto.public_key_of(private) == public
    with pytest.raises(ValueError):
        crypto.public_key_of(b"short")
