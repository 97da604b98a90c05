"""Security keys (WebAuthn) through the back office (the rule: cases.accounts.security_keys):
signing in with one as the second factor, and adding and removing one's own on the account
page. The options come by a POST that carries the form's CSRF token in a header; the key's
answer comes back in the form, which works like any other."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from cases.accounts import security_keys as sk
from cases.accounts.sessions import ActiveSession, Stage
from caseworker import web
from caseworker.account.views import bp as account_bp
from caseworker.auth.forms import CodeForm, KeyAnswerForm, SecurityKeyForm
from caseworker.auth.views import (
    _complete,
    _next,
    _pending,
    _totp_barred,
    count_failure,
    key_sign_in_offered,
    refuse_if_locked,
    set_session_cookie,
)
from caseworker.auth.views import bp as auth_bp
from caseworker.forms import PlainForm
from caseworker.limits import limit_sign_in


def _options_reply(options: str | None) -> Response:
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except (ValidationError, CSRFError):
        abort(400)
    if options is None:
        abort(404)
    return Response(options, mimetype="application/json")


@auth_bp.route("/login/key/options", methods=["POST"])
def key_options() -> Response:
    session = _pending(Stage.TOTP)
    if session is None:
        abort(403)
    limit_sign_in("second-factor")
    options = sk.authentication_options(web.db(), web.relying_party(), session.account,
                                        session.row)
    return _options_reply(options)


@auth_bp.route("/login/key", methods=["POST"])
def key_sign_in() -> Response | str | tuple[str, int]:
    session = _pending(Stage.TOTP)
    if session is None:
        return redirect(url_for("auth.login"))
    form = KeyAnswerForm()
    if not form.validate_on_submit():
        return _second_factor_page(session, _("Your browser sent no answer from a security "
                                              "key: it needs JavaScript for this.")), 400
    limit_sign_in("second-factor")
    refused = refuse_if_locked(session)
    if refused is not None:
        return refused
    if sk.authenticate(web.db(), web.relying_party(), session.account, session.row,
                       form.answer.data or ""):
        return set_session_cookie(redirect(_next()), _complete(session, "security_key"))
    refused = count_failure(session, "login.second_factor_failed")
    if refused is not None:
        return refused
    return _second_factor_page(session, _("That security key was not accepted.")), 400


def _second_factor_page(session: ActiveSession, error: str) -> str:
    return render_template("auth/second_factor.html", form=CodeForm(formdata=None),
                           error=error, key_form=KeyAnswerForm(formdata=None),
                           keys=key_sign_in_offered(session), barred=_totp_barred(session))


@account_bp.route("/security-keys/options", methods=["POST"])
def add_key_options() -> Response:
    try:
        options = sk.registration_options(web.db(), web.relying_party(), web.account(),
                                          _full().row)
    except sk.KeyRefused:
        options = None
    return _options_reply(options)


@account_bp.route("/security-keys", methods=["POST"])
def add_key() -> Response:
    form = SecurityKeyForm()
    if form.validate_on_submit():
        try:
            with web.db().begin_nested():
                sk.register(web.db(), web.relying_party(), web.account(), _full().row,
                            form.answer.data or "", form.name.data or "")
        except sk.KeyRefused as exc:
            flash(_(str(exc)), "error")
        else:
            flash(_("The security key is added: you can sign in with it."), "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
    return redirect(url_for("account.index") + "#keys")


@account_bp.route("/security-keys/<int:key_id>/remove", methods=["POST"])
def remove_key(key_id: int) -> Response:
    if not PlainForm().validate_on_submit():
        abort(400)
    try:
        sk.remove_key(web.db(), web.account(), key_id)
    except sk.KeyRefused as exc:
        flash(_(str(exc)), "error")
    else:
        flash(_("The security key is removed."), "success")
    return redirect(url_for("account.index") + "#keys")


def _full() -> ActiveSession:
    session = web.active()
    if session is None:
        abort(403)
    return session
