"""Oral reports (EU 2019/1937 Art. 18): the reporter reads the minutes a caseworker
recorded, agrees them with one button, or sends corrections; revised minutes restart the
agreement."""

from __future__ import annotations

import datetime as dt
import html

from babel.dates import format_date
from sqlalchemy import select

from cases.bodies import Event
from cases.casework.oral import record_oral_report
from cases.casework.writing import revise_minutes
from cases.models import Case, MessageKind, today
from cases.reporting.followup import find_case, reporter_view
from cases.store import Store
from crypto import normalize_receipt

MINUTES = "The caller says the mayor's brother won the road tender without bidding."
AGREE = "I agree these minutes are correct"


def _oral_case(store: Store, new_caseworker) -> tuple[str, str, object, bytes]:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(store, "alice")
    with store.transaction() as db:
        case_id, receipt = record_oral_report(
            db, store.settings, store.policy(db), alice, MINUTES, medium="phone",
            held_on=dt.date(2026, 3, 4),
        )
    return case_id, receipt, alice, alice_key


def _case(store: Store, case_id: str) -> Case:
    with store.transaction() as session:
        case = session.get_one(Case, case_id)
        session.expunge(case)
        return case


def test_reporter_reads_and_agrees_the_minutes(browser, store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    case_id, handed, _alice, _key = _oral_case(store, new_caseworker)
    taken_over = browser.login(handed)  # first use: the reporter gets a receipt of their own
    assert taken_over.status_code == 200
    receipt = browser.receipt_of(taken_over).replace(" ", "")
    page = browser.case_page()
    text = html.unescape(page.get_data(as_text=True))
    assert "Minutes of your oral report" in text
    assert "We wrote down what you told us by phone on March 4, 2026." in text
    assert "You have the right to check them, to have them corrected, and to agree them" in text
    assert MINUTES in text
    assert AGREE in text
    assert "write to us below what should be corrected" in text  # corrections: a message
    assert 'href="#write-main"' in page.get_data(as_text=True)
    assert _case(store, case_id).minutes_agreed_on is None

    response = browser.post_form(page, "/case/main/minutes")
    assert response.status_code == 303
    case = _case(store, case_id)
    assert case.minutes_agreed_on == today()
    assert case.reporter_activity_on == today()

    text = html.unescape(browser.case_page().get_data(as_text=True))
    when = format_date(today(), "long", locale="en")
    assert f"You agreed these minutes on {when}." in text
    assert _case(store, case_id).minutes_agreed_how == "reporter"
    assert AGREE not in text  # nothing left to agree
    assert "You agreed the minutes" in text  # and the thread says so

    with store.transaction() as session:
        case, keys = find_case(session, store.settings, normalize_receipt(receipt))
        assert case is not None
        messages = reporter_view(session, case, keys.private_key).messages
        [minutes] = [m for m in messages if m.kind is MessageKind.MINUTES]
        [agreement] = [m for m in messages if m.body.get("event") == Event.MINUTES_AGREED]
        assert agreement.body["minutes_id"] == minutes.id  # the exact version agreed


def test_revised_minutes_restart_the_agreement(browser, store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    case_id, receipt, alice, alice_key = _oral_case(store, new_caseworker)
    browser.login(receipt)
    browser.post_form(browser.case_page(), "/case/main/minutes")
    assert _case(store, case_id).minutes_agreed_on is not None
    # The reporter asks for a correction; the caseworker records revised minutes.
    browser.post_form(
        browser.case_page(), "/case/main/message", **{"main-text": "It was his cousin."}
    )
    with store.transaction() as session:
        case = session.get_one(Case, case_id)
        revise_minutes(session, case, alice, alice_key, MINUTES.replace("brother", "cousin"))
    assert _case(store, case_id).minutes_agreed_on is None

    page = browser.case_page()
    text = html.unescape(page.get_data(as_text=True))
    assert "We have corrected the minutes. Please read them again." in text
    assert "Corrected minutes of your oral report" in text
    assert AGREE in text
    assert "the mayor's cousin won" in text
    assert browser.post_form(page, "/case/main/minutes").status_code == 303
    assert _case(store, case_id).minutes_agreed_on == today()


def test_minutes_revised_while_the_page_was_open_are_not_agreed_unseen(
    browser, store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    case_id, receipt, alice, alice_key = _oral_case(store, new_caseworker)
    browser.login(receipt)
    stale = browser.case_page()
    with store.transaction() as session:
        case = session.get_one(Case, case_id)
        revise_minutes(session, case, alice, alice_key, "A different account.")
    response = browser.post_form(stale, "/case/main/minutes")
    assert response.status_code == 303
    assert _case(store, case_id).minutes_agreed_on is None
    text = html.unescape(browser.client.get(response.location).get_data(as_text=True))
    assert "The minutes were corrected while you were reading them" in text
    assert "A different account." in text and AGREE in text


def test_agreeing_needs_the_form_token(browser, store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    case_id, receipt, _alice, _key = _oral_case(store, new_caseworker)
    browser.login(receipt)
    page = browser.case_page()
    response = browser.post_form(page, "/case/main/minutes", csrf_token="forged")
    assert response.status_code == 400
    assert _case(store, case_id).minutes_agreed_on is None


def test_web_reports_have_no_minutes_to_agree(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    browser.login(browser.submit())
    page = browser.case_page()
    assert AGREE not in page.get_data(as_text=True)
    csrf = browser.csrf_of(page.get_data(as_text=True))
    response = browser.client.post(
        browser.url("followup/case/main/minutes"), data={"csrf_token": csrf, "minutes_id": "x"}
    )
    assert response.status_code == 404
    with store.transaction() as session:
        assert session.scalars(select(Case.minutes_agreed_on)).one() is None
