"""On SQLite a caseworker's download or export under way takes no write lock
(cases.db.begin_reading): a report is stored meanwhile, and the file still arrives whole.
Real SQLite, real streaming through the app, a real second writer."""

from __future__ import annotations

import io
import os
import re
import threading
import zipfile
from dataclasses import replace

import pytest

from cases.store import Store


@pytest.fixture(params=["filesystem", "database"])
def store(store: Store, request: pytest.FixtureRequest) -> Store:
    """The suite's store, its files on disk and, once, in the database (read through the
    download's own session, chunk by chunk, for as long as it streams)."""
    return Store(replace(store.settings, attachment_storage=request.param), engine=store.engine)


def test_a_download_under_way_leaves_the_lock_to_writers(  # type: ignore[no-untyped-def]
    store, person, signed_in, h, db_backend
) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite's write lock; PostgreSQL's readers never wait for writers")
    content = os.urandom(8 * 1024 * 1024)  # more than the read-ahead holds: still streaming
    alice = person("alice")  # a caseworker before the report: it is sealed to her too
    case_id, _ = h.submit(store, files={"ledger.bin": content})
    alice = signed_in(alice)
    page = alice.get(f"/cases/{case_id}").get_data(as_text=True)
    link = re.search(rf'href="(/cases/{case_id}/attachments/[0-9a-f]+)"', page)
    assert link
    download = alice.get(link.group(1), buffered=False)
    pieces = iter(download.response)
    first = next(pieces)
    stored: list[str] = []
    writer = threading.Thread(target=lambda: stored.append(h.submit(store)[0]), daemon=True)
    writer.start()
    writer.join(timeout=10)
    assert stored, "a new report waited for the download to finish"
    assert first + b"".join(pieces) == content
    download.close()


def test_an_export_under_way_leaves_the_lock_to_writers(  # type: ignore[no-untyped-def]
    store, person, signed_in, h, db_backend
) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite's write lock; PostgreSQL's readers never wait for writers")
    content = os.urandom(4 * 1024 * 1024)
    alice = person("alice")
    case_id, _ = h.submit(store, files={"ledger.bin": content})
    export = signed_in(alice).post(f"/cases/{case_id}/export", {"include_internal": "y"},
                                   prefix="export", buffered=False)
    assert export.status_code == 200
    pieces = iter(export.response)
    received = bytearray()
    while len(received) < 1024 * 1024:  # well into the attachment's own stream
        received += next(pieces)
    stored: list[str] = []
    writer = threading.Thread(target=lambda: stored.append(h.submit(store)[0]), daemon=True)
    writer.start()
    writer.join(timeout=10)
    assert stored, "a new report waited for the export to finish"
    archive = zipfile.ZipFile(io.BytesIO(bytes(received) + b"".join(pieces)))
    [name] = [n for n in archive.namelist() if n.startswith("attachments/")]
    assert archive.read(name) == content
    export.close()
