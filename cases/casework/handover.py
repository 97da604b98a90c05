"""Hand-overs: a caseworker who leaves, or goes on long leave, gives every case they hold
to a successor in one step, and no case is left for the recovery key alone without the
administrators being told.

A hand-over is a grant of each case (``cases.keyring.grant_access``: the thread and internal
keys re-wrapped from the holder's own copy, exclusions kept), audited per case. The
successor is told once. Cases that only one account holds are what an administrator sees
before disabling it (``held_only_by``); disabling it anyway tells every administrator
(``tell_admins_if_unheld``). No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cases.casework.access import CaseworkRefused
from cases.keyring import ExcludedFromCase, Trust, UncertifiedKey, grant_access, holders
from cases.models import Case, Caseworker, HolderKind, KeyPurpose, WrappedKey
from cases.notifications.outbox import CASE_HANDED, CASES_UNHELD, alert_admins, enqueue
from cases.records.audit import record
from config import Settings


def _held_by(caseworker_id: int) -> Select[str]:
    return select(WrappedKey.case_id).where(
        WrappedKey.caseworker_id == caseworker_id,
        WrappedKey.purpose == KeyPurpose.THREAD,
        WrappedKey.holder_kind == HolderKind.CASEWORKER,
    )


def cases_held(db: Session, caseworker_id: int) -> list[str]:
    return list(db.scalars(_held_by(caseworker_id).order_by(WrappedKey.case_id)))


def held_only_by(db: Session, caseworker_id: int) -> list[str]:
    """The cases no other account holds: disabling this one leaves them to the recovery
    key alone."""
    others = select(WrappedKey.case_id).where(
        WrappedKey.caseworker_id != caseworker_id,
        WrappedKey.purpose == KeyPurpose.THREAD,
        WrappedKey.holder_kind == HolderKind.CASEWORKER,
    )
    return sorted(db.scalars(_held_by(caseworker_id).except_(others)))


def unheld_cases(db: Session) -> list[str]:
    """Cases no account holds at all (only the recovery key opens them)."""
    held = select(WrappedKey.case_id).where(
        WrappedKey.purpose == KeyPurpose.THREAD, WrappedKey.holder_kind == HolderKind.CASEWORKER
    )
    return list(db.scalars(select(Case.id).where(Case.id.not_in(held)).order_by(Case.id)))


def successors(db: Session, actor: Caseworker) -> list[Caseworker]:
    """Who the actor may hand cases to: other active caseworkers with a key."""
    return list(db.scalars(
        select(Caseworker)
        .where(Caseworker.active, Caseworker.is_caseworker, Caseworker.id != actor.id,
               Caseworker.public_key.is_not(None))
        .order_by(Caseworker.username)
    ))


@dataclass
class HandedOver:
    granted: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)


def hand_over(
    db: Session, settings: Settings, actor: Caseworker, private_key: bytes, successor_id: int
) -> HandedOver:
    """Grant every case the actor holds to the successor (audited as ``case.handed_over``);
    cases the successor is excluded from stay, and are listed."""
    successor = db.get(Caseworker, successor_id)
    if successor is None or successor not in successors(db, actor):
        raise CaseworkRefused("Choose an active caseworker.")
    trust = Trust.of(settings)
    try:
        trust.public_key(successor)
    except UncertifiedKey as exc:
        raise CaseworkRefused(
            "This colleague's key cannot be verified: an administrator must check the account."
        ) from exc
    done = HandedOver()
    for case_id in cases_held(db, actor.id):
        if successor.id in holders(db, case_id):
            done.already.append(case_id)
            continue
        try:
            grant_access(db, trust, case_id, actor.id, private_key, successor)
        except ExcludedFromCase:
            done.excluded.append(case_id)
            continue
        record(db, "case.handed_over", actor_id=actor.id, case_id=case_id,
               successor_id=successor.id)
        done.granted.append(case_id)
    if done.granted:
        enqueue(db, [successor.id], CASE_HANDED, settings)
    return done


def tell_admins_if_unheld(db: Session, settings: Settings, case_ids: list[str]) -> list[str]:
    """Of these cases, the ones nobody holds any more; the administrators are told of them
    (by mail, content-free) and the audit log keeps how many."""
    left = [case_id for case_id in case_ids if not holders(db, case_id)]
    if left:
        record(db, "cases.left_unheld", actor_id=None, count=len(left))
        alert_admins(db, CASES_UNHELD, settings)
    return left
