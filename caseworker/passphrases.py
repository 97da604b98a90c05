"""Generated passphrases for new accounts (shown once, to be changed by their owner)."""

from __future__ import annotations

import secrets

# No 0/o, 1/l/i: easy to read aloud and to copy from a screen.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS = 5
GROUP_LENGTH = 5  # 25 symbols of log2(31) bits: about 124 bits


def generate_passphrase() -> str:
    return "-".join(
        "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS)
    )
