"""A report sealed as the intake page's script seals it (intake/static/sealing/), made with
the project's Python crypto: for the server-side tests of ``/report/send-sealed``, which
check what the server accepts and stores without a browser. The browser's own output is
checked against the same server in tests/browser/test_browser_sealed_report.py."""

from __future__ import annotations

import base64
import json
from typing import Any

from crypto import (
    FileSealer,
    KdfParams,
    contexts,
    derive_reporter_keys,
    encrypt_record,
    new_key,
    new_receipt,
    seal_for,
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def new_hex_id() -> str:
    return new_key()[:8].hex()


def _wrap(holders: list[dict[str, Any]], recovery: bytes, secret: bytes, case_id: str,
          purpose: str, record_id: str = "") -> dict[str, Any]:
    context = contexts.wrapped_key(case_id, purpose, record_id)
    return {
        "caseworkers": {str(h["id"]): b64(seal_for(unb64(h["public_key"]), secret, context))
                        for h in holders},
        "recovery": b64(seal_for(recovery, secret, context)),
    }


def seal_report(
    keys: dict[str, Any],
    body: dict[str, Any],
    *,
    identity: dict[str, str] | None = None,
    category: str = "",
    exclude: list[str] | None = None,
    receipt: str | None = None,
    report_plaintext: bytes | None = None,
    report_key: bytes | None = None,
    files: list[tuple[str, bytes]] | None = None,
) -> tuple[dict[str, Any], str]:
    """(the JSON to send, the receipt the reporter would be shown). ``report_plaintext``
    and ``report_key`` make what a hostile script could send: other bytes than a report's
    JSON, or a report sealed under a key no holder was given. ``files`` (name, contents)
    are sealed as the page seals them: their ciphertexts, to send piece by piece before
    the report, are under ``sealed["uploads"]`` (not part of the JSON: pop it first)."""
    receipt = receipt or new_receipt()
    kdf = keys["receipt_kdf"]
    reporter = derive_reporter_keys(
        receipt, unb64(kdf["salt"]), KdfParams(kdf["opslimit"], kdf["memlimit"])
    )
    case_id, report_id = new_hex_id(), new_hex_id()
    thread, internal = new_key(), new_key()
    recovery = unb64(keys["recovery_public_key"])
    text = report_plaintext or json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    sealed: dict[str, Any] = {
        "case_id": case_id,
        "lookup_hash": b64(reporter.lookup_hash),
        "reporter_public_key": b64(reporter.public_key),
        "category": category,
        "exclude": exclude or [],
        "thread_keys": {
            **_wrap(keys["caseworkers"], recovery, thread, case_id, "thread"),
            "reporter": b64(seal_for(reporter.public_key, thread,
                                     contexts.wrapped_key(case_id, "thread"))),
        },
        "internal_keys": _wrap(keys["caseworkers"], recovery, internal, case_id, "internal"),
        "report": {"id": report_id, "record": b64(encrypt_record(
            report_key or thread, text, contexts.message(case_id, "report", report_id)))},
        "acknowledgement": None,
        "identity": None,
    }
    if keys["acknowledgement"]:
        ack_id = new_hex_id()
        sealed["acknowledgement"] = {"id": ack_id, "record": b64(encrypt_record(
            thread, unb64(keys["acknowledgement"]), contexts.message(case_id, "reply", ack_id)))}
    if identity:
        record_id, identity_key = new_hex_id(), new_key()
        details = json.dumps(identity, ensure_ascii=False).encode()
        sealed["identity"] = {
            "id": record_id,
            "record": b64(encrypt_record(identity_key, details,
                                         contexts.identity_record(case_id, record_id))),
            "keys": _wrap(keys["custodians"], recovery, identity_key, case_id,
                          "identity", record_id),
        }
    if files:
        sealed["uploads"] = [seal_file(case_id, thread, name, data) for name, data in files]
        sealed["files"] = [upload.entry for upload in sealed["uploads"]]
    return sealed, receipt


class SealedUpload:
    """One file sealed as the page seals it: its ciphertext and the report's entry for it."""

    def __init__(self, file_id: str, token: bytes, ciphertext: bytes, entry: dict[str, str]):
        self.id, self.token, self.ciphertext, self.entry = file_id, token, ciphertext, entry

    def pieces(self, size: int = 1024 * 1024) -> list[bytes]:
        return [self.ciphertext[at:at + size] for at in range(0, len(self.ciphertext), size)]


def seal_file(case_id: str, thread: bytes, name: str, data: bytes,
              cleaning: dict[str, Any] | None = None) -> SealedUpload:
    file_id, file_key, token = new_hex_id(), new_key(), new_key()
    sealer = FileSealer(file_key, contexts.attachment_contents(case_id, file_id))
    ciphertext = sealer.push(data) + sealer.finish()
    meta = {"name": name, "type": "application/octet-stream", "size": len(data),
            "cleaning": cleaning or {"kind": "other", "cleaned": False, "removed": [],
                                     "reason": "browser"}}
    entry = {
        "id": file_id,
        "token": b64(token),
        "meta": b64(encrypt_record(thread, json.dumps(meta).encode(),
                                   contexts.attachment_meta(case_id, file_id))),
        "key": b64(encrypt_record(thread, file_key, contexts.attachment_key(case_id, file_id))),
        "size": len(ciphertext),
    }
    return SealedUpload(file_id, token, ciphertext, entry)


def keys_of(store: Any) -> dict[str, Any]:
    """What /report/sealing-keys hands out for a report with no category or exclusions."""
    from cases.reporting.sealed import sealing_keys
    from intake.report.sealed_form import sealing_keys_json

    with store.transaction() as session:
        return sealing_keys_json(sealing_keys(session, store, None, frozenset()), store.settings)


def store_sealed(store: Any, sealed: dict[str, Any]) -> str:
    """Store what a script sent, as /report/send-sealed does; returns the case id."""
    from cases.models import today
    from cases.reporting.sealed import Limits, store_sealed_report
    from intake.report.options import FormOptions
    from intake.report.sealed_form import parse_sealed_report

    report = parse_sealed_report(sealed, FormOptions())
    with store.transaction() as session:
        return store_sealed_report(session, store, report, Limits(10**6, 10**5), today()).id


def lookup_token(receipt: str, kdf: dict[str, Any]) -> bytes:
    """The look-up token the follow-up page derives from a receipt and sends (docs/CRYPTO.md,
    "Derivation"): the first half of ``derive_reporter_keys``, as the page computes it."""
    from crypto import _primitives as p

    master = p.argon2id_kdf(32, receipt.encode(), unb64(kdf["salt"]), kdf["opslimit"],
                            kdf["memlimit"])
    return p.blake2b(master, person=b"sealbox-lookup")
