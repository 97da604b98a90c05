"""Oral reports: the reporter reads, corrects and agrees the minutes (EU 2019/1937 Art. 18).

A caseworker records the minutes of a call or meeting as the first message of an oral case
(``cases.casework.oral.record_oral_report``). The reporter reads them with their receipt, sends
corrections as ordinary follow-up messages (a caseworker then records revised minutes,
which restarts agreement), and agrees the current version with :func:`agree_minutes`,
only with a receipt of their own (cases.reporting.claim): the one handed over by the recorder is
replaced at its first use.

A reporter who agrees in person, at the meeting, has it recorded by one caseworker
(:func:`record_in_person_agreement`) and confirmed by a second as witness
(:func:`witness_in_person_agreement`). It is kept as what it is, an agreement recorded by
caseworkers, in the internal record, never as a message from the reporter.

For the intake app: call ``agree_minutes(session, case, reporter_private_key)`` when the
reporter, signed in with their receipt, confirms the minutes. Reporter actions are not
written to the audit log (its entries carry a time of day); the agreement is kept as the
date ``Case.minutes_agreed_on`` and as an encrypted entry in the thread naming the exact
minutes agreed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import bodies
from cases.bodies import Event
from cases.casework.access import CaseworkRefused, write_as
from cases.content import DecryptedMessage, add_message, store_message
from cases.keyring import NoAccess, reporter_thread_key
from cases.models import Case, Caseworker, Message, MessageKind, today
from cases.records.audit import record
from cases.reporting.claim import needs_claim
from cases.reporting.followup import touch
from crypto import DecryptionError

BY_REPORTER, IN_PERSON = "reporter", "in_person"


class NoMinutes(ValueError):
    """The case is not an oral report, or has no minutes to agree."""


def latest_minutes_id(session: Session, case_id: str) -> str | None:
    return session.scalar(
        select(Message.id)
        .where(Message.case_id == case_id, Message.kind == MessageKind.MINUTES)
        .order_by(Message.position.desc())
        .limit(1)
    )


def awaiting_agreement(session: Session, case: Case) -> bool:
    """True when the reporter has minutes to agree (an oral case not yet agreed)."""
    return (
        case.channel == "oral"
        and case.minutes_agreed_on is None
        and latest_minutes_id(session, case.id) is not None
    )


def agree_minutes(
    session: Session, case: Case, reporter_private_key: bytes, on: dt.date | None = None
) -> str:
    """Record that the reporter agrees the current minutes; return the minutes' id.

    The reporter's key must open the case's thread key (proof the caller holds the
    receipt); raises ``cases.keyring.NoAccess`` otherwise, and ``NoMinutes`` when there is
    nothing to agree."""
    if case.channel != "oral":
        raise NoMinutes("only oral reports have minutes to agree")
    minutes_id = latest_minutes_id(session, case.id)
    if minutes_id is None:
        raise NoMinutes("there are no minutes to agree")
    if needs_claim(case):  # the recorder's receipt: it proves nothing about the reporter
        raise NoAccess("the handed-over receipt has not been replaced by the reporter's own")
    on = on or today()
    try:
        thread_key = reporter_thread_key(session, case.id, reporter_private_key)
    except DecryptionError as exc:
        raise NoAccess("this key does not open the case") from exc
    add_message(
        session,
        case.id,
        MessageKind.REPORTER_MESSAGE,
        thread_key,
        bodies.thread_event(Event.MINUTES_AGREED, minutes_id=minutes_id),
        on=on,
    )
    _agreed_by_reporter(session, case, on)
    return minutes_id


def agree_minutes_sealed(
    session: Session, case: Case, minutes_id: str, message_id: str, record: bytes,
    on: dt.date | None = None,
) -> None:
    """The same agreement, its thread entry sealed in the reporter's browser (a session
    without the reporter's key: cases.reporting.sealed_followup). The page names the minutes
    it showed; raises ``NoMinutes`` when they are not the current ones."""
    if case.channel != "oral" or latest_minutes_id(session, case.id) != minutes_id:
        raise NoMinutes("these are not the current minutes")
    if needs_claim(case):
        raise NoAccess("the handed-over receipt has not been replaced by the reporter's own")
    on = on or today()
    store_message(session, case.id, message_id, MessageKind.REPORTER_MESSAGE, record, on=on)
    _agreed_by_reporter(session, case, on)


def _agreed_by_reporter(session: Session, case: Case, on: dt.date) -> None:
    case.minutes_agreed_on, case.minutes_agreed_how = on, BY_REPORTER
    case.minutes_in_person_by_id = None
    touch(case, on)
    session.flush()


def restart_agreement(case: Case) -> None:
    """New minutes: whatever was agreed, or waits for a witness, was about the old ones."""
    case.minutes_agreed_on = case.minutes_agreed_how = case.minutes_in_person_by_id = None


def record_in_person_agreement(session: Session, case: Case, actor: Caseworker) -> None:
    """One caseworker records that the reporter agreed the current minutes in person; it
    counts once a second caseworker witnesses it."""
    if not awaiting_agreement(session, case):
        raise CaseworkRefused("There are no minutes waiting for agreement.")
    if case.minutes_in_person_by_id is not None:
        raise CaseworkRefused("An agreement in person is already waiting for a witness.")
    case.minutes_in_person_by_id = actor.id
    record(session, "case.minutes_in_person_recorded", actor_id=actor.id, case_id=case.id)


def witness_in_person_agreement(
    session: Session, case: Case, witness: Caseworker, private_key: bytes
) -> str:
    """The second caseworker confirms the in-person agreement: it goes into the internal
    record, naming the minutes and both caseworkers. Returns the minutes' id."""
    recorder_id = case.minutes_in_person_by_id
    minutes_id = latest_minutes_id(session, case.id)
    if recorder_id is None or minutes_id is None or not awaiting_agreement(session, case):
        raise CaseworkRefused("No agreement in person is waiting for a witness.")
    if witness.id == recorder_id:
        raise CaseworkRefused("A second caseworker must witness the agreement you recorded.")
    on = today()
    body = bodies.agreed_in_person(minutes_id, recorded_by=recorder_id, witnessed_by=witness.id)
    write_as(session, case, witness, private_key, MessageKind.NOTE, body, on)
    case.minutes_agreed_on, case.minutes_agreed_how = on, IN_PERSON
    case.minutes_in_person_by_id = None
    record(
        session, "case.minutes_in_person_witnessed", actor_id=witness.id, case_id=case.id,
        recorded_by=recorder_id,
    )
    return minutes_id


def withdraw_in_person_agreement(session: Session, case: Case, actor: Caseworker) -> None:
    if case.minutes_in_person_by_id is None:
        raise CaseworkRefused("No agreement in person is waiting for a witness.")
    case.minutes_in_person_by_id = None
    record(session, "case.minutes_in_person_withdrawn", actor_id=actor.id, case_id=case.id)


def agreed_in_person(internal: list[DecryptedMessage]) -> dict[str, Any] | None:
    """The internal record of the latest in-person agreement (who recorded, who
    witnessed, which minutes), from a case's decrypted internal messages."""
    for message in reversed(internal):
        if message.body.get("event") == Event.MINUTES_AGREED_IN_PERSON:
            return message.body
    return None
