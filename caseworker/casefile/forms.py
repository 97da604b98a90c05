"""Forms of the case page: one per action, each with its CSRF token."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from cases.casework.access import MAX_TEXT
from cases.casework.choices import COMPLETENESS, LEVELS, MEDIUMS, OUTCOMES, PROTECTION
from caseworker.choices import options
from caseworker.forms import PlainForm as PlainForm  # the app's one button form
from caseworker.labels import (
    COMPLETENESS_LABELS,
    LEVEL_LABELS,
    MEDIUM_LABELS,
    OUTCOME_LABELS,
    PROTECTION_LABELS,
)

LONG = Length(max=MAX_TEXT)

PRIORITY_CHOICES = [("1", _l("Low")), ("2", _l("Medium")), ("3", _l("High"))]


class PrefixedForm(FlaskForm):
    """Many forms share the case page: a prefix keeps their field names and ids apart."""

    form_prefix = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.form_prefix)
        super().__init__(*args, **kwargs)


class AcknowledgeForm(PrefixedForm):
    form_prefix = "ack"

    message = TextAreaField(
        _l("Message to the reporter (optional)"),
        validators=[Optional(), LONG],
        description=_l("Sent to the reporter's mailbox with the acknowledgement."),
    )


class TriageForm(PrefixedForm):
    form_prefix = "triage"

    scope = TextAreaField(
        _l("Scope: what the report is about and whether this channel covers it"),
        validators=[DataRequired(), LONG],
    )
    priority = SelectField(
        _l("Priority"), choices=options(PRIORITY_CHOICES), validators=[InputRequired()]
    )
    completeness = SelectField(
        _l("Completeness"), choices=options((c, COMPLETENESS_LABELS[c]) for c in COMPLETENESS)
    )
    notes = TextAreaField(_l("Notes (optional)"), validators=[Optional(), LONG])


class RiskForm(PrefixedForm):
    form_prefix = "risk"

    likelihood = SelectField(
        _l("Likelihood of retaliation"), choices=options((c, LEVEL_LABELS[c]) for c in LEVELS)
    )
    impact = SelectField(
        _l("Impact on the reporter"), choices=options((c, LEVEL_LABELS[c]) for c in LEVELS)
    )
    measures = TextAreaField(_l("Protective measures"), validators=[Optional(), LONG])
    review_on = DateField(_l("Review the assessment on"), validators=[Optional()])


class ConcludeForm(PrefixedForm):
    form_prefix = "conclude"

    outcome = SelectField(_l("Outcome"), choices=options((c, OUTCOME_LABELS[c]) for c in OUTCOMES))
    protection = SelectField(
        _l("Continued protection of the reporter"),
        choices=options((c, PROTECTION_LABELS[c]) for c in PROTECTION),
    )
    protection_measures = TextAreaField(
        _l("Protective measures that continue (optional)"), validators=[Optional(), LONG]
    )
    summary = TextAreaField(_l("Summary of the findings"), validators=[DataRequired(), LONG])
    feedback = TextAreaField(
        _l("Message to the reporter: the outcome and what follows"),
        validators=[DataRequired(), LONG],
        description=_l(
            "Sent to the reporter's mailbox as feedback on the follow-up. The summary above "
            "stays internal."
        ),
    )


class ReasonForm(PrefixedForm):
    form_prefix = "reopen"

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), LONG])


class LegalHoldForm(PrefixedForm):
    form_prefix = "hold"

    reason = StringField(
        _l("Reason for the legal hold"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("Administrators can see this reason: give a reference, not case details."),
    )


class LinkForm(PrefixedForm):
    form_prefix = "link"

    other = StringField(
        _l("Reference of the related case"),
        validators=[DataRequired(), Length(max=32)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class UnlinkForm(FlaskForm):
    other = HiddenField(validators=[DataRequired(), Length(max=32)])


class AssignForm(PrefixedForm):
    form_prefix = "assign"

    assignee = SelectField(_l("Assigned to"), choices=[], validate_choice=False)


class LabelForm(PrefixedForm):
    form_prefix = "label"

    label = StringField(
        _l("Label"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Labels are visible in lists: never put names or case details in them."),
    )


class RemoveLabelForm(FlaskForm):
    label = HiddenField(validators=[DataRequired(), Length(max=64)])


class NoteForm(PrefixedForm):
    form_prefix = "note"

    text = TextAreaField(_l("Internal note"), validators=[DataRequired(), LONG])


class ReplyForm(PrefixedForm):
    form_prefix = "reply"

    text = TextAreaField(_l("Message to the reporter"), validators=[DataRequired(), LONG])
    feedback = BooleanField(
        _l("This message gives the reporter feedback on the follow-up (EU Directive, Art. 9(1)(f))")
    )
    acknowledges = BooleanField(
        _l("This message confirms receipt: acknowledge the report with it"), default=True
    )


class GrantForm(PrefixedForm):
    form_prefix = "grant"

    caseworker = SelectField(_l("Caseworker"), choices=[], validate_choice=False)
    override = BooleanField(_l("Override the exclusion of this caseworker"))
    override_reason = TextAreaField(
        _l("Reason for overriding the exclusion"), validators=[Optional(), LONG]
    )


class RevokeForm(FlaskForm):
    caseworker = HiddenField(validators=[DataRequired()])


class IdentityRequestForm(PrefixedForm):
    form_prefix = "identity"

    reason = TextAreaField(
        _l("Why you need the reporter's identity, and the legal basis"),
        validators=[DataRequired(), LONG],
        description=_l(
            "A custodian reads this reason and decides. Every step is recorded in the audit log."
        ),
    )


class MinutesForm(PrefixedForm):
    form_prefix = "minutes"

    text = TextAreaField(_l("Revised minutes"), validators=[DataRequired(), LONG])


class ExportForm(PrefixedForm):
    form_prefix = "export"

    include_internal = BooleanField(_l("Include internal notes and assessments"), default=True)
    redactions = TextAreaField(
        _l("Passages to black out in this copy (optional)"),
        description=_l("One per line: names of third parties, anything that could identify "
                       "the reporter. Every occurrence is blacked out in the copy, whatever "
                       "its capitals; the case itself is not changed. What you type here is "
                       "not stored."),
        validators=[Optional(), LONG],
    )


class OralReportForm(FlaskForm):
    medium = SelectField(
        _l("How the report was made"), choices=options((m, MEDIUM_LABELS[m]) for m in MEDIUMS)
    )
    held_on = DateField(_l("Date of the call or meeting"), validators=[DataRequired()])
    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    minutes = TextAreaField(
        _l("Minutes or transcript"),
        validators=[DataRequired(), LONG],
        description=_l(
            "The reporter will be able to read these minutes with their receipt, correct them "
            "and agree them."
        ),
    )
    identity_name = StringField(
        _l("Reporter's name (only if they want to give it)"),
        validators=[Optional(), Length(max=200)],
    )
    identity_contact = StringField(
        _l("How to contact the reporter (only if they want to give it)"),
        validators=[Optional(), Length(max=500)],
    )
