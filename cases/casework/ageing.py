"""Cases that have gone quiet: open, with nothing done by anyone for a long time
(abandoned, never acknowledged, or open for years).

A case's **last activity** is the latest of the day it was received, the reporter's last
visit that wrote something (``reporter_activity_on``), each workflow step's date, and the
day its newest message, note or file was stored. Reading a case is not activity.

``quiet_cases`` are flagged to their holders and the administrators
(cases.notifications.deadlines) after ``quiet_case_days``; with
``abandoned_case_retention_days`` set, ``sealbox purge`` deletes an open case that stayed
quiet that long (EU 2019/1937 Art. 18: kept no longer than necessary), never one on legal
hold. No Flask here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.models import Attachment, Case, DeadlineReminder, Message, Status

# The reminder stage a quiet case's flag is kept under (cases.notifications.deadlines).
QUIET = "quiet"
# How long before an abandoned case may be deleted its holders must have been told.
ABANDONED_NOTICE_DAYS = 30

_STEP_DATES = (
    Case.received_on, Case.reporter_activity_on, Case.acknowledged_on, Case.triaged_on,
    Case.risk_assessed_on, Case.feedback_given_on, Case.concluded_on, Case.minutes_agreed_on,
)


@dataclass(frozen=True)
class QuietCase:
    case_id: str
    last_active_on: dt.date
    on_legal_hold: bool


def open_cases_activity(db: Session) -> list[QuietCase]:
    """Every open case with its last activity (one query for the dates, one per item
    kind for the newest message or file)."""
    newest_message: dict[str, dt.date] = {
        case_id: day for case_id, day in db.execute(
            select(Message.case_id, func.max(Message.created_on)).group_by(Message.case_id)
        )
    }
    newest_file: dict[str, dt.date] = {
        case_id: day for case_id, day in db.execute(
            select(Attachment.case_id, func.max(Attachment.created_on))
            .group_by(Attachment.case_id)
        )
    }
    rows = db.execute(
        select(Case.id, Case.legal_hold_reason, *_STEP_DATES).where(Case.status != Status.CLOSED)
    )
    found = []
    for case_id, hold, *dates in rows:
        days = [d for d in (*dates, newest_message.get(case_id), newest_file.get(case_id)) if d]
        found.append(QuietCase(case_id, max(days), hold is not None))
    return found


def quiet_cases(db: Session, on: dt.date, days: int) -> list[QuietCase]:
    """Open cases with no activity for ``days`` days or more (none when ``days`` is 0)."""
    if days <= 0:
        return []
    cutoff = on - dt.timedelta(days=days)
    return sorted(
        (q for q in open_cases_activity(db) if q.last_active_on <= cutoff),
        key=lambda q: (q.last_active_on, q.case_id),
    )


def quiet_flags(db: Session) -> dict[str, dt.date]:
    """Case id -> the latest day its holders were told it was quiet."""
    told: dict[str, dt.date] = {}
    for case_id, day in db.execute(
        select(DeadlineReminder.case_id, DeadlineReminder.due_on)
        .where(DeadlineReminder.stage == QUIET)
    ):
        told[case_id] = max(day, told.get(case_id, day))
    return told


def abandoned_for_purge(db: Session, on: dt.date, days: int) -> list[str]:
    """Open cases quiet for ``days`` (the retention policy for abandoned cases) whose
    holders were told at least ABANDONED_NOTICE_DAYS ago, with nothing done since; legal
    holds excepted; none when the policy is off (0)."""
    if days <= 0:
        return []
    told = quiet_flags(db)
    latest_notice = on - dt.timedelta(days=ABANDONED_NOTICE_DAYS)
    return [
        q.case_id for q in quiet_cases(db, on, days)
        if not q.on_legal_hold
        and q.last_active_on < told.get(q.case_id, dt.date.min) <= latest_notice
    ]
