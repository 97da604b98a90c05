"""Closed cases for the retention tests: a real submission with a file, then closed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from cases.models import Status
from cases.reporting.followup import find_case
from cases.reporting.submission import Submission, new_submission
from cases.store import Store

ClosedCase = Callable[..., str]


@pytest.fixture
def closed_case() -> ClosedCase:
    """Factory: ``closed_case(store, closed_on, reviewer, hold=None)`` -> the case id of a
    report with one file, closed on that day by a direct update (the closure's review is
    cases.casework.holders'; these tests are about what retention does next)."""

    def make(store: Store, closed_on: dt.date, reviewer: int | None,
             hold: str | None = None) -> str:
        with new_submission(store) as draft:
            upload = draft.new_attachment()
            upload.write(b"evidence " * 1000)
            draft.attach(upload, "e.txt", "text/plain")
            receipt = draft.finalize(Submission(report={"text": "what happened"}))
        with store.transaction() as session:
            case, _ = find_case(session, store.settings, receipt)
            assert case is not None
            case.status, case.closed_on, case.legal_hold_reason = Status.CLOSED, closed_on, hold
            case.closure_reviewed_by_id = reviewer
            return case.id

    return make
