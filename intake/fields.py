"""Form fields that both intake blueprints show: the identity details a reporter may give
with the report or later in follow-up, and the newline clean-up every text area uses.
Defined once so that the two pages ask the same questions with the same limits."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

SHORT_CHARS = 1000  # a one-line answer


def normalise_newlines(value: Any) -> Any:
    """Browsers send CRLF: store one kind of line break."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def identity_name_field() -> StringField:
    return StringField(_l("Your name"), validators=[Optional(), Length(max=SHORT_CHARS)])


def identity_contact_field() -> StringField:
    return StringField(
        _l("How we can contact you safely"),
        validators=[Optional(), Length(max=SHORT_CHARS)],
        description=_l(
            "For example a private e-mail address or phone number. Never a work address."
        ),
    )


def identity_other_field() -> TextAreaField:
    return TextAreaField(
        _l("Anything else about you we should know"),
        filters=[normalise_newlines],
        validators=[Optional(), Length(max=SHORT_CHARS * 4)],
    )


def identity_details(name: str | None, contact: str | None, other: str | None) -> dict[str, str]:
    """The details as stored in an identity record: trimmed, empty ones left out."""
    values = {"name": name, "contact": contact, "other": other}
    return {k: v.strip() for k, v in values.items() if v and v.strip()}
