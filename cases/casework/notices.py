"""What a caseworker is told in the app the next time they look: a short message kind and
the values that fill it (names, a case id), shown on their inbox until they dismiss it.

Kept for people who may no longer see the case itself (a removed holder), so a notice
never carries case content: only who did what, and when (a date).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.models import Notice

REMOVED_FROM_CASE = "removed_from_case"
KINDS = frozenset({REMOVED_FROM_CASE})


@dataclass(frozen=True)
class ShownNotice:
    id: int
    kind: str
    values: dict[str, str]
    created_on: str


def notify(db: Session, caseworker_id: int, kind: str, **values: str) -> None:
    if kind not in KINDS:
        raise ValueError(kind)
    db.add(Notice(caseworker_id=caseworker_id, kind=kind, values=json.dumps(values)))
    db.flush()


def notices_for(db: Session, caseworker_id: int) -> list[ShownNotice]:
    rows = db.scalars(
        select(Notice).where(Notice.caseworker_id == caseworker_id).order_by(Notice.id.desc())
    )
    return [
        ShownNotice(row.id, row.kind, json.loads(row.values), row.created_on.isoformat())
        for row in rows
    ]


def dismiss(db: Session, caseworker_id: int, notice_id: int) -> bool:
    """Only the notice's own reader can dismiss it."""
    result = db.execute(
        delete(Notice).where(Notice.id == notice_id, Notice.caseworker_id == caseworker_id)
    )
    return bool(getattr(result, "rowcount", 0))
