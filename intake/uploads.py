"""Uploads in the intake: each file part is encrypted while it streams in.

Werkzeug's default stream factory spools any upload larger than 500 KB to a plaintext
temporary file. Here every file part goes instead to an :class:`EncryptingSink` that pushes
each piece through a ``cases.content.AttachmentUpload`` (secretstream, ciphertext straight
into the blob store). Nothing readable reaches the disk, not even for a moment.

Which case (and key) a file belongs to depends on the view: a view that accepts files is
decorated with :func:`accepts_uploads`, naming a factory that returns the request's
:class:`UploadTarget`. The factory is called lazily, on the first file part, which may be
while Flask-WTF's CSRF check reads the form in ``before_request``. Parts sent to any other
view are drained without being stored.

**Metadata consent.** Files' metadata is removed (``cases.attachments.cleaning``) unless
the reporter ticks the :data:`KEEP_METADATA_FIELD` box, and what was filled in on a PDF's
form fields is emptied only if they tick the :data:`CLEAR_FORMS_FIELD` box (it may be the
evidence). Each choice must be known when the first file part arrives, so it counts only
if it comes *before* the files: browsers send fields in document order, and our forms put
the boxes before the file input. A missing box means the default. The parser notes which
text fields it has finished (their names are in the part headers) before any file part
starts; the view then checks the boxes' values against what was applied
(:meth:`UploadState.check_file_choices`), so a box that came after the files, or with
another value, is a malformed form, never a silent change of what was asked.

The parser that feeds the sinks (strict multipart and UTF-8) is ``intake.parsing``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from cases.attachments.streaming import EncryptingSink, clean_filename
from cases.content import AttachmentUpload
from intake.work import settings

KEEP_METADATA_FIELD = "keep_metadata"  # the reporter's consent to keep the files' metadata
SUBMISSION_ID_FIELD = "submission_id"  # the review form's random id (intake.report.forms)
CLEAR_FORMS_FIELD = "clear_form_fields"  # the reporter's wish to empty PDF form fields
KEEP_METADATA_VALUE = "yes"  # the value of every such box
FILE_CHOICES = (KEEP_METADATA_FIELD, CLEAR_FORMS_FIELD)  # boxes that must precede the files
FORM_BODY_SLACK = 256 * 1024  # non-text fields, markup of the multipart envelope
# The body is read from the server in pieces this large. Werkzeug's default (64 KiB) is far
# below what gunicorn receives at once (up to 1 MiB), and each small read made gunicorn copy
# the rest of its read-ahead buffer: uploads ran at a tenth of the speed the server takes a
# body at (bench/bench_upload.py, docs/PERFORMANCE.md).
UPLOAD_READ_BYTES = 1024 * 1024


def megabytes(n: int) -> str:
    """A size limit as the pages state it: whole MB, or one decimal below 1 MB."""
    return f"{n / (1024 * 1024):.0f}" if n >= 1024 * 1024 else f"{n / (1024 * 1024):.1f}"


def file_errors(uploads: UploadState) -> list[str]:
    """What to tell the reporter when their files broke a limit: which limit, which file,
    and that nothing was stored while their text is kept."""
    instance = settings()
    errors = []
    if uploads.too_many:
        errors.append(
            _(
                "You chose more than %(count)d files. Send at most %(count)d now; you can add more "
                "later with your receipt.",
                count=instance.max_files_per_submission,
            )
        )
    for sink in uploads.too_large:
        errors.append(
            _(
                "The file “%(name)s” is larger than %(mb)s MB, the limit for one file.",
                name=clean_filename(sink.filename),
                mb=megabytes(instance.max_file_bytes),
            )
        )
    errors.append(
        _("Nothing was stored. Your text is kept below: choose the files again and send.")
    )
    return errors


View = TypeVar("View", bound=Callable[..., Any])


class MalformedForm(BadRequest):
    """The request body is not a well-formed form (broken multipart, missing boundary)."""

    description = "malformed form data"


class InvalidEncoding(BadRequest):
    """A text field is not valid UTF-8."""

    description = "text is not valid UTF-8"


class UploadTarget(Protocol):
    """Where a view's uploads go: a new encrypted attachment for each file part."""

    def new_upload(self, *, keep_metadata: bool = False,
                   clear_form_fields: bool = False) -> AttachmentUpload: ...

    def discard(self, upload: AttachmentUpload) -> None: ...


@dataclass
class UploadState:
    """The file parts of one request, and what went wrong with them."""

    target: UploadTarget | None = None
    sinks: list[EncryptingSink] = field(default_factory=list)
    too_many: bool = False
    keep_metadata: bool = False  # the consent box came before the first file part
    clear_form_fields: bool = False  # and so did the box asking to empty form fields
    consent_after_files: bool = False  # ... or one of them after a file: too late to apply
    # The report form's submission id, as it passed before any file part (it seeds the
    # receipt, derived before the draft's first statement: cases.reporting.submission).
    submission_id: str = ""

    def field_done(self, name: str, value: str = "") -> None:
        """The parser finished a text field (called before any later part starts)."""
        if name == SUBMISSION_ID_FIELD and not self.sinks and len(value) <= 64:
            self.submission_id = value
        if name in FILE_CHOICES:
            if self.sinks:
                self.consent_after_files = True
            else:
                setattr(self, name, True)  # the field names are the attributes' names

    def check_file_choices(self, form: Any) -> None:
        """The reporter's choices, which must be the ones applied to the stored files."""
        for name in FILE_CHOICES:
            values = form.getlist(name)
            if values not in ([], [KEEP_METADATA_VALUE]):
                raise MalformedForm()
            if self.files and (bool(values) != getattr(self, name) or self.consent_after_files):
                raise MalformedForm()


    @property
    def too_large(self) -> list[EncryptingSink]:
        return [s for s in self.sinks if s.too_large]

    @property
    def files(self) -> list[EncryptingSink]:
        """Files stored in full, in the order they arrived."""
        return [s for s in self.sinks if s.stored]

    @property
    def problem(self) -> bool:
        return self.too_many or bool(self.too_large)

    def discard_unused(self) -> None:
        for sink in self.sinks:
            if sink.upload is not None and not sink.used and self.target is not None:
                self.target.discard(sink.upload)
                sink.upload = None


def accepts_uploads(factory: Callable[[], UploadTarget | None]) -> Callable[[View], View]:
    """Mark a view as taking files; ``factory`` gives the target (None: drain the parts)."""

    def mark(view: View) -> View:
        view.upload_target = factory  # type: ignore[attr-defined]
        return view

    return mark


def file_choices_sent(form: Any) -> dict[str, bool]:
    """The boxes as the reporter sent them, to show them again on an error page."""
    return {name: form.get(name) == KEEP_METADATA_VALUE for name in FILE_CHOICES}
