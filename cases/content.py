"""Encrypted case content: messages (report, replies, notes...), identity records and
attachments. Each item is bound to its case, its kind and its own id (docs/CRYPTO.md)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, true, update
from sqlalchemy.orm import Session

from cases.attachments.blobs import BlobStore, BlobWriter
from cases.attachments.cleaning import AttachmentCleaner
from cases.attachments.filetype import TypeSniffer, disagreement
from cases.bodies import Body, well_formed
from cases.keyring import Trust, wrap_to_caseworkers
from cases.models import (
    READABLE_BY_REPORTER,
    Attachment,
    Case,
    Caseworker,
    IdentityRecord,
    KeyPurpose,
    Message,
    MessageKind,
    new_id,
    today,
)
from cases.readahead import WriteBehind
from crypto import (
    ContentDigest,
    Context,
    DecryptionError,
    FileSealer,
    content_digest,
    content_link,
    contexts,
    decrypt_record,
    decrypt_stream,
    encrypt_record,
    new_key,
)

INTERNAL_KINDS = frozenset(MessageKind) - READABLE_BY_REPORTER
CONTENT_GENESIS = bytes(32)  # the content chain's head before a case's first item
WRITE_BEHIND_BATCH = 1024 * 1024  # plaintext handed to the sealing thread at a time


def key_purpose_of(kind: MessageKind) -> KeyPurpose:
    return KeyPurpose.THREAD if kind in READABLE_BY_REPORTER else KeyPurpose.INTERNAL


def message_context(case_id: str, kind: MessageKind, message_id: str) -> Context:
    return contexts.message(case_id, kind.value, message_id)


@dataclass(frozen=True)
class DecryptedMessage:
    id: str
    kind: MessageKind
    author_id: int | None
    created_on: dt.date
    body: dict[str, Any]
    damaged: bool = False  # it did not open, or not to a message body: ``body`` is empty


def add_message(
    session: Session,
    case_id: str,
    kind: MessageKind,
    key: bytes,
    body: Body,
    *,
    author_id: int | None = None,
    on: dt.date | None = None,
) -> Message:
    """Encrypt and store one message. ``key`` must be the case key for the kind's purpose."""
    message_id = new_id()
    plaintext = message_plaintext(body)
    ciphertext = encrypt_record(key, plaintext, message_context(case_id, kind, message_id))
    return store_message(session, case_id, message_id, kind, ciphertext, author_id=author_id, on=on)


def store_message(
    session: Session,
    case_id: str,
    message_id: str,
    kind: MessageKind,
    ciphertext: bytes,
    *,
    author_id: int | None = None,
    on: dt.date | None = None,
) -> Message:
    """Number, chain and store one sealed message: sealed by :func:`add_message`, or in the
    reporter's browser (cases.reporting.sealed)."""
    digest = content_digest(ciphertext)
    message = Message(
        id=message_id,
        case_id=case_id,
        position=append_content(session, case_id, message_id, digest),
        kind=kind,
        author_id=author_id,
        ciphertext=ciphertext,
        digest=digest,
        created_on=on or today(),
    )
    session.add(message)
    session.flush()
    return message


def store_attachment(session: Session, attachment: Attachment) -> None:
    """Number a finished upload after the case's other items, chain it, and add it."""
    if attachment.digest is None:
        raise ValueError("an attachment is stored once its upload has finished")
    attachment.position = append_content(
        session, attachment.case_id, attachment.id, attachment.digest
    )
    session.add(attachment)


def append_content(session: Session, case_id: str, item_id: str, digest: bytes) -> int:
    """The case's next item number, and its content chain moved past the new item.

    The number is counted on the case row, which the first statement also locks, so two
    writers to one case (on PostgreSQL) take numbers and chain links in turn."""
    number, head = session.execute(
        update(Case)
        .where(Case.id == case_id)
        .values(last_position=Case.last_position + 1)
        .returning(Case.last_position, Case.content_head)
        .execution_options(synchronize_session=False)
    ).one()
    session.execute(
        update(Case)
        .where(Case.id == case_id)
        .values(content_head=content_link(head or CONTENT_GENESIS, number, item_id, digest))
        .execution_options(synchronize_session=False)
    )
    return int(number)


def message_plaintext(body: Body) -> bytes:
    """What a message's record seals: its body as compact JSON, characters unescaped (so a
    search may look for words in it before parsing: cases.casework.search)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def open_message_json(key: bytes, case_id: str, kind: MessageKind, message_id: str,
                      ciphertext: bytes) -> str:
    """A stored message's body as the JSON text it was sealed as; DecryptionError if not."""
    plaintext = decrypt_record(key, ciphertext, message_context(case_id, kind, message_id))
    return plaintext.decode()


def open_message(key: bytes, case_id: str, kind: MessageKind, message_id: str,
                 ciphertext: bytes) -> dict[str, Any]:
    """A stored message's body, under the key of its kind; DecryptionError if it does not
    open, ValueError if it opens to something that is not a message body (only a report
    sealed in a browser can: cases.reporting.sealed)."""
    body = json.loads(open_message_json(key, case_id, kind, message_id, ciphertext))
    if not well_formed(body):
        raise ValueError("not a message body")
    return body  # type: ignore[no-any-return]


def read_messages(
    session: Session, case_id: str, keys: dict[KeyPurpose, bytes], kinds: Iterable[MessageKind]
) -> list[DecryptedMessage]:
    """Decrypt the case's messages of the given kinds, oldest first."""
    wanted = list(kinds)
    rows = session.scalars(
        select(Message)
        .where(Message.case_id == case_id, Message.kind.in_(wanted))
        .order_by(Message.position)
    )
    out = []
    for m in rows:
        key = keys[key_purpose_of(m.kind)]
        try:
            body = open_message(key, case_id, m.kind, m.id, m.ciphertext)
        except (DecryptionError, ValueError):  # shown as what could not be opened
            out.append(DecryptedMessage(m.id, m.kind, m.author_id, m.created_on, {}, True))
            continue
        out.append(DecryptedMessage(m.id, m.kind, m.author_id, m.created_on, body))
    return out


def identity_context(case_id: str, record_id: str) -> Context:
    return contexts.identity_record(case_id, record_id)


def add_identity_record(
    session: Session,
    case_id: str,
    details: dict[str, str],
    custodians: list[Caseworker],
    trust: Trust,
) -> IdentityRecord:
    """Seal identity details under a fresh key that only custodians and recovery hold.

    The reporter never holds this key, so someone who finds a receipt cannot read the
    identity the reporter disclosed."""
    record_id = new_id()
    key = new_key()
    plaintext = json.dumps(details, ensure_ascii=False).encode()
    record = IdentityRecord(
        id=record_id,
        case_id=case_id,
        ciphertext=encrypt_record(key, plaintext, identity_context(case_id, record_id)),
    )
    session.add(record)
    wrap_to_caseworkers(session, trust, case_id, KeyPurpose.IDENTITY, key, custodians, record_id)
    session.flush()
    return record


def read_identity_record(record: IdentityRecord, key: bytes) -> dict[str, str]:
    data: dict[str, str] = json.loads(
        decrypt_record(key, record.ciphertext, identity_context(record.case_id, record.id))
    )
    return data


def _attachment_contexts(case_id: str, attachment_id: str) -> tuple[Context, Context, Context]:
    return (
        contexts.attachment_meta(case_id, attachment_id),
        contexts.attachment_key(case_id, attachment_id),
        contexts.attachment_contents(case_id, attachment_id),
    )


class AttachmentUpload:
    """Encrypts one file as it streams in and writes only ciphertext to the blob store.

    Use ``write`` for each piece, then ``finish`` to get the (unsaved) Attachment row, or
    ``abort`` to discard. Nothing readable ever reaches disk, not even temporarily.
    JPEG and PNG metadata (Exif, GPS, XMP, comments...) is removed on the way in, and a
    PDF's in a sandboxed worker once it is complete (``cases.attachments.cleaning``), unless
    ``keep_metadata`` says the reporter chose to keep it (``clear_form_fields``: they asked
    for a PDF's filled-in form fields to be emptied too).
    The file's type is recognised from its first bytes as they pass (``cases.attachments.filetype``)
    and stored as ``detected`` in the encrypted metadata, beside the declared name and type.
    """

    def __init__(
        self,
        blobs: BlobStore,
        session: Session,
        case_id: str,
        thread_key: bytes,
        *,
        from_reporter: bool = True,
        keep_metadata: bool = False,
        clear_form_fields: bool = False,
        internal: bool = False,
    ) -> None:
        self.id = new_id()
        self._internal = internal  # a note's file: ``thread_key`` is then the internal key
        self.cleaner = (None if keep_metadata
                        else AttachmentCleaner(clear_form_fields=clear_form_fields))
        self.sniffer = TypeSniffer()
        self._case_id = case_id
        self._thread_key = thread_key
        self._file_key = new_key()
        self._from_reporter = from_reporter
        self._contexts = _attachment_contexts(case_id, self.id)
        self._sealer = FileSealer(self._file_key, self._contexts[2])
        self._writer: BlobWriter = blobs.writer(session, self.id)
        self._digest = ContentDigest()
        self.ciphertext_size = 0
        # A store whose writer needs no session seals and writes in a thread of its own,
        # a mebibyte at a time, while the next pieces arrive (cases.readahead.WriteBehind).
        self._behind = (WriteBehind(self._seal, batch_bytes=WRITE_BEHIND_BATCH)
                        if getattr(blobs, "writes_behind", False) else None)

    @property
    def size(self) -> int:
        return self._sealer.plaintext_size

    def write(self, data: bytes) -> None:
        self.sniffer.feed(data)
        if self.cleaner is not None:
            data = self.cleaner.feed(data)
        (self._seal if self._behind is None else self._behind.put)(data)

    def _seal(self, plaintext: bytes) -> None:
        self._store(self._sealer.push(plaintext))

    def _store(self, ciphertext: bytes) -> None:
        self.ciphertext_size += len(ciphertext)
        self._digest.update(ciphertext)
        self._writer.write(ciphertext)

    def finish(self, filename: str, content_type: str, *, on: dt.date | None = None) -> Attachment:
        if self.cleaner is not None:  # what it held back until the end
            (self._seal if self._behind is None else self._behind.put)(self.cleaner.finish())
        if self._behind is not None:
            self._behind.close()  # everything sealed and written, or its error raised
        self._store(self._sealer.finish())
        self._writer.commit()
        meta_ctx, key_ctx, _ = self._contexts
        meta = {
            "name": filename,
            "type": content_type,
            "size": self._sealer.plaintext_size,
            "detected": self.sniffer.detected,
            # What was removed, or why not (cases.attachments.cleaning); kept as sent when
            # the reporter chose to keep the metadata.
            "cleaning": self.cleaner.report() if self.cleaner is not None else {"kept": True},
        }
        meta_ct = encrypt_record(self._thread_key, json.dumps(meta).encode(), meta_ctx)
        key_ct = encrypt_record(self._thread_key, self._file_key, key_ctx)
        self._digest.update(meta_ct)
        self._digest.update(key_ct)
        return Attachment(
            id=self.id,
            case_id=self._case_id,
            meta_ciphertext=meta_ct,
            file_key_ciphertext=key_ct,
            ciphertext_size=self.ciphertext_size,
            digest=self._digest.digest(),
            from_reporter=self._from_reporter,
            internal=self._internal,
            created_on=on or today(),
        )

    def abort(self) -> None:
        if self._behind is not None:
            self._behind.cancel()
        self._writer.abort()


@dataclass(frozen=True)
class AttachmentMeta:
    id: str
    name: str
    content_type: str
    size: int
    from_reporter: bool
    created_on: dt.date
    internal: bool = False  # a file of an internal note
    # The type by content (cases.attachments.filetype); "" for files stored before.
    detected: str = ""
    # AttachmentCleaner.report(), {"kept": True}, or {} for files stored before.
    cleaning: dict[str, Any] = field(default_factory=dict)

    @property
    def content_mismatch(self) -> str | None:
        """Words for the content when the name or declared type says otherwise
        (e.g. "a ZIP archive" for a file named .pdf); None when they agree."""
        return disagreement(self.name, self.content_type, self.detected)


def attachment_meta(attachment: Attachment, thread_key: bytes) -> AttachmentMeta:
    meta_ctx, _, _ = _attachment_contexts(attachment.case_id, attachment.id)
    meta = json.loads(decrypt_record(thread_key, attachment.meta_ciphertext, meta_ctx))
    return AttachmentMeta(
        attachment.id,
        meta["name"],
        meta["type"],
        int(meta["size"]),
        attachment.from_reporter,
        attachment.created_on,
        attachment.internal,
        str(meta.get("detected", "")),
        meta["cleaning"] if isinstance(meta.get("cleaning"), dict) else {},
    )


def list_attachments(session: Session, case_id: str, thread_key: bytes,
                     internal_key: bytes | None = None) -> list[AttachmentMeta]:
    """The case's files under the thread key (what the reporter sees), and with
    ``internal_key`` the internal notes' files too."""
    rows = session.scalars(
        select(Attachment)
        .where(Attachment.case_id == case_id)
        .where(Attachment.internal.is_(False) if internal_key is None else true())
        .order_by(Attachment.created_on, Attachment.id)
    )
    return [attachment_meta(a, internal_key if a.internal and internal_key else thread_key)
            for a in rows]


def open_attachment(
    blobs: BlobStore, session: Session, attachment: Attachment, thread_key: bytes
) -> Iterator[bytes]:
    """Stream the decrypted file. Raises DecryptionError mid-stream on tampering."""
    _, key_ctx, stream_ctx = _attachment_contexts(attachment.case_id, attachment.id)
    file_key = decrypt_record(thread_key, attachment.file_key_ciphertext, key_ctx)
    with blobs.open(session, attachment.id) as source:
        yield from decrypt_stream(file_key, source, stream_ctx)
