"""The workflow steps of ISO 37002 on one case: acknowledge, triage, assess the risk of
retaliation, investigate, conclude, close, reopen, and the legal hold; each checked,
applied and audited in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from cases import bodies
from cases.bodies import ConclusionBody, Event, RiskBody, TriageBody
from cases.casework.access import CaseworkRefused, clean_text, write_as
from cases.casework.choices import (
    COMPLETENESS,
    LEVELS,
    OUTCOMES,
    PRIORITIES,
    PROTECTION,
)
from cases.casework.workflow import (
    Deadlines,
    TransitionRefused,
    acknowledge,
    change_status,
    record_feedback,
)
from cases.models import (
    Case,
    Caseworker,
    MessageKind,
    Status,
    today,
)
from cases.records.audit import record


def _status(
    db: Session, case: Case, new: Status, actor: Caseworker, on: dt.date, **detail: Any
) -> None:
    old = case.status
    try:
        change_status(case, new, on)
    except TransitionRefused as exc:
        raise CaseworkRefused(str(exc)) from exc
    record(
        db,
        "case.status_changed",
        actor_id=actor.id,
        case_id=case.id,
        **{"from": old.value, "to": new.value},
        **detail,
    )


def acknowledge_case(
    db: Session,
    deadlines: Deadlines,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    message: str = "",
    on: dt.date | None = None,
) -> str | None:
    """A person acknowledges receipt; optionally with a message to the reporter, whose id
    is returned."""
    on = on or today()
    if case.status is not Status.RECEIVED:
        raise CaseworkRefused("This case has already been acknowledged.")
    text = clean_text(message, required=False)
    old = case.status
    acknowledge(case, on, deadlines)
    reply = None
    if text:
        reply = write_as(db, case, actor, private_key, MessageKind.REPLY, bodies.message(text), on)
    record(
        db,
        "case.status_changed",
        actor_id=actor.id,
        case_id=case.id,
        with_message=bool(text),
        **{"from": old.value, "to": Status.ACKNOWLEDGED.value},
    )
    return reply.id if reply is not None else None


def record_triage(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    *,
    scope: str,
    priority: int,
    completeness: str,
    notes: str = "",
    on: dt.date | None = None,
) -> None:
    on = on or today()
    if priority not in PRIORITIES or completeness not in COMPLETENESS:
        raise CaseworkRefused("Choose a priority and a completeness.")
    if case.status is Status.RECEIVED:
        raise CaseworkRefused("Acknowledge the report before triage.")
    body: TriageBody = {
        "scope": clean_text(scope),
        "priority": priority,
        "completeness": completeness,
        "notes": clean_text(notes, required=False),
    }
    message = write_as(db, case, actor, private_key, MessageKind.TRIAGE, body, on)
    case.triaged_on = on
    case.priority = priority
    record(db, "case.triaged", actor_id=actor.id, case_id=case.id, message_id=message.id)
    if case.status is Status.ACKNOWLEDGED:
        _status(db, case, Status.TRIAGED, actor, on)


def record_risk(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    *,
    likelihood: str,
    impact: str,
    measures: str,
    review_on: dt.date | None,
    on: dt.date | None = None,
) -> None:
    """Retaliation-risk assessment (ISO 37002 8.4): likelihood, impact, measures, review."""
    on = on or today()
    if likelihood not in LEVELS or impact not in LEVELS:
        raise CaseworkRefused("Choose a likelihood and an impact.")
    if review_on is not None and review_on < on:
        raise CaseworkRefused("The review date cannot be in the past.")
    body: RiskBody = {
        "likelihood": likelihood,
        "impact": impact,
        "measures": clean_text(measures, required=False),
        "review_on": review_on.isoformat() if review_on else None,
    }
    message = write_as(db, case, actor, private_key, MessageKind.RISK, body, on)
    case.risk_assessed_on = on
    case.risk_review_on = review_on
    record(db, "case.risk_assessed", actor_id=actor.id, case_id=case.id, message_id=message.id)


def start_investigation(
    db: Session, case: Case, actor: Caseworker, on: dt.date | None = None
) -> None:
    if case.triaged_on is None:
        raise CaseworkRefused("Record the triage before investigating.")
    _status(db, case, Status.INVESTIGATING, actor, on or today())


def conclude(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    *,
    outcome: str,
    protection: str,
    protection_measures: str = "",
    summary: str,
    feedback: str,
    on: dt.date | None = None,
) -> None:
    """Record the outcome (internal) and tell the reporter in ``feedback``, which counts as
    feedback on the follow-up (EU 2019/1937 Art. 9(1)(f)): a conclusion the reporter is
    not told of would leave their page saying "read our latest message" with none there."""
    on = on or today()
    if outcome not in OUTCOMES or protection not in PROTECTION:
        raise CaseworkRefused("Choose an outcome and a decision on continued protection.")
    if case.status not in (Status.TRIAGED, Status.INVESTIGATING):
        raise CaseworkRefused("Only a triaged case or one under investigation can be concluded.")
    body: ConclusionBody = {
        "outcome": outcome,
        "continued_protection": protection,
        "protection_measures": clean_text(protection_measures, required=False),
        "summary": clean_text(summary),
    }
    told = bodies.message(clean_text(feedback), feedback=True)
    message = write_as(db, case, actor, private_key, MessageKind.CONCLUSION, body, on)
    reply = write_as(db, case, actor, private_key, MessageKind.REPLY, told, on)
    record_feedback(case, on)
    case.outcome = outcome
    _status(
        db, case, Status.CONCLUDED, actor, on,
        outcome=outcome, message_id=message.id, feedback_id=reply.id,
    )


def close_case(db: Session, case: Case, actor: Caseworker, on: dt.date | None = None) -> None:
    """Close a concluded case. Retention counts the closure only once another holder has
    reviewed it (cases.casework.holders.review_closure)."""
    if case.status is not Status.CONCLUDED:
        raise CaseworkRefused("Conclude the case before closing it.")
    _status(db, case, Status.CLOSED, actor, on or today())
    case.closed_by_id, case.closure_reviewed_by_id = actor.id, None


def reopen(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    reason: str,
    on: dt.date | None = None,
) -> None:
    on = on or today()
    if case.status not in (Status.CONCLUDED, Status.CLOSED):
        raise CaseworkRefused("Only a concluded or closed case can be reopened.")
    body = bodies.note_event(Event.REOPENED, clean_text(reason))
    note = write_as(db, case, actor, private_key, MessageKind.NOTE, body, on)
    _status(db, case, Status.INVESTIGATING, actor, on, reopened=True, note_id=note.id)
    case.closed_by_id = case.closure_reviewed_by_id = None


def set_legal_hold(db: Session, case: Case, actor: Caseworker, reason: str) -> None:
    """Suspend retention purge. The reason is workflow metadata (administrators see it)."""
    reason = clean_text(reason)
    if len(reason) > 500:
        raise CaseworkRefused("Keep the reason under 500 characters.")
    case.legal_hold_reason = reason
    record(db, "case.legal_hold_set", actor_id=actor.id, case_id=case.id)


def release_legal_hold(db: Session, case: Case, actor: Caseworker) -> None:
    if not case.legal_hold_reason:
        raise CaseworkRefused("This case is not on legal hold.")
    case.legal_hold_reason = None
    record(db, "case.legal_hold_released", actor_id=actor.id, case_id=case.id)
