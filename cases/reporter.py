"""What a reporter can do with their receipt: find their case, read the thread, write."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.content import (
    AttachmentMeta,
    DecryptedMessage,
    add_identity_record,
    add_message,
    list_attachments,
    read_messages,
)
from cases.keyring import reporter_thread_key
from cases.models import READABLE_BY_REPORTER, Case, CaseExclusion, KeyPurpose, MessageKind, today
from cases.reports import custodians
from config import Settings
from crypto import ReporterKeys, derive_reporter_keys


def find_case(
    session: Session, settings: Settings, receipt: str
) -> tuple[Case | None, ReporterKeys]:
    """Derive from a normalised receipt and look the case up.

    The full Argon2id derivation runs whether or not a case exists, so a wrong receipt
    costs the same and returns through the same path as a right one."""
    keys = derive_reporter_keys(receipt, settings.instance_salt, settings.receipt_kdf)
    case = session.scalar(select(Case).where(Case.lookup_hash == keys.lookup_hash))
    return case, keys


@dataclass(frozen=True)
class ReporterView:
    case: Case
    messages: list[DecryptedMessage]
    attachments: list[AttachmentMeta]


def reporter_view(session: Session, case: Case, reporter_private_key: bytes) -> ReporterView:
    thread_key = reporter_thread_key(session, case.id, reporter_private_key)
    messages = read_messages(
        session, case.id, {KeyPurpose.THREAD: thread_key}, READABLE_BY_REPORTER
    )
    return ReporterView(case, messages, list_attachments(session, case.id, thread_key))


def add_reporter_message(
    session: Session, case: Case, reporter_private_key: bytes, text: str, on: dt.date | None = None
) -> None:
    on = on or today()
    thread_key = reporter_thread_key(session, case.id, reporter_private_key)
    add_message(session, case.id, MessageKind.REPORTER_MESSAGE, thread_key, {"text": text}, on=on)
    touch(case, on)


def add_reporter_identity(
    session: Session,
    case: Case,
    settings: Settings,
    details: dict[str, str],
    on: dt.date | None = None,
) -> None:
    excluded = set(
        session.scalars(select(CaseExclusion.caseworker_id).where(CaseExclusion.case_id == case.id))
    )
    add_identity_record(
        session, case.id, details, custodians(session, excluded), settings.recovery_public_key
    )
    touch(case, on or today())


def touch(case: Case, on: dt.date) -> None:
    """Reporter activity: a date only, and the case shows as unread to caseworkers."""
    case.reporter_activity_on = on
    case.unread_by_caseworkers = True
