"""One unit of work per request: one database session, committed explicitly by the view.

Anything not committed when the request ends (an error page, a CSRF failure after the
files were already encrypted, a crash) is rolled back and every blob written for it is
deleted, so a failed request leaves no case, no message and no orphaned ciphertext.

SQLite transactions here take the write lock up front (``BEGIN IMMEDIATE``), so a request
must never hold two sessions at once: the report submission does all its reads through
the submission draft's own session. A GET (and a view marked :func:`reads_only`) reads
as a reader instead (``cases.db.begin_reading``): no lock, and no write unless it stops
reading first (``cases.db.stop_reading``, as an expired follow-up session is deleted).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cases.content import AttachmentUpload
from cases.db import release
from cases.reporting.submission import SubmissionDraft, new_submission
from cases.store import Store
from config import Settings

log = logging.getLogger("intake")
P = ParamSpec("P")
R = TypeVar("R")
READING_METHODS = frozenset({"GET", "HEAD"})


class Abandoned(Exception):
    """The request ended without committing its submission."""


def store() -> Store:
    return cast(Store, current_app.extensions["sealbox_store"])


def settings() -> Settings:
    """The instance's settings, for the request (or app context) being served."""
    return cast(Settings, current_app.config["SEALBOX_SETTINGS"])


class ReportWork:
    """A new report being submitted: the draft of ``cases.reporting.submission.new_submission``."""

    def __init__(self, store: Store, receipt_seed: str = "") -> None:
        self._cm = new_submission(store, receipt_seed)
        self.draft: SubmissionDraft = self._cm.__enter__()
        self.done = False

    @property
    def session(self) -> Session:
        return self.draft.session

    def new_upload(self, *, keep_metadata: bool = False,
                   clear_form_fields: bool = False) -> AttachmentUpload:
        return self.draft.new_attachment(keep_metadata=keep_metadata,
                                         clear_form_fields=clear_form_fields)

    def discard(self, upload: AttachmentUpload) -> None:
        self.draft.discard(upload)

    def commit(self) -> None:
        """Commit the finalized submission (raises, having cleaned up, if that fails)."""
        self.done = True
        self._cm.__exit__(None, None, None)

    def abandon(self) -> None:
        if not self.done:
            self.done = True
            self._cm.__exit__(Abandoned, Abandoned(), None)


def report_work() -> ReportWork:
    work = g.get("_report_work")
    if work is None:
        # The form's submission id, if it came before this (the first file part, or the
        # send view): the receipt is derived from it (cases.reporting.submission).
        seed = getattr(request, "uploads", None)
        work = g._report_work = ReportWork(store(), seed.submission_id if seed else "")
    return work  # type: ignore[no-any-return]


class CaseWork:
    """Files added to an existing case during follow-up, in the request's session."""

    def __init__(self, case_id: str, thread_key: bytes) -> None:
        self.case_id = case_id
        self.thread_key = thread_key

    def new_upload(self, *, keep_metadata: bool = False,
                   clear_form_fields: bool = False) -> AttachmentUpload:
        upload = AttachmentUpload(store().blobs, db(), self.case_id, self.thread_key,
                                  keep_metadata=keep_metadata,
                                  clear_form_fields=clear_form_fields)
        g.setdefault("_pending_uploads", []).append(upload)
        return upload

    def discard(self, upload: AttachmentUpload) -> None:
        upload.abort()


def db() -> Session:
    """The request's database session (follow-up and read-only pages)."""
    if "_report_work" in g:
        return g._report_work.session  # type: ignore[no-any-return]
    session = g.get("_db")
    if session is None:
        reading = has_request_context() and (
            request.method in READING_METHODS or bool(g.get("_reads")))
        session = g._db = store().reader() if reading else store().sessions()
    return session  # type: ignore[no-any-return]


def reads_only(view: Callable[P, R]) -> Callable[P, R]:
    """A POST view that only reads (the report's review step): its transactions are
    readers', as a GET's are (``cases.db.begin_reading``)."""

    @functools.wraps(view)
    def reading(*args: P.args, **kwargs: P.kwargs) -> R:
        g._reads = True
        return view(*args, **kwargs)

    return reading


def _discard_unused_uploads() -> None:
    state = request.__dict__.get("_uploads") if has_request_context() else None
    if state is not None:
        state.discard_unused()


def commit() -> None:
    """Commit the request's session. Uploads the view did not attach are deleted first,
    so their ciphertext never becomes part of what is committed."""
    _discard_unused_uploads()
    session = g.get("_db")
    if session is not None:
        session.commit()
    g._db_committed = True


def _teardown(_exc: BaseException | None) -> None:
    """Roll back and delete what the request did not commit. The response was already
    chosen: a cleanup step the database fails (it restarted meanwhile) is logged and
    skipped, never raised (see ``cases.db.release``)."""
    work = g.pop("_report_work", None)
    committed = g.get("_db_committed", False) or (work is not None and work.done)
    if not committed:
        _quietly(_discard_unused_uploads)
    if work is not None:
        _quietly(work.abandon)
        # An error page may have used the draft's session again after a failed commit
        # (the recoverer re-reads the form options): release its connection, or on SQLite
        # its BEGIN IMMEDIATE write lock, here.
        release(work.session, rollback=False)
    session = g.pop("_db", None)
    uploads: list[AttachmentUpload] = g.pop("_pending_uploads", [])
    committed = g.pop("_db_committed", False)
    if session is not None:
        release(session, rollback=not committed)
    if not committed:
        for upload in uploads:
            _quietly(upload.abort)


def _quietly(cleanup: Callable[[], None]) -> None:
    try:
        cleanup()
    except SQLAlchemyError as exc:
        log.warning("cleanup after the request failed: %s", exc.__class__.__name__)


def init_app(app: Flask, the_store: Store) -> None:
    app.extensions["sealbox_store"] = the_store
    app.teardown_request(_teardown)
