"""The back office's other pages in a real browser, each audited with axe-core: first
sign-in with TOTP enrolment (the secret is read from the page, as a person would type it
into an authenticator), recovery codes, sign-in with a recovery code, the account page, the
administration pages, an oral report and its receipt, error pages. The passphrase field
takes a pasted passphrase (password managers, WCAG 3.3.8)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyotp
import pytest
from browserkit import (
    Audit,
    Sealbox,
    Shots,
    horizontal_overflow,
    remember_enrolment,
    totp_code,
)

pytestmark = pytest.mark.browser


def _paste(page: Any, field: Any, text: str) -> None:
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    field.focus()
    page.keyboard.press("ControlOrMeta+V")


def test_enrolment_recovery_codes_and_admin_pages(
    sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots
) -> None:
    erin = sealbox.add_caseworker("erin", enrolled=False, admin=True, custodian=True)
    context = new_context(javascript=True, accept_downloads=True,
                          viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=sealbox.caseworker)
    page = context.new_page()
    page.goto(sealbox.caseworker + "/login")
    page.get_by_label("Username").fill(erin.username)
    passphrase = page.get_by_label("Passphrase")
    _paste(page, passphrase, erin.passphrase)  # from a password manager
    assert passphrase.input_value() == erin.passphrase
    assert passphrase.get_attribute("autocomplete") == "current-password"
    page.get_by_role("button", name="Continue").click()

    # Enrolment: the QR code, and the same secret as text to type into an app.
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-step sign-in"
    audit.check(page, "enrolment")
    shots(page, "enrolment")
    secret = re.sub(r"\s+", "", page.locator("code.secret").inner_text())
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    page.get_by_label("Six-digit code").fill(wrong)
    page.get_by_role("button", name="Confirm and sign in").click()
    assert page.get_by_role("alert").is_visible()
    audit.check(page, "enrolment, wrong code")
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and sign in").click()
    remember_enrolment(secret)

    assert page.get_by_role("heading", level=1).inner_text() == "Your recovery codes"
    codes = page.locator("ol.codes code").all_inner_texts()
    assert len(codes) == 10
    audit.check(page, "recovery codes")
    page.get_by_role("link", name="I have saved my codes: continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"
    audit.check(page, "empty inbox")

    for path, name in [("/account", "account"), ("/admin", "administration"),
                       ("/admin/caseworkers", "accounts"), ("/admin/categories", "categories"),
                       ("/admin/questions", "questions"), ("/admin/policy", "policy"),
                       ("/admin/retention", "retention"), ("/admin/dashboard", "indicators"),
                       ("/admin/audit", "audit log"), ("/identity-requests", "identity requests"),
                       ("/cases/new-oral", "oral report form"),
                       ("/cases/no-such-case", "not found")]:
        page.goto(sealbox.caseworker + path)
        audit.check(page, name)
        shots(page, name)

    # A reply template, written by the administrator, offered on every case.
    page.goto(sealbox.caseworker + "/admin/reply-templates")
    page.get_by_label("Title (what caseworkers choose from)").fill("Thank and confirm")
    page.get_by_label("Text", exact=True).fill("Thank you: we have your report.")
    page.get_by_role("button", name="Save template").click()
    assert "The template is saved." in page.locator("main").inner_text()
    audit.check(page, "reply templates")

    # A category, then its name in the reporters' other languages (one form per language).
    page.goto(sealbox.caseworker + "/admin/categories")
    page.get_by_label("Key (used in addresses and exports)").fill("fraud")
    page.get_by_label("Name", exact=True).fill("Fraud")
    page.get_by_role("button", name="Create category").click()
    page.get_by_role("link", name="This category in the reporters' other languages").click()
    arabic = page.locator("#texts-ar")
    arabic.get_by_label("Name", exact=True).fill("احتيال")
    arabic.get_by_role("button").click()
    assert "The texts are saved." in page.locator("main").inner_text()
    assert page.locator("#texts-ar").get_by_label("Name", exact=True).input_value() == "احتيال"
    audit.check(page, "a category in other languages")

    # An oral report: the caseworker writes the minutes and hands the reporter a receipt.
    page.goto(sealbox.caseworker + "/cases/new-oral")
    page.get_by_role("button", name="Register the report").click()  # nothing filled in
    # Errors: announced at the top, and each tied to its field.
    assert page.get_by_role("alert").first.is_visible()
    minutes = page.get_by_label("Minutes or transcript")
    assert minutes.get_attribute("aria-invalid") == "true"
    error_id = (minutes.get_attribute("aria-describedby") or "").split()[-1]
    assert page.locator(f"#{error_id}").inner_text().strip()
    audit.check(page, "oral report form with errors")
    page.get_by_label("Minutes or transcript").fill("The caller says the tender was rigged in May.")
    page.get_by_label("Date of the call or meeting").fill("2026-11-20")
    page.get_by_role("button", name="Register the report").click()
    assert page.get_by_role("heading", level=1).inner_text() == "The report is registered"
    audit.check(page, "oral report receipt")
    shots(page, "oral-receipt")
    page.get_by_role("link", name="I have handed over the receipt: open the case").click()
    assert "The caller says the tender was rigged in May." in page.locator("#report").inner_text()
    audit.check(page, "case view of an oral report")

    # Nobody has acknowledged it: the acknowledgement comes first, and a reply that
    # confirms receipt is the acknowledgement (the box is ticked for the caseworker).
    box = page.get_by_label("This message confirms receipt: acknowledge the report with it")
    assert box.is_checked()
    choice = page.get_by_label("Start from a template")
    choice.select_option(label="Thank and confirm — English (en)")
    page.get_by_role("button", name="Put its text in the box").click()
    reply = page.get_by_label("Message to the reporter", exact=True)
    assert reply.input_value() == "Thank you: we have your report."
    audit.check(page, "reply started from a template")
    page.get_by_role("button", name="Send to the reporter").click()
    assert "Acknowledged" in page.locator("#summary").inner_text()
    assert "Thank you: we have your report." in page.locator("#thread").inner_text()
    audit.check(page, "case acknowledged by a reply")
    # The case's sections are tabs that are links; each is a page of its own.
    tabs = page.get_by_role("navigation", name="Sections of this case")
    for tab, section in [("Triage and risk", "#workflow"), ("History and export", "#history"),
                         ("People and access", "#access")]:
        tabs.get_by_role("link", name=tab).click()
        assert tabs.locator('[aria-current="page"]').inner_text() == tab
        assert page.locator(section).is_visible() and page.locator("#thread").count() == 0
        audit.check(page, f"case tab: {tab}")
    shots(page, "case-people-tab")
    # The case as one PDF, a passage blacked out in the copy.
    tabs.get_by_role("link", name="History and export").click()
    page.get_by_label("Passages to black out in this copy (optional)").fill("Thank you")
    with page.expect_download() as pdf:
        page.get_by_role("button", name="Download the case as PDF").click()
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF-")
    assert pdf.value.suggested_filename.endswith(".pdf")
    tabs.get_by_role("link", name="People and access").click()
    # Stepping away is explained before it is done, and can be left without doing it.
    page.get_by_role("link", name="Declare a conflict of interest and step away…").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(
        "Declare a conflict of interest"
    )
    audit.check(page, "conflict of interest: confirmation")
    page.get_by_role("link", name="Back to the case, without stepping away").click()
    assert "Acknowledged" in page.locator("#summary").inner_text()
    assert page.url.endswith("/people#access")

    # Reflow (WCAG 1.4.10): at 320 CSS px no page scrolls sideways (wide tables scroll
    # inside their own box, which the success criterion allows).
    case_url = page.url.split("#")[0].removesuffix("/people")
    page.set_viewport_size({"width": 320, "height": 800})
    for url in [case_url, case_url + "/workflow", case_url + "/people",
                sealbox.caseworker + "/", sealbox.caseworker + "/account",
                sealbox.caseworker + "/admin/caseworkers", sealbox.caseworker + "/admin/audit"]:
        page.goto(url)
        assert horizontal_overflow(page) == 0, f"{url} scrolls sideways at 320 CSS px"
    shots(page, "case-at-320px")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A new account asked for by one administrator and approved by another, who is
    # shown the enrolment code to hand over; then sign out.
    page.goto(sealbox.caseworker + "/admin/caseworkers")
    page.get_by_label("Username").fill("frank")
    page.get_by_role("button", name="Request this account").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Requests waiting for approval"
    assert "Another administrator approves it" in page.get_by_role("status").first.inner_text()
    audit.check(page, "account requested")
    hana = sealbox.add_caseworker("hana", admin=True)
    second = new_context(javascript=True).new_page()
    second.goto(sealbox.caseworker + "/login")
    second.get_by_label("Username").fill(hana.username)
    second.get_by_label("Passphrase").fill(hana.passphrase)
    second.get_by_role("button", name="Continue").click()
    second.get_by_label("Six-digit code").fill(totp_code(hana.totp_secret))
    second.get_by_role("button", name="Sign in").click()
    second.goto(sealbox.caseworker + "/admin/approvals")
    second.get_by_role("button", name="Approve").click()
    assert second.get_by_role("heading", level=1).inner_text() == "Enrolment code"
    audit.check(second, "account approved: enrolment code")
    code = second.locator("code.secret").inner_text()

    # Frank's first sign-in: the code once, a passphrase nobody else learns.
    frank = new_context(javascript=True).new_page()
    frank.goto(sealbox.caseworker + "/login")
    frank.get_by_role("link", name="First sign-in with an enrolment code").click()
    audit.check(frank, "first sign-in")
    frank.get_by_label("Username").fill("frank")
    frank.get_by_label("Enrolment code").fill(code)
    frank.get_by_label("Choose your passphrase").fill("frank chooses a long passphrase")
    frank.get_by_label("The same passphrase again").fill("frank chooses a long passphrase")
    frank.get_by_role("button", name="Continue").click()
    assert frank.get_by_role("heading", level=1).inner_text() == "Set up two-step sign-in"
    page.get_by_role("button", name="Sign out").click()
    assert "/login" in page.url
    audit.check(page, "signed out")

    # Next sign-in with a recovery code instead of the authenticator.
    page.get_by_label("Username").fill(erin.username)
    page.get_by_label("Passphrase").fill(erin.passphrase)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="I cannot use my authenticator: use a recovery code").click()
    audit.check(page, "recovery code sign-in")
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"
    assert "recovery code" in page.get_by_role("status").first.inner_text()
    audit.check(page, "inbox after a recovery code")


def test_wrong_second_factor_and_expired_session(
    sealbox: Sealbox, new_context: Any, audit: Audit
) -> None:
    gus = sealbox.add_caseworker("gus")
    page = new_context(javascript=True).new_page()
    page.goto(sealbox.caseworker + "/login")
    page.get_by_role("button", name="Continue").click()  # nothing filled in
    assert "Some fields need attention" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Username").get_attribute("aria-invalid") == "true"
    audit.check(page, "sign-in with empty fields")
    page.get_by_label("Username").fill(gus.username)
    page.get_by_label("Passphrase").fill(gus.passphrase)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Six-digit code").fill("12345")
    page.get_by_role("button", name="Sign in").click()
    assert "Some fields need attention" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Six-digit code").get_attribute("aria-invalid") == "true"
    audit.check(page, "second factor with a field error")
    page.get_by_label("Six-digit code").fill(totp_code(gus.totp_secret))
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"
    page.context.clear_cookies()
    page.goto(sealbox.caseworker + "/")
    assert "/login" in page.url
    audit.check(page, "sign-in after the session ended")
