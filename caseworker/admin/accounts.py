"""Admin pages for accounts: the list, one account, and the changes an administrator may
ask for. Whatever could give someone access to reports (a new account, roles, a reset) is
a request a second administrator approves (cases.accounts.approvals,
caseworker.admin.approvals_views);
names, sign-in locks and disabling apply at once, since they give no one access."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.accounts import administration as adm
from cases.accounts import approvals
from cases.accounts.administration import AdminRefused
from cases.accounts.approvals import Kind
from cases.casework.handover import held_only_by
from cases.models import Caseworker
from caseworker import templating, web
from caseworker.admin import forms as f
from caseworker.admin.views import bp
from caseworker.choices import options
from config.languages import NATIVE_NAMES


def _refused(exc: Exception) -> None:
    flash(_(str(exc)), "error")


def _new_form() -> f.NewCaseworkerForm:
    form = f.NewCaseworkerForm()
    form.language.choices = options(
        (code, NATIVE_NAMES.get(code, code)) for code in web.settings().caseworker_languages
    )
    return form


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _accounts_page(form: f.NewCaseworkerForm, status: int = 200) -> tuple[str, int]:
    db = web.db()
    people = list(db.scalars(select(Caseworker).order_by(Caseworker.username)))
    shows_names = web.store().policy(db).show_caseworker_names
    unnamed = [p for p in people if p.active and p.is_caseworker and not p.display_name]
    return render_template(
        "admin/caseworkers.html",
        people=people,
        unnamed=len(unnamed) if shows_names else 0,
        form=form,
        now=_now(),
    ), status


def _roles_of(form: f.NewCaseworkerForm | f.RolesForm) -> list[str]:
    pairs = (
        ("caseworker", form.is_caseworker.data),
        ("custodian", form.is_custodian.data),
        ("admin", form.is_admin.data),
    )
    return [name for name, on in pairs if on]


@bp.route("/caseworkers")
def caseworkers() -> tuple[str, int]:
    return _accounts_page(_new_form())


@bp.route("/caseworkers", methods=["POST"])
def create() -> Response | tuple[str, int]:
    form = _new_form()
    if not form.validate_on_submit():
        return _accounts_page(form, 400)
    db = web.db()
    username = (form.username.data or "").strip().lower()
    taken = db.scalar(select(Caseworker.id).where(Caseworker.username == username))
    valid = username.replace("-", "").replace("_", "").replace(".", "").isalnum()
    if taken is not None or not valid:
        form.username.errors = [
            _("This username is already taken.")
            if taken is not None
            else _("A username uses letters, digits, '-', '_' or '.' only.")
        ]
        return _accounts_page(form, 400)
    approvals.request(
        db, Kind.CREATE, actor_id=web.account().id, username=username,
        display_name=form.display_name.data or "", team=form.team.data or "",
        roles=_roles_of(form), language=form.language.data or "en",
    )
    flash(
        _(
            "The account is requested. Another administrator approves it and is shown the "
            "enrolment code to give to its owner."
        ),
        "success",
    )
    return redirect(url_for("admin.approvals"))


def _person(person_id: int) -> Caseworker:
    person = web.db().get(Caseworker, person_id)
    if person is None:
        abort(404)
    return person


@bp.route("/caseworkers/<int:person_id>")
def caseworker(person_id: int) -> str:
    person = _person(person_id)
    return render_template(
        "admin/caseworker.html",
        person=person,
        profile_form=f.ProfileForm(formdata=None, obj=person),
        roles_form=f.RolesForm(formdata=None, obj=person),
        disable_form=f.DisableForm(formdata=None),
        plain_form=f.PlainForm(),
        sole_cases=len(held_only_by(web.db(), person.id)),
        waiting=[c for c in approvals.pending(web.db()) if c.target_id == person.id],
        now=_now(),
    )


def _back(person: Caseworker) -> Response:
    return redirect(url_for("admin.caseworker", person_id=person.id))


@bp.route("/caseworkers/<int:person_id>/profile", methods=["POST"])
def profile(person_id: int) -> Response:
    person = _person(person_id)
    form = f.ProfileForm()
    if form.validate_on_submit():
        adm.set_profile(
            web.db(),
            person,
            display_name=form.display_name.data or "",
            team=form.team.data or "",
            actor_id=web.account().id,
        )
        flash(_("The names are saved."), "success")
    else:
        flash(_("A display name has at most 200 characters, a team at most 64."), "error")
    return _back(person)


def _ask(person: Caseworker, kind: Kind, **payload: Any) -> Response:
    try:
        with web.db().begin_nested():
            approvals.request(web.db(), kind, actor_id=web.account().id, target=person, **payload)
    except AdminRefused as exc:
        _refused(exc)
    else:
        flash(_("Requested: it applies when another administrator approves it."), "success")
    return _back(person)


@bp.route("/caseworkers/<int:person_id>/roles", methods=["POST"])
def roles(person_id: int) -> Response:
    person = _person(person_id)
    form = f.RolesForm()
    if not form.validate_on_submit():
        return _back(person)
    return _ask(person, Kind.ROLES, roles=_roles_of(form))


@bp.route("/caseworkers/<int:person_id>/reset-2fa", methods=["POST"])
def reset_2fa(person_id: int) -> Response:
    person = _person(person_id)
    if not f.PlainForm().validate_on_submit():
        return _back(person)
    return _ask(person, Kind.RESET_2FA)


@bp.route("/caseworkers/<int:person_id>/reset-passphrase", methods=["POST"])
def reset_passphrase(person_id: int) -> Response:
    person = _person(person_id)
    if not f.PlainForm().validate_on_submit():
        return _back(person)
    return _ask(person, Kind.RESET_PASSPHRASE)


@bp.route("/caseworkers/<int:person_id>/disable", methods=["POST"])
def disable(person_id: int) -> Response:
    person = _person(person_id)
    form = f.DisableForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm."), "error")
        return _back(person)
    db = web.db()
    try:
        with db.begin_nested():
            removed = adm.disable(db, web.settings(), person, actor_id=web.account().id)
    except AdminRefused as exc:
        _refused(exc)
    else:
        flash(templating.gettext(
            "The account is disabled; %(num)d case keys were deleted.", num=removed), "success")
    return _back(person)


@bp.route("/caseworkers/<int:person_id>/unlock", methods=["POST"])
def unlock(person_id: int) -> Response:
    person = _person(person_id)
    if f.PlainForm().validate_on_submit():
        adm.unlock(web.db(), person, actor_id=web.account().id)
        flash(_("The account can sign in again."), "success")
    return _back(person)
