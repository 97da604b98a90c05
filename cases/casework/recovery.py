"""The organisation recovery key at work (``sealbox recovery``): check that it opens every
case, give cases back to a caseworker by re-wrapping their keys, export one case, and
replace the key with a new one.

The key is typed from paper by the operator and held in memory only for the command. Every
use is audited (actor ``None``: the server's operator) and tells the administrators by
mail, so the recovery key is never used quietly. Exclusions still hold: a caseworker the
reporter named, or who declared a conflict, is not given the case. No Flask here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.casework.export import ExportKeys, export_case
from cases.keyring import (
    Trust,
    UncertifiedKey,
    holders,
    is_excluded,
    key_context,
    recovery_key,
    wrap_to_caseworker,
)
from cases.models import Case, Caseworker, HolderKind, KeyPurpose, WrappedKey
from cases.notifications.outbox import RECOVERY_USED, alert_admins
from cases.records.audit import record
from cases.store import Store
from config import Settings
from crypto import DecryptionError, open_with, parse_recovery_key, public_key_of, seal_for

# The keys a caseworker needs to work a case; identity keys go to custodians only.
CASE_PURPOSES = (KeyPurpose.THREAD, KeyPurpose.INTERNAL)


class RecoveryRefused(Exception):
    """The recovery key, the account or the case does not allow this."""


def unlock(settings: Settings, text: str) -> bytes:
    """The private key typed from paper, checked against this instance's public half."""
    try:
        private_key = parse_recovery_key(text)
    except ValueError as exc:
        raise RecoveryRefused(f"{exc}.") from exc
    if public_key_of(private_key) != settings.recovery_public_key:
        raise RecoveryRefused(
            "This is a well-formed recovery key, but not this instance's: check that you "
            "have the right paper (or that the key was not rotated since)."
        )
    return private_key


def _recovery_rows(db: Session) -> Iterator[WrappedKey]:
    yield from db.scalars(
        select(WrappedKey)
        .where(WrappedKey.holder_kind == HolderKind.RECOVERY)
        .order_by(WrappedKey.case_id, WrappedKey.purpose, WrappedKey.record_id)
        .execution_options(yield_per=500)
    )


def _open_row(private_key: bytes, row: WrappedKey) -> bytes:
    return open_with(private_key, row.wrapped, key_context(row.case_id, row.purpose, row.record_id))


def _rewrap(row: WrappedKey, private_key: bytes, public_key: bytes) -> None:
    """The same secret, under the same context, sealed to another recovery key."""
    context = key_context(row.case_id, row.purpose, row.record_id)
    row.wrapped = seal_for(public_key, open_with(private_key, row.wrapped, context), context)


@dataclass
class Checked:
    """What ``check`` found: cases whose every recovery copy opens, and those that do not."""

    cases: int = 0
    keys: int = 0
    failed: list[str] = field(default_factory=list)  # "case id: purpose record"
    without_copy: list[str] = field(default_factory=list)  # cases with no recovery copy


def check(db: Session, private_key: bytes) -> Checked:
    """Open every recovery copy of every case key (in memory, nothing written)."""
    result = Checked()
    seen: set[str] = set()
    for row in _recovery_rows(db):
        seen.add(row.case_id)
        try:
            _open_row(private_key, row)
            result.keys += 1
        except DecryptionError:
            result.failed.append(f"{row.case_id}: {row.purpose.value} {row.record_id}".strip())
    every_case = set(db.scalars(select(Case.id)))
    result.cases = len(every_case)
    result.without_copy = sorted(every_case - seen)
    return result


@dataclass
class Granted:
    granted: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)


def _grantee(db: Session, trust: Trust, username: str, *, identity: bool) -> Caseworker:
    grantee = db.scalar(select(Caseworker).where(Caseworker.username == username.strip().lower()))
    if grantee is None or not grantee.active:
        raise RecoveryRefused(f"No active account {username!r}.")
    if not grantee.is_caseworker:
        raise RecoveryRefused(f"{grantee.username} does not have the caseworker role.")
    if identity and not grantee.is_custodian:
        raise RecoveryRefused(
            f"{grantee.username} is not an identity custodian: identity records go to "
            "custodians only."
        )
    try:
        trust.public_key(grantee)
    except UncertifiedKey as exc:
        raise RecoveryRefused(
            f"{grantee.username} has no certified key yet: they must finish their first "
            "sign-in (enrolment) before cases can be given to them."
        ) from exc
    return grantee


def grant(
    db: Session,
    settings: Settings,
    private_key: bytes,
    username: str,
    case_ids: Iterable[str] | None,
    *,
    identity: bool = False,
) -> Granted:
    """Re-wrap the cases' thread and internal keys (and, with ``identity``, their identity
    record keys) from the recovery copies to ``username``. ``case_ids`` None: every case."""
    trust = Trust.of(settings)
    grantee = _grantee(db, trust, username, identity=identity)
    wanted = sorted(set(case_ids)) if case_ids is not None else list(
        db.scalars(select(Case.id).order_by(Case.id))
    )
    result = Granted()
    for case_id in wanted:
        if db.get(Case, case_id) is None:
            raise RecoveryRefused(f"No case {case_id!r}.")
        if is_excluded(db, case_id, grantee.id):
            result.excluded.append(case_id)
            continue
        added = _grant_case(db, trust, private_key, case_id, grantee, identity=identity)
        (result.granted if added else result.already).append(case_id)
        if added:
            record(
                db, "recovery.access_granted", actor_id=None, case_id=case_id,
                grantee_id=grantee.id, keys_wrapped=added,
            )
    if result.granted:
        alert_admins(db, RECOVERY_USED, settings)
    return result


def _grant_case(
    db: Session, trust: Trust, private_key: bytes, case_id: str, grantee: Caseworker,
    *, identity: bool,
) -> int:
    """How many of the case's keys were newly wrapped to the grantee."""
    added = 0
    for purpose in CASE_PURPOSES:
        if grantee.id in holders(db, case_id, purpose):
            continue
        key = recovery_key(db, case_id, purpose, private_key)
        wrap_to_caseworker(db, trust, case_id, purpose, key, grantee)
        added += 1
    if identity:
        added += _grant_identity(db, trust, private_key, case_id, grantee)
    db.flush()
    return added


def _grant_identity(
    db: Session, trust: Trust, private_key: bytes, case_id: str, grantee: Caseworker
) -> int:
    held = set(
        db.scalars(
            select(WrappedKey.record_id).where(
                WrappedKey.case_id == case_id,
                WrappedKey.purpose == KeyPurpose.IDENTITY,
                WrappedKey.caseworker_id == grantee.id,
            )
        )
    )
    copies = db.scalars(
        select(WrappedKey).where(
            WrappedKey.case_id == case_id,
            WrappedKey.purpose == KeyPurpose.IDENTITY,
            WrappedKey.holder_kind == HolderKind.RECOVERY,
        )
    ).all()
    added = 0
    for row in copies:
        if row.record_id in held:
            continue
        key = _open_row(private_key, row)
        wrap_to_caseworker(db, trust, case_id, KeyPurpose.IDENTITY, key, grantee, row.record_id)
        added += 1
    return added


def export(
    store: Store, private_key: bytes, case_id: str, *, include_internal: bool, on: dt.date
) -> Iterator[bytes]:
    """One case as the caseworker export makes it (``cases.casework.export``), opened with
    the recovery key and audited as ``case.exported`` with ``via: recovery``."""
    with store.transaction() as db:
        if db.get(Case, case_id) is None:
            raise RecoveryRefused(f"No case {case_id!r}.")
        keys = ExportKeys(
            thread=recovery_key(db, case_id, KeyPurpose.THREAD, private_key),
            internal=recovery_key(db, case_id, KeyPurpose.INTERNAL, private_key)
            if include_internal
            else None,
        )
        record(
            db, "case.exported", actor_id=None, case_id=case_id, internal=include_internal,
            via="recovery",
        )
        alert_admins(db, RECOVERY_USED, store.settings)
    return export_case(store, case_id, keys, exported_by="organisation recovery key", on=on)


def rotate(db: Session, settings: Settings, old_private: bytes, new_public: bytes) -> int:
    """Wrap every recovery copy again, to ``new_public``, in the caller's transaction;
    return how many. One copy that the old key does not open refuses the whole rotation
    before anything is changed (``check`` lists such copies)."""
    for row in _recovery_rows(db):
        try:
            _open_row(old_private, row)
        except DecryptionError as exc:
            raise RecoveryRefused(
                f"The recovery copy of {row.case_id} ({row.purpose.value}) does not open with "
                "this key: nothing was changed. Run `sealbox recovery check`."
            ) from exc
    rotated = 0
    for row in _recovery_rows(db):
        _rewrap(row, old_private, new_public)
        rotated += 1
    record(db, "recovery.key_rotated", actor_id=None, copies=rotated)
    alert_admins(db, RECOVERY_USED, settings)
    return rotated


def adopt(db: Session, settings: Settings, retired_private: bytes) -> int:
    """Wrap again, to the instance's current recovery key, every copy that a retired key
    opens: what an app still running on the old key stored during a rotation. Copies the
    retired key does not open (already on the current key) are left as they are."""
    if public_key_of(retired_private) == settings.recovery_public_key:
        raise RecoveryRefused("This is the current recovery key, not a retired one.")
    moved = 0
    for row in _recovery_rows(db):
        try:
            _rewrap(row, retired_private, settings.recovery_public_key)
        except DecryptionError:
            continue  # already on the current key
        moved += 1
    if moved:
        record(db, "recovery.copies_adopted", actor_id=None, copies=moved)
        alert_admins(db, RECOVERY_USED, settings)
    return moved
