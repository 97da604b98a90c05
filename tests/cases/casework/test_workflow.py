"""Statuses, allowed transitions and the EU Directive 2019/1937 deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from cases.casework.workflow import (
    ALLOWED,
    Deadlines,
    TransitionRefused,
    acknowledge,
    add_months,
    change_status,
    is_due_soon,
    is_overdue,
    record_feedback,
    retention_expires_on,
    start_case,
)
from cases.models import Case, Status

DAY = dt.date(2026, 1, 10)


def new_case(on: dt.date = DAY) -> Case:
    case = Case(id="c1")
    start_case(case, on, Deadlines())
    return case


def test_deadlines_from_receipt() -> None:
    case = new_case()
    assert case.status is Status.RECEIVED
    assert case.acknowledge_due_on == dt.date(2026, 1, 17)
    # No acknowledgement: feedback is due 3 months after the end of the 7-day period.
    assert case.feedback_due_on == dt.date(2026, 4, 17)
    assert case.next_due_on == case.acknowledge_due_on


def test_feedback_runs_from_acknowledgement() -> None:
    case = new_case()
    acknowledge(case, dt.date(2026, 1, 12), Deadlines())
    assert case.feedback_due_on == dt.date(2026, 4, 12)
    assert case.next_due_on == dt.date(2026, 4, 12)


def test_late_acknowledgement_does_not_push_feedback_back() -> None:
    case = new_case()
    acknowledge(case, dt.date(2026, 2, 1), Deadlines())
    assert case.feedback_due_on == dt.date(2026, 4, 17)


def test_feedback_clears_the_running_deadline() -> None:
    case = new_case()
    acknowledge(case, DAY, Deadlines())
    record_feedback(case, dt.date(2026, 3, 1))
    assert case.feedback_given_on == dt.date(2026, 3, 1)
    assert case.next_due_on is None


def test_feedback_needs_acknowledgement() -> None:
    with pytest.raises(TransitionRefused):
        record_feedback(new_case(), DAY)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
        (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),
        (dt.date(2026, 10, 17), 3, dt.date(2027, 1, 17)),
    ],
)
def test_add_months_clamps_to_month_end(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


def test_overdue_and_due_soon() -> None:
    case = new_case()
    assert is_due_soon(case, DAY)
    assert not is_overdue(case, dt.date(2026, 1, 17))
    assert is_overdue(case, dt.date(2026, 1, 18))


def test_every_disallowed_transition_is_refused() -> None:
    for source in Status:
        for target in Status:
            if target in ALLOWED[source]:
                continue
            case = new_case()
            case.status = source
            with pytest.raises(TransitionRefused):
                change_status(case, target, DAY)


def test_full_lifecycle_requires_its_records() -> None:
    case = new_case()
    acknowledge(case, DAY, Deadlines())
    with pytest.raises(TransitionRefused, match="triage"):
        change_status(case, Status.TRIAGED, DAY)
    case.triaged_on = DAY
    change_status(case, Status.TRIAGED, DAY)
    with pytest.raises(TransitionRefused, match="retaliation"):
        change_status(case, Status.INVESTIGATING, DAY)
    case.risk_assessed_on = DAY
    change_status(case, Status.INVESTIGATING, DAY)
    with pytest.raises(TransitionRefused, match="outcome"):
        change_status(case, Status.CONCLUDED, DAY)
    case.outcome = "substantiated"
    change_status(case, Status.CONCLUDED, DAY)
    change_status(case, Status.CLOSED, dt.date(2026, 5, 1))
    assert case.closed_on == dt.date(2026, 5, 1) and case.next_due_on is None
    # Reopening clears the closure.
    change_status(case, Status.INVESTIGATING, dt.date(2026, 6, 1))
    assert case.closed_on is None and case.outcome is None


def test_retention_respects_legal_hold() -> None:
    case = new_case()
    case.status, case.closed_on = Status.CLOSED, DAY
    assert retention_expires_on(case, 60) is None  # the closure waits for its review
    case.closure_reviewed_by_id = 7
    assert retention_expires_on(case, 60) == DAY + dt.timedelta(days=60)
    case.legal_hold_reason = "court order 12/2026"
    assert retention_expires_on(case, 60) is None


def test_the_stored_policy_refuses_deadlines_beyond_the_directive(any_store) -> None:  # type: ignore[no-untyped-def]
    import pytest

    with any_store.transaction() as db:
        for key, value in (("acknowledge_within_days", 8), ("feedback_within_months", 4),
                           ("acknowledge_within_days", 0), ("retention_days_after_close", -1)):
            with pytest.raises(ValueError):
                any_store.set_policy(db, key, value)
        any_store.set_policy(db, "acknowledge_within_days", 7)
        any_store.set_policy(db, "feedback_within_months", 3)
        policy = any_store.policy(db)
    assert (policy.acknowledge_within_days, policy.feedback_within_months) == (7, 3)
