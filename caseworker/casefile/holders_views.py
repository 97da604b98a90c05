"""Who holds a case's keys (grant, removal with a second person's agreement, stepping
away) and the review of a closure: the rules are in cases.casework.holders."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from cases.casework import holders as hd
from cases.casework.access import CaseworkRefused
from cases.keyring import Trust
from caseworker import web
from caseworker.casefile import forms as f
from caseworker.casefile.views import _act, _case, _key, _render, bp


def _number(value: str | None) -> int:
    return int(value) if value and value.isdigit() else -1


@bp.route("/<case_id>/grant", methods=["POST"])
def grant(case_id: str) -> Response | tuple[str, int]:
    form = f.GrantForm()
    return _act(
        case_id,
        form,
        "grant_form",
        lambda case: hd.grant(
            web.db(),
            Trust.of(web.settings()),
            case,
            web.account(),
            _key(),
            _number(form.caseworker.data),
            override_exclusion=bool(form.override.data),
            override_reason=form.override_reason.data or "",
        ),
        _("Access granted: the case keys are now wrapped to this caseworker."),
        "access",
    )


@bp.route("/<case_id>/revoke", methods=["POST"])
def revoke(case_id: str) -> Response | tuple[str, int]:
    form = f.RevokeForm()
    return _act(
        case_id,
        form,
        "plain_form",
        lambda case: hd.request_removal(
            web.db(), case, web.account(), _number(form.caseworker.data)
        ),
        _(
            "Removal asked for: it applies when another caseworker on the case, or the one "
            "to be removed, agrees."
        ),
        "access",
    )


@bp.route("/<case_id>/removals/<int:removal_id>/agree", methods=["POST"])
def agree_to_removal(case_id: str, removal_id: int) -> Response | tuple[str, int]:
    return _act(
        case_id,
        f.PlainForm(),
        "plain_form",
        lambda case: hd.agree_to_removal(web.db(), case, web.account(), removal_id),
        _("Access removed: that caseworker's keys to the case are deleted, and they are told."),
        "access",
    )


@bp.route("/<case_id>/removals/<int:removal_id>/refuse", methods=["POST"])
def refuse_removal(case_id: str, removal_id: int) -> Response | tuple[str, int]:
    return _act(
        case_id,
        f.PlainForm(),
        "plain_form",
        lambda case: hd.refuse_removal(web.db(), case, web.account(), removal_id),
        _("The request is closed: nobody's access changed."),
        "access",
    )


@bp.route("/<case_id>/conflict", methods=["POST"])
def conflict(case_id: str) -> Response | tuple[str, int]:
    form = f.PlainForm()
    case = _case(case_id)
    if not form.validate_on_submit():
        return _render(case, 400)
    db = web.db()
    try:
        with db.begin_nested():
            hd.declare_conflict(db, case, web.account())
    except CaseworkRefused as exc:
        flash(_(str(exc)), "error")
        return _render(case, 400)
    flash(_("You have stepped away from the case: your keys to it are deleted."), "success")
    return redirect(url_for("inbox.index"))


@bp.route("/<case_id>/review-closure", methods=["POST"])
def review_closure(case_id: str) -> Response | tuple[str, int]:
    return _act(
        case_id,
        f.PlainForm(),
        "plain_form",
        lambda case: hd.review_closure(web.db(), case, web.account()),
        _("The closure is reviewed: the case is deleted when its retention period ends."),
        "workflow",
    )
