"""Forms of the caseworker's own account page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from cases.accounts.enrolment import MIN_PASSPHRASE_CHARS
from caseworker.forms import PlainForm as PlainForm  # the app's one button form


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language of this interface"), choices=[])


class PassphraseForm(FlaskForm):
    current = PasswordField(
        _l("Current passphrase"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        _l("New passphrase"),
        validators=[DataRequired(), Length(min=MIN_PASSPHRASE_CHARS, max=1024)],
        description=_l(
            "At least %(num)d characters. A few unrelated words are easy to type "
            "and hard to guess.",
            num=MIN_PASSPHRASE_CHARS,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New passphrase again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passphrases differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ConfirmCodeForm(FlaskForm):
    code = StringField(
        _l("Current code from your authenticator app"),
        validators=[DataRequired(), Length(min=6, max=9)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 9},
    )


class ConfirmPassphraseForm(FlaskForm):
    your_passphrase = PasswordField(
        _l("Your passphrase"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )




class NoticeForm(FlaskForm):
    email = StringField(
        _l("Address for notices"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                   message=_l("Enter an address like name@example.org.")),
        ],
        description=_l("Leave it empty to get no mail. A notice names no case and quotes "
                       "nothing: it only says that something is waiting."),
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    new_report = BooleanField(_l("A new report is routed to me"))
    reporter_message = BooleanField(_l("A reporter writes on a case I hold"))
    deadline_soon = BooleanField(_l("A deadline of a case I hold is near"))
    deadline_passed = BooleanField(_l("A deadline of a case I hold has passed"))
    case_handed = BooleanField(_l("A case is given or handed over to me"))
    case_removed = BooleanField(_l("I am removed from a case"))
    case_idle = BooleanField(_l("A case I hold has had no activity for a long time"))
    identity_request = BooleanField(_l("An identity request waits for a custodian"))
    account_locked = BooleanField(_l("An account is locked after repeated failed sign-ins"))
    audit_broken = BooleanField(_l("The audit log check finds a problem"))
    recovery_used = BooleanField(_l("The organisation recovery key is used"))
    maintenance_failed = BooleanField(_l("A backup or the nightly purge fails"))
    cases_unheld = BooleanField(_l("Cases are left that no account holds"))
    daily = BooleanField(_l("One digest a day instead of a mail for each batch"))
    key = TextAreaField(
        _l("Encrypt my notices to this key (optional)"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("An age recipient (age1…) or an OpenPGP public key (-----BEGIN PGP "
                       "PUBLIC KEY BLOCK-----). Your mail provider then sees only that a "
                       "notice came."),
        render_kw={"rows": 4, "spellcheck": "false", "autocapitalize": "off"},
    )


class HandOverForm(FlaskForm):
    successor = SelectField(_l("Hand them to"), choices=[], validate_choice=False)
