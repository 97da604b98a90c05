"""Thin, typed wrappers over the libsodium primitives Sealbox uses (via PyNaCl), and
BLAKE2b from Python's ``hashlib``, which computes libsodium's generic hash.

Nothing outside ``crypto/`` imports this module: the recipes in the sibling modules are
the public surface. Every function here does exactly one primitive operation.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import nacl.bindings as sodium
import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.signing

KEY_BYTES = 32
XNONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
AEAD_TAG_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16
ARGON2_SALT_BYTES = argon2id.SALTBYTES  # 16
SEAL_OVERHEAD_BYTES = sodium.crypto_box_SEALBYTES  # 48
STREAM_HEADER_BYTES = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES  # 24
STREAM_ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class DecryptionError(Exception):
    """A ciphertext failed authentication: wrong key, wrong context, or tampering."""


def random_bytes(n: int) -> bytes:
    return secrets.token_bytes(n)


def aead_encrypt(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """XChaCha20-Poly1305 with a fresh random 192-bit nonce: random nonces never repeat
    in practice at this size, so no nonce state has to be kept."""
    nonce = random_bytes(XNONCE_BYTES)
    return nonce, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def aead_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return bytes(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key))
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, TypeError) as exc:
        raise DecryptionError("ciphertext failed authentication") from exc


def x25519_keypair_from_seed(seed: bytes) -> tuple[bytes, bytes]:
    """Return (private, public). Any 32 bytes are a valid X25519 private key (clamped)."""
    return seed, sodium.crypto_scalarmult_base(seed)


def x25519_public_from_private(private_key: bytes) -> bytes:
    return bytes(sodium.crypto_scalarmult_base(private_key))


def ed25519_public_from_seed(seed: bytes) -> bytes:
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def ed25519_sign(seed: bytes, message: bytes) -> bytes:
    """A detached Ed25519 signature (64 bytes) by the key made from a 32-byte seed."""
    return bytes(nacl.signing.SigningKey(seed).sign(message).signature)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, TypeError):
        return False
    return True


def seal(public_key: bytes, plaintext: bytes) -> bytes:
    return bytes(sodium.crypto_box_seal(plaintext, public_key))


def seal_open(private_key: bytes, ciphertext: bytes, public_key: bytes | None = None) -> bytes:
    """Open a sealed box. A caller opening many passes its public key once computed: it
    costs a scalar multiplication per call otherwise. A wrong one only fails to open."""
    if public_key is None:
        public_key = x25519_public_from_private(private_key)
    try:
        return bytes(sodium.crypto_box_seal_open(ciphertext, public_key, private_key))
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, TypeError) as exc:
        raise DecryptionError("sealed box failed to open") from exc


def blake2b(data: bytes, *, person: bytes, key: bytes = b"", size: int = 32) -> bytes:
    """BLAKE2b with a personalisation string, so hashes made for one purpose never
    collide with hashes made for another.

    Python's own BLAKE2b (the BLAKE2 authors' reference code in ``hashlib``) computes
    exactly libsodium's ``crypto_generichash_blake2b_salt_personal`` (tests/crypto compares
    the two): called through PyNaCl, each small hash spent about 8 µs checking its
    arguments in Python against hashlib's 1.4 µs, and the audit chain and the content
    digests make millions of them (docs/PERFORMANCE.md, "PostgreSQL at a million
    cases")."""
    return hashlib.blake2b(data, digest_size=size, key=key, person=person).digest()


class Blake2bStream:
    """BLAKE2b over data that arrives in pieces (a file's ciphertext as it is written)."""

    def __init__(self, *, person: bytes, size: int = 32) -> None:
        self._state = hashlib.blake2b(digest_size=size, person=person)

    def update(self, data: bytes) -> None:
        self._state.update(data)

    def digest(self) -> bytes:
        return self._state.digest()


class _MemoryBudget:
    """Counts the MiB of Argon2id memory in use and makes callers wait for room.

    A flood of receipt look-ups or logins could otherwise start one 64 MiB derivation per
    request thread and exhaust the host; with the budget the excess queues instead.
    """

    def __init__(self, budget_mib: int) -> None:
        self._budget = budget_mib
        self._in_use = 0
        self._cond = threading.Condition()

    def resize(self, budget_mib: int) -> None:
        with self._cond:
            self._budget = budget_mib
            self._cond.notify_all()

    @contextmanager
    def reserve(self, mib: int) -> Iterator[None]:
        # A single derivation larger than the whole budget still runs, alone.
        need = min(mib, self._budget)
        with self._cond:
            self._cond.wait_for(lambda: self._in_use + need <= self._budget)
            self._in_use += need
        try:
            yield
        finally:
            with self._cond:
                self._in_use -= need
                self._cond.notify_all()

    @property
    def in_use(self) -> int:
        with self._cond:
            return self._in_use


ARGON2_BUDGET = _MemoryBudget(budget_mib=512)


def argon2id_kdf(size: int, secret: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    """Argon2id (libsodium, v1.3), bounded by the process-wide memory budget."""
    with ARGON2_BUDGET.reserve(max(1, memlimit // (1024 * 1024))):
        return bytes(argon2id.kdf(size, secret, salt, opslimit=opslimit, memlimit=memlimit))


class StreamPusher:
    """One secretstream encryption state."""

    def __init__(self, key: bytes) -> None:
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        self.header = bytes(header)

    def push(self, chunk: bytes, aad: bytes, *, final: bool) -> bytes:
        tag = TAG_FINAL if final else TAG_MESSAGE
        return bytes(
            sodium.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, aad, tag)
        )


class StreamPuller:
    """One secretstream decryption state."""

    def __init__(self, key: bytes, header: bytes) -> None:
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        try:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)
        except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, TypeError) as exc:
            raise DecryptionError("bad stream header") from exc

    def pull(self, chunk: bytes, aad: bytes) -> tuple[bytes, bool]:
        """Return (plaintext, is_final)."""
        try:
            plaintext, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                self._state, chunk, aad
            )
        except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, TypeError) as exc:
            raise DecryptionError("stream chunk failed authentication") from exc
        return bytes(plaintext), tag == TAG_FINAL
