"""Keyboard alone (WCAG 2.1.1, 2.4.3, 2.4.7, 2.4.11): the whole report is made with Tab,
typing, Space and Enter, JavaScript off. Every element that takes focus shows a visible
focus indicator with at least 3:1 contrast against the page, is not hidden off screen, and
the honeypot field for bots is never reached."""

from __future__ import annotations

from typing import Any

import pytest
from browserkit import Sealbox, Shots, read_receipt, totp_code

pytestmark = pytest.mark.browser

# In Playwright's isolated world (works with page scripts off): describe the focused element
# and how its focus is drawn.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  const rgb = c => (c.match(/[0-9.]+/g) || []).slice(0, 4).map(Number);
  const lum = c => {
    const [r, g, b] = rgb(c).slice(0, 3).map(v => v / 255)
      .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  let bg = 'rgb(255, 255, 255)';
  for (let n = e.parentElement; n; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (rgb(c).length === 3 || (rgb(c)[3] ?? 1) > 0) { bg = c; break; }
  }
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
    ? contrast(s.outlineColor, bg) : 0;
  const shadowColor = (s.boxShadow.match(/rgba?\\([^)]*\\)/) || [null])[0];
  const shadow = s.boxShadow !== 'none' && shadowColor ? contrast(shadowColor, bg) : 0;
  return {
    tag: e.tagName.toLowerCase(),
    name: e.getAttribute('name') || e.id || '',
    text: (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 60),
    indicator: Math.max(outline, shadow),
    onScreen: r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
  };
}"""


class Keyboard:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.visited: list[dict[str, Any]] = []

    def focused(self) -> dict[str, Any] | None:
        """The focused element, once the page has scrolled it into view (smoothly, maybe)."""
        now: dict[str, Any] | None = None
        for _ in range(40):
            now = self.page.locator("html").evaluate(f"_ => ({FOCUSED})()")
            if now is None or now["onScreen"]:
                break
            self.page.wait_for_timeout(50)
        return now

    def tab_to(self, wanted: str, *, limit: int = 80) -> dict[str, Any]:
        """Press Tab until the focused element's text or name contains ``wanted``."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            now = self.focused()
            assert now is not None, "focus left the page's controls"
            self.visited.append(now)
            assert now["name"] != "website", "the honeypot field must not take focus"
            assert now["onScreen"], f"focused element is off screen: {now}"
            assert now["indicator"] >= 3, f"no visible focus indicator (3:1) on {now}"
            if wanted in now["text"] or wanted == now["name"]:
                return now
        seen = [v["text"] or v["name"] for v in self.visited]
        raise AssertionError(f"{wanted!r} not reached with Tab; visited {seen}")


def test_report_by_keyboard_alone(sealbox: Sealbox, new_context: Any, shots: Shots) -> None:
    sealbox.add_caseworker("alice")
    page = new_context(reduced_motion="reduce").new_page()  # focus scrolls without animation
    keys = Keyboard(page)
    page.goto(sealbox.intake + "/en/")

    first = keys.tab_to("Skip to main content", limit=1)
    assert first["tag"] == "a"
    assert page.locator(".skip-link").bounding_box()["height"] > 10  # shown when focused
    shots(page, "skip-link")
    keys.tab_to("Make a report")
    shots(page, "focus-make-a-report")
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/report/")

    keys.tab_to("description")
    page.keyboard.type("The canteen supplier is owned by the finance director's brother.")
    keys.tab_to("q_where")
    page.keyboard.type("Head office")
    keys.tab_to("q_relationship")  # the first radio of the group
    page.keyboard.press("ArrowDown")  # arrow keys move within a radio group
    shots(page, "form-by-keyboard")
    keys.tab_to("Continue: check your report")
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/report/review")
    assert "The canteen supplier" in page.locator("dl.summary").inner_text()

    keys.tab_to("files")  # reachable (a file chooser would open on Space)
    keys.tab_to("Send my report")
    shots(page, "focus-send")
    page.keyboard.press("Enter")
    page.locator(".receipt-code").wait_for()
    receipt = read_receipt(page)

    keys.tab_to("saved")
    page.keyboard.press("Space")
    assert page.get_by_label("I have written down or safely saved my receipt.").is_checked()
    keys.tab_to("Finish")
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/report/done")
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"

    # Back with the receipt, by keyboard: the receipt field takes typed digits.
    page.goto(sealbox.intake + "/en/followup/")
    keys.tab_to("receipt")
    page.keyboard.type(receipt)
    keys.tab_to("Open my report")
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/followup/case")
    keys.tab_to("main-text")
    page.keyboard.type("One more thing: the contract was signed in May.")
    keys.tab_to("Send")
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/followup/case?done=message*")
    assert "signed in May" in page.locator("main").inner_text()
    shots(page, "follow-up-by-keyboard")


def test_caseworker_sign_in_by_keyboard(sealbox: Sealbox, new_context: Any, shots: Shots) -> None:
    bob = sealbox.add_caseworker("bob")
    page = new_context(javascript=True).new_page()
    keys = Keyboard(page)
    page.goto(sealbox.caseworker + "/login")
    keys.tab_to("username")
    page.keyboard.type(bob.username)
    keys.tab_to("passphrase")
    page.keyboard.type(bob.passphrase)
    keys.tab_to("Continue")
    page.keyboard.press("Enter")
    page.wait_for_url("**/login/code*")
    keys.tab_to("code")
    page.keyboard.type(totp_code(bob.totp_secret))
    page.keyboard.press("Enter")  # submits the form
    page.get_by_role("heading", name="Inbox").wait_for()
    keys.tab_to("Inbox")
    shots(page, "inbox-focus")
