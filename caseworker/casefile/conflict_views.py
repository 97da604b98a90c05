"""Stepping away from a case with a conflict of interest: a page that says what will
happen, then the step. Unlike the other actions on a case (caseworker.casefile.actions) it
ends on the inbox, since the caseworker no longer holds the case. The rule is in
cases.casework.holders."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from cases.casework import holders as hd
from cases.casework.access import CaseworkRefused
from caseworker import web
from caseworker.casefile import forms as f
from caseworker.casefile.views import _case, _render, bp


@bp.route("/<case_id>/conflict", methods=["GET", "POST"])
def conflict(case_id: str) -> str | Response | tuple[str, int]:
    """GET: what stepping away does, and the button. POST: step away."""
    form = f.PlainForm()
    case = _case(case_id)
    if request.method == "GET":
        holders = hd.holder_accounts(web.db(), case.id)
        return render_template("casefile/conflict.html", case=case, holders=holders)
    if not form.validate_on_submit():
        return _render(case, 400, "access")
    db = web.db()
    try:
        with db.begin_nested():
            hd.declare_conflict(db, case, web.account())
    except CaseworkRefused as exc:
        flash(_(str(exc)), "error")
        return _render(case, 400, "access")
    flash(_("You have stepped away from the case: your keys to it are deleted."), "success")
    return redirect(url_for("inbox.index"))
