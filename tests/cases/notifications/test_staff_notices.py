"""Notices about people and the system rather than reporters, through a real SMTP server:
a case handed to someone, someone removed from a case, the recovery key used, a
maintenance job failed. Each goes out at once (no reporter timing to hide) and names no
case."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from mailkit import smtp_server, smtp_settings
from sqlalchemy import select, update

from cases.casework import holders, recovery
from cases.models import AuditEntry, Case, Caseworker
from cases.notifications.outbox import drain
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from caseworker import cli
from caseworker.mail import Delivery
from config import load_settings
from crypto import new_recovery_keypair, parse_recovery_key


def _mailed(store: Store, new_caseworker, name: str, **roles: bool):  # type: ignore[no-untyped-def]
    account, key = new_caseworker(store, name, **roles)
    with store.transaction() as db:
        db.execute(update(Caseworker).where(Caseworker.id == account.id)
                   .values(notice_email=f"{name}@example.org"))
    return account, key


def _drain(store: Store) -> int:
    with Delivery(store.settings) as delivery:
        return drain(store, delivery, now=dt.datetime.utcnow()).sent


def _one_case(store: Store, text: str) -> str:
    with new_submission(store) as draft:
        draft.finalize(Submission(report={"text": text}))
    with store.transaction() as db:
        return db.scalars(select(Case.id)).one()


def test_a_hand_over_and_a_removal_are_told_to_the_person_at_once(  # type: ignore[no-untyped-def]
    any_store: Store, new_caseworker
) -> None:
    with smtp_server() as inbox:
        store = any_store
        store.settings = replace(store.settings, **smtp_settings(inbox.port))  # type: ignore[misc, arg-type]
        alice, alice_key = _mailed(store, new_caseworker, "alice")
        case_id = _one_case(store, "MARKER-HANDOVER the permits")
        _drain(store)  # the new-report batch is not due yet: nothing sent
        bob, _ = _mailed(store, new_caseworker, "bob")  # made after: holds nothing
        inbox.messages.clear()
        with store.transaction() as db:
            holders.grant(db, store.settings, db.get_one(Case, case_id), alice, alice_key, bob.id)
        assert _drain(store) == 1
        (mail,) = inbox.to("bob@example.org")
        body = mail.get_content()
        assert "1 case given or handed over to you" in body
        assert case_id not in body and "MARKER" not in body
        with store.transaction() as db:
            removal = holders.request_removal(db, db.get_one(Case, case_id), alice, bob.id)
        with store.transaction() as db:
            holders.agree_to_removal(db, store.settings, db.get_one(Case, case_id), bob,
                                     removal.id)
        assert _drain(store) == 1
        (_, removed) = inbox.to("bob@example.org")
        assert "You were removed from 1 case" in removed.get_content()
        assert case_id not in removed.as_string()


def test_the_administrators_are_told_when_the_recovery_key_is_used(  # type: ignore[no-untyped-def]
    any_store: Store, new_caseworker
) -> None:
    text, public = new_recovery_keypair()
    with smtp_server() as inbox:
        store = any_store
        store.settings = replace(  # type: ignore[misc]
            store.settings, recovery_public_key=public, **smtp_settings(inbox.port)  # type: ignore[arg-type]
        )
        _mailed(store, new_caseworker, "root", admin=True, caseworker=False)
        _mailed(store, new_caseworker, "carl")
        case_id = _one_case(store, "a report")
        inbox.messages.clear()
        _mailed(store, new_caseworker, "dora")
        with store.transaction() as db:
            recovery.grant(db, store.settings, parse_recovery_key(text), "dora", [case_id])
        _drain(store)
        (alert,) = inbox.to("root@example.org")
        assert "The organisation recovery key was used" in alert.get_content()
        assert len(inbox.to("dora@example.org")) == 0  # recovery grants are the admins' news
        assert inbox.to("carl@example.org") == []


def test_a_failed_maintenance_job_is_told_to_the_administrators(  # type: ignore[no-untyped-def]
    tmp_path: Path, new_caseworker
) -> None:
    fast = {"SEALBOX_PASSPHRASE_KDF_OPSLIMIT": "1", "SEALBOX_PASSPHRASE_KDF_MEMLIMIT_MIB": "8"}
    runner = CliRunner(env=fast)
    path = tmp_path / "inst"
    assert runner.invoke(cli.main, ["init", "--instance", str(path)]).exit_code == 0
    assert runner.invoke(cli.main, ["db", "upgrade", "--instance", str(path)]).exit_code == 0
    with smtp_server() as inbox:
        env = {**fast, **{f"SEALBOX_{k.upper()}": str(v)
                          for k, v in smtp_settings(inbox.port).items()}}
        store = Store(load_settings(environ=env, instance_path=path))
        _mailed(store, new_caseworker, "root", admin=True, caseworker=False)
        done = runner.invoke(
            cli.main, ["report-failure", "sealbox-backup.service", "--instance", str(path)],
            env=env,
        )
        assert done.exit_code == 0, done.output
        (alert,) = inbox.to("root@example.org")
        assert "A backup or the nightly purge failed" in alert.get_content()
        with store.transaction() as db:
            entry = db.scalars(
                select(AuditEntry).where(AuditEntry.action == "maintenance.failed")
            ).one()
            assert "sealbox-backup.service" in entry.detail
        store.dispose()
