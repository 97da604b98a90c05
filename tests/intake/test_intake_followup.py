"""Follow-up: receipt look-up, the split-key session, thread, messages, files, identity,
retaliation, idle timeout and log-out."""

from __future__ import annotations

import re
import time

from sqlalchemy import func, select

from cases.casework.workflow import acknowledge
from cases.content import add_message, read_identity_record
from cases.keyring import caseworker_key
from cases.models import (
    READABLE_BY_REPORTER,
    Attachment,
    Case,
    CaseExclusion,
    CaseLabel,
    CaseLink,
    HolderKind,
    IdentityRecord,
    KeyPurpose,
    MessageKind,
    ReporterSession,
    WrappedKey,
)
from cases.reporting.followup import find_case
from cases.store import Store
from crypto import join_session_secret, normalize_receipt
from intake.followup import sessions


def _session_cookie(browser) -> dict:  # type: ignore[no-untyped-def]
    app = browser.client.application
    cookie = browser.client.get_cookie("sealbox")
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.loads(cookie.value)  # type: ignore[no-any-return]


def test_receipt_typo_gets_a_specific_message(browser) -> None:  # type: ignore[no-untyped-def]
    receipt = browser.submit()
    digits = normalize_receipt(receipt)
    typo = digits[:5] + str((int(digits[5]) + 1) % 10) + digits[6:]
    response = browser.login(typo)
    assert response.status_code == 400
    assert "One digit is wrong somewhere" in response.get_data(as_text=True)
    short = browser.login(digits[:20])
    assert short.status_code == 400 and "28 digits" in short.get_data(as_text=True)
    assert browser.client.get_cookie("sealbox") is not None
    assert "followup" not in _session_cookie(browser)


def test_receipt_is_accepted_with_spaces_dashes_and_other_digits(browser) -> None:  # type: ignore[no-untyped-def]
    receipt = browser.submit()
    arabic_indic = "".join(chr(0x0660 + int(d)) if d.isdigit() else "-" for d in receipt)
    assert browser.login(arabic_indic).status_code == 303


def test_right_and_wrong_receipts_take_the_same_argon2_path(browser, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cases.reporting import followup as reporter

    receipt = browser.submit()
    calls: list[str] = []
    real = reporter.derive_reporter_keys

    def counting(receipt_text, salt, params):  # type: ignore[no-untyped-def]
        calls.append(receipt_text)
        return real(receipt_text, salt, params)

    from intake.followup import views

    monkeypatch.setattr(reporter, "derive_reporter_keys", counting)
    monkeypatch.setattr(views, "derive_reporter_keys", counting)  # the view derives first
    from crypto import new_receipt

    wrong = browser.login(new_receipt())
    assert wrong.status_code == 400
    text = wrong.get_data(as_text=True)
    assert "No report matches this receipt" in text
    assert browser.login(receipt).status_code == 303
    assert len(calls) == 2  # one full derivation each, found or not


def test_receipt_is_never_taken_from_a_url(browser) -> None:  # type: ignore[no-untyped-def]
    receipt = browser.submit()
    response = browser.client.get("/en/followup/?receipt=" + normalize_receipt(receipt))
    assert response.status_code == 200
    assert browser.client.get("/en/followup/case").status_code == 303  # not logged in
    assert 'method="post" action="/en/followup/"' in response.get_data(as_text=True)


def test_session_key_is_split_between_cookie_and_row(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    receipt = browser.submit()
    browser.login(receipt)
    data = _session_cookie(browser)["followup"]
    digits = normalize_receipt(receipt)
    raw_cookie = browser.client.get_cookie("sealbox").value
    assert digits not in raw_cookie and digits not in str(data)
    with store.transaction() as session:
        case, keys = find_case(session, store.settings, digits)
        row = session.scalars(select(ReporterSession)).one()
        assert case is not None
        # The row names no case: nothing in it but the key's half and a date.
        assert set(ReporterSession.__table__.columns.keys()) == {
            "id_hash", "wrapped_key", "created_on"
        }
        assert case.id.encode() not in row.wrapped_key + row.id_hash
        assert keys.private_key not in row.wrapped_key and keys.private_key != data["key"]
        # Both halves are needed: together they give the reporter's key.
        assert join_session_secret(data["key"], row.wrapped_key, data["id"]) == keys.private_key
        import datetime as dt

        assert type(row.created_on) is dt.date  # a date, no time of day
        assert data["id"].encode() not in row.id_hash


def test_deleting_the_row_ends_the_session(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    browser.login(browser.submit())
    assert browser.case_page().status_code == 200
    with store.transaction() as session:
        session.execute(ReporterSession.__table__.delete())
    response = browser.case_page()
    assert response.status_code == 303 and "/en/followup/?ended=1" in response.headers["Location"]


def test_idle_timeout_ends_the_session_and_deletes_the_row(
    browser, store: Store, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    browser.login(browser.submit())
    real = time.time
    monkeypatch.setattr(sessions.time, "time", lambda: real() + 29 * 60)
    assert browser.case_page().status_code == 200  # activity moves the idle clock
    monkeypatch.setattr(sessions.time, "time", lambda: real() + 29 * 60 + 31 * 60)
    response = browser.case_page()
    assert response.status_code == 303
    assert "Your session ended" in browser.client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ReporterSession)) == 0


def test_absolute_timeout(browser, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    browser.login(browser.submit())
    real = time.time
    for minutes in range(20, 8 * 60, 20):
        monkeypatch.setattr(sessions.time, "time", lambda m=minutes: real() + m * 60)
        assert browser.case_page().status_code == 200
    monkeypatch.setattr(sessions.time, "time", lambda: real() + 8 * 3600 + 60)
    assert browser.case_page().status_code == 303


def test_expired_session_keeps_the_unsent_message(browser, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    receipt = browser.submit()
    browser.login(receipt)
    page = browser.case_page()
    with store.transaction() as session:  # the session ends (expiry sweep, log-out elsewhere)
        session.execute(ReporterSession.__table__.delete())
    response = browser.post_form(
        page, "/case/main/message", **{"main-text": "My long careful message"}
    )
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "My long careful message" in html and "nothing was sent" in html
    again = browser.post_form(response, "/followup/", receipt=receipt)
    assert again.status_code == 200
    assert "My long careful message" in again.get_data(as_text=True)  # ready to send again


def test_tampered_cookie_is_no_session(browser) -> None:  # type: ignore[no-untyped-def]
    browser.login(browser.submit())
    cookie = browser.client.get_cookie("sealbox")
    browser.client.set_cookie("sealbox", cookie.value[:-3] + "AAA")
    assert browser.case_page().status_code == 303


def test_logout_clears_site_data_and_deletes_the_row(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    browser.login(browser.submit())
    page = browser.case_page()
    response = browser.post_form(page, "/followup/logout")
    assert response.status_code == 200
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert "sealbox=;" in response.headers["Set-Cookie"]
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ReporterSession)) == 0
    assert browser.case_page().status_code == 303


def test_status_dates_replies_and_never_internal_notes(
    browser, store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(store, "alice")
    receipt = browser.submit()
    with store.transaction() as session:
        case, _ = find_case(session, store.settings, normalize_receipt(receipt))
        thread = caseworker_key(session, case.id, KeyPurpose.THREAD, alice.id, alice_key)
        internal = caseworker_key(session, case.id, KeyPurpose.INTERNAL, alice.id, alice_key)
        add_message(
            session,
            case.id,
            MessageKind.REPLY,
            thread,
            {"text": "Thank you, we are looking into it."},
            author_id=alice.id,
        )
        add_message(
            session,
            case.id,
            MessageKind.NOTE,
            internal,
            {"text": "INTERNAL: suspect is the CFO"},
            author_id=alice.id,
        )
        acknowledge(case, case.received_on, store.policy(session).deadlines)
    browser.login(receipt)
    html = browser.case_page().get_data(as_text=True)
    assert "Thank you, we are looking into it." in html
    assert "INTERNAL" not in html and "CFO" not in html
    assert "We have confirmed receiving your report" in html
    assert "We confirmed receiving it on" in html
    assert "We will tell you what we are doing about it by" in html
    assert "alice" not in html  # caseworkers are not named to the reporter


def test_message_files_too_large_are_413_and_nothing_is_stored(
    make_app, new_browser, store: Store
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(max_file_bytes=1024 * 1024)
    browser = new_browser(the_app=app)
    browser.login(browser.submit())
    page = browser.case_page()
    response = browser.post_form(
        page,
        "/case/main/message",
        files=[("big.bin", b"x" * (1024 * 1024 + 10))],
        **{"main-text": "see attached"},
    )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "big.bin" in html and "see attached" in html
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert sorted(store.settings.blob_path.iterdir()) == []


def test_empty_message_is_refused(browser) -> None:  # type: ignore[no-untyped-def]
    browser.login(browser.submit())
    response = browser.post_form(browser.case_page(), "/case/main/message", **{"main-text": "  "})
    assert response.status_code == 400
    assert "Write a message or choose a file" in response.get_data(as_text=True)


def test_files_of_other_cases_are_not_reachable(browser, new_browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    other = new_browser()
    other.submit(files=[("theirs.txt", b"not yours")])
    with store.transaction() as session:
        their_file = session.scalars(select(Attachment)).one().id
    browser.login(browser.submit())
    assert browser.client.get(f"/en/followup/files/{their_file}").status_code == 404
    assert (
        browser.post_form(
            browser.case_page(), "/case/main/message", **{"main-text": "x"}
        ).status_code
        == 303
    )
    page = browser.case_page()
    form = browser.form_to(page.get_data(as_text=True), "/case/main/message")
    assert (
        browser.client.post(
            form["action"].replace("/main/", "/0123456789abcdef/"), data=dict(form["fields"])
        ).status_code
        == 404
    )


def test_identity_disclosure_warns_and_seals_for_custodians(
    browser, store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    new_caseworker(store, "alice")
    carol, carol_key = new_caseworker(store, "carol", caseworker=False, custodian=True)
    browser.login(browser.submit())
    page = browser.client.get("/en/followup/identity")
    html = page.get_data(as_text=True)
    assert "This cannot be undone" in html
    unconfirmed = browser.post_form(page, "/followup/identity", name="Jo Bloggs")
    assert unconfirmed.status_code == 400
    assert "Tick this box" in unconfirmed.get_data(as_text=True)
    assert "Jo Bloggs" in unconfirmed.get_data(as_text=True)
    done = browser.post_form(
        page, "/followup/identity", name="Jo Bloggs", contact="+1 555", understood="y"
    )
    assert done.status_code == 303
    assert "You shared your identity details on" in browser.case_page().get_data(as_text=True)
    with store.transaction() as session:
        record = session.scalars(select(IdentityRecord)).one()
        key = caseworker_key(
            session, record.case_id, KeyPurpose.IDENTITY, carol.id, carol_key, record.id
        )
        assert read_identity_record(record, key) == {"name": "Jo Bloggs", "contact": "+1 555"}
        holders = set(
            session.scalars(
                select(WrappedKey.caseworker_id).where(WrappedKey.purpose == KeyPurpose.IDENTITY)
            )
        )
        assert holders == {carol.id, None}  # the custodian and the recovery key only


def test_retaliation_opens_a_linked_case_under_the_same_receipt(
    browser, store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(store, "alice", display_name="Alice A.")
    mallory, _ = new_caseworker(store, "mallory", display_name="Mallory M.")
    receipt = browser.submit(exclude=[str(mallory.id)])
    browser.login(receipt)
    page = browser.client.get("/en/followup/retaliation")
    assert browser.post_form(page, "/followup/retaliation", what="").status_code == 400
    response = browser.post_form(
        page, "/followup/retaliation", what="I was demoted after my report.", when="last week"
    )
    assert response.status_code == 303
    html = browser.case_page().get_data(as_text=True)
    assert "Retaliation report of" in html and "I was demoted after my report." in html
    with store.transaction() as session:
        original, keys = find_case(session, store.settings, normalize_receipt(receipt))
        linked = session.scalars(select(Case).where(Case.linked_case_id == original.id)).one()
        # The same receipt, so the same look-up hash: it opens both (and either alone).
        assert linked.lookup_hash == original.lookup_hash
        assert linked.reporter_public_key == keys.public_key
        assert linked.acknowledge_due_on is not None and linked.status.value == "received"
        assert session.get(CaseLabel, {"case_id": linked.id, "label": "retaliation"}) is not None
        assert session.scalar(select(func.count()).select_from(CaseLink)) == 1
        assert session.scalars(
            select(CaseExclusion.caseworker_id).where(CaseExclusion.case_id == linked.id)
        ).all() == [mallory.id]
        holders = set(
            session.scalars(
                select(WrappedKey.caseworker_id).where(
                    WrappedKey.case_id == linked.id, WrappedKey.holder_kind == HolderKind.CASEWORKER
                )
            )
        )
        assert holders == {alice.id}
        assert caseworker_key(session, linked.id, KeyPurpose.THREAD, alice.id, alice_key)
        linked_id = linked.id
    # The reporter can write to the retaliation case too.
    page = browser.case_page()
    sent = browser.post_form(
        page, f"/case/{linked_id}/message", **{f"{linked_id}-text": "They also cut my pay."}
    )
    assert sent.status_code == 303
    assert "They also cut my pay." in browser.case_page().get_data(as_text=True)


def test_a_retaliation_report_gets_the_automatic_acknowledgement_as_any_report(
    browser, store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    """It used to be opened by a copy of the case-opening code that had drifted: the
    instance's automatic acknowledgement never reached a retaliation report."""
    from cases.bodies import Event
    from cases.content import read_messages

    alice, alice_key = new_caseworker(store, "alice")
    with store.transaction() as session:
        store.set_policy(session, "auto_acknowledge", True)
    browser.login(browser.submit())
    page = browser.client.get("/en/followup/retaliation")
    assert browser.post_form(
        page, "/followup/retaliation", what="My badge stopped working."
    ).status_code == 303
    with store.transaction() as session:
        linked = session.scalars(select(Case).where(Case.linked_case_id.is_not(None))).one()
        key = caseworker_key(session, linked.id, KeyPurpose.THREAD, alice.id, alice_key)
        events = [
            m.body.get("event")
            for m in read_messages(
                session, linked.id, {KeyPurpose.THREAD: key}, READABLE_BY_REPORTER
            )
        ]
    assert events == [None, Event.AUTOMATIC_ACKNOWLEDGEMENT]  # the report, then the acknowledgement


def test_message_form_is_rate_limited_but_reading_is_not(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    app = make_app(submissions_per_hour_per_client=1)
    browser = new_browser(the_app=app)
    browser.login(browser.submit())
    for i in range(6):
        page = browser.case_page()
        assert (
            browser.post_form(page, "/case/main/message", **{"main-text": f"m{i}"}).status_code
            == 303
        )
    page = browser.case_page()
    limited = browser.post_form(page, "/case/main/message", **{"main-text": "one too many"})
    assert limited.status_code == 429
    assert browser.case_page().status_code == 200
    assert re.search(r"try again in \d+ minutes", limited.get_data(as_text=True))


def test_the_receipt_still_opens_the_retaliation_case_after_the_report_is_purged(
    browser, store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    """Retaliation must not vanish with the original case (ISO 37002 8.4.3): once the
    report is closed and purged, the same receipt opens the retaliation case alone."""
    from cases.records.retention import purge_case

    new_caseworker(store, "alice")
    receipt = browser.submit("The report that will be purged.")
    browser.login(receipt)
    page = browser.client.get("/en/followup/retaliation")
    assert browser.post_form(
        page, "/followup/retaliation", what="I was moved to another site."
    ).status_code == 303
    with store.transaction() as session:
        original, _ = find_case(session, store.settings, normalize_receipt(receipt))
        assert original is not None
        purge_case(session, store.blobs, original)
    fresh = browser.__class__(browser.client.application.test_client())
    assert fresh.login(receipt).status_code == 303
    html = fresh.case_page().get_data(as_text=True)
    assert "I was moved to another site." in html
    assert "The report that will be purged." not in html

