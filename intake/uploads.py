"""Request parsing for the intake: uploads are encrypted while they stream in.

Werkzeug's default stream factory spools any upload larger than 500 KB to a plaintext
temporary file. Here every file part goes instead to an :class:`EncryptingSink` that pushes
each piece through a ``cases.content.AttachmentUpload`` (secretstream, ciphertext straight
into the blob store). Nothing readable reaches the disk, not even for a moment.

Which case (and key) a file belongs to depends on the view: a view that accepts files is
decorated with :func:`accepts_uploads`, naming a factory that returns the request's
:class:`UploadTarget`. The factory is called lazily, on the first file part, which may be
while Flask-WTF's CSRF check reads the form in ``before_request``. Parts sent to any other
view are drained without being stored.

**Metadata consent.** JPEG and PNG metadata is removed as the file streams in
(``cases.attachments.scrubbing``) unless the reporter ticks the :data:`KEEP_METADATA_FIELD` box. The
choice must be known when the first file part arrives, so it counts only if it comes
*before* the files: browsers send fields in document order, and our forms put the box
before the file input. A missing box means "remove". The parser notes which text fields it
has finished (their names are in the part headers) before any file part starts; the view
then checks the box's value against what was applied (:meth:`UploadState.keep_metadata_for`),
so a box that came after the files, or with another value, is a malformed form, never a
silent change of what was asked.

Limits that a file breaks (size per file, number of files) do not abort the parse: the
sink stops storing, records the problem and lets the rest of the body through, so that the
view can show the page again *with everything the reporter typed* and the limit stated.

Text fields stay in memory, bounded per field (``max_form_memory_size``) and all together
(``max_text_bytes``, also the whole body of a non-multipart form), and they are decoded as
strict UTF-8: a body that is not valid UTF-8 or not valid multipart is a 400, not a form
silently emptied or filled with replacement characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Protocol, TypeVar
from urllib.parse import parse_qsl

from flask import Request, current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from cases.content import AttachmentUpload
from intake.work import settings

KEEP_METADATA_FIELD = "keep_metadata"  # the reporter's consent to keep the files' metadata
KEEP_METADATA_VALUE = "yes"
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

    def new_upload(self, *, keep_metadata: bool = False) -> AttachmentUpload: ...

    def discard(self, upload: AttachmentUpload) -> None: ...


class EncryptingSink:
    """The file object Werkzeug writes a file part into. Encrypts as it goes."""

    def __init__(
        self, upload: AttachmentUpload | None, filename: str, content_type: str, limit: int
    ) -> None:
        self.upload = upload
        self.filename = filename
        self.content_type = content_type
        self.limit = limit
        self.size = 0
        self.too_large = False
        self.used = False  # attached to a case by the view

    @property
    def stored(self) -> bool:
        return self.upload is not None and not self.too_large

    @property
    def stored_upload(self) -> AttachmentUpload:
        """The upload of a file stored in full (one of ``UploadState.files``)."""
        if self.upload is None or self.too_large:
            raise RuntimeError("this file was not stored")
        return self.upload

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.upload is None or self.too_large:
            return len(data)
        if self.size > self.limit:
            self.too_large = True
            return len(data)
        self.upload.write(bytes(data))
        return len(data)

    # Werkzeug seeks to 0 when a part ends and FileStorage may read or close it: the
    # plaintext is gone by then, so these are no-ops.
    def seek(self, *_args: Any) -> int:
        return 0

    def tell(self) -> int:
        return self.size

    def read(self, *_args: Any) -> bytes:
        return b""

    def readline(self, *_args: Any) -> bytes:
        return b""

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def closed(self) -> bool:
        return False


@dataclass
class UploadState:
    """The file parts of one request, and what went wrong with them."""

    target: UploadTarget | None = None
    sinks: list[EncryptingSink] = field(default_factory=list)
    too_many: bool = False
    keep_metadata: bool = False  # the consent box came before the first file part
    consent_after_files: bool = False  # ... or after one: too late to apply

    def field_done(self, name: str) -> None:
        """The parser finished a text field (called before any later part starts)."""
        if name == KEEP_METADATA_FIELD:
            if self.sinks:
                self.consent_after_files = True
            else:
                self.keep_metadata = True

    def keep_metadata_for(self, form: Any) -> bool:
        """The reporter's choice, which must be the one applied to the stored files."""
        values = form.getlist(KEEP_METADATA_FIELD)
        if values not in ([], [KEEP_METADATA_VALUE]):
            raise MalformedForm()
        keep = bool(values)
        if self.files and (keep != self.keep_metadata or self.consent_after_files):
            raise MalformedForm()
        return keep

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


def clean_filename(name: str) -> str:
    """A file name as the reporter's system had it, minus paths and control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if not base.strip("."):  # "." and ".." name directories, not the reporter's file
        base = ""
    return base[:255] or "file"


class _LargeReads:
    """Reads the body in ``UPLOAD_READ_BYTES`` pieces; hands them on uncopied, in slices no
    larger than ``piece`` (Werkzeug refuses a single read larger than max_form_memory_size,
    its guard against endless part headers, so the parser's reads must stay below it)."""

    def __init__(self, stream: IO[bytes], piece: int) -> None:
        self._stream = stream
        self._piece = piece
        self._data = memoryview(b"")

    def read(self, size: int = -1) -> bytes | memoryview:
        if not self._data:
            self._data = memoryview(self._stream.read(UPLOAD_READ_BYTES))
        n = self._piece if size < 0 else min(size, self._piece)
        out, self._data = self._data[:n], self._data[n:]
        return out


class StrictMultiPartParser(MultiPartParser):
    """Werkzeug's multipart parsing (its sans-I/O decoder), with what the intake needs:

    * text parts are decoded as strict UTF-8: invalid bytes are an error, not replaced;
    * the text of all parts together is bounded (``max_text_bytes``), not only each part:
      200 parts of 300 KB each kept a worker's memory growing by 62 MB a request;
    * ``on_field(name)`` is called as each text part ends, before the next part starts
      (the metadata consent must be known before the first file arrives);
    * a part without a name is malformed (Flask-WTF would crash on it)."""

    def __init__(
        self,
        *args: Any,
        max_text_bytes: int,
        on_field: Callable[[str], None] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.max_text_bytes = max_text_bytes
        self.on_field = on_field

    def parse(
        self, stream: IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[Any, Any]:
        decoder = MultipartDecoder(
            boundary, max_form_memory_size=self.max_form_memory_size, max_parts=self.max_form_parts
        )
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        part: Field | File | None = None
        text: list[bytes] = []
        part_bytes = text_bytes = 0
        sink: IO[bytes] | None = None
        for data in _pieces(stream, self.buffer_size):
            decoder.receive_data(data)
            event = decoder.next_event()
            while not isinstance(event, Epilogue | NeedData):
                if isinstance(event, Field | File):
                    if not event.name:
                        raise ValueError("a form part has no name")
                    part, text, part_bytes, sink = event, [], 0, None
                    if isinstance(event, File):
                        sink = self.start_file_streaming(event, content_length)
                elif isinstance(event, Data) and part is not None:
                    if sink is not None:
                        sink.write(event.data)
                    else:
                        part_bytes += len(event.data)
                        text_bytes += len(event.data)
                        limit = self.max_form_memory_size
                        if text_bytes > self.max_text_bytes or (limit and part_bytes > limit):
                            raise RequestEntityTooLarge()
                        text.append(event.data)
                    if not event.more_data:
                        if sink is None:
                            value = b"".join(text).decode("utf-8")  # strict
                            if self.on_field is not None:
                                self.on_field(part.name)
                            fields.append((part.name, value))
                        else:
                            sink.seek(0)
                            assert isinstance(part, File)
                            storage = FileStorage(
                                sink, part.filename, part.name, headers=part.headers
                            )
                            files.append((part.name, storage))
                event = decoder.next_event()
        return self.cls(fields), self.cls(files)


def _pieces(stream: IO[bytes], size: int) -> Iterator[bytes | None]:
    """The body in pieces, then None: the decoder's signal that the body has ended."""
    while data := stream.read(size):
        yield data
    yield None


class StrictFormDataParser(FormDataParser):
    on_field: Callable[[str], None] | None = None  # set by IntakeRequest
    max_text_bytes = 0  # set by IntakeRequest

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["silent"] = False
        super().__init__(*args, **kwargs)

    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> Any:
        parser = StrictMultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            max_text_bytes=self.max_text_bytes,
            on_field=self.on_field,
            buffer_size=UPLOAD_READ_BYTES,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("missing boundary")
        # Werkzeug checks each read against max_form_memory_size; leave room for what its
        # buffer may already hold (the start of a part's headers, a partial boundary).
        limit = self.max_form_memory_size
        piece = min(UPLOAD_READ_BYTES, max(4096, (limit or UPLOAD_READ_BYTES) // 2))
        reader = _LargeReads(stream, piece)
        form, files = parser.parse(reader, boundary, content_length)  # type: ignore[arg-type]
        return stream, form, files

    def _parse_urlencoded(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> Any:
        body = stream.read().decode("utf-8")  # raw bytes must be UTF-8 (ASCII in practice)
        items = parse_qsl(body, keep_blank_values=True, encoding="utf-8", errors="strict")
        return stream, self.cls(items), self.cls()


class IntakeRequest(Request):
    """Flask request whose file parts are encrypted on arrival and whose text is strict."""

    form_data_parser_class = StrictFormDataParser
    # Text fields are small and stay in memory; upload bodies may be large, but they
    # never touch the disk in plaintext (see EncryptingSink).
    max_form_parts = 200

    @property
    def max_content_length(self) -> int | None:
        instance = settings()
        if self.mimetype == "multipart/form-data":
            return int(instance.max_request_bytes)
        return self.max_text_bytes

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        raise AttributeError("set through the settings")

    @property
    def max_form_memory_size(self) -> int | None:
        instance = settings()
        # One UTF-8 character takes at most 4 bytes; browsers send CRLF line breaks.
        return int(instance.max_report_chars) * 5 + 64 * 1024

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        raise AttributeError("set through the settings")

    @property
    def max_text_bytes(self) -> int:
        """All text fields of one request together, whatever the encoding: the longest
        field twice over, plus the short ones (files stream past it, encrypted)."""
        return int(self.max_form_memory_size or 0) * 2 + FORM_BODY_SLACK

    def make_form_data_parser(self) -> FormDataParser:
        parser = super().make_form_data_parser()
        if isinstance(parser, StrictFormDataParser):
            parser.on_field = self.uploads.field_done
            parser.max_text_bytes = self.max_text_bytes
        return parser

    @property
    def uploads(self) -> UploadState:
        state = self.__dict__.get("_uploads")
        if state is None:
            state = self.__dict__["_uploads"] = UploadState()
        return state

    def _upload_target(self) -> UploadTarget | None:
        state = self.uploads
        if state.target is None:
            view = current_app.view_functions.get(self.endpoint or "")
            factory = getattr(view, "upload_target", None)
            if factory is not None:
                state.target = factory()
        return state.target

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        instance = settings()
        state = self.uploads
        upload = None
        if filename:  # an empty file input sends a part with no file name: store nothing
            named = sum(1 for s in state.sinks if s.filename)
            if named >= instance.max_files_per_submission:
                state.too_many = True
            else:
                target = self._upload_target()
                upload = (
                    target.new_upload(keep_metadata=state.keep_metadata)
                    if target is not None
                    else None
                )
        sink = EncryptingSink(upload, filename or "", content_type or "", instance.max_file_bytes)
        state.sinks.append(sink)
        return sink  # type: ignore[return-value]

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except RequestEntityTooLarge:
            raise
        except UnicodeError as exc:
            raise InvalidEncoding() from exc
        except ValueError as exc:  # Werkzeug's multipart parser reports errors this way
            raise MalformedForm() from exc
