"""Management indicators (ISO 37002 9.1) from plaintext workflow metadata only: counts by
status, category and outcome, overdue cases, and the median days to acknowledgement and to
feedback. Nothing here decrypts anything or names a person.

The CSV export is meant to leave the organisation, so small counts are suppressed (1 to 4
become "<5"), and where a group has exactly one suppressed cell the next smallest one is
suppressed too, so the suppressed value cannot be worked back from the total. Medians over
fewer than five cases are withheld.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.casework.workflow import OPEN_STATUSES, no_human_acknowledgement_sql
from cases.models import Case, Category, Status

SUPPRESS_BELOW = 5
SUPPRESSED = "<5"


@dataclass(frozen=True)
class Indicators:
    on: dt.date
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_outcome: dict[str, int]
    by_channel: dict[str, int]
    overdue: int
    no_human_acknowledgement: int
    on_legal_hold: int
    days_to_acknowledgement: list[int] = field(repr=False)
    days_to_feedback: list[int] = field(repr=False)

    @property
    def median_days_to_acknowledgement(self) -> float | None:
        return (
            statistics.median(self.days_to_acknowledgement)
            if self.days_to_acknowledgement
            else None
        )

    @property
    def median_days_to_feedback(self) -> float | None:
        return statistics.median(self.days_to_feedback) if self.days_to_feedback else None


def compute(db: Session, on: dt.date, uncategorised: str = "uncategorised") -> Indicators:
    by_status = {s.value: 0 for s in Status}
    for status, count in _counts_by(db, Case.status):
        by_status[Status(status).value] = count
    return Indicators(
        on=on,
        total=sum(by_status.values()),
        by_status=by_status,
        by_category=_by_category(db, uncategorised),
        by_outcome=dict(sorted(
            (str(outcome), count)
            for outcome, count in _counts_by(db, Case.outcome)
            if outcome is not None
        )),
        by_channel=dict(sorted((str(ch), count) for ch, count in _counts_by(db, Case.channel))),
        overdue=_count(db, Case.status.in_(sorted(OPEN_STATUSES)), Case.next_due_on < on),
        no_human_acknowledgement=_count(db, no_human_acknowledgement_sql(on)),
        on_legal_hold=_count(db, Case.legal_hold_reason.is_not(None)),
        days_to_acknowledgement=_days_between(db, Case.received_on, Case.acknowledged_on),
        days_to_feedback=_days_between(db, Case.received_on, Case.feedback_given_on),
    )


def _counts_by(db: Session, column: Any) -> list[tuple[Any, int]]:
    return [(v, int(n)) for v, n in db.execute(select(column, func.count()).group_by(column))]


def _count(db: Session, *where: Any) -> int:
    return int(db.scalar(select(func.count()).select_from(Case).where(*where)) or 0)


def _by_category(db: Session, uncategorised: str) -> dict[str, int]:
    names = {k: v for k, v in db.execute(select(Category.id, Category.name))}
    counts: dict[str, int] = {}
    for category_id, count in _counts_by(db, Case.category_id):
        name = names.get(category_id, uncategorised) if category_id is not None else uncategorised
        counts[name] = counts.get(name, 0) + count
    return dict(sorted(counts.items()))


def _days_between(db: Session, start: Any, end: Any) -> list[int]:
    """Days from ``start`` to ``end`` for every case where ``end`` is set."""
    rows = db.execute(select(start, end).where(end.is_not(None)))
    return [(last - first).days for first, last in rows if last is not None]


def suppress_group(counts: dict[str, int]) -> dict[str, str]:
    """Primary suppression of 1..4, plus complementary suppression of the next smallest
    cell when only one cell of the group would be hidden."""
    out = {k: str(v) for k, v in counts.items()}
    small = [k for k, v in counts.items() if 0 < v < SUPPRESS_BELOW]
    for k in small:
        out[k] = SUPPRESSED
    if len(small) == 1:
        others = sorted((v, k) for k, v in counts.items() if k not in small and v > 0)
        if others:
            out[others[0][1]] = SUPPRESSED
    return out


def _count_cell(value: int) -> str:
    return SUPPRESSED if 0 < value < SUPPRESS_BELOW else str(value)


def _median_cell(values: list[int]) -> str:
    if len(values) < SUPPRESS_BELOW:
        return "suppressed"
    return f"{statistics.median(values):g}"


def to_csv(ind: Indicators) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["indicator", "group", "value"])
    writer.writerow(["as_of", "", ind.on.isoformat()])
    writer.writerow(["cases", "total", _count_cell(ind.total)])
    for name, group in (
        ("cases_by_status", ind.by_status),
        ("cases_by_category", ind.by_category),
        ("cases_by_outcome", ind.by_outcome),
        ("cases_by_channel", ind.by_channel),
    ):
        for key, cell in suppress_group(group).items():
            writer.writerow([name, _spreadsheet_safe(key), cell])
    writer.writerow(["overdue_open_cases", "", _count_cell(ind.overdue)])
    writer.writerow(
        ["no_human_acknowledgement_past_deadline", "", _count_cell(ind.no_human_acknowledgement)]
    )
    writer.writerow(["cases_on_legal_hold", "", _count_cell(ind.on_legal_hold)])
    writer.writerow(
        ["median_days_to_acknowledgement", "", _median_cell(ind.days_to_acknowledgement)]
    )
    writer.writerow(["median_days_to_feedback", "", _median_cell(ind.days_to_feedback)])
    return buffer.getvalue()


def _spreadsheet_safe(text: str) -> str:
    """Category names are typed by administrators: never let one run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
