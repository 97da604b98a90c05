"""Deadline reminders: a case's holders are told, once each, that its next deadline (the
acknowledgement, then the feedback: EU 2019/1937 Art. 9) is near, and that it has passed.

``remind_deadlines`` runs with every ``sealbox notify``. "Near" is
``acknowledge_reminder_days`` (2) before an acknowledgement deadline and
``feedback_reminder_days`` (14) before a feedback deadline. A reminder already sent is
recorded with the deadline it was about, so a case moved to a new deadline is reminded
again, and one whose deadline did not move is not.

``flag_quiet_cases`` and ``flag_unheld_cases`` run beside it: open cases with no activity
for ``quiet_case_days`` (cases.casework.ageing) are told to their holders and the
administrators, and cases no account holds to the administrators, once each.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.casework.ageing import QUIET, quiet_cases, quiet_flags
from cases.casework.handover import unheld_cases
from cases.casework.workflow import next_deadline
from cases.keyring import holders
from cases.models import Case, DeadlineReminder, today
from cases.notifications.outbox import (
    CASE_IDLE,
    CASES_UNHELD,
    DEADLINE_PASSED,
    DEADLINE_SOON,
    admin_ids,
    alert_admins,
    enqueue,
)
from config import Settings

SOON, PASSED, UNHELD = "soon", "passed", "unheld"


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
    session.execute(delete(DeadlineReminder).where(
        DeadlineReminder.stage.in_((SOON, PASSED)), ~current.exists()
    ))


# --- quiet cases and cases nobody holds: flagged once each ---------------------------------
# Their reminder rows hold the day the flag went out (``due_on``), so a case that comes
# back to life and falls quiet again is flagged again, and the purge of abandoned cases
# can tell how long ago its holders were told (cases.casework.ageing).


def flag_quiet_cases(session: Session, settings: Settings, days: int,
                     on: dt.date | None = None) -> int:
    """Tell the holders of each newly quiet case, and the administrators; how many."""
    on = on or today()
    flagged_on = quiet_flags(session)
    admins = admin_ids(session)
    flagged = 0
    for quiet in quiet_cases(session, on, days):
        if flagged_on.get(quiet.case_id, dt.date.min) > quiet.last_active_on:
            continue  # told already, and nothing happened since
        session.add(DeadlineReminder(case_id=quiet.case_id, due_on=on, stage=QUIET))
        enqueue(session, {*holders(session, quiet.case_id), *admins}, CASE_IDLE, settings)
        flagged += 1
    return flagged


def flag_unheld_cases(session: Session, settings: Settings, on: dt.date | None = None) -> int:
    """Tell the administrators once about each case that no account holds (a report
    routed to nobody, a passphrase reset, a disabled account); how many new ones."""
    on = on or today()
    unheld = set(unheld_cases(session))
    told = set(session.scalars(
        select(DeadlineReminder.case_id).where(DeadlineReminder.stage == UNHELD)
    ))
    session.execute(delete(DeadlineReminder).where(  # held again: a later loss is told again
        DeadlineReminder.stage == UNHELD, DeadlineReminder.case_id.not_in(unheld)
    ))
    new = sorted(unheld - told)
    for case_id in new:
        session.add(DeadlineReminder(case_id=case_id, due_on=on, stage=UNHELD))
    if new:
        alert_admins(session, CASES_UNHELD, settings)
    return len(new)
