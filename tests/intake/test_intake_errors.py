"""Error pages: right status, the reporter's language, no traceback, no cookie."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from babel.support import Translations
from markupsafe import escape
from sqlalchemy.exc import OperationalError

import intake


def translated(lang: str, text: str) -> str:
    """The catalogue's translation, as the page must show it (escaped like the template)."""
    catalogues = Path(intake.__file__).parent / "translations"
    found = Translations.load(str(catalogues), [lang]).gettext(text)
    assert found != text, f"no {lang} translation of {text!r}"
    return str(escape(found))


def test_404_in_the_language_of_the_path(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/ar/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html and translated("ar", "Page not found") in html
    assert "Set-Cookie" not in response.headers


def test_404_without_language_uses_accept_language(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/nowhere/at/all", headers={"Accept-Language": "es"})
    assert response.status_code == 404
    assert '<html lang="es"' in response.get_data(as_text=True)


def test_405_with_allow_header(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/fr/report/review")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert '<html lang="fr"' in response.get_data(as_text=True)
    assert translated("fr", "This page cannot be used like this") in response.get_data(as_text=True)


def test_500_shows_no_traceback_and_logs_no_request_details(
    app, client, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    from intake.main import views

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(views, "render_template", boom)
    with caplog.at_level(logging.INFO):
        response = client.get(
            "/en/",
            headers={"User-Agent": "UA-MARKER", "Referer": "http://ref.example/"},
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong on our side" in html
    assert (
        "Traceback" not in html
        and "secret internal detail" not in html
        and "RuntimeError" not in html
    )
    logged = caplog.text
    assert "203.0.113.9" not in logged and "UA-MARKER" not in logged and "ref.example" not in logged
    # The class of the error, never its message or a traceback (it could quote report text).
    assert "RuntimeError" in logged
    assert "secret internal detail" not in logged and "Traceback" not in logged
    assert not any(r.exc_info for r in caplog.records)


def test_503_when_the_database_is_down(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from intake.main import views

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT", {}, Exception("could not connect"))

    monkeypatch.setattr(views, "store", lambda: type("S", (), {"policy": down})())
    response = client.get("/en/")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "briefly unavailable" in html and "could not connect" not in html


@pytest.mark.parametrize(
    "path", ["/en/followup/case", "/en/followup/identity", "/en/followup/retaliation"]
)
def test_follow_up_pages_need_a_session(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/en/followup/")
