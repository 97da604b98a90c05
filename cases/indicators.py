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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.models import Case, Category, Status
from cases.workflow import OPEN_STATUSES, no_human_acknowledgement_sql

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
    for status, count in db.execute(select(Case.status, func.count()).group_by(Case.status)):
        by_status[Status(status).value] = int(count)
    names = {k: v for k, v in db.execute(select(Category.id, Category.name))}
    by_category: dict[str, int] = {}
    for category_id, count in db.execute(
        select(Case.category_id, func.count()).group_by(Case.category_id)
    ):
        name = names.get(category_id, uncategorised) if category_id is not None else uncategorised
        by_category[name] = by_category.get(name, 0) + int(count)
    by_outcome = {
        str(outcome): int(count)
        for outcome, count in db.execute(
            select(Case.outcome, func.count())
            .where(Case.outcome.is_not(None))
            .group_by(Case.outcome)
        )
    }
    by_channel = {
        str(channel): int(count)
        for channel, count in db.execute(select(Case.channel, func.count()).group_by(Case.channel))
    }
    open_statuses = sorted(OPEN_STATUSES)
    overdue = int(
        db.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.status.in_(open_statuses), Case.next_due_on < on)
        )
        or 0
    )
    no_human_ack = int(
        db.scalar(
            select(func.count())
            .select_from(Case)
            .where(no_human_acknowledgement_sql(on))
        )
        or 0
    )
    on_hold = int(
        db.scalar(select(func.count()).select_from(Case).where(Case.legal_hold_reason.is_not(None)))
        or 0
    )
    to_ack = [
        (acked - received).days
        for received, acked in db.execute(
            select(Case.received_on, Case.acknowledged_on).where(Case.acknowledged_on.is_not(None))
        )
        if acked is not None
    ]
    to_feedback = [
        (given - received).days
        for received, given in db.execute(
            select(Case.received_on, Case.feedback_given_on).where(
                Case.feedback_given_on.is_not(None)
            )
        )
        if given is not None
    ]
    return Indicators(
        on=on,
        total=sum(by_status.values()),
        by_status=by_status,
        by_category=dict(sorted(by_category.items())),
        by_outcome=dict(sorted(by_outcome.items())),
        by_channel=dict(sorted(by_channel.items())),
        overdue=overdue,
        no_human_acknowledgement=no_human_ack,
        on_legal_hold=on_hold,
        days_to_acknowledgement=to_ack,
        days_to_feedback=to_feedback,
    )


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
