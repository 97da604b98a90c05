"""Request parsing for the intake: strict multipart and UTF-8, with each file part handed
to its :class:`~cases.attachments.streaming.EncryptingSink` as it arrives.

Limits that a file breaks (size per file, number of files) do not abort the parse: the
sink stops storing, records the problem and lets the rest of the body through, so that the
view can show the page again *with everything the reporter typed* and the limit stated.

Text fields stay in memory, bounded per field (``max_form_memory_size``) and all together
(``max_text_bytes``, also the whole body of a non-multipart form), and they are decoded as
strict UTF-8: a body that is not valid UTF-8 or not valid multipart is a 400, not a form
silently emptied or filled with replacement characters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any
from urllib.parse import parse_qsl

from flask import Request, current_app
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from cases.attachments.streaming import EncryptingSink
from cases.reporting.staged_files import MAX_PIECE_BYTES
from intake.uploads import (
    FORM_BODY_SLACK,
    UPLOAD_READ_BYTES,
    InvalidEncoding,
    MalformedForm,
    UploadState,
    UploadTarget,
)
from intake.work import settings


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
    * ``on_field(name, value)`` is called as each text part ends, before the next part
      starts (the metadata consent and the submission id must be known before the first
      file arrives);
    * a part without a name is malformed (Flask-WTF would crash on it)."""

    def __init__(
        self,
        *args: Any,
        max_text_bytes: int,
        on_field: Callable[[str, str], None] | None = None,
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
                                self.on_field(part.name, value)
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
    on_field: Callable[[str, str], None] | None = None  # set by IntakeRequest
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
        if self.mimetype == "application/json":
            # A report sealed in the browser (intake.report.sealed_form): the same text as
            # ciphertext in base64, a third larger, with JSON's escapes.
            return self.max_text_bytes * 2
        if self.mimetype == "application/octet-stream":
            return MAX_PIECE_BYTES  # a piece of a file sealed in the browser
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
                    target.new_upload(keep_metadata=state.keep_metadata,
                                      clear_form_fields=state.clear_form_fields)
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
