"""On SQLite the intake's pages that only read take no write lock (cases.db.begin_reading):
while another connection holds it, as a report being stored does, the landing page, the
form, its review step and the follow-up case page still answer, a download under way lets
a report be stored, and a request that writes waits its turn. Real SQLite file, real
lock, real HTTP through the app."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from cases.models import ReporterSession
from cases.store import Store


@pytest.fixture(autouse=True)
def _sqlite_only(db_backend: str) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite's write lock; PostgreSQL's readers never wait for writers")


@contextmanager
def write_lock_held(store: Store) -> Iterator[None]:
    """Another connection holds the database's write lock, as a writer mid-commit does."""
    path = store.engine.url.database
    assert path
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("DELETE FROM reporter_sessions WHERE 0")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def answered_within(seconds: float, request: Callable[[], TestResponse]) -> TestResponse | None:
    """The response, if it came within ``seconds`` (else None: it is still waiting)."""
    out: list[TestResponse] = []
    thread = threading.Thread(target=lambda: out.append(request()), daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    return out[0] if out else None


def test_pages_that_only_read_answer_while_the_write_lock_is_held(browser, store) -> None:  # type: ignore[no-untyped-def]
    receipt = browser.submit()
    assert browser.login(receipt).status_code == 303
    review_page = browser.open_form().get_data(as_text=True)
    with write_lock_held(store):
        for name, request in {
            "landing page": lambda: browser.client.get("/en/"),
            "case page": browser.case_page,
            "report form": lambda: browser.client.get("/en/report/"),
            "review step": lambda: browser.client.post("/en/report/review", data={
                "csrf_token": browser.csrf_of(review_page), "description": "The invoices.",
                "website": ""}),
        }.items():
            response = answered_within(10, request)
            assert response is not None, f"the {name} waited for the write lock"
            assert response.status_code == 200, name
    page = browser.case_page().get_data(as_text=True)
    assert "The director takes bribes" in page  # what was read is the stored thread


def test_a_request_that_writes_waits_for_the_lock_then_succeeds(browser, store) -> None:  # type: ignore[no-untyped-def]
    review = browser.review("The tender was rigged.")
    result: list[TestResponse] = []
    with write_lock_held(store):
        sending = threading.Thread(target=lambda: result.append(browser.send(review)),
                                   daemon=True)
        sending.start()
        sending.join(timeout=1.5)
        assert sending.is_alive(), "a writer did not wait for the lock"
    sending.join(timeout=30)
    assert result and result[0].status_code == 200
    assert browser.receipt_of(result[0])


def test_a_get_that_finds_the_session_expired_deletes_it(browser, store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert browser.login(browser.submit()).status_code == 303
    app = browser.client.application
    idle = replace(app.config["SEALBOX_SETTINGS"], reporter_idle_minutes=-1)
    monkeypatch.setitem(app.config, "SEALBOX_SETTINGS", idle)
    ended = browser.case_page()  # a GET: it read as a reader, then deleted as a writer
    assert ended.status_code == 303 and "ended=1" in ended.headers["Location"]
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReporterSession)) == 0


def test_a_download_under_way_leaves_the_lock_to_writers(browser, new_browser) -> None:  # type: ignore[no-untyped-def]
    content = os.urandom(3 * 1024 * 1024)  # several pieces: the stream is still open
    assert browser.login(browser.submit(files=[("invoices.pdf", content)])).status_code == 303
    link = re.search(r'href="([^"]*/followup/files/[^"]+)"',
                     browser.case_page().get_data(as_text=True))
    assert link is not None
    download = browser.client.get(link.group(1), buffered=False)
    pieces = iter(download.response)
    first = next(pieces)
    other = new_browser()  # another reporter sends a report meanwhile
    sent = answered_within(10, lambda: other.send(other.review("The tender was rigged.")))
    assert sent is not None, "a report waited for a download to finish"
    assert sent.status_code == 200 and other.receipt_of(sent)
    assert first + b"".join(pieces) == content
    download.close()
