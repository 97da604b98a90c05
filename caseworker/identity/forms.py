"""The custodian's decision on an identity request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class DecisionForm(FlaskForm):
    approve = SubmitField(_l("Approve: share the identity with this caseworker"))
    deny = SubmitField(_l("Deny"))
