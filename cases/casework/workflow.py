"""The case workflow (ISO 37002: receive, assess, address, conclude) and the deadlines of
EU Directive 2019/1937 Art. 9: acknowledge within 7 days; give feedback within 3 months of
the acknowledgement, or of the end of the 7-day period if none was sent."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, and_, or_

from cases.models import Case, Status

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.ACKNOWLEDGED}),
    Status.ACKNOWLEDGED: frozenset({Status.TRIAGED}),
    Status.TRIAGED: frozenset({Status.INVESTIGATING, Status.CONCLUDED}),
    Status.INVESTIGATING: frozenset({Status.CONCLUDED}),
    Status.CONCLUDED: frozenset({Status.CLOSED, Status.INVESTIGATING}),
    Status.CLOSED: frozenset({Status.INVESTIGATING}),  # reopening (audited, with a reason)
}
OPEN_STATUSES = frozenset(
    {Status.RECEIVED, Status.ACKNOWLEDGED, Status.TRIAGED, Status.INVESTIGATING}
)
DUE_SOON_DAYS = 7


class TransitionRefused(Exception):
    """The requested status change is not allowed now; the message says why."""


@dataclass(frozen=True)
class Deadlines:
    acknowledge_within_days: int = 7
    feedback_within_months: int = 3


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day-of-month ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def start_case(case: Case, received_on: dt.date, deadlines: Deadlines) -> None:
    case.status = Status.RECEIVED
    case.received_on = received_on
    case.acknowledge_due_on = received_on + dt.timedelta(days=deadlines.acknowledge_within_days)
    case.feedback_due_on = add_months(case.acknowledge_due_on, deadlines.feedback_within_months)
    case.next_due_on = case.acknowledge_due_on


def acknowledge(case: Case, on: dt.date, deadlines: Deadlines) -> None:
    change_status(case, Status.ACKNOWLEDGED, on)
    case.acknowledged_on = on
    # Feedback runs from the acknowledgement, but never later than from the 7-day mark.
    case.feedback_due_on = add_months(
        min(on, case.acknowledge_due_on), deadlines.feedback_within_months
    )
    _refresh_next_due(case)


def record_feedback(case: Case, on: dt.date) -> None:
    """A reply to the reporter that informs them of the action taken (Art. 9(1)(f))."""
    if case.acknowledged_on is None:
        raise TransitionRefused("acknowledge the report before giving feedback")
    if case.feedback_given_on is None:
        case.feedback_given_on = on
    _refresh_next_due(case)


def change_status(case: Case, new: Status, on: dt.date) -> None:
    if new not in ALLOWED[case.status]:
        raise TransitionRefused(f"a {case.status.value} case cannot become {new.value}")
    if new is Status.TRIAGED and case.triaged_on is None:
        raise TransitionRefused("record the triage (scope, priority, completeness) first")
    if new is Status.INVESTIGATING and case.risk_assessed_on is None:
        raise TransitionRefused("assess the risk of retaliation before investigating")
    if new is Status.CONCLUDED and not case.outcome:
        raise TransitionRefused("record an outcome before concluding")
    if new is Status.CLOSED:
        case.closed_on = on
    if new is Status.CONCLUDED:
        case.concluded_on = on
    if new is Status.INVESTIGATING and case.status in (Status.CONCLUDED, Status.CLOSED):
        case.closed_on = None
        case.concluded_on = None
        case.outcome = None
    case.status = new
    _refresh_next_due(case)


def _refresh_next_due(case: Case) -> None:
    if case.status not in OPEN_STATUSES:
        case.next_due_on = None
    elif case.acknowledged_on is None:
        case.next_due_on = case.acknowledge_due_on
    elif case.feedback_given_on is None:
        case.next_due_on = case.feedback_due_on
    else:
        case.next_due_on = None


# --- what a deadline says about a case today: the one set of predicates -----------------
# The case page, the inbox rows and the indicators all ask these, of a Case or of an inbox
# row with the same dated fields.


class Dated(Protocol):
    @property
    def status(self) -> Status: ...
    @property
    def received_on(self) -> dt.date: ...
    @property
    def acknowledged_on(self) -> dt.date | None: ...
    @property
    def acknowledge_due_on(self) -> dt.date: ...
    @property
    def next_due_on(self) -> dt.date | None: ...
    @property
    def risk_review_on(self) -> dt.date | None: ...


def is_overdue(case: Dated, today: dt.date) -> bool:
    return case.next_due_on is not None and case.next_due_on < today


def is_due_soon(case: Dated, today: dt.date) -> bool:
    return case.next_due_on is not None and today <= case.next_due_on <= today + dt.timedelta(
        days=DUE_SOON_DAYS
    )


def next_deadline(case: Dated) -> str | None:
    """Which deadline ``next_due_on`` is: ``"acknowledgement"`` until a person has
    acknowledged the report, then ``"feedback"``; None when nothing is due."""
    if case.next_due_on is None:
        return None
    return "acknowledgement" if case.acknowledged_on is None else "feedback"


def days_left(case: Dated, today: dt.date) -> int | None:
    """Days until the next deadline: 0 on the day, negative once it has passed."""
    return (case.next_due_on - today).days if case.next_due_on is not None else None


def no_human_acknowledgement(case: Dated, today: dt.date) -> bool:
    """No person has acknowledged the report and its acknowledgement deadline (the
    period in force when it arrived) has passed. An automatic acknowledgement does not
    count: it leaves the case ``received``."""
    return case.acknowledged_on is None and today > case.acknowledge_due_on


def no_human_acknowledgement_sql(today: dt.date) -> ColumnElement[bool]:
    """The same rule as :func:`no_human_acknowledgement`, for counting in SQL."""
    return and_(Case.acknowledged_on.is_(None), Case.acknowledge_due_on < today)


def risk_review_due(case: Dated, today: dt.date) -> bool:
    """The retaliation-risk assessment of an open case is due for review."""
    return (
        case.risk_review_on is not None
        and case.risk_review_on <= today
        and case.status in OPEN_STATUSES
    )


def retention_expires_on(case: Case, retention_days: int) -> dt.date | None:
    """When a closed case becomes eligible for purge; None while open, on legal hold, or
    while its closure waits for a second holder's review (cases.casework.holders)."""
    if case.status is not Status.CLOSED or case.closed_on is None or case.legal_hold_reason:
        return None
    if case.closure_reviewed_by_id is None:
        return None
    return case.closed_on + dt.timedelta(days=retention_days)


def retention_expired(on: dt.date, retention_days: int) -> ColumnElement[bool]:
    """``retention_expires_on(case) <= on`` as SQL, so the purge finds its cases through
    ``ix_cases_status_closed`` instead of reading every closed case (the same rule: a
    reviewed closure, no legal hold, closed at least ``retention_days`` before ``on``)."""
    return and_(
        Case.status == Status.CLOSED,
        Case.closed_on <= on - dt.timedelta(days=retention_days),
        or_(Case.legal_hold_reason.is_(None), Case.legal_hold_reason == ""),
        Case.closure_reviewed_by_id.is_not(None),
    )
