"""Who holds which case key: wrapping case keys to holders, unwrapping them for a
caseworker or the reporter, granting and revoking access.

Access is cryptographic, not a flag: a caseworker without a wrapped key row for a case
cannot decrypt it whatever the interface lets them ask for. And a case key is wrapped only
to a caseworker public key the instance's key-signing key certified for that very account
(:class:`Trust`): someone who can write to the database cannot make later reports
readable by putting a key of their own in a caseworker's row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from cases.models import (
    Case,
    CaseExclusion,
    Caseworker,
    HolderKind,
    KeyPurpose,
    WrappedKey,
    new_id,
)
from config import Settings
from crypto import Context, DecryptionError, contexts, key_is_certified, open_with, seal_for

log = logging.getLogger("sealbox.keys")


class UncertifiedKey(Exception):
    """The account's public key is not the one the instance certified for it."""


@dataclass(frozen=True)
class Trust:
    """What a key may be wrapped to: caseworker keys the signing key certified, and the
    organisation recovery key. Both public halves come from the instance file."""

    signing_public_key: bytes
    recovery_public_key: bytes

    @classmethod
    def of(cls, settings: Settings) -> Trust:
        return cls(settings.key_signing_public, settings.recovery_public_key)

    def public_key(self, caseworker: Caseworker) -> bytes:
        key = caseworker.public_key
        if key is None or not key_is_certified(
            self.signing_public_key, caseworker.id, key, caseworker.key_certificate
        ):
            raise UncertifiedKey(f"account {caseworker.id}: no certified public key")
        return key


class NoAccess(Exception):
    """The caseworker holds no key to this case (or this part of it)."""


class ExcludedFromCase(Exception):
    """The caseworker is excluded from the case (named by the reporter or conflicted)."""


def key_context(case_id: str, purpose: KeyPurpose, record_id: str = "") -> Context:
    return contexts.wrapped_key(case_id, purpose.value, record_id)


def wrap_to(
    session: Session,
    case_id: str,
    purpose: KeyPurpose,
    key: bytes,
    public_key: bytes,
    holder_kind: HolderKind,
    caseworker_id: int | None = None,
    record_id: str = "",
) -> WrappedKey:
    """Wrap to a public key the caller vouches for (the reporter's, the recovery key):
    caseworkers go through :func:`wrap_to_caseworker`, which checks the certificate."""
    wrapped = seal_for(public_key, key, key_context(case_id, purpose, record_id))
    return store_wrapped(session, case_id, purpose, wrapped, holder_kind, caseworker_id, record_id)


def store_wrapped(
    session: Session,
    case_id: str,
    purpose: KeyPurpose,
    wrapped: bytes,
    holder_kind: HolderKind,
    caseworker_id: int | None = None,
    record_id: str = "",
) -> WrappedKey:
    """Keep one holder's wrapped copy of a case key: made here by :func:`wrap_to`, or in the
    reporter's browser (cases.reporting.sealed), which checked the holder's certificate."""
    row = WrappedKey(
        id=new_id(),
        case_id=case_id,
        purpose=purpose,
        record_id=record_id,
        holder_kind=holder_kind,
        caseworker_id=caseworker_id,
        wrapped=wrapped,
    )
    session.add(row)
    return row


def wrap_to_caseworker(
    session: Session,
    trust: Trust,
    case_id: str,
    purpose: KeyPurpose,
    key: bytes,
    caseworker: Caseworker,
    record_id: str = "",
) -> None:
    """Wrap to a caseworker's certified public key; raises UncertifiedKey otherwise."""
    public_key = trust.public_key(caseworker)
    wrap_to(
        session, case_id, purpose, key, public_key, HolderKind.CASEWORKER, caseworker.id, record_id
    )


def wrap_to_caseworkers(
    session: Session,
    trust: Trust,
    case_id: str,
    purpose: KeyPurpose,
    key: bytes,
    caseworkers: list[Caseworker],
    record_id: str = "",
) -> list[Caseworker]:
    """Wrap one key to each caseworker whose key is certified and to the organisation
    recovery key. Returns those it was wrapped to: an account whose key does not verify is
    skipped (logged by id only), so a report still reaches everyone else."""
    wrapped = []
    for cw in caseworkers:
        try:
            wrap_to_caseworker(session, trust, case_id, purpose, key, cw, record_id)
        except UncertifiedKey:
            log.warning("account %s: public key not certified, no case key wrapped to it", cw.id)
            continue
        wrapped.append(cw)
    recovery = trust.recovery_public_key
    wrap_to(session, case_id, purpose, key, recovery, HolderKind.RECOVERY, None, record_id)
    return wrapped


def caseworker_key(
    session: Session,
    case_id: str,
    purpose: KeyPurpose,
    caseworker_id: int,
    private_key: bytes,
    record_id: str = "",
) -> bytes:
    row = _holder_row(
        session, case_id, purpose, record_id, HolderKind.CASEWORKER,
        WrappedKey.caseworker_id == caseworker_id,
    )
    if row is None:
        raise NoAccess(f"no {purpose.value} key for this caseworker")
    try:
        return open_with(private_key, row.wrapped, key_context(case_id, purpose, record_id))
    except DecryptionError as exc:
        raise NoAccess("the stored key does not open with this caseworker's key") from exc


def _holder_row(
    session: Session,
    case_id: str,
    purpose: KeyPurpose,
    record_id: str,
    kind: HolderKind,
    *which: ColumnElement[bool],
) -> WrappedKey | None:
    """The one wrapped copy of a case key (of this purpose and record) held by this kind
    of holder, narrowed by ``which`` (the caseworker's id)."""
    return session.scalar(
        select(WrappedKey).where(
            WrappedKey.case_id == case_id,
            WrappedKey.purpose == purpose,
            WrappedKey.record_id == record_id,
            WrappedKey.holder_kind == kind,
            *which,
        )
    )


def reporter_thread_key(session: Session, case_id: str, private_key: bytes) -> bytes:
    # After a receipt was taken over (cases.reporting.claim) the case names the reporter's current
    # row; the handed-over one lingers until the nightly sweep and is never used again.
    current = select(Case.reporter_key_id).where(Case.id == case_id).scalar_subquery()
    row = session.scalar(
        select(WrappedKey).where(
            WrappedKey.case_id == case_id,
            WrappedKey.purpose == KeyPurpose.THREAD,
            WrappedKey.holder_kind == HolderKind.REPORTER,
            or_(current.is_(None), WrappedKey.id == current),
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
    row = _holder_row(session, case_id, purpose, record_id, HolderKind.RECOVERY)
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
    trust: Trust,
    case_id: str,
    granter_id: int,
    granter_private_key: bytes,
    grantee: Caseworker,
    *,
    override_exclusion: bool = False,
) -> None:
    """Re-wrap the thread and internal keys to another caseworker. The caller audits it.
    Raises UncertifiedKey before anything is wrapped if the grantee's key does not verify."""
    if is_excluded(session, case_id, grantee.id) and not override_exclusion:
        raise ExcludedFromCase("this caseworker is excluded from the case")
    trust.public_key(grantee)
    for purpose in (KeyPurpose.THREAD, KeyPurpose.INTERNAL):
        if grantee.id in holders(session, case_id, purpose):
            continue
        key = caseworker_key(session, case_id, purpose, granter_id, granter_private_key)
        wrap_to_caseworker(session, trust, case_id, purpose, key, grantee)


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
