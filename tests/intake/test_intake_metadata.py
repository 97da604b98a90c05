"""Attachment metadata is removed unless the reporter consents to keep it (ASVS 14.2.8).

The consent box sits before the file input on the review page and on the follow-up page,
so a browser sends it before the files and the choice is known when the first file starts
to stream in. These tests send the forms as a browser does, every control in document
order, with a real JPEG carrying Exif (camera, artist, GPS) made by Pillow, and check what
a caseworker decrypts."""

from __future__ import annotations

import html
import io
import secrets
from typing import Any

import pageforms
import pytest
from photokit import exif_jpeg as photo_with_exif
from photokit import pixels
from sqlalchemy import func, select

from cases.content import open_attachment
from cases.keyring import caseworker_key
from cases.models import Attachment, Case, KeyPurpose
from cases.store import Store

Image = pytest.importorskip("PIL.Image", reason="Pillow (test extra) makes the sample photo")

SECRET = "Kowalczyk-7731"
KEEP_LABEL = "Keep the files' hidden information (metadata)."


def exif_of(data: bytes) -> dict[int, Any]:
    with Image.open(io.BytesIO(data)) as im:
        return dict(im.getexif())


def form_controls(page: str, action_part: str) -> tuple[str, list[dict[str, Any]]]:
    """The form's inputs and text areas, in document order, as a browser would send them."""
    form = pageforms.form_to(page, action_part)
    return form["action"], [c for c in form["controls"] if c["tag"] in ("input", "textarea")]


def post_in_document_order(  # type: ignore[no-untyped-def]
    client,
    page: str,
    action_part: str,
    files: list[tuple[str, bytes]],
    *,
    tick: bool,
    values: dict[str, str] | None = None,
    late_fields: list[tuple[str, str]] | None = None,
):
    """Encode the form as a browser does: each control where it stands in the page."""
    action, controls = form_controls(page, action_part)
    boundary = "----sealbox" + secrets.token_hex(8)
    parts: list[bytes] = []

    def field(name: str, value: str) -> None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )

    for c in controls:
        kind = c.get("type", "text")
        name = c["name"]
        if kind == "checkbox":
            if tick:
                field(name, c["value"])
        elif kind == "file":
            for filename, content in files:
                parts.append(
                    f"--{boundary}\r\nContent-Disposition: form-data; "
                    f'name="{name}"; filename="{filename}"\r\n'
                    "Content-Type: image/jpeg\r\n\r\n".encode()
                    + content
                    + b"\r\n"
                )
        else:
            field(name, (values or {}).get(name, c.get("value", "")))
    for name, value in late_fields or []:
        field(name, value)
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.post(action, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def decrypted_files(store: Store, account_id: int, private_key: bytes) -> list[bytes]:
    """What the routed caseworker gets when they download the case's files."""
    with store.transaction() as session:
        case = session.scalars(select(Case)).one()
        thread = caseworker_key(session, case.id, KeyPurpose.THREAD, account_id, private_key)
        rows = session.scalars(select(Attachment).order_by(Attachment.id))
        return [b"".join(open_attachment(store.blobs, session, a, thread)) for a in rows]


def attachment_count(store: Store) -> int:
    with store.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Attachment)) or 0)


# -- the choice on the page ---------------------------------------------------------------


def _check_consent_markup(page: str, suffix: str, file_input_id: str) -> None:
    text = html.unescape(page)
    box = f'id="keep_metadata{suffix}"'
    assert box in page
    tag = page[page.rindex("<input", 0, page.index(box)) : page.index(">", page.index(box))]
    assert 'type="checkbox"' in tag and 'name="keep_metadata"' in tag and 'value="yes"' in tag
    assert "checked" not in tag  # unchecked by default
    assert f'aria-describedby="metadata-hint{suffix}"' in tag
    assert f'<label for="keep_metadata{suffix}">' in page
    assert KEEP_LABEL in text
    # Before the file input, so a browser sends it before the files.
    assert page.index(box) < page.index(f'id="{file_input_id}"')
    # Plain guidance: what metadata is, what we remove, what we cannot, how to clean.
    assert "hidden information (metadata) that can identify you" in text
    assert "We remove it from photos and pictures in JPEG and PNG format, from PDF" in text
    assert "We cannot remove it from other files" in text
    assert "“Inspect Document” in Microsoft Office" in text


def test_review_page_offers_an_unticked_explained_choice_before_the_files(browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.review().get_data(as_text=True)
    _check_consent_markup(page, "", "files")


def test_follow_up_page_offers_the_same_choice(browser) -> None:  # type: ignore[no-untyped-def]
    browser.login(browser.submit())
    page = browser.case_page().get_data(as_text=True)
    _check_consent_markup(page, "-main", "files-main")


# -- what is stored -----------------------------------------------------------------------


def test_report_photo_metadata_is_removed_by_default(browser, store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(store, "alice")
    photo = photo_with_exif(SECRET)
    assert SECRET.encode() in photo and exif_of(photo)
    review = browser.review().get_data(as_text=True)
    response = post_in_document_order(
        browser.client, review, "/report/send", [("IMG_2041.jpg", photo)], tick=False
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    [stored] = decrypted_files(store, alice.id, alice_key)
    assert SECRET.encode() not in stored
    assert b"Exif" not in stored
    assert exif_of(stored) == {}
    assert pixels(stored) == pixels(photo)  # the picture itself is untouched


def test_report_photo_metadata_is_kept_when_the_reporter_ticks_the_box(
    browser, store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(store, "alice")
    photo = photo_with_exif(SECRET)
    review = browser.review().get_data(as_text=True)
    response = post_in_document_order(
        browser.client, review, "/report/send", [("IMG_2041.jpg", photo)], tick=True
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert decrypted_files(store, alice.id, alice_key) == [photo]  # byte for byte


@pytest.mark.parametrize("tick", [False, True])
def test_follow_up_files_honour_the_choice(browser, store: Store, new_caseworker, tick) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(store, "alice")
    browser.login(browser.submit())
    photo = photo_with_exif(SECRET)
    page = browser.case_page().get_data(as_text=True)
    response = post_in_document_order(
        browser.client,
        page,
        "/case/main/message",
        [("later.jpg", photo)],
        tick=tick,
        values={"main-text": "Another photo of the site."},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    [stored] = decrypted_files(store, alice.id, alice_key)
    if tick:
        assert stored == photo
    else:
        assert SECRET.encode() not in stored and exif_of(stored) == {}
        assert pixels(stored) == pixels(photo)


def test_the_choice_is_shown_again_when_the_files_are_refused(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    browser = new_browser(the_app=make_app(max_file_bytes=1000))
    review = browser.review().get_data(as_text=True)
    response = post_in_document_order(
        browser.client, review, "/report/send", [("big.jpg", photo_with_exif(SECRET))], tick=True
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    box = page.index('id="keep_metadata"')
    assert "checked" in page[page.rindex("<input", 0, box) : page.index(">", box)]


# -- a choice that cannot have been applied -----------------------------------------------


@pytest.mark.parametrize("late", ["keep_metadata", "clear_form_fields"])
def test_consent_sent_after_the_files_is_refused_not_silently_changed(
    browser, store: Store, late: str
) -> None:  # type: ignore[no-untyped-def]
    review = browser.review().get_data(as_text=True)
    response = post_in_document_order(
        browser.client,
        review,
        "/report/send",
        [("IMG_2041.jpg", photo_with_exif(SECRET))],
        tick=False,
        late_fields=[(late, "yes")],  # too late: the photo was already cleaned
    )
    assert response.status_code == 400
    assert "The form arrived damaged" in response.get_data(as_text=True)
    assert attachment_count(store) == 0
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_consent_with_another_value_is_refused(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    browser.login(browser.submit())
    page = browser.case_page().get_data(as_text=True).replace('value="yes"', 'value="no"')
    response = post_in_document_order(
        browser.client,
        page,
        "/case/main/message",
        [("later.jpg", photo_with_exif(SECRET))],
        tick=True,
        values={"main-text": "x"},
    )
    assert response.status_code == 400
    assert attachment_count(store) == 0
