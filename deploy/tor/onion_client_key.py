"""Make one caseworker's client-authorisation key for the caseworker onion service.

    sudo /opt/sealbox/venv/bin/python deploy/tor/onion_client_key.py alice \\
        /var/lib/tor/sealbox-caseworker
    sudo systemctl reload tor

Writes the public half to ``<service dir>/authorized_clients/alice.auth`` (owned like the
service directory, mode 0600) and prints the private half, once, for the caseworker to
enter in Tor Browser (about:preferences#privacy → Onion Services Authentication → Saved
Keys → Add) or to save as ``<ClientOnionAuthDir>/sealbox.auth_private``. The private half
is never written to disk here: hand it over in person or through the organisation's
password manager, never by e-mail. Revoke by deleting the .auth file and reloading Tor.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def new_client_key() -> tuple[str, str]:
    """(public, private) as Tor writes them: unpadded base32 of the raw X25519 keys."""
    private = X25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    private_raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return b32(public_raw), b32(private_raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="one name per caseworker (letters, digits, - and _)")
    parser.add_argument("service_dir", type=Path, help="the HiddenServiceDir of the service")
    args = parser.parse_args(argv)
    if not NAME.match(args.name):
        parser.error("name: use 1-64 letters, digits, '-' or '_'")
    clients = args.service_dir / "authorized_clients"
    auth_file = clients / f"{args.name}.auth"
    if auth_file.exists():
        parser.error(f"{auth_file} exists: delete it first to replace that caseworker's key")
    public, private = new_client_key()
    owner = args.service_dir.stat()
    clients.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(auth_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"descriptor:x25519:{public}\n")
    if os.geteuid() == 0:
        for path in (clients, auth_file):
            os.chown(path, owner.st_uid, owner.st_gid)
    hostname = args.service_dir / "hostname"
    onion = (
        hostname.read_text().strip().removesuffix(".onion")
        if hostname.exists()
        else "<the 56 characters in hostname, without .onion>"
    )
    print(f"wrote {auth_file}; now reload Tor (systemctl reload tor)", file=sys.stderr)
    print("Give this line to the caseworker, once, and do not keep a copy:", file=sys.stderr)
    print(f"{onion}:descriptor:x25519:{private}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
