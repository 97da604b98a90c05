"""Fixtures for the caseworker app: the real app on the test store, a browser-like client
that sends CSRF tokens, enrolled accounts and a sign-in helper that uses real TOTP codes."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cases.accounts.enrolment import create_caseworker, unlock
from cases.accounts.twofactor import TOTP_PERIOD, new_totp_secret, seal_totp_secret
from cases.models import Caseworker
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from caseworker import create_app

PASSPHRASE = "correct horse battery staple"
_TOKEN = re.compile(r'name="(?:[a-z_]+-)?csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Person:
    id: int
    username: str
    passphrase: str
    secret: str
    private_key: bytes


class Browser:
    """Flask's test client, plus the CSRF token a real browser would send back."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.token = ""

    def _remember(self, response: TestResponse) -> TestResponse:
        if response.mimetype == "text/html":
            match = _TOKEN.search(response.get_data(as_text=True))
            if match:
                self.token = match.group(1)
        return response

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self._remember(self.client.get(url, **kwargs))

    def post(
        self,
        url: str,
        data: dict[str, Any] | None = None,
        *,
        prefix: str = "",
        csrf: bool = True,
        **kwargs: Any,
    ) -> TestResponse:
        if csrf and not self.token:
            self.get("/login")
        payload = {(f"{prefix}-{k}" if prefix else k): v for k, v in (data or {}).items()}
        if csrf:
            payload[f"{prefix}-csrf_token" if prefix else "csrf_token"] = self.token
        return self._remember(self.client.post(url, data=payload, **kwargs))

    def cookie(self, name: str) -> str | None:
        found = self.client.get_cookie(name)
        return found.value if found else None


@pytest.fixture
def app(store: Store) -> Flask:
    application = create_app(store.settings, store)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app)


@pytest.fixture
def new_browser(app: Flask) -> Callable[[], Browser]:
    return lambda: Browser(app)


@pytest.fixture
def person(store: Store) -> Callable[..., Person]:
    """Factory: an account with TOTP already set up (the enrolment UI has its own tests)."""

    def make(username: str = "alice", *, enrolled: bool = True, **roles: bool) -> Person:
        secret = new_totp_secret()
        with store.transaction() as db:
            account = create_caseworker(db, store.settings, username, PASSPHRASE, **roles)
            if enrolled:
                account.totp_secret_enc = seal_totp_secret(
                    store.settings.server_key, account.id, secret
                )
        return Person(account.id, username, PASSPHRASE, secret, unlock(account, PASSPHRASE))

    return make


def fresh_code(store: Store, person: Person) -> str:
    """A TOTP code the server has not seen yet (waits for the next step if needed)."""
    with store.transaction() as db:
        last = db.get_one(Caseworker, person.id).totp_last_counter
    while True:
        now = int(time.time()) // TOTP_PERIOD
        counter = max(last + 1, now)
        if counter <= now + 1:
            return str(pyotp.TOTP(person.secret).generate_otp(counter))
        time.sleep(1)


def sign_in(browser: Browser, store: Store, who: Person) -> TestResponse:
    response = browser.post("/login", {"username": who.username, "passphrase": who.passphrase})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.startswith("/login/code")
    response = browser.post("/login/code", {"code": fresh_code(store, who)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def signed_in(store: Store, new_browser: Callable[[], Browser]) -> Callable[[Person], Browser]:
    def make(who: Person) -> Browser:
        b = new_browser()
        sign_in(b, store, who)
        return b

    return make


def submit(
    store: Store,
    report: dict[str, Any] | str = "the minister took a bribe",
    files: dict[str, bytes] | None = None,
    **kw: Any,
) -> tuple[str, str]:
    """A web report as the intake app makes it: returns (case id, receipt)."""
    body = {"text": report} if isinstance(report, str) else report
    with new_submission(store) as draft:
        for name, data in (files or {}).items():
            upload = draft.new_attachment()
            for i in range(0, len(data), 10_000):
                upload.write(data[i : i + 10_000])
            draft.attach(upload, name, "application/octet-stream")
        receipt = draft.finalize(Submission(report=body, **kw))
        case_id = draft.case_id
    return case_id, receipt


@pytest.fixture
def today() -> Iterator[dt.date]:
    yield dt.datetime.now(dt.UTC).date()


class Helpers:
    """Plain functions for tests (conftest modules cannot be imported under importlib)."""

    submit = staticmethod(submit)
    sign_in = staticmethod(sign_in)
    fresh_code = staticmethod(fresh_code)
    passphrase = PASSPHRASE


@pytest.fixture
def h() -> type[Helpers]:
    return Helpers
