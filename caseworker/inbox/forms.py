"""The inbox filter (a GET form: it changes nothing, so it carries no CSRF token) and the
content search."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length


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
