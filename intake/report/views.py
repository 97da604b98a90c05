"""Making a report: form -> review -> send -> receipt.

No server state exists before the final send. The review page carries every value back in
hidden fields (with a keyed digest, so what is sent is exactly what was reviewed), and it
is where files are chosen: a browser cannot carry a chosen file from one page to the next
without uploading it, and an upload before the final step would mean keeping it on the
server. So files travel once, with the final send, encrypted as they stream in
(``intake.uploads``), and are committed in the same transaction as the case.

The receipt is shown in the response to the send: it is never stored, never in a URL,
never in a cookie. It is derived from the random submission id the form carries
(``crypto.receipt_from_seed``), so a second send of the same form (a reload of that
response, or the browser sending again because the answer never arrived), recognised from
the id's keyed digest the first send stored with its case (``cases.reporting.resend``),
creates no second case and shows the same receipt again, until the reporter confirms
that it is saved.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from cases.attachments.streaming import clean_filename
from cases.models import Case
from cases.reporting.followup import find_case
from cases.reporting.resend import claim_submission, may_show_again
from cases.reporting.submission import Submission
from crypto import receipt_from_seed
from intake.errors import recovers, why_form_refused
from intake.i18n import current_language
from intake.limits import rate_limited
from intake.report.checks import identifying_texts, reasons
from intake.report.forms import (
    ReportForm,
    build_form,
    new_submission_id,
    validate_routing,
)
from intake.report.options import FormOptions, load_options
from intake.report.receipt_views import render_receipt
from intake.report.sealed_page import sealing_data
from intake.sealing import seals_in_browser
from intake.uploads import (
    accepts_uploads,
    file_choices_sent,
    file_errors,
)
from intake.work import db, reads_only, report_work, settings, store

bp = Blueprint("report", __name__)


def _options(session: Session) -> FormOptions:
    """What this instance's form asks, offers and lets the reporter exclude."""
    return load_options(
        session, store().policy(session).show_caseworker_names, current_language()
    )


def _limits() -> dict[str, int]:
    s = settings()
    return {
        "max_files": s.max_files_per_submission,
        "max_file_bytes": s.max_file_bytes,
        "max_request_bytes": s.max_request_bytes,
        "max_chars": s.max_report_chars,
    }


def render_form(form: ReportForm, status: int = 200, notice: str | None = None) -> Response:
    sealing = sealing_data(form, settings().max_report_chars) if settings().seal_in_browser \
        else None
    html = render_template("report/form.html", form=form, notice=notice, limits=_limits(),
                           sealing=sealing)
    return current_app.make_response((html, status))


def render_review(
    form: ReportForm,
    status: int = 200,
    notice: str | None = None,
    file_errors: list[str] | None = None,
) -> Response:
    if not form.submission_id.data or not form.check_digest(
        form.submission_id.data, form.review_token.data or ""
    ):
        form.submission_id.data = new_submission_id()
        form.review_token.data = form.digest(form.submission_id.data)
    html = render_template(
        "report/review.html",
        form=form,
        notice=notice,
        file_errors=file_errors or [],
        limits=_limits(),
        # Shown again as it was sent (a 413, an outage); unticked on the first review.
        file_choices=file_choices_sent(request.form),
        identifying=identifying_texts(form),
        identifying_reasons=reasons(),
    )
    return current_app.make_response((html, status))


def _sent_before(session: Session, submission_id: str) -> Response:
    """The same form again: its receipt once more while the reporter has not said it is
    saved (the receipt comes from the form's id, nothing is stored), else only that the
    report was sent (cases.reporting.resend)."""
    instance = settings()
    if may_show_again(session, instance.server_key, submission_id):
        receipt = receipt_from_seed(instance.server_key, submission_id.encode())
        case, _keys = find_case(session, instance, receipt)
        if case is not None:
            return render_receipt(
                receipt, (case.acknowledge_due_on, case.feedback_due_on),
                submission_id=submission_id,
            )
    return current_app.make_response((render_template("report/already_sent.html"), 409))


def _honeypot(form: ReportForm) -> Response:
    form.website.data = ""
    return render_form(
        form,
        400,
        _("Your report could not be accepted as it was sent. Check it and send it again."),
    )


@bp.route("/", methods=["GET", "POST"])
@reads_only
@seals_in_browser
def form() -> Response:
    """The form. A POST comes from "Change" on the review page: show those values again."""
    the_form = build_form(_options(db()), request.form if request.method == "POST" else None)
    return render_form(the_form)


@bp.post("/review")
@reads_only
def review() -> Response:
    the_form = build_form(_options(db()), request.form)
    if the_form.honeypot_filled:
        return _honeypot(the_form)
    if not (the_form.validate() and validate_routing(the_form, db())):
        return render_form(the_form, 413 if the_form.too_long else 400)
    return render_review(the_form)


@bp.post("/send")
@accepts_uploads(report_work)
@rate_limited("submit")
def submit() -> Response:
    work = report_work()
    uploads = request.uploads  # type: ignore[attr-defined]
    uploads.check_file_choices(request.form)  # the choices the stored files were given
    the_form = build_form(_options(work.session), request.form)
    if the_form.honeypot_filled:
        return _honeypot(the_form)
    if not (the_form.validate() and validate_routing(the_form, work.session)):
        return render_form(the_form, 413 if the_form.too_long else 400)
    submission_id = the_form.submission_id.data or ""
    if not the_form.check_digest(submission_id, the_form.review_token.data or ""):
        the_form.submission_id.data = ""
        return render_review(the_form, 400, _("Please check your report once more, then send it."))
    if uploads.problem:
        return render_review(the_form, 413, file_errors=file_errors(uploads))
    for sink in uploads.files:
        work.draft.attach(
            sink.stored_upload,
            clean_filename(sink.filename),
            sink.content_type or "application/octet-stream",
        )
        sink.used = True
    uploads.discard_unused()
    work.draft.seed_with(submission_id)  # the verified id: the receipt comes from it
    if not claim_submission(work.session, settings().server_key, submission_id):
        return _sent_before(work.session, submission_id)
    receipt = work.draft.finalize(
        Submission(
            report=the_form.report_body(),
            category_slug=the_form.category_slug(),
            identity=the_form.identity(),
            excluded_caseworker_ids=the_form.excluded_ids(),
        )
    )
    case = work.session.get_one(Case, work.draft.case_id)
    due = (case.acknowledge_due_on, case.feedback_due_on)  # what the case was given
    work.commit()  # the receipt is shown only once the case and all its ciphertexts are committed
    return render_receipt(receipt, due, submission_id=submission_id)


@recovers("report.review", "report.submit")
def _recover(e: HTTPException) -> Response | None:
    """An expired form token, a database hiccup: show the form again with what was typed."""
    try:
        the_form = build_form(_options(db()), request.form)
    except Exception:  # the database is down too: the plain error page will do
        return None
    the_form.validate()
    if e.code == 503:
        return render_review(
            the_form,
            503,
            _(
                "The service was briefly unavailable and nothing was stored. "
                "Choose your files again and send once more."
            ),
        )
    if e.code == 400:
        what = why_form_refused(e) if isinstance(e, CSRFError) else _("Nothing was sent.")
        return render_form(
            the_form, 400, " ".join([what, _("Your text is kept below: check it and continue.")])
        )
    return None
