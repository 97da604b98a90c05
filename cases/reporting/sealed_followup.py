"""Follow-up with JavaScript on: the reporter's browser holds the key, the server never does.

The page derives the reporter's keys from the receipt itself (docs/CRYPTO.md, "Derivation")
and sends only the look-up token, from which the server computes the stored look-up hash
(:func:`cases_of_token`). The token proves what the receipt proves, and it is of no use to
anyone without the case's ciphertexts and the receipt's derivation: it opens nothing. The
session then holds the case's public key, never a private one, so the server can list the
reporter's cases and their ciphertexts (:func:`sealed_thread`) but cannot read a word of
them; the page opens them. What the reporter writes comes back sealed under the thread key
(:func:`store_sealed_message`), in the rows a message sealed on the server makes; so do
late identity details, sealed for the custodians (:func:`store_sealed_identity`), and a
retaliation report, sealed as a report for the original's holders
(:func:`store_sealed_retaliation`).

A handed-over receipt (an oral report not yet claimed, cases.reporting.claim) is replaced on
the server's path: the page sends the form there instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.content import message_plaintext, store_message
from cases.keyring import Trust, holders
from cases.models import (
    READABLE_BY_REPORTER,
    Attachment,
    Case,
    CaseExclusion,
    HolderKind,
    IdentityRecord,
    KeyPurpose,
    Message,
    MessageKind,
    WrappedKey,
    today,
)
from cases.notifications.outbox import NEW_REPORT, REPORTER_MESSAGE, enqueue
from cases.reporting.acknowledgement import automatic_acknowledgement
from cases.reporting.followup import reporter_cases, reports_first, touch
from cases.reporting.retaliation import link_retaliation, retaliation_recipients
from cases.reporting.sealed import (
    ID_PATTERN,
    Limits,
    SealedIdentity,
    SealedItem,
    SealedRefused,
    SealedReport,
    SealingKeys,
    certified_holders,
    check_file_records,
    check_form,
    check_record,
    check_wrapped,
    store_keys,
    store_sealed_rows,
)
from cases.reporting.staged_files import SealedFile, StagingRefused, attach_staged
from cases.reporting.submission import CaseRow, create_case, custodians
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


def identity_keys(session: Session, store: Store, case: Case) -> SealingKeys:
    """What the identity page seals a late disclosure with: the custodians' certified keys
    (less the case's exclusions) and the recovery key, as on the server's path."""
    trust = Trust.of(store.settings)
    return SealingKeys((), certified_holders(trust, custodians(session, _excluded(session, case))),
                       trust.recovery_public_key, trust.signing_public_key, None)


def store_sealed_identity(session: Session, case: Case, keys: SealingKeys,
                          sealed: SealedIdentity, limits: Limits,
                          on: dt.date | None = None) -> None:
    """Identity details the reporter sealed in the browser for the custodians; stored as
    ``cases.reporting.followup.add_reporter_identity`` stores them. Raises SealedRefused."""
    item = sealed.item
    if not ID_PATTERN.match(item.id) or session.get(IdentityRecord, item.id) is not None:
        raise SealedRefused(SealedRefused.MALFORMED)
    if not keys.custodians:
        raise SealedRefused(SealedRefused.NOBODY)
    check_wrapped(case.id, KeyPurpose.IDENTITY, sealed.keys,
                  {h.account_id for h in keys.custodians}, item.id)
    check_record(item.record, record_size(1), record_size(limits.identity_bytes))
    session.add(IdentityRecord(id=item.id, case_id=case.id, ciphertext=item.record))
    store_keys(session, case.id, KeyPurpose.IDENTITY, sealed.keys, item.id)
    touch(case, on or today())
    session.flush()


def retaliation_keys(session: Session, store: Store, original: Case) -> SealingKeys:
    """What a retaliation report is sealed for: the original's holders (or its category's),
    less its exclusions, and the recovery key (cases.reporting.retaliation)."""
    trust = Trust.of(store.settings)
    policy = store.policy(session)
    ack = automatic_acknowledgement() if policy.auto_acknowledge else None
    recipients = retaliation_recipients(session, original, _excluded(session, original))
    return SealingKeys(certified_holders(trust, recipients), (), trust.recovery_public_key,
                       trust.signing_public_key, message_plaintext(ack) if ack else None)


def store_sealed_retaliation(session: Session, store: Store, original: Case,
                             sealed: SealedReport, limits: Limits, on: dt.date | None = None,
                             ) -> Case:
    """A retaliation report sealed in the browser: a new case linked to ``original``,
    under its look-up hash and reporter key, read by the same people. Raises SealedRefused."""
    on = on or today()
    if session.get(Case, sealed.case_id) is not None or sealed.files or sealed.identity:
        raise SealedRefused(SealedRefused.MALFORMED)
    if original.reporter_public_key is None or \
            sealed.reporter_public_key != original.reporter_public_key:
        raise SealedRefused(SealedRefused.MALFORMED)
    keys = retaliation_keys(session, store, original)
    if not keys.caseworkers:
        raise SealedRefused(SealedRefused.NOBODY)
    check_form(sealed, keys, limits)
    excluded = _excluded(session, original)
    row = CaseRow(sealed.case_id, original.lookup_hash, original.reporter_public_key,
                  original.category_id, "web", excluded, linked_case_id=original.id)
    case = create_case(session, row, store.policy(session), on)
    store_sealed_rows(session, store, case, sealed, limits, on)
    link_retaliation(session, original, case, on)
    enqueue(session, [h.account_id for h in keys.caseworkers], NEW_REPORT, store.settings)
    session.flush()
    return case


def _excluded(session: Session, case: Case) -> frozenset[int]:
    return frozenset(session.scalars(
        select(CaseExclusion.caseworker_id).where(CaseExclusion.case_id == case.id)))
