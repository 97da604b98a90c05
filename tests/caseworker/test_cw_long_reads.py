"""The back office's long reads take no write lock (cases.db.reading_apart): a content
search decrypts every held case, and a PDF of a case sets every message in type, in a
reader's transaction; only their line of audit is written in an ordinary one. Every
statement the request sends to the real database is recorded with its transaction's kind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from cases.casework.case_pdf import PdfUnavailable, find_fonts
from cases.db import READS_ONLY
from cases.store import Store


@contextmanager
def statements(store: Store) -> Iterator[list[tuple[str, bool]]]:
    """Each statement sent while the block runs, and whether a reader's transaction sent it."""
    seen: list[tuple[str, bool]] = []

    def note(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append((" ".join(statement.split()), bool(conn.get_execution_options().get(
            READS_ONLY))))

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", note)


def _kinds(seen: list[tuple[str, bool]], start: str, table: str) -> set[bool]:
    return {reading for sql, reading in seen if sql.startswith(start) and table in sql}


def test_a_content_search_reads_as_a_reader_and_audits_as_a_writer(  # type: ignore[no-untyped-def]
    store, person, signed_in, h
) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store, "The depot at Kalvöskär sells fuel twice over.")
    browser = signed_in(alice)
    with statements(store) as seen:
        page = browser.post("/search", {"q": "Kalvöskär"})
    assert page.status_code == 200 and f"/cases/{case_id}" in page.get_data(as_text=True)
    assert _kinds(seen, "SELECT", "FROM messages") == {True}
    assert _kinds(seen, "INSERT INTO audit_log", "") == {False}


def test_a_pdf_of_a_case_is_made_as_a_reader_and_audited_as_a_writer(  # type: ignore[no-untyped-def]
    store, person, signed_in, h
) -> None:
    try:
        find_fonts(store.settings.pdf_fonts_dir)
    except PdfUnavailable as exc:
        if os.environ.get("SEALBOX_REQUIRE_PDF_FONTS"):
            raise
        pytest.skip(f"the PDF fonts are not installed (make pdf-deps): {exc}")
    alice = person("alice")
    case_id, _ = h.submit(store, "The depot manager sells fuel to the army.")
    browser = signed_in(alice)
    with statements(store) as seen:
        pdf = browser.post(f"/cases/{case_id}/export.pdf", {"include_internal": "y"},
                           prefix="export")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert _kinds(seen, "SELECT", "FROM messages") == {True}
    assert _kinds(seen, "INSERT INTO audit_log", "") == {False}
