"""Files sealed in the reporter's browser (intake/static/sealing/sealed-files.mjs), in the real
Chromium with JavaScript on, against an intake that records every request body it receives
(tests/browser/recording_intake.py):

* the browser's picture cleaning (cleaning.mjs) gives, byte for byte, what the server's
  (cases.attachments.scrubbing) gives on the same JPEG and PNG pictures, damaged ones too;
* a person chooses files on the review, is told which are cleaned here and which go as they
  are, and sends: no file's name nor a byte of its contents reaches the server in the clear,
  and the case holds the cleaned picture, the other files exactly as chosen;
* a file that cannot be cleaned here can go through the server's path instead, where it is
  cleaned (and the record shows that path's plaintext).
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any

import pytest
from browserkit import Audit, Sealbox, read_receipt, require_browser_libraries
from photokit import (
    app_segment,
    exif_jpeg,
    jpeg_with_metadata,
    jpeg_with_unusual_segments,
    photo,
    png_chunk,
    png_with_metadata,
)
from recording_intake import read_record, seen_in, start_recording

from cases.attachments.scrubbing import Kind, MetadataScrubber
from cases.content import list_attachments, open_attachment
from cases.keyring import reporter_thread_key
from cases.models import Attachment
from cases.reporting.followup import find_case
from cases.store import Store
from crypto import normalize_receipt

pytestmark = pytest.mark.browser

SECRET = "Marker-8Q"


@pytest.fixture(scope="module")
def record(sealbox: Sealbox) -> Path:
    return start_recording(sealbox, sealbox.logs / "files.record")


def _pictures() -> dict[str, bytes]:
    plain = io.BytesIO()
    photo().save(plain, "PNG")
    png = plain.getvalue()
    restart = io.BytesIO()
    photo((96, 64)).save(restart, "JPEG", quality=80, restart_marker_blocks=2)
    jpeg = jpeg_with_metadata(SECRET)
    return {
        "jpeg": jpeg,
        "progressive": jpeg_with_metadata(SECRET, progressive=True),
        "exif": exif_jpeg(SECRET),
        "unusual segments": jpeg_with_unusual_segments(SECRET),
        "restart markers": restart.getvalue(),
        "fill bytes": jpeg[:2] + b"\xff\xff" + jpeg[2:],
        "png": png_with_metadata(SECRET),
        "png chunks": png[:33] + png_chunk(b"caBX", SECRET.encode()) + png[33:],
        "truncated jpeg": jpeg[: len(jpeg) // 2],
        "truncated header": jpeg[:3] + b"\xe1\x00",
        "damaged jpeg": jpeg[:2] + app_segment(0xFE, b"ab") + b"\x00\x00garbage" + jpeg[2:],
        "damaged png": png[:8] + b"\x00\x00\x00\x04b@d!" + png[8:],
        "png then bytes": png + b"after " + SECRET.encode(),
        "short": b"\xff\xd8",
        "other": b"%PDF-1.7\n" + os.urandom(300),
    }


def _server_cleaning(data: bytes) -> tuple[bytes, dict[str, Any]]:
    scrubber = MetadataScrubber()
    out = scrubber.feed(data) + scrubber.finish()
    if scrubber.kind not in (Kind.JPEG, Kind.PNG):
        return out, {"kind": "other", "cleaned": False, "removed": [], "reason": "browser"}
    return out, {"kind": scrubber.kind.value, "cleaned": scrubber.complete,
                 "removed": scrubber.removed, "reason": "" if scrubber.complete else "damaged"}


def test_the_browser_cleans_pictures_exactly_as_the_server_does(
    sealbox: Sealbox, record: Path, new_context: Any
) -> None:
    require_browser_libraries()
    page = new_context(javascript=True).new_page()
    page.goto(sealbox.intake + "/en/report/")
    pictures = _pictures()
    found = page.evaluate("""async (pictures) => {
      const m = await import('/static/sealing/cleaning.mjs');
      const out = {};
      for (const [name, b64] of Object.entries(pictures)) {
        const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const { data: cleaned, report } = m.cleanPicture(data);
        out[name] = [btoa(String.fromCharCode(...cleaned)), report];
      }
      return out;
    }""", {name: base64.b64encode(data).decode() for name, data in pictures.items()})
    for name, data in pictures.items():
        cleaned, report = _server_cleaning(data)
        assert base64.b64decode(found[name][0]) == cleaned, name
        assert found[name][1] == report, name
    assert any(r["removed"] for _, r in found.values())  # the corpus had something to remove
    assert SECRET.encode() not in base64.b64decode(found["jpeg"][0])


def _opened(sealbox: Sealbox, receipt: str) -> dict[str, bytes]:
    store = Store(sealbox.settings)
    try:
        with store.transaction() as session:
            case, keys = find_case(session, store.settings, normalize_receipt(receipt))
            assert case is not None
            thread = reporter_thread_key(session, case.id, keys.private_key)
            return {meta.name: b"".join(open_attachment(store.blobs, session,
                                                        session.get_one(Attachment, meta.id),
                                                        thread))
                    for meta in list_attachments(session, case.id, thread)}
    finally:
        store.dispose()


def _review_with(page: Any, sealbox: Sealbox, text: str, files: list[Path]) -> Any:
    page.goto(sealbox.intake + "/en/report/")
    page.wait_for_selector("#report-form[data-sealing=ready]", state="attached")
    page.get_by_label("What happened?").fill(text)
    page.get_by_role("button", name="Continue: check your report").click()
    review = page.locator("section.sealed-review")
    review.get_by_label("Choose files").set_input_files([str(f) for f in files])
    return review


def test_files_chosen_on_the_review_are_sealed_before_they_leave_the_browser(
    sealbox: Sealbox, record: Path, new_context: Any, audit: Audit, tmp_path: Path
) -> None:
    require_browser_libraries()
    sealbox.add_caseworker("files-alice")
    picture = tmp_path / f"holiday {SECRET}-photo.jpg"
    picture.write_bytes(jpeg_with_metadata(SECRET))
    document = tmp_path / f"minutes {SECRET}-doc.pdf"
    document.write_bytes(b"%PDF-1.7\n% " + SECRET.encode() + b"-pdf\n" + os.urandom(2000))
    ledger = tmp_path / f"ledger {SECRET}-big.bin"  # several pieces of about a mebibyte
    ledger.write_bytes(os.urandom(1_500_000) + f"{SECRET}-inside".encode()
                       + os.urandom(1_200_000))
    page = new_context(javascript=True).new_page()
    review = _review_with(page, sealbox, f"{SECRET}-report: see the files",
                          [picture, document, ledger])
    items = review.locator(".sealed-file-list li")
    items.nth(2).wait_for()
    assert "will be removed in this browser" in items.nth(0).inner_text()
    assert "sent as it is" in items.nth(1).inner_text()
    assert review.locator(".sealed-as-they-are").is_visible()
    audit.check(page, "sealed review with files", lang="en")

    review.get_by_role("button", name="Send my report").click()
    page.get_by_role("heading", name="Your report has been sent").wait_for(timeout=60_000)
    receipt = read_receipt(page)

    for secret in (SECRET, picture.read_bytes()[200:260], ledger.read_bytes()[:64],
                   ledger.read_bytes()[-64:], document.read_bytes()[:40]):
        assert seen_in(record, secret) == [], secret
    pieces = [p for p, body in read_record(record) if "/sealed-files/" in p]
    assert len(pieces) >= 5  # the ledger went in three pieces or more

    scrubber = MetadataScrubber()
    cleaned = scrubber.feed(picture.read_bytes()) + scrubber.finish()
    assert _opened(sealbox, receipt) == {picture.name: cleaned,
                                         document.name: document.read_bytes(),
                                         ledger.name: ledger.read_bytes()}


def test_a_file_this_browser_cannot_clean_can_go_through_the_server_instead(
    sealbox: Sealbox, record: Path, new_context: Any, tmp_path: Path
) -> None:
    require_browser_libraries()
    document = tmp_path / "notes.pdf"
    document.write_bytes(b"%PDF-1.7\n" + os.urandom(100))
    page = new_context(javascript=True).new_page()
    text = f"{SECRET}-server: it goes through the server"
    review = _review_with(page, sealbox, text, [document])
    review.get_by_role("button", name="Send through our server instead").click()
    page.get_by_role("heading", name="Check your report").wait_for()
    assert page.locator("#review-form").is_visible()  # the server's review: files chosen there
    assert text in page.locator("main").inner_text()
    assert seen_in(record, text)  # this path's plaintext, as the page said
