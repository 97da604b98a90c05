"""Files attached to a reply to the reporter or to an internal note
(caseworker.casefile.uploads): encrypted while they stream in, a reply's under the case's
thread key (the reporter downloads them with the receipt), a note's under its internal key
(never listed nor served to the reporter); hidden information removed as on intake; a limit
broken or a refused step keeps nothing (no row, no ciphertext) and the page comes back with
the text as typed; a file sent anywhere else, or by someone without the case's key, is
stored nowhere."""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from dataclasses import replace
from typing import Any

import pytest
from photokit import jpeg_with_metadata
from sqlalchemy import func, select

from cases.attachments.blobs import DatabaseBlobStore
from cases.content import list_attachments, open_attachment
from cases.keyring import reporter_thread_key
from cases.models import Attachment, AuditEntry, BlobChunk
from cases.reporting.followup import find_case
from crypto import normalize_receipt
from intake import create_app as intake_app

SECRET = "Marker-3R"


@pytest.fixture(params=["filesystem", "database"])
def blobs(request, store, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    if request.param == "database":
        monkeypatch.setattr(store, "blobs", DatabaseBlobStore())
    return str(request.param)


PATHS = {"reply": ("reply", "text"), "note": ("notes", "text"), "ack": ("acknowledge", "message")}


def reply(b, case_id: str, text: str, files: list[tuple[str, bytes]],  # type: ignore[no-untyped-def]
          endpoint: str = "reply", **fields: str):
    if not b.token:
        b.get("/login")
    path, text_field = PATHS[endpoint]
    data: dict[str, Any] = {f"{endpoint}-csrf_token": b.token, f"{endpoint}-{text_field}": text,
                            **{f"{endpoint}-{k}": v for k, v in fields.items()}}
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return b.client.post(f"/cases/{case_id}/{path}", data=data,
                         content_type="multipart/form-data")


def reporter_files(store, receipt: str) -> dict[str, tuple[bytes, bool]]:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        case, keys = find_case(db, store.settings, normalize_receipt(receipt))
        thread = reporter_thread_key(db, case.id, keys.private_key)
        return {m.name: (b"".join(open_attachment(store.blobs, db, db.get_one(Attachment, m.id),
                                                  thread)), m.from_reporter)
                for m in list_attachments(db, case.id, thread)}


def stored_ciphertexts(store) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        rows = db.scalar(select(func.count()).select_from(Attachment)) or 0
        chunks = db.scalar(select(func.count(func.distinct(BlobChunk.blob_id)))) or 0
    folder = store.settings.blob_path
    on_disk = len(list(folder.iterdir())) if folder.exists() else 0
    return rows + chunks + on_disk


def test_the_reporter_downloads_what_a_caseworker_attached_cleaned(  # type: ignore[no-untyped-def]
    store, person, signed_in, h, blobs: str, monkeypatch
) -> None:
    alice = person("alice")
    case_id, receipt = h.submit(store)
    b = signed_in(alice)

    def no_spooling(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a file part was spooled to a temporary file")

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "__init__", no_spooling)
    monkeypatch.setattr(tempfile, "TemporaryFile", no_spooling)
    photo, letter = jpeg_with_metadata(SECRET), os.urandom(900_000)  # Werkzeug spools > 500 KB
    response = reply(b, case_id, "Here is our letter and the photo.",
                     [("letter.bin", letter), ("site.jpg", photo)])
    assert response.status_code == 302, response.get_data(as_text=True)
    got = reporter_files(store, receipt)
    assert got["letter.bin"] == (letter, False)
    cleaned, from_reporter = got["site.jpg"]
    assert not from_reporter and SECRET.encode() not in cleaned and cleaned.startswith(b"\xff\xd8")
    for path in store.settings.blob_path.glob("*"):  # ciphertext only, for either store
        assert SECRET.encode() not in path.read_bytes() and letter[:64] not in path.read_bytes()
    with store.transaction() as db:
        actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case_id)))
    assert actions.count("case.reply_file_attached") == 2
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "letter.bin" in page and "from a caseworker" in page


def test_a_reply_that_acknowledges_takes_its_files_too(store, person, signed_in, h) -> None:  # type: ignore[no-untyped-def]
    alice = person("alice")
    case_id, receipt = h.submit(store)
    b = signed_in(alice)
    response = reply(b, case_id, "Received, thank you.", [("form.txt", b"please fill in")],
                     acknowledges="y")
    assert response.status_code == 302
    assert reporter_files(store, receipt) == {"form.txt": (b"please fill in", False)}


@pytest.mark.parametrize("problem", ["too_many", "too_large", "refused"])
def test_a_broken_limit_or_a_refusal_keeps_nothing_and_the_text(  # type: ignore[no-untyped-def]
    store, app, person, signed_in, h, blobs: str, problem: str
) -> None:
    alice = person("alice")
    case_id, receipt = h.submit(store)
    settings = replace(store.settings, max_files_per_submission=2, max_file_bytes=100_000)
    app.config["SEALBOX_SETTINGS"] = settings
    object.__setattr__(store, "settings", settings)
    b = signed_in(alice)
    files = [("a.bin", b"a" * 10), ("b.bin", b"b" * 10)]
    fields: dict[str, str] = {}
    if problem == "too_many":
        files.append(("c.bin", b"c" * 10))
    elif problem == "too_large":
        files = [("a.bin", b"a" * 10), ("big.bin", os.urandom(100_001))]
    else:
        fields["feedback"] = "y"  # feedback before the acknowledgement is refused
        fields["acknowledges"] = ""
    before = stored_ciphertexts(store)
    response = reply(b, case_id, f"{SECRET} text kept", files, **fields)
    assert response.status_code == 400, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert f"{SECRET} text kept" in page
    if problem == "too_many":
        assert "Attach at most 2 files to one message." in page
    elif problem == "too_large":
        assert "The file “big.bin” is larger than the limit for one file" in page
    assert stored_ciphertexts(store) == before
    assert reporter_files(store, receipt) == {}


def test_files_sent_elsewhere_or_without_the_key_are_stored_nowhere(  # type: ignore[no-untyped-def]
    store, person, signed_in, h
) -> None:
    alice, mallory = person("alice"), person("mallory")
    case_id, receipt = h.submit(store, excluded_caseworker_ids=[mallory.id])
    before = stored_ciphertexts(store)
    ack = reply(signed_in(alice), case_id, "received", [("n.bin", b"ack file")], endpoint="ack")
    assert ack.status_code == 302  # acknowledged; the step takes no file, so none is kept
    outsider = reply(signed_in(mallory), case_id, "hello", [("m.bin", b"from outside")])
    assert outsider.status_code == 404
    assert stored_ciphertexts(store) == before
    assert reporter_files(store, receipt) == {}


def test_a_notes_files_are_the_caseworkers_alone(  # type: ignore[no-untyped-def]
    store, person, signed_in, h, blobs: str
) -> None:
    alice = person("alice")
    case_id, receipt = h.submit(store, files={"evidence.bin": b"from the reporter"})
    b = signed_in(alice)
    note_file = os.urandom(50_000)
    response = reply(b, case_id, "see the auditor's memo", [("memo.bin", note_file)],
                     endpoint="note")
    assert response.status_code == 302, response.get_data(as_text=True)
    with store.transaction() as db:
        memo = db.scalars(select(Attachment).where(Attachment.internal.is_(True))).one()
        reporters = db.scalars(select(Attachment).where(Attachment.internal.is_(False))).one()
    download = b.get(f"/cases/{case_id}/attachments/{memo.id}")
    assert download.data == note_file
    download.close()  # its read of the database ends with it
    assert "memo.bin" in b.get(f"/cases/{case_id}/workflow").get_data(as_text=True)
    assert "memo.bin" not in b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert set(reporter_files(store, receipt)) == {"evidence.bin"}  # the reporter's list
    reporter = intake_app(store.settings, store).test_client()
    login = reporter.get("/en/followup/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert token is not None
    reporter.post("/en/followup/", data={"csrf_token": token.group(1), "receipt": receipt})
    assert reporter.get(f"/en/followup/files/{memo.id}").status_code == 404
    assert "memo.bin" not in reporter.get("/en/followup/case").get_data(as_text=True)
    with_internal = b.post(f"/cases/{case_id}/export", {"include_internal": "y"}, prefix="export")
    without = b.post(f"/cases/{case_id}/export", {}, prefix="export")
    names = [zipfile.ZipFile(io.BytesIO(r.data)).namelist() for r in (with_internal, without)]
    assert any(n.endswith("memo.bin") for n in names[0])
    assert not any(n.endswith("memo.bin") for n in names[1])
    theirs = reporter.get(f"/en/followup/files/{reporters.id}")
    assert theirs.status_code == 200 and theirs.data == b"from the reporter"
    theirs.close()
