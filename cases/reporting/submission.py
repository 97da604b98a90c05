"""Creating a case: a report from the intake form, or an oral report a caseworker records.

A submission is one unit: attachments are encrypted into the blob store while the form
streams in, then the case, its wrapped keys and ciphertexts are written in one database
transaction. If anything fails, the transaction rolls back and the blobs are deleted, so
no case, no orphaned ciphertext and no receipt exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.bodies import Body, ReportBody
from cases.casework.workflow import start_case
from cases.content import AttachmentUpload, add_identity_record, add_message, store_attachment
from cases.db import is_sqlite
from cases.keyring import Trust, wrap_to, wrap_to_caseworkers
from cases.models import (
    Case,
    CaseExclusion,
    Caseworker,
    Category,
    CategoryMember,
    HolderKind,
    KeyPurpose,
    Message,
    MessageKind,
    new_id,
    public_accounts,
    today,
)
from cases.notifications.outbox import NEW_REPORT, enqueue
from cases.reporting.acknowledgement import send_automatic_acknowledgement
from cases.store import Policy, Store
from crypto import (
    CaseKeys,
    ReporterKeys,
    derive_reporter_keys,
    new_case_keys,
    new_receipt,
    receipt_from_seed,
)


@dataclass
class Submission:
    """What the reporter entered in the intake form, in plaintext, in memory. (Oral and
    retaliation reports open their cases with ``open_case`` directly.)"""

    report: ReportBody
    category_slug: str | None = None
    identity: dict[str, str] | None = None
    excluded_caseworker_ids: list[int] = field(default_factory=list)


def routed_caseworkers(
    session: Session, category_id: int | None, excluded: AbstractSet[int]
) -> list[Caseworker]:
    """The category's caseworkers; every active caseworker when the category has none."""
    query = public_accounts().where(Caseworker.active, Caseworker.is_caseworker)
    members = []
    if category_id is not None:
        members = list(
            session.scalars(
                query.join(CategoryMember, CategoryMember.caseworker_id == Caseworker.id).where(
                    CategoryMember.category_id == category_id
                )
            )
        )
    chosen = members or list(session.scalars(query))
    return [cw for cw in chosen if cw.id not in excluded]


def active_category(session: Session, slug: str | None) -> Category | None:
    """The active category a report chose; None when it chose none (ValueError for a slug
    that names no active category: the forms offer only those)."""
    if not slug:
        return None
    category = session.scalar(select(Category).where(Category.slug == slug, Category.active))
    if category is None:
        raise ValueError("unknown category")
    return category


def custodians(session: Session, excluded: AbstractSet[int]) -> list[Caseworker]:
    rows = session.scalars(public_accounts().where(Caseworker.active, Caseworker.is_custodian))
    return [cw for cw in rows if cw.id not in excluded]


def wrap_case_keys(
    session: Session,
    trust: Trust,
    case_id: str,
    keys: CaseKeys,
    recipients: list[Caseworker],
    reporter_public_key: bytes,
) -> None:
    """A new case's keys to their first holders: the thread key to the caseworkers, the
    reporter and the recovery key; the internal key to the same minus the reporter."""
    wrap_to_caseworkers(session, trust, case_id, KeyPurpose.THREAD, keys.thread, recipients)
    wrap_to(
        session, case_id, KeyPurpose.THREAD, keys.thread, reporter_public_key, HolderKind.REPORTER
    )
    wrap_to_caseworkers(session, trust, case_id, KeyPurpose.INTERNAL, keys.internal, recipients)


@dataclass(frozen=True)
class CaseRow:
    """What the case row of a new case is made from, sealed on the server or in the
    reporter's browser (cases.reporting.sealed)."""

    case_id: str
    lookup_hash: bytes | None  # nullable in the schema; every case is given one
    reporter_public_key: bytes
    category_id: int | None
    channel: str
    excluded: frozenset[int] = frozenset()
    linked_case_id: str | None = None


def create_case(session: Session, row: CaseRow, policy: Policy, on: dt.date) -> Case:
    """The case row with its deadlines and the reporter's exclusions. Flushes."""
    case = Case(
        id=row.case_id,
        lookup_hash=row.lookup_hash,
        reporter_public_key=row.reporter_public_key,
        category_id=row.category_id,
        channel=row.channel,
        linked_case_id=row.linked_case_id,
        reporter_activity_on=on,
    )
    start_case(case, on, policy.deadlines)
    session.add(case)
    session.flush()
    for cw_id in row.excluded:
        session.add(CaseExclusion(case_id=case.id, caseworker_id=cw_id, reason="reporter"))
    return case


@dataclass(frozen=True)
class Opening:
    """What a new case starts from, whoever opens it: the intake form, a caseworker's
    minutes of an oral report, or a reporter's retaliation report."""

    row: CaseRow
    keys: CaseKeys
    kind: MessageKind
    body: Body


def open_case(
    session: Session,
    opening: Opening,
    recipients: list[Caseworker],
    policy: Policy,
    trust: Trust,
    on: dt.date,
) -> tuple[Case, Message]:
    """The one way a case comes to exist: the case row with its deadlines, the reporter's
    exclusions, its keys wrapped to the recipients, the reporter and the recovery key, the
    first message, and the automatic acknowledgement where the policy asks for it (not on
    an oral report: the reporter is told in person). Flushes; the caller commits."""
    case = create_case(session, opening.row, policy, on)
    wrap_case_keys(
        session, trust, case.id, opening.keys, recipients, opening.row.reporter_public_key
    )
    message = add_message(
        session, case.id, opening.kind, opening.keys.thread, opening.body, on=on
    )
    if opening.row.channel != "oral" and policy.auto_acknowledge:
        send_automatic_acknowledgement(session, case.id, opening.keys.thread, on)
    return case, message


class SubmissionDraft:
    def __init__(self, store: Store, session: Session, receipt_seed: str = "") -> None:
        self.store = store
        self.session = session
        # The report form's submission id: the receipt is derived from it
        # (crypto.receipt_from_seed), so the same form sent again shows the same receipt.
        self.receipt_seed = receipt_seed
        self.case_id = new_id()
        self.keys = new_case_keys()
        self._uploads: list[AttachmentUpload] = []
        self._finished: list[Any] = []
        self.receipt: str | None = None
        self._derived: tuple[str, ReporterKeys] | None = None

    def new_attachment(self, *, keep_metadata: bool = False,
                       clear_form_fields: bool = False) -> AttachmentUpload:
        upload = AttachmentUpload(
            self.store.blobs,
            self.session,
            self.case_id,
            self.keys.thread,
            keep_metadata=keep_metadata,
            clear_form_fields=clear_form_fields,
        )
        self._uploads.append(upload)
        return upload

    def attach(self, upload: AttachmentUpload, filename: str, content_type: str) -> None:
        self._finished.append(upload.finish(filename, content_type))

    def discard(self, upload: AttachmentUpload) -> None:
        upload.abort()
        self._uploads.remove(upload)

    def derive_receipt(self) -> tuple[str, ReporterKeys]:
        """Make the receipt and derive the reporter's keys (Argon2id, ~0.1 s) now.

        ``new_submission`` calls it at once on SQLite, before the draft's session runs its
        first statement: there every transaction takes the write lock at its first statement
        (cases.db), and a derivation inside it held every other request of the instance up
        behind it (bench/bench_submissions.py). Elsewhere ``finalize`` calls it."""
        if self._derived is None:
            settings = self.store.settings
            receipt = (
                receipt_from_seed(settings.server_key, self.receipt_seed.encode())
                if self.receipt_seed else new_receipt()
            )
            keys = derive_reporter_keys(receipt, settings.instance_salt, settings.receipt_kdf)
            self._derived = (receipt, keys)
        return self._derived

    def seed_with(self, submission_id: str) -> None:
        """The form's verified submission id: the receipt must come from it. A draft that
        was derived from another (or none: a client that sent its files first) derives
        again."""
        if submission_id != self.receipt_seed:
            self.receipt_seed = submission_id
            self._derived = None

    def finalize(
        self,
        submission: Submission,
        *,
        on: dt.date | None = None,
    ) -> str:
        """Write the case; return the receipt (show it only after the commit succeeds)."""
        on = on or today()
        settings = self.store.settings
        receipt, reporter = self.derive_receipt()
        session = self.session
        category = active_category(session, submission.category_slug)
        excluded = frozenset(submission.excluded_caseworker_ids)
        recipients = routed_caseworkers(session, category.id if category else None, excluded)
        trust = Trust.of(settings)
        opening = Opening(
            CaseRow(
                case_id=self.case_id,
                lookup_hash=reporter.lookup_hash,
                reporter_public_key=reporter.public_key,
                category_id=category.id if category else None,
                channel="web",
                excluded=excluded,
            ),
            keys=self.keys,
            kind=MessageKind.REPORT,
            body=submission.report,
        )
        _, message = open_case(session, opening, recipients, self.store.policy(session), trust, on)
        enqueue(session, [r.id for r in recipients], NEW_REPORT, settings)
        for attachment in self._finished:
            attachment.message_id = message.id
            store_attachment(session, attachment)
        if submission.identity:
            add_identity_record(
                session, self.case_id, submission.identity, custodians(session, excluded), trust
            )
        session.flush()
        self.receipt = receipt
        return receipt

    def abort(self) -> None:
        for upload in self._uploads:
            upload.abort()


@contextmanager
def new_submission(store: Store, receipt_seed: str = "") -> Iterator[SubmissionDraft]:
    """``with new_submission(store) as draft: ...; draft.finalize(...)`` — commits on exit.
    With ``receipt_seed`` (the web form's submission id) the receipt is derived from it.

    On any exception the transaction is rolled back and every blob written is deleted.
    """
    session = store.sessions()
    draft = SubmissionDraft(store, session, receipt_seed)
    if is_sqlite(store.engine):
        # The draft's first statement takes SQLite's write lock for the whole request; the
        # receipt's Argon2id (~0.1 s) must not run under it, or every request of the
        # instance waits for it (submissions ran one at a time: bench/bench_submissions.py).
        draft.derive_receipt()
    try:
        yield draft
        if draft.receipt is None:
            raise RuntimeError("submission left without finalize()")
        session.commit()
    except BaseException:
        session.rollback()
        draft.abort()
        draft.receipt = None
        raise
    finally:
        session.close()
