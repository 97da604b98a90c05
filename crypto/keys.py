"""Long-term keys of people: caseworker key pairs wrapped by passphrase, the certificates
that vouch for their public halves, login password hashes, the split session key, and the
organisation recovery key."""

from __future__ import annotations

import base64
import struct
import unicodedata
from functools import cache

import argon2

from crypto import _primitives as p
from crypto import contexts
from crypto._primitives import DecryptionError
from crypto.envelopes import Context, decrypt_record, encrypt_record, new_keypair
from crypto.receipts import KdfParams

PRIVATE_KEY_VERSION = 1
_WRAPPED_HEADER = struct.Struct(">BII16s")  # version, opslimit, memlimit KiB, salt


# Bounds on the cost parameters read back from a stored blob: someone able to write to the
# database must not be able to make a login run for hours or allocate the host's memory.
_MAX_OPSLIMIT = 16
_MAX_MEMLIMIT_KIB = 1024 * 1024


class WrongPassphrase(Exception):
    """The passphrase does not unwrap this private key."""


def _passphrase_bytes(passphrase: str) -> bytes:
    # The same passphrase typed on another keyboard or OS may arrive composed or
    # decomposed ("é" vs "e" + U+0301): normalise so both unlock.
    return unicodedata.normalize("NFC", passphrase).encode()


def _wrap_private_key(private_key: bytes, passphrase: str, params: KdfParams) -> bytes:
    salt = p.random_bytes(p.ARGON2_SALT_BYTES)
    header = _WRAPPED_HEADER.pack(
        PRIVATE_KEY_VERSION, params.opslimit, params.memlimit // 1024, salt
    )
    kek = p.argon2id_kdf(32, _passphrase_bytes(passphrase), salt, params.opslimit, params.memlimit)
    nonce, ciphertext = p.aead_encrypt(kek, private_key, header)
    return header + nonce + ciphertext


def new_caseworker_keys(passphrase: str, params: KdfParams) -> tuple[bytes, bytes]:
    """Return (public key, private key wrapped under the passphrase)."""
    private_key, public_key = new_keypair()
    return public_key, _wrap_private_key(private_key, passphrase, params)


def unlock_private_key(wrapped: bytes, passphrase: str) -> bytes:
    """Unwrap a caseworker's private key; the cost parameters travel with the blob."""
    size = _WRAPPED_HEADER.size
    if len(wrapped) < size + p.XNONCE_BYTES + p.AEAD_TAG_BYTES:
        raise DecryptionError("wrapped private key too short")
    version, opslimit, mem_kib, salt = _WRAPPED_HEADER.unpack(wrapped[:size])
    if version != PRIVATE_KEY_VERSION:
        raise DecryptionError("unknown wrapped private key version")
    if not (1 <= opslimit <= _MAX_OPSLIMIT and 8 <= mem_kib <= _MAX_MEMLIMIT_KIB):
        raise DecryptionError("wrapped private key has out-of-range cost parameters")
    kek = p.argon2id_kdf(32, _passphrase_bytes(passphrase), salt, opslimit, mem_kib * 1024)
    nonce = wrapped[size : size + p.XNONCE_BYTES]
    try:
        return p.aead_decrypt(kek, nonce, wrapped[size + p.XNONCE_BYTES :], wrapped[:size])
    except DecryptionError as exc:
        raise WrongPassphrase from exc


def wrap_private_key(private_key: bytes, passphrase: str, params: KdfParams) -> bytes:
    """Wrap a key pair made elsewhere: a passphrase change makes a new one
    (cases.accounts.enrolment), so the old passphrase and an old copy of the database open
    nothing stored after it."""
    return _wrap_private_key(private_key, passphrase, params)


@cache
def _hasher(params: KdfParams | None) -> argon2.PasswordHasher:
    if params is None:
        return argon2.PasswordHasher()
    # Same cost as the key wrapping: an attacker holding the database gains nothing by
    # guessing against the login hash instead of the wrapped private key.
    return argon2.PasswordHasher(
        time_cost=params.opslimit, memory_cost=params.memlimit // 1024, parallelism=1
    )


def hash_password(password: str, params: KdfParams | None = None) -> str:
    """Login verifier (argon2-cffi, its own salt): separate from the key wrapping above."""
    return _hasher(params).hash(unicodedata.normalize("NFC", password))


def verify_password(password_hash: str, password: str) -> bool:
    """Verify with the parameters recorded in the hash itself."""
    try:
        return _hasher(None).verify(password_hash, unicodedata.normalize("NFC", password))
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


@cache
def _dummy_hash(params: KdfParams | None) -> str:
    return hash_password("not a real account", params)


def burn_password_check(password: str, params: KdfParams | None = None) -> None:
    """Spend what a successful login spends (hash check, then key unwrap) for an unknown
    username. Pass the accounts' passphrase parameters, or the shorter time reveals the miss."""
    verify_password(_dummy_hash(params), password)
    if params is not None:
        salt = p.blake2b(b"sealbox-no-account", person=b"sealbox-burn", size=p.ARGON2_SALT_BYTES)
        p.argon2id_kdf(32, _passphrase_bytes(password), salt, params.opslimit, params.memlimit)


def split_session_secret(secret: bytes, session_id: str) -> tuple[bytes, bytes]:
    """Split a secret between the client and the server (docs/CRYPTO.md, "Session split key").

    Returns (cookie key, server part): the cookie key is random and goes only to the
    client's cookie; the server part is the secret encrypted under it, kept in the
    session row. Neither alone yields the secret, and deleting the row kills it.
    """
    cookie_key = p.random_bytes(p.KEY_BYTES)
    return cookie_key, encrypt_record(cookie_key, secret, _session_context(session_id))


def join_session_secret(cookie_key: bytes, server_part: bytes, session_id: str) -> bytes:
    return decrypt_record(cookie_key, server_part, _session_context(session_id))


def _session_context(session_id: str) -> Context:
    return contexts.session_key(session_id)


def new_recovery_keypair() -> tuple[str, bytes]:
    """Return (private key as printable text, public key). Print the text once; never store it."""
    private_key, public_key = new_keypair()
    return format_recovery_key(private_key), public_key


def format_recovery_key(private_key: bytes) -> str:
    checksum = p.blake2b(private_key, person=b"sealbox-recover", size=2)
    text = base64.b32encode(private_key + checksum).decode().rstrip("=")
    return "-".join(text[i : i + 6] for i in range(0, len(text), 6))


def parse_recovery_key(text: str) -> bytes:
    """Read a recovery key typed back from paper; raise ValueError on any mistake."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    try:
        raw = base64.b32decode(compact + "=" * (-len(compact) % 8))
    except ValueError as exc:
        raise ValueError("not a recovery key") from exc
    private_key, checksum = raw[:32], raw[32:]
    # 34 bytes fill 55 base32 characters with 3 spare bits in the last one; only the
    # canonical encoding (spare bits zero) is accepted, so every changed character is caught.
    canonical = base64.b32encode(raw).decode().rstrip("=") == compact
    if (
        len(raw) != 34
        or not canonical
        or p.blake2b(private_key, person=b"sealbox-recover", size=2) != checksum
    ):
        raise ValueError("recovery key checksum does not match: check for typing mistakes")
    return private_key


# --- key certificates ----------------------------------------------------------------------

CERTIFICATE_VERSION = 1
_CERTIFIED = struct.Struct(">3sBQ32s")  # "SBK", version, account id, X25519 public key


def new_signing_key() -> tuple[bytes, bytes]:
    """The instance's key-signing key: (secret seed, public key). The public half is pinned
    in the instance file both apps read; the secret only where keys are made."""
    seed = p.random_bytes(p.KEY_BYTES)
    return seed, p.ed25519_public_from_seed(seed)


def _certified_bytes(account_id: int, public_key: bytes) -> bytes:
    if len(public_key) != p.KEY_BYTES:
        raise ValueError("keys are 32 bytes")
    return _CERTIFIED.pack(b"SBK", CERTIFICATE_VERSION, account_id, public_key)


def certify_key(signing_seed: bytes, account_id: int, public_key: bytes) -> bytes:
    """Vouch that ``public_key`` is account ``account_id``'s: a 64-byte Ed25519 signature.
    Bound to the account, so a certified key moved to another account's row fails."""
    return p.ed25519_sign(signing_seed, _certified_bytes(account_id, public_key))


def key_is_certified(
    verify_key: bytes, account_id: int, public_key: bytes, certificate: bytes | None
) -> bool:
    """True only for a certificate the instance's signing key made for exactly this account
    and key: case keys are wrapped to nothing else (a database writer cannot swap one in)."""
    if not certificate or len(verify_key) != p.KEY_BYTES or len(public_key) != p.KEY_BYTES:
        return False
    return p.ed25519_verify(verify_key, _certified_bytes(account_id, public_key), certificate)


def key_fingerprint(public_key: bytes) -> str:
    """A public key as people compare it by eye: BLAKE2b-128, eight groups of four hex."""
    digest = p.blake2b(public_key, person=b"sealbox-fpr", size=16).hex()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))
