"""The inbox filter (a GET form: it changes nothing, so it carries no CSRF token), the
content search and the bulk step."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from caseworker.choices import options


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), default="open", validate_choice=False)
    category = SelectField(_l("Category"), default="", validate_choice=False)
    assignee = SelectField(_l("Assigned to"), default="", validate_choice=False)
    label = SelectField(_l("Label"), default="", validate_choice=False)
    sort = SelectField(_l("Sort by"), default="due", validate_choice=False)
    due_soon = BooleanField(_l("Due within 7 days"))
    overdue = BooleanField(_l("Overdue"))
    unread = BooleanField(_l("New activity"))
    after = HiddenField()


class SearchForm(FlaskForm):
    """Words to find in the content of the cases one holds. Sent by POST, never in the URL:
    a URL goes into browser history and proxy logs, and search words are report data."""

    q = StringField(
        _l("Search the content of your cases"),
        validators=[DataRequired(_l("Type the words to search for.")), Length(max=200)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 200},
    )


class BulkForm(FlaskForm):
    """One step on the cases ticked in the inbox's table (the checkboxes are this form's
    ``case`` field, drawn in the table's rows)."""

    case = SelectMultipleField(_l("Cases"), choices=[], validate_choice=False)
    action = SelectField(
        _l("With the selected cases"),
        choices=options([
            ("assign", _l("Assign them to the colleague")),
            ("grant", _l("Give the colleague access")),
            ("label", _l("Add the label")),
        ]),
    )
    colleague = SelectField(_l("Colleague"), choices=[], validate_choice=False)
    label = StringField(_l("Label"), validators=[Optional(), Length(max=40)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "bulk")  # the filter form has a "label" of its own
        super().__init__(*args, **kwargs)
