"""The caseworker's own account: language, passphrase, recovery codes, sessions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from cases.accounts import AccountError, change_passphrase
from cases.audit import record
from cases.sessions import ActiveSession, Stage, end_all_sessions, open_session, session_count
from cases.twofactor import check_totp, new_recovery_codes, remaining_recovery_codes
from caseworker import LANGUAGE_NAMES, web
from caseworker.account.forms import ConfirmCodeForm, LanguageForm, PassphraseForm, PlainForm
from caseworker.auth.views import (
    clear_session_cookie,
    count_failure,
    refuse_if_locked,
    set_session_cookie,
)
from caseworker.choices import options
from caseworker.limits import limit_sign_in
from crypto import WrongPassphrase, key_fingerprint, verify_password

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
def _signed_in() -> Response | None:
    if web.current_account() is None:
        return redirect(url_for("auth.login"))
    return None


def _language_form() -> LanguageForm:
    form = LanguageForm()
    form.language.choices = options(
        (code, LANGUAGE_NAMES.get(code, code)) for code in web.settings().caseworker_languages
    )
    return form


def _page(
    language_form: LanguageForm | None = None,
    passphrase_form: PassphraseForm | None = None,
    codes_form: ConfirmCodeForm | None = None,
) -> str:
    account = web.account()
    if language_form is None:
        language_form = _language_form()
        language_form.language.data = account.language
    return render_template(
        "account/index.html",
        account=account,
        language_form=language_form,
        passphrase_form=passphrase_form or PassphraseForm(formdata=None),
        codes_form=codes_form or ConfirmCodeForm(formdata=None),
        plain_form=PlainForm(),
        recovery_left=remaining_recovery_codes(web.db(), account.id),
        fingerprint=key_fingerprint(account.public_key),
        sessions=session_count(web.db(), account.id),
    )


@bp.route("")
def index() -> str:
    return _page()


@bp.route("/language", methods=["POST"])
def language() -> Response | str:
    form = _language_form()
    if form.validate_on_submit():
        account = web.account()
        account.language = form.language.data or "en"
        record(web.db(), "caseworker.language_changed", actor_id=account.id)
        return redirect(url_for("account.index"))
    return _page(language_form=form)


def _guarded(form: FlaskForm) -> Response | None:
    """A form that takes a secret (passphrase, code) is throttled like sign-in: per
    client, and a locked account answers nothing here either (auth.views)."""
    if form.is_submitted():
        limit_sign_in("account")
    return refuse_if_locked(_session())


def _session() -> ActiveSession:
    session = web.active()
    if session is None:
        abort(401)
    return session


@bp.route("/passphrase", methods=["POST"])
def passphrase() -> Response | tuple[str, int]:
    form = PassphraseForm()
    account = web.account()
    refused = _guarded(form)
    if refused is not None:
        return refused
    if form.validate_on_submit():
        db = web.db()
        current = form.current.data or ""
        new = form.new.data or ""
        if not verify_password(account.password_hash, current):
            locked_out = count_failure(_session(), "caseworker.passphrase_change_refused")
            if locked_out is not None:
                return locked_out
            form.current.errors = [_("This is not your current passphrase.")]
        elif new.strip().lower() == account.username or new == current:
            form.new.errors = [_("Choose a new passphrase that is not your username.")]
        else:
            key = web.private_key()
            try:
                change_passphrase(db, web.settings(), account, current, new)
            except (AccountError, WrongPassphrase):
                form.new.errors = [_("This passphrase cannot be used.")]
            else:
                # Every session ended, this one too: open a fresh one for this browser.
                _row, cookie = open_session(db, web.settings(), account, key, Stage.FULL)
                flash(
                    _("Your passphrase has been changed. Your other sessions have ended."),
                    "success",
                )
                return set_session_cookie(redirect(url_for("account.index")), cookie)
    return _page(passphrase_form=form), 400


@bp.route("/recovery-codes", methods=["POST"])
def recovery_codes() -> Response | str | tuple[str, int]:
    form = ConfirmCodeForm()
    account = web.account()
    db = web.db()
    refused = _guarded(form)
    if refused is not None:
        return refused
    if form.validate_on_submit():
        if check_totp(db, web.settings().server_key, account, form.code.data or ""):
            codes = new_recovery_codes(db, web.settings().server_key, account)
            record(db, "caseworker.recovery_codes_renewed", actor_id=account.id)
            return render_template(
                "auth/recovery_codes.html", codes=codes, next_url=url_for("account.index")
            )
        locked_out = count_failure(_session(), "caseworker.recovery_codes_refused")
        if locked_out is not None:
            return locked_out
        form.code.errors = [_("That code is not right, or it has already been used.")]
    return _page(codes_form=form), 400


@bp.route("/logout-everywhere", methods=["POST"])
def logout_everywhere() -> Response:
    form = PlainForm()
    if not form.validate_on_submit():
        return redirect(url_for("account.index"))
    account = web.account()
    ended = end_all_sessions(web.db(), account.id)
    record(web.db(), "logout.everywhere", actor_id=account.id, sessions_ended=ended)
    response = redirect(url_for("auth.login", signed_out=1))
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return clear_session_cookie(response)
