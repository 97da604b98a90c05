"""Registering a report received by phone or in a meeting (EU 2019/1937 Art. 9(2), 18):
the minutes open a case through the same path as a web report (``open_case``), in the
caller's transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from cases import bodies
from cases.casework.access import CaseworkRefused, clean_text
from cases.casework.choices import MEDIUMS
from cases.content import add_identity_record
from cases.keyring import Trust
from cases.models import Caseworker, MessageKind, new_id, today
from cases.records.audit import record
from cases.reporting.claim import new_reporter_receipt
from cases.reporting.submission import (
    CaseRow,
    Opening,
    active_category,
    custodians,
    open_case,
    routed_caseworkers,
)
from cases.store import Policy
from config import Settings
from crypto import new_case_keys


def record_oral_report(
    session: Session,
    settings: Settings,
    policy: Policy,
    recorder: Caseworker,
    minutes: str,
    *,
    medium: str,
    held_on: dt.date,
    category_slug: str | None = None,
    identity: dict[str, str] | None = None,
    on: dt.date | None = None,
) -> tuple[str, str]:
    """Open the oral case: the minutes are its first message (thread key, so the reporter
    can read, correct and agree them through the follow-up mailbox), the recorder holds it
    beside the category's caseworkers. Returns (case id, receipt): hand the receipt to the
    reporter once, after the caller's commit; it is not stored.

    The receipt's Argon2id runs inside the caller's transaction: on SQLite that holds the
    write lock for it (a fraction of a second, for a rare caseworker action)."""
    if medium not in MEDIUMS:
        raise CaseworkRefused("Choose how the report was received.")
    text = clean_text(minutes)
    on = on or today()
    category = active_category(session, category_slug)
    receipt, reporter = new_reporter_receipt(settings)
    recipients = routed_caseworkers(session, category.id if category else None, frozenset())
    if recorder.id not in {r.id for r in recipients}:
        recipients.append(recorder)
    opening = Opening(
        CaseRow(
            case_id=new_id(),
            lookup_hash=reporter.lookup_hash,
            reporter_public_key=reporter.public_key,
            category_id=category.id if category else None,
            channel="oral",
        ),
        keys=new_case_keys(),
        kind=MessageKind.MINUTES,
        body=bodies.minutes(text, medium=medium, held_on=held_on.isoformat()),
    )
    trust = Trust.of(settings)
    case, _ = open_case(session, opening, recipients, policy, trust, on)
    if identity:
        add_identity_record(session, case.id, identity, custodians(session, frozenset()), trust)
    record(
        session, "case.oral_report_recorded", actor_id=recorder.id, case_id=case.id, medium=medium
    )
    session.flush()
    return case.id, receipt
