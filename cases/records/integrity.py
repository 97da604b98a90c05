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
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from cases.attachments.blobs import BlobStore
from cases.content import CONTENT_GENESIS
from cases.models import Attachment, AuditEntry, Case, Message
from cases.records.audit import COMMITS, commitment_in, record, record_each
from crypto import ContentDigest, content_digest, content_link

READ_PIECE = 1024 * 1024
VERIFY_BATCH = 500


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
    return _items_of(session, blobs, [case_id], report).get(case_id, [])


def _items_of(
    session: Session, blobs: BlobStore, case_ids: Sequence[str], report: ContentReport
) -> dict[str, list[Item]]:
    """:func:`_items` of several cases, in two queries."""
    items: dict[str, list[Item]] = defaultdict(list)
    for message in session.execute(
        select(Message.case_id, Message.id, Message.position, Message.ciphertext,
               Message.digest).where(Message.case_id.in_(case_ids))
    ):
        actual = content_digest(message.ciphertext)
        if message.digest is not None and message.digest != actual:
            report.problems.append(f"case {message.case_id}: message {message.id} was altered")
        items[message.case_id].append(Item(message.position, message.id, actual, "message"))
    for attachment in session.scalars(
        select(Attachment).where(Attachment.case_id.in_(case_ids))
    ).all():
        actual = attachment_digest(blobs, session, attachment)
        if attachment.digest is not None and attachment.digest != actual:
            report.problems.append(
                f"case {attachment.case_id}: attachment {attachment.id} was altered")
        items[attachment.case_id].append(
            Item(attachment.position or 0, attachment.id, actual, "attachment"))
    for found in items.values():
        found.sort(key=lambda i: i.position)
    return items


def _heads(items: list[Item]) -> dict[int, bytes]:
    """The content head after each position, as the case's writers computed it."""
    heads, head = {0: CONTENT_GENESIS}, CONTENT_GENESIS
    for item in items:
        head = content_link(head, item.position, item.item_id, item.digest)
        heads[item.position] = head
    return heads


def _commitments_of(
    session: Session, case_ids: Sequence[str]
) -> dict[str, list[tuple[int, int, bytes]]]:
    """Each case's commitments (entry id, item count, content head), oldest first."""
    found: dict[str, list[tuple[int, int, bytes]]] = defaultdict(list)
    for entry_id, case_id, detail in session.execute(
        select(AuditEntry.id, AuditEntry.case_id, AuditEntry.detail)
        .where(AuditEntry.case_id.in_(case_ids), AuditEntry.detail.contains(COMMITS))
        .order_by(AuditEntry.id)
    ):
        committed = commitment_in(detail)
        if committed is not None and case_id is not None:
            found[case_id].append((entry_id, *committed))
    return found


def verify_case(
    case_id: str,
    last_position: int,
    items: list[Item],
    commitments: list[tuple[int, int, bytes]],
    report: ContentReport,
) -> None:
    positions = [i.position for i in items]
    if positions != list(range(1, len(items) + 1)) or len(items) != last_position:
        report.problems.append(
            f"case {case_id}: items are numbered {positions[:20]} of {last_position}: "
            "some were removed or reordered"
        )
    heads = _heads(items)
    for entry_id, count, committed in commitments:
        report.commitments += 1
        if heads.get(count) != committed:
            report.problems.append(
                f"case {case_id}: its first {count} items no longer match audit entry "
                f"{entry_id}: a message or attachment was rewritten or removed"
            )
    report.cases += 1
    report.items += len(items)


def verify_content(session: Session, blobs: BlobStore, batch: int = VERIFY_BATCH) -> ContentReport:
    """Every case, ``batch`` at a time (three queries per batch): memory stays that of one
    batch however many cases the instance holds (bench/bench_scale.py)."""
    report = ContentReport()
    after = ""
    while cases := session.execute(
        select(Case.id, Case.last_position).where(Case.id > after).order_by(Case.id)
        .limit(batch)
    ).all():
        ids = [case.id for case in cases]
        items = _items_of(session, blobs, ids, report)
        commitments = _commitments_of(session, ids)
        for case in cases:
            verify_case(case.id, case.last_position, items.get(case.id, []),
                        commitments.get(case.id, []), report)
        after = ids[-1]
    for case_id in _gone_without_purge(session):
        report.problems.append(f"case {case_id} is gone, and no purge was recorded")
    return report


def _gone_without_purge(session: Session) -> Iterator[str]:
    """Cases the log committed to that are no longer stored, with no purge recorded."""
    purge = aliased(AuditEntry)
    missing = (
        select(AuditEntry.case_id).distinct()
        .where(
            AuditEntry.case_id.is_not(None),
            AuditEntry.detail.contains(COMMITS),
            ~exists().where(Case.id == AuditEntry.case_id),
            ~exists().where(purge.case_id == AuditEntry.case_id,
                            purge.action == "case.purged"),
        )
        .order_by(AuditEntry.case_id)
    )
    for case_id in session.scalars(missing):
        if case_id is not None:
            yield case_id


def seal_recent_content(session: Session, on: dt.date) -> int:
    """Commit the content of each case a reporter wrote to since yesterday (nightly, from
    ``sealbox purge``: the entry's time is the night's, not the reporter's)."""
    since = on - dt.timedelta(days=1)
    count = 0
    after = ""
    while ids := session.scalars(
        select(Case.id).where(Case.reporter_activity_on >= since, Case.id > after)
        .order_by(Case.id).limit(VERIFY_BATCH)
    ).all():
        record_each(session, "content.sealed", ids)
        count += len(ids)
        after = ids[-1]
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
