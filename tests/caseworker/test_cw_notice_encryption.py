"""Notices encrypted to the reader's own key (config.mailcrypt), with the real age and gpg
tools and a real SMTP server: the key is checked when saved, the mail that arrives opens
with the private half only, and a key that fails at sending keeps the notice instead of
sending it in the clear."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from mailkit import smtp_server, smtp_settings
from sqlalchemy import func, select, update

from cases.models import Caseworker, OutgoingNotice
from cases.notifications.outbox import NEW_REPORT, drain, enqueue
from caseworker.mail import Delivery

NOW = dt.datetime(2026, 12, 1, 9, 0)


def _needs(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian: apt install {tool})")


@pytest.fixture
def age_key(tmp_path: Path) -> tuple[Path, str]:
    _needs("age")
    identity = tmp_path / "age-key.txt"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    recipient = subprocess.run(["age-keygen", "-y", str(identity)], check=True,
                               capture_output=True, text=True).stdout.strip()
    return identity, recipient


@pytest.fixture
def pgp_key(tmp_path: Path):  # type: ignore[no-untyped-def]
    _needs("gpg")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
           "--passphrase", ""]
    subprocess.run([*gpg, "--quick-gen-key", "Alice <alice@example.org>", "default",
                    "default", "never"], check=True, capture_output=True)
    public = subprocess.run([*gpg, "--armor", "--export", "alice@example.org"], check=True,
                            capture_output=True, text=True).stdout
    yield gpg, public
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)


def _with_key(store, person, key: str):  # type: ignore[no-untyped-def]
    alice = person("alice")
    with store.transaction() as db:
        db.execute(update(Caseworker).where(Caseworker.id == alice.id)
                   .values(notice_email="alice@example.org", notice_key=key))
        enqueue(db, [alice.id], NEW_REPORT, store.settings, now=NOW)
    return alice


def _drain(store):  # type: ignore[no-untyped-def]
    with Delivery(store.settings) as delivery:
        return drain(store, delivery, now=NOW + dt.timedelta(hours=1))


def test_a_key_is_checked_when_saved(browser, store, person, h, age_key) -> None:  # type: ignore[no-untyped-def]
    alice = person("alice")
    h.sign_in(browser, store, alice)
    junk = browser.post("/account/notices", {"email": "alice@example.org",
                                             "key": "age1notarecipient"})
    assert junk.status_code == 400
    assert "Give an age recipient (age1…) or an OpenPGP public key block." in junk.get_data(
        as_text=True)
    _, recipient = age_key
    saved = browser.post("/account/notices", {"email": "alice@example.org",
                                              "key": f"  {recipient}\n"})
    assert saved.status_code == 302
    with store.transaction() as db:
        assert db.get_one(Caseworker, alice.id).notice_key == recipient
    cleared = browser.post("/account/notices", {"email": "alice@example.org", "key": ""})
    assert cleared.status_code == 302
    with store.transaction() as db:
        assert db.get_one(Caseworker, alice.id).notice_key == ""


def test_an_age_notice_opens_with_the_private_key_only(store, person, age_key) -> None:  # type: ignore[no-untyped-def]
    identity, recipient = age_key
    with smtp_server() as inbox:
        store.settings = replace(store.settings, **smtp_settings(inbox.port))
        _with_key(store, person, recipient)
        assert _drain(store).sent == 1
        (mail,) = inbox.to("alice@example.org")
    body = mail.get_content()
    assert "new report" not in body and "-----BEGIN AGE ENCRYPTED FILE-----" in body
    assert mail["Subject"] == "Sealbox: something is waiting for you"
    opened = subprocess.run(["age", "--decrypt", "-i", str(identity)], input=body.encode(),
                            check=True, capture_output=True).stdout.decode()
    assert "1 new report" in opened


def test_an_openpgp_notice_is_pgp_mime_and_opens_with_gpg(store, person, pgp_key) -> None:  # type: ignore[no-untyped-def]
    gpg, public = pgp_key
    with smtp_server() as inbox:
        store.settings = replace(store.settings, **smtp_settings(inbox.port))
        _with_key(store, person, public)
        assert _drain(store).sent == 1
        (mail,) = inbox.to("alice@example.org")
    assert mail.get_content_type() == "multipart/encrypted"
    assert mail.get_param("protocol") == "application/pgp-encrypted"
    control, data = mail.get_payload()
    assert control.get_payload().strip() == "Version: 1"
    assert "new report" not in mail.as_string()
    opened = subprocess.run([*gpg, "--decrypt"], input=data.get_payload().encode(),
                            check=True, capture_output=True).stdout.decode()
    inner = email.message_from_string(opened, policy=email.policy.default)
    assert inner.get_content_type() == "text/plain"
    assert "1 new report" in inner.get_content()


def test_a_key_that_fails_keeps_the_notice_and_sends_nothing_in_clear(store, person) -> None:  # type: ignore[no-untyped-def]
    with smtp_server() as inbox:
        store.settings = replace(store.settings, **smtp_settings(inbox.port))
        _with_key(store, person, "age1broken")  # stored before a check, or tools removed
        done = _drain(store)
        assert (done.sent, done.failed) == (0, 1)
        assert inbox.messages == []
    with store.transaction() as db:
        assert db.scalar(select(func.count()).select_from(OutgoingNotice)) == 1


def test_every_refusal_has_words_in_the_back_office() -> None:
    from caseworker.account.views import KEY_REFUSALS
    from config.mailcrypt import REASONS

    assert set(KEY_REFUSALS) == set(REASONS)


def test_without_the_tools_a_key_is_refused_with_the_reason(monkeypatch, age_key) -> None:  # type: ignore[no-untyped-def]
    from config.mailcrypt import NoticeKeyError, check_notice_key

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(NoticeKeyError) as refused:
        check_notice_key(age_key[1])
    assert refused.value.reason == "no_tool"
