"""What the report form carries for its script when the instance seals in the browser
(``settings.seal_in_browser``): the words of the steps the script shows in place of the
review page, and what it needs to make the report's body as the server would
(``ReportForm.report_body``: each question's key and recorded label, the limits)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _

from intake.fields import SHORT_CHARS
from intake.i18n import current_language
from intake.report.checks import reasons
from intake.report.forms import ReportForm
from intake.uploads import megabytes
from intake.work import settings


def _words() -> dict[str, str]:
    return {
        "problem": _("There is a problem"),
        "required": _(
            "Describe what happened. This is the only part of the form you must fill in."),
        "too_long": _(
            "This text has %(count)d characters; the limit is %(limit)d. Shorten it, or put "
            "the rest in a file or in a message after sending.", count=999_999_001,
            limit=999_999_002),
        "excluded": _("People who must not see your report"),
        "nobody_excluded": _("Nobody excluded"),
        "identity": _("Your identity"),
        "identity_given": " ".join([_("You are telling us who you are."),
                                    _("This part is sealed for specially authorised staff only.")]),
        "identity_none": _("Not given: your report is anonymous."),
        "sealing": _("Sealing your report in this browser and sending it…"),
        "failed": _("Your report was not sent."),
        "not_verified": _(
            "The keys of the people who would read your report could not be checked, so "
            "nothing was sealed or sent. Try again later."),
        "offline": _(
            "The connection failed, so your report may not have been sent. Send it once "
            "more: it is stored only once."),
        "sent_receipt": _(
            "Your report has been sent. Write down your receipt now: it cannot be shown "
            "again. Your receipt:"),
        **_file_words(),
    }


def _file_words() -> dict[str, str]:
    """The files' words, limits filled in; ``{name}`` is the script's to fill."""
    instance = settings()
    return {
        "too_many_files": _(
            "You chose more than %(count)d files. Send at most %(count)d now; you can add more "
            "later with your receipt.", count=instance.max_files_per_submission),
        "file_too_large": _(
            "The file “%(name)s” is larger than %(mb)s MB, the limit for one file.",
            name="{name}", mb=megabytes(instance.max_file_bytes)),
        "file_cleaned": _("Its hidden information will be removed in this browser."),
        "file_as_is": _(
            "It will be sent as it is: this browser cannot remove its hidden information."),
        "file_kept": _("Kept as you sent it: you chose to keep its hidden information."),
        "sending_file": _("Sealing your files in this browser and sending them: file %(number)d "
                          "of %(count)d…", number=999_999_001, count=999_999_002),
    }


def _identifying(form: ReportForm) -> dict[str, Any]:
    """What the browser's "what could identify you" check needs (intake.report.checks has
    the server's): staff names only where the form shows them anyway (the policy), since
    this list is in the page for anyone to read."""
    instance = settings()
    people = [cw.display_name for cw in form.options.caseworkers
              if cw.display_name] if form.options.show_names else []
    return {"places": list(instance.identifying_names), "people": people,
            "region": instance.phone_region, "reasons": reasons()}


def sealing_data(form: ReportForm, max_chars: int) -> dict[str, Any]:
    questions = [
        {"key": spec.key, "name": f"q_{spec.key}", "question": spec.recorded_label or spec.label,
         "limit": max_chars if spec.kind == "textarea" else SHORT_CHARS}
        for spec, _field in form.question_fields()
    ]
    return {
        "base": url_for("report.form").rstrip("/"),
        "receipt_page": url_for("receipt.sealed_receipt"),
        "language": current_language(),
        "max_chars": max_chars,
        "short_chars": SHORT_CHARS,
        "questions": questions,
        "max_files": settings().max_files_per_submission,
        "max_file_bytes": settings().max_file_bytes,
        "words": _words(),
        "identifying": _identifying(form),
    }
