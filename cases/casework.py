"""What caseworkers and identity custodians do to a case (ISO 37002: receive, assess,
address, conclude), each step checked, applied and audited in the caller's transaction.

Access is cryptographic: every function that reads or writes content takes the acting
caseworker's private key and unwraps the case key it needs; without a wrapped key row the
call fails with ``NoAccess`` whatever the interface let them ask for. Texts that
caseworkers write (notes, triage, risk, conclusions, reasons) are encrypted under the
case's internal key; the audit log only ever says *that* something happened.

No Flask here: the caseworker app and the CLI both call these functions.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import bodies
from cases.access import CaseworkRefused, clean_text, has_access
from cases.audit import record
from cases.bodies import ConclusionBody, Event, RiskBody, TriageBody
from cases.content import (
    INTERNAL_KINDS,
    AttachmentMeta,
    DecryptedMessage,
    add_message,
    list_attachments,
    read_messages,
)
from cases.identity import IdentityInfo, identity_info
from cases.keyring import (
    caseworker_key,
)
from cases.minutes import restart_agreement
from cases.models import (
    AuditEntry,
    Case,
    CaseLabel,
    CaseLink,
    Caseworker,
    KeyPurpose,
    MessageKind,
    Status,
    today,
)
from cases.store import Store
from cases.workflow import (
    TransitionRefused,
    acknowledge,
    change_status,
    record_feedback,
)

THREAD_KINDS = (
    MessageKind.REPORT,
    MessageKind.REPORTER_MESSAGE,
    MessageKind.REPLY,
    MessageKind.MINUTES,
)
PRIORITIES = (1, 2, 3)  # low, medium, high
COMPLETENESS = ("complete", "partial", "insufficient")
LEVELS = ("low", "medium", "high")
OUTCOMES = (
    "substantiated",
    "partly_substantiated",
    "not_substantiated",
    "referred",
    "outside_scope",
    "insufficient_information",
    "withdrawn",
)
PROTECTION = ("continue", "end", "not_needed")
MEDIUMS = ("phone", "meeting", "voice_message", "other")
LABEL_PATTERN = re.compile(r"^[\w][\w .\-]{0,39}$")


def _key(
    db: Session, case: Case, actor: Caseworker, private_key: bytes, purpose: KeyPurpose
) -> bytes:
    return caseworker_key(db, case.id, purpose, actor.id, private_key)


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFile:
    case: Case
    thread: list[DecryptedMessage]
    internal: list[DecryptedMessage]
    attachments: list[AttachmentMeta]
    identity: IdentityInfo


def read_case(db: Session, case: Case, actor: Caseworker, private_key: bytes) -> CaseFile:
    """Decrypt the report, thread, internal records and attachment list; audit the view."""
    thread_key = _key(db, case, actor, private_key, KeyPurpose.THREAD)
    internal_key = _key(db, case, actor, private_key, KeyPurpose.INTERNAL)
    keys = {KeyPurpose.THREAD: thread_key, KeyPurpose.INTERNAL: internal_key}
    thread = read_messages(db, case.id, keys, THREAD_KINDS)
    internal = read_messages(db, case.id, keys, sorted(INTERNAL_KINDS))
    attachments = list_attachments(db, case.id, thread_key)
    case.unread_by_caseworkers = False
    record(db, "case.viewed", actor_id=actor.id, case_id=case.id)
    return CaseFile(case, thread, internal, attachments, identity_info(db, case.id, actor.id))


def status_history(db: Session, case_id: str) -> list[AuditEntry]:
    return list(
        db.scalars(
            select(AuditEntry)
            .where(AuditEntry.case_id == case_id, AuditEntry.action == "case.status_changed")
            .order_by(AuditEntry.id)
        )
    )


def audit_trail(db: Session, case_id: str) -> list[AuditEntry]:
    return list(
        db.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id))
    )


def links_of(db: Session, case_id: str) -> list[str]:
    forward = db.scalars(select(CaseLink.other_case_id).where(CaseLink.case_id == case_id))
    backward = db.scalars(select(CaseLink.case_id).where(CaseLink.other_case_id == case_id))
    return sorted(set(forward) | set(backward))


# --- workflow steps ----------------------------------------------------------------------


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
    store: Store,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    message: str = "",
    on: dt.date | None = None,
) -> None:
    """A person acknowledges receipt; optionally with a message to the reporter."""
    on = on or today()
    if case.status is not Status.RECEIVED:
        raise CaseworkRefused("This case has already been acknowledged.")
    text = clean_text(message, required=False)
    old = case.status
    acknowledge(case, on, store.policy(db).deadlines)
    if text:
        key = _key(db, case, actor, private_key, KeyPurpose.THREAD)
        add_message(
            db, case.id, MessageKind.REPLY, key, bodies.message(text), author_id=actor.id, on=on
        )
    record(
        db,
        "case.status_changed",
        actor_id=actor.id,
        case_id=case.id,
        with_message=bool(text),
        **{"from": old.value, "to": Status.ACKNOWLEDGED.value},
    )


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
    key = _key(db, case, actor, private_key, KeyPurpose.INTERNAL)
    message = add_message(db, case.id, MessageKind.TRIAGE, key, body, author_id=actor.id, on=on)
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
    key = _key(db, case, actor, private_key, KeyPurpose.INTERNAL)
    message = add_message(db, case.id, MessageKind.RISK, key, body, author_id=actor.id, on=on)
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
    on: dt.date | None = None,
) -> None:
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
    key = _key(db, case, actor, private_key, KeyPurpose.INTERNAL)
    message = add_message(db, case.id, MessageKind.CONCLUSION, key, body, author_id=actor.id, on=on)
    case.outcome = outcome
    _status(db, case, Status.CONCLUDED, actor, on, outcome=outcome, message_id=message.id)


def close_case(db: Session, case: Case, actor: Caseworker, on: dt.date | None = None) -> None:
    """Close a concluded case. Retention counts the closure only once another holder has
    reviewed it (cases.holders.review_closure)."""
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
    key = _key(db, case, actor, private_key, KeyPurpose.INTERNAL)
    note = add_message(
        db,
        case.id,
        MessageKind.NOTE,
        key,
        bodies.note_event(Event.REOPENED, clean_text(reason)),
        author_id=actor.id,
        on=on,
    )
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


# --- organisation of the case ------------------------------------------------------------


def link_cases(db: Session, case: Case, other_id: str, actor: Caseworker) -> None:
    other_id = other_id.strip().lower()
    if other_id == case.id:
        raise CaseworkRefused("A case cannot be linked to itself.")
    # Only cases the caseworker can open may be linked: no probing for other case ids.
    if db.get(Case, other_id) is None or not has_access(db, other_id, actor.id):
        raise CaseworkRefused("No case with that reference that you have access to.")
    first, second = sorted((case.id, other_id))
    if db.get(CaseLink, {"case_id": first, "other_case_id": second}) is not None:
        raise CaseworkRefused("These cases are already linked.")
    db.add(CaseLink(case_id=first, other_case_id=second))
    db.flush()
    record(db, "case.linked", actor_id=actor.id, case_id=case.id, other_case_id=other_id)
    record(db, "case.linked", actor_id=actor.id, case_id=other_id, other_case_id=case.id)


def unlink_cases(db: Session, case: Case, other_id: str, actor: Caseworker) -> None:
    first, second = sorted((case.id, other_id))
    link = db.get(CaseLink, {"case_id": first, "other_case_id": second})
    if link is None:
        raise CaseworkRefused("These cases are not linked.")
    db.delete(link)
    record(db, "case.unlinked", actor_id=actor.id, case_id=case.id, other_case_id=other_id)


def assign(db: Session, case: Case, actor: Caseworker, assignee_id: int | None) -> None:
    if assignee_id is not None:
        assignee = db.get(Caseworker, assignee_id)
        if assignee is None or not assignee.active or not assignee.is_caseworker:
            raise CaseworkRefused("Choose an active caseworker.")
        if not has_access(db, case.id, assignee_id):
            raise CaseworkRefused("Grant this caseworker access to the case first.")
    case.assignee_id = assignee_id
    record(db, "case.assigned", actor_id=actor.id, case_id=case.id, assignee_id=assignee_id)


def set_priority(db: Session, case: Case, actor: Caseworker, priority: int) -> None:
    if priority not in (0, *PRIORITIES):
        raise CaseworkRefused("Unknown priority.")
    case.priority = priority
    record(db, "case.priority_set", actor_id=actor.id, case_id=case.id, priority=priority)


def normalize_label(label: str) -> str:
    label = " ".join(label.strip().lower().split())
    if not LABEL_PATTERN.match(label):
        raise CaseworkRefused("A label has 1 to 40 letters, digits, spaces, '.', '-' or '_'.")
    return label


def add_label(db: Session, case: Case, actor: Caseworker, label: str) -> None:
    label = normalize_label(label)
    if db.get(CaseLabel, {"case_id": case.id, "label": label}) is None:
        db.add(CaseLabel(case_id=case.id, label=label))
        db.flush()
        record(db, "case.label_added", actor_id=actor.id, case_id=case.id, label=label)


def remove_label(db: Session, case: Case, actor: Caseworker, label: str) -> None:
    row = db.get(CaseLabel, {"case_id": case.id, "label": label})
    if row is not None:
        db.delete(row)
        db.flush()
        record(db, "case.label_removed", actor_id=actor.id, case_id=case.id, label=label)


# --- writing -----------------------------------------------------------------------------


def add_note(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    text: str,
    on: dt.date | None = None,
) -> str:
    """An internal note under the internal key: the reporter never holds that key."""
    key = _key(db, case, actor, private_key, KeyPurpose.INTERNAL)
    note = add_message(
        db,
        case.id,
        MessageKind.NOTE,
        key,
        bodies.note(clean_text(text)),
        author_id=actor.id,
        on=on,
    )
    record(db, "case.note_added", actor_id=actor.id, case_id=case.id, message_id=note.id)
    return note.id


def reply(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    text: str,
    *,
    gives_feedback: bool = False,
    on: dt.date | None = None,
) -> str:
    """A message to the reporter under the thread key (they read it with their receipt)."""
    on = on or today()
    if gives_feedback and case.acknowledged_on is None:
        raise CaseworkRefused("Acknowledge the report before giving feedback.")
    key = _key(db, case, actor, private_key, KeyPurpose.THREAD)
    body = bodies.message(clean_text(text), feedback=gives_feedback)
    message = add_message(db, case.id, MessageKind.REPLY, key, body, author_id=actor.id, on=on)
    if gives_feedback:
        record_feedback(case, on)
    record(
        db,
        "case.replied",
        actor_id=actor.id,
        case_id=case.id,
        message_id=message.id,
        feedback=gives_feedback,
    )
    return message.id


def revise_minutes(
    db: Session,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    text: str,
    on: dt.date | None = None,
) -> str:
    """New minutes of an oral report after the reporter's corrections: agreement restarts."""
    if case.channel != "oral":
        raise CaseworkRefused("Only oral reports have minutes.")
    key = _key(db, case, actor, private_key, KeyPurpose.THREAD)
    message = add_message(
        db,
        case.id,
        MessageKind.MINUTES,
        key,
        bodies.revised_minutes(clean_text(text)),
        author_id=actor.id,
        on=on,
    )
    restart_agreement(case)
    record(db, "case.minutes_revised", actor_id=actor.id, case_id=case.id, message_id=message.id)
    return message.id


# --- oral reports ------------------------------------------------------------------------


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
    from cases.reports import Submission, new_submission

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
