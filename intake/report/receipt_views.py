"""The receipt page and what the reporter can do on it: download the receipt as a text
file, practise typing it once, take a calendar file with reminders, and confirm that it
is saved.

The receipt comes back from the page itself in each POST body, with the case's two
deadlines: nothing is looked up, and nothing is stored. It is never in a URL or a cookie.
"I have saved it" also brings back the form's submission id, so that from then on a resend
of the form no longer shows the receipt (cases.reporting.resend).
"""

from __future__ import annotations

import datetime as dt
import secrets
import unicodedata

import icalendar
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from cases.reporting.resend import mark_receipt_saved
from crypto import ReceiptError, format_receipt, normalize_receipt
from intake.work import commit, db, settings

bp = Blueprint("receipt", __name__)
MAX_TITLE_CHARS = 60
SEALED_RECEIPT_SLOT = "{receipt}"  # where the browser puts the receipt in the text file


def render_receipt(
    receipt: str,
    due: tuple[dt.date, dt.date],
    status: int = 200,
    error: str | None = None,
    practised: str | None = None,
    submission_id: str = "",
) -> Response:
    acknowledge_by, feedback_by = due
    html = render_template(
        "report/receipt.html",
        receipt=receipt,
        groups=format_receipt(receipt).split(" "),
        acknowledge_by=acknowledge_by,
        feedback_by=feedback_by,
        error=error,
        practised=practised,
        # The form's id comes back with "I have saved it", so a resend stops showing it.
        submission_id=submission_id or request.form.get("submission_id", "")[:64],
    )
    return current_app.make_response((html, status))


def _posted_receipt() -> str:
    try:
        return normalize_receipt(request.form.get("receipt", ""))
    except ReceiptError:
        raise BadRequest() from None


def _posted_due_dates() -> tuple[dt.date, dt.date]:
    """The case's deadlines, as the receipt page carried them (with the receipt itself)
    from the case it had just written: nothing is looked up again."""
    try:
        return (
            dt.date.fromisoformat(request.form.get("acknowledge_by", "")),
            dt.date.fromisoformat(request.form.get("feedback_by", "")),
        )
    except ValueError:
        raise BadRequest() from None


@bp.before_request
def _sealed_receipt_only_where_the_browser_seals() -> None:
    if request.endpoint == "receipt.sealed_receipt" and not settings().seal_in_browser:
        abort(404)  # before the form's check: there is no such page here


@bp.post("/sealed-receipt")
def sealed_receipt() -> Response:
    """The receipt page for a report sealed in the browser, without the receipt: the page's
    script made it and fills it in, and does what the page's buttons do with it in the
    browser (intake/static/sealing/report-page.mjs). Only the two dates come here."""
    acknowledge_by, feedback_by = _posted_due_dates()
    html = render_template(
        "report/receipt.html", sealed=True, receipt="", groups=[""] * 7,
        receipt_text=_receipt_text(SEALED_RECEIPT_SLOT, acknowledge_by, feedback_by),
        acknowledge_by=acknowledge_by, feedback_by=feedback_by,
        error=None, practised=None, submission_id="",
    )
    return current_app.make_response(html)


def _receipt_text(receipt: str, acknowledge_by: dt.date, feedback_by: dt.date) -> str:
    text = render_template(
        "report/receipt.txt", receipt=receipt, acknowledge_by=acknowledge_by,
        feedback_by=feedback_by,
    )
    return text.replace("\n", "\r\n")


@bp.post("/receipt.txt")
def download_receipt() -> Response:
    """The receipt as a text file."""
    receipt = _posted_receipt()
    text = _receipt_text(format_receipt(receipt), *_posted_due_dates())
    response = current_app.response_class(text, mimetype="text/plain")
    response.headers["Content-Disposition"] = 'attachment; filename="receipt.txt"'
    return response


@bp.post("/practise")
def practise() -> Response:
    """The reporter types the receipt once from their paper; the page says whether it is
    the same, and which groups differ (compared in memory only)."""
    receipt, due = _posted_receipt(), _posted_due_dates()
    typed = request.form.get("typed", "")
    try:
        same = normalize_receipt(typed) == receipt
    except ReceiptError:
        same = False
    if same:
        return render_receipt(receipt, due, practised=_(
            "Correct: what you wrote down is your receipt, digit for digit."))
    wrong = _differing_groups(receipt, typed)
    return render_receipt(receipt, due, 400, _(
        "That is not your receipt. Check group %(groups)s on your paper against the receipt "
        "above, then try again.", groups=", ".join(str(n) for n in wrong)))


def _differing_groups(receipt: str, typed: str) -> list[int]:
    """The numbers (1 to 7) of the groups of four that differ from what was typed; every
    group when the typing cannot be read as digits."""
    digits = [str(unicodedata.decimal(ch)) for ch in typed if unicodedata.decimal(ch, None)
              is not None]
    groups = ["".join(digits[i:i + 4]) for i in range(0, 28, 4)]
    wrong = [n + 1 for n in range(7) if groups[n:n + 1] != [receipt[4 * n:4 * n + 4]]]
    return wrong or list(range(1, 8))


@bp.post("/calendar.ics")
def calendar() -> Response:
    """Reminders of the two dates, under a title the reporter chooses, for a reporter who
    left no contact details. The file names no organisation, receipt or address (so a
    receipt page sealed in the browser sends none: only the dates)."""
    title = _clean_title(request.form.get("title", "")) or _("Reminder")
    reminders = icalendar.Calendar()
    reminders.add("prodid", "-//reminder//EN")
    reminders.add("version", "2.0")
    for day in _posted_due_dates():
        reminders.add_component(_event(day, title))
    response = current_app.response_class(reminders.to_ical(), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="reminder.ics"'
    return response


def _clean_title(text: str) -> str:
    kept = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(kept.split())[:MAX_TITLE_CHARS]


def _event(day: dt.date, title: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", secrets.token_hex(16))  # random: the file links to nothing
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("summary", title)
    event.add("transp", "TRANSPARENT")
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", title)
    alarm.add("trigger", dt.timedelta(hours=9))  # 09:00 on the day
    event.add_component(alarm)
    return event


@bp.post("/done")
def done() -> Response:
    if not request.form.get("receipt") and request.form.get("saved") == "yes":
        return current_app.make_response(render_template("report/done.html"))  # sealed
    receipt = _posted_receipt()
    if request.form.get("saved") != "yes":
        return render_receipt(
            receipt,
            _posted_due_dates(),
            400,
            _("Tick the box to confirm that you have saved your receipt."),
        )
    submission_id = request.form.get("submission_id", "")[:64]
    if submission_id:
        mark_receipt_saved(db(), settings().server_key, submission_id)
        commit()
    return current_app.make_response(render_template("report/done.html"))
