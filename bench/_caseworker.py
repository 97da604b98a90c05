"""A caseworker account for the benchmarks, and signing it in like a person: passphrase,
then a TOTP code, through the caseworker app's real forms (over HTTP, or with Flask's
test client in process)."""

from __future__ import annotations

from typing import Any

from bench._http import Browser, csrf_of

USERNAME = "bench-reader"
PASSPHRASE = "bench reader passphrase for the benchmarks"  # noqa: S105 (throwaway)
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 (throwaway)


def create_reader(store: Any, username: str = USERNAME) -> int:
    """A caseworker with a known passphrase and TOTP secret; returns the account id."""
    from cases.accounts.enrolment import create_caseworker
    from cases.accounts.twofactor import seal_totp_secret

    settings = store.settings
    with store.transaction() as session:
        account = create_caseworker(session, settings, username, PASSPHRASE)
        account.totp_secret_enc = seal_totp_secret(settings.server_key, account.id, TOTP_SECRET)
        return int(account.id)


def _code() -> str:
    import pyotp

    return str(pyotp.TOTP(TOTP_SECRET).now())


def sign_in_http(port: int, username: str = USERNAME) -> dict[str, str]:
    """Sign in over HTTP; returns the signed-in cookies."""
    browser = Browser(port)
    page = browser.get("/login")
    reply = browser.post(
        "/login",
        {"csrf_token": csrf_of(page.text), "username": username, "passphrase": PASSPHRASE},
    )
    if reply.status not in (302, 303):
        raise RuntimeError(f"sign-in answered {reply.status}")
    page = browser.follow(reply)
    reply = browser.post("/login/code", {"csrf_token": csrf_of(page.text), "code": _code()})
    if reply.status not in (302, 303):
        raise RuntimeError(f"second factor answered {reply.status}")
    if browser.follow(reply).status != 200:
        raise RuntimeError("not signed in")
    browser.close()
    return dict(browser.cookies)


def sign_in_client(client: Any, username: str = USERNAME) -> None:
    """Sign a Flask test client in (its cookie jar keeps the session)."""
    page = client.get("/login").get_data(as_text=True)
    reply = client.post(
        "/login", data={"csrf_token": csrf_of(page), "username": username, "passphrase": PASSPHRASE}
    )
    if reply.status_code not in (302, 303):
        raise RuntimeError(f"sign-in answered {reply.status_code}")
    page = client.get(reply.location).get_data(as_text=True)
    reply = client.post("/login/code", data={"csrf_token": csrf_of(page), "code": _code()})
    if reply.status_code not in (302, 303):
        raise RuntimeError(f"second factor answered {reply.status_code}")
