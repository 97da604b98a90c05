"""What caseworkers write in a case: internal notes, replies to the reporter (feedback
included) and revised minutes of an oral report, each under the right case key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from cases import bodies
from cases.casework.access import CaseworkRefused, clean_text, write_as
from cases.casework.workflow import (
    record_feedback,
)
from cases.models import (
    Case,
    Caseworker,
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
    body = bodies.note(clean_text(text))
    note = write_as(db, case, actor, private_key, MessageKind.NOTE, body, on)
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
    body = bodies.message(clean_text(text), feedback=gives_feedback)
    message = write_as(db, case, actor, private_key, MessageKind.REPLY, body, on)
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
    body = bodies.revised_minutes(clean_text(text))
    message = write_as(db, case, actor, private_key, MessageKind.MINUTES, body, on)
    restart_agreement(case)
    record(db, "case.minutes_revised", actor_id=actor.id, case_id=case.id, message_id=message.id)
    return message.id
