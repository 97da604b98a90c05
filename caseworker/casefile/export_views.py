"""A case leaving the back office for legal follow-up: the ZIP (every file, decrypted while
it streams) and the PDF (one document for a file, a court or an authority, with passages
blacked out as the caseworker asks). Both are made on demand, never written to the server's
disk, and audited (cases.casework.release)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from cases.casework.case_pdf import PdfUnavailable, PdfWords
from cases.casework.redaction import Redactions
from cases.casework.release import release_export, release_pdf
from cases.models import today
from caseworker import web
from caseworker.audit_labels import action_label
from caseworker.casefile import forms as f
from caseworker.casefile.views import _case, _render, bp
from caseworker.labels import OUTCOME_LABELS, PRIORITY_LABELS, STATUS_LABELS
from config.http import DOWNLOAD_HEADERS, attachment_disposition
from config.languages import text_direction


@bp.route("/<case_id>/export", methods=["POST"])
def export(case_id: str) -> Response | tuple[str, int]:
    """The case as a ZIP, built while it streams: nothing is written to the server's disk."""
    case = _case(case_id)
    form = f.ExportForm()
    if not form.validate_on_submit():
        return _render(case, 400, "export", export_form=form)
    on = today()
    body = release_export(web.db(), web.store(), case, web.account(), web.private_key(),
                          include_internal=bool(form.include_internal.data),
                          redactions=Redactions.from_lines(form.redactions.data or ""), on=on)
    return _download(Response(body, mimetype="application/zip"), case.id, on, "zip")


@bp.route("/<case_id>/export.pdf", methods=["POST"])
def export_pdf(case_id: str) -> Response | tuple[str, int]:
    """The case as one PDF, made in memory."""
    case = _case(case_id)
    form = f.ExportForm()
    if not form.validate_on_submit():
        return _render(case, 400, "export", export_form=form)
    on = today()
    try:
        document = release_pdf(web.db(), web.store(), case, web.account(), web.private_key(),
                               pdf_words(), include_internal=bool(form.include_internal.data),
                               redactions=Redactions.from_lines(form.redactions.data or ""),
                               on=on)
    except PdfUnavailable:
        form.form_errors.append(_(
            "This server cannot make PDFs yet: the fonts they need are not installed. Ask "
            "your administrator to install them (docs/OPERATIONS.md). The ZIP export works."))
        return _render(case, 503, "export", export_form=form)
    response = Response(document, mimetype="application/pdf")
    response.headers["Content-Length"] = str(len(document))
    return _download(response, case.id, on, "pdf")


def _download(response: Response, case_id: str, on: dt.date, extension: str) -> Response:
    """A case's copy as a file to save, never to keep in a cache."""
    response.headers["Content-Disposition"] = attachment_disposition(
        f"sealbox-case-{case_id}-{on.isoformat()}.{extension}"
    )
    response.headers.update(DOWNLOAD_HEADERS)
    return response


def pdf_words() -> PdfWords:
    """The PDF's words in the caseworker's language."""
    return PdfWords(
        title=_("Case %(case)s", case="%(case)s"),
        exported=_("Exported on %(date)s by %(name)s", date="%(date)s", name="%(name)s"),
        confidential=_("Confidential: the decrypted content of a whistleblowing case. Share it "
                       "only with those who need it for the legal follow-up. The reporter's "
                       "identity details are not included."),
        redacted=_("Passages were blacked out in this copy; the case itself is unchanged."),
        details=_("Details and deadlines"),
        thread=_("Report and messages with the reporter"),
        internal=_("Internal notes and assessments"),
        files=_("Files"),
        no_files=_("No attachments."),
        audit=_("Audit trail"),
        fields={
            "status": _("Status"), "channel": _("Channel"), "category": _("Category"),
            "priority": _("Priority"), "received_on": _("Received on"),
            "acknowledge_due_on": _("Acknowledgement due"),
            "acknowledged_on": _("Acknowledged on"), "feedback_due_on": _("Feedback due"),
            "feedback_given_on": _("Feedback given on"), "concluded_on": _("Concluded on"),
            "outcome": _("Outcome"), "closed_on": _("Closed on"), "labels": _("Labels"),
            "linked_cases": _("Linked cases"), "legal_hold_reason": _("Legal hold"),
        },
        kinds={"report": _("Report"), "reporter_message": _("Message from the reporter"),
               "reply": _("Message to the reporter"), "minutes": _("Minutes"),
               "note": _("Internal note"), "triage": _("Triage"),
               "risk": _("Risk assessment"), "conclusion": _("Conclusion")},
        actions=action_label,
        people={"reporter": _("Reporter"), "caseworker": _("caseworker"), "system": _("System")},
        values=_value_words,
        right_to_left=text_direction(str(get_locale() or "en")) == "rtl",
    )


def _value_words(key: str, value: object) -> str:
    """A recorded code as the case page words it."""
    by_field: dict[str, Mapping[Any, Any]] = {
        "status": STATUS_LABELS, "priority": PRIORITY_LABELS, "outcome": OUTCOME_LABELS,
        "channel": {"oral": _("Oral report"), "web": _("Web report")},
    }
    return str(by_field.get(key, {}).get(value, value))
