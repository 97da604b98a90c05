"""Is what the database holds what the audit log says it held? (``sealbox audit verify``)

Each case's messages and attachments are numbered (``position``) and chained: every item's
content digest (a BLAKE2b of exactly the ciphertext stored: the message record, or the
attachment's blob, metadata and file-key records) is folded into the case's content head
(docs/CRYPTO.md). Audit entries about the case commit to that head (``cases.records.audit``); so
does a ``content.sealed`` entry the nightly purge writes for each case a reporter wrote to
lately (reporter actions are never audited on their own: the entry's time would tell
when). ``verify_content`` recomputes every digest from the stored bytes and every head a
commitment names: a rewritten, removed or reordered message or attachment, or a case that
vanished without a purge, is reported. What was written after a case's last commitment,
and not yet sealed, cannot be checked: that is a day at most.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.attachments.blobs import BlobStore
from cases.content import CONTENT_GENESIS
from cases.models import Attachment, AuditEntry, Case, Message
from cases.records.audit import content_commitment, record
from crypto import ContentDigest, content_digest, content_link

READ_PIECE = 1024 * 1024


@dataclass(frozen=True)
class Item:
    position: int
    item_id: str
    digest: bytes
    what: str  # "message" or "attachment", for the report


@dataclass
class ContentReport:
    cases: int = 0
    items: int = 0
    commitments: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def attachment_digest(blobs: BlobStore, session: Session, attachment: Attachment) -> bytes:
    """The content digest of an attachment as stored: blob, then its two records."""
    digest = ContentDigest()
    with blobs.open(session, attachment.id) as source:
        while piece := source.read(READ_PIECE):
            digest.update(piece)
    digest.update(attachment.meta_ciphertext)
    digest.update(attachment.file_key_ciphertext)
    return digest.digest()


def _items(session: Session, blobs: BlobStore, case_id: str, report: ContentReport) -> list[Item]:
    """The case's items in order, each digest recomputed from the stored bytes."""
    items = []
    for message in session.scalars(select(Message).where(Message.case_id == case_id)):
        actual = content_digest(message.ciphertext)
        if message.digest is not None and message.digest != actual:
            report.problems.append(f"case {case_id}: message {message.id} was altered")
        items.append(Item(message.position, message.id, actual, "message"))
    for attachment in session.scalars(select(Attachment).where(Attachment.case_id == case_id)):
        actual = attachment_digest(blobs, session, attachment)
        if attachment.digest is not None and attachment.digest != actual:
            report.problems.append(f"case {case_id}: attachment {attachment.id} was altered")
        items.append(Item(attachment.position or 0, attachment.id, actual, "attachment"))
    return sorted(items, key=lambda i: i.position)


def _heads(items: list[Item]) -> dict[int, bytes]:
    """The content head after each position, as the case's writers computed it."""
    heads, head = {0: CONTENT_GENESIS}, CONTENT_GENESIS
    for item in items:
        head = content_link(head, item.position, item.item_id, item.digest)
        heads[item.position] = head
    return heads


def _commitments(session: Session, case_id: str) -> Iterator[tuple[int, int, bytes]]:
    for entry in session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)
    ):
        committed = content_commitment(entry)
        if committed is not None:
            yield entry.id, *committed


def verify_case(session: Session, blobs: BlobStore, case: Case, report: ContentReport) -> None:
    items = _items(session, blobs, case.id, report)
    positions = [i.position for i in items]
    if positions != list(range(1, len(items) + 1)) or len(items) != case.last_position:
        report.problems.append(
            f"case {case.id}: items are numbered {positions[:20]} of {case.last_position}: "
            "some were removed or reordered"
        )
    heads = _heads(items)
    for entry_id, count, committed in _commitments(session, case.id):
        report.commitments += 1
        if heads.get(count) != committed:
            report.problems.append(
                f"case {case.id}: its first {count} items no longer match audit entry "
                f"{entry_id}: a message or attachment was rewritten or removed"
            )
    report.cases += 1
    report.items += len(items)


def verify_content(session: Session, blobs: BlobStore) -> ContentReport:
    report = ContentReport()
    for case in session.scalars(select(Case).order_by(Case.id)):
        verify_case(session, blobs, case, report)
    purged: set[str | None] = set(
        session.scalars(select(AuditEntry.case_id).where(AuditEntry.action == "case.purged"))
    )
    existing: set[str | None] = set(session.scalars(select(Case.id)))
    committed: set[str | None] = set(
        session.scalars(
            select(AuditEntry.case_id).where(
                AuditEntry.case_id.is_not(None), AuditEntry.detail.contains('"content"')
            )
        )
    )
    for case_id in sorted(c for c in committed - existing - purged if c is not None):
        report.problems.append(f"case {case_id} is gone, and no purge was recorded")
    return report


def seal_recent_content(session: Session, on: dt.date) -> int:
    """Commit the content of each case a reporter wrote to since yesterday (nightly, from
    ``sealbox purge``: the entry's time is the night's, not the reporter's)."""
    since = on - dt.timedelta(days=1)
    count = 0
    for case_id in session.scalars(
        select(Case.id).where(Case.reporter_activity_on >= since).order_by(Case.id)
    ):
        record(session, "content.sealed", case_id=case_id)
        count += 1
    return count


def backfill_content(session: Session, blobs: BlobStore) -> int:
    """Cases stored before content was chained: digest, number and chain their items, and
    commit the result (run by ``Store.migrate``; idempotent). Returns the cases done."""
    pending = set(session.scalars(select(Case.id).where(Case.content_head.is_(None))))
    for case_id in sorted(pending):
        case = session.get_one(Case, case_id)
        messages = list(session.scalars(select(Message).where(Message.case_id == case_id)))
        if not messages:
            continue
        for message in messages:
            message.digest = content_digest(message.ciphertext)
        position = max(m.position for m in messages)
        attachments = session.scalars(
            select(Attachment)
            .where(Attachment.case_id == case_id)
            .order_by(Attachment.created_on, Attachment.id)
        )
        for attachment in attachments:
            position += 1
            attachment.position = position
            attachment.digest = attachment_digest(blobs, session, attachment)
        session.flush()
        heads = _heads(_items(session, blobs, case_id, ContentReport()))
        case.last_position = position
        case.content_head = heads[position]
        session.flush()
        record(session, "content.sealed", case_id=case_id, backfilled=True)
    return len(pending)
