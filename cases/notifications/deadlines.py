"""Deadline reminders: a case's holders are told, once each, that its next deadline (the
acknowledgement, then the feedback: EU 2019/1937 Art. 9) is near, and that it has passed.

``remind_deadlines`` runs with every ``sealbox notify``. "Near" is
``acknowledge_reminder_days`` (2) before an acknowledgement deadline and
``feedback_reminder_days`` (14) before a feedback deadline. A reminder already sent is
recorded with the deadline it was about, so a case moved to a new deadline is reminded
again, and one whose deadline did not move is not.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.casework.workflow import next_deadline
from cases.keyring import holders
from cases.models import Case, DeadlineReminder, today
from cases.notifications.outbox import DEADLINE_PASSED, DEADLINE_SOON, enqueue
from config import Settings

SOON, PASSED = "soon", "passed"


def _stage(case: Case, settings: Settings, on: dt.date) -> str | None:
    due = case.next_due_on
    if due is None:
        return None
    if due < on:
        return PASSED
    lead = (settings.acknowledge_reminder_days if next_deadline(case) == "acknowledgement"
            else settings.feedback_reminder_days)
    return SOON if (due - on).days <= lead else None


def remind_deadlines(session: Session, settings: Settings, on: dt.date | None = None) -> int:
    """Enqueue the reminders that are due; how many cases they were about."""
    on = on or today()
    horizon = on + dt.timedelta(days=max(settings.acknowledge_reminder_days,
                                         settings.feedback_reminder_days))
    sent = {(r.case_id, r.due_on, r.stage) for r in session.scalars(select(DeadlineReminder))}
    reminded = 0
    for case in session.scalars(select(Case).where(Case.next_due_on <= horizon)):
        stage = _stage(case, settings, on)
        if stage is None or case.next_due_on is None:
            continue
        if (case.id, case.next_due_on, stage) in sent:
            continue
        session.add(DeadlineReminder(case_id=case.id, due_on=case.next_due_on, stage=stage))
        event = DEADLINE_PASSED if stage == PASSED else DEADLINE_SOON
        enqueue(session, holders(session, case.id), event, settings)
        reminded += 1
    _forget_moved(session)
    return reminded


def _forget_moved(session: Session) -> None:
    """Reminders about deadlines their case no longer has (met, or moved)."""
    current = select(Case.id).where(
        Case.id == DeadlineReminder.case_id, Case.next_due_on == DeadlineReminder.due_on
    )
    session.execute(delete(DeadlineReminder).where(~current.exists()))
