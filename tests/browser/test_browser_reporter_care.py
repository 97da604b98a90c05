"""The moments a frightened reporter could lose something, in a real Chromium: leaving at
once (quick exit, a link without JavaScript, the Esc key with it), checking the receipt
they wrote down, taking a calendar reminder, and seeing "Sent." where they are looking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browserkit import Audit, Sealbox, Shots, read_receipt

pytestmark = pytest.mark.browser

EXIT = "https://www.wikipedia.org/"


def _neutral_site(context: Any) -> None:
    """The quick exit's site, answered locally (the test machine has no internet)."""
    context.route(EXIT + "**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>Wikipedia</title><p>neutral</p>"))


def _send_report(page: Any, base: str, text: str) -> str:
    page.goto(f"{base}/en/report/")
    page.get_by_label("What happened?").fill(text)
    page.locator("form button[type=submit]").click()
    page.get_by_role("button", name="Send my report").click()
    return read_receipt(page)


def test_quick_exit_without_javascript_is_a_plain_link_on_every_page(
    sealbox: Sealbox, new_context: Any
) -> None:
    sealbox.add_caseworker("alice")
    context = new_context()
    _neutral_site(context)
    page = context.new_page()
    receipt = _send_report(page, sealbox.intake, "The depot manager sells fuel.")
    for path in ("/en/", "/en/report/", "/en/followup/"):
        page.goto(sealbox.intake + path)
        link = page.get_by_role("link", name="Quick exit")
        assert link.get_attribute("href") == EXIT and link.get_attribute("rel") == "noreferrer"
    page.get_by_label("Your receipt").fill(receipt)
    page.get_by_role("button", name="Open my report").click()
    page.get_by_role("link", name="Quick exit").click()
    assert page.url == EXIT and "neutral" in page.content()
    page.goto(sealbox.intake + "/en/")
    assert "Quick exit" in page.locator("main").inner_text()  # the landing page explains it


def test_quick_exit_with_javascript_leaves_no_way_back_and_spares_a_stray_escape(
    sealbox: Sealbox, new_context: Any, audit: Audit
) -> None:
    context = new_context(javascript=True)
    _neutral_site(context)
    page = context.new_page()
    page.goto(sealbox.intake + "/en/")
    page.get_by_role("link", name="Make a report").first.click()
    audit.check(page, "report form with the quick exit (JavaScript on)", lang="en")
    text = page.get_by_label("What happened?")
    text.fill("Half a report")
    text.press("Escape")  # once while typing: nothing happens, nothing is lost
    page.wait_for_timeout(1200)
    assert "/en/report/" in page.url and text.input_value() == "Half a report"
    text.press("Escape")
    text.press("Escape")  # twice within a second: gone
    page.wait_for_url(EXIT)
    page.go_back()  # the form's entry was replaced: Back leads to the page before it
    assert page.url == sealbox.intake + "/en/"
    page.keyboard.press("Escape")  # outside a field, once is enough
    page.wait_for_url(EXIT)


def test_the_reporter_checks_the_receipt_and_takes_a_calendar_reminder(
    sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots, tmp_path: Path
) -> None:
    page = new_context(accept_downloads=True).new_page()
    receipt = _send_report(page, sealbox.intake, "The clerk asks for cash.")
    groups = receipt.split(" ")
    groups[4] = groups[4][::-1] if groups[4] != groups[4][::-1] else "0000"
    page.get_by_label("Type your receipt from your paper, without looking at this page").fill(
        " ".join(groups))
    page.get_by_role("button", name="Check", exact=True).click()
    assert "Check group 5 on your paper" in page.locator("main").inner_text()
    assert read_receipt(page) == receipt  # still shown, to correct the paper
    audit.check(page, "receipt page, practice mistaken", lang="en")
    page.get_by_label("Type your receipt from your paper, without looking at this page").fill(
        receipt)
    page.get_by_role("button", name="Check", exact=True).click()
    assert "Correct: what you wrote down is your receipt" in page.locator("main").inner_text()
    shots(page, "receipt-practised")
    page.get_by_label("Title of the reminders").fill("Library books")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the calendar file").click()
    saved = tmp_path / "reminder.ics"
    download.value.save_as(saved)
    ics = saved.read_text()
    assert ics.count("SUMMARY:Library books") == 2 and receipt.replace(" ", "") not in ics
    page.get_by_label("I have written down or safely saved my receipt.").check()
    page.get_by_role("button", name="Finish").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"


def test_sent_is_shown_where_the_reporter_is_looking(
    sealbox: Sealbox, new_context: Any, audit: Audit
) -> None:
    page = new_context(viewport={"width": 360, "height": 640}).new_page()
    receipt = _send_report(page, sealbox.intake, "A long report. " * 80)
    page.goto(sealbox.intake + "/en/followup/")
    page.get_by_label("Your receipt").fill(receipt)
    page.get_by_role("button", name="Open my report").click()
    page.get_by_label("Your message").fill("One more thing.")
    page.get_by_role("button", name="Send", exact=True).click()
    notice = page.get_by_text("Sent. Your message and files are stored encrypted")
    # The browser scrolls to the redirect's fragment once the page has loaded.
    assert page.url.endswith("#sent-main")
    for _ in range(100):  # (wait_for_function needs the page's own JavaScript)
        if page.evaluate("document.getElementById('sent-main').getBoundingClientRect().top"
                         " < window.innerHeight"):
            break
        page.wait_for_timeout(100)
    box = notice.bounding_box()
    assert box is not None and 0 <= box["y"] < 640, box  # in the viewport, not above it
    new_message = page.get_by_text("One more thing.")
    above = new_message.bounding_box()
    assert above is not None and above["y"] < box["y"]  # right under the new message
    audit.check(page, "follow-up case after sending", lang="en")


def test_back_from_review_asks_first_and_the_language_switch_keeps_everything(
    sealbox: Sealbox, new_context: Any
) -> None:
    page = new_context(javascript=True).new_page()
    page.goto(sealbox.intake + "/en/report/")
    page.get_by_label("What happened?").fill("Contracts went to the director's cousin.")
    page.get_by_role("button", name="Español").click()  # a button of the form: nothing lost
    # With the sealing script, the values wait in the tab and come back once it is ready.
    page.wait_for_selector("#report-form[data-sealing=ready]", state="attached")
    assert page.get_by_label("¿Qué ocurrió?").input_value() == (
        "Contracts went to the director's cousin.")
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("#report-form[data-sealing=ready]", state="attached")
    page.get_by_role("button", name="Continue: check your report").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your report"
    asked: list[str] = []

    def stay(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()  # "stay on this page"

    page.on("dialog", stay)
    page.locator("main").click()  # the browser asks only once the person has used the page
    page.evaluate("history.back()")
    page.wait_for_timeout(1000)
    assert asked == ["beforeunload"]
    assert page.get_by_role("heading", level=1).inner_text() == "Check your report"
    assert "Contracts went to the director's cousin." in page.locator("main").inner_text()


def test_the_review_page_says_what_could_identify_the_reporter(
    sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots
) -> None:
    page = new_context().new_page()
    page.goto(sealbox.intake + "/en/report/")
    text = "Call me on +٩٧١ ٥٠ ١٢٣ ٤٥٦٧ or write to sami@example.org about the fuel."
    page.get_by_label("What happened?").fill(text)
    page.get_by_role("button", name="Continue: check your report").click()
    box = page.locator("section.identifying")
    assert box.get_by_role("heading", name="What could identify you").is_visible()
    assert box.locator("mark").all_inner_texts() == ["+٩٧١ ٥٠ ١٢٣ ٤٥٦٧", "sami@example.org"]
    assert "(a phone number)" in box.inner_text() and "(an e-mail address)" in box.inner_text()
    audit.check(page, "review page, what could identify you", lang="en")
    shots(page, "review-identifying")
    box.get_by_role("button", name="Change my report").click()
    assert page.get_by_label("What happened?").input_value() == text


def test_reloading_the_receipt_page_shows_the_same_receipt_until_it_is_saved(
    sealbox: Sealbox, new_context: Any, audit: Audit
) -> None:
    page = new_context().new_page()
    receipt = _send_report(page, sealbox.intake, "The warehouse keys were copied.")
    page.reload()  # the browser sends the same form again
    assert read_receipt(page) == receipt
    page.reload()
    assert read_receipt(page) == receipt
    audit.check(page, "receipt page after a reload", lang="en")
    page.get_by_label("I have written down or safely saved my receipt.").check()
    page.get_by_role("button", name="Finish").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    # (After "Finish" a resend says only "already sent": tests/intake/test_intake_report.py.
    # Back to the receipt page is the browser's own "confirm resubmission" page.)


def test_a_form_without_its_security_code_says_what_happened_and_keeps_the_text(
    sealbox: Sealbox, new_context: Any
) -> None:
    page = new_context().new_page()
    page.goto(sealbox.intake + "/en/report/")
    page.get_by_label("What happened?").fill("Written, then the page was saved and reopened.")
    # As a page saved to disk and opened again arrives: without its security code.
    page.evaluate("document.querySelectorAll('input[name=csrf_token]')"
                  ".forEach(function (el) { el.remove(); })")
    page.get_by_role("button", name="Continue: check your report").click()
    text = page.locator("main").inner_text()
    assert "The form arrived without its security code" in text and "Nothing was sent" in text
    assert page.get_by_label("What happened?").input_value() == (
        "Written, then the page was saved and reopened.")
