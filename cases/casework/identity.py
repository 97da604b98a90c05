"""Identity access: a caseworker asks the identity custodians for a reporter's identity with
a reason; a custodian approves (re-wrapping each identity record key they hold to the
requester) or denies; reading the identity is audited (EU 2019/1937 Art. 16).

Exclusion covers all of it. A custodian the reporter excluded from a case (or who declared
a conflict) holds no key to its identity records, and also neither sees nor decides its
identity requests. The reason is itself sealed: under a key of its own that is wrapped
only to the custodians eligible when it was asked (active, not excluded), the requester and
the recovery key. The server alone cannot read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.casework.access import CaseworkRefused, clean_text, has_access
from cases.content import read_identity_record
from cases.keyring import (
    NoAccess,
    Trust,
    UncertifiedKey,
    caseworker_key,
    is_excluded,
    wrap_to_caseworker,
    wrap_to_caseworkers,
)
from cases.models import (
    Case,
    Caseworker,
    HolderKind,
    IdentityRecord,
    IdentityRequest,
    KeyPurpose,
    WrappedKey,
    utcnow,
)
from cases.notifications.outbox import IDENTITY_REQUEST, enqueue
from cases.records.audit import record
from config import Settings
from crypto import Context, contexts, decrypt_record, encrypt_record, new_key


@dataclass(frozen=True)
class IdentityInfo:
    """How many identity records a case has, and which of them a caseworker can read."""

    records: int
    readable_ids: frozenset[str]


def identity_info(db: Session, case_id: str, caseworker_id: int) -> IdentityInfo:
    record_ids = list(
        db.scalars(select(IdentityRecord.id).where(IdentityRecord.case_id == case_id))
    )
    readable = set(
        db.scalars(
            select(WrappedKey.record_id).where(
                WrappedKey.case_id == case_id,
                WrappedKey.purpose == KeyPurpose.IDENTITY,
                WrappedKey.holder_kind == HolderKind.CASEWORKER,
                WrappedKey.caseworker_id == caseworker_id,
            )
        )
    )
    return IdentityInfo(len(record_ids), frozenset(readable & set(record_ids)))


def _reason_context(request: IdentityRequest) -> Context:
    return contexts.identity_request_reason(request.case_id, request.id)


def eligible_custodians(db: Session, case_id: str) -> list[Caseworker]:
    """Active custodians who are not excluded from the case."""
    rows = db.scalars(
        select(Caseworker).where(Caseworker.active, Caseworker.is_custodian).order_by(Caseworker.id)
    )
    return [c for c in rows if not is_excluded(db, case_id, c.id)]


def _seal_reason(db: Session, request: IdentityRequest, reason: str, trust: Trust) -> None:
    """Encrypt the reason under a fresh key wrapped to its readers (module docstring)."""
    key = new_key()
    request.reason_enc = encrypt_record(key, reason.encode(), _reason_context(request))
    readers = eligible_custodians(db, request.case_id)
    requester = db.get(Caseworker, request.requester_id)
    if requester is not None and requester.id not in {c.id for c in readers}:
        readers.append(requester)
    wrap_to_caseworkers(
        db, trust, request.case_id, KeyPurpose.REQUEST, key, readers, str(request.id)
    )


def request_identity(
    db: Session, settings: Settings, case: Case, actor: Caseworker, reason: str
) -> IdentityRequest:
    """Ask the eligible custodians for the reporter's identity, with a reason; they get a
    mail notice (cases.notifications)."""
    trust = Trust.of(settings)
    reason = clean_text(reason)
    if not db.scalar(select(IdentityRecord.id).where(IdentityRecord.case_id == case.id)):
        raise CaseworkRefused("The reporter has not given any identity details.")
    info = identity_info(db, case.id, actor.id)
    if info.readable_ids and len(info.readable_ids) == info.records:
        raise CaseworkRefused("You already have access to the identity details.")
    pending = db.scalar(
        select(IdentityRequest.id).where(
            IdentityRequest.case_id == case.id,
            IdentityRequest.requester_id == actor.id,
            IdentityRequest.state == "pending",
        )
    )
    if pending is not None:
        raise CaseworkRefused("Your earlier request is still waiting for a custodian.")
    deciders = [c.id for c in eligible_custodians(db, case.id) if c.id != actor.id]
    if not deciders:
        raise CaseworkRefused("No identity custodian can decide a request on this case.")
    request = IdentityRequest(case_id=case.id, requester_id=actor.id, reason_enc=b"")
    db.add(request)
    db.flush()
    _seal_reason(db, request, reason, trust)
    record(db, "identity.requested", actor_id=actor.id, case_id=case.id, request_id=request.id)
    enqueue(db, deciders, IDENTITY_REQUEST, settings)
    return request


def request_reason(
    db: Session, request: IdentityRequest, reader: Caseworker, private_key: bytes
) -> str | None:
    """The reason, for one of its readers; None for anyone the key was not wrapped to
    (a custodian appointed after the request was made)."""
    try:
        key = caseworker_key(
            db, request.case_id, KeyPurpose.REQUEST, reader.id, private_key, str(request.id)
        )
    except NoAccess:
        return None
    return decrypt_record(key, request.reason_enc, _reason_context(request)).decode()


def pending_identity_requests(db: Session, custodian: Caseworker) -> list[IdentityRequest]:
    """The waiting requests this custodian may decide: none of a case they are excluded
    from, so an excluded custodian cannot even learn that someone asked."""
    rows = db.scalars(
        select(IdentityRequest)
        .where(IdentityRequest.state == "pending")
        .order_by(IdentityRequest.created_at, IdentityRequest.id)
    )
    return [r for r in rows if not is_excluded(db, r.case_id, custodian.id)]


def decide_identity_request(
    db: Session,
    trust: Trust,
    request: IdentityRequest,
    custodian: Caseworker,
    private_key: bytes,
    *,
    approve: bool,
) -> int:
    """A custodian approves (re-wraps each identity record key they hold to the requester)
    or denies. Returns how many records were shared."""
    if not custodian.is_custodian or not custodian.active:
        raise NoAccess("only identity custodians decide identity requests")
    if is_excluded(db, request.case_id, custodian.id):
        raise NoAccess("this custodian is excluded from the case")
    if request.state != "pending":
        raise CaseworkRefused("This request has already been decided.")
    if request.requester_id == custodian.id:
        raise CaseworkRefused("A custodian cannot approve their own request.")
    shared = _share_identity(db, trust, request, custodian, private_key) if approve else 0
    request.state = "approved" if approve else "denied"
    request.decided_by_id = custodian.id
    request.decided_at = utcnow()
    db.flush()
    record(
        db,
        "identity.approved" if approve else "identity.denied",
        actor_id=custodian.id,
        case_id=request.case_id,
        request_id=request.id,
        requester_id=request.requester_id,
        records_shared=shared,
    )
    return shared


def _share_identity(
    db: Session, trust: Trust, request: IdentityRequest, custodian: Caseworker, private_key: bytes
) -> int:
    requester = db.get(Caseworker, request.requester_id)
    if (
        requester is None
        or not requester.active
        or not has_access(db, request.case_id, requester.id)
    ):
        raise CaseworkRefused("The requester no longer has access to the case.")
    if is_excluded(db, request.case_id, requester.id):
        raise CaseworkRefused("The requester is excluded from the case.")
    try:
        trust.public_key(requester)
    except UncertifiedKey as exc:
        raise CaseworkRefused(
            "The requester's key cannot be verified: an administrator must check the account."
        ) from exc
    already = identity_info(db, request.case_id, requester.id).readable_ids
    shared = 0
    for record_id in db.scalars(
        select(IdentityRecord.id).where(IdentityRecord.case_id == request.case_id)
    ):
        if record_id in already:
            continue
        try:
            key = caseworker_key(
                db, request.case_id, KeyPurpose.IDENTITY, custodian.id, private_key, record_id
            )
        except NoAccess:
            continue
        wrap_to_caseworker(
            db, trust, request.case_id, KeyPurpose.IDENTITY, key, requester, record_id
        )
        shared += 1
    if shared == 0 and not already:
        raise CaseworkRefused("You hold no key to this reporter's identity details.")
    return shared


def read_identity(
    db: Session, case: Case, actor: Caseworker, private_key: bytes
) -> list[tuple[IdentityRecord, dict[str, str]]]:
    """Decrypt the identity records this caseworker holds a key to; audit the disclosure."""
    out = []
    rows = db.scalars(
        select(IdentityRecord)
        .where(IdentityRecord.case_id == case.id)
        .order_by(IdentityRecord.created_on)
    )
    for row in rows:
        try:
            key = caseworker_key(db, case.id, KeyPurpose.IDENTITY, actor.id, private_key, row.id)
        except NoAccess:
            continue
        out.append((row, read_identity_record(row, key)))
    if not out:
        raise NoAccess("no identity key")
    record(db, "identity.viewed", actor_id=actor.id, case_id=case.id, records=len(out))
    return out


def custodian_identity_access(db: Session, case_id: str, caseworker_id: int) -> bool:
    return bool(identity_info(db, case_id, caseworker_id).readable_ids)


def reseal_server_key_reasons(db: Session, server_key: bytes, trust: Trust) -> int:
    """Requests made before reasons were sealed to their readers were encrypted under the
    server key: seal each again as new ones are (run by ``Store.migrate``). Idempotent."""
    sealed = set(
        db.scalars(
            select(WrappedKey.record_id).where(WrappedKey.purpose == KeyPurpose.REQUEST)
        )
    )
    count = 0
    for request in db.scalars(select(IdentityRequest)):
        if str(request.id) in sealed:
            continue
        legacy = decrypt_record(server_key, request.reason_enc, _reason_context(request))
        _seal_reason(db, request, legacy.decode(), trust)
        count += 1
    db.flush()
    return count
