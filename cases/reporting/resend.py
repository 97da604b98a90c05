"""A report form sent twice is stored once, and shows its receipt again until the reporter
says it is saved.

The review page carries a random submission id (``intake.report.forms``). When the send
step commits a case it also stores the id's keyed digest, in the same transaction; a
second send of the same form (a reload of the receipt page, or the browser sending again
because the first answer never arrived) finds it and stores nothing. The digest names no
case and cannot be turned back into the id; only its date is kept, and rows older than
the window are deleted by the daily purge: the window is the form's own life (its CSRF
token lasts 48 hours), after which a resend is refused anyway.

The receipt itself is derived from the submission id (``crypto.receipt_from_seed``), so a
second send of a form whose receipt was not yet confirmed as saved (``receipt_saved``) shows
the same receipt again: a reload of the receipt page loses nothing, and no receipt is ever
stored. Once the reporter ticks "I have saved my receipt", a resend says only that the
report was sent.

Two sends of the same form at the same moment: on SQLite the second waits for the
first's write lock and then finds its row; on PostgreSQL its insert waits for the first
transaction and fails on the primary key once that commits (``claim_submission`` answers
False either way).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.models import SentSubmission, today
from crypto import keyed_digest

RESEND_WINDOW_DAYS = 2


def _digest(key: bytes, submission_id: str) -> bytes:
    return keyed_digest(key[:64], b"sent-submission:" + submission_id.encode())


def claim_submission(
    session: Session, key: bytes, submission_id: str, *, on: dt.date | None = None
) -> bool:
    """Record in the session's transaction that this form is being sent; False if it was
    sent before (the caller then stores nothing)."""
    digest = _digest(key, submission_id)
    if session.scalar(select(SentSubmission.digest).where(SentSubmission.digest == digest)):
        return False
    try:
        with session.begin_nested():
            session.execute(insert(SentSubmission).values(digest=digest, sent_on=on or today()))
    except IntegrityError:
        return False
    return True


def forget_sent(session: Session, on: dt.date | None = None) -> int:
    """Delete the digests older than the window; how many."""
    cutoff = (on or today()) - dt.timedelta(days=RESEND_WINDOW_DAYS)
    result = session.execute(delete(SentSubmission).where(SentSubmission.sent_on < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def may_show_again(session: Session, key: bytes, submission_id: str) -> bool:
    """True for a form sent before whose receipt the reporter has not confirmed saving."""
    saved = session.scalar(
        select(SentSubmission.receipt_saved).where(
            SentSubmission.digest == _digest(key, submission_id)
        )
    )
    return saved is False


def mark_receipt_saved(session: Session, key: bytes, submission_id: str) -> None:
    """The reporter confirmed: a resend of this form shows the receipt no more."""
    session.execute(
        update(SentSubmission)
        .where(SentSubmission.digest == _digest(key, submission_id))
        .values(receipt_saved=True)
    )
