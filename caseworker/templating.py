"""Template filters for decrypted message bodies (plain strings out: Jinja escapes them),
file sizes in the reader's language, and gettext and ngettext for the templates and the
views that write numbers in sentences as the reader's language does (config.sentences)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, g, request
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from wtforms.i18n import messages_path

from cases.bodies import LAID_OUT
from config import sentences
from config.languages import NATIVE_NAMES, file_size

SHOWN_ELSEWHERE = LAID_OUT  # laid out by macros/messages.html


def display_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(display_value(v) for v in value)
    if isinstance(value, bool | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, indent=1)


def extra_fields(body: Any) -> list[tuple[str, str]]:
    """Fields of a message body that the templates do not lay out themselves."""
    if not isinstance(body, dict):
        return [("", display_value(body))]
    return [(str(k), display_value(v)) for k, v in body.items() if k not in SHOWN_ELSEWHERE]


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


def register(app: Flask) -> None:
    app.before_request(_wtforms_catalogue)
    # After Flask-Babel installed its own (Jinja's ``_`` looks "gettext" up when called).
    app.jinja_env.globals.update(gettext=_template_gettext, ngettext=_template_ngettext)
    app.jinja_env.filters["display_value"] = display_value
    app.jinja_env.filters["extra_fields"] = extra_fields
    app.jinja_env.filters["from_json"] = from_json
    app.jinja_env.filters["file_size"] = lambda size: file_size(size, str(get_locale() or "en"))
    app.jinja_env.filters["language_name"] = language_name


def from_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return {}


def language_name(code: Any) -> str:
    """A reporter's language as its speakers write it, with the code ("العربية (ar)")."""
    text = str(code)[:16]
    name = NATIVE_NAMES.get(text)
    return f"{name} ({text})" if name else text
