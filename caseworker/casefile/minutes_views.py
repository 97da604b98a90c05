"""An oral report's minutes: revised minutes, and an agreement given in person, which one
caseworker records and a second witnesses (cases.reporting.minutes)."""

from __future__ import annotations

from flask_babel import gettext as _
from werkzeug.wrappers import Response

from cases.casework import writing
from cases.reporting import minutes as mn
from caseworker import web
from caseworker.casefile import forms as f
from caseworker.casefile.views import _act, _key, bp


@bp.route("/<case_id>/minutes", methods=["POST"])
def minutes(case_id: str) -> Response | tuple[str, int]:
    form = f.MinutesForm()
    return _act(
        case_id,
        form,
        "minutes_form",
        lambda case: writing.revise_minutes(
            web.db(), case, web.account(), _key(), form.text.data or ""
        ),
        _("The revised minutes are in the reporter's mailbox for agreement."),
        "thread",
    )


@bp.route("/<case_id>/minutes/in-person", methods=["POST"])
def record_in_person(case_id: str) -> Response | tuple[str, int]:
    return _act(
        case_id,
        f.PlainForm(),
        "plain_form",
        lambda case: mn.record_in_person_agreement(web.db(), case, web.account()),
        _("Recorded: the agreement counts when a second caseworker witnesses it."),
        "report",
    )


@bp.route("/<case_id>/minutes/in-person/witness", methods=["POST"])
def witness_in_person(case_id: str) -> Response | tuple[str, int]:
    return _act(
        case_id,
        f.PlainForm(),
        "plain_form",
        lambda case: mn.witness_in_person_agreement(web.db(), case, web.account(), _key()),
        _("Witnessed: the minutes are agreed in person."),
        "report",
    )


@bp.route("/<case_id>/minutes/in-person/withdraw", methods=["POST"])
def withdraw_in_person(case_id: str) -> Response | tuple[str, int]:
    return _act(
        case_id,
        f.PlainForm(),
        "plain_form",
        lambda case: mn.withdraw_in_person_agreement(web.db(), case, web.account()),
        _("The agreement in person is withdrawn."),
        "report",
    )
