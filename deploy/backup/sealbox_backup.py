"""Back up and restore a Sealbox instance: the database and the attachment ciphertext.

    sealbox_backup.py backup  --out /var/backups/sealbox [--age-recipients FILE]
    sealbox_backup.py restore FILE --database-url URL --instance-path DIR [--age-identity KEY]
    sealbox_backup.py verify  FILE [--age-identity KEY]

Settings come from the same SEALBOX_* environment as the apps (SEALBOX_CONFIG,
SEALBOX_INSTANCE_PATH, SEALBOX_DATABASE_URL, SEALBOX_ATTACHMENT_STORAGE), so the backup
service uses /etc/sealbox/sealbox.env like everything else.

One backup is one tar file (``sealbox-<UTC time>.tar``, or ``.tar.age`` when encrypted
with age) holding:

* ``database.dump``   pg_dump's custom format (PostgreSQL) or a consistent copy of the
                      SQLite file made with SQLite's online backup API;
* ``instance.toml``   the instance secrets (session key, instance salt, server key that
                      seals TOTP secrets, recovery public key);
* ``blobs/``          attachment ciphertext (only with attachment_storage = "filesystem";
                      with "database" the chunks are inside database.dump);
* ``MANIFEST.json``   format version, time, backend, and the SHA-256 of every member.

Everything from the cases is ciphertext already — report text, messages, notes, files,
file names, identities — readable only with a caseworker's passphrase or the offline
recovery key, neither of which is in a backup. What is in clear: workflow metadata
(statuses, dates, categories, usernames, the audit log) and instance.toml. Encrypt the
backup (``--age-recipients``, with the private key kept offline) before it leaves the host.

The database is dumped first, then the blob folder is copied: an attachment row in the
dump always has its ciphertext in the copy (submissions write the blob before committing
the row); a blob newer than the dump is an orphan that ``sealbox purge`` sweeps away.

Restore refuses to write into a non-empty database or instance folder. It restores the
PostgreSQL dump without owners or grants: run it with the owner (migration) role's URL,
then run deploy/postgresql/grants.sql. docs/OPERATIONS.md has the restore drill.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

FORMAT = 1
_CHUNK = 1024 * 1024


class BackupError(Exception):
    pass


# --- helpers ------------------------------------------------------------------------------


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """Command-line connection options and environment for pg_dump/pg_restore/psql. The
    password goes into PGPASSWORD, never onto a command line (visible in /proc)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    args = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    args += ["--dbname", parsed.database or ""]
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _sqlite_path(url: str) -> Path:
    from sqlalchemy.engine import make_url

    return Path(make_url(url).database or "")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (or not on PATH)")
    return path


def _run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    # Fixed argument lists, no shell: S603 does not apply.
    result = subprocess.run(  # noqa: S603
        [_tool(cmd[0]), *cmd[1:]], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{cmd[0]} failed: {detail[-1] if detail else result.returncode}")


# --- backup -------------------------------------------------------------------------------


def _dump_database(url: str, target: Path) -> None:
    if _backend(url) == "sqlite":
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
        return
    args, env = _libpq(url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args], env)


def _copy_blobs(root: Path, target: Path) -> None:
    target.mkdir(mode=0o700)
    if not root.is_dir():
        return
    for path in sorted(root.iterdir()):
        if path.is_file() and not path.name.startswith(".tmp-"):
            shutil.copy2(path, target / path.name)


def backup(settings: Any, out_dir: Path, age_recipients: Path | None = None) -> Path:
    """Write one backup file into ``out_dir`` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"sealbox-{stamp}.tar" + (".age" if age_recipients else "")
    final = out_dir / name
    url = settings.sqlalchemy_url
    with tempfile.TemporaryDirectory(prefix=".sealbox-backup-", dir=out_dir) as work_dir:
        work = Path(work_dir)
        members: list[str] = []
        _dump_database(url, work / "database.dump")
        members.append("database.dump")
        shutil.copy2(settings.instance_file, work / "instance.toml")
        members.append("instance.toml")
        if settings.attachment_storage == "filesystem":
            _copy_blobs(settings.blob_path, work / "blobs")
            members += [f"blobs/{p.name}" for p in sorted((work / "blobs").iterdir())]
        manifest = {
            "format": FORMAT,
            "created": stamp,
            "database": _backend(url),
            "attachment_storage": settings.attachment_storage,
            "sha256": {m: _sha256(work / m) for m in members},
        }
        (work / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        partial = out_dir / f".{name}.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with (
                _maybe_encrypt(raw, age_recipients) as sink,
                tarfile.open(fileobj=sink, mode="w|") as tar,
            ):
                tar.add(work / "MANIFEST.json", "MANIFEST.json")
                for member in members:
                    tar.add(work / member, member)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, final)
    return final


@contextlib.contextmanager
def _maybe_encrypt(raw: IO[bytes], recipients: Path | None) -> Iterator[IO[bytes]]:
    if recipients is None:
        yield raw
        return
    cmd = [_tool("age"), "--encrypt", "-R", str(recipients)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=raw)  # noqa: S603
    assert proc.stdin is not None
    try:
        yield proc.stdin
    finally:
        proc.stdin.close()
        if proc.wait() != 0:
            raise BackupError("age failed to encrypt the backup")


# --- reading a backup ---------------------------------------------------------------------


@contextlib.contextmanager
def _open_backup(path: Path, age_identity: Path | None) -> Iterator[Path]:
    """Unpack (decrypting if needed) into a private temporary folder and check the
    manifest; yields the folder."""
    with tempfile.TemporaryDirectory(prefix=".sealbox-restore-", dir=path.parent) as tmp:
        work = Path(tmp)
        if path.name.endswith(".age"):
            if age_identity is None:
                raise BackupError(f"{path.name} is encrypted: pass --age-identity KEYFILE")
            cmd = [_tool("age"), "--decrypt", "-i", str(age_identity), str(path)]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)  # noqa: S603
            assert proc.stdout is not None
            _extract(proc.stdout, work)
            if proc.wait() != 0:
                raise BackupError("age could not decrypt the backup (wrong identity?)")
        else:
            with path.open("rb") as fh:
                _extract(fh, work)
        _check_manifest(work)
        yield work


def _extract(stream: IO[bytes], work: Path) -> None:
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            name = Path(member.name)
            if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
                raise BackupError(f"unexpected member {member.name!r} in the backup")
            tar.extract(member, work, filter="data")


def _check_manifest(work: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((work / "MANIFEST.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(
            f"backup has no readable MANIFEST.json ({exc.__class__.__name__})"
        ) from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not {FORMAT}")
    for member, digest in manifest["sha256"].items():
        path = work / member
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"backup member {member} is missing or damaged")
    return manifest


def verify(path: Path, age_identity: Path | None = None) -> dict[str, Any]:
    with _open_backup(path, age_identity) as work:
        return _check_manifest(work)


# --- restore ------------------------------------------------------------------------------


def _database_is_empty(url: str) -> bool:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore(
    path: Path, database_url: str, instance_path: Path, age_identity: Path | None = None
) -> None:
    if instance_path.exists() and any(instance_path.iterdir()):
        raise BackupError(f"{instance_path} is not empty: restore into a new, empty folder")
    with _open_backup(path, age_identity) as work:
        manifest = _check_manifest(work)
        if manifest["database"] != _backend(database_url):
            raise BackupError(
                f"the backup holds a {manifest['database']} database; "
                f"--database-url points at {_backend(database_url)}"
            )
        if _backend(database_url) == "sqlite":
            target = _sqlite_path(database_url)
            if target.exists() and target.stat().st_size:
                raise BackupError(f"{target} exists: restore into a new file")
        elif not _database_is_empty(database_url):
            raise BackupError("the target database is not empty: create a new one (setup.sql)")
        instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(instance_path, 0o700)
        shutil.copy2(work / "instance.toml", instance_path / "instance.toml")
        os.chmod(instance_path / "instance.toml", 0o600)
        if (work / "blobs").is_dir():
            blobs = instance_path / "blobs"
            blobs.mkdir(mode=0o700)
            for item in sorted((work / "blobs").iterdir()):
                shutil.copy2(item, blobs / item.name)
                os.chmod(blobs / item.name, 0o600)
        if _backend(database_url) == "sqlite":
            target = _sqlite_path(database_url)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copy2(work / "database.dump", target)
            os.chmod(target, 0o600)
        else:
            args, env = _libpq(database_url)
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    *args,
                    str(work / "database.dump"),
                ],
                env,
            )


# --- command line -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Back up or restore a Sealbox instance.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_backup = sub.add_parser("backup", help="write one backup file")
    p_backup.add_argument("--out", type=Path, required=True, help="folder for backup files")
    p_backup.add_argument("--age-recipients", type=Path, help="encrypt to these age recipients")
    p_restore = sub.add_parser("restore", help="restore into an empty database and folder")
    p_restore.add_argument("file", type=Path)
    p_restore.add_argument("--database-url", required=True, help="owner role URL, empty database")
    p_restore.add_argument("--instance-path", type=Path, required=True)
    p_restore.add_argument("--age-identity", type=Path)
    p_verify = sub.add_parser("verify", help="check a backup file's manifest and checksums")
    p_verify.add_argument("file", type=Path)
    p_verify.add_argument("--age-identity", type=Path)
    args = parser.parse_args(argv)
    os.umask(0o077)
    try:
        if args.command == "backup":
            from config import ConfigError, load_settings

            try:
                settings = load_settings()
            except ConfigError as exc:
                raise BackupError("; ".join(exc.problems)) from None
            print(backup(settings, args.out, args.age_recipients))
        elif args.command == "restore":
            restore(args.file, args.database_url, args.instance_path, args.age_identity)
            print(f"restored {args.file.name} into {args.instance_path}", file=sys.stderr)
        else:
            manifest = verify(args.file, args.age_identity)
            print(f"{args.file.name}: {len(manifest['sha256'])} members, checksums match")
    except BackupError as exc:
        print(f"sealbox-backup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
