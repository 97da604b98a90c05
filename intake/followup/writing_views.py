"""What a signed-in reporter writes: a message with files, agreement to the minutes of an
oral report, identity details given late, and a retaliation report. Each is a POST with
its own form; on success it redirects to the case page, on an error it shows that page
again with what was typed."""

from __future__ import annotations

from flask import (
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from cases import bodies
from cases.attachments.streaming import clean_filename
from cases.bodies import Answer
from cases.keyring import Trust, reporter_thread_key
from cases.localized import N_
from cases.models import today
from cases.reporting.followup import (
    add_reporter_identity,
    add_reporter_message,
)
from cases.reporting.minutes import agree_minutes, awaiting_agreement, latest_minutes_id
from cases.reporting.retaliation import report_retaliation
from intake.followup.forms import IdentityForm, MessageForm, RetaliationForm
from intake.followup.sealed_views import identity_sealing, retaliation_sealing
from intake.followup.views import _expired_response, _render_case, _reporter, _target, bp
from intake.i18n import current_language
from intake.limits import rate_limited
from intake.uploads import (
    UploadState,
    accepts_uploads,
    file_errors,
)
from intake.work import CaseWork, commit, db, settings, store


def _message_target() -> CaseWork | None:
    reporter = _reporter()
    if reporter is None or reporter.private_key is None:
        return None  # a sealed session takes files sealed in the browser only
    try:
        target = _target(reporter, (request.view_args or {}).get("ref", ""))
    except NotFound:
        return None
    return CaseWork(target.id, reporter_thread_key(db(), target.id, reporter.private_key))


@bp.post("/case/<ref>/message")
@accepts_uploads(_message_target)
@rate_limited("write")
def message(ref: str) -> Response:
    uploads: UploadState = request.uploads  # type: ignore[attr-defined]
    uploads.check_file_choices(request.form)  # the choices the stored files were given
    form = MessageForm(request.form, prefix=ref)
    reporter = _reporter()
    if reporter is None:
        return _expired_response(form.text.data or "")
    target = _target(reporter, ref)
    if reporter.private_key is None:
        return _sealed_session_refusal(ref, form)
    if not form.validate():
        return _render_case(413 if form.too_long else 400, active=ref, form=form)
    if uploads.problem:
        return _render_case(413, active=ref, form=form, file_errors=file_errors(uploads))
    text = (form.text.data or "").strip()
    if not text and not uploads.files:
        form.text.errors = [_("Write a message or choose a file to send.")]
        return _render_case(400, active=ref, form=form)
    on = today()
    finished = []
    for sink in uploads.files:
        finished.append(
            sink.stored_upload.finish(
                clean_filename(sink.filename),
                sink.content_type or "application/octet-stream",
                on=on,
            )
        )
        sink.used = True
    uploads.discard_unused()
    add_reporter_message(
        db(), target, reporter.private_key, text, finished, on=on, settings=settings()
    )
    commit()
    # Straight to the confirmation, placed under the new message (not at the page's top).
    return redirect(url_for(".case", done="message", at=ref) + f"#sent-{ref}", code=303)  # type: ignore[return-value]


def _sealed_session_refusal(ref: str, form: MessageForm) -> Response:
    """A form sent without the page's script in a session whose key only the browser
    holds: the server cannot seal it. Nothing is lost: the text is shown again."""
    form.text.errors = [_(
        "This session was opened with JavaScript on, so only your browser holds the key to "
        "your report and nothing can be sealed here. Turn JavaScript on and send again, or "
        "log out and enter your receipt again."
    )]
    return _render_case(409, active=ref, form=form)


@bp.post("/case/<ref>/minutes")
@rate_limited("write")
def agree(ref: str) -> Response:
    """The reporter agrees the minutes of their oral report (EU 2019/1937 Art. 18(2)).

    The page sends the id of the minutes it showed: if a caseworker revised them since, the
    reporter has not read what they would be agreeing, so nothing is recorded and the page
    shows the new version."""
    reporter = _reporter()
    if reporter is None:
        return _expired_response()
    target = _target(reporter, ref)
    if reporter.private_key is None:
        return _sealed_session_refusal(ref, MessageForm(formdata=None, prefix=ref))
    current = latest_minutes_id(db(), target.id)
    if target.channel != "oral" or current is None:
        raise NotFound()
    done = "minutes"
    if request.form.get("minutes_id", "") != current:
        done = "minutes_changed"
    elif awaiting_agreement(db(), target):  # agreeing twice records nothing new
        agree_minutes(db(), target, reporter.private_key)
    commit()
    return redirect(url_for(".case", done=done) + f"#case-{ref}", code=303)  # type: ignore[return-value]


@bp.route("/identity", methods=["GET", "POST"])
@rate_limited("write")
def identity() -> Response:
    reporter = _reporter()
    if reporter is None:
        if request.method == "POST":
            return _expired_response()
        return redirect(url_for(".login", ended=1), code=303)  # type: ignore[return-value]
    form = IdentityForm(request.form if request.method == "POST" else None)
    if request.method == "POST":
        if form.validate():
            add_reporter_identity(
                db(), reporter.case, settings(), form.details()
            )
            commit()
            return redirect(url_for(".case", done="identity"), code=303)  # type: ignore[return-value]
        commit()
        return current_app.make_response(
            (render_template("followup/identity.html", form=form, sealing=identity_sealing()), 400)
        )
    commit()
    return current_app.make_response(
        render_template("followup/identity.html", form=form, sealing=identity_sealing()))


@bp.route("/retaliation", methods=["GET", "POST"])
@rate_limited("write")
def retaliation() -> Response:
    reporter = _reporter()
    if reporter is None:
        if request.method == "POST":
            return _expired_response(request.form.get("what", ""))
        return redirect(url_for(".login", ended=1), code=303)  # type: ignore[return-value]
    form = RetaliationForm(request.form if request.method == "POST" else None)
    if request.method == "POST":
        if form.validate():
            instance = settings()
            answers: list[Answer] = [
                {"key": key, "question": question, "answer": value.strip()}
                for key, question, value in (
                    ("when", N_("When did it happen?"), form.when.data or ""),
                    ("needs", N_("What would help protect you now?"), form.needs.data or ""),
                )
                if value.strip()
            ]
            body = bodies.report(form.what.data.strip(), answers, language=current_language())
            report_retaliation(
                db(),
                reporter.case,
                reporter.public_key,
                body,
                store().policy(db()),
                Trust.of(instance),
            )
            commit()
            return redirect(url_for(".case", done="retaliation"), code=303)  # type: ignore[return-value]
        commit()
        status = 413 if form.too_long else 400
        return current_app.make_response(
            (render_template("followup/retaliation.html", form=form,
                            sealing=retaliation_sealing()), status)
        )
    commit()
    return current_app.make_response(render_template("followup/retaliation.html", form=form,
                            sealing=retaliation_sealing()))
