"""Files a reporter's browser seals and sends in pieces, before the report they belong to.

A 500 MiB file must never sit whole in the browser's memory nor in one request, so the
page seals it chunk by chunk (secretstream, docs/CRYPTO.md) and sends the ciphertext a
piece at a time (:func:`add_piece`), each piece committed as it arrives into the blob store
under the attachment id the browser chose (its contexts name it). When the report is sent,
:func:`attach_staged` checks each file by form alone (the sealed preamble, a length a sealed
file can have, no larger than the instance accepts), computes its content digest from the
stored ciphertext and makes it the report's attachment, in the report's transaction.

Only the page that started a file can add to it or attach it: it holds a random upload
token, of which the row keeps a keyed digest. A file never attached is removed with its
ciphertext by the daily purge once older than a day (:func:`sweep_staged`). Rows keep the
date only, as every row a reporter causes does (docs/THREAT_MODEL.md, "Time of day").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.attachments.blobs import BlobStore, StagedBlobLost
from cases.content import store_attachment
from cases.models import Attachment, StagedFile
from crypto import ContentDigest, DecryptionError, keyed_digest, sealed_plaintext_size

MAX_PIECE_BYTES = 4 * 1024 * 1024  # the page sends about 1 MiB; room for its own choice
TOKEN_BYTES = 32
READ_BYTES = 1024 * 1024
KEPT_DAYS = 1  # a staged file older than this (by date) is removed by the daily purge


class StagingRefused(Exception):
    """A piece or a staged file that cannot be taken; ``reason`` is one of these."""

    UNKNOWN = "unknown_file"  # no such file, or another page's (wrong token)
    ORDER = "piece_order"  # not the next piece: ``size`` and ``pieces`` say where it stands
    TOO_LARGE = "file_too_large"  # more than the instance accepts for one file
    LOST = "file_lost"  # removed as abandoned, or lost: send the file again
    MALFORMED = "malformed"

    def __init__(self, reason: str, staged: StagedFile | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pieces = staged.pieces if staged is not None else 0
        self.size = staged.size if staged is not None else 0


def token_digest(server_key: bytes, token: bytes) -> bytes:
    return keyed_digest(server_key, b"staged-file:" + token)


def _owned(session: Session, file_id: str, token_hash: bytes) -> StagedFile:
    staged = session.get(StagedFile, file_id, with_for_update=True)
    if staged is None or staged.token_hash != token_hash:
        raise StagingRefused(StagingRefused.UNKNOWN)
    return staged


def add_piece(session: Session, blobs: BlobStore, file_id: str, token_hash: bytes,
              number: int, data: bytes, largest: int, on: dt.date) -> StagedFile:
    """Store piece ``number`` (0 starts the file) of at most ``largest`` bytes of ciphertext
    in all. The piece just stored, sent again because its answer was lost, is taken as
    stored. Flushes; the caller commits."""
    if not data or len(data) > MAX_PIECE_BYTES:
        raise StagingRefused(StagingRefused.MALFORMED)
    if number == 0:
        staged = _start(session, file_id, token_hash, on)
    else:
        staged = _owned(session, file_id, token_hash)
    if number == staged.pieces - 1:
        return staged  # stored already: its answer never arrived
    if number != staged.pieces:
        raise StagingRefused(StagingRefused.ORDER, staged)
    if staged.size + len(data) > largest:
        raise StagingRefused(StagingRefused.TOO_LARGE, staged)
    try:
        blobs.stage(session, file_id, number, staged.size, data)
    except StagedBlobLost:
        raise StagingRefused(StagingRefused.LOST) from None
    staged.pieces += 1
    staged.size += len(data)
    session.flush()
    return staged


def _start(session: Session, file_id: str, token_hash: bytes, on: dt.date) -> StagedFile:
    existing = session.get(StagedFile, file_id, with_for_update=True)
    if existing is not None:
        if existing.token_hash != token_hash:
            raise StagingRefused(StagingRefused.UNKNOWN)
        return existing
    if session.get(Attachment, file_id) is not None:
        raise StagingRefused(StagingRefused.UNKNOWN)
    staged = StagedFile(id=file_id, token_hash=token_hash, pieces=0, size=0, created_on=on)
    session.add(staged)
    return staged


@dataclass(frozen=True)
class SealedFile:
    """A staged file as the report names it: the records the browser sealed for it under
    the case's thread key (its metadata and its file key, docs/CRYPTO.md)."""

    id: str
    token: bytes
    meta: bytes
    file_key: bytes
    size: int  # of the ciphertext, as the page sent it: anything less did not arrive whole


def attach_staged(session: Session, blobs: BlobStore, server_key: bytes, case_id: str,
                  message_id: str, sealed: SealedFile, largest_plaintext: int,
                  on: dt.date) -> Attachment:
    """Make a staged file an attachment of the report message ``message_id``."""
    staged = _owned(session, sealed.id, token_digest(server_key, sealed.token))
    try:
        blobs.publish(session, sealed.id)
    except StagedBlobLost:
        raise StagingRefused(StagingRefused.LOST) from None
    digest = ContentDigest()
    size = 0
    head = b""
    with blobs.open(session, sealed.id) as source:
        while piece := source.read(READ_BYTES):
            head = head or piece[:8]
            size += len(piece)
            digest.update(piece)
    if size != staged.size or size != sealed.size:
        raise StagingRefused(StagingRefused.LOST)
    try:
        plaintext = sealed_plaintext_size(head, size)
    except DecryptionError:
        raise StagingRefused(StagingRefused.MALFORMED) from None
    if plaintext > largest_plaintext:
        raise StagingRefused(StagingRefused.TOO_LARGE)
    digest.update(sealed.meta)
    digest.update(sealed.file_key)
    attachment = Attachment(id=sealed.id, case_id=case_id, message_id=message_id,
                            meta_ciphertext=sealed.meta, file_key_ciphertext=sealed.file_key,
                            ciphertext_size=size, digest=digest.digest(), from_reporter=True,
                            created_on=on)
    store_attachment(session, attachment)
    session.delete(staged)
    return attachment


def sweep_staged(session: Session, blobs: BlobStore, on: dt.date) -> int:
    """Remove the files staged before yesterday that no report took, with their ciphertext."""
    cutoff = on - dt.timedelta(days=KEPT_DAYS)
    old = list(session.scalars(select(StagedFile).where(StagedFile.created_on < cutoff)))
    for staged in old:
        blobs.discard_staged(session, staged.id)
        session.delete(staged)
    return len(old)
