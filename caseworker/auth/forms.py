"""Sign-in forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from cases.accounts.enrolment import MIN_PASSPHRASE_CHARS


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    passphrase = PasswordField(
        _l("Passphrase"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("Six-digit code from your authenticator app"),
        validators=[DataRequired(), Length(min=6, max=9)],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "spellcheck": "false",
            "size": 9,
        },
    )


class RecoveryForm(FlaskForm):
    code = StringField(
        _l("Recovery code"),
        validators=[DataRequired(), Length(min=16, max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class EnrolmentForm(FlaskForm):
    """The owner's first sign-in: the code an administrator handed over, and the
    passphrase only they will know."""

    username = LoginForm.username
    code = StringField(
        _l("Enrolment code"),
        validators=[DataRequired(), Length(min=20, max=60)],
        description=_l("The code you were given for your first sign-in (groups of four)."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    passphrase = PasswordField(
        _l("Choose your passphrase"),
        validators=[DataRequired(), Length(min=MIN_PASSPHRASE_CHARS, max=1024)],
        description=_l(
            "At least %(num)d characters. Nobody else will know it, not even an "
            "administrator: if you lose it, you lose access to your cases until colleagues "
            "grant them again.",
            num=MIN_PASSPHRASE_CHARS,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The same passphrase again"),
        validators=[
            DataRequired(),
            EqualTo("passphrase", message=_l("The two passphrases differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class KeyAnswerForm(FlaskForm):
    """A security key's answer, put in by caseworker/static/security-keys.js."""

    answer = HiddenField(validators=[DataRequired(_l(
        "Your browser sent no answer from a security key: it needs JavaScript for this."))])


class SecurityKeyForm(KeyAnswerForm):
    name = StringField(_l("A name for this key (e.g. “blue key”)"),
                       validators=[DataRequired(), Length(max=64)])
