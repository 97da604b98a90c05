"""JavaScript on: the intake's own script (served by the app under its strict CSP) adds a
character counter, upload progress and a copy-receipt button, and none of it is needed for
any step (the other browser tests run with JavaScript off). This module's intake seals on
the server (``SEALBOX_SEAL_IN_BROWSER=false``: an operator's choice, and the path of a
browser without WebAssembly), whose pages these enhance; sealing in the browser has its
own tests. No Content-Security-Policy violation and no script error may happen on any
page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browserkit import Audit, Sealbox, Shots, read_receipt

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _sealed_on_the_server(sealbox: Sealbox) -> None:
    sealbox.env["SEALBOX_SEAL_IN_BROWSER"] = "false"  # before the intake starts

# Recorded from the first moment of every page (an init script is not subject to the CSP).
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
    + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watched:
    """A JavaScript-enabled page whose CSP violations, console errors and script errors
    are collected across navigations."""

    def __init__(self, context: Any) -> None:
        context.add_init_script(script=WATCH)
        self.page = context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.text.startswith("Failed to load resource"):
            return  # an error page's own status (checked with the page) or a sub-resource (below)
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.status} for {response.url}")

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__violations || []")
        found = [*self.problems, *(f"CSP violation: {v}" for v in violations)]
        self.problems.clear()
        assert not found, f"{where}:\n" + "\n".join(found)


def _slow_upload(page: Any, bytes_per_second: int) -> None:
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 20,
        "downloadThroughput": -1, "uploadThroughput": bytes_per_second,
    })


def _progress_values(page: Any) -> list[int]:
    """The progress bar's value, sampled until the upload ends (page.wait_for_function
    cannot be used: it evaluates strings, which the page's CSP rightly forbids)."""
    seen: list[int] = []
    while not seen or seen[-1] < 100:
        try:
            value = page.evaluate(
                "() => document.querySelector('.upload-progress progress')?.value ?? 100"
            )
        except Exception:  # the answer replaced the document mid-call
            value = 100
        seen.append(int(value))
        page.wait_for_timeout(50)
    return seen


def test_counter_progress_and_copy_button(
    sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots, tmp_path: Path
) -> None:
    sealbox.add_caseworker("alice")
    context = new_context(javascript=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=sealbox.intake)
    watched = Watched(context)
    page = watched.page

    page.goto(sealbox.intake + "/en/")
    watched.check("landing")
    page.get_by_role("link", name="Make a report").click()
    watched.check("report form")

    # The error summary takes focus, so screen readers read the problems at once.
    page.get_by_role("button", name="Continue: check your report").click()
    page.wait_for_load_state()
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    audit.check(page, "report form with an error (JavaScript on)", lang="en")

    # Character counter: follows the typing, in the page's language.
    description = page.get_by_label("What happened?")
    counter = description.locator("xpath=following-sibling::p[1]")
    assert counter.inner_text() == "0 / 50,000"
    description.fill("Kickbacks")
    description.press("End")
    description.type("!")
    assert counter.inner_text() == "10 / 50,000"
    assert counter.get_attribute("aria-live") == "polite"
    audit.check(page, "report form with the counter", lang="en")
    shots(page, "counter")
    page.get_by_role("button", name="Continue: check your report").click()
    watched.check("review")
    # "Change my report" is an ordinary submit (no files, another address): not intercepted.
    page.get_by_role("button", name="Change my report").click()
    assert page.get_by_label("What happened?").input_value() == "Kickbacks!"
    page.get_by_role("button", name="Continue: check your report").click()
    watched.check("review again")

    # Upload progress: over a slow line the bar moves and is announced; the receipt follows.
    big = tmp_path / "ledger-scan.bin"
    big.write_bytes(bytes(range(256)) * 4096 * 2)  # 2 MiB
    small = tmp_path / "note.txt"
    small.write_text("see page 4")
    page.locator("input[type=file]").set_input_files([str(big), str(small)])
    assert "ledger-scan.bin" in page.locator(".file-list").inner_text()  # listed with its size
    _slow_upload(page, 1_000_000)
    page.get_by_role("button", name="Send my report").click()
    status = page.locator(".upload-progress [role=status]")
    status.wait_for()
    assert status.inner_text().startswith("Sending: ")
    assert page.get_by_role("button", name="Send my report").is_disabled()
    seen = _progress_values(page)
    assert any(0 < v < 100 for v in seen), f"no progress shown between 0 and 100 %: {seen}"
    shots(page, "upload-progress")
    page.locator(".receipt-code").wait_for(timeout=60_000)
    receipt = read_receipt(page)
    assert page.url.endswith("/en/report/send")
    watched.check("receipt after an upload with progress")
    audit.check(page, "receipt (JavaScript on)", lang="en")

    # Copy button: puts the receipt on the clipboard and says so.
    copy = page.locator(".receipt button")
    assert copy.inner_text() == "Copy the receipt"
    copy.click()
    assert page.evaluate("navigator.clipboard.readText()") == receipt
    assert copy.inner_text() == "Copied"
    shots(page, "receipt-copied")
    page.get_by_label("I have written down or safely saved my receipt.").check()
    page.get_by_role("button", name="Finish").click()
    watched.check("thank you")

    # Follow-up: paste the receipt (paste must work), reveal it, send a file with progress.
    page.goto(sealbox.intake + "/en/followup/")
    field = page.get_by_label("Your receipt")
    field.focus()
    page.keyboard.press("ControlOrMeta+V")
    assert field.input_value() == receipt
    assert field.get_attribute("type") == "text"  # visible by default, even without scripts
    page.get_by_label("Hide the digits (someone can see my screen)").check()
    assert field.get_attribute("type") == "password"
    page.get_by_label("Hide the digits (someone can see my screen)").uncheck()
    audit.check(page, "follow-up sign-in (JavaScript on)", lang="en")
    page.get_by_role("button", name="Open my report").click()
    watched.check("follow-up case")
    assert sorted(page.locator("ul.files a").all_inner_texts()) == ["ledger-scan.bin", "note.txt"]
    page.get_by_label("Your message").fill("Here is the second ledger.")
    page.locator("input[type=file]").set_input_files([str(big)])
    page.get_by_role("button", name="Send", exact=True).click()
    page.locator(".upload-progress").wait_for()
    page.wait_for_url("**/en/followup/case?done=message*", timeout=60_000)
    page.get_by_text("Here is the second ledger.").wait_for()
    assert page.locator("ul.files a").count() == 3
    watched.check("follow-up case after an upload with progress")
    audit.check(page, "follow-up case (JavaScript on)", lang="en")
    page.get_by_role("button", name="Log out").click()
    watched.check("logged out")


def test_caseworker_pages_keep_the_csp(sealbox: Sealbox, new_context: Any) -> None:
    """The back office's pages load nothing the CSP refuses (no inline style or script)."""
    from browserkit import totp_code

    alice = sealbox.add_caseworker("carol", admin=True)
    watched = Watched(new_context(javascript=True))
    page = watched.page
    page.goto(sealbox.caseworker + "/login")
    page.get_by_label("Username").fill(alice.username)
    page.get_by_label("Passphrase").fill(alice.passphrase)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Six-digit code").fill(totp_code(alice.totp_secret))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Inbox").wait_for()
    for path in ["/", "/account", "/admin", "/admin/caseworkers", "/admin/policy", "/admin/audit"]:
        page.goto(sealbox.caseworker + path)
        watched.check(path)
