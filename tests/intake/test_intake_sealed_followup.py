"""Follow-up with JavaScript on (cases.reporting.sealed_followup): the page derives the keys
and sends only the look-up token, sealkit plays the page here. The server opens a session
that holds no private key, serves only ciphertexts, stores what the page sealed, and the
back office reads it; the server's own paths refuse to act for such a session."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from sealkit import b64, keys_of, lookup_token, seal_file, seal_report, store_sealed, unb64
from sqlalchemy import func, select

from cases.bodies import Event
from cases.casework.oral import record_oral_report
from cases.casework.reading import read_case
from cases.content import read_identity_record
from cases.keyring import caseworker_key
from cases.models import (
    Attachment,
    Case,
    CaseLabel,
    Caseworker,
    IdentityRecord,
    KeyPurpose,
    Message,
    MessageKind,
    today,
)
from cases.reporting.followup import find_case, reporter_view
from cases.store import Store
from crypto import (
    contexts,
    derive_reporter_keys,
    encrypt_record,
    format_receipt,
    lookup_hash_of_token,
    new_receipt,
    normalize_receipt,
    open_with,
    seal_for,
)

TEXT = "The depot manager sells the fuel on the side."
REPLY_TEXT = "Thank you. Which depot?"


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    return make_app(seal_in_browser=True, max_files_per_submission=3,
                    max_file_bytes=2 * 1024 * 1024)


@pytest.fixture
def sealed_case(store: Store, new_caseworker) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(store, "alice")
    sealed, receipt = seal_report(keys_of(store), {"text": TEXT, "answers": [], "language": "en"})
    store_sealed(store, sealed)
    kdf = keys_of(store)["receipt_kdf"]
    return {"case_id": sealed["case_id"], "receipt": receipt, "alice": alice,
            "alice_key": alice_key, "token": lookup_token(receipt, kdf), "kdf": kdf}


def csrf(browser) -> str:  # type: ignore[no-untyped-def]
    page = browser.client.get(browser.url("followup/"), follow_redirects=True)
    return str(browser.csrf_of(page.get_data(as_text=True)))


def post_json(browser, path: str, body: Any, token: str | None = None):  # type: ignore[no-untyped-def]
    return browser.client.post(browser.url(path), data=json.dumps(body),
                               content_type="application/json",
                               headers={"X-CSRFToken": token or csrf(browser)})


def sign_in(browser, token: bytes):  # type: ignore[no-untyped-def]
    return post_json(browser, "followup/sealed-login", {"token": b64(token)})


def page_thread(browser) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    page = browser.client.get(browser.url("followup/case")).get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="sealed-case-main"[^>]*>(.*?)</script>',
                      page, re.S)
    assert found, page[:3000]
    return dict(json.loads(found.group(1)))


def thread_key(data: dict[str, Any], case: dict[str, Any]) -> bytes:
    private = derive_reporter_keys(case["receipt"], unb64(case["kdf"]["salt"]),
                                   _params(case["kdf"])).private_key
    return open_with(private, unb64(data["thread_key"]),
                     contexts.wrapped_key(data["case_id"], "thread"))


def _params(kdf: dict[str, Any]) -> Any:
    from crypto import KdfParams

    return KdfParams(kdf["opslimit"], kdf["memlimit"])


def test_an_instance_that_seals_on_the_server_has_no_such_sign_in(make_app, store: Store) -> None:  # type: ignore[no-untyped-def]
    client = make_app(seal_in_browser=False).test_client()
    assert client.post("/en/followup/sealed-login", json={"token": "AA=="}).status_code == 404
    assert client.get("/en/followup/sealed-files/0123456789abcdef").status_code == 404
    assert b"followup-login-data" not in client.get("/en/followup/").data


def test_the_token_opens_a_session_that_serves_only_ciphertexts(  # type: ignore[no-untyped-def]
    browser, store: Store, sealed_case: dict[str, Any]
) -> None:
    token = sealed_case["token"]
    kdf = browser.client.get(browser.url("followup/")).get_data(as_text=True)
    assert b64(store.settings.instance_salt) in kdf  # what the page derives with
    with store.transaction() as session:
        case = session.get_one(Case, sealed_case["case_id"])
        assert case.lookup_hash == lookup_hash_of_token(token)  # the page's derivation
    response = sign_in(browser, token)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["next"].endswith("/followup/case")
    page = browser.client.get(browser.url("followup/case"))
    assert page.status_code == 200
    assert TEXT not in page.get_data(as_text=True)  # the server has no key to open it
    assert "wasm-unsafe-eval" in page.headers["Content-Security-Policy"]
    data = page_thread(browser)
    report = data["messages"][0]
    assert report["kind"] == "report"
    opened = json.loads(_open(thread_key(data, sealed_case), data["case_id"], report))
    assert opened["text"] == TEXT


def _open(key: bytes, case_id: str, message: dict[str, Any]) -> bytes:
    from crypto import decrypt_record

    return decrypt_record(key, unb64(message["record"]),
                          contexts.message(case_id, message["kind"], message["id"]))


@pytest.mark.parametrize("token", [b"\x00" * 32, b"short"])
def test_a_token_that_opens_nothing_or_is_not_one_is_refused(  # type: ignore[no-untyped-def]
    browser, sealed_case: dict[str, Any], token: bytes
) -> None:
    response = sign_in(browser, token)
    assert response.status_code == 400
    assert "No report matches this receipt" in response.get_json()["message"]
    assert post_json(browser, "followup/sealed-login", {"token": 5}).status_code == 400
    assert browser.client.get(browser.url("followup/case")).status_code in (302, 303)


def test_the_sign_in_needs_the_pages_csrf_token(  # type: ignore[no-untyped-def]
    browser, sealed_case: dict[str, Any]
) -> None:
    csrf(browser)
    response = post_json(browser, "followup/sealed-login", {"token": b64(sealed_case["token"])},
                         token="forged")
    assert response.status_code == 400
    assert browser.client.get(browser.url("followup/case")).status_code in (302, 303)


def test_a_message_and_a_file_sealed_in_the_browser_read_in_the_back_office(  # type: ignore[no-untyped-def]
    browser, store: Store, sealed_case: dict[str, Any]
) -> None:
    sign_in(browser, sealed_case["token"])
    data = page_thread(browser)
    key, case_id = thread_key(data, sealed_case), data["case_id"]
    upload = seal_file(case_id, key, "ledger.xlsx", b"rows of fuel sales" * 100)
    token = csrf(browser)
    piece = browser.client.post(
        browser.url(f"report/sealed-files/{upload.id}"), data=upload.ciphertext,
        content_type="application/octet-stream",
        headers={"X-CSRFToken": token, "X-Sealbox-Upload": b64(upload.token)})
    assert piece.status_code == 200, piece.get_data(as_text=True)
    message_id = "00000000000000ab"
    record = encrypt_record(key, json.dumps({"text": REPLY_TEXT}).encode(),
                            contexts.message(case_id, "reporter_message", message_id))
    response = post_json(browser, "followup/case/main/sealed-message",
                         {"message": {"id": message_id, "record": b64(record)},
                          "files": [upload.entry]}, token)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "done=message" in response.get_json()["next"]
    with store.transaction() as session:
        case = session.get_one(Case, case_id)
        assert case.unread_by_caseworkers and case.reporter_activity_on is not None
        account = session.get_one(Caseworker, sealed_case["alice"].id)
        seen = read_case(session, case, account, sealed_case["alice_key"])
        assert seen.thread[-1].body["text"] == REPLY_TEXT
        assert seen.thread[-1].kind is MessageKind.REPORTER_MESSAGE
        assert [a.name for a in seen.attachments] == ["ledger.xlsx"]
    # The reporter's page lists the file, and hands it out exactly as stored.
    listed = page_thread(browser)["files"]
    assert [f["id"] for f in listed] == [upload.id]
    fetched = browser.client.get(listed[0]["url"])
    assert fetched.status_code == 200 and fetched.data == upload.ciphertext


def test_a_message_our_page_would_not_make_stores_nothing(  # type: ignore[no-untyped-def]
    browser, store: Store, sealed_case: dict[str, Any]
) -> None:
    sign_in(browser, sealed_case["token"])
    token = csrf(browser)
    bad = [
        {"message": {"id": "not-an-id", "record": b64(b"x" * 64)}},
        {"message": {"id": "00000000000000cd", "record": b64(b"x" * 10**6)}},  # too large
        {"message": {"id": "00000000000000cd", "record": "%%%"}},
        {"message": {"id": "00000000000000cd", "record": b64(b"x" * 64)},
         "files": [{"id": "00000000000000ef", "token": b64(b"t" * 32), "meta": b64(b"m" * 64),
                    "key": b64(b"k" * 72), "size": 10}]},  # a file never staged
    ]
    for body in bad:
        response = post_json(browser, "followup/case/main/sealed-message", body, token)
        assert response.status_code in (400, 409), response.get_data(as_text=True)
        assert response.get_json()["message"]
    with store.transaction() as session:
        kinds = session.scalars(select(Message.kind)).all()
        assert kinds == [MessageKind.REPORT]
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_the_servers_own_paths_refuse_a_session_whose_key_the_browser_holds(  # type: ignore[no-untyped-def]
    browser, store: Store, sealed_case: dict[str, Any]
) -> None:
    sign_in(browser, sealed_case["token"])
    token = csrf(browser)
    response = browser.client.post(browser.url("followup/case/main/message"),
                                   data={"csrf_token": token, "main-text": "typed without script"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "only your browser holds the key" in page and "typed without script" in page
    with store.transaction() as session:
        assert session.scalars(select(Message.kind)).all() == [MessageKind.REPORT]


def test_a_sealed_session_serves_no_file_of_another_case_nor_an_internal_one(  # type: ignore[no-untyped-def]
    browser, store: Store, sealed_case: dict[str, Any]
) -> None:
    other, _ = seal_report(keys_of(store), {"text": "another", "answers": []},
                           files=[("other.txt", b"other case")])
    # Not staged, so attach it by hand: a row of another case.
    other_id = store_sealed(store, {k: v for k, v in other.items()
                                    if k not in ("uploads", "files")})
    with store.transaction() as session:
        session.add(Attachment(id="00000000000000aa", case_id=other_id, meta_ciphertext=b"m",
                               file_key_ciphertext=b"k", ciphertext_size=1))
        session.add(Attachment(id="00000000000000bb", case_id=sealed_case["case_id"],
                               meta_ciphertext=b"m", file_key_ciphertext=b"k",
                               ciphertext_size=1, internal=True, from_reporter=False))
    sign_in(browser, sealed_case["token"])
    for attachment_id in ("00000000000000aa", "00000000000000bb", "ffffffffffffffff"):
        assert browser.client.get(browser.url(f"followup/sealed-files/{attachment_id}")
                                  ).status_code == 404


def test_a_handed_over_receipt_goes_the_servers_way_and_then_the_minutes_are_agreed_sealed(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker
) -> None:
    alice, _ = new_caseworker(store, "alice")
    with store.transaction() as session:
        case_id, handed = record_oral_report(
            session, store.settings, store.policy(session), alice, "The caller says...",
            medium="phone", held_on=dt.date(2026, 3, 4))
    kdf = keys_of(store)["receipt_kdf"]
    handed_token = lookup_token(normalize_receipt(handed), kdf)
    refused = sign_in(browser, handed_token)
    assert refused.status_code == 409 and refused.get_json()["error"] == "claim"
    # The page makes the reporter's own receipt and re-wraps the thread key to it.
    own = new_receipt()
    handed_keys = derive_reporter_keys(normalize_receipt(handed), unb64(kdf["salt"]),
                                       _params(kdf))
    own_keys = derive_reporter_keys(own, unb64(kdf["salt"]), _params(kdf))
    context = contexts.wrapped_key(case_id, "thread")
    thread = open_with(handed_keys.private_key,
                       unb64(refused.get_json()["thread_keys"][case_id]), context)
    claim = {"token": b64(handed_token), "lookup_hash": b64(own_keys.lookup_hash),
             "public_key": b64(own_keys.public_key),
             "thread_keys": {case_id: b64(seal_for(own_keys.public_key, thread, context))}}
    assert post_json(browser, "followup/sealed-claim",
                     dict(claim, thread_keys={})).status_code == 400  # a key per case
    claimed = post_json(browser, "followup/sealed-claim", claim)
    assert claimed.status_code == 200, claimed.get_data(as_text=True)
    shown = browser.client.get(claimed.get_json()["next"]).get_data(as_text=True)
    assert "Your own receipt" in shown  # its digits are the page's to fill in
    assert shown.count('<span class="receipt-digits">····</span>') == 7
    assert own not in shown and format_receipt(own) not in shown
    assert post_json(browser, "followup/sealed-claim", claim).status_code == 400  # used up
    assert sign_in(browser, handed_token).status_code == 400  # the handed-over one is gone
    with store.transaction() as session:
        assert session.get_one(Case, case_id).receipt_claimed_on == today()
    assert sign_in(browser, lookup_token(own, kdf)).status_code == 200
    data = page_thread(browser)
    key = thread_key(data, {"receipt": own, "kdf": kdf})
    [minutes] = [m for m in data["messages"] if m["kind"] == "minutes"]

    def agree(minutes_id: str, message_id: str) -> str:
        body = {"text": "", "event": "minutes_agreed", "minutes_id": minutes_id}
        record = encrypt_record(key, json.dumps(body).encode(),
                                contexts.message(case_id, "reporter_message", message_id))
        response = post_json(browser, "followup/case/main/sealed-minutes",
                             {"minutes_id": minutes_id,
                              "message": {"id": message_id, "record": b64(record)}})
        assert response.status_code == 200, response.get_data(as_text=True)
        return str(response.get_json()["next"])

    assert "done=minutes_changed" in agree("0000000000000000", "00000000000000a1")
    with store.transaction() as session:
        assert session.get_one(Case, case_id).minutes_agreed_on is None
    assert "done=minutes" in agree(minutes["id"], "00000000000000a2")
    with store.transaction() as session:
        case = session.get_one(Case, case_id)
        assert (case.minutes_agreed_on, case.minutes_agreed_how) == (today(), "reporter")
        found, keys = find_case(session, store.settings, own)
        assert found is not None
        [agreement] = [m for m in reporter_view(session, found, keys.private_key).messages
                       if m.body.get("event") == Event.MINUTES_AGREED]
        assert agreement.body["minutes_id"] == minutes["id"]


def form_sealing(browser, path: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    page = browser.client.get(browser.url(path))
    assert page.status_code == 200
    assert "wasm-unsafe-eval" in page.headers["Content-Security-Policy"]
    found = re.search(r'id="followup-form-sealing">(.*?)</script>', page.get_data(as_text=True),
                      re.S)
    assert found
    return dict(json.loads(found.group(1)))


def test_late_identity_details_sealed_in_the_browser_open_for_the_custodians_only(  # type: ignore[no-untyped-def]
    browser, store: Store, new_caseworker, sealed_case: dict[str, Any]
) -> None:
    bob, bob_key = new_caseworker(store, "bob", custodian=True)
    sign_in(browser, sealed_case["token"])
    sealing = form_sealing(browser, "followup/identity")
    assert [h["id"] for h in sealing["keys"]["custodians"]] == [bob.id]
    case_id = sealing["case_id"]
    identity = _identity_for(sealing["keys"], case_id, {"name": "Jo Bloggs"})
    token = csrf(browser)
    wrong = dict(identity, keys={"caseworkers": {}, "recovery": identity["keys"]["recovery"]})
    refused = post_json(browser, "followup/sealed-identity", {"identity": wrong}, token)
    assert refused.status_code == 409 and refused.get_json()["error"] == "keys_changed"
    response = post_json(browser, "followup/sealed-identity", {"identity": identity}, token)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "done=identity" in response.get_json()["next"]
    with store.transaction() as session:
        record = session.scalars(select(IdentityRecord)).one()
        key = caseworker_key(session, case_id, KeyPurpose.IDENTITY, bob.id, bob_key, record.id)
        assert read_identity_record(record, key) == {"name": "Jo Bloggs"}
        assert session.get_one(Case, case_id).reporter_activity_on == today()


def _identity_for(keys: dict[str, Any], case_id: str, details: dict[str, str]) -> dict[str, Any]:
    from sealkit import new_hex_id

    from crypto import new_key, seal_for

    record_id, key = new_hex_id(), new_key()
    holders = {str(h["id"]): b64(seal_for(unb64(h["public_key"]), key,
                                          contexts.wrapped_key(case_id, "identity", record_id)))
               for h in keys["custodians"]}
    recovery = seal_for(unb64(keys["recovery_public_key"]), key,
                        contexts.wrapped_key(case_id, "identity", record_id))
    record = encrypt_record(key, json.dumps(details).encode(),
                            contexts.identity_record(case_id, record_id))
    return {"id": record_id, "record": b64(record),
            "keys": {"caseworkers": holders, "recovery": b64(recovery)}}


def test_a_retaliation_report_sealed_in_the_browser_opens_a_linked_case(  # type: ignore[no-untyped-def]
    browser, store: Store, sealed_case: dict[str, Any]
) -> None:
    sign_in(browser, sealed_case["token"])
    sealing = form_sealing(browser, "followup/retaliation")
    assert [h["id"] for h in sealing["keys"]["caseworkers"]] == [sealed_case["alice"].id]
    body = {"text": "I was moved to the night shift.", "retaliation": True, "language": "en",
            "answers": [{"key": "when", "question": "When did it happen?", "answer": "May"}]}
    stranger, _ = seal_report(sealing["keys"], body)  # another reporter's key
    token = csrf(browser)
    refused = post_json(browser, "followup/sealed-retaliation", stranger, token)
    assert refused.status_code == 400
    sealed, _ = seal_report(sealing["keys"], body, receipt=sealed_case["receipt"])
    response = post_json(browser, "followup/sealed-retaliation", sealed, token)
    assert response.status_code == 201, response.get_data(as_text=True)
    with store.transaction() as session:
        case = session.get_one(Case, sealed["case_id"])
        original = session.get_one(Case, sealed_case["case_id"])
        assert case.linked_case_id == original.id and case.lookup_hash == original.lookup_hash
        assert "retaliation" in {label.label for label in session.scalars(select(CaseLabel))}
        account = session.get_one(Caseworker, sealed_case["alice"].id)
        seen = read_case(session, case, account, sealed_case["alice_key"])
        assert seen.thread[0].body["text"] == "I was moved to the night shift."
    page = browser.client.get(browser.url("followup/case")).get_data(as_text=True)
    assert f'id="sealed-case-{sealed["case_id"]}"' in page  # the reporter follows it too
