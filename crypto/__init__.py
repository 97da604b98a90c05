"""Sealbox's cryptography: a few intention-revealing recipes over libsodium (PyNaCl).

Import from here, not from the submodules: ``crypto._primitives`` is private, and the
recipes below are the whole supported surface. docs/CRYPTO.md specifies every format.
"""

from crypto import contexts as contexts  # the registry of every ciphertext context
from crypto._primitives import ARGON2_BUDGET, DecryptionError
from crypto.audit import ContentDigest, chain_digest, content_digest, content_link, keyed_digest
from crypto.envelopes import (
    CaseKeys,
    Context,
    decrypt_record,
    encrypt_record,
    new_case_keys,
    new_key,
    new_keypair,
    open_with,
    public_key_of,
    record_size,
    seal_for,
    wrapped_size,
)
from crypto.files import (
    CHUNK_SIZE,
    FileSealer,
    decrypt_stream,
    encrypt_stream,
    sealed_plaintext_size,
    sealed_size,
)
from crypto.keys import (
    WrongPassphrase,
    burn_password_check,
    certify_key,
    format_recovery_key,
    hash_password,
    join_session_secret,
    key_fingerprint,
    key_is_certified,
    new_caseworker_keys,
    new_recovery_keypair,
    new_signing_key,
    parse_recovery_key,
    split_session_secret,
    unlock_private_key,
    verify_password,
    wrap_private_key,
)
from crypto.receipts import (
    ENTROPY_BITS,
    RECEIPT_DIGITS,
    KdfParams,
    ReceiptError,
    ReceiptMalformed,
    ReceiptTypo,
    ReporterKeys,
    derive_reporter_keys,
    format_receipt,
    lookup_hash_of_token,
    new_instance_salt,
    new_receipt,
    normalize_receipt,
    receipt_from_seed,
)


def set_argon2_memory_budget(mib: int) -> None:
    """Bound the Argon2id memory in use at once in this process (docs/CRYPTO.md,
    "Argon2id memory budget")."""
    ARGON2_BUDGET.resize(mib)


__all__ = [
    "CHUNK_SIZE",
    "ENTROPY_BITS",
    "RECEIPT_DIGITS",
    "CaseKeys",
    "ContentDigest",
    "Context",
    "DecryptionError",
    "FileSealer",
    "KdfParams",
    "ReceiptError",
    "ReceiptMalformed",
    "ReceiptTypo",
    "ReporterKeys",
    "WrongPassphrase",
    "burn_password_check",
    "certify_key",
    "chain_digest",
    "content_digest",
    "content_link",
    "decrypt_record",
    "decrypt_stream",
    "derive_reporter_keys",
    "encrypt_record",
    "encrypt_stream",
    "format_receipt",
    "format_recovery_key",
    "hash_password",
    "join_session_secret",
    "key_fingerprint",
    "key_is_certified",
    "keyed_digest",
    "lookup_hash_of_token",
    "new_case_keys",
    "new_caseworker_keys",
    "new_instance_salt",
    "new_key",
    "new_keypair",
    "new_receipt",
    "new_recovery_keypair",
    "new_signing_key",
    "normalize_receipt",
    "open_with",
    "parse_recovery_key",
    "public_key_of",
    "receipt_from_seed",
    "record_size",
    "seal_for",
    "sealed_plaintext_size",
    "sealed_size",
    "set_argon2_memory_budget",
    "split_session_secret",
    "unlock_private_key",
    "verify_password",
    "wrap_private_key",
    "wrapped_size",
]
