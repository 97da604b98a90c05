"""Follow-up with JavaScript on: the reporter's browser holds the key, the server never does.

The page derives the reporter's keys from the receipt itself (docs/CRYPTO.md, "Derivation")
and sends only the look-up token, from which the server computes the stored look-up hash
(:func:`cases_of_token`). The token proves what the receipt proves, and it is of no use to
anyone without the case's ciphertexts and the receipt's derivation: it opens nothing. The
session then holds the case's public key, never a private one, so the server can list the
reporter's cases and their ciphertexts (:func:`sealed_thread`) but cannot read a word of
them; the page opens them. What the reporter writes comes back sealed under the thread key
(:func:`store_sealed_message`), in the rows a message sealed on the server makes.

A handed-over receipt (an oral report not yet claimed, cases.reporting.claim) is replaced on
the server's path: the page sends the form there instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.content import store_message
from cases.keyring import holders
from cases.models import (
    READABLE_BY_REPORTER,
    Attachment,
    Case,
    HolderKind,
    KeyPurpose,
    Message,
    MessageKind,
    WrappedKey,
    today,
)
from cases.notifications.outbox import REPORTER_MESSAGE, enqueue
from cases.reporting.followup import reporter_cases, reports_first, touch
from cases.reporting.sealed import (
    ID_PATTERN,
    Limits,
    SealedItem,
    SealedRefused,
    check_file_records,
    check_record,
)
from cases.reporting.staged_files import SealedFile, StagingRefused, attach_staged
from cases.store import Store
from crypto import lookup_hash_of_token, record_size

TOKEN_BYTES = 32


def cases_of_token(session: Session, token: bytes) -> list[Case]:
    """The reporter's cases (their report first), or [] when the token opens none."""
    if len(token) != TOKEN_BYTES:
        return []
    found = reports_first(
        session.scalars(select(Case).where(Case.lookup_hash == lookup_hash_of_token(token)))
    )
    public_key = found[0].reporter_public_key if found else None
    return reporter_cases(session, public_key) if public_key else []


@dataclass(frozen=True)
class SealedEntry:
    """A message of the thread as stored: the page opens ``record`` under the thread key."""

    id: str
    kind: MessageKind
    created_on: dt.date
    record: bytes


@dataclass(frozen=True)
class SealedAttachment:
    id: str
    from_reporter: bool
    created_on: dt.date
    meta: bytes  # name, type, size and cleaning, under the thread key
    file_key: bytes  # under the thread key


@dataclass(frozen=True)
class SealedThread:
    case_id: str
    reporter_thread_key: bytes  # wrapped to the reporter's public key
    messages: list[SealedEntry]
    attachments: list[SealedAttachment]


def sealed_thread(session: Session, case: Case) -> SealedThread:
    """What the reporter may read of ``case``, still sealed: their wrapped thread key, the
    messages they may read (never an internal one) and the files of the thread."""
    wrapped = session.scalar(
        select(WrappedKey.wrapped).where(
            WrappedKey.case_id == case.id,
            WrappedKey.purpose == KeyPurpose.THREAD,
            WrappedKey.holder_kind == HolderKind.REPORTER,
            *([WrappedKey.id == case.reporter_key_id] if case.reporter_key_id else []),
        )
    )
    messages = session.execute(
        select(Message.id, Message.kind, Message.created_on, Message.ciphertext)
        .where(Message.case_id == case.id, Message.kind.in_(READABLE_BY_REPORTER))
        .order_by(Message.position)
    )
    files = session.scalars(
        select(Attachment)
        .where(Attachment.case_id == case.id, Attachment.internal.is_(False),
               Attachment.position.is_not(None))
        .order_by(Attachment.position)
    )
    return SealedThread(
        case.id,
        wrapped or b"",
        [SealedEntry(*row) for row in messages],
        [SealedAttachment(a.id, a.from_reporter, a.created_on, a.meta_ciphertext,
                          a.file_key_ciphertext) for a in files],
    )


def store_sealed_message(
    session: Session, store: Store, case: Case, item: SealedItem,
    files: tuple[SealedFile, ...], limits: Limits, on: dt.date | None = None,
) -> Message:
    """A message the reporter sealed in the browser, with the files it staged: checked by
    form alone, stored as ``cases.reporting.followup.add_reporter_message`` stores one
    (unread for the holders, a mail notice). Raises SealedRefused; the caller commits."""
    on = on or today()
    ids = [item.id, *(file.id for file in files)]
    if not all(ID_PATTERN.match(i) for i in ids) or len(set(ids)) != len(ids):
        raise SealedRefused(SealedRefused.MALFORMED)
    if session.get(Message, item.id) is not None:
        raise SealedRefused(SealedRefused.TAKEN)
    check_record(item.record, record_size(2), record_size(limits.report_bytes))
    check_file_records(files, limits)
    saved = store_message(session, case.id, item.id, MessageKind.REPORTER_MESSAGE,
                          item.record, on=on)
    for file in files:
        try:
            attach_staged(session, store.blobs, store.settings.server_key, case.id, item.id,
                          file, limits.file_bytes, on)
        except StagingRefused as refused:
            lost = refused.reason in (StagingRefused.LOST, StagingRefused.UNKNOWN)
            raise SealedRefused(SealedRefused.FILE_LOST if lost
                                else SealedRefused.MALFORMED) from None
    touch(case, on)
    enqueue(session, holders(session, case.id), REPORTER_MESSAGE, store.settings)
    session.flush()
    return saved
