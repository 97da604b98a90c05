"""cases.reporting.resend: a form's submission id is claimed once per window, on both
databases, and its digest (which names no case) is forgotten after the window."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from cases.models import SentSubmission
from cases.reporting.resend import (
    RESEND_WINDOW_DAYS,
    claim_submission,
    forget_sent,
    mark_receipt_saved,
    may_show_again,
)
from cases.store import Store

KEY = bytes(range(32))


def test_a_submission_id_is_claimed_once(any_store: Store) -> None:
    with any_store.transaction() as db:
        assert claim_submission(db, KEY, "form-1")
    with any_store.transaction() as db:
        assert not claim_submission(db, KEY, "form-1")  # the resend
        assert claim_submission(db, KEY, "form-2")
        stored = db.scalars(select(SentSubmission.digest)).all()
    assert len(stored) == 2 and all(b"form" not in d and len(d) == 32 for d in stored)


def test_an_uncommitted_claim_leaves_nothing(any_store: Store) -> None:
    db = any_store.sessions()
    assert claim_submission(db, KEY, "form-3")
    db.rollback()  # the send failed: the form can be sent again
    db.close()
    with any_store.transaction() as db:
        assert claim_submission(db, KEY, "form-3")


def test_digests_are_forgotten_after_the_window(any_store: Store) -> None:
    today = dt.date(2026, 12, 1)
    with any_store.transaction() as db:
        claim_submission(db, KEY, "old", on=today - dt.timedelta(days=RESEND_WINDOW_DAYS + 1))
        claim_submission(db, KEY, "recent", on=today - dt.timedelta(days=RESEND_WINDOW_DAYS))
    with any_store.transaction() as db:
        assert forget_sent(db, today) == 1
        assert db.scalar(select(func.count()).select_from(SentSubmission)) == 1


def test_a_receipt_may_be_shown_again_until_it_is_saved(any_store: Store) -> None:
    with any_store.transaction() as db:
        assert not may_show_again(db, KEY, "form-9")  # never sent: nothing to show again
        assert claim_submission(db, KEY, "form-9")
    with any_store.transaction() as db:
        assert may_show_again(db, KEY, "form-9")
        mark_receipt_saved(db, KEY, "form-9")
    with any_store.transaction() as db:
        assert not may_show_again(db, KEY, "form-9")
        assert not may_show_again(db, bytes(32), "form-9")  # another instance's key
