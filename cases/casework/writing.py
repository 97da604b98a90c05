"""What caseworkers write in a case: internal notes, replies to the reporter (feedback
included) and revised minutes of an oral report, each under the right case key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from cases import bodies
from cases.casework.access import CaseworkRefused, clean_text, write_as
from cases.casework.steps import acknowledge_case
from cases.casework.workflow import Deadlines, record_feedback
from cases.content import AttachmentUpload, store_attachment
from cases.models import (
    Case,
    Caseworker,
    MessageKind,
    Status,
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
    files: Sequence[tuple[AttachmentUpload, str, str]] = (),
) -> str:
    """An internal note under the internal key: the reporter never holds that key. Its
    ``files`` were encrypted under the same key as they came in."""
    on = on or today()
    body = bodies.note(clean_text(text))
    note = write_as(db, case, actor, private_key, MessageKind.NOTE, body, on)
    record(db, "case.note_added", actor_id=actor.id, case_id=case.id, message_id=note.id)
    _attach(db, case, actor, note.id, files, on, "case.note_file_attached")
    return note.id


def reply(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    text: str,
    *,
    gives_feedback: bool = False,
    acknowledging: Deadlines | None = None,
    files: Sequence[tuple[AttachmentUpload, str, str]] = (),
    on: dt.date | None = None,
) -> str:
    """A message to the reporter under the thread key (they read it with their receipt).

    With ``acknowledging`` (the instance's deadlines), a reply to a case nobody has
    acknowledged yet is the acknowledgement (EU 2019/1937 Art. 9(1)(b)): the case moves on
    and its feedback deadline starts to count. ``files`` (upload, name, declared type),
    encrypted under the case's thread key as they came in, are attached to it."""
    on = on or today()
    text = clean_text(text)
    if acknowledging is not None and case.status is Status.RECEIVED:
        reply_id = acknowledge_case(db, acknowledging, case, actor, private_key, text, on)
        if reply_id is None:  # cannot happen: the text is required, so the reply is written
            raise RuntimeError("the acknowledgement wrote no reply")
        _attach(db, case, actor, reply_id, files, on, "case.reply_file_attached")
        return reply_id
    if gives_feedback and case.acknowledged_on is None:
        raise CaseworkRefused("Acknowledge the report before giving feedback.")
    body = bodies.message(text, feedback=gives_feedback)
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
    _attach(db, case, actor, message.id, files, on, "case.reply_file_attached")
    return message.id


def _attach(db: Session, case: Case, actor: Caseworker, message_id: str,
            files: Sequence[tuple[AttachmentUpload, str, str]], on: dt.date,
            action: str) -> None:
    """A message's files, numbered after it, each named in the audit log by its id."""
    for upload, name, content_type in files:
        attachment = upload.finish(name, content_type, on=on)
        attachment.message_id = message_id
        store_attachment(db, attachment)
        record(db, action, actor_id=actor.id, case_id=case.id,
               message_id=message_id, attachment_id=attachment.id)


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
