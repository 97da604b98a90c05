"""``sealbox init``: create an instance folder with its secrets and the recovery key pair.

Two files: ``instance.toml``, which both apps read, and ``caseworker-secrets.toml`` with the
key-signing secret, which only the caseworker app and the CLI need (the shipped intake
unit cannot read it: deploy/systemd/sealbox-intake.service).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from config.settings import CASEWORKER_SECRETS_FILE, INSTANCE_FILE
from crypto import new_instance_salt, new_key, new_recovery_keypair, new_signing_key


class InstanceExists(Exception):
    pass


def init_instance(instance_path: Path) -> str:
    """Write the instance file and return the recovery private key as text.

    The caller prints the text once for offline storage; it is never written to disk.
    The instance salt and secrets are written with mode 0600.
    """
    instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = instance_path / INSTANCE_FILE
    if path.exists():
        raise InstanceExists(f"{path} already exists: refusing to overwrite an instance's keys")
    recovery_text, recovery_public = new_recovery_keypair()
    content = (
        "# Sealbox instance secrets. Back this file up with the database; never share it.\n"
        f'secret_key = "{new_key().hex()}{new_key().hex()}"\n'
        f'instance_salt = "{new_instance_salt().hex()}"\n'
        f'server_key = "{new_key().hex()}"\n'
        f'recovery_public_key = "{recovery_public.hex()}"\n'
    )
    _write_new(path, content)
    ensure_signing_key(instance_path)
    return recovery_text


def ensure_signing_key(instance_path: Path) -> bool:
    """Give an instance its key-signing key if it has none yet (instances made before it
    existed: ``sealbox db upgrade`` and ``sealbox serve`` call this). Returns True if made."""
    path = instance_path / INSTANCE_FILE
    with path.open("rb") as fh:
        if "key_signing_public" in tomllib.load(fh):
            return False
    seed, public = new_signing_key()
    _write_new(
        instance_path / CASEWORKER_SECRETS_FILE,
        "# Sealbox: the key-signing secret. Only the caseworker app and the sealbox command\n"
        "# read it; back it up with instance.toml; never share it.\n"
        f'key_signing_secret = "{seed.hex()}"\n',
    )
    with path.open("a") as fh:
        fh.write(f'key_signing_public = "{public.hex()}"\n')
    return True


def replace_recovery_public_key(instance_path: Path, public_key: bytes) -> str:
    """Point the instance file at a new recovery public key (``sealbox recovery rotate``);
    return the file's previous content, for :func:`restore_instance_file` should the
    rotation not commit. The file is replaced atomically, never half-written."""
    path = instance_path / INSTANCE_FILE
    before = path.read_text()
    lines = [
        f'recovery_public_key = "{public_key.hex()}"'
        if line.split("=", 1)[0].strip() == "recovery_public_key" else line
        for line in before.splitlines()
    ]
    _replace(path, "\n".join(lines) + "\n")
    return before


def restore_instance_file(instance_path: Path, content: str) -> None:
    _replace(instance_path / INSTANCE_FILE, content)


def _replace(path: Path, content: str) -> None:
    work = path.with_name(f".{path.name}.new")
    work.unlink(missing_ok=True)
    _write_new(work, content)
    os.replace(work, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _write_new(path: Path, content: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
