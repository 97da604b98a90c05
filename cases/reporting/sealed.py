"""A report sealed in the reporter's browser: the server stores ciphertexts it cannot read.

With JavaScript on, the intake's page makes the receipt, derives the reporter's keys, draws
the case keys and seals the report, the identity record and the automatic acknowledgement
in the formats of docs/CRYPTO.md, with each case key wrapped to the holders this module
names (:func:`sealing_keys`: the same routing and certified keys as a report sealed on the
server). What comes back is checked by its form alone: ids, sizes, one wrapped key per
holder and no other. The server never sees the text, the receipt or a case key, so it
cannot check the words; a browser that seals nonsense harms only its own case (the back
office shows what does not open as such). The rows stored are the rows
``cases.reporting.submission`` stores, so everything after (the back office, follow-up,
export, retention) works the same on both.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.content import message_plaintext, store_message
from cases.keyring import Trust, UncertifiedKey, key_context, store_wrapped
from cases.models import Case, Caseworker, HolderKind, IdentityRecord, KeyPurpose, MessageKind
from cases.notifications.outbox import NEW_REPORT, enqueue
from cases.reporting.acknowledgement import automatic_acknowledgement
from cases.reporting.staged_files import SealedFile, StagingRefused, attach_staged
from cases.reporting.submission import CaseRow, create_case, custodians, routed_caseworkers
from cases.store import Store
from crypto import record_size, wrapped_size

ID_PATTERN = re.compile(r"[0-9a-f]{16}\Z")  # cases.models.new_id
HASH_BYTES = 32
FILE_KEY_BYTES = 32  # crypto.new_key


@dataclass(frozen=True)
class Holder:
    """A caseworker a key may be wrapped to, with what lets the browser check the key."""

    account_id: int
    public_key: bytes
    certificate: bytes


@dataclass(frozen=True)
class SealingKeys:
    """Everything a browser needs to seal a report for one routing."""

    caseworkers: tuple[Holder, ...]  # the thread and internal keys
    custodians: tuple[Holder, ...]  # an identity record's key
    recovery_public_key: bytes
    signing_public_key: bytes  # what certified each holder's key
    acknowledgement: bytes | None  # the plaintext to seal as the automatic acknowledgement


def certified_holders(trust: Trust, accounts: list[Caseworker]) -> tuple[Holder, ...]:
    holders = []
    for cw in accounts:
        try:
            key = trust.public_key(cw)
        except UncertifiedKey:  # skipped, as on the server (cases.keyring)
            continue
        holders.append(Holder(cw.id, key, cw.key_certificate or b""))
    return tuple(holders)


def sealing_keys(
    session: Session, store: Store, category_id: int | None, excluded: AbstractSet[int]
) -> SealingKeys:
    settings = store.settings
    trust = Trust.of(settings)
    ack = automatic_acknowledgement() if store.policy(session).auto_acknowledge else None
    return SealingKeys(
        caseworkers=certified_holders(trust, routed_caseworkers(session, category_id, excluded)),
        custodians=certified_holders(trust, custodians(session, excluded)),
        recovery_public_key=trust.recovery_public_key,
        signing_public_key=trust.signing_public_key,
        acknowledgement=message_plaintext(ack) if ack else None,
    )


@dataclass(frozen=True)
class Wrapped:
    """One case key, wrapped to each of its holders in the browser."""

    caseworkers: dict[int, bytes]
    recovery: bytes


@dataclass(frozen=True)
class SealedItem:
    """A record the browser sealed, with the id its context names."""

    id: str
    record: bytes


@dataclass(frozen=True)
class SealedIdentity:
    item: SealedItem
    keys: Wrapped


@dataclass(frozen=True)
class SealedReport:
    case_id: str
    lookup_hash: bytes
    reporter_public_key: bytes
    category_id: int | None
    excluded: frozenset[int]
    thread_keys: Wrapped
    reporter_thread_key: bytes
    internal_keys: Wrapped
    report: SealedItem
    acknowledgement: SealedItem | None = None
    identity: SealedIdentity | None = None
    files: tuple[SealedFile, ...] = ()  # staged before (cases.reporting.staged_files)


class SealedRefused(Exception):
    """The sealed report cannot be stored as sent; ``reason`` is one of the constants below,
    which the intake words for the reporter."""

    MALFORMED = "malformed"  # not made by our page, or by a page of another version
    NOBODY = "nobody"  # the exclusions leave nobody to read it
    KEYS_CHANGED = "keys_changed"  # holders changed since the page fetched them: seal again
    TAKEN = "taken"  # the case id or receipt is another case's
    FILE_LOST = "file_lost"  # a staged file is gone or incomplete: send the files again

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """The largest records a report may bring (bytes of plaintext)."""

    report_bytes: int
    identity_bytes: int
    files: int = 0  # how many files a report may bring
    file_bytes: int = 0  # each at most this large
    file_meta_bytes: int = 4096  # a file's name, type, size and cleaning, as JSON


def store_sealed_report(
    session: Session, store: Store, sealed: SealedReport, limits: Limits, on: dt.date
) -> Case:
    """Check the report's form against this routing and store it; returns the case (the
    one already stored when the same report comes again). Flushes; the caller commits."""
    existing = session.get(Case, sealed.case_id)
    if existing is not None:
        if existing.lookup_hash == sealed.lookup_hash:
            return existing  # sent again: the answer to the first send never arrived
        raise SealedRefused(SealedRefused.TAKEN)
    keys = sealing_keys(session, store, sealed.category_id, sealed.excluded)
    if not keys.caseworkers:
        raise SealedRefused(SealedRefused.NOBODY)
    check_form(sealed, keys, limits)
    if session.scalar(select(Case.id).where(Case.lookup_hash == sealed.lookup_hash)):
        raise SealedRefused(SealedRefused.TAKEN)
    row = CaseRow(sealed.case_id, sealed.lookup_hash, sealed.reporter_public_key,
                  sealed.category_id, "web", sealed.excluded)
    case = create_case(session, row, store.policy(session), on)
    store_sealed_rows(session, store, case, sealed, limits, on)
    enqueue(session, [h.account_id for h in keys.caseworkers], NEW_REPORT, store.settings)
    session.flush()
    return case


def store_sealed_rows(session: Session, store: Store, case: Case, sealed: SealedReport,
                      limits: Limits, on: dt.date) -> None:
    """Everything of a checked sealed report but its case row: the wrapped keys, the
    report, its files, the acknowledgement and the identity record."""
    store_keys(session, case.id, KeyPurpose.THREAD, sealed.thread_keys)
    store_wrapped(session, case.id, KeyPurpose.THREAD, sealed.reporter_thread_key,
                  HolderKind.REPORTER)
    store_keys(session, case.id, KeyPurpose.INTERNAL, sealed.internal_keys)
    store_message(session, case.id, sealed.report.id, MessageKind.REPORT,
                  sealed.report.record, on=on)
    _attach_files(session, store, case.id, sealed, limits, on)
    if sealed.acknowledgement is not None:
        store_message(session, case.id, sealed.acknowledgement.id, MessageKind.REPLY,
                      sealed.acknowledgement.record, on=on)
    if sealed.identity is not None:
        item = sealed.identity.item
        session.add(IdentityRecord(id=item.id, case_id=case.id, ciphertext=item.record))
        store_keys(session, case.id, KeyPurpose.IDENTITY, sealed.identity.keys, item.id)


def _attach_files(session: Session, store: Store, case_id: str, sealed: SealedReport,
                  limits: Limits, on: dt.date) -> None:
    """The staged files, numbered after the report as on the server's path."""
    for file in sealed.files:
        try:
            attach_staged(session, store.blobs, store.settings.server_key, case_id,
                          sealed.report.id, file, limits.file_bytes, on)
        except StagingRefused as refused:
            lost = refused.reason in (StagingRefused.LOST, StagingRefused.UNKNOWN)
            raise SealedRefused(SealedRefused.FILE_LOST if lost
                                else SealedRefused.MALFORMED) from None


def store_keys(session: Session, case_id: str, purpose: KeyPurpose, keys: Wrapped,
                record_id: str = "") -> None:
    for account_id, wrapped in sorted(keys.caseworkers.items()):
        store_wrapped(session, case_id, purpose, wrapped, HolderKind.CASEWORKER, account_id,
                      record_id)
    store_wrapped(session, case_id, purpose, keys.recovery, HolderKind.RECOVERY, None, record_id)


def check_form(sealed: SealedReport, keys: SealingKeys, limits: Limits) -> None:
    """Everything the server can know without the keys, or SealedRefused."""
    identity = sealed.identity.item if sealed.identity else None
    items = [sealed.report, sealed.acknowledgement, identity]
    ids = [sealed.case_id] + [item.id for item in items if item is not None]
    ids += [file.id for file in sealed.files]
    if not all(ID_PATTERN.match(i) for i in ids) or len(set(ids)) != len(ids):
        raise SealedRefused(SealedRefused.MALFORMED)
    if len(sealed.lookup_hash) != HASH_BYTES or len(sealed.reporter_public_key) != HASH_BYTES:
        raise SealedRefused(SealedRefused.MALFORMED)
    caseworkers = {h.account_id for h in keys.caseworkers}
    check_wrapped(sealed.case_id, KeyPurpose.THREAD, sealed.thread_keys, caseworkers)
    check_wrapped(sealed.case_id, KeyPurpose.INTERNAL, sealed.internal_keys, caseworkers)
    thread_size = wrapped_size(key_context(sealed.case_id, KeyPurpose.THREAD))
    if len(sealed.reporter_thread_key) != thread_size:
        raise SealedRefused(SealedRefused.MALFORMED)
    check_record(sealed.report.record, record_size(0), record_size(limits.report_bytes))
    _check_acknowledgement(sealed.acknowledgement, keys.acknowledgement)
    check_file_records(sealed.files, limits)
    if sealed.identity is not None:
        custodians = {h.account_id for h in keys.custodians}
        check_wrapped(sealed.case_id, KeyPurpose.IDENTITY, sealed.identity.keys, custodians,
                       sealed.identity.item.id)
        check_record(sealed.identity.item.record, record_size(1),
                      record_size(limits.identity_bytes))


def check_wrapped(case_id: str, purpose: KeyPurpose, keys: Wrapped, holders: set[int],
                   record_id: str = "") -> None:
    """One key for each holder of this routing, of the one size its context gives."""
    if set(keys.caseworkers) != holders:
        raise SealedRefused(SealedRefused.KEYS_CHANGED)
    size = wrapped_size(key_context(case_id, purpose, record_id))
    if any(len(w) != size for w in [*keys.caseworkers.values(), keys.recovery]):
        raise SealedRefused(SealedRefused.MALFORMED)


def check_record(record: bytes, smallest: int, largest: int) -> None:
    """A sealed record's length within what its plaintext may be, or SealedRefused."""
    if not smallest <= len(record) <= largest:
        raise SealedRefused(SealedRefused.MALFORMED)


def _check_acknowledgement(item: SealedItem | None, plaintext: bytes | None) -> None:
    """Present exactly when the policy asks for it, and the size of the words we gave."""
    if (item is None) != (plaintext is None):
        raise SealedRefused(SealedRefused.KEYS_CHANGED)
    if item is not None and plaintext is not None:
        size = record_size(len(plaintext))
        check_record(item.record, size, size)



def check_file_records(files: tuple[SealedFile, ...], limits: Limits) -> None:
    """No more than the form takes; each file's key record the size of a key, its
    metadata record no larger than a name and a type make (the ciphertext: attach_staged)."""
    if len(files) > limits.files:
        raise SealedRefused(SealedRefused.MALFORMED)
    key_size = record_size(FILE_KEY_BYTES)
    for file in files:
        if len(file.file_key) != key_size:
            raise SealedRefused(SealedRefused.MALFORMED)
        check_record(file.meta, record_size(2), record_size(limits.file_meta_bytes))
