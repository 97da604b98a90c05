"""Retention: purge closed cases past their retention period (crypto-shredding).

Cases are found and deleted a batch at a time, by set statements, so purging a hundred
thousand cases takes as much memory as purging a few hundred (bench/bench_scale.py), and
the nightly purge commits each batch: caseworkers' actions, which wait for the audit
log's head, wait for one batch at most."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from cases.attachments.blobs import BlobStore
from cases.casework.ageing import abandoned_for_purge
from cases.casework.workflow import retention_expired
from cases.models import Attachment, Case, Status, WrappedKey
from cases.records.audit import record_each

PURGE_BATCH = 500
Transaction = Callable[[], AbstractContextManager[Session]]
Cursor = tuple[dt.date, str]  # (closed_on, id) of the last case of a batch


def expired_batch(
    session: Session, on: dt.date, retention_days: int, *, after: Cursor | None = None,
    limit: int = PURGE_BATCH,
) -> list[tuple[str, dt.date]]:
    """The next ``limit`` cases past retention, (id, closed_on), oldest closure first."""
    query = select(Case.id, Case.closed_on).where(retention_expired(on, retention_days))
    if after is not None:
        query = query.where(tuple_(Case.closed_on, Case.id) > tuple_(*after))
    rows = session.execute(query.order_by(Case.closed_on, Case.id).limit(limit))
    return [(row.id, row.closed_on) for row in rows]


def due_for_purge(session: Session, on: dt.date, retention_days: int) -> list[Case]:
    """The cases the purge would delete, oldest closure first (the lists people read)."""
    return list(session.scalars(
        select(Case).where(retention_expired(on, retention_days))
        .order_by(Case.closed_on, Case.id)
    ))


def count_due_for_purge(session: Session, on: dt.date, retention_days: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Case).where(retention_expired(on, retention_days))
    ) or 0


def kept_for_review(session: Session) -> list[Case]:
    """Closed cases that retention keeps because no second holder reviewed the closure."""
    return list(
        session.scalars(
            select(Case)
            .where(Case.status == Status.CLOSED, Case.closure_reviewed_by_id.is_(None))
            .order_by(Case.closed_on, Case.id)
        )
    )


def purge_cases(
    session: Session,
    blobs: BlobStore,
    case_ids: Sequence[str],
    *,
    actor_id: int | None = None,
    reason: str = "retention",
) -> None:
    """Delete every wrapped key first (after that no copy of the cases can be decrypted,
    even from a backup taken later), then the blobs and the case rows, whose messages,
    attachments, labels and the rest the database deletes with them (ON DELETE CASCADE)."""
    if not case_ids:
        return
    session.execute(delete(WrappedKey).where(WrappedKey.case_id.in_(case_ids)))
    for attachment_id in session.scalars(
        select(Attachment.id).where(Attachment.case_id.in_(case_ids))
    ).all():
        blobs.delete(session, attachment_id)
    session.execute(delete(Case).where(Case.id.in_(case_ids)))
    record_each(session, "case.purged", case_ids, actor_id=actor_id, reason=reason)


def purge_case(
    session: Session,
    blobs: BlobStore,
    case: Case,
    *,
    actor_id: int | None = None,
    reason: str = "retention",
) -> None:
    purge_cases(session, blobs, [case.id], actor_id=actor_id, reason=reason)


def purge_expired(
    session: Session,
    blobs: BlobStore,
    on: dt.date,
    retention_days: int,
    *,
    actor_id: int | None = None,
) -> list[str]:
    """Every case past retention, in the caller's transaction; their ids."""
    purged: list[str] = []
    purge_expired_in_batches(lambda: nullcontext(session), blobs, on, retention_days,
                             actor_id=actor_id, each=purged.extend)
    return purged


def purge_expired_in_batches(
    transaction: Transaction,
    blobs: BlobStore,
    on: dt.date,
    retention_days: int,
    *,
    actor_id: int | None = None,
    limit: int = PURGE_BATCH,
    each: Callable[[Sequence[str]], None] | None = None,
) -> int:
    """Every case past retention, each batch in a transaction of its own; how many.

    A batch is whole or not at all (keys, rows and audit entries commit together), so a
    purge stopped half-way leaves whole cases, and the next night finishes the work.
    ``each`` is given each committed batch's ids."""
    purged = 0
    after: Cursor | None = None
    while True:
        with transaction() as session:
            batch = expired_batch(session, on, retention_days, after=after, limit=limit)
            ids = [case_id for case_id, _closed in batch]
            purge_cases(session, blobs, ids, actor_id=actor_id)
        if not batch:
            return purged
        if each is not None:
            each(ids)
        purged += len(ids)
        after = (batch[-1][1], batch[-1][0])


def purge_abandoned(
    session: Session, blobs: BlobStore, on: dt.date, days: int, *, actor_id: int | None = None
) -> list[str]:
    """Open cases deleted under the retention policy for abandoned cases
    (cases.casework.ageing: quiet ``days``, holders told a month before, no legal hold)."""
    purged = abandoned_for_purge(session, on, days)
    for start in range(0, len(purged), PURGE_BATCH):
        purge_cases(session, blobs, purged[start:start + PURGE_BATCH], actor_id=actor_id,
                    reason="abandoned")
    return purged
