"""What the inbox shows of each case it lists: the first words of the report and the
language it was written in, decrypted with the caseworker's own key for the cases they hold
(no key, no preview), in the request, never stored. The caller audits the page once
(``inbox.previewed``), not once per case."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.content import open_message
from cases.keyring import key_context
from cases.models import HolderKind, KeyPurpose, Message, MessageKind, WrappedKey
from crypto import DecryptionError, open_with

SNIPPET_CHARS = 140


@dataclass(frozen=True)
class Preview:
    snippet: str
    language: str


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[:SNIPPET_CHARS].rstrip() + "…"


def previews(
    db: Session, caseworker_id: int, private_key: bytes, case_ids: list[str]
) -> dict[str, Preview]:
    """Case id -> its preview, for the listed cases this caseworker holds (two queries)."""
    if not case_ids:
        return {}
    wrapped: dict[str, bytes] = {case_id: blob for case_id, blob in db.execute(
        select(WrappedKey.case_id, WrappedKey.wrapped).where(
            WrappedKey.case_id.in_(case_ids),
            WrappedKey.caseworker_id == caseworker_id,
            WrappedKey.holder_kind == HolderKind.CASEWORKER,
            WrappedKey.purpose == KeyPurpose.THREAD,
            WrappedKey.record_id == "",
        )
    )}
    reports = db.execute(
        select(Message.case_id, Message.id, Message.ciphertext)
        .where(Message.case_id.in_(list(wrapped)), Message.kind == MessageKind.REPORT)
        .order_by(Message.case_id, Message.position)
    ).all()
    out: dict[str, Preview] = {}
    for case_id, message_id, ciphertext in reports:
        if case_id in out:
            continue  # the first report of the case
        try:
            key = open_with(private_key, wrapped[case_id],
                            key_context(case_id, KeyPurpose.THREAD))
            body = open_message(key, case_id, MessageKind.REPORT, message_id, ciphertext)
        except (DecryptionError, ValueError):
            continue  # a damaged record: the case page says so, the inbox shows no preview
        out[case_id] = Preview(_snippet(str(body.get("text", ""))), str(body.get("language", "")))
    return out
