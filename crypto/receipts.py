"""Receipt codes: the reporter's only credential.

A receipt is 27 digits from the OS CSPRNG (89.7 bits) plus one Damm check digit, shown in
seven groups of four. Digits keep it language-neutral; the check digit turns any single
mistyped digit or swapped neighbour pair into a "typo" message before the costly look-up.
From the receipt, Argon2id with the instance salt derives a look-up token (the server
stores only its hash) and the reporter's X25519 key pair.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

from crypto import _primitives as p

RANDOM_DIGITS = 27
RECEIPT_DIGITS = RANDOM_DIGITS + 1
GROUP = 4
ENTROPY_BITS = 89.69  # 27 * log2(10)

# Damm's totally anti-symmetric quasigroup of order 10.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


class ReceiptError(ValueError):
    """Base class: the text entered is not a usable receipt."""


class ReceiptMalformed(ReceiptError):
    """Wrong length, or characters that are not digits."""


class ReceiptTypo(ReceiptError):
    """Right shape but the check digit does not match: almost surely a typing mistake."""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost. ``memlimit`` in bytes."""

    opslimit: int
    memlimit: int


@dataclass(frozen=True)
class ReporterKeys:
    lookup_hash: bytes
    private_key: bytes
    public_key: bytes


def _damm(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return interim


def new_receipt() -> str:
    """A new receipt as 28 ASCII digits (no separators)."""
    body = str(secrets.randbelow(10**RANDOM_DIGITS)).zfill(RANDOM_DIGITS)
    return body + str(_damm(body))


_SEEDED_LIMIT = (2**128 // 10**RANDOM_DIGITS) * 10**RANDOM_DIGITS  # no modulo bias below it


def receipt_from_seed(key: bytes, seed: bytes) -> str:
    """The receipt of one report form (docs/CRYPTO.md, "Receipts"): 27 uniform digits from a
    keyed BLAKE2b of the form's random submission id, then the check digit. The same form
    sent again gives the same receipt, so a reloaded receipt page shows it again, and
    nothing needs to be stored; without the key and the id it is as random as new_receipt."""
    if len(seed) < 16:
        raise ValueError("a receipt seed has at least 128 bits")
    for counter in range(256):
        block = p.blake2b(seed + bytes([counter]), person=b"sealbox-receipt", key=key[:64],
                          size=16)
        value = int.from_bytes(block, "big")
        if value < _SEEDED_LIMIT:  # fails with probability 3e-12: then the next counter
            body = str(value % 10**RANDOM_DIGITS).zfill(RANDOM_DIGITS)
            return body + str(_damm(body))
    raise AssertionError("256 rejections in a row cannot happen")


def format_receipt(receipt: str) -> str:
    """Groups of four separated by spaces, for display."""
    return " ".join(receipt[i : i + GROUP] for i in range(0, len(receipt), GROUP))


# Not dashes to Unicode but typed or pasted as such: MINUS SIGN (U+2212, what typeset
# documents and some keyboards turn a hyphen into), and the full-width "." and "_" that
# CJK input methods produce next to the full-width digits accepted below.
_EXTRA_SEPARATORS = "._\u2212\uff0e\uff3f"


def _separator(ch: str) -> bool:
    # Spaces of every kind, dashes of every kind, and the dots some people type.
    return ch.isspace() or unicodedata.category(ch) in ("Pd", "Zs", "Cf") or ch in _EXTRA_SEPARATORS


def normalize_receipt(text: str) -> str:
    """Accept what people and phone keyboards produce; return 28 ASCII digits.

    Any Unicode decimal digit (Arabic-Indic, Persian, full-width, Devanagari...) maps to
    its ASCII value; separators are dropped. Raises ReceiptMalformed or ReceiptTypo.
    """
    digits: list[str] = []
    for ch in text:
        if _separator(ch):
            continue
        value = unicodedata.decimal(ch, None)
        if value is None:
            raise ReceiptMalformed("a receipt contains only digits")
        digits.append(str(value))
    receipt = "".join(digits)
    if len(receipt) != RECEIPT_DIGITS:
        raise ReceiptMalformed(f"a receipt has {RECEIPT_DIGITS} digits, not {len(receipt)}")
    if _damm(receipt) != 0:
        raise ReceiptTypo("the check digit does not match")
    return receipt


def derive_reporter_keys(receipt: str, instance_salt: bytes, params: KdfParams) -> ReporterKeys:
    """Argon2id(receipt, instance salt) -> look-up hash and the reporter's key pair.

    The receipt must already be normalised. Right and wrong receipts take exactly this
    path, so a failed look-up costs and looks the same as a successful one.
    """
    if len(receipt) != RECEIPT_DIGITS or not receipt.isascii() or not receipt.isdigit():
        raise ReceiptMalformed("normalise the receipt first")
    master = p.argon2id_kdf(32, receipt.encode(), instance_salt, params.opslimit, params.memlimit)
    lookup_token = p.blake2b(master, person=b"sealbox-lookup")
    seed = p.blake2b(master, person=b"sealbox-x25519")
    private_key, public_key = p.x25519_keypair_from_seed(seed)
    return ReporterKeys(
        lookup_hash=lookup_hash_of_token(lookup_token),
        private_key=bytes(private_key),
        public_key=bytes(public_key),
    )


def lookup_hash_of_token(lookup_token: bytes) -> bytes:
    """The stored look-up hash of a look-up token: what the server computes when the
    reporter's browser derived the keys and sent only the token."""
    return p.blake2b(lookup_token, person=b"sealbox-lookuph")


def new_instance_salt() -> bytes:
    return p.random_bytes(p.ARGON2_SALT_BYTES)
