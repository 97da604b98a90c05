"""A reporter's download (/followup/files/<id>) streams the decrypted file for as long as
the client reads, and then leaves no database connection behind: before this test the
chunks of a database blob store were read through the request's session, closed when the
view returned, which opened a connection nothing closed (on PostgreSQL left idle in a
transaction, so the next TRUNCATE or migration waited forever)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from cases.attachments.blobs import DatabaseBlobStore
from cases.models import Attachment
from cases.store import Store


@pytest.fixture(params=["filesystem", "database"])
def app(request, make_app, store: Store, monkeypatch):  # type: ignore[no-untyped-def]
    if request.param == "database":
        monkeypatch.setattr(store, "blobs", DatabaseBlobStore())
    return make_app()


def test_a_download_ends_with_no_connection_left_open(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    evidence = os.urandom(3 * 1024 * 1024 + 7)  # several database chunks
    browser.login(browser.submit(files=[("ledger.bin", evidence)]))
    with store.transaction() as session:
        file_id = session.scalars(select(Attachment.id)).one()
    pool = store.engine.pool
    response = browser.client.get(f"/en/followup/files/{file_id}")
    assert response.status_code == 200 and response.is_streamed
    assert response.data == evidence
    response.close()
    assert pool.checkedout() == 0, pool.status()  # type: ignore[attr-defined]
