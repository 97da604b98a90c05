"""Follow-up with JavaScript on, in the real Chromium, against an intake that records every
request body it receives (tests/browser/recording_intake.py): the reporter types the
receipt, reads the report and a caseworker's reply opened in the page, writes a message
with a file, downloads the file back and logs out, and no request body holds the receipt,
a word of the report, the reply or the message, the file's name or a byte of its
contents. The back office reads what the page sealed. With JavaScript off, the same
receipt still opens the case through the server's path."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest
from browserkit import PASSPHRASE, Audit, Sealbox, require_browser_libraries
from recording_intake import read_record, seen_in, start_recording
from sealkit import keys_of, seal_report, store_sealed

from cases.accounts.enrolment import unlock
from cases.casework.oral import record_oral_report
from cases.casework.reading import read_case
from cases.casework.writing import reply
from cases.models import Case, Caseworker
from cases.store import Store

pytestmark = pytest.mark.browser

REPORT = "Marker-F1: the depot manager sells the fuel on the side."
REPLY = "Marker-F2: which depot, and since when?"
MESSAGE = "Marker-F3: the northern depot, since March."
INSIDE = b"Marker-F4-inside"
NAME = "Marker-F6 Sam Doe"
RETALIATION = "Marker-F7: I was moved to the night shift."
MINUTES = "Marker-F8: the caller says the tender was rigged."


@pytest.fixture(scope="module")
def record(sealbox: Sealbox) -> Path:
    return start_recording(sealbox, sealbox.logs / "followup.record")


def _a_sealed_case_with_a_reply(sealbox: Sealbox, username: str) -> tuple[str, str]:
    """(case id, receipt): a report sealed as the report page seals it, and a reply."""
    person = sealbox.add_caseworker(username, custodian=True)
    store = Store(sealbox.settings)
    try:
        sealed, receipt = seal_report(keys_of(store), {"text": REPORT, "answers": [],
                                                       "language": "en"})
        case_id = store_sealed(store, sealed)
        with store.transaction() as session:
            account = session.get_one(Caseworker, person.id)
            reply(session, session.get_one(Case, case_id), account,
                  unlock(account, PASSPHRASE), REPLY)
    finally:
        store.dispose()
    return case_id, receipt


def _back_office_reads(sealbox: Sealbox, case_id: str, username: str) -> Any:
    store = Store(sealbox.settings)
    try:
        with store.transaction() as session:
            account = session.get_one(Caseworker, sealbox.accounts[username].id)
            return read_case(session, session.get_one(Case, case_id), account,
                             unlock(account, PASSPHRASE))
    finally:
        store.dispose()


def test_with_javascript_on_follow_up_never_sends_the_receipt_nor_the_words(
    sealbox: Sealbox, record: Path, new_context: Any, audit: Audit, tmp_path: Path
) -> None:
    require_browser_libraries()
    case_id, receipt = _a_sealed_case_with_a_reply(sealbox, "followup-alice")
    evidence = tmp_path / "Marker-F5 ledger.bin"
    evidence.write_bytes(os.urandom(300_000) + INSIDE)
    page = new_context(javascript=True, accept_downloads=True).new_page()
    page.goto(sealbox.intake + "/en/followup/")
    audit.check(page, "sealed sign-in", lang="en")
    page.get_by_label("Your receipt").fill("1234")  # checked here, never sent
    page.get_by_role("button", name="Open my report").click()
    assert "A receipt has 28 digits" in page.get_by_role("alert").first.inner_text()
    page.get_by_label("Your receipt").fill(receipt)
    page.get_by_role("button", name="Open my report").click()
    page.get_by_role("heading", name="Your report", level=1).wait_for()
    thread = page.locator("ol.thread")
    thread.get_by_text(REPLY).wait_for()
    assert REPORT in thread.inner_text()
    audit.check(page, "sealed follow-up", lang="en")

    form = page.locator("#case-main form[data-sealed-message]")
    form.get_by_label("Your message").fill(MESSAGE)
    form.get_by_label("Choose files").set_input_files(str(evidence))
    form.get_by_role("button", name="Send").click()
    page.locator("#sent-main").wait_for(timeout=60_000)
    page.locator("ol.thread").get_by_text(MESSAGE).wait_for()
    link = page.get_by_role("link", name=evidence.name)
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes() == evidence.read_bytes()
    assert download.value.suggested_filename == evidence.name
    audit.check(page, "sealed follow-up after sending", lang="en")

    # Identity details, then a retaliation report: both sealed in the page.
    page.get_by_role("link", name="Tell us who you are").click()
    audit.check(page, "sealed identity form", lang="en")
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("I understand that once I send this").check()
    page.get_by_role("button", name="Send my identity details").click()
    page.get_by_text("Your identity details have been sealed").wait_for()
    page.get_by_role("link", name="Report retaliation").click()
    audit.check(page, "sealed retaliation form", lang="en")
    page.get_by_label("What has been done to you?").fill(RETALIATION)
    page.get_by_role("button", name="Send retaliation report").click()
    page.get_by_text("Your retaliation report has been opened").wait_for()
    page.get_by_text(RETALIATION).wait_for()  # opened in the page, in its own section
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", level=1).wait_for()
    assert page.evaluate("sessionStorage.length") == 0

    for secret in (receipt, receipt.replace(" ", ""), REPORT, REPLY, MESSAGE, NAME, RETALIATION,
                   "Marker-F",
                   INSIDE, evidence.read_bytes()[:64], evidence.read_bytes()[-4096:-16]):
        assert seen_in(record, secret) == [], secret
    paths = [p for p, body in read_record(record) if body]
    assert any(p.endswith("/followup/sealed-login") for p in paths)
    assert any(p.endswith("/followup/case/main/sealed-message") for p in paths)
    assert any(p.endswith("/followup/sealed-identity") for p in paths)
    assert any(p.endswith("/followup/sealed-retaliation") for p in paths)
    seen = _back_office_reads(sealbox, case_id, "followup-alice")
    assert seen.thread[-1].body["text"] == MESSAGE
    assert [a.name for a in seen.attachments] == [evidence.name]

    # JavaScript off: the server's path, whose receipt the record then shows.
    off = new_context().new_page()
    off.goto(sealbox.intake + "/en/followup/")
    off.get_by_label("Your receipt").fill(receipt)
    off.get_by_role("button", name="Open my report").click()
    assert MESSAGE in off.locator("#case-main ol.thread").inner_text()
    assert RETALIATION in off.locator("main").inner_text()
    assert seen_in(record, receipt.replace(" ", "")) or seen_in(record, receipt)


def test_the_quick_exit_forgets_the_key_the_tab_kept(
    sealbox: Sealbox, record: Path, new_context: Any
) -> None:
    require_browser_libraries()
    _case_id, receipt = _a_sealed_case_with_a_reply(sealbox, "followup-erin")
    context = new_context(javascript=True)
    exit_site = "https://www.wikipedia.org/"
    context.route(exit_site + "**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>Wikipedia</title><p>neutral</p>"))
    page = context.new_page()
    page.goto(sealbox.intake + "/en/followup/")
    page.get_by_label("Your receipt").fill(receipt)
    page.get_by_role("button", name="Open my report").click()
    page.locator("ol.thread").get_by_text(REPLY).wait_for()
    assert page.evaluate("sessionStorage.length") == 1  # the key, in this tab only
    page.get_by_role("link", name="Quick exit").click()
    page.wait_for_url(exit_site)
    page.goto(sealbox.intake + "/en/followup/case")  # the same tab comes back
    assert page.evaluate("sessionStorage.length") == 0
    assert REPLY not in page.locator("main").inner_text()
    assert "no longer has its key" in page.locator("main").inner_text()


def test_a_handed_over_receipt_is_replaced_in_the_page(
    sealbox: Sealbox, record: Path, new_context: Any
) -> None:
    """An oral report's receipt works once: the page makes the reporter's own, which the
    server never sees, and the minutes open in the page with it."""
    require_browser_libraries()
    person = sealbox.add_caseworker("followup-oral")
    store = Store(sealbox.settings)
    try:
        with store.transaction() as session:
            account = session.get_one(Caseworker, person.id)
            _case_id, handed = record_oral_report(
                session, store.settings, store.policy(session), account, MINUTES,
                medium="meeting", held_on=dt.date(2026, 11, 2))
    finally:
        store.dispose()
    page = new_context(javascript=True).new_page()
    page.goto(sealbox.intake + "/en/followup/")
    page.get_by_label("Your receipt").fill(handed)
    page.get_by_role("button", name="Open my report").click()
    page.get_by_role("heading", name="Your own receipt").wait_for()
    own = page.locator(".receipt-code").get_attribute("data-receipt") or ""
    assert re.fullmatch(r"[0-9]{4}( [0-9]{4}){6}", own) and own != handed
    page.get_by_role("link", name="I have written it down: continue to my report").click()
    page.get_by_text(MINUTES).first.wait_for()
    for secret in (handed, handed.replace(" ", ""), own, own.replace(" ", ""), MINUTES):
        assert seen_in(record, secret) == [], secret
    # The handed-over receipt opens nothing now; the reporter's own does, JavaScript off.
    off = new_context().new_page()
    off.goto(sealbox.intake + "/en/followup/")
    off.get_by_label("Your receipt").fill(handed)
    off.get_by_role("button", name="Open my report").click()
    assert "No report matches this receipt" in off.locator("main").inner_text()
    off.get_by_label("Your receipt").fill(own)
    off.get_by_role("button", name="Open my report").click()
    assert MINUTES in off.locator("main").inner_text()
