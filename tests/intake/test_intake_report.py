"""Making a report: review step, honeypot, CSRF, bad input, receipt, one transaction."""

from __future__ import annotations

import json
import time
from io import BytesIO

import pytest
from sqlalchemy import func, select

from cases.keyring import caseworker_key
from cases.models import (
    Case,
    CaseExclusion,
    IdentityRecord,
    KeyPurpose,
    Message,
    ReporterSession,
    WrappedKey,
)
from cases.reporting.followup import find_case, reporter_view
from cases.store import Store
from crypto import normalize_receipt

DESCRIPTION = "The director takes bribes from the road contractor."


def counts(store: Store) -> tuple[int, int, int]:
    with store.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Case)) or 0,
            session.scalar(select(func.count()).select_from(Message)) or 0,
            session.scalar(select(func.count()).select_from(IdentityRecord)) or 0,
        )


def blob_files(store: Store) -> list[str]:
    root = store.settings.blob_path
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_review_step_shows_values_and_stores_nothing(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    review = browser.review(DESCRIPTION, q_where="Head office", identity_name="")
    html = review.get_data(as_text=True)
    assert review.status_code == 200
    assert "Check your report" in html and DESCRIPTION in html and "Head office" in html
    assert "Not given: your report is anonymous." in html
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html
    assert counts(store) == (0, 0, 0) and blob_files(store) == []
    # "Change my report" goes back to the form with everything filled in.
    form = browser.form_to(html, "/report/send")
    data = dict(form["fields"])
    back = browser.client.post("/en/report/", data=data)
    assert back.status_code == 200
    assert DESCRIPTION in back.get_data(as_text=True) and 'value="Head office"' in back.get_data(
        as_text=True
    )


def test_multiline_text_survives_the_review_page(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    text = 'Line one\n  indented "quoted" <b>not bold</b>\n\nمرحبا 你好'
    receipt = browser.submit(text)
    with store.transaction() as session:
        case, keys = find_case(session, store.settings, normalize_receipt(receipt))
        assert case is not None
        assert reporter_view(session, case, keys.private_key).messages[0].body["text"] == text


def test_empty_report_is_refused_with_a_clear_message(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    response = browser.review("   ")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and 'href="#description"' in html
    assert 'aria-invalid="true"' in html and "description-error" in html
    assert counts(store) == (0, 0, 0)


def test_oversize_text_is_413_with_the_limit_and_the_text_kept(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    app = make_app(max_report_chars=100)
    browser = new_browser(the_app=app)
    response = browser.review("x" * 150 + "KEEPME")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "the limit is 100" in html
    assert "KEEPME" in html  # nothing typed is lost


def test_honeypot_rejects_naive_bots(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    assert browser.review(website="http://spam.example").status_code == 400
    review = browser.review()
    response = browser.send(review, website="http://spam.example")
    assert response.status_code == 400
    assert counts(store) == (0, 0, 0)


def test_send_without_review_or_with_altered_values_goes_back_to_review(
    browser, store: Store
) -> None:  # type: ignore[no-untyped-def]
    review = browser.review()
    altered = browser.send(review, description="something else entirely")
    assert altered.status_code == 400
    assert "Please check your report once more" in altered.get_data(as_text=True)
    assert counts(store) == (0, 0, 0)
    # The page shown is a fresh review of what was actually sent; sending it works.
    assert browser.send(altered).status_code == 200
    assert counts(store)[0] == 1


def test_csrf_token_is_required(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    browser.open_form()
    response = browser.client.post("/en/report/review", data={"description": DESCRIPTION})
    assert response.status_code == 400
    shown = response.get_data(as_text=True)
    assert DESCRIPTION in shown  # shown again, with a fresh token, saying what happened
    assert "The form arrived without its security code" in shown
    other = browser.client.post("/en/followup/logout", data={})
    page = other.get_data(as_text=True)
    assert other.status_code == 400 and "The form could not be accepted" in page
    assert "without its security code" in page
    review = browser.review()
    forged = browser.send(review, csrf_token="forged")
    assert forged.status_code == 400
    assert "did not match this browser" in forged.get_data(as_text=True)
    assert counts(store) == (0, 0, 0)


def test_csrf_token_lasts_at_least_a_day_then_expires(browser, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    review = browser.review()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 25 * 3600)
    assert browser.send(review).status_code == 200  # a reporter who took a day still gets through
    review = browser.review()
    monkeypatch.setattr(time, "time", lambda: real() + 25 * 3600 + 49 * 3600)
    expired = browser.send(review)
    assert expired.status_code == 400
    assert DESCRIPTION in expired.get_data(as_text=True)
    assert "open for more than two days" in expired.get_data(as_text=True)
    assert counts(store)[0] == 1


def test_resending_the_same_report_shows_its_receipt_again_until_it_is_saved(  # type: ignore[no-untyped-def]
    browser, store: Store
) -> None:
    """A reload of the receipt page (the browser sends the form again) shows the same
    receipt and makes no second case; once the reporter says it is saved, it does not."""
    review = browser.review()
    first = browser.send(review, files=[("a.txt", b"a" * 100)])
    assert first.status_code == 200
    receipt = browser.receipt_of(first)
    again = browser.send(review, files=[("a.txt", b"a" * 100)])
    assert again.status_code == 200 and browser.receipt_of(again) == receipt
    assert counts(store)[0] == 1 and len(blob_files(store)) == 1  # the resent file is dropped
    other = browser.send(browser.review())  # another form: another receipt
    assert browser.receipt_of(other) != receipt
    saved = browser.post_form(again, "/report/done", saved="yes")
    assert saved.status_code == 200
    after = browser.send(review)
    assert after.status_code == 409 and "already sent" in after.get_data(as_text=True)
    assert receipt not in after.get_data(as_text=True)
    assert counts(store)[0] == 2


def test_too_many_files_is_413_and_nothing_is_stored(make_app, new_browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    app = make_app(max_files_per_submission=2)
    browser = new_browser(the_app=app)
    review = browser.review()
    response = browser.send(
        review, files=[("a.txt", b"a" * 1000), ("b.txt", b"b"), ("c.txt", b"c")]
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "more than 2 files" in html and DESCRIPTION in html
    assert counts(store) == (0, 0, 0) and blob_files(store) == []


def test_too_large_file_is_413_with_the_limit_and_nothing_is_stored(
    make_app, new_browser, store: Store
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(max_file_bytes=1024 * 1024)
    browser = new_browser(the_app=app)
    review = browser.review()
    response = browser.send(
        review, files=[("small.txt", b"ok"), ("big.bin", b"x" * (1024 * 1024 + 1))]
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "big.bin" in html and "1 MB" in html and DESCRIPTION in html
    assert counts(store) == (0, 0, 0) and blob_files(store) == []


def test_request_over_the_total_limit_is_413_with_limits_stated(
    make_app, new_browser, store: Store
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(max_request_bytes=64 * 1024)
    browser = new_browser(the_app=app)
    review = browser.review()
    response = browser.send(review, files=[("big.bin", b"x" * (100 * 1024))])
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "What you sent is too large" in html and "at most 10 files" in html
    assert counts(store) == (0, 0, 0) and blob_files(store) == []


def test_malformed_multipart_is_400(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    review = browser.review()
    token = browser.csrf_of(review.get_data(as_text=True))
    body = (
        b'--XYZ\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b'\r\n--XYZ\r\nContent-Disposition: form-data; name="files"; filename="a.txt"'
        + b"\r\n\r\nhalf a file"
    )
    response = browser.client.post(
        "/en/report/send", data=body, content_type="multipart/form-data; boundary=XYZ"
    )
    assert response.status_code == 400
    assert "The form arrived damaged" in response.get_data(as_text=True)
    no_boundary = browser.client.post(
        "/en/report/send", data=b"x", content_type="multipart/form-data"
    )
    assert no_boundary.status_code == 400
    assert counts(store) == (0, 0, 0) and blob_files(store) == []


def test_invalid_utf8_is_400(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    review = browser.review()
    token = browser.csrf_of(review.get_data(as_text=True))
    body = (
        b'--XYZ\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b'\r\n--XYZ\r\nContent-Disposition: form-data; name="description"'
        + b"\r\n\r\nbad \xff\xfe text"
        + b"\r\n--XYZ--\r\n"
    )
    response = browser.client.post(
        "/en/report/send", data=body, content_type="multipart/form-data; boundary=XYZ"
    )
    assert response.status_code == 400
    assert "The text could not be read" in response.get_data(as_text=True)
    urlencoded = browser.client.post(
        "/en/report/review",
        data=b"csrf_token=" + token.encode() + b"&description=bad%FF%FEtext",
        content_type="application/x-www-form-urlencoded",
    )
    assert urlencoded.status_code == 400
    assert "The text could not be read" in urlencoded.get_data(as_text=True)
    assert counts(store) == (0, 0, 0)


def test_receipt_page_shows_the_receipt_once_grouped_with_guidance(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    response = browser.send(browser.review())
    html = response.get_data(as_text=True)
    receipt = browser.receipt_of(response)
    groups = receipt.split(" ")
    assert len(groups) == 7 and all(len(g) == 4 and g.isdigit() for g in groups)
    assert "Write it down on paper" in html and "shared device" in html
    assert "Download as a text file" in html
    assert 'name="saved"' in html and "required" in html
    assert "languages" not in html.split("<main", 1)[0]  # no language switch that would lose it
    # The receipt appears nowhere in the database or the blob store.
    digits = normalize_receipt(receipt).encode()
    db_file = store.settings.instance_path / "sealbox.db"
    if db_file.exists():
        for path in store.settings.instance_path.rglob("*"):
            if path.is_file():
                assert digits not in path.read_bytes()
                assert receipt.encode() not in path.read_bytes()


def test_receipt_downloads_as_text_and_finish_needs_confirmation(browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.send(browser.review())
    receipt = browser.receipt_of(page)
    download = browser.post_form(page, "/report/receipt.txt")
    assert download.status_code == 200
    assert download.mimetype == "text/plain"
    assert download.headers["Content-Disposition"] == 'attachment; filename="receipt.txt"'
    assert receipt in download.get_data(as_text=True)
    unconfirmed = browser.post_form(page, "/report/done")
    assert unconfirmed.status_code == 400
    assert receipt in unconfirmed.get_data(as_text=True)  # still there to write down
    done = browser.post_form(page, "/report/done", saved="yes")
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    assert receipt not in done.get_data(as_text=True)


def test_the_receipt_shows_the_deadlines_the_case_was_given(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    """The dates come from the case just written, and travel with the receipt to the
    download and the confirmation step: a policy changed meanwhile moves none of them."""
    import datetime as dt

    from babel.dates import format_date
    from sqlalchemy import select

    from cases.models import Case

    with store.transaction() as db:
        store.set_policy(db, "acknowledge_within_days", 5)
    page = browser.send(browser.review())
    with store.transaction() as db:
        case = db.scalars(select(Case)).one()
        due, feedback = case.acknowledge_due_on, case.feedback_due_on
        assert due == case.received_on + dt.timedelta(days=5)
        store.set_policy(db, "acknowledge_within_days", 2)  # changed after the report
    when = format_date(due, "long", locale="en")
    assert f"by {when}" in page.get_data(as_text=True)
    download = browser.post_form(page, "/report/receipt.txt").get_data(as_text=True)
    assert format_date(due, "long", locale="en") in download
    assert format_date(feedback, "long", locale="en") in download
    unconfirmed = browser.post_form(page, "/report/done").get_data(as_text=True)
    assert f"by {when}" in unconfirmed
    forged = browser.post_form(page, "/report/receipt.txt", acknowledge_by="soon")
    assert forged.status_code == 400


def test_excluded_caseworker_gets_no_key(browser, store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    alice, _ = new_caseworker(store, "alice", display_name="Alice Archer")
    mallory, _ = new_caseworker(store, "mallory", display_name="Mallory Mole")
    page = browser.open_form().get_data(as_text=True)
    assert "Is someone who handles reports involved?" in page and "Mallory Mole" in page
    browser.submit(exclude=[str(mallory.id)])
    with store.transaction() as session:
        holders = set(
            session.scalars(
                select(WrappedKey.caseworker_id).where(WrappedKey.caseworker_id.is_not(None))
            )
        )
        assert holders == {alice.id}
        assert session.scalars(select(CaseExclusion.caseworker_id)).all() == [mallory.id]


def test_the_form_names_caseworkers_by_display_name_never_by_username(
    browser, store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    """A username is half of a sign-in: the public form must not list it, and an account
    without a display name cannot be named by a reporter at all."""
    new_caseworker(store, "alice-signin-7731", display_name="Alice Archer")
    new_caseworker(store, "bob-signin-7731", display_name="Bob Baker")
    hidden, _ = new_caseworker(store, "carol-signin-7731")
    page = browser.open_form().get_data(as_text=True)
    assert "Alice Archer" in page and "Bob Baker" in page
    assert "signin-7731" not in page
    assert f'value="{hidden.id}"' not in page


def test_with_names_hidden_the_reporter_excludes_a_team(
    browser, store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    alice, _ = new_caseworker(store, "alice", display_name="Alice Archer", team="Compliance")
    hr1, _ = new_caseworker(store, "hr1", display_name="Harriet Ross", team="Human resources")
    hr2, _ = new_caseworker(store, "hr2", team="Human resources")
    with store.transaction() as session:
        store.set_policy(session, "show_caseworker_names", False)
    page = browser.open_form().get_data(as_text=True)
    assert "Is a team that handles reports involved?" in page
    assert "Human resources" in page and "Compliance" in page
    assert "Alice Archer" not in page and "Harriet Ross" not in page
    browser.submit(exclude=["team:Human resources"])
    with store.transaction() as session:
        holders = set(
            session.scalars(
                select(WrappedKey.caseworker_id).where(WrappedKey.caseworker_id.is_not(None))
            )
        )
        excluded = set(session.scalars(select(CaseExclusion.caseworker_id)))
    assert holders == {alice.id} and excluded == {hr1.id, hr2.id}


def test_excluding_everyone_is_refused(browser, store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    alice, _ = new_caseworker(store, "alice", display_name="Alice Archer")
    bob, _ = new_caseworker(store, "bob", display_name="Bob Baker")
    response = browser.review(exclude=[str(alice.id), str(bob.id)])
    assert response.status_code == 400
    assert "nobody could read it" in response.get_data(as_text=True)


def test_identity_is_sealed_apart_from_the_report(browser, store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(store, "alice")
    review = browser.review(identity_name="Jo Bloggs", identity_contact="jo@example.org")
    assert "You are telling us who you are." in review.get_data(as_text=True)
    browser.send(review)
    with store.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert session.scalar(select(func.count()).select_from(IdentityRecord)) == 1
        thread = caseworker_key(session, case.id, KeyPurpose.THREAD, alice.id, alice_key)
        from cases.content import read_messages

        body = read_messages(
            session,
            case.id,
            {KeyPurpose.THREAD: thread},
            [m for m in __import__("cases.models").models.READABLE_BY_REPORTER],
        )[0].body
        assert "Jo Bloggs" not in json.dumps(body)


def test_stored_report_reveals_no_interface_language_and_only_dates(
    new_browser, store: Store
) -> None:  # type: ignore[no-untyped-def]
    """The language is only inside the sealed report (for the caseworker to answer in it),
    never in a plaintext column."""
    browser = new_browser("ar")
    receipt = browser.submit(DESCRIPTION, q_relationship="employee", q_when="أمس")
    with store.transaction() as session:
        case, keys = find_case(session, store.settings, normalize_receipt(receipt))
        assert case is not None
        body = reporter_view(session, case, keys.private_key).messages[0].body
        assert set(body) == {"text", "answers", "language"} and body["language"] == "ar"
        # Built-in questions are stored by their untranslated label, answers by their key.
        assert {
            "key": "relationship",
            "question": "What is your relationship to the organisation?",
            "answer": "employee",
        } in body["answers"]
        import datetime as dt

        for column in ("received_on", "reporter_activity_on"):
            value = getattr(case, column)
            assert isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        for row in session.scalars(select(Case)):
            for column in Case.__table__.columns:
                assert getattr(row, column.key) not in ("ar", "en")


def test_failure_part_way_leaves_no_case_and_no_file(browser, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cases.reporting import submission as reports

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(reports, "add_identity_record", broken)
    review = browser.review(identity_name="Jo")
    response = browser.send(review, files=[("a.bin", b"z" * 200_000)])
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong on our side" in html and "no receipt was created" in html
    assert "Traceback" not in html and "disk full" not in html
    assert counts(store) == (0, 0, 0) and blob_files(store) == []
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ReporterSession)) == 0


def test_database_outage_keeps_what_was_typed(browser, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    from cases.reporting.submission import SubmissionDraft

    def down(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    review = browser.review()
    monkeypatch.setattr(SubmissionDraft, "finalize", down)
    response = browser.send(review, files=[("a.txt", b"abc")])
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert DESCRIPTION in html and "Send my report" in html
    assert counts(store) == (0, 0, 0) and blob_files(store) == []


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_error_pages_speak_the_reporters_language_path(new_browser, lang: str) -> None:  # type: ignore[no-untyped-def]
    browser = new_browser(lang)
    response = browser.client.post(f"/{lang}/followup/logout", data={})
    assert response.status_code == 400
    assert f'<html lang="{lang}"' in response.get_data(as_text=True)


def test_filenames_are_kept_without_paths(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    receipt = browser.submit(files=[("/home/me/secret\u0007 plan.docx", b"doc")])
    with store.transaction() as session:
        case, keys = find_case(session, store.settings, normalize_receipt(receipt))
        assert case is not None
        assert [a.name for a in reporter_view(session, case, keys.private_key).attachments] == [
            "secret plan.docx"
        ]


def test_empty_file_input_stores_nothing(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    review = browser.review()
    form = browser.form_to(review.get_data(as_text=True), "/report/send")
    data = {}
    for name, value in form["fields"]:
        data.setdefault(name, []).append(value)
    data["files"] = [(BytesIO(b""), "")]
    response = browser.client.post(form["action"], data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert blob_files(store) == []
