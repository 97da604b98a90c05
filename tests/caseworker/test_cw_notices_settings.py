"""My account: where and when a caseworker is told that something is waiting, through the
back office's real pages; and a notice then reaches that address through a real SMTP
server, in the account's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from mailkit import smtp_server, smtp_settings
from sqlalchemy import select

from cases.models import Caseworker
from cases.notifications.outbox import drain, next_boundary
from cases.reporting.followup import add_reporter_message, find_case
from caseworker.mail import Delivery
from crypto import normalize_receipt


def test_notice_settings_are_saved_shown_and_used(browser, store, person, h) -> None:  # type: ignore[no-untyped-def]
    alice = person("alice")
    h.sign_in(browser, store, alice)
    page = browser.get("/account").get_data(as_text=True)
    assert "Mail notices" in page and "does not send mail yet" in page
    wrong = browser.post("/account/notices", {"email": "not an address", "new_report": "y"})
    assert wrong.status_code == 400
    assert "Enter an address like name@example.org." in wrong.get_data(as_text=True)
    saved = browser.post(
        "/account/notices", {"email": "alice@example.org", "reporter_message": "y"}
    )
    assert saved.status_code == 302
    with store.transaction() as db:
        account = db.get_one(Caseworker, alice.id)
        assert (account.notice_email, account.notice_events) == (
            "alice@example.org", "reporter_message")
        assert account.notice_daily is False
    page = browser.get("/account").get_data(as_text=True)
    assert 'value="alice@example.org"' in page
    assert browser.post("/account/language", {"language": "fr"}).status_code == 302

    with smtp_server() as inbox:
        store.settings = replace(store.settings, **smtp_settings(inbox.port))
        case_id, receipt = h.submit(store)  # a new report: alice chose messages only
        when = next_boundary(dt.datetime.utcnow(), 60)
        with Delivery(store.settings) as delivery:
            assert drain(store, delivery, now=when).sent == 0
        with store.transaction() as db:  # the reporter writes, as the intake does
            case, keys = find_case(db, store.settings, normalize_receipt(receipt))
            add_reporter_message(db, case, keys.private_key, "More documents.",
                                 settings=store.settings)
        with Delivery(store.settings) as delivery:
            assert drain(store, delivery, now=when).sent == 1
        (mail,) = inbox.to("alice@example.org")
        assert mail["Subject"] != "Sealbox: something is waiting for you"  # in French
        assert case_id not in mail.as_string() and "More documents" not in mail.as_string()


def test_administrators_are_told_of_a_locked_account_and_a_broken_audit_log(
    browser, store, person  # type: ignore[no-untyped-def]
) -> None:
    from click.testing import CliRunner
    from sqlalchemy import update

    from cases.models import AuditEntry
    from caseworker import cli

    person("alice")
    admin = person("root", admin=True)
    with smtp_server() as inbox:
        store.settings = replace(store.settings, **smtp_settings(inbox.port))
        with store.transaction() as db:
            db.execute(update(Caseworker).where(Caseworker.id == admin.id)
                       .values(notice_email="root@example.org"))
        for _ in range(store.settings.login_attempts_before_lockout):
            browser.post("/login", {"username": "alice", "passphrase": "wrong guess"})
        with Delivery(store.settings) as delivery:
            assert drain(store, delivery).sent == 1
        (mail,) = inbox.to("root@example.org")
        assert "1 account locked after repeated failed sign-ins" in mail.get_content()
        assert "alice" not in mail.as_string()

        with store.transaction() as db:  # someone rewrites history
            entry = db.scalars(select(AuditEntry).limit(1)).one()
            entry.detail = '{"rewritten": true}'
        env = {f"SEALBOX_{k.upper()}": str(v) for k, v in smtp_settings(inbox.port).items()}
        env["SEALBOX_DATABASE_URL"] = store.settings.sqlalchemy_url
        verified = CliRunner(env=env).invoke(
            cli.main, ["audit", "verify", "--instance", str(store.settings.instance_path)]
        )
        assert verified.exit_code == 1, verified.output
        with Delivery(store.settings) as delivery:
            assert drain(store, delivery).sent == 1
        alert = inbox.to("root@example.org")[1].get_content()
        assert "The audit log check found a problem" in alert
