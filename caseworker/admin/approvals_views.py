"""The requests waiting for a second administrator (cases.accounts.approvals): each can be approved
by any other administrator, or withdrawn by the one who asked. Approving a new account or
a passphrase reset shows the enrolment code once, to the approver."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from cases.accounts import approvals
from cases.accounts.administration import AdminRefused
from cases.models import AdminChange
from caseworker import web
from caseworker.admin import forms as f
from caseworker.admin.views import bp

KIND_WORDS = {
    "create": _l("New account"),
    "roles": _l("Change of roles"),
    "members": _l("Change of routing"),
    "reset_2fa": _l("Reset of two-step sign-in"),
    "reset_passphrase": _l("Reset of a lost passphrase (the account's key is destroyed)"),
}
ROLE_WORDS = {
    "caseworker": _l("caseworker"),
    "custodian": _l("custodian"),
    "admin": _l("administrator"),
}


def describe(change: AdminChange, people: dict[int, str], categories: dict[int, str]) -> str:
    """The request in words, for the approver (names as the back office shows them)."""
    data = approvals.payload_of(change)
    roles = ", ".join(str(ROLE_WORDS[r]) for r in data.get("roles", []) if r in ROLE_WORDS)
    if change.kind == "create":
        return str(_(
            "%(name)s (username %(username)s), roles: %(roles)s",
            name=data.get("display_name") or "—",
            username=data.get("username", "?"),
            roles=roles or "—",
        ))
    if change.kind == "members":
        names = ", ".join(people.get(int(m), "?") for m in data.get("members", []))
        return str(_(
            "Category %(category)s to: %(members)s",
            category=categories.get(change.category_id or 0, "?"),
            members=names or "—",
        ))
    who = people.get(change.target_id or 0, "?")
    if change.kind == "roles":
        return str(_("%(name)s, roles: %(roles)s", name=who, roles=roles or "—"))
    return who


def approvals_page() -> str:
    db = web.db()
    categories, people = web.lookup_names()
    waiting = [
        (change, str(KIND_WORDS.get(change.kind, change.kind)),
         describe(change, people, categories))
        for change in approvals.pending(db)
    ]
    return render_template(
        "admin/approvals.html", waiting=waiting, people=people, form=f.PlainForm()
    )


bp.add_url_rule("/approvals", endpoint="approvals", view_func=approvals_page)


def _change(change_id: int) -> AdminChange:
    change = web.db().get(AdminChange, change_id)
    if change is None:
        abort(404)
    return change


@bp.route("/approvals/<int:change_id>/approve", methods=["POST"])
def approve(change_id: int) -> str | Response:
    change = _change(change_id)
    if not f.PlainForm().validate_on_submit():
        return redirect(url_for("admin.approvals"))
    db = web.db()
    try:
        with db.begin_nested():
            decision = approvals.approve(db, web.settings(), change, approver_id=web.account().id)
    except AdminRefused as exc:
        flash(_(str(exc)), "error")
        return redirect(url_for("admin.approvals"))
    if decision.enrolment_code is not None and decision.account is not None:
        return render_template(
            "admin/enrolment_code.html", person=decision.account, code=decision.enrolment_code
        )
    flash(_("Approved: the change applies now."), "success")
    return redirect(url_for("admin.approvals"))


@bp.route("/approvals/<int:change_id>/deny", methods=["POST"])
def deny(change_id: int) -> Response:
    change = _change(change_id)
    if f.PlainForm().validate_on_submit():
        try:
            with web.db().begin_nested():
                approvals.deny(web.db(), change, actor_id=web.account().id)
        except AdminRefused as exc:
            flash(_(str(exc)), "error")
        else:
            flash(_("The request is closed; nothing was changed."), "success")
    return redirect(url_for("admin.approvals"))

