"""``sealbox init``: create an instance folder with its secrets and the recovery key pair."""

from __future__ import annotations

import os
from pathlib import Path

from config.settings import INSTANCE_FILE
from crypto import new_instance_salt, new_key, new_recovery_keypair


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
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content)
    return recovery_text
