"""Export of one case for legal follow-up: a ZIP made on demand and streamed as it is
built. Nothing of it is written to the server's disk: the archive is produced into a small
in-memory buffer that the generator empties after every write, and attachments are
decrypted chunk by chunk straight into the archive.

Contents: README.txt, case.json (workflow metadata), thread.txt/thread.json (report,
reporter messages, replies, minutes), internal.txt/internal.json (notes, triage, risk,
conclusion: optional), attachments/ (decrypted files) and audit.json (the case's audit
trail with its hashes, checkable against the chain). Identity details are never included:
they go through the identity-access step.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from cases.casework.choices import THREAD_KINDS
from cases.casework.reading import audit_trail, links_of
from cases.casework.redaction import Redactions
from cases.content import (
    INTERNAL_KINDS,
    AttachmentMeta,
    DecryptedMessage,
    attachment_meta,
    open_attachment,
    read_messages,
)
from cases.models import (
    Attachment,
    AuditEntry,
    Case,
    CaseLabel,
    Caseworker,
    Category,
    KeyPurpose,
)
from cases.store import Store

_UNSAFE = re.compile(r"[^\w.\- ]+")
NO_REDACTIONS = Redactions()


class _Buffer(io.RawIOBase):
    """A write-only, unseekable sink that the generator drains after each step."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._pos += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._pos

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def safe_filename(name: str, fallback: str = "file") -> str:
    """A file name fit for a ZIP entry or a download: no directories, no control or
    bidirectional characters, nothing that starts with a dot."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C",))
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:120] or fallback


@dataclass(frozen=True)
class ExportKeys:
    thread: bytes
    internal: bytes | None

    def key_of(self, attachment: Attachment) -> bytes:
        """The key a file's name and key are sealed under (an internal note's: internal)."""
        if attachment.internal:
            if self.internal is None:
                raise ValueError("an internal note's file without the internal key")
            return self.internal
        return self.thread


def _message_json(m: DecryptedMessage, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": m.id,
        "kind": m.kind.value,
        "date": m.created_on.isoformat(),
        "author": names.get(m.author_id, "") if m.author_id else "",
        "body": m.body,
    }


def body_lines(body: dict[str, Any]) -> list[str]:
    """A message body as lines of text: its text, then each other field as ``[key] value``
    (a report's answers, a triage's scope...), as the ZIP's .txt files and the PDF show it."""
    lines = []
    for key, value in body.items():
        if key == "text":
            lines.append(str(value))
        else:
            rendered = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            lines.append(f"[{key}] {rendered}")
    return lines


def _message_text(m: DecryptedMessage, names: dict[int, str]) -> str:
    author = (
        names.get(m.author_id, "caseworker")
        if m.author_id
        else ("reporter" if m.kind.value in ("report", "reporter_message") else "system")
    )
    lines = [f"=== {m.created_on.isoformat()} · {m.kind.value} · {author} ===", *body_lines(m.body)]
    return "\n".join(lines) + "\n\n"


@dataclass
class ExportContents:
    """Everything the archive holds but the files' bytes, read in one session (the PDF,
    ``cases.casework.case_pdf``, shows the same)."""

    metadata: dict[str, Any]
    names: dict[int, str]
    thread: list[DecryptedMessage]
    internal: list[DecryptedMessage]
    trail: list[dict[str, Any]]
    attachments: list[tuple[Attachment, AttachmentMeta]]


def export_case(
    store: Store,
    case_id: str,
    keys: ExportKeys,
    *,
    exported_by: str,
    on: dt.date,
    redactions: Redactions = NO_REDACTIONS,
) -> Iterator[bytes]:
    """Yield the ZIP archive piece by piece. Opens its own database sessions, since it
    runs after the request that authorised it has finished. ``redactions`` black out the
    marked passages in every text of the archive and in the files' names (not inside the
    files: they go as they are)."""
    with store.reader() as db:  # the archive streams for minutes: no write lock meanwhile
        contents = read_export_contents(db, case_id, keys, exported_by=exported_by, on=on)
    if contents is None:
        return
    sink = _Buffer()
    names = contents.names
    black, black_json = redactions.apply, redactions.apply_to
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _readme(case_id, exported_by, on, redactions))
        archive.writestr("case.json", _dump(black_json(contents.metadata)))
        for name, messages in [("thread", contents.thread), ("internal", contents.internal)]:
            if name == "internal" and keys.internal is None:
                continue
            archive.writestr(f"{name}.json",
                             _dump(black_json([_message_json(m, names) for m in messages])))
            archive.writestr(f"{name}.txt", black("".join(_message_text(m, names)
                                                          for m in messages)))
        archive.writestr("audit.json", _dump(black_json(contents.trail)))
        yield sink.drain()
        for n, (attachment, meta) in enumerate(contents.attachments, start=1):
            entry = f"attachments/{n:03d}-{attachment.id}-{safe_filename(black(meta.name))}"
            with store.reader() as blob_db, archive.open(entry, "w", force_zip64=True) as out:
                for chunk in open_attachment(store.blobs, blob_db, attachment,
                                             keys.key_of(attachment)):
                    out.write(chunk)
                    yield sink.drain()
            yield sink.drain()
    yield sink.drain()


def read_export_contents(
    db: Session, case_id: str, keys: ExportKeys, *, exported_by: str, on: dt.date
) -> ExportContents | None:
    """What an export shows of the case (None once it is gone)."""
    case = db.get(Case, case_id)
    if case is None:
        return None
    names = {cw.id: cw.name for cw in db.scalars(select(Caseworker))}
    key_map = {KeyPurpose.THREAD: keys.thread}
    thread = read_messages(db, case.id, key_map, THREAD_KINDS)
    internal: list[DecryptedMessage] = []
    if keys.internal is not None:
        key_map[KeyPurpose.INTERNAL] = keys.internal
        internal = read_messages(db, case.id, key_map, sorted(INTERNAL_KINDS))
    attachments = db.scalars(
        select(Attachment)
        .where(Attachment.case_id == case.id)
        .where(Attachment.internal.is_(False) if keys.internal is None else true())
        .order_by(Attachment.created_on, Attachment.id)
    )
    metadata = _case_metadata(db, case, exported_by=exported_by, on=on)
    metadata["internal_records_included"] = keys.internal is not None
    return ExportContents(
        metadata=metadata,
        names=names,
        thread=thread,
        internal=internal,
        trail=[_trail_entry(e, names) for e in audit_trail(db, case.id)],
        attachments=[(a, attachment_meta(a, keys.key_of(a))) for a in attachments],
    )


def _trail_entry(e: AuditEntry, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat(timespec="seconds"),
        "actor": names.get(e.actor_id, e.actor_id) if e.actor_id else None,
        "actor_id": e.actor_id,
        "action": e.action,
        "detail": json.loads(e.detail),
        "prev_hash": e.prev_hash.hex(),
        "entry_hash": e.entry_hash.hex(),
    }


def _case_metadata(db: Session, case: Case, *, exported_by: str, on: dt.date) -> dict[str, Any]:
    """The workflow metadata of case.json (plaintext columns only)."""
    category = db.get(Category, case.category_id) if case.category_id else None
    labels = list(db.scalars(select(CaseLabel.label).where(CaseLabel.case_id == case.id)))
    linked = {*links_of(db, case.id), *([case.linked_case_id] if case.linked_case_id else [])}
    return {
        "case": case.id,
        "channel": case.channel,
        "status": case.status.value,
        "category": category.name if category else None,
        "priority": case.priority,
        "received_on": case.received_on.isoformat(),
        "acknowledged_on": _iso(case.acknowledged_on),
        "acknowledge_due_on": _iso(case.acknowledge_due_on),
        "feedback_due_on": _iso(case.feedback_due_on),
        "feedback_given_on": _iso(case.feedback_given_on),
        "triaged_on": _iso(case.triaged_on),
        "risk_assessed_on": _iso(case.risk_assessed_on),
        "risk_review_on": _iso(case.risk_review_on),
        "concluded_on": _iso(case.concluded_on),
        "closed_on": _iso(case.closed_on),
        "outcome": case.outcome,
        "legal_hold_reason": case.legal_hold_reason,
        "minutes_agreed_on": _iso(case.minutes_agreed_on),
        "labels": labels,
        "linked_cases": sorted(linked),
        "exported_on": on.isoformat(),
        "exported_by": exported_by,
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def _readme(case_id: str, exported_by: str, on: dt.date, redactions: Redactions) -> str:
    marked = (f"Passages blacked out in this copy: {len(redactions.passages)} (in the texts and"
              " the files' names, not inside the files). The case itself is unchanged.\n\n"
              if redactions.passages else "")
    return marked + (
        f"Sealbox case export\n\nCase: {case_id}\nExported on: {on.isoformat()}\n"
        f"Exported by: {exported_by}\n\n"
        "This archive holds the decrypted content of a whistleblowing case. It is\n"
        "confidential: keep it encrypted, share it only with those who need it for the\n"
        "legal follow-up, and delete it when that ends. The reporter's identity details are\n"
        "not included.\n\n"
        "case.json      workflow metadata and deadlines\n"
        "thread.*       the report and every message between reporter and caseworkers\n"
        "internal.*     internal notes, triage, risk assessment and conclusion (if included)\n"
        "attachments/   the files, decrypted\n"
        "audit.json     this case's audit trail, with the hashes of the audit chain\n"
    )
