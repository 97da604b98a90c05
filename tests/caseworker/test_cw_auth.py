"""Sign-in, second factor, enrolment, recovery codes, lockout, sessions and sign-out."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyotp
import pytest
from sqlalchemy import func, select

from cases.accounts.enrolment import unlock
from cases.models import AuditEntry, Caseworker, CaseworkerSession


def test_login_page_has_security_headers_and_no_scripts(browser) -> None:
    response = browser.get("/login")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"].startswith("no-store")
    html = response.get_data(as_text=True)
    assert "<script" not in html and "style=" not in html
    assert 'lang="en"' in html


def test_full_sign_in_with_totp(browser, store, person, h) -> None:
    alice = person("alice")
    response = browser.post("/login", {"username": "alice", "passphrase": h.passphrase})
    assert response.status_code == 302 and response.location.startswith("/login/code")
    pending_cookie = browser.cookie("sealbox_cw")
    assert pending_cookie
    # Before the second factor the inbox is out of reach.
    assert browser.get("/").status_code == 302
    response = browser.post("/login/code", {"code": h.fresh_code(store, alice)})
    assert response.status_code == 302 and response.location == "/"
    full_cookie = browser.cookie("sealbox_cw")
    assert full_cookie and full_cookie != pending_cookie  # rotated after the second factor
    assert browser.get("/").status_code == 200
    with store.transaction() as db:
        rows = db.scalars(select(CaseworkerSession)).all()
        assert [r.stage for r in rows] == ["full"]
        actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "login.succeeded" in actions


def test_session_cookie_flags(browser, person, h) -> None:
    person("alice")
    response = browser.post("/login", {"username": "alice", "passphrase": h.passphrase})
    header = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("sealbox_cw="))
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header
    assert "Expires" not in header and "Max-Age" not in header  # a session cookie


def test_https_instance_uses_host_prefixed_secure_cookies(store, person, h) -> None:
    from dataclasses import replace

    from caseworker import create_app

    store.settings = replace(store.settings, require_https_cookies=True)
    app = create_app(store.settings, store)
    app.config["TESTING"] = True
    client = app.test_client()
    person("alice")
    page = client.get("/login", base_url="https://cw.example")
    assert "Strict-Transport-Security" in page.headers
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert token
    response = client.post(
        "/login",
        data={"username": "alice", "passphrase": h.passphrase, "csrf_token": token.group(1)},
        base_url="https://cw.example",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    header = next(v for v in response.headers.getlist("Set-Cookie") if "sealbox-cw=" in v)
    assert header.startswith("__Host-sealbox-cw=") and "Secure" in header


def test_wrong_passphrase_and_unknown_user_get_the_same_answer(browser, person) -> None:
    person("alice")
    wrong = browser.post("/login", {"username": "alice", "passphrase": "not the passphrase"})
    unknown = browser.post("/login", {"username": "nobody", "passphrase": "not the passphrase"})
    assert wrong.status_code == unknown.status_code == 200
    message = "The username or passphrase is not right."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert browser.cookie("sealbox_cw") is None


def test_wrong_totp_fails(browser, store, person, h) -> None:
    alice = person("alice")
    browser.post("/login", {"username": "alice", "passphrase": h.passphrase})
    good = h.fresh_code(store, alice)
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    response = browser.post("/login/code", {"code": bad})
    assert response.status_code == 200
    assert "not right" in response.get_data(as_text=True)
    assert browser.get("/").status_code == 302
    with store.transaction() as db:
        assert db.get_one(Caseworker, alice.id).failed_logins == 1


def test_reused_totp_code_is_refused(store, person, new_browser, h) -> None:
    alice = person("alice")
    first = new_browser()
    first.post("/login", {"username": "alice", "passphrase": h.passphrase})
    code = h.fresh_code(store, alice)
    assert first.post("/login/code", {"code": code}).status_code == 302
    second = new_browser()
    second.post("/login", {"username": "alice", "passphrase": h.passphrase})
    replay = second.post("/login/code", {"code": code})
    assert replay.status_code == 200 and "already been used" in replay.get_data(as_text=True)
    assert second.get("/").status_code == 302


def test_lockout_after_failures_with_notice_then_unlock(browser, store, person, h) -> None:
    person("alice")
    attempts = store.settings.login_attempts_before_lockout
    for _ in range(attempts - 1):
        page = browser.post("/login", {"username": "alice", "passphrase": "wrong wrong wrong"})
        assert "not right" in page.get_data(as_text=True)
    page = browser.post("/login", {"username": "alice", "passphrase": "wrong wrong wrong"})
    assert "paused" in page.get_data(as_text=True)
    # Now even the right passphrase is refused.
    page = browser.post("/login", {"username": "alice", "passphrase": h.passphrase})
    assert page.status_code == 200 and "paused" in page.get_data(as_text=True)
    with store.transaction() as db:
        account = db.scalars(select(Caseworker).where(Caseworker.username == "alice")).one()
        assert account.locked_until is not None
        account.locked_until = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(
            seconds=1
        )
    assert (
        browser.post("/login", {"username": "alice", "passphrase": h.passphrase}).status_code == 302
    )


def test_unknown_username_gets_the_same_lockout_notice(browser, store) -> None:
    attempts = store.settings.login_attempts_before_lockout
    pages = [
        browser.post("/login", {"username": "ghost", "passphrase": "wrong wrong wrong"})
        for _ in range(attempts + 1)
    ]
    assert "paused" in pages[attempts - 1].get_data(as_text=True)
    assert "paused" in pages[attempts].get_data(as_text=True)


def test_totp_failures_count_towards_lockout(browser, store, person, h) -> None:
    alice = person("alice")
    browser.post("/login", {"username": "alice", "passphrase": h.passphrase})
    good = h.fresh_code(store, alice)
    bad = f"{(int(good) + 7) % 1_000_000:06d}"
    attempts = store.settings.login_attempts_before_lockout
    for _ in range(attempts - 1):
        assert browser.post("/login/code", {"code": bad}).status_code == 200
    locked = browser.post("/login/code", {"code": bad})
    assert locked.status_code == 302 and locked.location == "/login"
    with store.transaction() as db:
        assert db.scalar(select(func.count()).select_from(CaseworkerSession)) == 0


def test_failed_attempts_are_reported_at_next_sign_in(browser, store, person, h) -> None:
    alice = person("alice")
    browser.post("/login", {"username": "alice", "passphrase": "wrong wrong wrong"})
    browser.post("/login", {"username": "alice", "passphrase": "wrong wrong wrong"})
    h.sign_in(browser, store, alice)
    page = browser.get("/").get_data(as_text=True)
    assert "There were 2 failed sign-in attempts" in page
    with store.transaction() as db:
        assert db.get_one(Caseworker, alice.id).failed_logins == 0


def test_enrolment_shows_local_qr_and_secret_then_recovery_codes(browser, store, person, h) -> None:
    person("bob", enrolled=False)
    response = browser.post("/login", {"username": "bob", "passphrase": h.passphrase})
    assert response.location.startswith("/login/enrol")
    page = browser.get("/login/enrol").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # QR drawn by the server, no external service
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)
    assert secret
    raw = secret.group(1).replace(" ", "")
    # The same pending secret on a reload.
    assert raw in browser.get("/login/enrol").get_data(as_text=True).replace(" ", "")
    wrong = browser.post(
        "/login/enrol", {"code": "000000" if pyotp.TOTP(raw).now() != "000000" else "111111"}
    )
    assert wrong.status_code == 200 and "not right" in wrong.get_data(as_text=True)
    done = browser.post("/login/enrol", {"code": pyotp.TOTP(raw).now()})
    assert done.status_code == 200
    codes = re.findall(
        r"<code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code>",
        done.get_data(as_text=True),
    )
    assert len(codes) == 10
    assert browser.get("/").status_code == 200
    with store.transaction() as db:
        account = db.scalars(select(Caseworker).where(Caseworker.username == "bob")).one()
        assert account.totp_secret_enc is not None and raw.encode() not in account.totp_secret_enc
        rows = db.scalars(select(CaseworkerSession)).all()
        assert all(r.pending_totp_enc is None for r in rows)


def test_recovery_code_signs_in_once(store, person, new_browser, h) -> None:
    person("bob", enrolled=False)
    first = new_browser()
    first.post("/login", {"username": "bob", "passphrase": h.passphrase})
    page = first.get("/login/enrol").get_data(as_text=True)
    raw = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    done = first.post("/login/enrol", {"code": pyotp.TOTP(raw).now()})
    code = re.findall(r"<code>([A-Z2-7-]{19})</code>", done.get_data(as_text=True))[0]
    second = new_browser()
    second.post("/login", {"username": "bob", "passphrase": h.passphrase})
    response = second.post("/login/recovery", {"code": code.lower().replace("-", " ")})
    assert response.status_code == 302
    assert "9 codes are left" in second.get("/").get_data(as_text=True)
    third = new_browser()
    third.post("/login", {"username": "bob", "passphrase": h.passphrase})
    again = third.post("/login/recovery", {"code": code})
    assert again.status_code == 200 and "already been used" in again.get_data(as_text=True)


def test_idle_timeout_ends_the_session(browser, store, person, h) -> None:
    alice = person("alice")
    h.sign_in(browser, store, alice)
    assert browser.get("/").status_code == 200
    with store.transaction() as db:
        row = db.scalars(select(CaseworkerSession)).one()
        row.last_seen_at -= dt.timedelta(minutes=store.settings.caseworker_idle_minutes + 1)
    response = browser.get("/")
    assert response.status_code == 302 and response.location.startswith("/login")
    page = browser.get("/login").get_data(as_text=True)
    assert "Your session has ended" in page
    with store.transaction() as db:
        assert db.scalar(select(func.count()).select_from(CaseworkerSession)) == 0


def test_absolute_timeout_ends_an_active_session(browser, store, person, h) -> None:
    alice = person("alice")
    h.sign_in(browser, store, alice)
    with store.transaction() as db:
        row = db.scalars(select(CaseworkerSession)).one()
        row.created_at -= dt.timedelta(hours=store.settings.caseworker_absolute_hours, minutes=1)
    assert browser.get("/").status_code == 302


def test_logout_clears_site_data_and_a_replayed_cookie_is_useless(
    browser, store, person, h
) -> None:
    alice = person("alice")
    h.sign_in(browser, store, alice)
    stolen = browser.cookie("sealbox_cw")
    response = browser.post("/logout")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert browser.cookie("sealbox_cw") is None
    with store.transaction() as db:
        assert db.scalar(select(func.count()).select_from(CaseworkerSession)) == 0
    browser.client.set_cookie("sealbox_cw", stolen)
    replay = browser.get("/")
    assert replay.status_code == 302 and replay.location.startswith("/login")


def test_logout_needs_a_csrf_token(browser, store, person, h) -> None:
    alice = person("alice")
    h.sign_in(browser, store, alice)
    assert browser.post("/logout", csrf=False).status_code == 400
    assert browser.get("/").status_code == 200


def test_cross_origin_post_is_refused(browser, store, person, h) -> None:
    alice = person("alice")
    h.sign_in(browser, store, alice)
    response = browser.post("/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert browser.get("/").status_code == 200


def test_logout_everywhere_ends_every_session(store, person, signed_in) -> None:
    alice = person("alice")
    laptop, phone = signed_in(alice), signed_in(alice)
    with store.transaction() as db:
        assert db.scalar(select(func.count()).select_from(CaseworkerSession)) == 2
    response = laptop.post("/account/logout-everywhere")
    assert response.status_code == 302 and "Clear-Site-Data" in response.headers
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 302


def test_passphrase_change_rewraps_key_and_ends_other_sessions(
    store, person, signed_in, new_browser, h
) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store)
    here, elsewhere = signed_in(alice), signed_in(alice)
    bad = here.post(
        "/account/passphrase",
        {
            "current": "wrong wrong wrong",
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert bad.status_code == 400 and "not your current passphrase" in bad.get_data(as_text=True)
    ok = here.post(
        "/account/passphrase",
        {
            "current": h.passphrase,
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert ok.status_code == 302
    assert elsewhere.get("/").status_code == 302  # other sessions ended
    # This browser stays signed in and still opens the case (its keys moved to the new pair).
    assert here.get(f"/cases/{case_id}").status_code == 200
    old = new_browser()
    page = old.post("/login", {"username": "alice", "passphrase": h.passphrase})
    assert page.status_code == 200
    fresh = new_browser()
    assert (
        fresh.post(
            "/login", {"username": "alice", "passphrase": "a brand new passphrase"}
        ).status_code
        == 302
    )


def test_language_from_account_or_accept_language(browser, store, person, h) -> None:
    page = browser.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert 'lang="fr"' in page.get_data(as_text=True)
    alice = person("alice")
    h.sign_in(browser, store, alice)
    assert browser.post("/account/language", {"language": "fr"}).status_code == 302
    with store.transaction() as db:
        assert db.get_one(Caseworker, alice.id).language == "fr"
    assert 'lang="fr"' in browser.get("/account").get_data(as_text=True)


def test_pending_second_factor_stage_expires(browser, store, person, h) -> None:
    alice = person("alice")
    browser.post("/login", {"username": "alice", "passphrase": h.passphrase})
    with store.transaction() as db:
        row = db.scalars(select(CaseworkerSession)).one()
        row.created_at -= dt.timedelta(minutes=11)
    response = browser.post("/login/code", {"code": h.fresh_code(store, alice)})
    assert response.status_code == 302 and response.location == "/login"


def test_open_redirect_is_refused(browser, store, person, h) -> None:
    alice = person("alice")
    browser.post(
        "/login?next=https://evil.example/", {"username": "alice", "passphrase": h.passphrase}
    )
    response = browser.post("/login/code?next=//evil.example", {"code": h.fresh_code(store, alice)})
    assert response.location == "/"


def test_private_key_is_not_in_the_session_row(browser, store, person, h) -> None:
    alice = person("alice")
    h.sign_in(browser, store, alice)
    with store.transaction() as db:
        row = db.scalars(select(CaseworkerSession)).one()
    assert alice.private_key not in row.wrapped_key
    assert browser.cookie("sealbox_cw").encode() not in row.wrapped_key


def test_new_recovery_codes_need_a_current_code_and_replace_the_old_ones(
    browser, store, person, h
) -> None:
    alice = person("alice")
    h.sign_in(browser, store, alice)
    refused = browser.post("/account/recovery-codes", {"code": "000000"})
    assert refused.status_code == 400
    response = browser.post("/account/recovery-codes", {"code": h.fresh_code(store, alice)})
    assert response.status_code == 200
    codes = re.findall(r"<code>([A-Z2-7-]{19})</code>", response.get_data(as_text=True))
    assert len(codes) == 10
    with store.transaction() as db:  # replay is tested elsewhere: don't wait for a new step
        db.get_one(Caseworker, alice.id).totp_last_counter = 0
    again = browser.post("/account/recovery-codes", {"code": h.fresh_code(store, alice)})
    newer = re.findall(r"<code>([A-Z2-7-]{19})</code>", again.get_data(as_text=True))
    assert set(codes).isdisjoint(newer)
    from cases.accounts.twofactor import use_recovery_code

    with store.transaction() as db:
        account = db.get_one(Caseworker, alice.id)
        assert not use_recovery_code(db, store.settings.server_key, account, codes[0])
        assert use_recovery_code(db, store.settings.server_key, account, newer[0])


def _guess_from_a_session(browser, path: str, data: dict[str, str], attempts: int) -> list:  # type: ignore[no-untyped-def]
    return [browser.post(path, data) for _ in range(attempts)]


def test_passphrase_guesses_from_a_session_lock_the_account_like_sign_in(
    store, person, signed_in, new_browser, h
) -> None:
    """A stolen session must not be a way to guess the passphrase without limit."""
    alice = person("alice")
    here, elsewhere = signed_in(alice), signed_in(alice)
    limit = store.settings.login_attempts_before_lockout
    wrong = {"current": "wrong wrong wrong", "new": "a brand new passphrase",
             "confirm": "a brand new passphrase"}
    answers = _guess_from_a_session(here, "/account/passphrase", wrong, limit)
    assert [r.status_code for r in answers[:-1]] == [400] * (limit - 1)
    assert answers[-1].status_code == 302 and answers[-1].location.startswith("/login")
    with store.transaction() as db:
        account = db.get_one(Caseworker, alice.id)
        assert account.locked_until is not None
        refused = [e.detail for e in db.scalars(
            select(AuditEntry).where(AuditEntry.action == "caseworker.passphrase_change_refused"))]
    assert len(refused) == limit and '"locked":true' in refused[-1]
    # Every session of the account ended, and the right passphrase cannot sign in now.
    assert here.get("/account").status_code == 302
    assert elsewhere.get("/account").status_code == 302
    again = new_browser().post("/login", {"username": "alice", "passphrase": h.passphrase})
    assert again.status_code == 200 and "paused" in again.get_data(as_text=True)


def test_recovery_code_renewal_guesses_lock_the_account(store, person, signed_in) -> None:
    alice = person("alice")
    here = signed_in(alice)
    limit = store.settings.login_attempts_before_lockout
    answers = _guess_from_a_session(here, "/account/recovery-codes", {"code": "000000"}, limit)
    assert [r.status_code for r in answers[:-1]] == [400] * (limit - 1)
    assert answers[-1].status_code == 302
    with store.transaction() as db:
        assert db.get_one(Caseworker, alice.id).locked_until is not None
    assert here.get("/account").status_code == 302


def test_a_locked_account_refuses_account_page_secrets_at_once(
    store, person, signed_in, h
) -> None:
    """Failures counted elsewhere (sign-in attempts) lock the account page too."""
    alice = person("alice")
    here = signed_in(alice)
    with store.transaction() as db:
        db.get_one(Caseworker, alice.id).locked_until = dt.datetime(2999, 1, 1)
    right = {"current": h.passphrase, "new": "a brand new passphrase",
             "confirm": "a brand new passphrase"}
    assert here.post("/account/passphrase", right).status_code == 302
    with store.transaction() as db:
        account = db.get_one(Caseworker, alice.id)
        assert unlock(account, h.passphrase)  # unchanged


def test_one_totp_code_signs_in_once_even_from_two_requests_at_once(
    store, person, new_browser, h, db_backend, monkeypatch
) -> None:
    """Two sign-ins that both passed the passphrase send the same code at the same moment
    (a phished code replayed at once): on PostgreSQL both requests are held until each has
    read the account's last counter, so only the compare-and-set can refuse the second."""
    import threading

    from cases.accounts import twofactor

    alice = person("alice")
    browsers = [new_browser(), new_browser()]
    for b in browsers:
        r = b.post("/login", {"username": "alice", "passphrase": h.passphrase})
        assert r.status_code == 302 and r.location.startswith("/login/code")
    code = h.fresh_code(store, alice)
    real_match = twofactor.match_totp
    both_read = threading.Barrier(2)

    def match_together(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = real_match(*args, **kwargs)
        if db_backend == "postgres":  # SQLite serialises the two requests' transactions
            both_read.wait(timeout=20)
        return found

    monkeypatch.setattr(twofactor, "match_totp", match_together)
    assert _signed_in_at_once(browsers, "/login/code", code) == 1


def _signed_in_at_once(browsers: list, path: str, code: str) -> int:  # type: ignore[type-arg]
    """POST the same code from every browser in threads; how many got signed in."""
    import threading

    answers: dict[int, Any] = {}

    def send(i: int) -> None:
        answers[i] = browsers[i].post(path, {"code": code})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(browsers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(answers) == len(browsers)
    return sum(1 for a in answers.values() if a.status_code == 302 and a.location == "/")


def test_one_recovery_code_signs_in_once_even_from_two_requests_at_once(
    store, person, new_browser, h, db_backend, monkeypatch
) -> None:
    import threading

    from cases.accounts import twofactor

    alice = person("alice")
    with store.transaction() as db:
        code = twofactor.new_recovery_codes(
            db, store.settings.server_key, db.get_one(Caseworker, alice.id)
        )[0]
    browsers = [new_browser(), new_browser()]
    for b in browsers:
        signed = b.post("/login", {"username": "alice", "passphrase": h.passphrase})
        assert signed.status_code == 302
    real_hash = twofactor._hash_recovery_code
    both_ready = threading.Barrier(2)

    def hash_together(*args, **kwargs):  # type: ignore[no-untyped-def]
        if db_backend == "postgres":  # both requests reach the database at once
            both_ready.wait(timeout=20)
        return real_hash(*args, **kwargs)

    monkeypatch.setattr(twofactor, "_hash_recovery_code", hash_together)
    assert _signed_in_at_once(browsers, "/login/recovery", code) == 1


def test_a_passphrase_change_makes_a_new_key_so_the_old_one_opens_nothing_later(
    store, person, signed_in, h
) -> None:
    """Whoever knew the first passphrase and kept a copy of the database (its wrapped
    private key) could open that account's key for good when a change only re-wrapped
    it. Now the change makes a new key pair and moves every case key to it."""
    from cases.keyring import key_context
    from cases.models import WrappedKey
    from crypto import DecryptionError, open_with, unlock_private_key

    alice = person("alice")
    before, _ = h.submit(store)
    with store.transaction() as db:
        old_blob = db.get_one(Caseworker, alice.id).wrapped_private_key
    old_private = unlock_private_key(old_blob, h.passphrase)  # what the old copy yields
    here = signed_in(alice)
    changed = here.post("/account/passphrase", {"current": h.passphrase,
                                                "new": "a brand new passphrase",
                                                "confirm": "a brand new passphrase"})
    assert changed.status_code == 302
    after, _ = h.submit(store)
    with store.transaction() as db:
        rows = db.scalars(select(WrappedKey).where(WrappedKey.caseworker_id == alice.id)).all()
        assert {r.case_id for r in rows} == {before, after}
        for row in rows:
            with pytest.raises(DecryptionError):
                open_with(old_private, row.wrapped, key_context(row.case_id, row.purpose))
    assert here.get(f"/cases/{before}").status_code == 200
    assert here.get(f"/cases/{after}").status_code == 200


def test_the_owner_replaces_their_authenticator_with_their_passphrase(
    browser, store, person, signed_in, h
) -> None:
    alice = person("alice")
    here = signed_in(alice)
    wrong = here.post("/account/second-factor", {"your_passphrase": "not it at all"})
    assert wrong.status_code == 400
    done = here.post("/account/second-factor", {"your_passphrase": h.passphrase})
    assert done.status_code == 302 and done.location.startswith("/login")
    with store.transaction() as db:
        assert db.get_one(Caseworker, alice.id).totp_secret_enc is None
    assert here.get("/account").status_code == 302  # every session ended
    again = browser.post("/login", {"username": "alice", "passphrase": h.passphrase})
    assert again.location.startswith("/login/enrol")


def test_the_owner_sees_what_others_changed_on_their_account(
    store, person, signed_in, new_browser, h
) -> None:
    from cases.accounts.approvals import Kind, approve, request

    alice = person("alice")
    root, ada = person("root", admin=True), person("ada", admin=True)
    h.sign_in(new_browser(), store, alice)
    with store.transaction() as db:
        account = db.get_one(Caseworker, alice.id)
        change = request(db, Kind.ROLES, actor_id=root.id, target=account,
                         roles=["caseworker", "custodian"])
        approve(db, store.settings, change, approver_id=ada.id)
    b = new_browser()
    h.sign_in(b, store, alice)
    home = b.get("/", follow_redirects=True).get_data(as_text=True)
    assert "someone else changed your account" in home
    page = b.get("/account").get_data(as_text=True)
    assert "Your roles were changed." in page and "A change to your account was requested." in page
