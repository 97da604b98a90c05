"""Security keys (WebAuthn) through the app, with a software key doing real P-256
signatures (tests/support/softkey.py): adding one, signing in with it, every answer good
once, the policy that bars codes for custodians and administrators, removal and reset."""

from __future__ import annotations

import json

import pytest
from softkey import SoftKey
from sqlalchemy import select

from cases.accounts.twofactor import reset_second_factor
from cases.models import AuditEntry, Caseworker, SecurityKey

ORIGIN = "http://localhost"  # Flask's test client


def options(b, url: str) -> dict:  # type: ignore[no-untyped-def]
    reply = b.client.post(url, headers={"X-CSRFToken": b.token}, json={})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return json.loads(reply.get_data(as_text=True))


def add_key(b, key: SoftKey, name: str = "blue key"):  # type: ignore[no-untyped-def]
    b.get("/account")
    answer = key.create(options(b, "/account/security-keys/options"))
    return b.post("/account/security-keys", {"name": name, "answer": answer})


@pytest.fixture
def alice(person, signed_in):  # type: ignore[no-untyped-def]
    who = person("alice", admin=True)
    return who, signed_in(who), SoftKey("localhost", ORIGIN)


def key_rows(store, account_id: int) -> list[SecurityKey]:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        return list(db.scalars(select(SecurityKey).where(
            SecurityKey.caseworker_id == account_id)))


def test_add_a_key_on_the_account_page(store, alice) -> None:
    who, b, key = alice
    page = b.get("/account").get_data(as_text=True)
    assert 'data-webauthn="create"' in page and "security-keys.js" in page
    added = add_key(b, key)
    assert added.status_code == 302 and added.headers["Location"].endswith("/account#keys")
    assert "The security key is added" in b.get("/account").get_data(as_text=True)
    [row] = key_rows(store, who.id)
    assert row.credential_id == key.credential_id and row.name == "blue key"
    with store.transaction() as db:
        assert db.scalars(select(AuditEntry).where(
            AuditEntry.action == "caseworker.security_key_added")).one().actor_id == who.id


def test_an_answer_is_good_once_and_only_for_this_origin(store, alice) -> None:
    who, b, key = alice
    b.get("/account")
    answer = key.create(options(b, "/account/security-keys/options"))
    assert b.post("/account/security-keys", {"name": "k", "answer": answer}).status_code == 302
    replayed = b.post("/account/security-keys", {"name": "k", "answer": answer})
    assert "has expired" in b.get(replayed.headers["Location"]).get_data(as_text=True)
    phished = key.create(options(b, "/account/security-keys/options"),
                         origin="https://sealbox.example.evil")
    b.post("/account/security-keys", {"name": "k2", "answer": phished})
    assert "could not be checked" in b.get("/account").get_data(as_text=True)
    assert len(key_rows(store, who.id)) == 1


def test_options_need_the_csrf_token(alice) -> None:
    _who, b, _key = alice
    b.get("/account")
    assert b.client.post("/account/security-keys/options", json={}).status_code == 400


def sign_in_with_key(new_browser, who, key: SoftKey, *, origin: str | None = None):  # type: ignore[no-untyped-def]
    b = new_browser()
    first = b.post("/login", {"username": who.username, "passphrase": who.passphrase})
    assert first.headers["Location"].startswith("/login/code")
    page = b.get("/login/code").get_data(as_text=True)
    assert "Use my security key" in page
    answer = key.get(options(b, "/login/key/options"), origin=origin)
    return b, b.post("/login/key", {"answer": answer})


def test_sign_in_with_the_key(store, alice, new_browser) -> None:
    who, b, key = alice
    add_key(b, key)
    fresh, done = sign_in_with_key(new_browser, who, key)
    assert done.status_code == 302
    assert fresh.get("/account").status_code == 200
    with store.transaction() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "login.succeeded")
                           .order_by(AuditEntry.id.desc())).first()
        assert entry is not None and json.loads(entry.detail)["method"] == "security_key"
        [row] = db.scalars(select(SecurityKey)).all()
        assert row.sign_count == 1 and row.last_used_at is not None


def test_a_wrong_or_foreign_key_does_not_sign_in(store, alice, person, signed_in,
                                                 new_browser) -> None:
    who, b, key = alice
    add_key(b, key)
    _fresh, phished = sign_in_with_key(new_browser, who, key, origin="https://evil.example")
    assert phished.status_code == 400
    assert "was not accepted" in phished.get_data(as_text=True)
    bob = person("bob")
    bobs_key = SoftKey("localhost", ORIGIN)
    add_key(signed_in(bob), bobs_key)
    _fresh, foreign = sign_in_with_key(new_browser, who, bobs_key)  # bob's key, alice's login
    assert foreign.status_code == 400
    with store.transaction() as db:
        assert db.get_one(Caseworker, who.id).failed_logins >= 2  # counted like a wrong code


def test_the_policy_bars_codes_for_administrators_who_have_a_key(store, alice, new_browser,
                                                                 person, h) -> None:
    who, b, key = alice
    with store.transaction() as db:
        store.set_policy(db, "require_security_keys", True)
    h.sign_in(new_browser(), store, person("carol"))  # a caseworker: not for them
    h.sign_in(new_browser(), store, person("dave", admin=True))  # no key yet: codes work
    add_key(b, key)
    c = new_browser()
    c.post("/login", {"username": who.username, "passphrase": who.passphrase})
    refused = c.post("/login/code", {"code": h.fresh_code(store, who)})  # a right code
    assert refused.status_code == 200
    assert "signs in with its security key" in refused.get_data(as_text=True)
    assert c.get("/account").status_code != 200
    _fresh, done = sign_in_with_key(new_browser, who, key)
    assert done.status_code == 302


def test_remove_a_key_and_reset_forgets_them(store, alice) -> None:
    who, b, key = alice
    add_key(b, key)
    [row] = key_rows(store, who.id)
    b.get("/account")
    assert b.post(f"/account/security-keys/{row.id}/remove").status_code == 302
    assert key_rows(store, who.id) == []
    add_key(b, SoftKey("localhost", ORIGIN), "spare")
    with store.transaction() as db:
        reset_second_factor(db, db.get_one(Caseworker, who.id))
    assert key_rows(store, who.id) == []
