"""A report sealed in a reporter's browser cannot be checked by the server (cases.reporting.
sealed): a hostile script can store a report that does not open, or opens to something
that is not a report. That harms its own case only: every page that lists or searches
cases still works for everyone, and the case's page says what cannot be read."""

from __future__ import annotations

import io
import zipfile

import pytest
from sealkit import keys_of, seal_report, store_sealed

from cases.store import Store
from crypto import new_key

DAMAGES = {
    "another key": {"report_key": new_key()},
    "not JSON": {"report_plaintext": b"\xff\xfe not text"},
    "a list": {"report_plaintext": b"[1, 2, 3]"},
    "a number": {"report_plaintext": b"42"},
    "answers not a list": {"report_plaintext": b'{"text": "x", "answers": 7}'},
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_report_that_does_not_open_harms_only_its_own_case(  # type: ignore[no-untyped-def]
    store: Store, person, signed_in, damage: str
) -> None:
    alice = person("alice")
    keys = keys_of(store)
    good = store_sealed(store, seal_report(keys, {"text": "The fuel is sold on the side."})[0])
    bad = store_sealed(store, seal_report(keys, {}, **DAMAGES[damage])[0])
    browser = signed_in(alice)
    inbox = browser.get("/").get_data(as_text=True)
    assert good in inbox and bad in inbox and "The fuel is sold" in inbox
    browser.get("/search")
    found = browser.post("/search", {"q": "fuel"})
    assert found.status_code == 200 and good in found.get_data(as_text=True)
    page = browser.get(f"/cases/{bad}")
    assert page.status_code == 200
    assert "could not be opened" in page.get_data(as_text=True)
    assert "The fuel is sold" in browser.get(f"/cases/{good}").get_data(as_text=True)
    exported = browser.post(f"/cases/{bad}/export", {}, prefix="export")
    assert exported.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(exported.data)).testzip() is None
