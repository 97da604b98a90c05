"""Mail notices through a real SMTP server (aiosmtpd): written with their event, sent in
batches, content-free, kept through an outage, sent once with two drainers at once, and
gathered in a daily digest."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import replace

import pytest
from mailkit import smtp_server, smtp_settings
from netkit import free_port
from sqlalchemy import func, select, update

from cases.models import Caseworker, OutgoingNotice
from cases.notifications.outbox import (
    NEW_REPORT,
    REPORTER_MESSAGE,
    drain,
    enqueue,
    next_boundary,
)
from cases.reporting.followup import add_reporter_message, find_case
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from caseworker.mail import Delivery
from crypto import format_receipt

MARKER = "PERMIT-BRIBE-7731"
NOW = dt.datetime(2026, 12, 1, 14, 23)


def _with_mail(store: Store, port: int) -> Store:
    store.settings = replace(store.settings, **smtp_settings(port))  # type: ignore[misc, arg-type]
    return store


def _person(store: Store, new_caseworker, name: str, **notice: object) -> Caseworker:  # type: ignore[no-untyped-def]
    account, _ = new_caseworker(store, name)
    values = {"notice_email": f"{name}@example.org", **notice}
    with store.transaction() as db:
        db.execute(update(Caseworker).where(Caseworker.id == account.id).values(**values))
    return account  # type: ignore[no-any-return]


def _report(store: Store, text: str = f"The clerk sells permits {MARKER}") -> str:
    with new_submission(store) as draft:
        return draft.finalize(Submission(report={"text": text}))


def _drain(store: Store, at: dt.datetime):  # type: ignore[no-untyped-def]
    with Delivery(store.settings) as delivery:
        return drain(store, delivery, now=at)


def _pending(store: Store) -> int:
    with store.transaction() as db:
        return int(db.scalar(select(func.count()).select_from(OutgoingNotice)) or 0)


def test_a_new_report_is_told_to_its_caseworkers_in_the_next_batch(
    any_store: Store, new_caseworker  # type: ignore[no-untyped-def]
) -> None:
    with smtp_server() as inbox:
        store = _with_mail(any_store, inbox.port)
        _person(store, new_caseworker, "alice")
        receipt = _report(store)
        assert _pending(store) == 1
        with store.transaction() as db:
            due = db.scalars(select(OutgoingNotice.not_before)).one()
        assert due.minute == 0 and due.second == 0  # a batch boundary, not the reporter's time
        assert _drain(store, due - dt.timedelta(seconds=1)).sent == 0
        assert inbox.messages == []
        assert _drain(store, due).sent == 1
        (mail,) = inbox.to("alice@example.org")
        assert mail["Subject"] == "Sealbox: something is waiting for you"
        body = mail.get_content()
        assert "1 new report" in body and "https://cases.example.org" in body
        _assert_content_free(mail, store, receipt)
    assert _pending(store) == 0


def _assert_content_free(mail, store: Store, receipt: str) -> None:  # type: ignore[no-untyped-def]
    text = mail.as_string()
    with store.transaction() as db:
        from cases.models import Case

        case_ids = db.scalars(select(Case.id)).all()
    for secret in (MARKER, receipt, format_receipt(receipt), *case_ids, "clerk", "permit"):
        assert secret not in text, secret


def test_a_reporter_message_is_told_to_the_cases_holders(
    any_store: Store, new_caseworker  # type: ignore[no-untyped-def]
) -> None:
    with smtp_server() as inbox:
        store = _with_mail(any_store, inbox.port)
        _person(store, new_caseworker, "alice")
        _person(store, new_caseworker, "bob", notice_events="new_report")  # not messages
        receipt = _report(store)
        _drain(store, next_boundary(dt.datetime.utcnow(), 60))
        inbox.messages.clear()
        with store.transaction() as db:
            case, keys = find_case(db, store.settings, receipt)
            add_reporter_message(db, case, keys.private_key, MARKER, settings=store.settings)
        assert _drain(store, next_boundary(dt.datetime.utcnow(), 60)).sent == 1
        (mail,) = inbox.messages
        assert mail["To"] == "alice@example.org"
        assert "1 new message from a reporter" in mail.get_content()
        _assert_content_free(mail, store, receipt)
    assert _pending(store) == 0  # bob's was dropped: he did not choose it


def test_an_smtp_outage_loses_nothing_and_the_notice_goes_later(
    store: Store, new_caseworker  # type: ignore[no-untyped-def]
) -> None:
    port = free_port()
    _with_mail(store, port)
    alice = _person(store, new_caseworker, "alice")
    with store.transaction() as db:
        enqueue(db, [alice.id], NEW_REPORT, store.settings, now=NOW)
    due = next_boundary(NOW, 60)
    down = _drain(store, due)  # nothing listens on the port
    assert (down.sent, down.failed) == (0, 1) and _pending(store) == 1
    with smtp_server(port) as inbox:
        assert _drain(store, due).sent == 0  # backing off: not yet
        later = _drain(store, due + dt.timedelta(minutes=2))
        assert later.sent == 1 and len(inbox.to("alice@example.org")) == 1
    assert _pending(store) == 0


def test_two_drainers_at_once_send_each_notice_once(
    any_store: Store, new_caseworker  # type: ignore[no-untyped-def]
) -> None:
    with smtp_server() as inbox:
        store = _with_mail(any_store, inbox.port)
        people = [_person(store, new_caseworker, f"p{i}") for i in range(4)]
        with store.transaction() as db:
            for _ in range(10):
                enqueue(db, [p.id for p in people], REPORTER_MESSAGE, store.settings, now=NOW)
        told: Counter[str] = Counter()
        start = threading.Barrier(2)

        def drainer() -> None:
            start.wait()
            _drain(store, next_boundary(NOW, 60))

        threads = [threading.Thread(target=drainer) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for mail in inbox.messages:
            body = mail.get_content()
            told[mail["To"]] += int(body.split(" new message")[0].rsplit("- ", 1)[1])
    assert told == {f"p{i}@example.org": 10 for i in range(4)}
    assert _pending(store) == 0


def test_a_daily_digest_gathers_the_days_notices(
    store: Store, new_caseworker  # type: ignore[no-untyped-def]
) -> None:
    with smtp_server() as inbox:
        _with_mail(store, inbox.port)
        alice = _person(store, new_caseworker, "alice", notice_daily=True)
        with store.transaction() as db:
            enqueue(db, [alice.id], NEW_REPORT, store.settings, now=NOW - dt.timedelta(days=1))
            enqueue(db, [alice.id], REPORTER_MESSAGE, store.settings, now=NOW)
        morning = NOW.replace(hour=store.settings.notice_digest_hour - 1)
        assert _drain(store, morning).sent == 0  # before the digest hour
        assert _drain(store, next_boundary(NOW, 60)).sent == 1
        body = inbox.messages[0].get_content()
        assert "1 new report" in body and "1 new message from a reporter" in body
        with store.transaction() as db:
            enqueue(db, [alice.id], REPORTER_MESSAGE, store.settings, now=NOW)
        assert _drain(store, next_boundary(NOW, 60)).sent == 0  # one digest a day
        assert _drain(store, NOW + dt.timedelta(days=1)).sent == 1


def test_notices_nobody_wants_are_dropped(store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    with smtp_server() as inbox:
        _with_mail(store, inbox.port)
        nobody = _person(store, new_caseworker, "nobody", notice_email="")
        with store.transaction() as db:
            enqueue(db, [nobody.id], NEW_REPORT, store.settings, now=NOW)
        done = _drain(store, next_boundary(NOW, 60))
        assert (done.sent, done.dropped) == (0, 1) and inbox.messages == []
    assert _pending(store) == 0


@pytest.mark.parametrize("minutes", [1, 15, 60])
def test_batches_fall_on_boundaries(minutes: int) -> None:
    boundary = next_boundary(NOW, minutes)
    assert boundary > NOW and boundary - NOW <= dt.timedelta(minutes=minutes)
    assert (boundary.hour * 60 + boundary.minute) % minutes == 0 and boundary.second == 0


def test_with_mail_off_no_notice_is_recorded(store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    assert not store.settings.smtp_host
    _person(store, new_caseworker, "alice")
    _report(store)
    assert _pending(store) == 0  # nothing on disk says when the report came


def test_holders_are_reminded_once_of_a_near_and_a_passed_deadline(
    any_store: Store, new_caseworker  # type: ignore[no-untyped-def]
) -> None:
    from cases.models import Case
    from cases.notifications.deadlines import remind_deadlines

    with smtp_server() as inbox:
        store = _with_mail(any_store, inbox.port)
        _person(store, new_caseworker, "alice")
        _report(store)
        _drain(store, next_boundary(dt.datetime.utcnow(), 60))  # the new report's notice
        inbox.messages.clear()
        with store.transaction() as db:
            due = db.scalars(select(Case.next_due_on)).one()  # acknowledge within 7 days
        assert due is not None
        lead = store.settings.acknowledge_reminder_days
        for day, expected in [
            (due - dt.timedelta(days=lead + 1), 0),  # not yet
            (due - dt.timedelta(days=lead), 1),  # near
            (due - dt.timedelta(days=lead - 1), 0),  # near, already told
            (due + dt.timedelta(days=1), 1),  # passed
            (due + dt.timedelta(days=2), 0),  # passed, already told
        ]:
            with store.transaction() as db:
                assert remind_deadlines(db, store.settings, day) == expected, day
        assert _drain(store, dt.datetime.utcnow()).sent == 1  # both reminders, one mail
        body = inbox.messages[0].get_content()
        assert "1 case whose deadline is near" in body and "1 case past its deadline" in body
        with store.transaction() as db:
            case_id = db.scalars(select(Case.id)).one()
        assert case_id not in inbox.messages[0].as_string()


def test_an_unreachable_server_fails_the_batch_with_one_attempt(
    store: Store, new_caseworker, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    import smtplib

    _with_mail(store, free_port())  # nothing listens there
    people = [_person(store, new_caseworker, f"p{i}") for i in range(3)]
    with store.transaction() as db:
        enqueue(db, [p.id for p in people], NEW_REPORT, store.settings, now=NOW)
    attempts = []
    real = smtplib.SMTP.__init__

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        attempts.append(args)
        real(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "__init__", counting)
    done = _drain(store, next_boundary(NOW, 60))
    assert (done.sent, done.failed) == (0, 3) and len(attempts) == 1
    assert _pending(store) == 3  # all kept for later
