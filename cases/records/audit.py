"""The hash-chained audit log: every caseworker and admin action, no report content.

Each entry's hash covers its own canonical bytes and the previous entry's hash; entry ids
are consecutive and a head row records the last one. ``verify_chain`` therefore finds any
edited, removed, inserted or reordered entry; a truncated tail is found against a head
exported earlier (``verify_chain(..., head=...)``, ``sealbox audit verify --head``).

An entry about a case also commits to the case's content as it stands: the number of its
items and the head of its content chain (``detail["content"]``, docs/CRYPTO.md). So once
an entry is written, a message or attachment that existed then cannot be rewritten or
removed without ``cases.records.integrity.verify_content`` noticing, even by someone who can write
to the database and holds a case key.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from cases.models import AuditEntry, AuditHead, Case, utcnow
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
    head = _locked_head(session)
    if case_id is not None:
        detail.update(_content_commitments(session, [case_id]).get(case_id, {}))
    entry = _append(session, head, action, actor_id, case_id, detail)
    session.flush()
    return entry


def record_each(
    session: Session,
    action: str,
    case_ids: Sequence[str],
    *,
    actor_id: int | None = None,
    **detail: Any,
) -> None:
    """One entry per case, as :func:`record` writes them, under one lock of the head and
    one query of the cases' content (the purge records a batch of cases at a time)."""
    head = _locked_head(session)
    commitments = _content_commitments(session, case_ids)
    for case_id in case_ids:
        _append(session, head, action, actor_id, case_id,
                {**detail, **commitments.get(case_id, {})})
    session.flush()


def _locked_head(session: Session) -> AuditHead:
    """The head row, locked until the caller's transaction ends: writers append in turn."""
    head = session.scalars(
        select(AuditHead).where(AuditHead.id == _HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        ensure_head(session)
        head = session.get_one(AuditHead, _HEAD_ID)
    return head


def _append(
    session: Session,
    head: AuditHead,
    action: str,
    actor_id: int | None,
    case_id: str | None,
    detail: dict[str, Any],
) -> AuditEntry:
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
    return entry


def _content_commitments(session: Session, case_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """What an entry about each case commits to; nothing for a case purged by this very
    action, or with nothing stored yet."""
    rows = session.execute(
        select(Case.id, Case.last_position, Case.content_head).where(
            Case.id.in_(case_ids), Case.content_head.is_not(None)
        )
    )
    return {row.id: {"content": f"{row.last_position}:{row.content_head.hex()}"}
            for row in rows}


COMMITS = '"content"'  # in the detail of every entry that commits to a case's content


def commitment_in(detail: str) -> tuple[int, bytes] | None:
    """(item count, content head) an entry's detail committed to, if any."""
    value = json.loads(detail).get("content")
    if not isinstance(value, str) or ":" not in value:
        return None
    count, head = value.split(":", 1)
    return int(count), bytes.fromhex(head)


def current_head(session: Session) -> tuple[int, bytes]:
    """The last entry's id and hash: what to export (``sealbox audit head``)."""
    head = session.get(AuditHead, _HEAD_ID)
    return (head.last_id, head.last_hash) if head is not None else (0, GENESIS)


@dataclass
class ChainReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _entries(
    session: Session, batch: int = 1000
) -> Iterator[Row[int, dt.datetime, int | None, str, str | None, str, bytes, bytes]]:
    """Every entry in order, ``batch`` rows at a time, as plain rows (no objects kept)."""
    last = 0
    while True:
        rows = session.execute(
            select(AuditEntry.id, AuditEntry.at, AuditEntry.actor_id, AuditEntry.action,
                   AuditEntry.case_id, AuditEntry.detail, AuditEntry.prev_hash,
                   AuditEntry.entry_hash)
            .where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify_chain(session: Session, head: tuple[int, bytes] | None = None) -> ChainReport:
    """Check every link; with ``head`` (an entry id and hash exported earlier), also that
    the log still holds that entry unchanged, so a log cut back to before it, or rewritten
    from a point before it, is found too."""
    report = ChainReport()
    if head is not None:
        exported = session.get(AuditEntry, head[0])
        if exported is None:
            report.problems.append(
                f"entry {head[0]}, exported as the head earlier, is missing: "
                "the log was cut back"
            )
        elif exported.entry_hash != head[1]:
            report.problems.append(f"entry {head[0]} differs from the head exported earlier")
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
    row = session.get(AuditHead, _HEAD_ID)
    last_id = row.last_id if row else 0
    if last_id != expected_id - 1 or (row is not None and row.last_hash != expected_prev):
        report.problems.append(
            f"the log ends at entry {expected_id - 1} but the head records entry {last_id}: "
            "entries were removed from the end or the head was altered"
        )
    return report
