"""A report sealed in the browser (/report/sealing-keys, /report/send-sealed), sealed here by
sealkit exactly as the page's script seals it: what the server hands out, what it stores,
and what it refuses, each time leaving nothing behind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sealkit import b64, seal_report
from sqlalchemy import func, select

from cases.casework.reading import read_case
from cases.content import read_identity_record
from cases.keyring import caseworker_key
from cases.models import Case, Caseworker, IdentityRecord, KeyPurpose, Message, WrappedKey
from cases.store import Store
from crypto import new_key, record_size
from intake.report.options import load_options
from intake.report.sealed_form import report_limits
from intake.work import db

TEXT = "The depot manager sells the fuel on the side."


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    return make_app(seal_in_browser=True)


def test_an_instance_that_seals_on_the_server_has_no_such_calls(  # type: ignore[no-untyped-def]
    make_app, store: Store, new_caseworker
) -> None:
    """Turned off, the keys are not handed out: the salt stays out of reach."""
    new_caseworker(store, "alice")
    client = make_app(seal_in_browser=False).test_client()
    assert client.get("/en/report/sealing-keys").status_code == 404
    assert client.post("/en/report/send-sealed", json={}).status_code == 404
    assert client.post("/en/report/sealed-receipt").status_code == 404
    assert b"sealing-data" not in client.get("/en/report/").data


def keys_for(browser, **query: Any) -> Any:  # type: ignore[no-untyped-def]
    response = browser.client.get(browser.url("report/sealing-keys"), query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def send(browser, sealed: dict[str, Any], csrf: str | None = None):  # type: ignore[no-untyped-def]
    token = browser.csrf_of(browser.open_form().get_data(as_text=True))  # and the cookie
    csrf = token if csrf is None else csrf
    return browser.client.post(
        browser.url("report/send-sealed"), data=json.dumps(sealed),
        content_type="application/json", headers={"X-CSRFToken": csrf},
    )


def body(text: str = TEXT) -> dict[str, Any]:
    return {"text": text, "answers": [], "language": "en"}


def stored(store: Store) -> tuple[int, int, int, int]:
    with store.transaction() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Case, Message, IdentityRecord, WrappedKey)
        )


def test_the_keys_are_the_certified_holders_of_the_routing(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    alice, _ = new_caseworker(store, "alice", display_name="Alice Archer")
    bob, _ = new_caseworker(store, "bob", display_name="Bob Baker", custodian=True)
    keys = keys_for(browser)
    assert {h["id"] for h in keys["caseworkers"]} == {alice.id, bob.id}
    assert [h["id"] for h in keys["custodians"]] == [bob.id]
    assert keys["signing_public_key"] == b64(store.settings.key_signing_public)
    assert keys["receipt_kdf"]["salt"] == b64(store.settings.instance_salt)
    assert keys_for(browser, exclude=str(bob.id))["custodians"] == []
    # A key someone put in an account's row without the signing key is not handed out.
    with store.transaction() as session:
        session.get_one(Caseworker, bob.id).public_key = bytes(32)
    assert {h["id"] for h in keys_for(browser)["caseworkers"]} == {alice.id}


def test_a_sealed_report_reads_in_the_back_office_and_in_follow_up(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    alice, alice_key = new_caseworker(store, "alice", custodian=True)
    sealed, receipt = seal_report(keys_for(browser), body(), identity={"name": "Jo Bloggs"})
    response = send(browser, sealed)
    assert response.status_code == 201, response.get_data(as_text=True)
    with store.transaction() as session:
        case = session.get_one(Case, sealed["case_id"])
        assert response.get_json()["acknowledge_by"] == case.acknowledge_due_on.isoformat()
        account = session.get_one(Caseworker, alice.id)
        assert read_case(session, case, account, alice_key).thread[0].body["text"] == TEXT
        record = session.scalars(select(IdentityRecord)).one()
        key = caseworker_key(session, case.id, KeyPurpose.IDENTITY, alice.id, alice_key,
                             record.id)
        assert read_identity_record(record, key) == {"name": "Jo Bloggs"}
    assert browser.login(receipt).status_code in (302, 303)
    assert TEXT in browser.case_page().get_data(as_text=True)


def test_the_automatic_acknowledgement_is_sealed_by_the_browser_when_asked(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    with store.transaction() as session:
        store.set_policy(session, "auto_acknowledge", True)
    keys = keys_for(browser)
    assert keys["acknowledgement"]
    without = dict(seal_report(keys, body())[0], acknowledgement=None)
    assert send(browser, without).get_json()["error"] == "keys_changed"
    sealed, receipt = seal_report(keys, body())
    assert send(browser, sealed).status_code == 201
    browser.login(receipt)
    assert "automatic acknowledgement" in browser.case_page().get_data(as_text=True)


def test_the_same_report_sent_again_is_stored_once(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    sealed, _ = seal_report(keys_for(browser), body())
    assert send(browser, sealed).status_code == 201
    again = send(browser, sealed)
    assert again.status_code == 200 and again.get_json()["feedback_by"]
    assert stored(store)[:2] == (1, 1)


def test_a_holder_added_since_the_keys_were_fetched_means_sealing_again(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    keys = keys_for(browser)
    new_caseworker(store, "bob")
    response = send(browser, seal_report(keys, body())[0])
    assert response.status_code == 409
    assert response.get_json()["error"] == "keys_changed"
    assert "sealed again" in response.get_json()["message"]
    assert stored(store) == (0, 0, 0, 0)
    assert send(browser, seal_report(keys_for(browser), body())[0]).status_code == 201


def test_exclusions_that_leave_nobody_are_refused(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    alice, _ = new_caseworker(store, "alice", display_name="Alice Archer")
    bob, _ = new_caseworker(store, "bob", display_name="Bob Baker")
    everyone = [str(alice.id), str(bob.id)]
    response = browser.client.get(browser.url("report/sealing-keys"),
                                  query_string={"exclude": everyone})
    assert response.status_code == 409 and "nobody could read it" in response.get_json()["message"]
    keys = keys_for(browser, exclude=str(bob.id))
    sealed, _ = seal_report(keys, body(), exclude=[str(bob.id)])
    assert send(browser, dict(sealed, exclude=everyone)).get_json()["error"] == "nobody"
    assert send(browser, sealed).status_code == 201
    with store.transaction() as session:
        holders = session.scalars(select(WrappedKey.caseworker_id).distinct()).all()
    assert set(holders) == {alice.id, None}  # bob has no key; None: the reporter, recovery


def _damaged(sealed: dict[str, Any], how: str) -> dict[str, Any]:
    damaged = json.loads(json.dumps(sealed))
    if how == "short key":
        holder = next(iter(damaged["internal_keys"]["caseworkers"]))
        damaged["internal_keys"]["caseworkers"][holder] = b64(b"\x01" * 40)
    elif how == "not base64":
        damaged["report"]["record"] = "%%%"
    elif how == "upper-case id":
        damaged["case_id"] = damaged["case_id"].upper()
    elif how == "same id twice":
        damaged["report"]["id"] = damaged["case_id"]
    elif how == "empty record":
        damaged["report"]["record"] = b64(b"\x01" * 40)
    elif how == "no reporter key":
        del damaged["thread_keys"]["reporter"]
    elif how == "unknown category":
        damaged["category"] = "no-such-subject"
    elif how == "not an object":
        damaged = ["case_id"]  # type: ignore[assignment]
    return damaged


@pytest.mark.parametrize("how", [
    "short key", "not base64", "upper-case id", "same id twice", "empty record",
    "no reporter key", "unknown category", "not an object",
])
def test_what_our_page_would_not_make_is_refused_and_nothing_is_kept(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker, how: str
) -> None:
    new_caseworker(store, "alice")
    sealed, _ = seal_report(keys_for(browser), body())
    response = send(browser, _damaged(sealed, how))
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed"
    assert "Nothing was stored" in response.get_json()["message"]
    assert stored(store) == (0, 0, 0, 0)


def test_a_report_larger_than_the_form_could_make_is_refused(  # type: ignore[no-untyped-def]
    app, browser, store: Store, new_caseworker
) -> None:
    """The bound is the form's own (every field at its limit, as JSON) however the text is
    written; a body past the request limit is refused before it is read."""
    new_caseworker(store, "alice")
    sealed, _ = seal_report(keys_for(browser), body())
    with app.test_request_context("/en/report/"):
        largest = report_limits(load_options(db()), store.settings).report_bytes
    assert largest >= 6 * store.settings.max_report_chars
    sealed["report"]["record"] = b64(bytes(record_size(largest + 1)))
    response = send(browser, sealed)
    assert response.status_code in (400, 413) and response.is_json
    sealed["report"]["record"] = b64(bytes(64 * 1024 * 1024))
    response = send(browser, sealed)
    assert response.status_code == 413 and "too large" in response.get_json()["title"]
    assert stored(store) == (0, 0, 0, 0)


def test_a_receipt_already_in_use_is_refused(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    keys = keys_for(browser)
    first, receipt = seal_report(keys, body())
    assert send(browser, first).status_code == 201
    second, _ = seal_report(keys, body("Another."), receipt=receipt)
    assert send(browser, second).get_json()["error"] == "taken"
    assert stored(store)[:2] == (1, 1)


def test_without_the_forms_security_code_nothing_is_stored(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    sealed, _ = seal_report(keys_for(browser), body())
    response = send(browser, sealed, csrf="forged")
    assert response.status_code == 400
    assert response.is_json and "security code" in response.get_json()["message"]
    assert stored(store) == (0, 0, 0, 0)


def test_the_refusals_speak_the_reporters_language(  # type: ignore[no-untyped-def]
    new_browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    french = new_browser("fr")
    sealed, _ = seal_report(keys_for(french), body())
    response = send(french, _damaged(sealed, "short key"))
    assert "Rien n’a été enregistré" in response.get_json()["message"]


def test_a_report_sealed_under_another_key_is_shown_to_its_reporter_as_damaged(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    new_caseworker(store, "alice")
    sealed, receipt = seal_report(keys_for(browser), body(), report_key=new_key())
    assert send(browser, sealed).status_code == 201
    browser.login(receipt)
    page = browser.case_page()
    assert page.status_code == 200
    assert "This message could not be opened" in page.get_data(as_text=True)
