"""Per-case keys, records encrypted under them, and keys wrapped to recipients.

Every ciphertext is bound to a :class:`Context` (the case it belongs to and what it is
for). A record moved to another case, or a note relabelled as a reply, fails to decrypt
instead of being shown in the wrong place. Formats are specified in docs/CRYPTO.md.
"""

from __future__ import annotations

import hmac
import struct
from dataclasses import dataclass

from crypto import _primitives as p
from crypto._primitives import DecryptionError

RECORD_VERSION = 1
WRAP_VERSION = 1
_BINDING_MAGIC = b"SBX"


@dataclass(frozen=True)
class Context:
    """What a ciphertext belongs to: a case (or other owner) id and a purpose label."""

    owner_id: str
    purpose: str

    def binding(self, version: int) -> bytes:
        owner = self.owner_id.encode()
        purpose = self.purpose.encode()
        return (
            _BINDING_MAGIC
            + bytes([version])
            + struct.pack(">H", len(owner))
            + owner
            + struct.pack(">H", len(purpose))
            + purpose
        )


@dataclass(frozen=True)
class CaseKeys:
    """The random symmetric keys of a case (docs/CRYPTO.md, "Keys per case and purposes").

    The identity key is not here: each identity record gets its own key when the reporter
    discloses (docs/CRYPTO.md), so a later disclosure needs no key the reporter holds."""

    thread: bytes
    internal: bytes


def new_key() -> bytes:
    return p.random_bytes(p.KEY_BYTES)


def new_case_keys() -> CaseKeys:
    return CaseKeys(thread=new_key(), internal=new_key())


def encrypt_record(key: bytes, plaintext: bytes, context: Context) -> bytes:
    """Encrypt one record: ``version(1) | nonce(24) | ciphertext | tag(16)``."""
    _check_key(key)
    nonce, ciphertext = p.aead_encrypt(key, plaintext, context.binding(RECORD_VERSION))
    return bytes([RECORD_VERSION]) + nonce + ciphertext


def decrypt_record(key: bytes, record: bytes, context: Context) -> bytes:
    _check_key(key)
    if len(record) < 1 + p.XNONCE_BYTES + p.AEAD_TAG_BYTES or record[0] != RECORD_VERSION:
        raise DecryptionError("not a version-1 record")
    nonce = record[1 : 1 + p.XNONCE_BYTES]
    return p.aead_decrypt(key, nonce, record[1 + p.XNONCE_BYTES :], context.binding(RECORD_VERSION))


def seal_for(public_key: bytes, secret: bytes, context: Context) -> bytes:
    """Wrap a secret (usually a case key) to one recipient's X25519 public key.

    Sealed boxes carry no associated data, so the context binding is sealed inside with the
    secret and compared on opening. Format: ``version(1) | sealed box``.
    """
    _check_key(public_key)
    inner = context.binding(WRAP_VERSION) + secret
    return bytes([WRAP_VERSION]) + p.seal(public_key, inner)


def open_with(
    private_key: bytes, wrapped: bytes, context: Context, *, public_key: bytes | None = None
) -> bytes:
    """Unwrap what :func:`seal_for` made, checking it was made for this context.

    ``public_key`` (the private key's own, from :func:`public_key_of`) saves deriving it
    again when many keys are opened in a row, as a search does."""
    _check_key(private_key)
    if not wrapped or wrapped[0] != WRAP_VERSION:
        raise DecryptionError("not a version-1 wrapped key")
    inner = p.seal_open(private_key, wrapped[1:], public_key)
    expected = context.binding(WRAP_VERSION)
    if len(inner) < len(expected) or not hmac.compare_digest(inner[: len(expected)], expected):
        raise DecryptionError("wrapped key belongs to another context")
    return inner[len(expected) :]


def record_size(plaintext_bytes: int) -> int:
    """The length of a record sealing ``plaintext_bytes`` (docs/CRYPTO.md: 41 + P)."""
    return 1 + p.XNONCE_BYTES + plaintext_bytes + p.AEAD_TAG_BYTES


def wrapped_size(context: Context, secret_bytes: int = p.KEY_BYTES) -> int:
    """The length of what :func:`seal_for` makes for this context and secret length, so
    a wrapped key made elsewhere (the reporter's browser) can be checked by its form."""
    return 1 + p.SEAL_OVERHEAD_BYTES + len(context.binding(WRAP_VERSION)) + secret_bytes


def new_keypair() -> tuple[bytes, bytes]:
    """A fresh X25519 key pair: (private, public)."""
    return p.x25519_keypair_from_seed(p.random_bytes(p.KEY_BYTES))


def public_key_of(private_key: bytes) -> bytes:
    _check_key(private_key)
    return p.x25519_public_from_private(private_key)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != p.KEY_BYTES:
        raise ValueError("keys are 32 bytes")
