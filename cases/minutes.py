"""Oral reports: the reporter reads, corrects and agrees the minutes (EU 2019/1937 Art. 18).

A caseworker records the minutes of a call or meeting as the first message of an oral case
(``cases.casework.record_oral_report``). The reporter reads them with their receipt, sends
corrections as ordinary follow-up messages (a caseworker then records revised minutes,
which restarts agreement), and agrees the current version with :func:`agree_minutes`.

For the intake app: call ``agree_minutes(session, case, reporter_private_key)`` when the
reporter, signed in with their receipt, confirms the minutes. Reporter actions are not
written to the audit log (its entries carry a time of day); the agreement is kept as the
date ``Case.minutes_agreed_on`` and as an encrypted entry in the thread naming the exact
minutes agreed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.content import add_message
from cases.keyring import NoAccess, reporter_thread_key
from cases.models import Case, Message, MessageKind, today
from cases.reporter import touch
from crypto import DecryptionError

MINUTES_AGREED_EVENT = "minutes_agreed"


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
        {"text": "", "event": MINUTES_AGREED_EVENT, "minutes_id": minutes_id},
        on=on,
    )
    case.minutes_agreed_on = on
    touch(case, on)
    session.flush()
    return minutes_id
