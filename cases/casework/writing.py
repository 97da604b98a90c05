"""What caseworkers write in a case: internal notes, replies to the reporter (feedback
included) and revised minutes of an oral report, each under the right case key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from cases import bodies
from cases.casework.access import CaseworkRefused, case_key, clean_text
from cases.casework.workflow import (
    record_feedback,
)
from cases.content import (
    add_message,
)
from cases.models import (
    Case,
    Caseworker,
    KeyPurpose,
    MessageKind,
    today,
)
from cases.records.audit import record
from cases.reporting.minutes import restart_agreement


def add_note(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    text: str,
    on: dt.date | None = None,
) -> str:
    """An internal note under the internal key: the reporter never holds that key."""
    key = case_key(db, case, actor, private_key, KeyPurpose.INTERNAL)
    note = add_message(
        db,
        case.id,
        MessageKind.NOTE,
        key,
        bodies.note(clean_text(text)),
        author_id=actor.id,
        on=on,
    )
    record(db, "case.note_added", actor_id=actor.id, case_id=case.id, message_id=note.id)
    return note.id


def reply(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    text: str,
    *,
    gives_feedback: bool = False,
    on: dt.date | None = None,
) -> str:
    """A message to the reporter under the thread key (they read it with their receipt)."""
    on = on or today()
    if gives_feedback and case.acknowledged_on is None:
        raise CaseworkRefused("Acknowledge the report before giving feedback.")
    key = case_key(db, case, actor, private_key, KeyPurpose.THREAD)
    body = bodies.message(clean_text(text), feedback=gives_feedback)
    message = add_message(db, case.id, MessageKind.REPLY, key, body, author_id=actor.id, on=on)
    if gives_feedback:
        record_feedback(case, on)
    record(
        db,
        "case.replied",
        actor_id=actor.id,
        case_id=case.id,
        message_id=message.id,
        feedback=gives_feedback,
    )
    return message.id


def revise_minutes(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    text: str,
    on: dt.date | None = None,
) -> str:
    """New minutes of an oral report after the reporter's corrections: agreement restarts."""
    if case.channel != "oral":
        raise CaseworkRefused("Only oral reports have minutes.")
    key = case_key(db, case, actor, private_key, KeyPurpose.THREAD)
    message = add_message(
        db,
        case.id,
        MessageKind.MINUTES,
        key,
        bodies.revised_minutes(clean_text(text)),
        author_id=actor.id,
        on=on,
    )
    restart_agreement(case)
    record(db, "case.minutes_revised", actor_id=actor.id, case_id=case.id, message_id=message.id)
    return message.id
