"""The report form, built per request from what the organisation configured: categories,
optional questions, and the caseworkers a reporter may exclude.

The form never stores anything on the server before the final submit: between the steps
its values travel in the page itself (hidden fields on the review page), with a keyed
digest so the final submit is known to be exactly what the reporter reviewed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

try:  # WTForms >= 3.3 wants SelectChoice objects; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice

    def _choices(pairs: list[tuple[str, str]]) -> list[Any]:
        return [SelectChoice(value, label) for value, label in pairs]
except ImportError:  # pragma: no cover

    def _choices(pairs: list[tuple[str, str]]) -> list[Any]:
        return pairs


from cases import bodies
from cases.bodies import Answer, ReportBody
from cases.reporting.submission import routed_caseworkers
from intake.fields import (
    SHORT_CHARS,
    identity_contact_field,
    identity_details,
    identity_name_field,
    identity_other_field,
    normalise_newlines,
)
from intake.i18n import current_language
from intake.report.options import FormOptions, QuestionSpec
from intake.work import settings

HONEYPOT = "website"  # a name naive bots like to fill


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _t(spec: QuestionSpec, text: str) -> str:
    return _(text) if spec.builtin and text else text


class TextLimit:
    """Length check that remembers an oversize value, so the view can answer 413."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, form: ReportForm, field: Field) -> None:
        value = field.data or ""
        if len(value) > self.limit:
            form.too_long = True
            raise ValidationError(
                _(
                    "This text has %(count)d characters; the limit is %(limit)d. "
                    "Shorten it, or put the rest "
                    "in a file or in a message after sending.",
                    count=len(value),
                    limit=self.limit,
                )
            )


def _required(form: ReportForm, field: Field) -> None:
    if not (field.data or "").strip():
        raise ValidationError(
            _("Describe what happened. This is the only part of the form you must fill in.")
        )


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every POST of the app
        locales = False

    too_long = False
    options: FormOptions

    description = TextAreaField(
        _l("What happened?"),
        filters=[normalise_newlines],
        description=_l(
            "Describe the wrongdoing in your own words: what, who, when, where. Include what is "
            "needed to understand it, and no more."
        ),
    )
    identity_name = identity_name_field()
    identity_contact = identity_contact_field()
    identity_other = identity_other_field()
    website = StringField(_l("Leave this field empty"))  # the honeypot

    def question_fields(self) -> list[tuple[QuestionSpec, Field]]:
        return [(q, self[f"q_{q.key}"]) for q in self.options.questions]

    def identity_fields(self) -> list[Field]:
        return [self.identity_name, self.identity_contact, self.identity_other]

    @property
    def honeypot_filled(self) -> bool:
        return bool((self.website.data or "").strip())

    # -- values for storage -------------------------------------------------------
    def category_slug(self) -> str | None:
        return (self.category.data or None) if "category" in self else None

    def excluded_ids(self) -> list[int]:
        return self.options.excluded_ids(self.exclude.data or []) if "exclude" in self else []

    def report_body(self) -> ReportBody:
        answers: list[Answer] = []
        for spec, fld in self.question_fields():
            value = (fld.data or "").strip()
            if not value:
                continue
            question = spec.recorded_label or spec.label  # the default language's
            answers.append({"key": spec.key, "question": question, "answer": value})
        return bodies.report(
            self.description.data.strip(), answers, language=current_language()
        )

    def identity(self) -> dict[str, str] | None:
        details = identity_details(
            self.identity_name.data, self.identity_contact.data, self.identity_other.data
        )
        return details or None

    def answer_text(self, spec: QuestionSpec, value: str) -> str:
        """How an answer reads on the review page (choices translated back)."""
        for key, label in spec.choices:
            if key == value:
                return _t(spec, label)
        return value

    # -- carrying values through the review page ---------------------------------
    def carried(self) -> list[tuple[str, str]]:
        """(name, value) pairs to re-send as hidden fields, in a stable order."""
        pairs: list[tuple[str, str]] = []
        for fld in self:
            if fld.name in (HONEYPOT, "review_token", "submission_id"):
                continue
            data = fld.data
            if isinstance(data, list):
                pairs.extend((fld.name, str(v)) for v in data)
            elif data not in (None, ""):
                pairs.append((fld.name, str(data)))
        return pairs

    def digest(self, submission_id: str) -> str:
        key = hashlib.blake2b(current_app.config["SECRET_KEY"], person=b"sealbox-review").digest()
        payload = json.dumps(
            [submission_id, self.carried()], ensure_ascii=False, separators=(",", ":")
        )
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()

    def check_digest(self, submission_id: str, token: str) -> bool:
        return bool(submission_id) and hmac.compare_digest(self.digest(submission_id), token or "")


def new_submission_id() -> str:
    return secrets.token_urlsafe(16)


def _question_field(spec: QuestionSpec, max_chars: int) -> Field:
    """One of the instance's own questions, labelled in the reporter's language."""
    label = _t(spec, spec.label)
    description = _t(spec, spec.help_text)
    if spec.kind == "choice":
        return RadioField(
            label,
            choices=_choices([("", _("No answer"))] + [(k, _t(spec, v)) for k, v in spec.choices]),
            default="",
            description=description,
        )
    if spec.kind == "textarea":
        return TextAreaField(
            label,
            description=description,
            filters=[normalise_newlines],
            validators=[TextLimit(max_chars)],
        )
    return StringField(label, description=description, validators=[TextLimit(SHORT_CHARS)])


def build_form(options: FormOptions, formdata: Any = None) -> ReportForm:
    """A ReportForm class with this instance's fields, bound to ``formdata``."""
    instance = settings()
    attrs: dict[str, Any] = {}
    if options.categories:
        attrs["category"] = RadioField(
            _l("What is your report about?"),
            choices=_choices(
                [("", _("I am not sure"))] + [(c.slug, c.name) for c in options.categories]
            ),
            default="",
            validate_choice=True,
        )
    for spec in options.questions:
        attrs[f"q_{spec.key}"] = _question_field(spec, instance.max_report_chars)
    exclusion = options.exclusion_choices()
    if len(options.caseworkers) > 1 and len(exclusion) > 1:
        by_team = not options.show_names
        attrs["exclude"] = MultiCheckboxField(
            _l("Is a team that handles reports involved?")
            if by_team
            else _l("Is someone who handles reports involved?"),
            choices=_choices(exclusion),
            description=_l(
                "Tick any team that must not see your report. Nobody in it will get access "
                "to it. Leave all unticked if no team here is involved."
            )
            if by_team
            else _l(
                "Tick anyone who must not see your report. They will get no access to it. "
                "Leave all unticked if no one here is involved."
            ),
            coerce=str,
        )
    attrs["review_token"] = HiddenField()
    attrs["submission_id"] = HiddenField()
    cls = type("InstanceReportForm", (ReportForm,), attrs)
    form: ReportForm = cls(formdata=formdata) if formdata is not None else cls(formdata=None)
    form.options = options
    form.description.validators = [_required, TextLimit(instance.max_report_chars)]
    return form


def validate_routing(form: ReportForm, session: Session) -> bool:
    """At least one caseworker must be left to read the report after exclusions."""
    if "exclude" not in form or not form.exclude.data:
        return True
    category_id = None
    slug = form.category_slug()
    for c in form.options.categories:
        if c.slug == slug:
            category_id = c.id
    if routed_caseworkers(session, category_id, set(form.excluded_ids())):
        return True
    form.exclude.errors = [*form.exclude.errors, nobody_left()]
    return False


def nobody_left() -> str:
    """Why a routing is refused when the exclusions leave no caseworker (both routes)."""
    return str(_(
        "If you exclude everyone who handles this kind of report, nobody could read it. "
        "Exclude fewer people, or choose another subject."
    ))
