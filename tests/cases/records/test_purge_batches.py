"""The purge a batch at a time: the SQL rule is the Python rule, every expired case goes
and no other, each batch commits whole, and a batch that fails loses nothing else."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import func, select

from cases.attachments.blobs import BlobStore
from cases.casework.workflow import retention_expired, retention_expires_on
from cases.models import Attachment, AuditEntry, Case, Message, Status, WrappedKey
from cases.records.audit import verify_chain
from cases.records.integrity import verify_content
from cases.records.retention import count_due_for_purge, due_for_purge, purge_expired_in_batches
from cases.store import Store

TODAY = dt.date(2026, 6, 1)


def _days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def _rows_of(store: Store, case_id: str) -> dict[str, int]:
    with store.transaction() as session:
        return {table.__tablename__: session.scalar(
            select(func.count()).select_from(table).where(table.case_id == case_id)) or 0
            for table in (WrappedKey, Message, Attachment)}


def test_the_sql_rule_is_the_python_rule(store: Store, closure_reviewer: Any) -> None:
    reviewer = closure_reviewer(store)
    made = []
    with store.transaction() as session:
        for number, (status, closed, hold, reviewed) in enumerate(itertools.product(
            (Status.CLOSED, Status.CONCLUDED, Status.INVESTIGATING),
            (None, _days_ago(59), _days_ago(60), _days_ago(61), _days_ago(900)),
            (None, "", "litigation"),
            (None, reviewer),
        )):
            case = Case(id=f"{number:016x}", status=status, closed_on=closed,
                        legal_hold_reason=hold, closure_reviewed_by_id=reviewed,
                        acknowledge_due_on=TODAY, feedback_due_on=TODAY)
            session.add(case)
            made.append(case)
        session.flush()
        by_python = {c.id for c in made
                     if (expiry := retention_expires_on(c, 60)) is not None and expiry <= TODAY}
        by_sql = set(session.scalars(select(Case.id).where(retention_expired(TODAY, 60))))
        assert by_sql == by_python and len(by_python) == 6  # 60, 61, 900 days; hold "" or none
        assert [c.id for c in due_for_purge(session, TODAY, 60)] == sorted(
            by_python, key=lambda i: (session.get_one(Case, i).closed_on, i))
        assert count_due_for_purge(session, TODAY, 60) == 6


def test_every_expired_case_goes_a_batch_at_a_time(any_store: Store, closure_reviewer: Any,
                                                   closed_case: Any) -> None:
    reviewer = closure_reviewer(any_store)
    expired = [closed_case(any_store, _days_ago(days), reviewer) for days in (61, 61, 90, 400)]
    expired.append(closed_case(any_store, _days_ago(70), reviewer, hold=""))
    # Kept, and before the expired ones in the walk's order (oldest closure first).
    kept = [closed_case(any_store, _days_ago(900), None),
            closed_case(any_store, _days_ago(800), reviewer, hold="litigation"),
            closed_case(any_store, _days_ago(10), reviewer)]
    batches: list[list[str]] = []
    purged = purge_expired_in_batches(any_store.transaction, any_store.blobs, TODAY, 60,
                                      limit=2, each=lambda ids: batches.append(list(ids)))
    assert purged == 5 and [len(b) for b in batches] == [2, 2, 1]
    assert sorted(itertools.chain(*batches)) == sorted(expired)
    for case_id in expired:
        assert _rows_of(any_store, case_id) == {"wrapped_keys": 0, "messages": 0,
                                                "attachments": 0}
    for case_id in kept:
        assert _rows_of(any_store, case_id)["messages"] == 1
    with any_store.transaction() as session:
        assert verify_chain(session).ok
        assert verify_content(session, any_store.blobs).ok
        purges = session.execute(select(AuditEntry.case_id, AuditEntry.detail).where(
            AuditEntry.action == "case.purged")).all()
        assert sorted(c for c, _ in purges) == sorted(expired)
        assert {d for _, d in purges} == {'{"reason":"retention"}'}
    assert purge_expired_in_batches(any_store.transaction, any_store.blobs, TODAY, 60) == 0


class FailingBlobs:
    """The instance's blob store, failing at its ``fail_at``-th deletion (a disk error)."""

    def __init__(self, blobs: BlobStore, fail_at: int) -> None:
        self.blobs, self.deletions, self.fail_at = blobs, 0, fail_at

    def delete(self, session: Any, blob_id: str) -> None:
        self.deletions += 1
        if self.deletions == self.fail_at:
            raise OSError("disk error")
        self.blobs.delete(session, blob_id)


def test_a_batch_that_fails_leaves_whole_cases(any_store: Store, closure_reviewer: Any,
                                               closed_case: Any) -> None:
    reviewer = closure_reviewer(any_store)
    expired = [closed_case(any_store, _days_ago(61 + n), reviewer) for n in range(4)]
    oldest_first = list(reversed(expired))
    failing = FailingBlobs(any_store.blobs, fail_at=3)  # the second batch's first file
    with pytest.raises(OSError, match="disk error"):
        purge_expired_in_batches(any_store.transaction, failing, TODAY, 60,  # type: ignore[arg-type]
                                 limit=2)
    for case_id in oldest_first[:2]:  # the first batch committed
        assert _rows_of(any_store, case_id)["wrapped_keys"] == 0
    for case_id in oldest_first[2:]:  # the second rolled back: still whole, still readable
        rows = _rows_of(any_store, case_id)
        assert rows["messages"] == 1 and rows["attachments"] == 1 and rows["wrapped_keys"] > 0
    with any_store.transaction() as session:
        assert verify_content(session, any_store.blobs).ok
    assert purge_expired_in_batches(any_store.transaction, any_store.blobs, TODAY, 60) == 2
    with any_store.transaction() as session:
        assert verify_chain(session).ok and verify_content(session, any_store.blobs).ok
        assert session.scalar(select(func.count()).select_from(Case)) == 0
