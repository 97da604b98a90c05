"""Fixtures for the intake app: the real app on the test store, and a browser-like helper
that fills and sends the real forms (hidden fields, CSRF token and all)."""

from __future__ import annotations

import re
from dataclasses import replace
from io import BytesIO
from typing import Any

import pageforms
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pageforms import csrf_of, kind_of
from werkzeug.test import TestResponse

from cases.store import Store
from intake import create_app


def _with_fields(form: dict[str, Any]) -> dict[str, Any]:
    """What a person leaves as the page gave it: hidden and text fields, passwords and text
    areas (not the caseworker's username, which a test types itself)."""
    form["fields"] = [
        (c["name"], c.get("value", ""))
        for c in form["controls"]
        if kind_of(c) in ("hidden", "password", "textarea")
        or (kind_of(c) == "text" and c["name"] != "username")
    ]
    return form


def forms_of(html: str) -> list[dict[str, Any]]:
    return [_with_fields(form) for form in pageforms.forms_of(html)]


def form_to(html: str, action_part: str) -> dict[str, Any]:
    return _with_fields(pageforms.form_to(html, action_part))


RECEIPT_RE = re.compile(r'data-receipt="([0-9 ]+)"')


class Browser:
    """Drives the intake like a person with JavaScript off."""

    forms_of = staticmethod(forms_of)
    form_to = staticmethod(form_to)
    csrf_of = staticmethod(csrf_of)

    def __init__(self, client: FlaskClient, lang: str = "en") -> None:
        self.client = client
        self.lang = lang

    @staticmethod
    def receipt_of(response: TestResponse) -> str:
        return receipt_of(response)

    def url(self, path: str) -> str:
        return f"/{self.lang}/{path.lstrip('/')}"

    def open_form(self) -> TestResponse:
        response = self.client.get(self.url("report/"))
        assert response.status_code == 200
        return response

    def review(
        self,
        description: str = "The director takes bribes from the road contractor.",
        **fields: Any,
    ) -> TestResponse:
        page = self.open_form().get_data(as_text=True)
        data: dict[str, Any] = {
            "csrf_token": csrf_of(page),
            "description": description,
            "website": "",
        }
        data.update(fields)
        return self.client.post(self.url("report/review"), data=data)

    def send(
        self, review: TestResponse, files: list[tuple[str, bytes]] | None = None, **override: Any
    ) -> TestResponse:
        form = form_to(review.get_data(as_text=True), "/report/send")
        data: dict[str, Any] = {}
        for name, value in form["fields"]:
            data.setdefault(name, []).append(value)
        data.update(override)
        if files:
            data["files"] = [(BytesIO(content), name) for name, content in files]
        return self.client.post(form["action"], data=data, content_type="multipart/form-data")

    def submit(
        self,
        description: str = "The director takes bribes from the road contractor.",
        files: list[tuple[str, bytes]] | None = None,
        **fields: Any,
    ) -> str:
        review = self.review(description, **fields)
        assert review.status_code == 200, review.get_data(as_text=True)[:2000]
        response = self.send(review, files)
        assert response.status_code == 200, response.get_data(as_text=True)[:3000]
        return receipt_of(response)

    def login(self, receipt: str) -> TestResponse:
        page = self.client.get(self.url("followup/")).get_data(as_text=True)
        return self.client.post(
            self.url("followup/"), data={"csrf_token": csrf_of(page), "receipt": receipt}
        )

    def case_page(self) -> TestResponse:
        return self.client.get(self.url("followup/case"))

    def post_form(
        self,
        page: TestResponse,
        action_part: str,
        files: list[tuple[str, bytes]] | None = None,
        **values: Any,
    ) -> TestResponse:
        form = form_to(page.get_data(as_text=True), action_part)
        data: dict[str, Any] = {}
        for name, value in form["fields"]:
            data.setdefault(name, []).append(value)
        data.update(values)
        kwargs: dict[str, Any] = {}
        if form["enctype"] == "multipart/form-data":
            kwargs["content_type"] = "multipart/form-data"
            if files:
                data["files"] = [(BytesIO(content), name) for name, content in files]
        return self.client.post(form["action"], data=data, **kwargs)


def receipt_of(response: TestResponse) -> str:
    match = RECEIPT_RE.search(response.get_data(as_text=True))
    assert match, "no receipt on the page"
    return match.group(1)


@pytest.fixture
def make_app(store: Store):  # type: ignore[no-untyped-def]
    """Factory: an intake app on the test store, with settings overridden."""

    def make(**overrides: Any) -> Flask:
        settings = replace(store.settings, **overrides) if overrides else store.settings
        object.__setattr__(store, "settings", settings)
        app = create_app(settings, store)
        return app

    return make


@pytest.fixture
def app(make_app) -> Flask:  # type: ignore[no-untyped-def]
    return make_app()  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    # Not ``with app.test_client()``: a client kept open that way keeps its app context
    # pushed, and every other client of the app would then share its ``flask.g``.
    return app.test_client()


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


@pytest.fixture
def new_browser(app: Flask):  # type: ignore[no-untyped-def]
    """Factory: another browser (its own cookies) on the same app."""

    def make(lang: str = "en", the_app: Flask | None = None) -> Browser:
        return Browser((the_app or app).test_client(), lang)

    return make
