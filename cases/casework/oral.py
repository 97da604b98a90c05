"""Registering a report received by phone or in a meeting (EU 2019/1937 Art. 9(2), 18):
the minutes open a case through the same path as a web report."""

from __future__ import annotations

import datetime as dt

from cases import bodies
from cases.casework.access import CaseworkRefused, clean_text
from cases.casework.choices import (
    MEDIUMS,
)
from cases.models import (
    Caseworker,
    MessageKind,
)
from cases.records.audit import record
from cases.store import Store


def record_oral_report(
    store: Store,
    recorder: Caseworker,
    minutes: str,
    *,
    medium: str,
    held_on: dt.date,
    category_slug: str | None = None,
    identity: dict[str, str] | None = None,
) -> tuple[str, str]:
    """Register a report received by phone or in a meeting (EU 2019/1937 Art. 9(2), 18).

    The minutes are the case's first message (thread key, so the reporter can read, correct
    and agree them through the follow-up mailbox). Returns (case id, receipt): hand the
    receipt to the reporter once; it is not stored. Runs in its own transaction."""
    from cases.reporting.submission import Submission, new_submission

    if medium not in MEDIUMS:
        raise CaseworkRefused("Choose how the report was received.")
    text = clean_text(minutes)
    with new_submission(store) as draft:
        receipt = draft.finalize(
            Submission(
                report=bodies.minutes(text, medium=medium, held_on=held_on.isoformat()),
                category_slug=category_slug or None,
                identity=identity or None,
                channel="oral",
                kind=MessageKind.MINUTES,
            ),
            extra_holders=[recorder],
        )
        record(
            draft.session,
            "case.oral_report_recorded",
            actor_id=recorder.id,
            case_id=draft.case_id,
            medium=medium,
        )
        case_id = draft.case_id
    return case_id, receipt
