"""Retention: purge closed cases past their retention period (crypto-shredding)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.attachments.blobs import BlobStore
from cases.casework.ageing import abandoned_for_purge
from cases.casework.workflow import retention_expires_on
from cases.models import Attachment, Case, Status, WrappedKey
from cases.records.audit import record


def due_for_purge(session: Session, on: dt.date, retention_days: int) -> list[Case]:
    closed = session.scalars(
        select(Case).where(Case.status == Status.CLOSED, Case.legal_hold_reason.is_(None))
    )
    return [
        c
        for c in closed
        if (expiry := retention_expires_on(c, retention_days)) is not None and expiry <= on
    ]


def kept_for_review(session: Session) -> list[Case]:
    """Closed cases that retention keeps because no second holder reviewed the closure."""
    return list(
        session.scalars(
            select(Case)
            .where(Case.status == Status.CLOSED, Case.closure_reviewed_by_id.is_(None))
            .order_by(Case.closed_on, Case.id)
        )
    )


def purge_case(
    session: Session,
    blobs: BlobStore,
    case: Case,
    *,
    actor_id: int | None = None,
    reason: str = "retention",
) -> None:
    """Delete every wrapped key first (after that no copy of the case can be decrypted,
    even from a backup taken later), then ciphertexts, blobs and the case row."""
    session.execute(delete(WrappedKey).where(WrappedKey.case_id == case.id))
    for attachment_id in session.scalars(
        select(Attachment.id).where(Attachment.case_id == case.id)
    ):
        blobs.delete(session, attachment_id)
    case_id = case.id
    session.delete(case)
    session.flush()
    record(session, "case.purged", actor_id=actor_id, case_id=case_id, reason=reason)


def purge_expired(
    session: Session,
    blobs: BlobStore,
    on: dt.date,
    retention_days: int,
    *,
    actor_id: int | None = None,
) -> list[str]:
    purged = []
    for case in due_for_purge(session, on, retention_days):
        purged.append(case.id)
        purge_case(session, blobs, case, actor_id=actor_id)
    return purged


def purge_abandoned(
    session: Session, blobs: BlobStore, on: dt.date, days: int, *, actor_id: int | None = None
) -> list[str]:
    """Open cases deleted under the retention policy for abandoned cases
    (cases.casework.ageing: quiet ``days``, holders told a month before, no legal hold)."""
    purged = []
    for case_id in abandoned_for_purge(session, on, days):
        purge_case(session, blobs, session.get_one(Case, case_id), actor_id=actor_id,
                   reason="abandoned")
        purged.append(case_id)
    return purged
