"""Organising a case without touching its content: links to other cases, assignment,
priority and labels (plaintext workflow metadata, audited)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cases.casework.access import CaseworkRefused, has_access
from cases.casework.choices import (
    LABEL_PATTERN,
)
from cases.models import (
    Case,
    CaseLabel,
    CaseLink,
    Caseworker,
)
from cases.records.audit import record


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
