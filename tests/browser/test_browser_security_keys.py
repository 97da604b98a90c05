"""Security keys in the real Chromium, with its virtual authenticator (the DevTools WebAuthn
domain) standing in for a USB key: an administrator adds a key on the account page, signs
out, signs in with the key, and with the policy on can no longer sign in with a code.
WebAuthn needs a host name, not an IP address: the pages are opened at localhost."""

from __future__ import annotations

from typing import Any

import pytest
from browserkit import Audit, Sealbox, Shots, totp_code

pytestmark = pytest.mark.browser


def virtual_key(context: Any, page: Any) -> tuple[Any, str]:
    """A DevTools session with one virtual USB key that says yes when asked."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": False,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }})
    return cdp, added["authenticatorId"]


def sign_in_as_far_as_the_second_step(page: Any, base: str, who: Any) -> None:
    page.goto(base + "/login")
    page.get_by_label("Username").fill(who.username)
    page.get_by_label("Passphrase").fill(who.passphrase)
    page.get_by_role("button", name="Continue").click()
    assert "/login/code" in page.url


def test_add_a_key_then_sign_in_with_it(sealbox: Sealbox, new_context: Any, audit: Audit,
                                        shots: Shots) -> None:
    ada = sealbox.add_caseworker("ada", admin=True)
    base = sealbox.caseworker.replace("127.0.0.1", "localhost")
    context = new_context(javascript=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cdp, authenticator = virtual_key(context, page)

    sign_in_as_far_as_the_second_step(page, base, ada)
    page.get_by_label("Six-digit code").fill(totp_code(ada.totp_secret))
    page.get_by_role("button", name="Sign in").click()
    page.goto(base + "/account#keys")
    keys = page.locator("#keys")
    keys.get_by_label("A name for this key").fill("blue key")
    with page.expect_navigation():  # the script asks the key, then sends the form
        keys.get_by_role("button", name="Add a security key").click()
    assert "The security key is added" in page.locator("main").inner_text()
    assert "blue key" in keys.inner_text()
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(held["credentials"]) == 1  # the key holds it; the server has its public half
    audit.check(page, "account with a security key")
    shots(page, "security-key-added", docs="caseworker-security-key")

    # The policy: an administrator with a key signs in with it, not with a code.
    page.goto(base + "/admin/policy")
    page.get_by_label("Identity custodians and administrators sign in with a security key"
                      ).check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Sign out").click()

    sign_in_as_far_as_the_second_step(page, base, ada)
    assert page.get_by_label("Six-digit code").count() == 0  # no code field for her now
    audit.check(page, "second step with a security key")
    shots(page, "second-step-security-key")
    with page.expect_navigation():
        page.get_by_role("button", name="Use my security key").click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"  # signed in
    page.goto(base + "/admin/audit?action=login.succeeded")
    assert "security_key" in page.locator("table.audit").inner_text()
