"""The whole product in a real browser: a reporter with JavaScript disabled (Tor Browser
"Safest") reports with two files and follows up with the receipt; a caseworker signs in
with passphrase + TOTP and works the case; the reporter comes back and reads the reply and
the new status, never the internal note. Every page reached is audited with axe-core."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browserkit import Audit, Sealbox, Shots, read_receipt, totp_code

pytestmark = pytest.mark.browser

REPORT = "The head of procurement approved the road contract without a tender, for 40 000 in cash."
FOLLOW_UP = "I found the minutes of the meeting where the contract was approved."
ACKNOWLEDGEMENT = "Thank you for your report. We have received it and will assess it this week."
REPLY = "Could you tell us who else attended that meeting?"
NOTE = "Internal: check the procurement ledger for March before contacting the department."
SCOPE = "Procurement fraud in road contracts: in scope."


def test_report_follow_up_casework_and_reply(
    sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots, evidence: list[Path]
) -> None:
    alice = sealbox.add_caseworker("alice")
    intake, back_office = sealbox.intake, sealbox.caseworker

    # -- the reporter, JavaScript off ------------------------------------------------------
    reporter = new_context().new_page()
    reporter.goto(intake + "/")
    assert reporter.url == intake + "/en/"
    audit.check(reporter, "landing", lang="en")
    shots(reporter, "landing", docs="landing")

    reporter.get_by_role("link", name="Make a report").click()
    assert reporter.url.endswith("/en/report/")
    audit.check(reporter, "report form", lang="en")
    shots(reporter, "report-form", docs="report-form")

    # Sending without the one required field: errors next to the field and summarised on top.
    reporter.get_by_role("button", name="Continue: check your report").click()
    summary = reporter.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    assert "What happened?" in summary.inner_text()
    description = reporter.get_by_label("What happened?")
    assert description.get_attribute("aria-invalid") == "true"
    error_id = description.get_attribute("aria-describedby").split()[-1]
    assert "the only part of the form" in reporter.locator(f"#{error_id}").inner_text()
    audit.check(reporter, "report form with an error", lang="en")
    shots(reporter, "report-form-error")

    description.fill(REPORT)
    reporter.get_by_label("When did it happen?").fill("In March, and it is still going on")
    reporter.get_by_label("Employee", exact=True).check()
    reporter.get_by_role("button", name="Continue: check your report").click()
    assert reporter.url.endswith("/en/report/review")
    assert REPORT in reporter.locator("dl.summary").inner_text()
    audit.check(reporter, "review", lang="en")
    reporter.locator("input[type=file]").set_input_files([str(p) for p in evidence])
    shots(reporter, "review")

    reporter.get_by_role("button", name="Send my report").click()
    receipt = read_receipt(reporter)
    audit.check(reporter, "receipt", lang="en")
    shots(reporter, "receipt", docs="receipt")

    # Without ticking the box the browser itself refuses (the box is required).
    reporter.get_by_role("button", name="Finish").click()
    assert reporter.locator("#saved:invalid").count() == 1 and "/report/send" in reporter.url
    reporter.get_by_label("I have written down or safely saved my receipt.").check()
    reporter.get_by_role("button", name="Finish").click()
    assert reporter.get_by_role("heading", level=1).inner_text() == "Thank you"
    audit.check(reporter, "thank you", lang="en")
    shots(reporter, "done")

    # Follow-up: a typo in the receipt is caught and explained, then the right receipt.
    reporter.get_by_role("link", name="Go to the home page").click()
    reporter.get_by_role("link", name="I have a receipt").click()
    audit.check(reporter, "follow-up sign-in", lang="en")
    typo = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    reporter.get_by_label("Your receipt").fill(typo)
    reporter.get_by_role("button", name="Open my report").click()
    field = reporter.get_by_label("Your receipt")
    assert field.get_attribute("aria-invalid") == "true"
    assert "One digit is wrong somewhere" in reporter.locator("#error-summary").inner_text()
    audit.check(reporter, "follow-up sign-in, receipt typo", lang="en")
    shots(reporter, "receipt-typo")
    field.fill(receipt)
    reporter.get_by_role("button", name="Open my report").click()
    assert reporter.url.endswith("/en/followup/case")
    page_text = reporter.locator("main").inner_text()
    assert REPORT in page_text
    assert "meeting-notes.txt" in page_text and "invoice-photo.png" in page_text
    assert "Nobody has confirmed reading it yet" in page_text
    audit.check(reporter, "follow-up case", lang="en")

    reporter.get_by_label("Your message").fill(FOLLOW_UP)
    reporter.get_by_role("button", name="Send", exact=True).click()
    assert "Sent." in reporter.get_by_role("status").first.inner_text()
    assert FOLLOW_UP in reporter.locator("main").inner_text()
    audit.check(reporter, "follow-up case after a message", lang="en")
    shots(reporter, "follow-up-thread", docs="follow-up-thread")

    reporter.get_by_role("button", name="Log out").click()
    assert reporter.get_by_role("heading", level=1).inner_text() == "You are logged out"
    audit.check(reporter, "logged out", lang="en")
    shots(reporter, "logged-out")
    reporter.goto(intake + "/en/followup/case")
    assert "/en/followup/" in reporter.url and reporter.get_by_label("Your receipt").is_visible()

    # -- the caseworker --------------------------------------------------------------------
    staff = new_context(javascript=True, viewport={"width": 1280, "height": 900}).new_page()
    staff.goto(back_office + "/")
    assert "/login" in staff.url
    audit.check(staff, "caseworker sign-in")
    shots(staff, "caseworker-sign-in")
    staff.get_by_label("Username").fill(alice.username)
    staff.get_by_label("Passphrase").fill("not the passphrase at all")
    staff.get_by_role("button", name="Continue").click()
    assert "not right" in staff.get_by_role("alert").inner_text()
    audit.check(staff, "caseworker sign-in, wrong passphrase")
    staff.get_by_label("Username").fill(alice.username)
    staff.get_by_label("Passphrase").fill(alice.passphrase)
    staff.get_by_role("button", name="Continue").click()
    assert "/login/code" in staff.url
    audit.check(staff, "caseworker second factor")
    staff.get_by_label("Six-digit code").fill(totp_code(alice.totp_secret))
    staff.get_by_role("button", name="Sign in").click()

    assert staff.get_by_role("heading", level=1).inner_text() == "Inbox"
    rows = staff.locator("table.cases tbody tr")
    assert rows.count() == 1
    assert "Received" in rows.first.inner_text()
    assert REPORT[:60] in " ".join(rows.first.inner_text().split())  # the report's first words
    audit.check(staff, "inbox")
    shots(staff, "inbox", docs="caseworker-inbox")

    rows.first.get_by_role("link").first.click()
    case_url = staff.url
    assert re.search(r"/cases/[^/]+$", case_url)
    report_section = staff.locator("#report")
    assert REPORT in report_section.inner_text()
    attachments = staff.locator("#report ul.attachments li")
    assert sorted(t.split(" (")[0] for t in attachments.all_inner_texts()) == [
        "invoice-photo.png", "meeting-notes.txt",
    ]
    assert FOLLOW_UP in staff.locator("#thread").inner_text()
    audit.check(staff, "case view")
    shots(staff, "case-view", docs="caseworker-case")

    acknowledge = staff.locator("#acknowledge")  # first on a case nobody has acknowledged
    acknowledge.get_by_label("Message to the reporter").fill(ACKNOWLEDGEMENT)
    acknowledge.get_by_role("button", name="Acknowledge").click()
    assert "Acknowledged" in staff.locator("#summary").inner_text()
    audit.check(staff, "case view, acknowledged")

    thread = staff.locator("#thread")
    thread.get_by_label("Message to the reporter", exact=True).fill(REPLY)
    reply_file = evidence[0].with_name("attendance-sheet.txt")
    reply_file.write_text("Please list who attended.\n")
    thread.get_by_label("Attach files (optional)").set_input_files(str(reply_file))
    thread.get_by_role("button", name="Send to the reporter").click()
    assert REPLY in staff.locator("#thread").inner_text()
    assert "attendance-sheet.txt" in staff.locator("ul.attachments").inner_text()

    tabs = staff.get_by_role("navigation", name="Sections of this case")
    tabs.get_by_role("link", name="Triage and risk").click()
    internal = staff.locator("#internal")
    internal.get_by_label("Internal note").fill(NOTE)
    internal.get_by_role("button", name="Save note").click()
    assert NOTE in staff.locator("#internal").inner_text()

    workflow = staff.locator("#workflow")
    workflow.get_by_label("Scope").fill(SCOPE)
    workflow.get_by_label("Priority").select_option("3")
    workflow.get_by_role("button", name="Record triage").click()
    assert "Triaged" in staff.locator("#summary").inner_text()
    audit.check(staff, "case view, triaged")
    shots(staff, "case-triaged", docs="caseworker-case-triage")

    # Search finds the case by words of its report and of its internal note.
    staff.get_by_role("link", name="Inbox").click()
    staff.get_by_label("Search the content of your cases").fill("LEDGER road")
    staff.get_by_role("button", name="Search").click()
    found = staff.get_by_role("status")
    assert found.inner_text().startswith("1 case of 1 matches.")
    assert "LEDGER" not in staff.url and "ledger" not in staff.url  # a POST, never in the URL
    assert "procurement ledger for March" in staff.locator("ol.search-results").inner_text()
    audit.check(staff, "search results")
    shots(staff, "search-results", docs="caseworker-search")
    staff.locator("ol.search-results a").first.click()
    assert REPORT in staff.locator("#report").inner_text()

    # Several cases at once: tick, choose the step, apply.
    staff.get_by_role("link", name="Inbox").click()
    staff.locator("table.cases tbody tr").first.get_by_role("checkbox").check()
    staff.get_by_label("With the selected cases").select_option("label")
    staff.get_by_label("Label", exact=True).last.fill("road works")
    staff.get_by_role("button", name="Apply to the ticked cases").click()
    assert "Done for 1 case." in staff.locator("main").inner_text()
    assert "road works" in staff.locator("table.cases tbody tr").first.inner_text()
    audit.check(staff, "inbox after a bulk step")

    # -- the reporter comes back with the receipt -------------------------------------------
    returning = new_context(accept_downloads=True).new_page()
    returning.goto(intake + "/en/followup/")
    returning.get_by_label("Your receipt").fill(receipt)
    returning.get_by_role("button", name="Open my report").click()
    text = returning.locator("main").inner_text()
    assert REPLY in text
    assert ACKNOWLEDGEMENT in text
    assert "Your report has been assessed and is being dealt with." in text
    assert "We confirmed receiving it on" in text
    assert NOTE not in returning.content() and SCOPE not in returning.content()
    sent_back = returning.locator("ul.files li", has_text="attendance-sheet.txt")
    assert "from us" in sent_back.inner_text()
    with returning.expect_download() as download:
        sent_back.get_by_role("link").click()
    assert Path(download.value.path()).read_text() == "Please list who attended.\n"
    audit.check(returning, "follow-up case with a reply", lang="en")
    shots(returning, "reply-seen")
