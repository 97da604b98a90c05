"""Files sealed in the browser, sent piece by piece before their report
(/report/sealed-files/<id>, then /report/send-sealed naming them), sealed here by sealkit as
the page seals them: stored as attachments the reporter and the back office open, on
both blob stores; refused whenever the form is not one our page makes, nothing kept."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import pytest
from sealkit import SealedUpload, b64, seal_report
from sqlalchemy import func, select

from cases.attachments.blobs import DatabaseBlobStore
from cases.content import list_attachments, open_attachment
from cases.keyring import reporter_thread_key
from cases.models import Attachment, BlobChunk, Case, StagedFile, today
from cases.reporting.followup import find_case
from cases.reporting.staged_files import sweep_staged
from cases.store import Store
from crypto import normalize_receipt

PIECE = 256 * 1024


@pytest.fixture(params=["filesystem", "database"])
def app(request, make_app, store: Store, monkeypatch):  # type: ignore[no-untyped-def]
    if request.param == "database":
        monkeypatch.setattr(store, "blobs", DatabaseBlobStore())
    return make_app(seal_in_browser=True, max_files_per_submission=3,
                    max_file_bytes=2 * 1024 * 1024)


def csrf(browser) -> str:  # type: ignore[no-untyped-def]
    return str(browser.csrf_of(browser.open_form().get_data(as_text=True)))


def post_piece(browser, upload: SealedUpload, number: int, data: bytes,  # type: ignore[no-untyped-def]
               token: bytes | None = None, csrf_token: str | None = None):
    path = f"report/sealed-files/{upload.id}" + (f"/{number}" if number else "")
    return browser.client.post(
        browser.url(path), data=data, content_type="application/octet-stream",
        headers={"X-CSRFToken": csrf_token or csrf(browser),
                 "X-Sealbox-Upload": b64(token or upload.token)},
    )


def upload(browser, file: SealedUpload) -> None:  # type: ignore[no-untyped-def]
    token = csrf(browser)
    for number, piece in enumerate(file.pieces(PIECE)):
        response = post_piece(browser, file, number, piece, csrf_token=token)
        assert response.status_code == 200, response.get_data(as_text=True)


def send(browser, sealed: dict[str, Any]):  # type: ignore[no-untyped-def]
    body = {k: v for k, v in sealed.items() if k != "uploads"}
    return browser.client.post(browser.url("report/send-sealed"), data=json.dumps(body),
                               content_type="application/json",
                               headers={"X-CSRFToken": csrf(browser)})


def keys(browser) -> Any:  # type: ignore[no-untyped-def]
    return browser.client.get(browser.url("report/sealing-keys")).get_json()


def files_of(store: Store, receipt: str) -> dict[str, bytes]:
    with store.transaction() as session:
        case, found = find_case(session, store.settings, normalize_receipt(receipt))
        assert case is not None
        thread = reporter_thread_key(session, case.id, found.private_key)
        out = {}
        for meta in list_attachments(session, case.id, thread):
            row = session.get_one(Attachment, meta.id)
            out[meta.name] = b"".join(open_attachment(store.blobs, session, row, thread))
        return out


def counts(store: Store) -> tuple[int, int, int]:
    with store.transaction() as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) or 0  # type: ignore[return-value]
                     for t in (Case, Attachment, StagedFile))


def test_files_sealed_in_the_browser_open_for_the_reporter_and_the_back_office(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    photo, notes = os.urandom(PIECE * 3 + 1000), b"the ledger, page 4"
    sealed, receipt = seal_report(keys(browser), {"text": "See the files.", "answers": [],
                                                  "language": "en"},
                                  files=[("ledger.bin", photo), ("notes.txt", notes)])
    for file in sealed["uploads"]:
        upload(browser, file)
    response = send(browser, sealed)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert files_of(store, receipt) == {"ledger.bin": photo, "notes.txt": notes}
    assert counts(store) == (1, 2, 0)  # the staged rows went with the report
    with store.transaction() as session:  # numbered after the report; chained and checked
        positions = sorted(session.scalars(select(Attachment.position)))
        assert positions == [2, 3]
    assert browser.login(receipt).status_code in (302, 303)
    page = browser.case_page().get_data(as_text=True)
    assert "ledger.bin" in page and "notes.txt" in page
    assert "it was sealed in your browser, which cleans only JPEG and PNG" in page


def test_a_piece_sent_again_is_stored_once_and_one_out_of_order_says_where_it_stands(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    data = os.urandom(PIECE * 2 + 10)
    sealed, receipt = seal_report(keys(browser), {"text": "x", "answers": [], "language": "en"},
                                  files=[("a.bin", data)])
    file = sealed["uploads"][0]
    first, second, third = file.pieces(PIECE)
    assert post_piece(browser, file, 0, first).get_json() == {"pieces": 1, "size": PIECE}
    assert post_piece(browser, file, 0, first).get_json() == {"pieces": 1, "size": PIECE}
    skipped = post_piece(browser, file, 2, third)
    assert skipped.status_code == 409
    assert skipped.get_json()["error"] == "piece_order" and skipped.get_json()["size"] == PIECE
    assert post_piece(browser, file, 1, second).status_code == 200
    assert post_piece(browser, file, 1, second).status_code == 200  # its answer was lost
    assert post_piece(browser, file, 2, third).get_json()["size"] == len(file.ciphertext)
    assert send(browser, sealed).status_code == 201
    assert files_of(store, receipt) == {"a.bin": data}


def test_nobody_else_adds_to_or_attaches_a_file_another_page_started(  # type: ignore[no-untyped-def]
    browser, new_browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    sealed, _ = seal_report(keys(browser), {"text": "x", "answers": [], "language": "en"},
                            files=[("a.bin", os.urandom(PIECE + 5))])
    file = sealed["uploads"][0]
    first, second = file.pieces(PIECE)
    assert post_piece(browser, file, 0, first).status_code == 200
    other = new_browser()
    wrong = os.urandom(32)
    assert post_piece(other, file, 0, b"x" * 100, token=wrong).status_code == 404
    assert post_piece(other, file, 1, second, token=wrong).status_code == 404
    theirs, _ = seal_report(keys(other), {"text": "y", "answers": [], "language": "en"})
    theirs["files"] = [dict(file.entry, token=b64(wrong))]
    refused = send(other, theirs)
    assert refused.status_code == 409 and refused.get_json()["error"] == "file_lost"
    assert counts(store) == (0, 0, 1)


@pytest.mark.parametrize("problem", ["no_token", "csrf", "not_octets", "bad_id", "empty"])
def test_a_piece_not_made_by_our_page_is_refused(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker, problem: str
) -> None:
    new_caseworker(store, "alice")
    sealed, _ = seal_report(keys(browser), {"text": "x", "answers": [], "language": "en"},
                            files=[("a.bin", b"evidence")])
    file = sealed["uploads"][0]
    headers = {"X-CSRFToken": csrf(browser), "X-Sealbox-Upload": b64(file.token)}
    path, data, kind = f"report/sealed-files/{file.id}", file.ciphertext, "application/octet-stream"
    if problem == "no_token":
        headers.pop("X-Sealbox-Upload")
    elif problem == "csrf":
        headers["X-CSRFToken"] = "forged"
    elif problem == "not_octets":
        kind = "text/plain"
    elif problem == "bad_id":
        path = "report/sealed-files/ZZ"
    else:
        data = b""
    response = browser.client.post(browser.url(path), data=data, content_type=kind,
                                   headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["message"]
    assert counts(store) == (0, 0, 0)


def test_a_file_larger_than_the_instance_takes_is_refused_as_it_comes(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    sealed, _ = seal_report(keys(browser), {"text": "x", "answers": [], "language": "en"},
                            files=[("big.bin", os.urandom(2 * 1024 * 1024 + 1))])
    file = sealed["uploads"][0]
    answers = [post_piece(browser, file, n, piece) for n, piece in enumerate(file.pieces(PIECE))]
    assert [a.status_code for a in answers][-1] == 413
    assert "larger than we accept (2 MB)" in answers[-1].get_json()["message"]
    assert send(browser, sealed).status_code == 409  # incomplete: never attached
    assert counts(store) == (0, 0, 1)


@pytest.mark.parametrize("problem", ["preamble", "short", "too_many", "key_size"])
def test_a_report_naming_files_our_page_would_not_make_is_refused(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker, problem: str
) -> None:
    new_caseworker(store, "alice")
    count = 4 if problem == "too_many" else 1
    sealed, _ = seal_report(keys(browser), {"text": "x", "answers": [], "language": "en"},
                            files=[(f"{n}.bin", b"evidence %d" % n) for n in range(count)])
    for file in sealed["uploads"]:
        if problem == "preamble":
            file.ciphertext = b"SBF\x01\x00\x00\x00\x10" + file.ciphertext[8:]
        if problem == "short":  # a header and no chunk: no sealed file is that long
            file.ciphertext = file.ciphertext[:40]
            sealed["files"][0]["size"] = 40
        upload(browser, file)
    if problem == "key_size":
        sealed["files"][0]["key"] = b64(b"k" * 10)
    response = send(browser, sealed)
    assert response.status_code == 400 and response.get_json()["error"] == "malformed"
    assert counts(store)[:2] == (0, 0)


def test_files_no_report_took_are_removed_by_the_daily_purge(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    sealed, _ = seal_report(keys(browser), {"text": "x", "answers": [], "language": "en"},
                            files=[("a.bin", os.urandom(PIECE + 1))])
    upload(browser, sealed["uploads"][0])
    with store.transaction() as session:
        assert sweep_staged(session, store.blobs, today() + dt.timedelta(days=1)) == 0
        assert sweep_staged(session, store.blobs, today() + dt.timedelta(days=2)) == 1
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(BlobChunk)) == 0
    assert not [p for p in store.settings.blob_path.iterdir()]
    assert counts(store) == (0, 0, 0)
