"""The caseworker's own account: language, notices, hand-over, passphrase, recovery
codes, sessions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from cases.accounts.approvals import account_events
from cases.accounts.enrolment import AccountError, change_passphrase
from cases.accounts.security_keys import keys_of
from cases.accounts.sessions import (
    ActiveSession,
    Stage,
    end_all_sessions,
    open_session,
    session_count,
)
from cases.accounts.twofactor import (
    check_totp,
    new_recovery_codes,
    remaining_recovery_codes,
    reset_second_factor,
)
from cases.casework.access import CaseworkRefused
from cases.casework.handover import cases_held, hand_over, successors
from cases.models import AuditEntry, Caseworker
from cases.notifications.outbox import ADMIN_EVENTS, CUSTODIAN_EVENTS, EVENTS, wanted_events
from cases.records.audit import record
from caseworker import web
from caseworker.account.forms import (
    ConfirmCodeForm,
    ConfirmPassphraseForm,
    HandOverForm,
    LanguageForm,
    NoticeForm,
    PassphraseForm,
    PlainForm,
)
from caseworker.auth.forms import SecurityKeyForm
from caseworker.auth.views import (
    clear_session_cookie,
    count_failure,
    refuse_if_locked,
    set_session_cookie,
)
from caseworker.choices import options
from caseworker.limits import limit_sign_in
from config.languages import NATIVE_NAMES
from config.mail import mail_configured
from config.mailcrypt import NoticeKeyError, check_notice_key
from crypto import key_fingerprint, verify_password

bp = Blueprint("account", __name__, url_prefix="/account")

ACCOUNT_EVENT_WORDS = {
    "caseworker.created": _l("Your account was created."),
    "caseworker.roles_changed": _l("Your roles were changed."),
    "caseworker.second_factor_reset": _l("Your authenticator app was reset."),
    "caseworker.credentials_reset": _l("Your passphrase and key were reset."),
    "caseworker.profile_changed": _l("Your display name or team was changed."),
    "caseworker.unlocked": _l("A sign-in lock on your account was lifted."),
    "caseworker.key_certified": _l("Your key was certified at an upgrade."),
    "admin.change_requested": _l("A change to your account was requested."),
    "category.members_set": _l("New reports of a category are now routed to you."),
}


# config.mailcrypt.REASONS, in the reader's language.
KEY_REFUSALS = {
    "no_tool": _l("This server cannot encrypt mail yet: an administrator installs age and "
                  "gnupg."),
    "not_a_key": _l("Give an age recipient (age1…) or an OpenPGP public key block."),
    "age_unusable": _l("This age recipient cannot be used."),
    "pgp_unreadable": _l("This is not a readable OpenPGP public key."),
    "pgp_one_key": _l("Give exactly one OpenPGP key, one that can encrypt."),
    "pgp_unusable": _l("This OpenPGP key cannot encrypt: it may have expired or been revoked."),
    "slow": _l("Encrypting to this key took too long."),
}


def account_event_words(entry: AuditEntry) -> str:
    return str(ACCOUNT_EVENT_WORDS.get(entry.action, entry.action))


@bp.before_request
def _signed_in() -> Response | None:
    if web.current_account() is None:
        return redirect(url_for("auth.login"))
    return None


def _language_form() -> LanguageForm:
    form = LanguageForm()
    form.language.choices = options(
        (code, NATIVE_NAMES.get(code, code)) for code in web.settings().caseworker_languages
    )
    return form


def _page(
    language_form: LanguageForm | None = None,
    passphrase_form: PassphraseForm | None = None,
    codes_form: ConfirmCodeForm | None = None,
    factor_form: ConfirmPassphraseForm | None = None,
    notice_form: NoticeForm | None = None,
    handover_form: HandOverForm | None = None,
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
        factor_form=factor_form or ConfirmPassphraseForm(formdata=None),
        notice_form=notice_form or _notice_form(account),
        handover_form=handover_form or _handover_form(account, formdata=None),
        held=len(cases_held(web.db(), account.id)),
        mail_on=mail_configured(web.settings()),
        events=account_events(web.db(), account.id),
        account_event_words=account_event_words,
        people=web.lookup_names()[1],
        plain_form=PlainForm(),
        recovery_left=remaining_recovery_codes(web.db(), account.id),
        fingerprint=key_fingerprint(account.public_key) if account.public_key else "",
        sessions=session_count(web.db(), account.id),
        security_keys=keys_of(web.db(), account.id),
        key_form=SecurityKeyForm(formdata=None),
    )


@bp.route("")
def index() -> str:
    return _page()


def _notice_form(account: Caseworker) -> NoticeForm:
    """The account's notice settings, as they are."""
    chosen = wanted_events(account)
    form = NoticeForm(formdata=None)
    form.email.data = account.notice_email
    for event in EVENTS:
        getattr(form, event).data = event in chosen  # one box per event, named after it
    form.daily.data = account.notice_daily
    form.key.data = account.notice_key
    return form


@bp.route("/notices", methods=["POST"])
def notices() -> Response | tuple[str, int]:
    """Where and when this person is told that something is waiting (cases.notifications)."""
    form = NoticeForm()
    if not form.validate_on_submit():
        return _page(notice_form=form), 400
    try:
        key = check_notice_key(form.key.data) if (form.key.data or "").strip() else ""
    except NoticeKeyError as exc:
        form.key.errors = [str(KEY_REFUSALS[exc.reason])]
        return _page(notice_form=form), 400
    account = web.account()
    account.notice_key = key
    account.notice_email = (form.email.data or "").strip()
    # Administrators' and custodians' events have boxes only on their pages.
    shown = [e for e in EVENTS if (account.is_admin or e not in ADMIN_EVENTS)
             and (account.is_custodian or e not in CUSTODIAN_EVENTS)]
    account.notice_events = ",".join(e for e in shown if getattr(form, e).data)
    account.notice_daily = bool(form.daily.data)
    record(web.db(), "caseworker.notices_changed", actor_id=account.id)
    flash(_("Your notice settings were saved."))
    return redirect(url_for("account.index"))


def _handover_form(account: Caseworker, **kwargs: object) -> HandOverForm:
    form = HandOverForm(**kwargs)
    form.successor.choices = options(
        (p.id, p.name) for p in successors(web.db(), account)
    )
    return form


@bp.route("/hand-over", methods=["POST"])
def hand_over_cases() -> Response | tuple[str, int]:
    """Give every case this person holds to a colleague, in one step (cases.casework.handover)."""
    account = web.account()
    form = _handover_form(account)
    if not form.validate_on_submit():
        return _page(handover_form=form), 400
    try:
        done = hand_over(web.db(), web.settings(), account, web.private_key(),
                         int(form.successor.data or 0))
    except (CaseworkRefused, ValueError) as exc:
        form.successor.errors = [_(str(exc)) if isinstance(exc, CaseworkRefused)
                                 else _("Choose an active caseworker.")]
        return _page(handover_form=form), 400
    flash(ngettext("%(num)d case handed over; your colleague is told.",
                   "%(num)d cases handed over; your colleague is told.", len(done.granted)))
    if done.excluded:
        flash(ngettext(
            "%(num)d case was not handed over: this colleague is excluded from it.",
            "%(num)d cases were not handed over: this colleague is excluded from them.",
            len(done.excluded)), "warning")
    return redirect(url_for("account.index"))


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
        if not verify_password(account.password_hash or "", current):
            locked_out = count_failure(_session(), "caseworker.passphrase_change_refused")
            if locked_out is not None:
                return locked_out
            form.current.errors = [_("This is not your current passphrase.")]
        elif new.strip().lower() == account.username or new == current:
            form.new.errors = [_("Choose a new passphrase that is not your username.")]
        else:
            try:
                key = change_passphrase(db, web.settings(), account, web.private_key(), new)
            except AccountError:
                form.new.errors = [_("This passphrase cannot be used.")]
            else:
                # Every session ended, this one too: open a fresh one with the new key.
                _row, cookie = open_session(db, web.settings(), account, key, Stage.FULL)
                flash(
                    _(
                        "Your passphrase has been changed and your key replaced. "
                        "Your other sessions have ended."
                    ),
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


@bp.route("/second-factor", methods=["POST"])
def replace_second_factor() -> Response | tuple[str, int]:
    """The owner's own proof (the passphrase) replaces the authenticator: no
    administrator is involved. Every session ends; the next sign-in enrols a new one."""
    form = ConfirmPassphraseForm()
    account = web.account()
    refused = _guarded(form)
    if refused is not None:
        return refused
    if form.validate_on_submit():
        if verify_password(account.password_hash or "", form.your_passphrase.data or ""):
            reset_second_factor(web.db(), account)
            end_all_sessions(web.db(), account.id)
            record(web.db(), "caseworker.second_factor_reset", actor_id=account.id,
                   target_id=account.id, by_owner=True)
            flash(_("Sign in again to set up your new authenticator app."), "success")
            return clear_session_cookie(redirect(url_for("auth.login")))
        locked_out = count_failure(_session(), "caseworker.second_factor_reset_refused")
        if locked_out is not None:
            return locked_out
        form.your_passphrase.errors = [_("This is not your current passphrase.")]
    return _page(factor_form=form), 400


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
