"""Encrypting a notice to its reader's own key: an age recipient (``age1…``) or an
OpenPGP public key (armored), with the ``age`` and ``gpg`` tools (Debian's ``age`` and
``gnupg`` packages); no cryptography is written here.

age mail is the notice's text replaced by its armored age ciphertext. OpenPGP mail is
PGP/MIME (RFC 3156: ``multipart/encrypted``), which mail clients open by themselves. The
subject and addresses stay as they are: they carry nothing about a case anyway. gpg runs
with a throw-away home folder under TMPDIR (RAM in the shipped units) holding only the one
public key, and never contacts a key server. A key that cannot be used is refused when it
is saved (``check_notice_key``); a failure when sending raises ``NoticeKeyError``, so the
notice is kept and tried again, never sent in the clear instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from email.encoders import encode_7or8bit
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

AGE_RECIPIENT = re.compile(r"age1[02-9ac-hj-np-z]{58}")
PGP_BLOCK = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
MAX_KEY_CHARS = 20_000
TIMEOUT_SECONDS = 30
_HEADERS = ("Subject", "From", "To", "Date", "Message-ID")


class NoticeKeyError(ValueError):
    """The key is not one this server can encrypt to. ``reason`` is one of REASONS (the
    back office words each in the reader's language); the message is its English."""

    def __init__(self, reason: str) -> None:
        super().__init__(REASONS[reason])
        self.reason = reason


REASONS = {
    "no_tool": "this server cannot encrypt mail yet (age or gnupg is not installed)",
    "not_a_key": "give an age recipient (age1…) or an armored OpenPGP public key",
    "age_unusable": "this age recipient cannot be used",
    "pgp_unreadable": "this is not a readable OpenPGP public key",
    "pgp_one_key": "give exactly one OpenPGP key that can encrypt",
    "pgp_unusable": "this OpenPGP key cannot be used to encrypt (expired or revoked?)",
    "slow": "encrypting took too long",
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise NoticeKeyError("no_tool")
    return path


def _run(args: list[str], data: bytes, failure: str) -> bytes:
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            args, input=data, capture_output=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise NoticeKeyError("slow") from exc
    if done.returncode != 0:
        raise NoticeKeyError(failure)
    return done.stdout


def kind_of(key: str) -> str:
    """"age" or "openpgp"; NoticeKeyError for anything else."""
    key = key.strip()
    if AGE_RECIPIENT.fullmatch(key):
        return "age"
    if key.startswith(PGP_BLOCK) and len(key) <= MAX_KEY_CHARS:
        return "openpgp"
    raise NoticeKeyError("not_a_key")


def check_notice_key(key: str) -> str:
    """The key as it will be stored, after encrypting a test text to it."""
    key = key.strip().replace("\r\n", "\n")
    encrypt(key, b"sealbox key check\n")
    return key


def encrypt(key: str, plaintext: bytes) -> bytes:
    """Armored ciphertext of ``plaintext`` for this key."""
    if kind_of(key) == "age":
        return _run([_tool("age"), "--encrypt", "--armor", "-r", key.strip()], plaintext,
                    "age_unusable")
    gpg = _tool("gpg")
    with tempfile.TemporaryDirectory(prefix="sealbox-gpg-") as home:
        base = [gpg, "--homedir", home, "--batch", "--no-tty", "--quiet", "--no-autostart",
                "--no-auto-key-locate", "--no-auto-key-retrieve"]
        _run([*base, "--import"], key.encode(), "pgp_unreadable")
        listing = _run([*base, "--with-colons", "--list-keys"], b"", "pgp_unreadable").decode()
        primary = [line.split(":") for line in listing.splitlines() if line.startswith("pub:")]
        if len(primary) != 1 or "e" not in primary[0][11].lower():
            raise NoticeKeyError("pgp_one_key")
        fingerprint = next(line.split(":")[9] for line in listing.splitlines()
                           if line.startswith("fpr:"))
        return _run([*base, "--trust-model", "always", "--armor", "--encrypt",
                     "--recipient", fingerprint], plaintext,
                    "pgp_unusable")


def _copy_headers(source: Message, target: Message) -> None:
    for name in _HEADERS:
        if source[name] is not None:
            target[name] = source[name]


def encrypted_notice(message: EmailMessage, key: str) -> Message:
    """The same mail, its body readable only with the key's private half."""
    body = message.get_content()
    if kind_of(key) == "age":
        sealed = EmailMessage()
        _copy_headers(message, sealed)
        sealed.set_content(encrypt(key, body.encode()).decode())
        return sealed
    inner = MIMEText(body, "plain", "utf-8")
    outer = MIMEMultipart("encrypted", protocol="application/pgp-encrypted")
    _copy_headers(message, outer)
    control = MIMEApplication(b"Version: 1\n", "pgp-encrypted", _encoder=encode_7or8bit)
    control["Content-Description"] = "PGP/MIME version identification"
    data = MIMEApplication(encrypt(key, inner.as_bytes()), "octet-stream",
                           _encoder=encode_7or8bit, name="encrypted.asc")
    data["Content-Disposition"] = 'inline; filename="encrypted.asc"'
    outer.attach(control)
    outer.attach(data)
    return outer
