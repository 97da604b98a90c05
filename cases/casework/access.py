"""Who may act on a case, and the refusal every casework step raises.

Access is cryptographic: an active caseworker may open a case when a wrapped key row holds
the case's thread key for them (``cases.keyring``); a missing case and a case without a key
look the same to the caller, so no one can probe for case ids.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.bodies import Body
from cases.content import add_message, key_purpose_of
from cases.keyring import NoAccess, caseworker_key
from cases.models import Case, Caseworker, HolderKind, KeyPurpose, Message, MessageKind, WrappedKey
from cases.records.audit import record

MAX_TEXT = 50_000


class CaseworkRefused(Exception):
    """The action is not allowed; the message is fit to show to the caseworker."""


def has_access(db: Session, case_id: str, caseworker_id: int) -> bool:
    return (
        db.scalar(
            select(WrappedKey.id).where(
                WrappedKey.case_id == case_id,
                WrappedKey.purpose == KeyPurpose.THREAD,
                WrappedKey.holder_kind == HolderKind.CASEWORKER,
                WrappedKey.caseworker_id == caseworker_id,
            )
        )
        is not None
    )


def case_for(db: Session, case_id: str, actor: Caseworker) -> Case:
    """The case if the actor is an active caseworker holding its key; else NoAccess."""
    case = db.get(Case, case_id) if len(case_id) <= 16 else None
    if case is None or not actor.is_caseworker or not actor.active:
        raise NoAccess("no such case")
    if not has_access(db, case.id, actor.id):
        record(db, "case.access_denied", actor_id=actor.id, case_id=case.id)
        raise NoAccess("no key to this case")
    return case


def case_key(
    db: Session, case: Case, actor: Caseworker, private_key: bytes, purpose: KeyPurpose
) -> bytes:
    """The actor's copy of one of the case's keys, unwrapped (NoAccess without one)."""
    return caseworker_key(db, case.id, purpose, actor.id, private_key)


def write_as(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    kind: MessageKind,
    body: Body,
    on: dt.date | None = None,
) -> Message:
    """A message the actor writes in the case, under the key its kind uses (the internal
    key for notes and records, which never reaches the reporter); NoAccess without it."""
    key = case_key(db, case, actor, private_key, key_purpose_of(kind))
    return add_message(db, case.id, kind, key, body, author_id=actor.id, on=on)


def clean_text(text: str, *, required: bool = True) -> str:
    """A text a caseworker wrote, with its line breaks normalised, checked for presence
    and length."""
    text = (text or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise CaseworkRefused("Fill in the required text.")
    if len(text) > MAX_TEXT:
        raise CaseworkRefused("This text is too long.")
    return text
