"""Changes to accounts and routing that need a second administrator (separation of duties).

One administrator alone could otherwise read case content: give themselves the caseworker
and custodian roles, route a category to themselves, or create or reset an account they
then sign in as. So each of these is a *request* that applies only when another
administrator approves it:

* ``create``: a new account (its roles included); the approver is shown the enrolment
  code, so the one who asked cannot enrol the account themselves;
* ``roles``: any change of an account's roles (removals delete keys: no one alone);
* ``members``: any change of who a category's reports are routed to;
* ``reset_2fa``: forget an account's authenticator (it enrols a new one at sign-in);
* ``reset_passphrase``: a lost passphrase; the key pair goes and the approver is shown a
  new enrolment code.

The requester can withdraw a request; nobody approves their own. The ``sealbox approvals``
command (the server's operator, who could change the database anyway) can decide too;
its decisions are audited like the others. Everything a change does to an account is
shown to its owner on their account page and at their next sign-in (``account_events``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.accounts import administration as adm
from cases.accounts.enrolment import create_account, reset_credentials
from cases.models import AdminChange, AuditEntry, Caseworker, Category, utcnow
from cases.records.audit import record
from config import Settings


class Kind(StrEnum):
    CREATE = "create"
    ROLES = "roles"
    MEMBERS = "members"
    RESET_2FA = "reset_2fa"
    RESET_PASSPHRASE = "reset_passphrase"  # noqa: S105 (a kind of change, not a secret)


class ApprovalRefused(adm.AdminRefused):
    """The request cannot be made or decided; the message is fit to show."""


@dataclass(frozen=True)
class Decision:
    change: AdminChange
    enrolment_code: str | None = None  # for the approver to hand over, shown once
    account: Caseworker | None = None


def request(
    db: Session,
    kind: Kind,
    *,
    actor_id: int | None,
    target: Caseworker | None = None,
    category: Category | None = None,
    **payload: Any,
) -> AdminChange:
    """Ask for a change; it waits for a second administrator."""
    if target is not None and kind is not Kind.CREATE and not target.active:
        raise ApprovalRefused("This account is disabled.")
    change = AdminChange(
        kind=kind.value,
        target_id=target.id if target is not None else None,
        category_id=category.id if category is not None else None,
        payload=json.dumps(payload, sort_keys=True),
        requested_by=actor_id,
    )
    db.add(change)
    db.flush()
    record(
        db, "admin.change_requested", actor_id=actor_id, target_id=change.target_id,
        change_id=change.id, kind=kind.value, **_audited(kind, payload),
    )
    return change


def _audited(kind: Kind, payload: dict[str, Any]) -> dict[str, Any]:
    """What of a request the audit log keeps: roles and members, never a name typed in."""
    keep = {"roles", "members", "username"} if kind is Kind.CREATE else {"roles", "members"}
    return {k: v for k, v in payload.items() if k in keep}


def pending(db: Session) -> list[AdminChange]:
    return list(
        db.scalars(
            select(AdminChange).where(AdminChange.state == "pending").order_by(AdminChange.id)
        )
    )


def payload_of(change: AdminChange) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(change.payload)
    return data


def approve(
    db: Session, settings: Settings, change: AdminChange, *, approver_id: int | None
) -> Decision:
    """A second administrator's approval: the change applies now, in this transaction."""
    _decidable(db, change, approver_id)
    decision = _apply(db, settings, change, approver_id)
    change.state, change.decided_by, change.decided_at = "applied", approver_id, utcnow()
    record(
        db, "admin.change_approved", actor_id=approver_id, target_id=decision.change.target_id,
        change_id=change.id, kind=change.kind, requested_by=change.requested_by,
    )
    return decision


def deny(db: Session, change: AdminChange, *, actor_id: int | None) -> None:
    """Refuse a request (another administrator), or withdraw it (the one who asked)."""
    if change.state != "pending":
        raise ApprovalRefused("This request has already been decided.")
    change.state = "withdrawn" if actor_id == change.requested_by else "denied"
    change.decided_by, change.decided_at = actor_id, utcnow()
    record(
        db, f"admin.change_{change.state}", actor_id=actor_id, target_id=change.target_id,
        change_id=change.id, kind=change.kind,
    )


def _decidable(db: Session, change: AdminChange, approver_id: int | None) -> None:
    if change.state != "pending":
        raise ApprovalRefused("This request has already been decided.")
    if approver_id is not None and approver_id == change.requested_by:
        raise ApprovalRefused("A second administrator must approve this request.")
    if approver_id is not None:
        approver = db.get(Caseworker, approver_id)
        if approver is None or not approver.active or not approver.is_admin:
            raise ApprovalRefused("Only an administrator approves requests.")


def _apply(
    db: Session, settings: Settings, change: AdminChange, actor_id: int | None
) -> Decision:
    data = payload_of(change)
    kind = Kind(change.kind)
    if kind is Kind.CREATE:
        roles = set(data.get("roles", []))
        account, code = create_account(
            db, settings, str(data["username"]),
            display_name=str(data.get("display_name", "")), team=str(data.get("team", "")),
            caseworker="caseworker" in roles, custodian="custodian" in roles,
            admin="admin" in roles, language=str(data.get("language", "en")),
            actor_id=actor_id,
        )
        change.target_id = account.id
        return Decision(change, code, account)
    target = db.get(Caseworker, change.target_id) if change.target_id is not None else None
    if kind is Kind.MEMBERS:
        category = db.get(Category, change.category_id) if change.category_id else None
        if category is None:
            raise ApprovalRefused("This category no longer exists.")
        adm.set_category_members(db, category, set(data.get("members", [])), actor_id=actor_id)
        return Decision(change)
    if target is None or not target.active:
        raise ApprovalRefused("This account no longer exists or is disabled.")
    if kind is Kind.ROLES:
        roles = set(data.get("roles", []))
        adm.set_roles(
            db, target, caseworker="caseworker" in roles, custodian="custodian" in roles,
            admin="admin" in roles, actor_id=actor_id,
        )
        return Decision(change, account=target)
    if kind is Kind.RESET_2FA:
        adm.reset_two_factor(db, target, actor_id=actor_id)
        return Decision(change, account=target)
    return Decision(change, reset_credentials(db, settings, target, actor_id=actor_id), target)


# What an account's owner is shown: every change made to their account by someone else.
ACCOUNT_EVENTS = (
    "caseworker.created",
    "caseworker.roles_changed",
    "caseworker.second_factor_reset",
    "caseworker.credentials_reset",
    "caseworker.profile_changed",
    "caseworker.unlocked",
    "caseworker.key_certified",
    "admin.change_requested",
    "category.members_set",
)


def account_events(db: Session, account_id: int, since_id: int = 0) -> list[AuditEntry]:
    """Changes others made to this account (its owner sees them), newest first."""
    rows = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(ACCOUNT_EVENTS), AuditEntry.id > since_id)
        .order_by(AuditEntry.id.desc())
        .limit(500)
    )
    return [e for e in rows if e.actor_id != account_id and _concerns(e, account_id)]


def _concerns(entry: AuditEntry, account_id: int) -> bool:
    detail = json.loads(entry.detail)
    if detail.get("target_id") == account_id:
        return True
    return entry.action == "category.members_set" and account_id in detail.get("members", [])
