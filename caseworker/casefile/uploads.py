"""Files a caseworker attaches to a reply to the reporter or to an internal note: each file
part is encrypted while it streams in, exactly as the intake's are
(``cases.attachments.streaming.EncryptingSink`` in front of
``cases.content.AttachmentUpload``: the case's thread key for a reply, its internal key for
a note, the same limits, the same metadata removal), and never spooled to disk as Werkzeug
would.

The parser meets the files before any view runs (Flask-WTF's CSRF check reads the form in
``before_request``), so the first file part finds the signed-in caseworker and unwraps the
case's key here; a part sent anywhere but a reply or a note, or by someone without the key,
is drained and stored nowhere. Files the step does not take (a refusal, a form error, a
limit broken) are deleted before the request's transaction commits (:func:`discard`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, request
from flask_babel import gettext as _

from cases.attachments.streaming import EncryptingSink, clean_filename
from cases.content import AttachmentUpload
from cases.keyring import NoAccess, caseworker_key
from cases.models import KeyPurpose
from caseworker import web

# The views that take files, and the key each file is sealed under.
FILE_ENDPOINTS = {"casefile.reply": KeyPurpose.THREAD, "casefile.note": KeyPurpose.INTERNAL}


@dataclass
class MessageFiles:
    """The file parts of this request."""

    sinks: list[EncryptingSink] = field(default_factory=list)
    too_many: bool = False
    key: bytes | None = None  # the thread key for a reply's files, internal for a note's
    looked_up: bool = False

    @property
    def stored(self) -> list[EncryptingSink]:
        """Files stored in full, in the order they came."""
        return [s for s in self.sinks if s.stored]

    def problems(self) -> list[str]:
        """What broke a limit, in the caseworker's language; nothing was kept then."""
        instance = web.settings()
        found = []
        if self.too_many:
            found.append(_("Attach at most %(count)d files to one message.",
                           count=instance.max_files_per_submission))
        for sink in self.sinks:
            if sink.too_large:
                found.append(_("The file “%(name)s” is larger than the limit for one file "
                               "(%(mb)d MB).", name=clean_filename(sink.filename),
                               mb=instance.max_file_bytes // (1024 * 1024)))
        return found

    def named(self) -> list[tuple[AttachmentUpload, str, str]]:
        """The stored files as the step attaches them (upload, name, declared type)."""
        out = []
        for sink in self.stored:
            sink.used = True
            out.append((sink.stored_upload, clean_filename(sink.filename),
                        sink.content_type or "application/octet-stream"))
        return out


def message_files() -> MessageFiles:
    if "message_files" not in g:
        g.message_files = MessageFiles()
    files: MessageFiles = g.message_files
    return files


def _case_key(files: MessageFiles) -> bytes | None:
    """The case's key for this step's files (thread or internal) for the signed-in
    caseworker, once per request; None for a request that takes no files, or a caseworker
    without access to the case."""
    if files.looked_up:
        return files.key
    files.looked_up = True
    case_id = (request.view_args or {}).get("case_id", "")
    purpose = FILE_ENDPOINTS.get(request.endpoint or "")
    if purpose is None or not isinstance(case_id, str):
        return None
    web.load_current_session()
    if web.current_account() is None:
        return None
    try:
        files.key = caseworker_key(web.db(), case_id, purpose,
                                          web.account().id, web.private_key())
    except NoAccess:
        return None
    return files.key


def file_sink(filename: str, content_type: str) -> EncryptingSink:
    """Where the parser writes one file part (the app's request class asks for it)."""
    instance = web.settings()
    files = message_files()
    upload = None
    key = _case_key(files) if filename else None
    if key is not None:
        if len([s for s in files.sinks if s.filename]) >= instance.max_files_per_submission:
            files.too_many = True
        else:
            case_id = str((request.view_args or {})["case_id"])
            internal = FILE_ENDPOINTS[request.endpoint or ""] is KeyPurpose.INTERNAL
            upload = AttachmentUpload(web.store().blobs, web.db(), case_id, key,
                                      from_reporter=False, internal=internal)
    sink = EncryptingSink(upload, filename, content_type, instance.max_file_bytes)
    files.sinks.append(sink)
    return sink


def discard(*, taken_too: bool = False) -> None:
    """Delete the ciphertext of every file no step took: before the commit, and when the
    request fails (a folder's files are not part of the transaction). ``taken_too``: also
    those a step took, when it was refused and rolled back."""
    files: MessageFiles | None = g.get("message_files")
    if files is None:
        return
    for sink in files.sinks:
        if sink.upload is not None and (taken_too or not sink.used):
            sink.upload.abort()
            sink.upload = None
