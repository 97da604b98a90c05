"""A file part being encrypted while it streams in: the file object a web framework's
multipart parser writes into (each app's request class hands one out per file part), in
front of a ``cases.content.AttachmentUpload``. Nothing readable is kept: each piece goes
through the upload's cleaning and encryption as it arrives, and a file over its limit stops
being stored (the rest of the request still passes, so the page can say what went wrong and
keep what was typed). No web framework here: the intake and the back office both use it.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from cases.content import AttachmentUpload


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


def clean_filename(name: str) -> str:
    """A file name as the sender's system had it, minus paths and control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if not base.strip("."):  # "." and ".." name directories, not the reporter's file
        base = ""
    return base[:255] or "file"
