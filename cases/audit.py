"""The hash-chained audit log: every caseworker and admin action, no report content.

Each entry's hash covers its own canonical bytes and the previous entry's hash; entry ids
are consecutive and a head row records the last one. ``verify_chain`` therefore finds any
edited, removed, inserted or reordered entry, and a truncated tail.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import AuditEntry, AuditHead, utcnow
from crypto import chain_digest

GENESIS = bytes(32)
_HEAD_ID = 1


def _canonical(
    entry_id: int,
    at: dt.datetime,
    actor_id: int | None,
    action: str,
    case_id: str | None,
    detail: str,
) -> bytes:
    return json.dumps(
        [entry_id, at.isoformat(timespec="seconds"), actor_id, action, case_id, detail],
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()


def ensure_head(session: Session) -> None:
    """Create the head row if absent (done once, at database set-up)."""
    if session.get(AuditHead, _HEAD_ID) is None:
        session.add(AuditHead(id=_HEAD_ID, last_id=0, last_hash=GENESIS))
        session.flush()


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    case_id: str | None = None,
    **detail: Any,
) -> AuditEntry:
    """Append one entry inside the caller's transaction (so it commits with the action)."""
    head = session.scalars(
        select(AuditHead).where(AuditHead.id == _HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        ensure_head(session)
        head = session.get_one(AuditHead, _HEAD_ID)
    entry_id = head.last_id + 1
    at = utcnow().replace(microsecond=0)
    detail_json = json.dumps(detail, sort_keys=True, separators=(",", ":"), default=str)
    entry_hash = chain_digest(
        head.last_hash, _canonical(entry_id, at, actor_id, action, case_id, detail_json)
    )
    entry = AuditEntry(
        id=entry_id,
        at=at,
        actor_id=actor_id,
        action=action,
        case_id=case_id,
        detail=detail_json,
        prev_hash=head.last_hash,
        entry_hash=entry_hash,
    )
    session.add(entry)
    head.last_id = entry_id
    head.last_hash = entry_hash
    session.flush()
    return entry


@dataclass
class ChainReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _entries(session: Session, batch: int = 1000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify_chain(session: Session) -> ChainReport:
    report = ChainReport()
    expected_prev = GENESIS
    expected_id = 1
    for entry in _entries(session):
        if entry.id != expected_id:
            report.problems.append(f"entries {expected_id}..{entry.id - 1} are missing")
        if entry.prev_hash != expected_prev:
            report.problems.append(f"entry {entry.id} does not follow the entry before it")
        recomputed = chain_digest(
            entry.prev_hash,
            _canonical(
                entry.id, entry.at, entry.actor_id, entry.action, entry.case_id, entry.detail
            ),
        )
        if recomputed != entry.entry_hash:
            report.problems.append(f"entry {entry.id} was altered")
        expected_prev = entry.entry_hash
        expected_id = entry.id + 1
        report.checked += 1
    head = session.get(AuditHead, _HEAD_ID)
    last_id = head.last_id if head else 0
    if last_id != expected_id - 1 or (head is not None and head.last_hash != expected_prev):
        report.problems.append(
            f"the log ends at entry {expected_id - 1} but the head records entry {last_id}: "
            "entries were removed from the end or the head was altered"
        )
    return report
