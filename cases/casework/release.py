"""Case content leaving the system in plaintext for a caseworker: a file downloaded or the
case exported. Each release unwraps the key it needs with the caseworker's own private
key (``NoAccess`` without a wrapped key row) and writes its audit entry here, in the
caller's transaction, so no interface can release content without the entry.

The bytes are produced after the request that authorised them has committed, in sessions
of their own: a download or an export streams for as long as the client reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cases.casework.case_pdf import PdfWords, case_pdf
from cases.casework.export import NO_REDACTIONS, ExportKeys, export_case
from cases.casework.redaction import Redactions
from cases.content import AttachmentMeta, attachment_meta, open_attachment
from cases.db import reading_apart
from cases.keyring import caseworker_key
from cases.models import Attachment, Case, Caseworker, KeyPurpose
from cases.records.audit import record
from cases.store import Store


@dataclass(frozen=True)
class Release:
    """What to send: the file's description and a factory for its plaintext chunks."""

    meta: AttachmentMeta
    chunks: Callable[[], Generator[bytes, None, None]]


def release_attachment(
    session: Session,
    store: Store,
    case: Case,
    attachment: Attachment,
    actor: Caseworker,
    private_key: bytes,
) -> Release:
    """One file of the case, audited as ``attachment.downloaded``."""
    if attachment.case_id != case.id:
        raise ValueError("the file belongs to another case")
    purpose = KeyPurpose.INTERNAL if attachment.internal else KeyPurpose.THREAD
    thread_key = caseworker_key(session, case.id, purpose, actor.id, private_key)
    meta = attachment_meta(attachment, thread_key)
    record(
        session,
        "attachment.downloaded",
        actor_id=actor.id,
        case_id=case.id,
        attachment_id=attachment.id,
    )

    def chunks() -> Generator[bytes, None, None]:
        with store.reader() as own:  # no write lock for as long as the download runs
            yield from open_attachment(store.blobs, own, attachment, thread_key)

    return Release(meta, chunks)


def release_export(
    session: Session,
    store: Store,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    *,
    include_internal: bool,
    on: dt.date,
    redactions: Redactions = NO_REDACTIONS,
) -> Iterator[bytes]:
    """The case as a ZIP (``cases.casework.export``), audited as ``case.exported`` (with how
    many passages were blacked out, never which); the internal record (notes, triage, risk,
    conclusion) only when asked for."""
    keys = _export_keys(session, case, actor, private_key, include_internal)
    record(session, "case.exported", actor_id=actor.id, case_id=case.id, internal=include_internal,
           redacted_passages=len(redactions.passages))
    return export_case(store, case.id, keys, exported_by=actor.username, on=on,
                       redactions=redactions)


def release_pdf(
    session: Session,
    store: Store,
    case: Case,
    actor: Caseworker,
    private_key: bytes,
    words: PdfWords,
    *,
    include_internal: bool,
    redactions: Redactions,
    on: dt.date,
) -> bytes:
    """The case as a PDF (``cases.casework.case_pdf``), audited as ``case.exported_pdf`` with
    how many passages were blacked out (never which: they are what must not be read).
    Raises PdfUnavailable, with nothing audited, where the fonts are missing."""
    case_id, actor_id, username = case.id, actor.id, actor.username
    with reading_apart(session):  # seconds of work for a long case: no lock held meanwhile
        keys = _export_keys(session, case, actor, private_key, include_internal)
        document = case_pdf(session, store.settings.pdf_fonts_dir, case_id, keys, words,
                            exported_by=username, on=on, redactions=redactions)
    record(session, "case.exported_pdf", actor_id=actor_id, case_id=case_id,
           internal=include_internal, redacted_passages=len(redactions.passages))
    return document


def _export_keys(session: Session, case: Case, actor: Caseworker, private_key: bytes,
                 include_internal: bool) -> ExportKeys:
    return ExportKeys(
        thread=caseworker_key(session, case.id, KeyPurpose.THREAD, actor.id, private_key),
        internal=caseworker_key(session, case.id, KeyPurpose.INTERNAL, actor.id, private_key)
        if include_internal
        else None,
    )
