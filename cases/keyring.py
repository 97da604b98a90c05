"""Who holds which case key: wrapping case keys to holders, unwrapping them for a
caseworker or the reporter, granting and revoking access.

Access is cryptographic, not a flag: a caseworker without a wrapped key row for a case
cannot decrypt it whatever the interface lets them ask for.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.models import CaseExclusion, Caseworker, HolderKind, KeyPurpose, WrappedKey
from crypto import Context, DecryptionError, open_with, seal_for


class NoAccess(Exception):
    """The caseworker holds no key to this case (or this part of it)."""


class ExcludedFromCase(Exception):
    """The caseworker is excluded from the case (named by the reporter or conflicted)."""


def key_context(case_id: str, purpose: KeyPurpose, record_id: str = "") -> Context:
    label = f"{purpose.value}-key" + (f":{record_id}" if record_id else "")
    return Context(case_id, label)


def wrap_to(
    session: Session,
    case_id: str,
    purpose: KeyPurpose,
    key: bytes,
    public_key: bytes,
    holder_kind: HolderKind,
    caseworker_id: int | None = None,
    record_id: str = "",
) -> None:
    session.add(
        WrappedKey(
            case_id=case_id,
            purpose=purpose,
            record_id=record_id,
            holder_kind=holder_kind,
            caseworker_id=caseworker_id,
            wrapped=seal_for(public_key, key, key_context(case_id, purpose, record_id)),
        )
    )


def wrap_to_caseworkers(
    session: Session,
    case_id: str,
    purpose: KeyPurpose,
    key: bytes,
    caseworkers: list[Caseworker],
    recovery_public_key: bytes,
    record_id: str = "",
) -> None:
    """Wrap one key to each caseworker and to the organisation recovery key."""
    for cw in caseworkers:
        wrap_to(
            session, case_id, purpose, key, cw.public_key, HolderKind.CASEWORKER, cw.id, record_id
        )
    wrap_to(
        session, case_id, purpose, key, recovery_public_key, HolderKind.RECOVERY, None, record_id
    )


def caseworker_key(
    session: Session,
    case_id: str,
    purpose: KeyPurpose,
    caseworker_id: int,
    private_key: bytes,
    record_id: str = "",
) -> bytes:
    row = session.scalar(
        select(WrappedKey).where(
            WrappedKey.case_id == case_id,
            WrappedKey.purpose == purpose,
            WrappedKey.record_id == record_id,
            WrappedKey.holder_kind == HolderKind.CASEWORKER,
            WrappedKey.caseworker_id == caseworker_id,
        )
    )
    if row is None:
        raise NoAccess(f"no {purpose.value} key for this caseworker")
    try:
        return open_with(private_key, row.wrapped, key_context(case_id, purpose, record_id))
    except DecryptionError as exc:
        raise NoAccess("the stored key does not open with this caseworker's key") from exc


def reporter_thread_key(session: Session, case_id: str, private_key: bytes) -> bytes:
    row = session.scalar(
        select(WrappedKey).where(
            WrappedKey.case_id == case_id,
            WrappedKey.purpose == KeyPurpose.THREAD,
            WrappedKey.holder_kind == HolderKind.REPORTER,
        )
    )
    if row is None:
        raise NoAccess("no reporter key")
    return open_with(private_key, row.wrapped, key_context(case_id, KeyPurpose.THREAD))


def recovery_key(
    session: Session,
    case_id: str,
    purpose: KeyPurpose,
    recovery_private_key: bytes,
    record_id: str = "",
) -> bytes:
    """Open a case key with the offline organisation recovery key (disaster recovery)."""
    row = session.scalar(
        select(WrappedKey).where(
            WrappedKey.case_id == case_id,
            WrappedKey.purpose == purpose,
            WrappedKey.record_id == record_id,
            WrappedKey.holder_kind == HolderKind.RECOVERY,
        )
    )
    if row is None:
        raise NoAccess("no recovery key row")
    return open_with(recovery_private_key, row.wrapped, key_context(case_id, purpose, record_id))


def is_excluded(session: Session, case_id: str, caseworker_id: int) -> bool:
    return (
        session.get(CaseExclusion, {"case_id": case_id, "caseworker_id": caseworker_id}) is not None
    )


def holders(session: Session, case_id: str, purpose: KeyPurpose = KeyPurpose.THREAD) -> set[int]:
    return {
        cid
        for cid in session.scalars(
            select(WrappedKey.caseworker_id).where(
                WrappedKey.case_id == case_id,
                WrappedKey.purpose == purpose,
                WrappedKey.holder_kind == HolderKind.CASEWORKER,
            )
        )
        if cid is not None
    }


def grant_access(
    session: Session,
    case_id: str,
    granter_id: int,
    granter_private_key: bytes,
    grantee: Caseworker,
    *,
    override_exclusion: bool = False,
) -> None:
    """Re-wrap the thread and internal keys to another caseworker. The caller audits it."""
    if is_excluded(session, case_id, grantee.id) and not override_exclusion:
        raise ExcludedFromCase("this caseworker is excluded from the case")
    for purpose in (KeyPurpose.THREAD, KeyPurpose.INTERNAL):
        if grantee.id in holders(session, case_id, purpose):
            continue
        key = caseworker_key(session, case_id, purpose, granter_id, granter_private_key)
        wrap_to(
            session, case_id, purpose, key, grantee.public_key, HolderKind.CASEWORKER, grantee.id
        )


def revoke_access(session: Session, case_id: str, caseworker_id: int) -> int:
    """Delete every key the caseworker holds for the case; return how many."""
    result = session.execute(
        delete(WrappedKey).where(
            WrappedKey.case_id == case_id,
            WrappedKey.holder_kind == HolderKind.CASEWORKER,
            WrappedKey.caseworker_id == caseworker_id,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
