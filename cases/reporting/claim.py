"""An oral report's receipt becomes the reporter's own at its first use.

The caseworker who records a call or meeting must hand the receipt over, so they know it.
Whoever holds a receipt can act as the reporter (read replies, agree the minutes), so the
handed-over receipt works exactly once: the intake then makes a new receipt, shows it to
the reporter alone, and re-keys the case to it. From then on the handed-over receipt finds
nothing. If someone else used it first, the reporter's own attempt finds nothing either,
and the case page tells the caseworkers when the receipt was taken over.

The intake's database role may not delete keys, so the handed-over receipt's wrapped
thread key stays until the nightly purge (``sweep_replaced_reporter_keys``); the case
names the reporter's current row meanwhile (``Case.reporter_key_id``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, update
from sqlalchemy.orm import Session

from cases.keyring import key_context, reporter_thread_key, store_wrapped, wrap_to
from cases.models import Case, HolderKind, KeyPurpose, WrappedKey, today
from cases.reporting.followup import reporter_cases
from config import Settings
from crypto import ReporterKeys, derive_reporter_keys, new_receipt, wrapped_size


class AlreadyClaimed(Exception):
    """The handed-over receipt was taken over meanwhile (another first use won)."""


def needs_claim(case: Case) -> bool:
    return case.channel == "oral" and case.receipt_claimed_on is None


def new_reporter_receipt(settings: Settings) -> tuple[str, ReporterKeys]:
    """A fresh receipt and its keys (one Argon2id derivation: call it outside a
    transaction on SQLite, where a transaction holds the write lock)."""
    receipt = new_receipt()
    return receipt, derive_reporter_keys(receipt, settings.instance_salt, settings.receipt_kdf)


def claim_receipt(
    session: Session, handed: ReporterKeys, own: ReporterKeys, on: dt.date | None = None
) -> list[Case]:
    """Re-key every case the handed-over receipt opens to the reporter's own receipt.

    Compare-and-set on the case's current reporter key, so of two first uses at once only
    one wins; the other raises ``AlreadyClaimed`` (the caller rolls back)."""
    on = on or today()
    cases = reporter_cases(session, handed.public_key)
    if not cases:
        raise AlreadyClaimed("the receipt opens nothing any more")
    for case in cases:
        thread_key = reporter_thread_key(session, case.id, handed.private_key)
        row = wrap_to(
            session, case.id, KeyPurpose.THREAD, thread_key, own.public_key, HolderKind.REPORTER
        )
        _rekey(session, case.id, row.id, handed.public_key, own.lookup_hash, own.public_key, on)
    session.expire_all()
    return reporter_cases(session, own.public_key)


def claim_sealed(
    session: Session, handed_public_key: bytes, own_lookup_hash: bytes, own_public_key: bytes,
    thread_keys: dict[str, bytes], on: dt.date | None = None,
) -> list[Case]:
    """The same, when the reporter's browser made the new receipt: it opened each case's
    thread key with the handed-over receipt and wrapped it to its own public key
    (``thread_keys`` by case id); the server checks only their form. Raises
    ``AlreadyClaimed``, or ``ValueError`` for keys our page would not send."""
    on = on or today()
    cases = reporter_cases(session, handed_public_key)
    if not cases:
        raise AlreadyClaimed("the receipt opens nothing any more")
    if set(thread_keys) != {case.id for case in cases} or len(own_public_key) != 32 \
            or len(own_lookup_hash) != 32:
        raise ValueError("one wrapped thread key per case, and a key pair's sizes")
    for case in cases:
        wrapped = thread_keys[case.id]
        if len(wrapped) != wrapped_size(key_context(case.id, KeyPurpose.THREAD)):
            raise ValueError("not a wrapped thread key")
        row = store_wrapped(session, case.id, KeyPurpose.THREAD, wrapped, HolderKind.REPORTER)
        _rekey(session, case.id, row.id, handed_public_key, own_lookup_hash, own_public_key, on)
    session.expire_all()
    return reporter_cases(session, own_public_key)


def _rekey(session: Session, case_id: str, row_id: str, handed_public_key: bytes,
           own_lookup_hash: bytes, own_public_key: bytes, on: dt.date) -> None:
    """Compare-and-set: the case moves to the new receipt only if it is still the
    handed-over one's, so of two first uses at once only one wins."""
    session.flush()
    changed = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.reporter_public_key == handed_public_key)
        .values(
            lookup_hash=own_lookup_hash,
            reporter_public_key=own_public_key,
            reporter_key_id=row_id,
            receipt_claimed_on=on,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0) != 1:
        raise AlreadyClaimed(case_id)


def sweep_replaced_reporter_keys(session: Session) -> int:
    """Delete the wrapped keys of receipts that were taken over (run by the purge, as the
    app's role): after this, a copy of the database and the handed-over receipt open
    nothing."""
    replaced = exists().where(
        Case.id == WrappedKey.case_id,
        Case.reporter_key_id.is_not(None),
        Case.reporter_key_id != WrappedKey.id,
    )
    result = session.execute(
        delete(WrappedKey)
        .where(WrappedKey.holder_kind == HolderKind.REPORTER, replaced)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)

