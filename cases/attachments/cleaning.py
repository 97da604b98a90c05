"""One cleaner per uploaded file, in front of its encryption (``cases.content``): photos
stream through :class:`~cases.attachments.scrubbing.MetadataScrubber`; a PDF, an Office
or OpenDocument file, or an audio or video file, which need random access (a PDF's
cross-reference table, a ZIP's directory and an MP4's index may sit at the end), is held
in memory up to :data:`MAX_HELD_BYTES` and cleaned when it is complete, in the sandboxed
worker (``cases.attachments.sandbox``). Nothing is written to disk either way.

A file larger than the bound, or one the worker cannot clean (damaged, hostile, too slow),
is stored exactly as it was sent; :meth:`AttachmentCleaner.report` says which and why, and
the reporter and the caseworker are told (docs/THREAT_MODEL.md lists per format what is
and is not removed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cases.attachments.cleaner_worker import PDF_WITHOUT_FORM_VALUES
from cases.attachments.filetype import detect
from cases.attachments.media_cleaning import MEDIA_FORMATS  # names only: no av, no mutagen
from cases.attachments.sandbox import Cleaned, NotCleaned, clean_in_sandbox
from cases.attachments.scrubbing import Kind, MetadataScrubber

PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"  # Office Open XML and OpenDocument are ZIP archives
SNIFF_BYTES = 12  # enough to tell every format held for the worker (RIFF's form type)
MAX_HELD_BYTES = 32 * 1024 * 1024  # plaintext held in memory for one file, at most

Sandbox = Callable[[str, bytes], Cleaned | NotCleaned]


class AttachmentCleaner:
    """Feed the file's bytes in order; write what :meth:`feed` and :meth:`finish` return."""

    def __init__(self, sandbox: Sandbox = clean_in_sandbox, max_held: int | None = None,
                 clear_form_fields: bool = False) -> None:
        self._sandbox = sandbox
        self._clear_form_fields = clear_form_fields  # what was typed in: only if asked
        self._max_held = MAX_HELD_BYTES if max_held is None else max_held
        self._scrubber = MetadataScrubber()
        self._sniffed = bytearray()
        self._held: bytearray | None = None  # a file for the worker, while it comes in
        self._streaming = False  # not one: the photo scrubber has the bytes
        self.kind = ""  # "jpeg", "png", "pdf", "office", "media" or "other", once known
        self.removed: list[str] = []
        self.reason = ""  # why a file we clean was not: "too_large", "timeout", "failed"

    def feed(self, data: bytes) -> bytes:
        if self._held is not None:
            return self._hold(data)
        if self._streaming:
            return self._scrubber.feed(data)
        self._sniffed += data
        if len(self._sniffed) < SNIFF_BYTES:
            return b""
        first, self._sniffed = bytes(self._sniffed), bytearray()
        held = _held_kind(first)
        if held:
            self.kind, self._held = held, bytearray()
            return self._hold(first)
        self._streaming = True
        return self._scrubber.feed(first)

    def _hold(self, data: bytes) -> bytes:
        assert self._held is not None
        self._held += data
        if len(self._held) <= self._max_held:
            return b""
        out, self._held = bytes(self._held), None  # too large: from here it streams as sent
        self.reason = "too_large"
        self._scrubber, self._streaming = _Passthrough(), True
        return out

    def finish(self) -> bytes:
        if self._held is not None:
            held, self._held = bytes(self._held), None
            asked = self.kind == "pdf" and self._clear_form_fields
            result = self._sandbox(PDF_WITHOUT_FORM_VALUES if asked else self.kind, held)
            if isinstance(result, Cleaned):
                self.removed = result.removed
                return result.data
            if result.reason == "unsupported":  # a ZIP that is no document: as sent
                self.kind = "other"
            else:
                self.reason = result.reason
            return held
        head = b""
        if not self._streaming:  # shorter than the sniff: the photo scrubber decides
            self._streaming = True
            head, self._sniffed = self._scrubber.feed(bytes(self._sniffed)), bytearray()
        out = head + self._scrubber.finish()
        self.kind = self.kind or _kind_of(self._scrubber.kind)
        self.removed = list(self._scrubber.removed)
        if not self._scrubber.complete:
            self.reason = "damaged"
        return out

    def report(self) -> dict[str, Any]:
        """What the encrypted metadata keeps of the cleaning (shown to reporter and staff)."""
        cleaned = self.kind in ("jpeg", "png", "pdf", "office", "media") and not self.reason
        return {"kind": self.kind, "cleaned": cleaned, "removed": self.removed,
                "reason": self.reason}


class _Passthrough(MetadataScrubber):
    """What a file too large to hold becomes: its remaining bytes pass as they are."""

    def feed(self, data: bytes) -> bytes:
        return data

    def finish(self) -> bytes:
        return b""


def _held_kind(first: bytes) -> str:
    """The worker's kind for a file that starts with ``first``, or "" for one that streams."""
    if first.startswith(PDF_MAGIC):
        return "pdf"
    if first.startswith(ZIP_MAGIC):
        return "office"
    return "media" if detect(first) in MEDIA_FORMATS else ""


def _kind_of(kind: Kind) -> str:
    return {Kind.JPEG: "jpeg", Kind.PNG: "png"}.get(kind, "other")


def outcome(report: dict[str, Any]) -> tuple[str, list[str]]:
    """What a file's stored report comes to, for the words each app shows: "kept" (the
    reporter kept the metadata), "removed" (with what), "none_found", "too_large",
    "unreadable", "unsupported", "browser" (sealed in the reporter's browser, which cleans
    only JPEG and PNG: intake/static/sealing/cleaning.mjs); "" for files stored before
    files were reported on."""
    if not report:
        return "", []
    if report.get("kept"):
        return "kept", []
    reason = str(report.get("reason", ""))
    if report.get("cleaned"):
        removed = [str(key) for key in report.get("removed") or []]
        if not removed:
            return "none_found", []
        photo = report.get("kind") in ("jpeg", "png")
        return "removed", ["photo"] if photo else removed
    if reason in ("too_large", "browser"):
        return reason, []
    return ("unreadable", []) if reason else ("unsupported", [])
