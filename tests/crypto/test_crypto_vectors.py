"""Known-answer vectors: the same values are printed in docs/CRYPTO.md ("Test vectors").

They were computed once with the real code and hard-coded here and in the document. Where
a format is deterministic given its random inputs (nonces, salts), the test also builds it
from the specification with other libraries (argon2-cffi for Argon2id, hashlib for
BLAKE2b, ``cryptography`` for X25519, raw libsodium bindings for the AEAD and
secretstream), so the document, not just the code, is what is checked.
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct

import nacl.bindings as sodium
import pytest
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import crypto

MIB = 1024 * 1024
KEY = bytes(range(32))  # 00 01 02 ... 1f


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def x25519_public(private: bytes) -> bytes:
    return (
        X25519PrivateKey.from_private_bytes(private)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


# --- receipts: Damm ---------------------------------------------------------------------

DAMM = [
    ("000000000000000000000000000", "0"),
    ("123456789012345678901234567", "8"),
    ("314159265358979323846264338", "2"),
    ("271828182845904523536028747", "5"),
    ("999999999999999999999999999", "0"),
]


@pytest.mark.parametrize(("body", "check"), DAMM)
def test_damm_check_digits(body: str, check: str) -> None:
    assert crypto.normalize_receipt(body + check) == body + check
    for wrong in "0123456789":
        if wrong != check:
            with pytest.raises(crypto.ReceiptTypo):
                crypto.normalize_receipt(body + wrong)


def test_damm_table_matches_the_published_example() -> None:
    # Damm (2004) / the usual worked example: the check digit of 572 is 4.
    from crypto.receipts import _damm

    assert _damm("572") == 4
    assert _damm("5724") == 0


# --- context binding --------------------------------------------------------------------


def test_context_binding_bytes() -> None:
    assert crypto.Context("case-0001", "message:reply:42").binding(1) == h(
        "534258 01 0009 636173652d30303031 0010 6d6573736167653a7265706c793a3432"
    )
    assert crypto.Context("Zürich", "identity:7").binding(1) == h(
        "534258 01 0007 5ac3bc72696368 000a 6964656e746974793a37"
    )


# --- receipt derivation -----------------------------------------------------------------

RECEIPT = "1234567890123456789012345678"
INSTANCE_SALT = bytes(range(16))
DERIVATIONS = [
    (
        crypto.KdfParams(1, 8 * MIB),
        {
            "master": "5c2aae828193a70eff503e985e16e09969c7952e2161e85a4d705641583e53e9",
            "token": "83766b878db5e2eb3268b9949643a5fcb7d44dc8ad27ebe9f2a02b9798a81fa4",
            "lookup_hash": "7e6d4920e9ad400953bee90ae425e7737375224242f0131653b3367b5a19602d",
            "private": "ed11dfc495dcce9e1925cd08426d41416e138e0759b3b7bb9900bbbd5dbbc726",
            "public": "988f62f399a41842414c65028a1c6725da30fcbb79242588b7e2455e0250ae0f",
        },
    ),
    (
        crypto.KdfParams(2, 64 * MIB),  # the shipped default
        {
            "master": "ff475e14534ab62d47eeea1af44efa375c5aed1cf03444b0ea11da8d6504f371",
            "token": "d9474592560c9a411b2fcffcf963178c48a244ac48c7f43946122e237960e41f",
            "lookup_hash": "0b75e05717b08fb57eb876691b20152808a7d71770835d931a676fe003086970",
            "private": "9caa1912726ff15d780e422e82a6020be7f2639412184de644167285beab3f9b",
            "public": "8e245ebd9a4f834b7c9adcd16c01395064ed28015a5009ef7725a91493410248",
        },
    ),
]


@pytest.mark.parametrize(("params", "expected"), DERIVATIONS, ids=["1-op-8MiB", "default"])
def test_receipt_derivation(params: crypto.KdfParams, expected: dict[str, str]) -> None:
    assert crypto.normalize_receipt("1234 5678 9012 3456 7890 1234 5678") == RECEIPT
    keys = crypto.derive_reporter_keys(RECEIPT, INSTANCE_SALT, params)
    assert keys.lookup_hash.hex() == expected["lookup_hash"]
    assert keys.private_key.hex() == expected["private"]
    assert keys.public_key.hex() == expected["public"]

    # The same from the specification, with other implementations.
    master = hash_secret_raw(
        RECEIPT.encode("ascii"),
        INSTANCE_SALT,
        time_cost=params.opslimit,
        memory_cost=params.memlimit // 1024,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
        version=19,
    )
    assert master.hex() == expected["master"]
    token = hashlib.blake2b(master, digest_size=32, person=b"sealbox-lookup").digest()
    assert token.hex() == expected["token"]
    assert (
        hashlib.blake2b(token, digest_size=32, person=b"sealbox-lookuph").hexdigest()
        == (expected["lookup_hash"])
    )
    private = hashlib.blake2b(master, digest_size=32, person=b"sealbox-x25519").digest()
    assert private.hex() == expected["private"]
    assert x25519_public(private).hex() == expected["public"]


# --- record -----------------------------------------------------------------------------

RECORD_CONTEXT = crypto.Context("case-0001", "message:report:1")
RECORD_NONCE = bytes(range(100, 124))
RECORD = h(
    "01 6465666768696a6b6c6d6e6f707172737475767778797a7b"
    "2f1698dc9d41f1a2f355ee4b8619d8aa2fd4204525ba61"
    "a129012673069b0472611003"
)


def test_record_vector() -> None:
    assert crypto.decrypt_record(KEY, RECORD, RECORD_CONTEXT) == b"Sealbox test vector"
    built = (
        b"\x01"
        + RECORD_NONCE
        + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            b"Sealbox test vector", RECORD_CONTEXT.binding(1), RECORD_NONCE, KEY
        )
    )
    assert built == RECORD


def test_session_server_part_vector() -> None:
    server_part = h(
        "01 32333435363738393a3b3c3d3e3f404142434445464748 49"
        "8bfbdd5fea64cdb1cbfef8e64c9bde3378c9ec06bff3e783b916fecbe8f35e9a"
        "398b8307416f0673da4eb9a83459e7f9"
    )
    assert crypto.join_session_secret(KEY, server_part, "sess-0001") == bytes(range(128, 160))


# --- wrapped key (sealed box) -----------------------------------------------------------


def test_wrapped_key_vector() -> None:
    recipient = bytes(range(32, 64))
    assert x25519_public(recipient) == h(
        "358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254"
    )
    wrapped = h(
        "01 2300dadfaa20d0a4609d4d84fbccc550c31c4d3668e5fae00994457101e4af18"
        "33559139df0c6e71e467446ba277a3f256eb0e2dbf512bc12982c73f6ce77c69"
        "3c6f0ecb3ea5785f818ff3435c56fa4d45fb314464e805126ac0e2aff1383194"
        "5fae944871c42fc710f06a"
    )
    context = crypto.Context("case-0001", "thread-key")
    assert crypto.open_with(recipient, wrapped, context) == bytes(range(64, 96))
    # By the specification: version byte, then a plain crypto_box_seal of binding || secret.
    inner = sodium.crypto_box_seal_open(wrapped[1:], x25519_public(recipient), recipient)
    assert inner == context.binding(1) + bytes(range(64, 96))


# --- file -------------------------------------------------------------------------------

FILE_CONTEXT = crypto.Context("case-0001", "attachment:1")
FILE = h(
    "534246 01 00000008"
    "2c03ff3ac787eb45488e11ed9904b51d2214d57dfd3156c1"
    "5b4c5a7d3136465b32b668226cad5b99a530a55b57"
    "d04eac9067c4a126a13a4bed3fc66085ca6020fabae756cc71"
    "68e2445f8f9adecc808c3b52d1b39f621ae602a23d1cfddd"
)


def test_file_vector() -> None:
    assert len(FILE) == crypto.sealed_size(19, 8) == 102
    plaintext = b"".join(crypto.decrypt_stream(KEY, io.BytesIO(FILE), FILE_CONTEXT))
    assert plaintext == b"Sealbox file vector"


def test_file_vector_read_by_the_specification() -> None:
    """A reader written from docs/CRYPTO.md alone, on raw libsodium calls."""
    magic, version, chunk_size = struct.unpack(">3sBI", FILE[:8])
    assert (magic, version, chunk_size) == (b"SBF", 1, 8)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, FILE[8:32], KEY)
    aad = FILE_CONTEXT.binding(1) + FILE[:8]
    out, tags, pos = b"", [], 32
    while pos < len(FILE):
        block = FILE[pos : pos + chunk_size + 17]
        pos += len(block)
        piece, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, block, aad)
        out += piece
        tags.append(tag)
    assert out == b"Sealbox file vector"
    assert tags == [0, 0, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL]


# --- caseworker wrapped private key -----------------------------------------------------

PASSPHRASE = "correct horse battery staple"
CASEWORKER_BLOB = h(
    "01 00000001 00002000 c8c9cacbcccdcecfd0d1d2d3d4d5d6d7"
    "0102030405060708090a0b0c0d0e0f101112131415161718"
    "c1b611d67b14420faa046324f90608d8c96d1b97bc121a8eec8d1cec6c29b08b"
    "f387d4bc07201b2308a7b5ba49b05cd3"
)


def test_caseworker_wrapped_private_key_vector() -> None:
    private = crypto.unlock_private_key(CASEWORKER_BLOB, PASSPHRASE)
    assert private == bytes(range(128, 160))
    assert crypto.public_key_of(private).hex() == (
        "493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d"
    )
    header = struct.pack(">BII16s", 1, 1, 8192, bytes(range(200, 216)))
    kek = hash_secret_raw(
        PASSPHRASE.encode(),
        bytes(range(200, 216)),
        time_cost=1,
        memory_cost=8192,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
        version=19,
    )
    assert kek.hex() == "6f08262b0ff6b2c52422a869232dc5ebbd29472478eb4cae38c78c257c1c1335"
    nonce = bytes(range(1, 25))
    built = (
        header
        + nonce
        + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(private, header, nonce, kek)
    )
    assert built == CASEWORKER_BLOB


def test_login_password_hash_vector() -> None:
    phc = (
        "$argon2id$v=19$m=65536,t=3,p=4$Dr5XOs17FfYgw+wB+TOjSw"
        "$8vSkJb6dq8rNszk+tuN1puB4GBe86BzPciDSWSVvj20"
    )
    assert crypto.verify_password(phc, PASSPHRASE)
    assert not crypto.verify_password(phc, PASSPHRASE + "!")


# --- recovery key, audit ----------------------------------------------------------------

RECOVERY_TEXT = "AAAQEA-YEAUDA-OCAJBI-FQYDIO-B4IBCE-QTCQKR-MFYYDE-NBWHA5-DYPWFD-I"


def test_recovery_key_vector() -> None:
    assert crypto.format_recovery_key(KEY) == RECOVERY_TEXT
    assert crypto.parse_recovery_key(RECOVERY_TEXT.lower().replace("-", " ")) == KEY
    checksum = hashlib.blake2b(KEY, digest_size=2, person=b"sealbox-recover").digest()
    assert checksum.hex() == "628d"
    assert base64.b32encode(KEY + checksum).decode().rstrip("=") == RECOVERY_TEXT.replace("-", "")
    assert x25519_public(KEY).hex() == (
        "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f"
    )


def test_audit_digest_vectors() -> None:
    assert crypto.chain_digest(bytes(32), b"sealbox audit vector").hex() == (
        "6e94ef41b8bcdf8b46c61018a490e4d51294fe94256dfe87ae10222a6c73135a"
    )
    assert crypto.keyed_digest(KEY, b"sealbox keyed vector").hex() == (
        "3d9ed541f72593723a5773f4295375732b069cecb613341d3068a18f4c1575cf"
    )


def test_seeded_receipt_vector_rebuilt_from_the_specification() -> None:
    """A web report's receipt (docs/CRYPTO.md, "Receipts"), rebuilt with hashlib."""
    seed = "submission-id-00"
    receipt = crypto.receipt_from_seed(KEY, seed.encode())
    assert receipt == "7170960204135446013594525410"
    block = hashlib.blake2b(seed.encode() + b"\x00", digest_size=16, key=KEY,
                            person=b"sealbox-receipt").digest()
    value = int.from_bytes(block, "big")
    assert value < (2**128 // 10**27) * 10**27
    assert receipt[:27] == str(value % 10**27).zfill(27)
    assert crypto.normalize_receipt(receipt) == receipt  # the check digit holds
    assert crypto.receipt_from_seed(KEY, seed.encode()) == receipt  # the same form, again
    assert crypto.receipt_from_seed(KEY, b"submission-id-01") != receipt
    with pytest.raises(ValueError):
        crypto.receipt_from_seed(KEY, b"short")
