"""The caseworker's inbox: the cases they hold a key to, filtered, sorted and paginated
using only the plaintext workflow columns (nothing is decrypted to list cases).

Pagination is by keyset (the sort value and the case id of the last row shown), so page
1,000 costs what page 1 costs. Every page is a fixed number of queries whatever its size:
the cases, then their labels, in one query each; category and assignee names come from
small lookup tables the caller loads once.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Row, Select, and_, func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from cases.casework.workflow import (
    DUE_SOON_DAYS,
    OPEN_STATUSES,
    days_left,
    is_due_soon,
    is_overdue,
    next_deadline,
    no_human_acknowledgement,
    risk_review_due,
)
from cases.models import Case, CaseLabel, HolderKind, KeyPurpose, Status, WrappedKey

PAGE_SIZE = 50
COUNT_CAP = 1_000

# sort key -> (column, descending?). Nullable columns sort their NULLs last, in a second
# phase of the keyset, so every sort walks a plain (column, id) index.
SORTS: dict[str, tuple[Any, bool]] = {
    "due": (Case.next_due_on, False),
    "received": (Case.received_on, True),
    "oldest": (Case.received_on, False),
    "priority": (Case.priority, True),
    "activity": (Case.reporter_activity_on, True),
}
NULLABLE = frozenset({"due", "activity"})
_NULL = "~"
DEFAULT_SORT = "due"
STATUS_FILTERS = ("open", "all", *[s.value for s in Status])


@dataclass(frozen=True)
class InboxFilter:
    status: str = "open"  # open | all | one Status value
    category_id: int | None = None
    assignee: str = ""  # "" any | "me" | "none" | a caseworker id
    label: str = ""
    due_soon: bool = False
    overdue: bool = False
    unread: bool = False
    sort: str = DEFAULT_SORT
    after: str = ""  # opaque cursor from the previous page


@dataclass(frozen=True)
class InboxRow:
    id: str
    status: Status
    channel: str
    category_id: int | None
    assignee_id: int | None
    priority: int
    received_on: dt.date
    acknowledged_on: dt.date | None
    next_due_on: dt.date | None
    reporter_activity_on: dt.date | None
    unread: bool
    legal_hold: bool
    risk_review_on: dt.date | None = None
    labels: list[str] = field(default_factory=list)

    acknowledge_due_on: dt.date = dt.date.max

    def overdue(self, on: dt.date) -> bool:
        return is_overdue(self, on)

    def due_soon(self, on: dt.date) -> bool:
        return is_due_soon(self, on)

    def risk_review_due(self, on: dt.date) -> bool:
        return risk_review_due(self, on)

    def no_human_acknowledgement(self, on: dt.date) -> bool:
        return no_human_acknowledgement(self, on)

    @property
    def next_deadline(self) -> str | None:
        return next_deadline(self)

    def days_left(self, on: dt.date) -> int | None:
        return days_left(self, on)


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    next_cursor: str | None
    total: int
    total_capped: bool


def _encode_cursor(value: Any, case_id: str) -> str:
    shown = _NULL if value is None else value.isoformat() if isinstance(value, dt.date) else value
    return base64.urlsafe_b64encode(f"{shown}|{case_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, str] | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        raw, case_id = text.rsplit("|", 1)
        value: Any
        if raw == _NULL and sort in NULLABLE:
            value = None
        else:
            value = int(raw) if sort == "priority" else dt.date.fromisoformat(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not case_id.isalnum() or len(case_id) > 16:
        return None
    return value, case_id


def _filtered(
    query: Select[Any], caseworker_id: int, f: InboxFilter, on: dt.date, *, counting: bool = False
) -> Select[Any]:
    """Apply the access rule (the caseworker holds the case's thread key) and the filters.

    Access is an EXISTS probe of the (caseworker, case) index, so the database can walk
    cases in the requested order and stop after one page."""
    holds_key = (
        select(WrappedKey.id)
        .where(
            WrappedKey.case_id == Case.id,
            WrappedKey.caseworker_id == caseworker_id,
            WrappedKey.holder_kind == HolderKind.CASEWORKER,
            WrappedKey.purpose == KeyPurpose.THREAD,
            WrappedKey.record_id == "",
        )
        .exists()
    )
    query = query.where(holds_key)
    if f.status == "open" and counting:
        # The count has no order to keep: "one of four" reads only the open cases through
        # the status index, where "not closed" read every case (bench/bench_inbox.py).
        query = query.where(Case.status.in_(sorted(OPEN_STATUSES)))
    elif f.status == "open":
        # "not closed or concluded" rather than "one of four": no status index tempts the
        # planner away from walking the sort index (and the meaning is the same).
        query = query.where(Case.status.not_in(sorted(set(Status) - OPEN_STATUSES)))
    elif f.status != "all" and f.status in STATUS_FILTERS:
        query = query.where(Case.status == Status(f.status))
    if f.category_id is not None:
        query = query.where(Case.category_id == f.category_id)
    if f.assignee == "me":
        query = query.where(Case.assignee_id == caseworker_id)
    elif f.assignee == "none":
        query = query.where(Case.assignee_id.is_(None))
    elif f.assignee.isdigit():
        query = query.where(Case.assignee_id == int(f.assignee))
    if f.label:
        # IN, not a join: the labelled cases are looked up once, through the label index.
        labelled = select(CaseLabel.case_id).where(CaseLabel.label == f.label)
        query = query.where(Case.id.in_(labelled))
    if f.overdue:
        query = query.where(Case.next_due_on < on)
    if f.due_soon:
        query = query.where(Case.next_due_on.between(on, on + dt.timedelta(days=DUE_SOON_DAYS)))
    if f.unread:
        query = query.where(Case.unread_by_caseworkers.is_(True))
    return query


def _phase(
    base: Select[Any], column: Any, descending: bool, nulls: bool, after: tuple[Any, str] | None
) -> Select[Any]:
    """One phase of the keyset walk: the rows whose sort value is set, or the NULLs."""
    if nulls:
        query = base.where(column.is_(None))
        if after is not None:
            query = query.where(Case.id < after[1] if descending else Case.id > after[1])
        # Ordered by (column, id), all NULL here: the same order as by id alone, but one
        # PostgreSQL sees a (..., column, id) index deliver, so a filter's index serves
        # this phase too instead of a walk through every case by id (bench/bench_inbox.py).
        if descending:
            return query.order_by(column.desc(), Case.id.desc())
        return query.order_by(column.asc(), Case.id.asc())
    query = base.where(column.is_not(None))
    if after is not None:
        key = tuple_(column, Case.id)
        point = tuple_(literal(after[0], column.type), literal(after[1]))
        query = query.where(key < point if descending else key > point)
    order = (column.desc(), Case.id.desc()) if descending else (column.asc(), Case.id.asc())
    return query.order_by(*order)


_ROW_COLUMNS: tuple[Any, ...] = (
    Case.id,
    Case.status,
    Case.channel,
    Case.category_id,
    Case.assignee_id,
    Case.priority,
    Case.received_on,
    Case.acknowledged_on,
    Case.acknowledge_due_on,
    Case.next_due_on,
    Case.reporter_activity_on,
    Case.unread_by_caseworkers,
    Case.legal_hold_reason.is_not(None).label("legal_hold"),
    Case.risk_review_on,
)


def inbox_page(
    db: Session, caseworker_id: int, f: InboxFilter, on: dt.date, page_size: int = PAGE_SIZE
) -> InboxPage:
    sort = f.sort if f.sort in SORTS else DEFAULT_SORT
    rows = _page_rows(db, caseworker_id, f, on, sort, page_size + 1)
    more = len(rows) > page_size
    rows = rows[:page_size]
    labels = _labels_of(db, [r.id for r in rows])
    out = [_inbox_row(r, labels.get(r.id, [])) for r in rows]
    next_cursor = _encode_cursor(rows[-1].sort_value, rows[-1].id) if more and rows else None
    total = count_cases(db, caseworker_id, replace(f, after=""), on)
    return InboxPage(out, next_cursor, min(total, COUNT_CAP), total > COUNT_CAP)


def _page_rows(
    db: Session, caseworker_id: int, f: InboxFilter, on: dt.date, sort: str, wanted: int
) -> list[Row[Any]]:
    """Up to ``wanted`` rows after the cursor: the cases with a sort value, then (for a
    column that may be empty) those without one."""
    column, descending = SORTS[sort]
    base = _filtered(select(*_ROW_COLUMNS, column.label("sort_value")), caseworker_id, f, on)
    cursor = _decode_cursor(f.after, sort) if f.after else None
    if cursor is not None and cursor[0] is None:
        return list(db.execute(_phase(base, column, descending, True, cursor).limit(wanted)))
    rows = list(db.execute(_phase(base, column, descending, False, cursor).limit(wanted)))
    # Overdue and due-soon cases have a deadline: no NULL phase to look through.
    nulls_excluded = sort == "due" and (f.overdue or f.due_soon)
    if len(rows) < wanted and sort in NULLABLE and not nulls_excluded:
        rest = _phase(base, column, descending, True, None).limit(wanted - len(rows))
        rows += list(db.execute(rest))
    return rows


def _labels_of(db: Session, case_ids: list[str]) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    if case_ids:
        for case_id, label in db.execute(
            select(CaseLabel.case_id, CaseLabel.label)
            .where(CaseLabel.case_id.in_(case_ids))
            .order_by(CaseLabel.label)
        ):
            labels.setdefault(case_id, []).append(label)
    return labels


def _inbox_row(r: Row[Any], labels: list[str]) -> InboxRow:
    return InboxRow(
        id=r.id,
        status=r.status,
        channel=r.channel,
        category_id=r.category_id,
        assignee_id=r.assignee_id,
        priority=r.priority,
        received_on=r.received_on,
        acknowledged_on=r.acknowledged_on,
        acknowledge_due_on=r.acknowledge_due_on,
        next_due_on=r.next_due_on,
        reporter_activity_on=r.reporter_activity_on,
        unread=r.unread_by_caseworkers,
        legal_hold=bool(r.legal_hold),
        risk_review_on=r.risk_review_on,
        labels=labels,
    )


def count_cases(db: Session, caseworker_id: int, f: InboxFilter, on: dt.date) -> int:
    """How many cases match, counted up to COUNT_CAP + 1: enough to say "more than 1,000"
    without visiting every matching case on every page."""
    matching = _filtered(select(Case.id), caseworker_id, f, on, counting=True)
    inner = matching.limit(COUNT_CAP + 1).subquery()
    return int(db.scalar(select(func.count()).select_from(inner)) or 0)


def labels_in_use(db: Session, caseworker_id: int) -> list[str]:
    """Labels on the caseworker's cases, for the filter menu.

    Each label in use is looked for once, through the label index, on a case the
    caseworker holds a key to; joining every labelled case with the keys instead took
    hundreds of milliseconds per inbox page at 100,000 cases (bench/bench_inbox.py)."""
    in_use = select(CaseLabel.label).distinct().subquery()
    labelled = aliased(CaseLabel)
    held = (
        select(labelled.case_id)
        .join(
            WrappedKey,
            and_(
                WrappedKey.case_id == labelled.case_id,
                WrappedKey.caseworker_id == caseworker_id,
                WrappedKey.purpose == KeyPurpose.THREAD,
                WrappedKey.holder_kind == HolderKind.CASEWORKER,
            ),
        )
        .where(labelled.label == in_use.c.label)
        .exists()
    )
    query = select(in_use.c.label).where(held).order_by(in_use.c.label).limit(500)
    return list(db.scalars(query))
