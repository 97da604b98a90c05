"""What administrators do to accounts, categories and questions, audited. No Flask: the
admin pages and the ``sealbox`` CLI share it.

Administrators manage the instance; they hold no case key by virtue of the role. Taking a
role away takes its keys away too: a former caseworker keeps no case keys, a former
custodian no identity keys.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cases.accounts.enrolment import disable_caseworker
from cases.accounts.sessions import LoginThrottle, end_all_sessions
from cases.accounts.twofactor import reset_second_factor
from cases.casework.handover import held_only_by, tell_admins_if_unheld
from cases.models import (
    Case,
    Caseworker,
    Category,
    CategoryMember,
    HolderKind,
    KeyPurpose,
    Question,
    WrappedKey,
)
from cases.records.audit import record
from config import Settings

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
QUESTION_KINDS = ("text", "textarea", "choice")


class AdminRefused(Exception):
    """The change is not allowed; the message is fit to show."""


def _active_admins(db: Session) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(Caseworker)
            .where(Caseworker.active, Caseworker.is_admin)
        )
        or 0
    )


def _delete_keys(db: Session, caseworker_id: int, purposes: tuple[KeyPurpose, ...]) -> int:
    result = db.execute(
        delete(WrappedKey).where(
            WrappedKey.caseworker_id == caseworker_id,
            WrappedKey.holder_kind == HolderKind.CASEWORKER,
            WrappedKey.purpose.in_(purposes),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def set_roles(
    db: Session,
    account: Caseworker,
    *,
    caseworker: bool,
    custodian: bool,
    admin: bool,
    actor_id: int | None,
) -> int:
    """Change an account's roles; return how many case keys were deleted."""
    if account.is_admin and not admin and account.active and _active_admins(db) <= 1:
        raise AdminRefused("The last administrator cannot lose the administrator role.")
    removed = 0
    if account.is_caseworker and not caseworker:
        removed += _delete_keys(db, account.id, (KeyPurpose.THREAD, KeyPurpose.INTERNAL))
        db.execute(update(Case).where(Case.assignee_id == account.id).values(assignee_id=None))
        db.execute(delete(CategoryMember).where(CategoryMember.caseworker_id == account.id))
    if account.is_custodian and not custodian:
        removed += _delete_keys(db, account.id, (KeyPurpose.IDENTITY, KeyPurpose.REQUEST))
    account.is_caseworker = caseworker
    account.is_custodian = custodian
    account.is_admin = admin
    roles = [
        name
        for name, on in (("caseworker", caseworker), ("custodian", custodian), ("admin", admin))
        if on
    ]
    record(
        db,
        "caseworker.roles_changed",
        actor_id=actor_id,
        target_id=account.id,
        roles=roles,
        keys_removed=removed,
    )
    return removed


def set_profile(
    db: Session, account: Caseworker, *, display_name: str, team: str, actor_id: int | None
) -> None:
    """The names reporters and colleagues see (the username stays private)."""
    account.display_name = display_name.strip()[:200]
    account.team = team.strip()[:64]
    record(db, "caseworker.profile_changed", actor_id=actor_id, target_id=account.id)


def disable(
    db: Session, settings: Settings, account: Caseworker, *, actor_id: int | None
) -> int:
    """End the account's sessions and delete every case key it holds. Cases it alone held
    are then opened by the recovery key only: the administrators are told
    (cases.casework.handover)."""
    if not account.active:
        raise AdminRefused("This account is already disabled.")
    if actor_id is not None and account.id == actor_id:
        raise AdminRefused("You cannot disable your own account.")
    if account.is_admin and _active_admins(db) <= 1:
        raise AdminRefused("The last administrator cannot be disabled.")
    db.execute(update(Case).where(Case.assignee_id == account.id).values(assignee_id=None))
    db.execute(delete(CategoryMember).where(CategoryMember.caseworker_id == account.id))
    alone = held_only_by(db, account.id)
    removed = disable_caseworker(db, account, actor_id=actor_id)
    tell_admins_if_unheld(db, settings, alone)
    return removed


def reset_two_factor(db: Session, account: Caseworker, *, actor_id: int | None) -> None:
    """Lost phone and recovery codes: the next sign-in enrols a new authenticator."""
    reset_second_factor(db, account)
    end_all_sessions(db, account.id)
    record(db, "caseworker.second_factor_reset", actor_id=actor_id, target_id=account.id)


def unlock(db: Session, account: Caseworker, *, actor_id: int | None) -> None:
    LoginThrottle.unlock(account)
    record(db, "caseworker.unlocked", actor_id=actor_id, target_id=account.id)


def save_category(
    db: Session,
    category: Category | None,
    *,
    slug: str,
    name: str,
    description: str,
    position: int,
    active: bool,
    actor_id: int | None,
) -> Category:
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise AdminRefused("A category key uses lower-case letters, digits, '-' and '_'.")
    clash = db.scalar(select(Category.id).where(Category.slug == slug))
    if clash is not None and (category is None or clash != category.id):
        raise AdminRefused("Another category already uses this key.")
    if category is None:
        category = Category(slug=slug)
        db.add(category)
    category.slug = slug
    category.name = name.strip()
    category.description = description.strip()
    category.position = position
    category.active = active
    db.flush()
    record(
        db, "category.saved", actor_id=actor_id, category_id=category.id, slug=slug, active=active
    )
    return category


def set_category_members(
    db: Session, category: Category, member_ids: set[int], *, actor_id: int | None
) -> None:
    """Who new reports in this category are routed to (existing cases are unchanged)."""
    valid = set(
        db.scalars(
            select(Caseworker.id).where(
                Caseworker.id.in_(member_ids), Caseworker.active, Caseworker.is_caseworker
            )
        )
    )
    db.execute(delete(CategoryMember).where(CategoryMember.category_id == category.id))
    for caseworker_id in sorted(valid):
        db.add(CategoryMember(category_id=category.id, caseworker_id=caseworker_id))
    db.flush()
    record(
        db,
        "category.members_set",
        actor_id=actor_id,
        category_id=category.id,
        members=sorted(valid),
    )


def save_question(
    db: Session,
    question: Question | None,
    *,
    key: str,
    label: str,
    help_text: str,
    kind: str,
    choices: str,
    position: int,
    active: bool,
    actor_id: int | None,
) -> Question:
    key = key.strip().lower()
    if not SLUG.match(key):
        raise AdminRefused("A question key uses lower-case letters, digits, '-' and '_'.")
    if kind not in QUESTION_KINDS:
        raise AdminRefused("Unknown kind of question.")
    options = [line.strip() for line in choices.splitlines() if line.strip()]
    if kind == "choice" and len(options) < 2:
        raise AdminRefused("A choice question needs at least two choices, one per line.")
    clash = db.scalar(select(Question.id).where(Question.key == key))
    if clash is not None and (question is None or clash != question.id):
        raise AdminRefused("Another question already uses this key.")
    if question is None:
        question = Question(key=key)
        db.add(question)
    question.key = key
    question.label = label.strip()
    question.help_text = help_text.strip()
    question.kind = kind
    question.choices = "\n".join(options) if kind == "choice" else ""
    question.position = position
    question.active = active
    db.flush()
    record(db, "question.saved", actor_id=actor_id, question_id=question.id, key=key, active=active)
    return question
