"""What a reporter can do with their receipt: find their case, read the thread, write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases import bodies
from cases.content import (
    AttachmentMeta,
    DecryptedMessage,
    add_identity_record,
    add_message,
    list_attachments,
    read_messages,
    store_attachment,
)
from cases.keyring import Trust, holders, reporter_thread_key
from cases.models import (
    READABLE_BY_REPORTER,
    Attachment,
    Case,
    CaseExclusion,
    KeyPurpose,
    Message,
    MessageKind,
    ReporterSession,
    today,
)
from cases.notifications.outbox import REPORTER_MESSAGE, enqueue
from cases.reporting.submission import custodians
from config import Settings
from crypto import ReporterKeys, derive_reporter_keys


def find_case(
    session: Session, settings: Settings, receipt: str, derived: ReporterKeys | None = None
) -> tuple[Case | None, ReporterKeys]:
    """Derive from a normalised receipt and look up the report it opens (``derived``: the
    caller derived already, before any statement of its own).

    The full Argon2id derivation runs whether or not a case exists, so a wrong receipt
    costs the same and runs the same one statement as a right one."""
    keys = derived or derive_reporter_keys(receipt, settings.instance_salt, settings.receipt_kdf)
    found = reports_first(session.scalars(select(Case).where(Case.lookup_hash == keys.lookup_hash)))
    return (found[0] if found else None), keys


def reporter_cases(session: Session, reporter_public_key: bytes) -> list[Case]:
    """Every case the reporter's key opens: their report and the retaliation reports made
    from it, the report first."""
    return reports_first(
        session.scalars(select(Case).where(Case.reporter_public_key == reporter_public_key))
    )


def reports_first(cases: Iterable[Case]) -> list[Case]:
    """A report before the retaliation reports linked to it, then oldest first. When the
    report is purged, the oldest retaliation report left comes first (its link is gone)."""
    rows = sorted(cases, key=lambda c: (c.received_on, c.id))
    ids = {c.id for c in rows}
    return sorted(rows, key=lambda c: c.linked_case_id in ids)  # stable


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
    session: Session,
    case: Case,
    reporter_private_key: bytes,
    text: str,
    attachments: Sequence[Attachment] = (),
    on: dt.date | None = None,
    *,
    settings: Settings,
) -> Message:
    """A message from the reporter, with the files already encrypted for it while they
    streamed in (``AttachmentUpload.finish``); the case shows as unread, and its holders
    get a mail notice (cases.notifications). The caller commits."""
    on = on or today()
    thread_key = reporter_thread_key(session, case.id, reporter_private_key)
    saved = add_message(
        session, case.id, MessageKind.REPORTER_MESSAGE, thread_key, bodies.message(text), on=on
    )
    for attachment in attachments:
        attachment.message_id = saved.id
        store_attachment(session, attachment)
    touch(case, on)
    enqueue(session, holders(session, case.id), REPORTER_MESSAGE, settings)
    return saved


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
        session, case.id, details, custodians(session, excluded), Trust.of(settings)
    )
    touch(case, on or today())


def sweep_reporter_sessions(session: Session, on: dt.date | None = None) -> int:
    """Delete follow-up session rows from before yesterday (no session lives that long):
    at each sign-in, and daily from ``sealbox purge``, so none lingers on a quiet instance."""
    cut = (on or today()) - dt.timedelta(days=1)
    result = session.execute(delete(ReporterSession).where(ReporterSession.created_on < cut))
    return int(result.rowcount)  # type: ignore[attr-defined]


def touch(case: Case, on: dt.date) -> None:
    """Reporter activity: a date only, and the case shows as unread to caseworkers."""
    case.reporter_activity_on = on
    case.unread_by_caseworkers = True
