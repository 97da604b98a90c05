"""Identity custodians: decide caseworkers' requests for a reporter's identity.

Approving re-wraps the key of each identity record the custodian holds to the requester;
denying records the decision. Custodians see the request (case reference, requester,
reason), never the case content by virtue of the role."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from cases.casework import identity as ia
from cases.casework.access import CaseworkRefused
from cases.keyring import NoAccess, Trust
from cases.models import IdentityRequest
from caseworker import web
from caseworker.identity.forms import DecisionForm

bp = Blueprint("identity", __name__, url_prefix="/identity-requests")
bp.before_request(web.require_role("custodian"))


@bp.route("")
def index() -> str:
    db = web.db()
    account = web.account()
    key = web.private_key()
    pending = [
        (
            request,
            ia.request_reason(db, request, account, key),
            ia.custodian_identity_access(db, request.case_id, account.id),
        )
        for request in ia.pending_identity_requests(db, account)
    ]
    _categories, people = web.lookup_names()
    return render_template(
        "identity/index.html", pending=pending, people=people, form=DecisionForm(formdata=None)
    )


@bp.route("/<int:request_id>", methods=["POST"])
def decide(request_id: int) -> Response:
    form = DecisionForm()
    db = web.db()
    request = db.get(IdentityRequest, request_id)
    if request is None:
        abort(404)
    if not form.validate_on_submit():
        return redirect(url_for("identity.index"))
    approve = bool(form.approve.data)
    try:
        with db.begin_nested():
            ia.decide_identity_request(
                db, Trust.of(web.settings()), request, web.account(), web.private_key(),
                approve=approve,
            )
    except NoAccess:
        abort(403)
    except CaseworkRefused as exc:
        flash(_(str(exc)), "error")
    else:
        flash(_("The request is approved.") if approve else _("The request is denied."), "success")
    return redirect(url_for("identity.index"))
