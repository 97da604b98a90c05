"""The sign-in forms' rate limit (30 a minute per client) counts staff behind nginx apart,
by the address nginx names in X-Sealbox-Client, and believes that header only from the
proxy (config/clients.py): otherwise one person on the office network could keep everyone
from signing in, or mint a fresh allowance per forged header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caseworker.limits import SIGN_IN_LIMIT

ATTEMPTS = int(SIGN_IN_LIMIT.split("/")[0])


def _attempt(browser: Any, peer: str, claimed: str) -> int:
    response = browser.post(
        "/login", {"username": "nobody", "passphrase": "a wrong passphrase"},
        environ_base={"REMOTE_ADDR": peer}, headers={"X-Sealbox-Client": claimed},
    )
    return response.status_code


def test_staff_behind_the_proxy_are_counted_apart(new_browser: Callable[[], Any]) -> None:
    guesser, colleague = new_browser(), new_browser()
    statuses = [_attempt(guesser, "127.0.0.1", "192.0.2.10") for _ in range(ATTEMPTS + 1)]
    assert statuses[:ATTEMPTS] == [200] * ATTEMPTS  # "wrong username or passphrase"
    assert statuses[ATTEMPTS] == 429
    assert _attempt(colleague, "127.0.0.1", "192.0.2.11") == 200


def test_the_header_is_ignored_from_anyone_but_the_proxy(
    new_browser: Callable[[], Any],
) -> None:
    guesser = new_browser()
    statuses = [_attempt(guesser, "203.0.113.4", f"192.0.2.{n}") for n in range(ATTEMPTS + 1)]
    assert statuses[ATTEMPTS] == 429  # a new claimed address each time bought nothing
