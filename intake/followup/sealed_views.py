"""The calls of the follow-up page's script when the browser holds the reporter's key
(cases.reporting.sealed_followup): sign in with the look-up token, send a message or agree
the minutes sealed under the thread key, fetch a file's ciphertext. All answer 404 unless
``settings.seal_in_browser`` is on, and none sees the receipt or a word of the case.
Routes of the follow-up blueprint; JSON in and out, CSRF-checked and rate-limited as the
forms they stand in for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, abort, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from cases.keyring import NoAccess
from cases.localized import N_
from cases.models import Attachment, Case, today
from cases.reporting.claim import AlreadyClaimed, claim_sealed, needs_claim
from cases.reporting.minutes import NoMinutes, agree_minutes_sealed
from cases.reporting.sealed import SealedRefused, SealingKeys
from cases.reporting.sealed_followup import (
    cases_of_token,
    identity_keys,
    retaliation_keys,
    sealed_thread,
    store_sealed_identity,
    store_sealed_message,
    store_sealed_retaliation,
)
from cases.store import Store
from intake.errors import answers_in_json
from intake.followup import sessions
from intake.followup.sealed_pages import page_json
from intake.followup.sessions import Reporter
from intake.followup.views import _reporter, _target, bp
from intake.i18n import current_language
from intake.limits import rate_limited
from intake.report.options import FormOptions
from intake.report.sealed_form import (
    as_bytes,
    b64,
    followup_limits,
    identity_limits,
    parse_sealed_report,
    retaliation_limits,
    sealed_files,
    sealed_item,
    sealing_keys_json,
)
from intake.report.sealed_form import (
    sealed_identity as sealed_identity_of,
)
from intake.report.sealed_views import refusal
from intake.work import commit, db, settings, store

SCRIPT_CALLS = frozenset(
    {"followup.sealed_login", "followup.sealed_message", "followup.sealed_minutes",
     "followup.sealed_file", "followup.sealed_identity", "followup.sealed_retaliation",
     "followup.sealed_claim"})
answers_in_json(*SCRIPT_CALLS)
SEALED_ENDPOINTS = SCRIPT_CALLS | {"followup.sealed_own_receipt"}  # and a page


@bp.before_request
def _only_where_the_browser_seals() -> None:
    if request.endpoint in SEALED_ENDPOINTS and not settings().seal_in_browser:
        abort(404)


def _json() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise SealedRefused(SealedRefused.MALFORMED)
    return body


def _sealed_reporter() -> Reporter | None:
    """The reporter of a session whose key only the browser holds, or None."""
    reporter = _reporter()
    return reporter if reporter is not None and reporter.sealed else None


def _refused(refused: SealedRefused) -> Response:
    """Nothing of what came is kept; the refusal's words for the page."""
    db().rollback()
    return refusal(refused.reason, 400 if refused.reason == SealedRefused.MALFORMED else 409)


def _session_ended() -> Response:
    words = _("Your session has ended, so nothing was sent. Enter your receipt again to continue.")
    answer = {"error": "ended", "message": words, "next": url_for(".login", ended=1)}
    return current_app.make_response((jsonify(answer), 401))


@bp.post("/sealed-login")
@rate_limited("lookup")
def sealed_login() -> Response:
    """The token the page derived from the receipt: 200 with where to go, 409 with the
    thread keys when it is a handed-over receipt the page must replace, 400 when none
    matches."""
    try:
        token = as_bytes(_json().get("token"))
    except SealedRefused:
        return refusal(SealedRefused.MALFORMED, 400)
    cases = cases_of_token(db(), token)
    if cases and needs_claim(cases[0]):
        # A handed-over receipt: the page makes the reporter's own and re-keys to it
        # (sealed_claim), from the thread keys wrapped to the handed-over one.
        wrapped = {case.id: b64(sealed_thread(db(), case).reporter_thread_key)
                   for case in cases}
        commit()
        answer = {"error": "claim", "thread_keys": wrapped, "claim": url_for(".sealed_claim")}
        return current_app.make_response((jsonify(answer), 409))  # the page's token holds
    sessions.end(db())  # a new log-in replaces any earlier session of this browser
    if not cases:
        commit()
        words = _("No report matches this receipt. Check the digits and try again. If you "
                  "have lost your receipt, you can make a new report.")
        return current_app.make_response((jsonify({"error": "no_match", "message": words}), 400))
    sessions.start_sealed(db(), cases)
    commit()
    return jsonify({"next": url_for(".case")})


@bp.post("/sealed-claim")
@rate_limited("lookup")
def sealed_claim() -> Response:
    """A handed-over receipt replaced in the page: the token of the handed-over receipt,
    the new receipt's look-up hash and public key, each thread key wrapped to it. 200 with
    the page that shows the new receipt (its digits filled in by the page), 409 when the
    receipt was taken over meanwhile."""
    try:
        body = _json()
        cases = cases_of_token(db(), as_bytes(body.get("token")))
        keys = body.get("thread_keys")
        if not cases or not needs_claim(cases[0]) or not isinstance(keys, dict):
            raise SealedRefused(SealedRefused.MALFORMED)
        handed = cases[0].reporter_public_key or b""
        own = claim_sealed(db(), handed, as_bytes(body.get("lookup_hash")),
                           as_bytes(body.get("public_key")),
                           {str(k): as_bytes(v) for k, v in keys.items()})
    except (SealedRefused, ValueError):
        db().rollback()
        return refusal(SealedRefused.MALFORMED, 400)
    except AlreadyClaimed:
        db().rollback()
        return refusal(SealedRefused.TAKEN, 409)
    sessions.end(db())
    sessions.start_sealed(db(), own)
    commit()
    return jsonify({"next": url_for(".sealed_own_receipt")})


@bp.get("/sealed-own-receipt")
def sealed_own_receipt() -> Response:
    """The own-receipt page without its digits: the page that made the receipt fills
    them in (followup-login.mjs)."""
    if _sealed_reporter() is None:
        abort(404)
    commit()
    html = render_template("followup/own_receipt.html", groups=["····"] * 7)
    return current_app.make_response(html)


@bp.post("/case/<ref>/sealed-message")
@rate_limited("write")
def sealed_message(ref: str) -> Response:
    """A message (and its staged files) sealed in the browser: 201 with where to go."""
    reporter = _sealed_reporter()
    if reporter is None:
        return _session_ended()
    target: Case = _target(reporter, ref)
    try:
        body = _json()
        item, files = sealed_item(body.get("message")), sealed_files(body.get("files"))
        store_sealed_message(db(), store(), target, item, files, followup_limits(settings()))
    except SealedRefused as refused:
        return _refused(refused)
    commit()
    at = url_for(".case", done="message", at=ref) + f"#sent-{ref}"
    return current_app.make_response((jsonify({"next": at}), 201))


@bp.post("/case/<ref>/sealed-minutes")
@rate_limited("write")
def sealed_minutes(ref: str) -> Response:
    """The reporter agrees the minutes the page showed, the thread entry sealed there."""
    reporter = _sealed_reporter()
    if reporter is None:
        return _session_ended()
    target = _target(reporter, ref)
    try:
        body = _json()
        item = sealed_item(body.get("message"))
        agree_minutes_sealed(db(), target, str(body.get("minutes_id", "")), item.id,
                             item.record, today())
        done = "minutes"
    except SealedRefused:
        return refusal(SealedRefused.MALFORMED, 400)
    except (NoMinutes, NoAccess):
        db().rollback()
        done = "minutes_changed"
    commit()
    return jsonify({"next": url_for(".case", done=done) + f"#case-{ref}"})


@bp.get("/sealed-files/<attachment_id>")
def sealed_file(attachment_id: str) -> Response:
    """A file of the reporter's thread as stored, still sealed: the page opens it."""
    reporter = _reporter()
    if reporter is None:
        return _session_ended()
    attachment = db().get(Attachment, attachment_id)
    mine = {case.id for case in reporter.cases}
    if attachment is None or attachment.internal or attachment.case_id not in mine:
        abort(404)  # an internal note's file is the caseworkers' alone
    size = attachment.ciphertext_size
    commit()
    the_store = store()

    def chunks() -> Iterator[bytes]:
        # A reader: no write lock for as long as the reporter downloads.
        with the_store.reader() as own, the_store.blobs.open(own, attachment_id) as source:
            while piece := source.read(1024 * 1024):
                yield piece

    response = current_app.response_class(chunks(), mimetype="application/octet-stream")
    response.headers["Content-Length"] = str(size)
    return response


def forms_json(keys: SealingKeys, case: Case, send_to: str) -> dict[str, Any]:
    """What the identity and retaliation pages of a sealed session seal with, and where the
    sealed form goes (followup-forms.mjs)."""
    return {"keys": sealing_keys_json(keys, settings()), "send": send_to, "case_id": case.id,
            "language": current_language(),
            "questions": {"when": N_("When did it happen?"),
                          "needs": N_("What would help protect you now?")},
            "words": {
                "failed": _("Nothing was sent: the connection failed. Check it and send again."),
                "no_key": page_json()["words"]["no_key"],
                "no_details": _("Fill in at least one of these fields, or go back without "
                                "sending."),
                "not_understood": _("Tick this box to confirm that you understand."),
                "no_what": _("Describe what has been done to you."),
            }}


def identity_sealing() -> dict[str, Any] | None:
    return _form_sealing(identity_keys, ".sealed_identity")


def retaliation_sealing() -> dict[str, Any] | None:
    return _form_sealing(retaliation_keys, ".sealed_retaliation")


def _form_sealing(keys_for: Callable[[Session, Store, Case], SealingKeys],
                  endpoint: str) -> dict[str, Any] | None:
    """A sealed session's data for its identity or retaliation page; None otherwise."""
    reporter = _sealed_reporter()
    if reporter is None:
        return None
    g.seals_in_browser = True
    keys = keys_for(db(), store(), reporter.case)
    return forms_json(keys, reporter.case, url_for(endpoint))


@bp.post("/sealed-identity")
@rate_limited("write")
def sealed_identity() -> Response:
    """Identity details sealed in the page for the custodians: 201 with where to go."""
    reporter = _sealed_reporter()
    if reporter is None:
        return _session_ended()
    try:
        sealed = sealed_identity_of(_json().get("identity"))
        keys = identity_keys(db(), store(), reporter.case)
        store_sealed_identity(db(), reporter.case, keys, sealed, identity_limits())
    except SealedRefused as refused:
        return _refused(refused)
    commit()
    return current_app.make_response((jsonify({"next": url_for(".case", done="identity")}), 201))


@bp.post("/sealed-retaliation")
@rate_limited("write")
def sealed_retaliation() -> Response:
    """A retaliation report sealed in the page, as a report is: 201 with where to go."""
    reporter = _sealed_reporter()
    if reporter is None:
        return _session_ended()
    try:
        sealed = parse_sealed_report(_json(), FormOptions())
        store_sealed_retaliation(db(), store(), reporter.case, sealed,
                                 retaliation_limits(settings()), today())
    except SealedRefused as refused:
        return _refused(refused)
    commit()
    return current_app.make_response(
        (jsonify({"next": url_for(".case", done="retaliation")}), 201))
