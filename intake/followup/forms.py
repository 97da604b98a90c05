"""Forms of the follow-up pages. CSRF is checked for every POST by CSRFProtect."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, StringField, TextAreaField, ValidationError
from wtforms.validators import Length, Optional

from intake.fields import (
    SHORT_CHARS,
    identity_contact_field,
    identity_details,
    identity_name_field,
    identity_other_field,
    normalise_newlines,
)
from intake.work import settings


class _Form(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every POST of the app
        locales = False


def _max_chars(form: _Form, field: Field) -> None:
    limit = settings().max_report_chars
    if len(field.data or "") > limit:
        form.too_long = True
        raise ValidationError(
            _(
                "This text has %(count)d characters; the limit is %(limit)d. "
                "Shorten it, or send it in two "
                "messages.",
                count=len(field.data),
                limit=limit,
            )
        )


class ReceiptForm(_Form):
    # A plain text field: the reporter sees what they typed, without JavaScript, and it is
    # kept after a mistake (intake.js adds a "hide the digits" box for typing in public).
    receipt = StringField(
        _l("Your receipt"),
        description=_l(
            "The 28 digits you were given when you made your report. "
            "Spaces and dashes do not matter."
        ),
    )
    draft = TextAreaField(filters=[normalise_newlines])  # a message kept across an expired session


class MessageForm(_Form):
    too_long = False
    text = TextAreaField(_l("Your message"), filters=[normalise_newlines], validators=[_max_chars])


class IdentityForm(_Form):
    too_long = False
    name = identity_name_field()
    contact = identity_contact_field()
    other = identity_other_field()
    understood = BooleanField(
        _l("I understand that once I send this, it cannot be taken back or changed.")
    )

    def details(self) -> dict[str, str]:
        return identity_details(self.name.data, self.contact.data, self.other.data)

    def validate_understood(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_("Tick this box to confirm that you understand."))

    def validate_name(self, field: Field) -> None:
        if not self.details():
            raise ValidationError(
                _("Fill in at least one of these fields, or go back without sending.")
            )


class RetaliationForm(_Form):
    too_long = False
    what = TextAreaField(
        _l("What has been done to you?"),
        filters=[normalise_newlines],
        validators=[_max_chars],
        description=_l(
            "For example: dismissal, demotion, a bad evaluation, a transfer, threats, "
            "harassment, exclusion, legal action. Say who did it, if you know."
        ),
    )
    when = StringField(_l("When did it happen?"), validators=[Optional(), Length(max=SHORT_CHARS)])
    needs = TextAreaField(
        _l("What would help protect you now?"),
        filters=[normalise_newlines],
        validators=[Optional(), Length(max=SHORT_CHARS * 4)],
    )

    def validate_what(self, field: Field) -> None:
        if not (field.data or "").strip():
            raise ValidationError(_("Describe what has been done to you."))
