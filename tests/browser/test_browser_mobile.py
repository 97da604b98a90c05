"""Small screens and large text, JavaScript off: the intake flow on a 360 x 740 phone, every
page reflowing at 320 CSS px without horizontal scrolling (WCAG 1.4.10), and the pages
readable with text at 200 % (WCAG 1.4.4) without sideways scrolling or clipped controls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browserkit import Audit, Sealbox, Shots, horizontal_overflow, read_receipt

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
NARROWEST = {"width": 320, "height": 740}

# Boxes whose content is wider than the box itself and cut off or scrolled (the text is
# lost for who cannot scroll sideways). Runs in Playwright's isolated world: no page script.
CLIPPED = """root => [...root.querySelectorAll('main *, header *, footer *')].filter(e => {
  const style = getComputedStyle(e);
  if (style.display === 'inline' || style.overflowX === 'visible') return false;
  if (e.matches('textarea, input, select, .visually-hidden, .hp, .hp *, .skip-link')) return false;
  return e.scrollWidth > e.clientWidth + 1;
}).map(e => e.outerHTML.slice(0, 100))"""


def assert_reflows(page: Any, step: str) -> None:
    """No sideways scrolling at the phone's width, nor at 320 CSS px."""
    assert horizontal_overflow(page) == 0, f"{step}: scrolls sideways at {page.viewport_size}"
    phone = page.viewport_size
    page.set_viewport_size(NARROWEST)
    try:
        overflow = horizontal_overflow(page)
        clipped = page.locator("html").evaluate(CLIPPED)
    finally:
        page.set_viewport_size(phone)
    assert overflow == 0, f"{step}: scrolls sideways by {overflow}px at 320 CSS px"
    assert not clipped, f"{step}: content cut off at 320 CSS px: {clipped}"


def test_phone_report_and_follow_up(
    sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots, evidence: list[Path]
) -> None:
    sealbox.add_caseworker("alice")
    page = new_context(**PHONE).new_page()
    page.goto(sealbox.intake + "/en/")
    assert_reflows(page, "landing")
    audit.check(page, "landing (phone)", lang="en")
    shots(page, "landing")

    page.get_by_role("link", name="Make a report").click()
    assert_reflows(page, "report form")
    page.get_by_role("button", name="Continue: check your report").click()
    assert_reflows(page, "report form with an error")
    audit.check(page, "report form with an error (phone)", lang="en")
    shots(page, "report-form-error")
    page.get_by_label("What happened?").fill("Inspectors are paid to ignore safety failures.")
    page.get_by_label("Where did it happen?").fill("North depot")
    page.get_by_role("button", name="Continue: check your report").click()

    assert_reflows(page, "review")
    page.locator("input[type=file]").set_input_files([str(evidence[0])])
    shots(page, "review")
    page.get_by_role("button", name="Send my report").click()
    receipt = read_receipt(page)
    assert_reflows(page, "receipt")
    audit.check(page, "receipt (phone)", lang="en")
    shots(page, "receipt")
    page.get_by_label("I have written down or safely saved my receipt.").check()
    page.get_by_role("button", name="Finish").click()
    assert_reflows(page, "thank you")

    page.goto(sealbox.intake + "/en/followup/")
    assert_reflows(page, "follow-up sign-in")
    page.get_by_label("Your receipt").fill(receipt.replace(" ", ""))  # spaces are optional
    page.get_by_role("button", name="Open my report").click()
    assert page.url.endswith("/en/followup/case")
    assert "meeting-notes.txt" in page.locator("main").inner_text()
    assert_reflows(page, "follow-up case")
    audit.check(page, "follow-up case (phone)", lang="en")
    page.get_by_label("Your message").fill("The next inspection is on Friday.")
    page.get_by_role("button", name="Send", exact=True).click()
    assert "The next inspection is on Friday." in page.locator("main").inner_text()
    assert_reflows(page, "follow-up case after a message")
    shots(page, "follow-up-thread")
    page.get_by_role("link", name="Report retaliation").click()
    assert_reflows(page, "retaliation form")
    page.get_by_role("button", name="Send retaliation report").click()  # empty
    assert "Describe what has been done to you." in page.locator("#error-summary").inner_text()
    assert_reflows(page, "retaliation form with an error")
    audit.check(page, "retaliation form with an error (phone)", lang="en")
    page.get_by_role("link", name="Go back without sending").click()
    page.get_by_role("link", name="Tell us who you are").click()
    assert_reflows(page, "identity form")
    page.get_by_role("button", name="Send my identity details").click()  # empty
    assert page.locator("#error-summary").is_visible()
    assert_reflows(page, "identity form with errors")
    audit.check(page, "identity form with errors (phone)", lang="en")
    shots(page, "identity-errors")
    page.get_by_role("link", name="Go back without sending").click()
    page.get_by_role("button", name="Log out").click()
    assert_reflows(page, "logged out")


def _text_zoom(route: Any) -> None:
    """The app's style sheet with every text size doubled (the browser's text-only zoom)."""
    response = route.fetch()
    zoomed = response.text() + "\nhtml { font-size: 200% !important; }\n"
    route.fulfill(response=response, body=zoomed)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_text_at_200_percent(sealbox: Sealbox, new_context: Any, shots: Shots, lang: str) -> None:
    context = new_context(viewport={"width": 1280, "height": 800})
    context.route("**/static/intake.css", _text_zoom)
    page = context.new_page()
    pages = [f"/{lang}/", f"/{lang}/report/", f"/{lang}/followup/", f"/{lang}/no-such-page"]
    for path in pages:
        page.goto(sealbox.intake + path)
        size = page.locator("body").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 32, f"{path}: text was not enlarged ({size}px)"
        assert horizontal_overflow(page) == 0, f"{path}: scrolls sideways with text at 200 %"
        assert not page.locator("html").evaluate(CLIPPED), f"{path}: content cut off at 200 %"
        shots(page, path.strip("/").replace("/", "-") or "landing")
    # The form's error state, the longest page of the flow, at 200 % too.
    page.goto(sealbox.intake + f"/{lang}/report/")
    page.locator("form button[type=submit]").click()
    assert page.locator("#error-summary").is_visible()
    assert horizontal_overflow(page) == 0
