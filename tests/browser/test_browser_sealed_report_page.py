"""The report form of an instance that seals in the browser (SEALBOX_SEAL_IN_BROWSER), used
by a person in the real Chromium with JavaScript on: the check before sending, the review,
the send, the receipt page with its buttons, and the end. The intake server records every
request body it receives (tests/browser/recording_intake.py): none holds a word the
reporter typed, nor the receipt. The same form with JavaScript off still takes the
server's path, and the record shows that path's plaintext: the record would have caught it.
Every new page state is audited with axe-core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browserkit import PASSPHRASE, Audit, Sealbox, read_receipt, require_browser_libraries
from recording_intake import read_record, seen_in, start_recording

from cases.accounts.enrolment import unlock
from cases.casework.reading import read_case
from cases.models import Case, Caseworker
from cases.store import Store

pytestmark = pytest.mark.browser

REPORT = ("Marker-4K: the port inspector signs the customs papers unseen, for cash. "
          "Write to sam.doe@example.org.")
WHEN = "Marker-5L since the spring"
NAME = "Marker-6M Sam Doe"
OFF = "Marker-0Z: typed with JavaScript off"


@pytest.fixture(scope="module")
def record(sealbox: Sealbox) -> Path:
    return start_recording(sealbox, sealbox.logs / "bodies.record")


def test_with_javascript_on_the_server_never_receives_the_report(
    sealbox: Sealbox, record: Path, new_context: Any, audit: Audit
) -> None:
    require_browser_libraries()
    alice = sealbox.add_caseworker("page-alice", custodian=True)
    page = new_context(javascript=True, accept_downloads=True).new_page()
    page.goto(sealbox.intake + "/en/")
    assert "cannot protect you if someone already controls our server" in page.inner_text("main")
    page.goto(sealbox.intake + "/en/report/")
    page.wait_for_selector("#report-form[data-sealing=ready]", state="attached")

    page.get_by_role("button", name="Continue: check your report").click()
    summary = page.locator("#sealing-summary")
    assert "the only part of the form you must fill in" in summary.inner_text()
    assert page.get_by_label("What happened?").get_attribute("aria-invalid") == "true"
    audit.check(page, "sealed form with an error", lang="en")

    page.get_by_label("What happened?").fill(REPORT)
    page.get_by_label("When did it happen?").fill(WHEN)
    page.get_by_label("Your name").fill(NAME)
    page.get_by_role("button", name="Continue: check your report").click()
    review = page.locator("section.sealed-review")
    assert REPORT in review.inner_text() and WHEN in review.inner_text()
    assert "You are telling us who you are." in review.inner_text()
    assert page.locator("#report-form").is_hidden()
    identifying = review.locator("section.identifying")
    assert identifying.locator("mark").all_inner_texts() == ["sam.doe@example.org"]
    assert "(an e-mail address)" in identifying.inner_text()
    audit.check(page, "sealed review", lang="en")
    identifying.get_by_role("button", name="Change my report").click()
    assert page.get_by_label("What happened?").input_value() == REPORT
    page.get_by_role("button", name="Continue: check your report").click()

    page.get_by_role("button", name="Send my report").click()
    page.get_by_role("heading", name="Your report has been sent").wait_for()
    receipt = read_receipt(page)
    assert "never sent to us" in page.locator("main").inner_text()
    audit.check(page, "sealed receipt", lang="en")

    page.get_by_label("Type your receipt from your paper").fill(receipt)
    page.get_by_role("button", name="Check").click()
    assert "Correct" in page.locator(".practised").inner_text()
    page.get_by_label("Type your receipt from your paper").fill("0" * 28)
    page.get_by_role("button", name="Check").click()
    assert "That is not your receipt" in page.locator(".practised").inner_text()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as a text file").click()
    assert receipt in Path(download.value.path()).read_text()

    page.get_by_label("I have written down or safely saved my receipt.").check()
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Finish").click()
    page.get_by_role("heading", name="Thank you").wait_for()

    for secret in (REPORT, WHEN, NAME, receipt, receipt.replace(" ", ""), "Marker-",
                   "sam.doe@example.org"):
        assert seen_in(record, secret) == [], secret
    assert [p for p, body in read_record(record) if body and p.endswith("/send-sealed")]

    store = Store(sealbox.settings)
    try:
        with store.transaction() as session:
            account = session.get_one(Caseworker, alice.id)
            cases = session.query(Case).all()
            texts = [read_case(session, c, account, unlock(account, PASSPHRASE)).thread[0]
                     .body["text"] for c in cases]
        assert REPORT in texts
    finally:
        store.dispose()

    # The same form with JavaScript off: the server's path, whose plaintext the record shows.
    off = new_context().new_page()
    off.goto(sealbox.intake + "/en/report/")
    off.get_by_label("What happened?").fill(OFF)
    off.get_by_role("button", name="Continue: check your report").click()
    off.get_by_role("button", name="Send my report").click()
    assert read_receipt(off)
    assert seen_in(record, OFF)


def test_without_webassembly_the_form_takes_the_servers_path(
    sealbox: Sealbox, record: Path, new_context: Any
) -> None:
    """Tor Browser's Safer mode runs JavaScript on an onion but not WebAssembly."""
    context = new_context(javascript=True)
    context.add_init_script(script="delete window.WebAssembly;")
    page = context.new_page()
    page.goto(sealbox.intake + "/en/report/")
    page.get_by_label("What happened?").fill("Marker-3J without WebAssembly")
    page.get_by_role("button", name="Continue: check your report").click()
    assert page.url.endswith("/en/report/review")  # the server's review page
    assert "Marker-3J without WebAssembly" in page.locator("dl.summary").inner_text()
    assert seen_in(record, "Marker-3J without WebAssembly")  # sealed on the server, as ever


def test_switching_language_keeps_what_was_typed_without_sending_it(
    sealbox: Sealbox, record: Path, new_context: Any
) -> None:
    require_browser_libraries()
    page = new_context(javascript=True).new_page()
    page.goto(sealbox.intake + "/en/report/")
    page.wait_for_selector("#report-form[data-sealing=ready]", state="attached")
    page.get_by_label("What happened?").fill("Marker-4L typed before switching")
    page.get_by_label("When did it happen?").fill("Marker-4M in May")
    page.get_by_role("button", name="Français").click()
    page.wait_for_selector("#report-form[data-sealing=ready]", state="attached")
    assert page.url.endswith("/fr/report/")
    assert page.get_by_label("Que s’est-il passé ?").input_value() == (
        "Marker-4L typed before switching")
    assert page.get_by_label("Quand cela s’est-il passé ?").input_value() == "Marker-4M in May"
    assert page.evaluate("sessionStorage.length") == 0  # taken back, not kept
    assert seen_in(record, "Marker-4") == []
