"""Who holds a case's keys, and the rule that no one person can make a case disappear.

One holder alone could otherwise take every colleague's keys away, close the case and let
retention purge it. So:

* granting access is one holder's decision (it adds a reader; exclusions still hold);
* removing another holder is asked by one holder and applies only when a second person
  agrees: another holder, or the one being removed. The removed holder is told in the app
  (cases.casework.notices). Stepping away oneself (a conflict of interest) needs no one's agreement,
  but not as the last holder;
* a closure counts for retention only once a holder other than the one who closed it has
  reviewed it (``review_closure``); until then ``sealbox purge`` keeps the case
  (cases.casework.workflow.retention_expires_on).

Each step is audited in the caller's transaction. No Flask here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cases import bodies
from cases.bodies import Event
from cases.casework.access import CaseworkRefused, clean_text, has_access, write_as
from cases.casework.notices import REMOVED_FROM_CASE, notify
from cases.keyring import (
    ExcludedFromCase,
    Trust,
    UncertifiedKey,
    grant_access,
    holders,
    is_excluded,
    revoke_access,
)
from cases.models import (
    Case,
    CaseExclusion,
    Caseworker,
    HolderKind,
    HolderRemoval,
    KeyPurpose,
    MessageKind,
    Status,
    WrappedKey,
)
from cases.notifications.outbox import CASE_HANDED, CASE_REMOVED, enqueue
from cases.records.audit import record
from config import Settings


def grant(
    db: Session,
    settings: Settings,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    grantee_id: int,
    *,
    override_exclusion: bool = False,
    override_reason: str = "",
) -> None:
    grantee = db.get(Caseworker, grantee_id)
    if grantee is None or not grantee.active or not grantee.is_caseworker:
        raise CaseworkRefused("Choose an active caseworker.")
    if has_access(db, case.id, grantee.id):
        raise CaseworkRefused("This caseworker already has access.")
    excluded = is_excluded(db, case.id, grantee.id)
    if excluded and override_exclusion and not override_reason.strip():
        raise CaseworkRefused("Give the reason for overriding the exclusion.")
    try:
        grant_access(
            db, Trust.of(settings), case.id, actor.id, private_key, grantee,
            override_exclusion=override_exclusion,
        )
    except ExcludedFromCase as exc:
        raise CaseworkRefused(
            "This caseworker is excluded from the case (named by the reporter or conflicted)."
        ) from exc
    except UncertifiedKey as exc:
        raise CaseworkRefused(
            "This colleague's key cannot be verified: an administrator must check the account."
        ) from exc
    detail: dict[str, Any] = {"grantee_id": grantee.id}
    if excluded:
        body = bodies.note_event(Event.EXCLUSION_OVERRIDDEN, clean_text(override_reason))
        note = write_as(db, case, actor, private_key, MessageKind.NOTE, body)
        detail.update(exclusion_overridden=True, note_id=note.id)
    record(db, "case.access_granted", actor_id=actor.id, case_id=case.id, **detail)
    enqueue(db, [grantee.id], CASE_HANDED, settings)


# --- removing a holder: two people ---------------------------------------------------------


def request_removal(db: Session, case: Case, actor: Caseworker, target_id: int) -> HolderRemoval:
    if target_id == actor.id:
        raise CaseworkRefused("To step away from a case, declare a conflict of interest.")
    if not has_access(db, case.id, target_id):
        raise CaseworkRefused("This caseworker has no access.")
    if _pending_for(db, case.id, target_id) is not None:
        raise CaseworkRefused("Removing this caseworker is already asked for.")
    removal = HolderRemoval(case_id=case.id, target_id=target_id, requested_by_id=actor.id)
    db.add(removal)
    db.flush()
    record(db, "case.removal_requested", actor_id=actor.id, case_id=case.id, target_id=target_id)
    return removal


def pending_removals(db: Session, case_id: str) -> list[HolderRemoval]:
    return list(
        db.scalars(
            select(HolderRemoval).where(HolderRemoval.case_id == case_id).order_by(HolderRemoval.id)
        )
    )


def _pending_for(db: Session, case_id: str, target_id: int) -> HolderRemoval | None:
    return db.scalar(
        select(HolderRemoval).where(
            HolderRemoval.case_id == case_id, HolderRemoval.target_id == target_id
        )
    )


def _removal(db: Session, case: Case, removal_id: int) -> HolderRemoval:
    removal = db.get(HolderRemoval, removal_id)
    if removal is None or removal.case_id != case.id:
        raise CaseworkRefused("This request no longer exists.")
    return removal


def agree_to_removal(
    db: Session, settings: Settings, case: Case, actor: Caseworker, removal_id: int
) -> int:
    """The second person agrees: the target's keys to the case are deleted and the target
    is told (in the app, and by mail if they want). Returns how many keys were removed."""
    removal = _removal(db, case, removal_id)
    if actor.id == removal.requested_by_id:
        raise CaseworkRefused(
            "Another caseworker on the case, or the one to be removed, must agree to this."
        )
    target_id, requester_id = removal.target_id, removal.requested_by_id
    db.delete(removal)
    if not has_access(db, case.id, target_id):
        db.flush()
        raise CaseworkRefused("This caseworker has no access.")
    removed = revoke_access(db, case.id, target_id)
    if case.assignee_id == target_id:
        case.assignee_id = None
    db.flush()
    requester = db.get(Caseworker, requester_id)
    notify(
        db, target_id, REMOVED_FROM_CASE, case_id=case.id,
        requested_by=requester.name if requester else "?", agreed_by=actor.name,
    )
    enqueue(db, [target_id], CASE_REMOVED, settings)
    record(
        db, "case.access_revoked", actor_id=actor.id, case_id=case.id, target_id=target_id,
        requested_by=requester_id, keys_removed=removed,
    )
    return removed


def refuse_removal(db: Session, case: Case, actor: Caseworker, removal_id: int) -> None:
    """Any holder may refuse (the one who asked: withdraw); the keys stay."""
    removal = _removal(db, case, removal_id)
    withdrawn = actor.id == removal.requested_by_id
    target_id = removal.target_id
    db.delete(removal)
    db.flush()
    record(
        db, "case.removal_withdrawn" if withdrawn else "case.removal_refused",
        actor_id=actor.id, case_id=case.id, target_id=target_id,
    )


def declare_conflict(db: Session, case: Case, actor: Caseworker) -> int:
    """Step away: delete every key the actor holds to the case and exclude them from it."""
    if holders(db, case.id) - {actor.id} == set():
        raise CaseworkRefused(
            "You are the only caseworker with access: grant a colleague access first."
        )
    removed = revoke_access(db, case.id, actor.id)
    if db.get(CaseExclusion, {"case_id": case.id, "caseworker_id": actor.id}) is None:
        db.add(CaseExclusion(case_id=case.id, caseworker_id=actor.id, reason="conflict"))
    if case.assignee_id == actor.id:
        case.assignee_id = None
    pending = _pending_for(db, case.id, actor.id)
    if pending is not None:
        db.delete(pending)
    db.flush()
    record(db, "case.conflict_declared", actor_id=actor.id, case_id=case.id, keys_removed=removed)
    return removed


# --- closing: a second holder reviews ------------------------------------------------------


def awaits_closure_review(case: Case) -> bool:
    return case.status is Status.CLOSED and case.closure_reviewed_by_id is None


def review_closure(db: Session, case: Case, actor: Caseworker) -> None:
    """A holder other than the one who closed the case confirms the closure; from then on
    retention may purge the case when its period ends."""
    if not awaits_closure_review(case):
        raise CaseworkRefused("This case has no closure waiting for review.")
    if actor.id == case.closed_by_id:
        raise CaseworkRefused("Another caseworker on the case must review your closure.")
    case.closure_reviewed_by_id = actor.id
    record(db, "case.closure_reviewed", actor_id=actor.id, case_id=case.id)


def closures_to_review(db: Session, caseworker_id: int) -> list[str]:
    """Ids of the cases this caseworker holds whose closure, by someone else, waits for a
    review: what the inbox reminds them of."""
    held = select(WrappedKey.case_id).where(
        WrappedKey.caseworker_id == caseworker_id,
        WrappedKey.holder_kind == HolderKind.CASEWORKER,
        WrappedKey.purpose == KeyPurpose.THREAD,
    )
    return list(
        db.scalars(
            select(Case.id)
            .where(
                Case.id.in_(held),
                Case.status == Status.CLOSED,
                Case.closure_reviewed_by_id.is_(None),
                or_(Case.closed_by_id.is_(None), Case.closed_by_id != caseworker_id),
            )
            .order_by(Case.closed_on, Case.id)
        )
    )


def holder_accounts(db: Session, case_id: str) -> list[Caseworker]:
    ids = holders(db, case_id)
    if not ids:
        return []
    return list(
        db.scalars(select(Caseworker).where(Caseworker.id.in_(ids)).order_by(Caseworker.username))
    )


def exclusions(db: Session, case_id: str) -> dict[int, str]:
    return {
        row.caseworker_id: row.reason
        for row in db.scalars(select(CaseExclusion).where(CaseExclusion.case_id == case_id))
    }
