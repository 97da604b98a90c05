"""Languages: chosen by the first path segment (``/en/``, ``/ar/``...), never by a cookie.

``/`` redirects to the best match for the browser's Accept-Language. Every other page
carries its language in its URL, so links, forms and error pages stay in the reporter's
language without anything being stored on their device or on the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app, g, request, url_for
from flask_babel import Babel, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from wtforms.i18n import messages_path

from config import sentences
from config.languages import NATIVE_NAMES, text_direction
from intake.work import settings

TRANSLATIONS = Path(__file__).parent / "translations"

def languages() -> tuple[str, ...]:
    return settings().languages


def default_language() -> str:
    return settings().default_language


def best_language() -> str:
    """The browser's preferred language among ours (for ``/`` and unroutable URLs)."""
    return (
        request.accept_languages.best_match(languages(), default=default_language())
        or default_language()
    )


def language_from_path() -> str:
    first = request.path.lstrip("/").split("/", 1)[0]
    return first if first in languages() else best_language()


def current_language() -> str:
    lang = g.get("lang")
    if lang is None:
        lang = g.lang = language_from_path() if request else default_language()
    return lang  # type: ignore[no-any-return]


def _pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values is None or "lang" not in values:
        return
    lang = values.pop("lang")
    if lang not in languages():
        g.lang = language_from_path()
        abort(404)
    g.lang = lang


def _add_lang(endpoint: str, values: dict[str, Any]) -> None:
    if "lang" in values or endpoint == "static":
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "lang"):
        values["lang"] = current_language()


def language_url(code: str) -> str:
    """This page in another language (a GET page), else the home page in that language."""
    endpoint = request.endpoint
    if (
        endpoint
        and request.method == "GET"
        and current_app.url_map.is_endpoint_expecting(endpoint, "lang")
    ):
        return url_for(endpoint, **(request.view_args or {}), lang=code)
    return url_for("main.index", lang=code)


# Numbers in the reader's way; the look-ups kept on g for the request.
SENTENCES = sentences.Sentences(get_translations, get_locale, g)
gettext, ngettext = SENTENCES.gettext, SENTENCES.ngettext


@pass_context
def _template_gettext(context: Context, string: str, **variables: Any) -> str:
    return gettext(string, autoescape=context.eval_ctx.autoescape, **variables)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, num: int,
                       **variables: Any) -> str:
    return ngettext(singular, plural, num, autoescape=context.eval_ctx.autoescape, **variables)


WTFORMS_MESSAGES = sentences.LazyCatalogue(messages_path(), "wtforms", lambda: str(get_locale()))


def _wtforms_catalogue() -> None:
    request.wtforms_translations = WTFORMS_MESSAGES  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["SEALBOX_SETTINGS"].default_language
    Babel(app, locale_selector=current_language)
    # After Flask-Babel installed its own (Jinja's ``_`` looks "gettext" up when called).
    app.jinja_env.globals.update(gettext=_template_gettext, ngettext=_template_ngettext)
    app.url_value_preprocessor(_pull_lang)
    app.url_defaults(_add_lang)
    app.before_request(_wtforms_catalogue)

    @app.context_processor
    def _language_context() -> dict[str, Any]:
        lang = current_language()
        return {
            "lang": lang,
            "text_dir": text_direction(lang),
            "language_choices": [
                (code, NATIVE_NAMES.get(code, code), text_direction(code)) for code in languages()
            ],
            "language_url": language_url,
        }
