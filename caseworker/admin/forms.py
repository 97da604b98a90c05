"""Administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from caseworker.choices import options
from caseworker.forms import PlainForm as PlainForm  # the app's one button form
from config.settings import (
    LEGAL_MAX_ACKNOWLEDGE_DAYS,
    LEGAL_MAX_FEEDBACK_MONTHS,
    MIN_ABANDONED_RETENTION_DAYS,
)


class NewCaseworkerForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    display_name = StringField(
        _l("Display name"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "Shown to colleagues, and to reporters choosing who must not see their report. "
            "Without one, reporters cannot name this person."
        ),
    )
    team = StringField(
        _l("Team"),
        validators=[Optional(), Length(max=64)],
        description=_l("Reporters can exclude a whole team when names are hidden from them."),
    )
    is_caseworker = BooleanField(_l("Caseworker: handles cases"), default=True)
    is_custodian = BooleanField(_l("Identity custodian: holds reporters' identity keys"))
    is_admin = BooleanField(_l("Administrator: manages accounts and settings (reads no case)"))
    language = SelectField(_l("Interface language"), choices=[])


class ProfileForm(FlaskForm):
    display_name = NewCaseworkerForm.display_name
    team = NewCaseworkerForm.team


class RolesForm(FlaskForm):
    is_caseworker = BooleanField(_l("Caseworker"))
    is_custodian = BooleanField(_l("Identity custodian"))
    is_admin = BooleanField(_l("Administrator"))


class DisableForm(FlaskForm):
    confirm = BooleanField(
        _l("I understand: this account's sessions end and every case key it holds is deleted"),
        validators=[DataRequired()],
    )


class CategoryForm(FlaskForm):
    slug = StringField(
        _l("Key (used in addresses and exports)"), validators=[DataRequired(), Length(max=64)]
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description shown to reporters"), validators=[Optional()])
    position = IntegerField(_l("Position in lists"), default=0, validators=[InputRequired()])
    active = BooleanField(_l("Offered to reporters"), default=True)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MembersForm(FlaskForm):
    members = MultiCheckboxField(
        _l("Caseworkers who receive new reports in this category"),
        choices=[],
        coerce=int,
        validate_choice=False,
    )


class QuestionForm(FlaskForm):
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=64)])
    label = StringField(_l("Question"), validators=[DataRequired(), Length(max=300)])
    help_text = TextAreaField(_l("Help text"), validators=[Optional()])
    kind = SelectField(
        _l("Kind of answer"),
        choices=options(
            [
                ("text", _l("Short text")),
                ("textarea", _l("Long text")),
                ("choice", _l("One of several choices")),
            ]
        ),
    )
    choices = TextAreaField(_l("Choices, one per line"), validators=[Optional()])
    position = IntegerField(_l("Position on the form"), default=0, validators=[InputRequired()])
    active = BooleanField(_l("Asked on the report form"), default=True)


class AbandonedRetention:
    """0 (never), or at least a year (config.settings.MIN_ABANDONED_RETENTION_DAYS)."""

    def __call__(self, form: FlaskForm, field: IntegerField) -> None:
        value = field.data or 0
        if value < 0 or 0 < value < MIN_ABANDONED_RETENTION_DAYS or value > 36500:
            raise ValidationError(_l("Enter 0 (never), or a number of days from 365."))


class PolicyForm(FlaskForm):
    acknowledge_within_days = IntegerField(
        _l("Acknowledge a report within (days)"),
        validators=[InputRequired(), NumberRange(min=1, max=LEGAL_MAX_ACKNOWLEDGE_DAYS)],
        description=_l("EU Directive 2019/1937 allows at most 7 days."),
    )
    feedback_within_months = IntegerField(
        _l("Give feedback within (months)"),
        validators=[InputRequired(), NumberRange(min=1, max=LEGAL_MAX_FEEDBACK_MONTHS)],
        description=_l("EU Directive 2019/1937 allows at most 3 months."),
    )
    retention_days_after_close = IntegerField(
        _l("Delete closed cases after (days)"),
        validators=[InputRequired(), NumberRange(min=0, max=36500)],
        description=_l("Cases on legal hold are kept until the hold is released."),
    )
    quiet_case_days = IntegerField(
        _l("Flag open cases with no activity for (days)"),
        validators=[InputRequired(), NumberRange(min=0, max=36500)],
        description=_l("Their holders and the administrators are told by mail. 0: never."),
    )
    abandoned_case_retention_days = IntegerField(
        _l("Delete open cases with no activity for (days)"),
        validators=[InputRequired(), AbandonedRetention()],
        description=_l("0: never. Otherwise at least 365. A case is deleted only once its "
                       "holders were told at least 30 days before; cases on legal hold are "
                       "kept."),
    )
    auto_acknowledge = BooleanField(
        _l("Send an automatic acknowledgement of receipt to every new report")
    )
    require_security_keys = BooleanField(
        _l("Identity custodians and administrators sign in with a security key"),
        description=_l("Once they have added one, a TOTP code no longer signs them in "
                       "(a recovery code still does, and is audited). Security keys cannot "
                       "be phished the way codes can."),
    )
    show_caseworker_names = BooleanField(
        _l("Reporters see caseworkers' display names when they choose who must not see a report"),
        description=_l("When this is off, they choose among teams instead."),
    )


class PurgeForm(FlaskForm):
    confirm = BooleanField(
        _l("I understand: these cases are destroyed for good, backups included"),
        validators=[DataRequired()],
    )


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("What"), default="", validate_choice=False)
    actor = SelectField(_l("Who"), default="", validate_choice=False)
    case = StringField(_l("Case reference"), validators=[Optional(), Length(max=16)])
    hide_views = BooleanField(_l("Leave out views (cases opened, previews, searches)"))


class ReplyTemplateForm(FlaskForm):
    title = StringField(_l("Title (what caseworkers choose from)"),
                        validators=[DataRequired(), Length(max=120)])
    language = SelectField(_l("Language of the text"), choices=[], validate_choice=False)
    purpose = SelectField(
        _l("What it is for"),
        choices=options([
            ("acknowledgement", _l("Acknowledging a report")),
            ("request", _l("Asking for information")),
            ("feedback", _l("Feedback on the follow-up")),
            ("other", _l("Other")),
        ]),
    )
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=20_000)])
    position = IntegerField(_l("Position in the list"), default=0, validators=[InputRequired()])
    active = BooleanField(_l("Offered to caseworkers"), default=True)


class CategoryTextsForm(FlaskForm):
    """A category's name and description in one more language; empty falls back."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class QuestionTextsForm(FlaskForm):
    """A question in one more language; empty fields fall back to the default language."""

    label = StringField(_l("Question"), validators=[Optional(), Length(max=300)])
    help_text = TextAreaField(_l("Help text"), validators=[Optional(), Length(max=2000)])
    choices = TextAreaField(_l("Choices, one per line, in the same order"),
                            validators=[Optional(), Length(max=2000)])
