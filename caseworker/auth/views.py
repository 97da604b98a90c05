"""Sign-in: username and passphrase (which unwraps the private key), then the mandatory
second factor (TOTP, enrolled on first sign-in, or a one-time recovery code); sign-out."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from cases.accounts import enrolment as accounts
from cases.accounts.approvals import account_events
from cases.accounts.security_keys import keys_of
from cases.accounts.sessions import (
    ActiveSession,
    LoginThrottle,
    Stage,
    check_passphrase,
    end_all_sessions,
    end_session,
    open_session,
    promote,
)
from cases.accounts.twofactor import (
    check_totp,
    display_secret,
    enable_totp,
    new_recovery_codes,
    new_totp_secret,
    open_pending_secret,
    provisioning_uri,
    remaining_recovery_codes,
    seal_pending_secret,
    use_recovery_code,
)
from cases.models import AuditEntry, utcnow
from cases.notifications.outbox import ACCOUNT_LOCKED, alert_admins
from cases.records.audit import record
from caseworker import web
from caseworker.auth.forms import CodeForm, EnrolmentForm, KeyAnswerForm, LoginForm, RecoveryForm
from caseworker.limits import limit_sign_in
from caseworker.templating import ngettext

bp = Blueprint("auth", __name__)


def set_session_cookie(response: Response, value: str) -> Response:
    response.set_cookie(
        web.cookie_name(),
        value,
        httponly=True,
        samesite="Strict",
        secure=web.settings().require_https_cookies,
        path="/",
    )
    return response


def clear_session_cookie(response: Response) -> Response:
    response.delete_cookie(
        web.cookie_name(),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=web.settings().require_https_cookies,
    )
    return response


def _locked_message() -> str:
    minutes = web.settings().lockout_minutes
    return str(ngettext(
        "Too many failed attempts: sign-in to this account is paused for %(num)d minute. "
        "An administrator can lift the pause.",
        "Too many failed attempts: sign-in to this account is paused for %(num)d minutes. "
        "An administrator can lift the pause.",
        minutes,
    ))


def _next() -> str:
    return web.safe_next(request.args.get("next"), url_for("inbox.index"))


def _pending(stage: Stage) -> ActiveSession | None:
    session = web.active()
    if session is None or session.stage is not stage:
        return None
    return session


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if web.current_account() is not None:
        return redirect(_next())
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        limit_sign_in("passphrase")
        db = web.db()
        result = check_passphrase(
            db, web.settings(), web.throttle(), form.username.data or "", form.passphrase.data or ""
        )
        if result.account is not None and result.private_key is not None:
            previous = web.active()
            if previous is not None:
                end_session(db, previous.row)
            stage = Stage.TOTP if result.account.totp_secret_enc else Stage.ENROL
            _row, cookie = open_session(
                db, web.settings(), result.account, result.private_key, stage
            )
            record(db, "login.passphrase_accepted", actor_id=result.account.id)
            target = "auth.second_factor" if stage is Stage.TOTP else "auth.enrol"
            response = redirect(url_for(target, next=request.args.get("next")))
            return set_session_cookie(response, cookie)
        error = (
            _locked_message() if result.locked else _("The username or passphrase is not right.")
        )
    notice = None
    if request.args.get("signed_out"):
        notice = _("You have signed out.")
    elif request.cookies.get(web.cookie_name()) and web.active() is None:
        notice = _("Your session has ended. Please sign in again.")
    response = make_response(
        render_template("auth/login.html", form=form, error=error, notice=notice)
    )
    if request.cookies.get(web.cookie_name()) and web.active() is None:
        clear_session_cookie(response)
    return response


def _complete(session: ActiveSession, method: str) -> str:
    """Second factor passed: rotate to a full session (new token, new cookie key), report
    past failures, and return the new session cookie."""
    db = web.db()
    account = session.account
    failures = LoginThrottle.record_success(account)
    _row, cookie = promote(db, web.settings(), session)
    previous = db.scalar(
        select(func.max(AuditEntry.id)).where(
            AuditEntry.action == "login.succeeded", AuditEntry.actor_id == account.id
        )
    )
    if previous is not None and account_events(db, account.id, since_id=previous):
        flash(
            _(
                "Since you last signed in, someone else changed your account. "
                "See “My account”, and tell another administrator if you did not expect it."
            ),
            "warning",
        )
    record(db, "login.succeeded", actor_id=account.id, method=method)
    if failures:
        flash(
            ngettext(
                "There was %(num)d failed sign-in attempt on your account since you last "
                "signed in. If it was not you, tell your administrator.",
                "There were %(num)d failed sign-in attempts on your account since you last "
                "signed in. If it was not you, tell your administrator.",
                failures,
            ),
            "warning",
        )
    g.cw = None
    return cookie


def count_failure(session: ActiveSession, event: str) -> Response | None:
    """Count a wrong passphrase or code against the account's lockout, whether it was
    typed at sign-in or on the account page of a session someone else may be using. On
    lockout every session of the account ends and the browser goes back to sign-in."""
    db = web.db()
    account = session.account
    locked = web.throttle().record_failure(account, account.username, utcnow())
    record(db, event, actor_id=account.id, locked=locked)
    if locked:
        alert_admins(db, ACCOUNT_LOCKED, web.settings())
        return _locked_out(session)
    return None


def refuse_if_locked(session: ActiveSession) -> Response | None:
    if web.throttle().is_locked(session.account, session.account.username, utcnow()):
        return _locked_out(session)
    return None


def _locked_out(session: ActiveSession) -> Response:
    end_all_sessions(web.db(), session.account.id)
    flash(_locked_message(), "error")
    return clear_session_cookie(redirect(url_for("auth.login")))


def key_sign_in_offered(session: ActiveSession) -> bool:
    """Whether the account has a security key to sign in with (caseworker.auth.key_views)."""
    return bool(keys_of(web.db(), session.account.id))


def _totp_barred(session: ActiveSession) -> bool:
    """The policy: custodians and administrators who have a key sign in with it."""
    account = session.account
    required = web.store().policy(web.db()).require_security_keys
    privileged = account.is_admin or account.is_custodian
    return required and privileged and key_sign_in_offered(session)


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> Response | str:
    session = _pending(Stage.TOTP)
    if session is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    error = None
    barred = _totp_barred(session)
    if form.validate_on_submit() and barred:
        error = _("Your account signs in with its security key, not with a code.")
    elif form.validate_on_submit():
        limit_sign_in("second-factor")
        refused = refuse_if_locked(session)
        if refused is not None:
            return refused
        if check_totp(web.db(), web.settings().server_key, session.account, form.code.data or ""):
            return set_session_cookie(redirect(_next()), _complete(session, "totp"))
        refused = count_failure(session, "login.second_factor_failed")
        if refused is not None:
            return refused
        error = _("That code is not right, or it has already been used. Wait for a new code.")
    return render_template("auth/second_factor.html", form=form, error=error, barred=barred,
                           key_form=KeyAnswerForm(formdata=None),
                           keys=key_sign_in_offered(session))


@bp.route("/login/recovery", methods=["GET", "POST"])
def recovery() -> Response | str:
    session = _pending(Stage.TOTP)
    if session is None:
        return redirect(url_for("auth.login"))
    form = RecoveryForm()
    error = None
    if form.validate_on_submit():
        limit_sign_in("second-factor")
        refused = refuse_if_locked(session)
        if refused is not None:
            return refused
        db = web.db()
        server_key = web.settings().server_key
        if use_recovery_code(db, server_key, session.account, form.code.data or ""):
            left = remaining_recovery_codes(db, session.account.id)
            record(db, "login.recovery_code_used", actor_id=session.account.id, remaining=left)
            flash(
                ngettext(
                    "You used a recovery code. %(num)d code is left: make new ones on your "
                    "account page.",
                    "You used a recovery code. %(num)d codes are left: make new ones on your "
                    "account page if you are running low.",
                    left,
                ),
                "warning",
            )
            return set_session_cookie(redirect(_next()), _complete(session, "recovery_code"))
        refused = count_failure(session, "login.second_factor_failed")
        if refused is not None:
            return refused
        error = _("That recovery code is not right, or it has already been used.")
    return render_template("auth/recovery.html", form=form, error=error)


def qr_data_uri(uri: str) -> str:
    """The otpauth URI as a QR code, drawn here (SVG data URI): nothing leaves the server."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol() -> Response | str:
    session = _pending(Stage.ENROL)
    if session is None:
        return redirect(url_for("auth.login"))
    settings = web.settings()
    db = web.db()
    if session.row.pending_totp_enc is None:
        secret = new_totp_secret()
        session.row.pending_totp_enc = seal_pending_secret(
            settings.server_key, session.session_id, secret
        )
    else:
        secret = open_pending_secret(
            settings.server_key, session.session_id, session.row.pending_totp_enc
        )
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        limit_sign_in("second-factor")
        refused = refuse_if_locked(session)
        if refused is not None:
            return refused
        account = session.account
        if enable_totp(settings.server_key, account, secret, form.code.data or ""):
            codes = new_recovery_codes(db, settings.server_key, account)
            record(db, "caseworker.second_factor_enrolled", actor_id=account.id)
            cookie = _complete(session, "enrolment")
            page = render_template("auth/recovery_codes.html", codes=codes, next_url=_next())
            return set_session_cookie(make_response(page), cookie)
        refused = count_failure(session, "login.second_factor_failed")
        if refused is not None:
            return refused
        error = _("That code is not right. Check the clock of your phone and try the next code.")
    uri = provisioning_uri(secret, session.account.username, settings.organisation_name)
    return render_template(
        "auth/enrol.html",
        form=form,
        error=error,
        qr=qr_data_uri(uri),
        secret=display_secret(secret),
    )


@bp.route("/enrol", methods=["GET", "POST"])
def first_sign_in() -> Response | str | tuple[str, int]:
    """Sign in for the first time with an enrolment code: the owner chooses the passphrase
    and the account's key pair is made now (cases.accounts.enrolment). Then the second factor."""
    form = EnrolmentForm()
    error = None
    if form.validate_on_submit():
        limit_sign_in("enrolment")
        db = web.db()
        enrolled = accounts.enrol(
            db, web.settings(), form.username.data or "", form.code.data or "",
            form.passphrase.data or "",
        )
        if enrolled is not None:
            account, private_key = enrolled
            _row, cookie = open_session(db, web.settings(), account, private_key, Stage.ENROL)
            return set_session_cookie(redirect(url_for("auth.enrol")), cookie)
        error = _(
            "The username or the enrolment code is not right, or the code has expired. "
            "An administrator can ask for a new one."
        )
    status = 400 if form.is_submitted() else 200
    return render_template("auth/first_sign_in.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    session = web.active()
    if session is not None:
        record(web.db(), "logout", actor_id=session.account.id)
        end_session(web.db(), session.row)
    response = redirect(url_for("auth.login", signed_out=1))
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return clear_session_cookie(response)
