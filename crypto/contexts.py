"""Every context a Sealbox ciphertext is bound to, in one place: one function per row of
the "Keys per case and purposes" table of docs/CRYPTO.md (tests/crypto/test_crypto_contexts.py
checks that the two agree). A label that is built anywhere else can drift from the
documented format, and a ciphertext made under it then opens nowhere.

The functions take plain strings so that this layer knows nothing of cases/: a message
kind or key purpose is passed as its value (``"report"``, ``"thread"``).
"""

from __future__ import annotations

from crypto.envelopes import Context


def wrapped_key(case_id: str, key_purpose: str, record_id: str = "") -> Context:
    """A case key wrapped to one holder: ``thread-key``, ``internal-key``, and the
    per-record ``identity-key:<record_id>`` and ``request-key:<request_id>``."""
    return Context(case_id, f"{key_purpose}-key" + (f":{record_id}" if record_id else ""))


def message(case_id: str, kind: str, message_id: str) -> Context:
    return Context(case_id, f"message:{kind}:{message_id}")


def identity_record(case_id: str, record_id: str) -> Context:
    return Context(case_id, f"identity:{record_id}")


def attachment_meta(case_id: str, attachment_id: str) -> Context:
    return Context(case_id, f"attachment-meta:{attachment_id}")


def attachment_key(case_id: str, attachment_id: str) -> Context:
    return Context(case_id, f"attachment-key:{attachment_id}")


def attachment_contents(case_id: str, attachment_id: str) -> Context:
    return Context(case_id, f"attachment:{attachment_id}")


def session_key(session_id: str) -> Context:
    """The server part of a caseworker session's key (docs/CRYPTO.md, sessions)."""
    return Context(session_id, "session-key")


def totp_secret(account_id: int | str) -> Context:
    return Context(f"caseworker:{account_id}", "totp-secret")


def totp_pending(session_id: str) -> Context:
    return Context(f"session:{session_id}", "totp-pending")


def identity_request_reason(case_id: str, request_id: int | str) -> Context:
    return Context(case_id, f"identity-request:{request_id}")
