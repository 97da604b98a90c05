"""Caseworker key wrapping, login password hashes, the split session secret and the
organisation recovery key. Real libsodium and argon2-cffi, no mocks."""

from __future__ import annotations

import base64
import hashlib
import statistics
import struct
import time

import pytest

import crypto

MIB = 1024 * 1024
FAST = crypto.KdfParams(1, 8 * MIB)
HEADER = struct.Struct(">BII16s")  # version, opslimit, memlimit KiB, salt
WRAPPED_LEN = HEADER.size + 24 + 32 + 16  # header | nonce | ciphertext | tag


# --- caseworker private keys ----------------------------------------------------------


def test_new_caseworker_keys_unlock_to_the_matching_private_key() -> None:
    public, wrapped = crypto.new_caseworker_keys("correct horse battery staple", FAST)
    private = crypto.unlock_private_key(wrapped, "correct horse battery staple")
    assert len(public) == 32 and len(private) == 32
    assert crypto.public_key_of(private) == public
    assert private not in wrapped


def test_wrapped_private_key_layout_carries_its_parameters() -> None:
    _, wrapped = crypto.new_caseworker_keys("pw", FAST)
    assert len(wrapped) == WRAPPED_LEN
    version, opslimit, mem_kib, salt = HEADER.unpack(wrapped[: HEADER.size])
    assert (version, opslimit, mem_kib) == (1, 1, 8 * 1024)
    _, again = crypto.new_caseworker_keys("pw", FAST)
    assert again[HEADER.size - 16 : HEADER.size] != salt  # fresh salt per wrapping


def test_non_ascii_passphrase_round_trips() -> None:
    passphrase = "Grüße, ميرا, 秘密 🔑"
    public, wrapped = crypto.new_caseworker_keys(passphrase, FAST)
    assert crypto.public_key_of(crypto.unlock_private_key(wrapped, passphrase)) == public


@pytest.mark.parametrize("wrong", ["", "Correct horse", "correct horse ", "correct hors"])
def test_wrong_passphrase(wrong: str) -> None:
    _, wrapped = crypto.new_caseworker_keys("correct horse", FAST)
    with pytest.raises(crypto.WrongPassphrase):
        crypto.unlock_private_key(wrapped, wrong)


def test_wrap_private_key_puts_a_given_key_under_a_new_passphrase() -> None:
    """A passphrase change makes a new key pair (cases.accounts.enrolment) and wraps it
    like this."""
    private, public = crypto.new_keypair()
    new_params = crypto.KdfParams(2, 16 * MIB)
    wrapped = crypto.wrap_private_key(private, "new passphrase", new_params)
    assert HEADER.unpack(wrapped[: HEADER.size])[1:3] == (2, 16 * 1024)
    assert crypto.unlock_private_key(wrapped, "new passphrase") == private
    assert crypto.public_key_of(private) == public
    with pytest.raises(crypto.WrongPassphrase):
        crypto.unlock_private_key(wrapped, "old passphrase")


def test_tampered_wrapped_key_fails() -> None:
    passphrase = "pw"
    _, wrapped = crypto.new_caseworker_keys(passphrase, FAST)
    # Every byte after the cost fields: salt (AAD and KEK input), nonce, ciphertext, tag.
    for offset in range(9, len(wrapped)):
        tampered = bytearray(wrapped)
        tampered[offset] ^= 0x01
        with pytest.raises(crypto.WrongPassphrase):
            crypto.unlock_private_key(bytes(tampered), passphrase)
    # The cost fields are authenticated too (they are part of the AAD): nudging them to
    # another valid (cheap) value derives another key and fails the tag.
    for offset, mask in ((4, 0x02), (8, 0x01)):  # opslimit 1 -> 3; memlimit 8192 -> 8193 KiB
        tampered = bytearray(wrapped)
        tampered[offset] ^= mask
        with pytest.raises(crypto.WrongPassphrase):
            crypto.unlock_private_key(bytes(tampered), passphrase)


def test_bad_version_or_short_blob_is_a_decryption_error() -> None:
    _, wrapped = crypto.new_caseworker_keys("pw", FAST)
    with pytest.raises(crypto.DecryptionError):
        crypto.unlock_private_key(b"\x02" + wrapped[1:], "pw")
    for length in (0, 1, HEADER.size, HEADER.size + 24 + 15):
        with pytest.raises(crypto.DecryptionError):
            crypto.unlock_private_key(wrapped[:length], "pw")
    # Cut inside the ciphertext: long enough to parse, fails authentication.
    with pytest.raises(crypto.WrongPassphrase):
        crypto.unlock_private_key(wrapped[:-1], "pw")


# --- login passwords ------------------------------------------------------------------


def test_hash_and_verify_password() -> None:
    h = crypto.hash_password("s3cret login")
    assert h.startswith("$argon2id$v=19$")
    assert "s3cret" not in h
    assert crypto.verify_password(h, "s3cret login")
    assert not crypto.verify_password(h, "s3cret logiN")
    assert not crypto.verify_password(h, "")
    assert crypto.hash_password("s3cret login") != h  # salted


@pytest.mark.parametrize("garbage", ["", "not a hash", "$argon2id$v=19$m=1,t=1,p=1$AAAA$BBBB"])
def test_verify_password_with_a_broken_hash_is_false(garbage: str) -> None:
    assert crypto.verify_password(garbage, "anything") is False


def test_burn_password_check_does_the_same_work_as_a_real_check() -> None:
    h = crypto.hash_password("real account")

    def median_seconds(fn: object) -> float:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    crypto.burn_password_check("guess")  # returns without error
    real = median_seconds(lambda: crypto.verify_password(h, "guess"))
    burn = median_seconds(lambda: crypto.burn_password_check("guess"))
    # Same Argon2id cost; a generous factor keeps a busy machine from flaking.
    assert burn > real / 4, f"burn {burn:.3f}s vs real check {real:.3f}s"


# --- split session secret -------------------------------------------------------------


def test_split_session_secret_round_trip() -> None:
    private, _ = crypto.new_keypair()
    cookie_key, server_part = crypto.split_session_secret(private, "sess-abc")
    assert len(cookie_key) == 32
    assert cookie_key != private
    assert private not in server_part
    assert crypto.join_session_secret(cookie_key, server_part, "sess-abc") == private


def test_join_with_wrong_cookie_key_fails() -> None:
    private, _ = crypto.new_keypair()
    _, server_part = crypto.split_session_secret(private, "sess-abc")
    with pytest.raises(crypto.DecryptionError):
        crypto.join_session_secret(crypto.new_key(), server_part, "sess-abc")


def test_join_with_wrong_session_id_fails() -> None:
    private, _ = crypto.new_keypair()
    cookie_key, server_part = crypto.split_session_secret(private, "sess-abc")
    with pytest.raises(crypto.DecryptionError):
        crypto.join_session_secret(cookie_key, server_part, "sess-abd")


def test_server_part_alone_is_insufficient() -> None:
    """The server part is a record under a fresh random cookie key: nothing stored on
    the server (the secret itself, the session id, a previous session's cookie key)
    opens it."""
    private, _ = crypto.new_keypair()
    old_cookie, _ = crypto.split_session_secret(private, "sess-1")
    cookie_key, server_part = crypto.split_session_secret(private, "sess-2")
    assert cookie_key != old_cookie
    session_id_key = hashlib.blake2b(b"sess-2", digest_size=32).digest()
    for candidate in (old_cookie, private, bytes(32), session_id_key):
        with pytest.raises(crypto.DecryptionError):
            crypto.join_session_secret(candidate, server_part, "sess-2")
    # And the same secret split twice shares nothing.
    _, again = crypto.split_session_secret(private, "sess-2")
    assert again != server_part


# --- recovery key ---------------------------------------------------------------------

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
FIXED_KEYS = [bytes(32), bytes(range(32)), b"\xff" * 32, hashlib.sha256(b"sealbox").digest()]
KEY_IDS = ["zeros", "0-to-31", "all-ff", "sha256-sealbox"]


def test_recovery_key_format() -> None:
    text, public = crypto.new_recovery_keypair()
    groups = text.split("-")
    assert [len(g) for g in groups] == [6] * 9 + [1]
    assert set("".join(groups)) <= set(B32)
    private = crypto.parse_recovery_key(text)
    assert crypto.public_key_of(private) == public
    raw = base64.b32decode("".join(groups) + "=")
    assert raw[:32] == private and len(raw) == 34


@pytest.mark.parametrize("private", FIXED_KEYS, ids=KEY_IDS)
def test_recovery_key_round_trip_is_case_and_spacing_insensitive(private: bytes) -> None:
    text = crypto.format_recovery_key(private)
    assert crypto.parse_recovery_key(text) == private
    compact = text.replace("-", "")
    for typed in (
        text.lower(),
        compact,
        compact.lower(),
        " ".join(text.split("-")),
        "  " + text.replace("-", " - ") + "\n",
        "\n".join(compact[i : i + 11] for i in range(0, len(compact), 11)),
    ):
        assert crypto.parse_recovery_key(typed) == private


@pytest.mark.parametrize("private", FIXED_KEYS, ids=KEY_IDS)
def test_every_single_character_change_is_caught(private: bytes) -> None:
    """Fixed keys keep this deterministic: the 16-bit checksum lets about 1 in 65,536
    random changes through, which these keys happen not to contain."""
    compact = crypto.format_recovery_key(private).replace("-", "")
    for i, ch in enumerate(compact):
        for other in B32:
            if other == ch:
                continue
            with pytest.raises(ValueError):
                crypto.parse_recovery_key(compact[:i] + other + compact[i + 1 :])


@pytest.mark.parametrize("private", FIXED_KEYS, ids=KEY_IDS)
def test_dropped_added_and_swapped_characters_are_caught(private: bytes) -> None:
    compact = crypto.format_recovery_key(private).replace("-", "")
    for i in range(len(compact)):
        with pytest.raises(ValueError):
            crypto.parse_recovery_key(compact[:i] + compact[i + 1 :])
        with pytest.raises(ValueError):
            crypto.parse_recovery_key(compact[:i] + "A" + compact[i:])
    for i in range(len(compact) - 1):
        if compact[i] != compact[i + 1]:
            with pytest.raises(ValueError):
                crypto.parse_recovery_key(
                    compact[:i] + compact[i + 1] + compact[i] + compact[i + 2 :]
                )


@pytest.mark.parametrize("text", ["", "-", "AAAA", "0" * 55, "1" * 55, "8" * 55, "é" * 55])
def test_non_recovery_keys_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        crypto.parse_recovery_key(text)


def test_passphrases_are_unicode_normalised() -> None:
    composed, decomposed = "caf\u00e9 passphrase", "cafe\u0301 passphrase"
    params = crypto.KdfParams(1, 8 * 1024 * 1024)
    _, wrapped = crypto.new_caseworker_keys(composed, params)
    assert crypto.unlock_private_key(wrapped, decomposed)
    assert crypto.verify_password(crypto.hash_password(composed, params), decomposed)


def test_login_hash_costs_as_much_as_the_key_wrapping() -> None:
    params = crypto.KdfParams(2, 16 * 1024 * 1024)
    assert "$m=16384,t=2,p=1$" in crypto.hash_password("a long passphrase", params)


def test_absurd_stored_cost_parameters_are_refused() -> None:
    import struct

    params = crypto.KdfParams(1, 8 * 1024 * 1024)
    _, wrapped = crypto.new_caseworker_keys("a long passphrase", params)
    version, _, mem_kib, salt = struct.unpack(">BII16s", wrapped[:25])
    forged = struct.pack(">BII16s", version, 2**31, mem_kib, salt) + wrapped[25:]
    with pytest.raises(crypto.DecryptionError, match="out-of-range"):
        crypto.unlock_private_key(forged, "a long passphrase")


def test_burn_check_also_runs_the_key_unwrap_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    from crypto import _primitives

    calls: list[int] = []
    real = _primitives.argon2id_kdf

    def counting(*args: object) -> bytes:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_primitives, "argon2id_kdf", counting)
    crypto.burn_password_check("guess", crypto.KdfParams(1, 8 * 1024 * 1024))
    assert len(calls) == 1  # the key-unwrap half; the argon2-cffi hash check is the other


def test_key_certificates_bind_the_account_and_the_key() -> None:
    from crypto import certify_key, key_is_certified, new_keypair, new_signing_key

    seed, verify_key = new_signing_key()
    _, public = new_keypair()
    _, other_public = new_keypair()
    certificate = certify_key(seed, 7, public)
    assert len(certificate) == 64
    assert key_is_certified(verify_key, 7, public, certificate)
    assert not key_is_certified(verify_key, 8, public, certificate)  # another account
    assert not key_is_certified(verify_key, 7, other_public, certificate)  # another key
    assert not key_is_certified(new_signing_key()[1], 7, public, certificate)  # another instance
    forged = bytes([certificate[0] ^ 1]) + certificate[1:]
    assert not key_is_certified(verify_key, 7, public, forged)
    assert not key_is_certified(verify_key, 7, public, None)
    assert not key_is_certified(verify_key, 7, public, b"")


def test_key_certificate_vector() -> None:
    """The signed bytes of docs/CRYPTO.md, checked with `cryptography`'s Ed25519."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from crypto import certify_key

    seed = bytes(range(32))
    public = bytes(range(32, 64))
    certificate = certify_key(seed, 7, public)
    signed = b"SBK" + bytes([1]) + (7).to_bytes(8, "big") + public
    Ed25519PrivateKey.from_private_bytes(seed).public_key().verify(certificate, signed)
    assert certificate.hex() == Ed25519PrivateKey.from_private_bytes(seed).sign(signed).hex()
