"""Forms the whole back office shares (a blueprint's own forms sit beside its views)."""

from __future__ import annotations

from flask_wtf import FlaskForm


class PlainForm(FlaskForm):
    """A form with nothing but its CSRF token: for buttons that change something."""
