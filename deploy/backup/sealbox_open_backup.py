"""Read a Sealbox backup with the organisation recovery key, without Sealbox.

    sealbox_open_backup.py check   BACKUP [--age-identity KEY]
    sealbox_open_backup.py extract BACKUP --out DIR [--case ID] [--age-identity KEY]

This is the organisation's proof that its records outlive the server: it needs Python 3.11,
PyNaCl and, for a PostgreSQL backup, ``pg_restore`` (no database server: the dump is only
read), and nothing of Sealbox's own code. It follows docs/CRYPTO.md alone (context
binding, wrapped keys, records, files) on a backup made by sealbox_backup.py: the
database (a SQLite copy, or pg_dump's custom format) and the attachment ciphertext (files
in ``blobs/``, or chunks in the database).

``check`` opens every case's keys, messages, files, identity records and identity-request
reasons in memory, writes no plaintext, and says how many it opened (exit 1 if anything
failed). ``extract`` writes each case, decrypted, into a new folder DIR (mode 0700): put
it on an encrypted volume, and wipe it when done.

The recovery key is read from the terminal without echo, or as the first line of standard
input; never from an argument.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import getpass
import hashlib
import hmac
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl import bindings as sodium

# The database stores enum names; contexts use their values (cases/models.py).
PURPOSE_LABEL = {"THREAD": "thread", "INTERNAL": "internal", "IDENTITY": "identity",
                 "REQUEST": "request"}
INTERNAL_KINDS = {"NOTE", "TRIAGE", "RISK", "CONCLUSION"}
MAX_CHUNK = 16 * 1024 * 1024
_TABLES = ("cases", "wrapped_keys", "messages", "attachments", "blob_chunks",
           "identity_records", "identity_requests")


class Unreadable(Exception):
    """A backup, a key or a ciphertext that does not open."""


# --- docs/CRYPTO.md, from the page ---------------------------------------------------------


def binding(owner: str, purpose: str) -> bytes:
    """Context binding: "SBX" || version 1 || u16be len || owner || u16be len || purpose."""
    o, p = owner.encode(), purpose.encode()
    return b"SBX\x01" + struct.pack(">H", len(o)) + o + struct.pack(">H", len(p)) + p


def parse_recovery_key(text: str) -> bytes:
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    try:
        raw = base64.b32decode(compact + "=" * (-len(compact) % 8))
    except ValueError as exc:
        raise Unreadable("that is not a recovery key") from exc
    key, checksum = raw[:32], raw[32:]
    expected = hashlib.blake2b(key, digest_size=2, person=b"sealbox-recover").digest()
    canonical = base64.b32encode(raw).decode().rstrip("=") == compact
    if len(raw) != 34 or not canonical or checksum != expected:
        raise Unreadable("the recovery key's checksum does not match: check for typing mistakes")
    return key


def open_wrapped(private_key: bytes, wrapped: bytes, owner: str, purpose: str) -> bytes:
    """A wrapped key: 0x01 || crypto_box_seal(binding || secret)."""
    public_key = sodium.crypto_scalarmult_base(private_key)
    if wrapped[:1] != b"\x01":
        raise Unreadable("unknown wrapped-key version")
    try:
        inner = sodium.crypto_box_seal_open(wrapped[1:], public_key, private_key)
    except Exception as exc:  # nacl.exceptions.CryptoError
        raise Unreadable("the wrapped key does not open with this key") from exc
    expected = binding(owner, purpose)
    if not hmac.compare_digest(inner[: len(expected)], expected):
        raise Unreadable("the wrapped key belongs to another context")
    return bytes(inner[len(expected):])


def open_record(key: bytes, record: bytes, owner: str, purpose: str) -> bytes:
    """A record: 0x01 || nonce (24) || XChaCha20-Poly1305(plaintext, aad = binding)."""
    if len(record) < 41 or record[:1] != b"\x01":
        raise Unreadable("not a version-1 record")
    try:
        return bytes(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            record[25:], binding(owner, purpose), record[1:25], key
        ))
    except Exception as exc:
        raise Unreadable("a record does not open") from exc


def open_file(key: bytes, source: Any, owner: str, purpose: str) -> Iterator[bytes]:
    """A file: "SBF" || 0x01 || u32be(C) || header (24) || chunks, each C + 17 bytes but
    the last, which carries TAG_FINAL; aad = binding || preamble."""
    preamble = source.read(8)
    if len(preamble) != 8 or preamble[:4] != b"SBF\x01":
        raise Unreadable("not a version-1 sealed file")
    (size,) = struct.unpack(">I", preamble[4:])
    if not 0 < size <= MAX_CHUNK:
        raise Unreadable("a sealed file with an impossible chunk size")
    aad = binding(owner, purpose) + preamble
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, source.read(24), key)
    final = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
    while True:
        block = source.read(size + 17)
        if not block:
            raise Unreadable("a sealed file was cut short")
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, block, aad)
        except Exception as exc:
            raise Unreadable("a chunk of a sealed file does not open") from exc
        if tag == final:
            if source.read(1):
                raise Unreadable("bytes after the end of a sealed file")
            yield bytes(plain)
            return
        if len(block) != size + 17:
            raise Unreadable("a short chunk inside a sealed file")
        yield bytes(plain)


# --- the backup ------------------------------------------------------------------------------


def unpack(backup: Path, work: Path, age_identity: Path | None) -> dict[str, Any]:
    """The backup's members into ``work`` (ciphertext and metadata only), checked against
    its manifest."""
    if backup.name.endswith(".age"):
        if age_identity is None:
            raise Unreadable("this backup is encrypted with age: give --age-identity")
        age = shutil.which("age") or "age"
        proc = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            [age, "--decrypt", "-i", str(age_identity), str(backup)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            tar.extractall(work, filter="data")
        if proc.wait() != 0:
            raise Unreadable(f"age could not decrypt the backup: {proc.stderr.read().decode()}")
    else:
        with tarfile.open(backup, mode="r|") as tar:
            tar.extractall(work, filter="data")
    manifest: dict[str, Any] = json.loads((work / "MANIFEST.json").read_text())
    for member, digest in manifest["sha256"].items():
        if hashlib.sha256((work / member).read_bytes()).hexdigest() != digest:
            raise Unreadable(f"{member} does not match the backup's manifest")
    return manifest


def open_database(work: Path, manifest: dict[str, Any]) -> sqlite3.Connection:
    if manifest["database"] == "sqlite":
        db = sqlite3.connect(f"file:{work / 'database.dump'}?mode=ro", uri=True)
    else:
        db = sqlite3.connect(work / "tables.db")
        _load_pg_dump(work / "database.dump", db)
    return db


def _load_pg_dump(dump: Path, db: sqlite3.Connection) -> None:
    """pg_restore turns the custom-format dump into SQL text without a server; its COPY
    blocks are loaded into a scratch SQLite file (ciphertext only)."""
    restore = shutil.which("pg_restore")
    if restore is None:
        raise Unreadable("a PostgreSQL backup needs pg_restore (Debian: postgresql-client)")
    args = [restore, "--data-only", "--file=-"]
    args += [f"--table={name}" for name in _TABLES]
    proc = subprocess.Popen([*args, str(dump)], stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert proc.stdout is not None
    copy = re.compile(r"^COPY public\.(\w+) \((.*)\) FROM stdin;$")
    table: str | None = None
    columns: list[str] = []
    for line in proc.stdout:
        line = line.rstrip("\n")
        if table is None:
            found = copy.match(line)
            if found:
                table, columns = found[1], [c.strip().strip('"') for c in found[2].split(",")]
                if table not in _TABLES or not all(re.fullmatch(r"\w+", c) for c in columns):
                    raise Unreadable(f"unexpected table in the dump: {line[:80]}")
                db.execute(f'CREATE TABLE "{table}" ({", ".join(columns)})')
            continue
        if line == "\\.":
            table = None
            continue
        values = [_copy_value(v) for v in line.split("\t")]
        # The table is one of _TABLES (checked above); the values are parameters.
        marks = ", ".join("?" * len(values))
        db.execute(f'INSERT INTO "{table}" VALUES ({marks})', values)  # noqa: S608
    if proc.wait() != 0:
        raise Unreadable("pg_restore could not read the database dump")
    for name in _TABLES:
        db.execute(f'CREATE TABLE IF NOT EXISTS "{name}" (unused)')
    db.commit()


_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _copy_value(text: str) -> Any:
    """One field of COPY's text format: \\N is NULL, backslash escapes, bytea as \\x hex."""
    if text == "\\N":
        return None
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt.isdigit():
                digits = re.match(r"[0-7]{1,3}", text[i + 1:])
                assert digits is not None
                out.append(chr(int(digits[0], 8)))
                i += 1 + len(digits[0])
                continue
        out.append(ch)
        i += 1
    value = "".join(out)
    if value.startswith("\\x") and re.fullmatch(r"\\x[0-9a-f]*", value):
        return bytes.fromhex(value[2:])
    return value


# --- opening the cases -----------------------------------------------------------------------


@dataclass
class Opened:
    cases: int = 0
    messages: int = 0
    files: int = 0
    file_bytes: int = 0
    identities: int = 0
    reasons: int = 0
    failed: list[str] = field(default_factory=list)


class Backup:
    """The cases of one unpacked backup, opened with the recovery key."""

    def __init__(self, db: sqlite3.Connection, blobs: Path | None, private_key: bytes) -> None:
        self.db = db
        self.blobs = blobs
        self.key = private_key

    def rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        self.db.row_factory = sqlite3.Row
        return list(self.db.execute(sql, args))

    def case_key(self, case_id: str, purpose: str, record_id: str = "") -> bytes:
        found = self.rows(
            "SELECT wrapped FROM wrapped_keys WHERE case_id = ? AND purpose = ? AND "
            "record_id = ? AND holder_kind = 'RECOVERY'", case_id, purpose, record_id,
        )
        if len(found) != 1:
            raise Unreadable(f"no recovery copy of the {purpose.lower()} key")
        row = found[0]
        label = PURPOSE_LABEL[purpose] + "-key" + (f":{record_id}" if record_id else "")
        return open_wrapped(self.key, bytes(row["wrapped"]), case_id, label)

    def messages(self, case_id: str, keys: dict[str, bytes]) -> Iterator[dict[str, Any]]:
        for row in self.rows("SELECT * FROM messages WHERE case_id = ? "
                             "ORDER BY CAST(position AS INTEGER)", case_id):
            kind = str(row["kind"])
            key = keys["INTERNAL" if kind in INTERNAL_KINDS else "THREAD"]
            body = open_record(key, bytes(row["ciphertext"]), case_id,
                               f"message:{kind.lower()}:{row['id']}")
            yield {"id": row["id"], "kind": kind.lower(), "date": row["created_on"],
                   "author_id": row["author_id"], "body": json.loads(body)}

    def files(
        self, case_id: str, thread: bytes
    ) -> Iterator[tuple[dict[str, Any], Iterator[bytes]]]:
        for row in self.rows("SELECT * FROM attachments WHERE case_id = ? "
                             "ORDER BY created_on, id", case_id):
            aid = row["id"]
            meta = json.loads(open_record(thread, bytes(row["meta_ciphertext"]), case_id,
                                          f"attachment-meta:{aid}"))
            file_key = open_record(thread, bytes(row["file_key_ciphertext"]), case_id,
                                   f"attachment-key:{aid}")
            yield meta, self._plaintext(file_key, aid, case_id)

    def _plaintext(self, file_key: bytes, aid: str, case_id: str) -> Iterator[bytes]:
        source = self._blob(aid)
        try:
            yield from open_file(file_key, source, case_id, f"attachment:{aid}")
        finally:
            source.close()

    def _blob(self, blob_id: str) -> Any:
        if self.blobs is not None:
            return (self.blobs / blob_id).open("rb")
        chunks = self.rows("SELECT data FROM blob_chunks WHERE blob_id = ? "
                           "ORDER BY CAST(position AS INTEGER)", blob_id)
        return _Joined(bytes(c["data"]) for c in chunks)

    def identities(self, case_id: str) -> Iterator[dict[str, str]]:
        for row in self.rows("SELECT * FROM identity_records WHERE case_id = ? ORDER BY id",
                             case_id):
            key = self.case_key(case_id, "IDENTITY", row["id"])
            yield json.loads(open_record(key, bytes(row["ciphertext"]), case_id,
                                         f"identity:{row['id']}"))

    def reasons(self, case_id: str) -> Iterator[str]:
        for row in self.rows("SELECT * FROM identity_requests WHERE case_id = ? ORDER BY id",
                             case_id):
            key = self.case_key(case_id, "REQUEST", str(row["id"]))
            yield open_record(key, bytes(row["reason_enc"]), case_id,
                              f"identity-request:{row['id']}").decode()


class _Joined:
    """Database chunks read as one stream."""

    def __init__(self, parts: Iterator[bytes]) -> None:
        self._parts = parts
        self._buffer = b""

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            part = next(self._parts, None)
            if part is None:
                break
            self._buffer += part
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def close(self) -> None:
        return None


def walk(backup: Backup, out: Path | None, only: str | None) -> Opened:
    """Open every case (or ``only``); with ``out``, write each one there."""
    opened = Opened()
    for row in backup.rows("SELECT * FROM cases ORDER BY received_on, id"):
        case_id = row["id"]
        if only is not None and case_id != only:
            continue
        try:
            _open_case(backup, dict(row), opened, out / case_id if out else None)
            opened.cases += 1
        except Unreadable as exc:
            opened.failed.append(f"{case_id}: {exc}")
    return opened


def _open_case(backup: Backup, case: dict[str, Any], opened: Opened, out: Path | None) -> None:
    case_id = case["id"]
    keys = {p: backup.case_key(case_id, p) for p in ("THREAD", "INTERNAL")}
    messages = list(backup.messages(case_id, keys))
    identities = list(backup.identities(case_id))
    reasons = list(backup.reasons(case_id))
    if out is not None:
        out.mkdir(mode=0o700)
        (out / "attachments").mkdir(mode=0o700)
        plain = {k: v for k, v in case.items() if not isinstance(v, bytes)}
        _write(out / "case.json", json.dumps(plain, indent=2, ensure_ascii=False).encode())
        _write(out / "messages.json", json.dumps(messages, indent=2, ensure_ascii=False).encode())
        _write(out / "identity.json", json.dumps(
            {"records": identities, "request_reasons": reasons}, indent=2, ensure_ascii=False
        ).encode())
    for n, (meta, chunks) in enumerate(backup.files(case_id, keys["THREAD"]), start=1):
        name = re.sub(r"[^\w.\- ]+", "_", str(meta.get("name", "file")).rsplit("/", 1)[-1])
        target = None
        if out is not None:
            fd = os.open(out / "attachments" / f"{n:03d}-{name.strip(' .') or 'file'}",
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            target = os.fdopen(fd, "wb")
        with target or contextlib.nullcontext():
            for chunk in chunks:
                opened.file_bytes += len(chunk)
                if target is not None:
                    target.write(chunk)
        opened.files += 1
    opened.messages += len(messages)
    opened.identities += len(identities)
    opened.reasons += len(reasons)


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


# --- command line ----------------------------------------------------------------------------


def _read_key() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Recovery key: ")
    return sys.stdin.readline().strip()


def run(args: argparse.Namespace) -> int:
    out: Path | None = getattr(args, "out", None)
    if out is not None and out.exists():
        raise Unreadable(f"{out} exists: choose a new folder")
    private_key = parse_recovery_key(_read_key())
    with tempfile.TemporaryDirectory(prefix="sealbox-open-") as work_dir:
        work = Path(work_dir)
        manifest = unpack(args.backup, work, args.age_identity)
        instance = tomllib.loads((work / "instance.toml").read_text())
        if sodium.crypto_scalarmult_base(private_key).hex() != instance["recovery_public_key"]:
            raise Unreadable("this recovery key is not the one of the instance in this backup")
        db = open_database(work, manifest)
        blobs = work / "blobs" if manifest["attachment_storage"] == "filesystem" else None
        if out is not None:
            out.mkdir(mode=0o700)
        opened = walk(Backup(db, blobs, private_key), out, getattr(args, "case", None))
        db.close()
    print(f"Opened {opened.cases} case(s): {opened.messages} message(s), {opened.files} "
          f"file(s) ({opened.file_bytes} bytes), {opened.identities} identity record(s), "
          f"{opened.reasons} identity request reason(s).")
    for line in opened.failed:
        print(f"  could not open {line}", file=sys.stderr)
    return 1 if opened.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("check", "extract"):
        command = commands.add_parser(name)
        command.add_argument("backup", type=Path)
        command.add_argument("--age-identity", type=Path, default=None)
        if name == "extract":
            command.add_argument("--out", type=Path, required=True)
            command.add_argument("--case", default=None)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except Unreadable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
