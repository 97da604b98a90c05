"""A case as a caseworker reads it: the thread and internal record decrypted with their
own key (and audited), the status history, the audit trail and the linked cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cases.casework.access import case_key
from cases.casework.choices import (
    THREAD_KINDS,
)
from cases.casework.identity import IdentityInfo, identity_info
from cases.content import (
    INTERNAL_KINDS,
    AttachmentMeta,
    DecryptedMessage,
    list_attachments,
    read_messages,
)
from cases.models import (
    AuditEntry,
    Case,
    CaseLink,
    Caseworker,
    KeyPurpose,
    utcnow,
)
from cases.records.audit import record


@dataclass(frozen=True)
class CaseFile:
    case: Case
    thread: list[DecryptedMessage]
    internal: list[DecryptedMessage]
    attachments: list[AttachmentMeta]
    identity: IdentityInfo


def read_case(db: Session, case: Case, actor: Caseworker, private_key: bytes) -> CaseFile:
    """Decrypt the report, thread, internal records and attachment list; audit the view."""
    thread_key = case_key(db, case, actor, private_key, KeyPurpose.THREAD)
    internal_key = case_key(db, case, actor, private_key, KeyPurpose.INTERNAL)
    keys = {KeyPurpose.THREAD: thread_key, KeyPurpose.INTERNAL: internal_key}
    thread = read_messages(db, case.id, keys, THREAD_KINDS)
    internal = read_messages(db, case.id, keys, sorted(INTERNAL_KINDS))
    attachments = list_attachments(db, case.id, thread_key, internal_key)
    case.unread_by_caseworkers = False
    _audit_view(db, case, actor)
    return CaseFile(case, thread, internal, attachments, identity_info(db, case.id, actor.id))


# A case read again soon after the reader last opened it (an action's page, another tab)
# is covered by that entry: one `case.viewed` per visit, not one per click. Anything
# someone else did on the case since (a grant, a reply) starts a new visit.
VIEW_WINDOW = dt.timedelta(minutes=15)


def _audit_view(db: Session, case: Case, actor: Caseworker) -> None:
    last = db.execute(
        select(AuditEntry.id, AuditEntry.at)
        .where(AuditEntry.case_id == case.id, AuditEntry.actor_id == actor.id,
               AuditEntry.action == "case.viewed")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    if last is not None and utcnow() - last.at < VIEW_WINDOW:
        since = db.scalar(
            select(AuditEntry.id)
            .where(AuditEntry.case_id == case.id, AuditEntry.id > last.id,
                   or_(AuditEntry.actor_id.is_(None), AuditEntry.actor_id != actor.id))
            .limit(1)
        )
        if since is None:
            return
    record(db, "case.viewed", actor_id=actor.id, case_id=case.id)


def status_history(db: Session, case_id: str) -> list[AuditEntry]:
    return list(
        db.scalars(
            select(AuditEntry)
            .where(AuditEntry.case_id == case_id, AuditEntry.action == "case.status_changed")
            .order_by(AuditEntry.id)
        )
    )


def audit_trail(db: Session, case_id: str) -> list[AuditEntry]:
    return list(
        db.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id))
    )


def links_of(db: Session, case_id: str) -> list[str]:
    forward = db.scalars(select(CaseLink.other_case_id).where(CaseLink.case_id == case_id))
    backward = db.scalars(select(CaseLink.case_id).where(CaseLink.other_case_id == case_id))
    return sorted(set(forward) | set(backward))
