"""Error pages: a clear page in the reporter's language, the right status, no traceback.

Where the reporter was in the middle of writing (an expired form token, a database that is
briefly unavailable), the view's own recovery takes over and shows the form again with
everything they typed; see ``report.views`` and ``followup.views``.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    RequestTimeout,
    ServiceUnavailable,
)

from cases.db import is_database_fault
from config.logs import where_raised
from config.requestbody import StalledBody, UnreadableBody
from intake.limits import retry_after_seconds
from intake.uploads import InvalidEncoding, MalformedForm, megabytes
from intake.work import settings

log = logging.getLogger("intake")

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class DamagedBody(BadRequest):
    """The body was not valid HTTP or was cut off (``config.requestbody``)."""


class StalledRequest(RequestTimeout):
    """The body stopped arriving for the read timeout (``config.requestbody``)."""


class InsufficientStorage(HTTPException):
    """507: the attachment store (or the database's disk) is full."""

    code = 507
    description = "insufficient storage"

# Views that can recover from an error by showing their form again: endpoint -> handler
# returning a response, or None to fall back to the plain error page.
Recoverer = Callable[[HTTPException], "Response | None"]
RECOVERERS: dict[str, Recoverer] = {}


JSON_ENDPOINTS: set[str] = set()  # endpoints a script calls: their errors are JSON too


def answers_in_json(*endpoints: str) -> None:
    """These endpoints answer a page's script: an error is ``{"error", "title", "message"}``
    with the same status and words as the error page, for the script to show."""
    JSON_ENDPOINTS.update(endpoints)


def recovers(*endpoints: str) -> Callable[[Recoverer], Recoverer]:
    def register(fn: Recoverer) -> Recoverer:
        for endpoint in endpoints:
            RECOVERERS[endpoint] = fn
        return fn

    return register


def _explain(e: HTTPException) -> tuple[str, str]:
    """The page's title and text: what went wrong, that nothing was stored, what to do."""
    form_problem = _form_problem(e)
    if form_problem is not None:
        return form_problem
    code = e.code or 500
    if code == 413:
        return _too_large()
    if code == 429:
        minutes = max(1, (retry_after_seconds() + 59) // 60)
        return _("Too many attempts"), _(
            "To protect everyone's reports, this service limits how often it can be used. "
            "Nothing was stored. Please try again in %(minutes)d minutes.",
            minutes=minutes,
        )
    return _by_status(code)


def why_form_refused(e: CSRFError) -> str:
    """What happened to a form refused for its security code, in plain words (flask-wtf
    says which check failed in the description)."""
    reason = (e.description or "").lower()
    if "session token is missing" in reason:
        return str(_("Your browser did not send back the cookie this form needs: cookies may be "
                 "blocked for this site, or the browser was closed in between. Nothing was "
                 "sent and nothing was stored."))
    if "missing" in reason:
        return str(_("The form arrived without its security code: the page may have been saved "
                 "and opened again, or something changed it on the way. Nothing was sent and "
                 "nothing was stored."))
    if "expired" in reason:
        return str(_("The form was open for more than two days, so its security code ran out. "
                 "Nothing was sent and nothing was stored."))
    return str(_("The form's security code did not match this browser's: it may have been opened "
             "in another window or another browser. Nothing was sent and nothing was stored."))


def _form_problem(e: HTTPException) -> tuple[str, str] | None:
    if isinstance(e, CSRFError):
        return _("The form could not be accepted"), " ".join([why_form_refused(e), _(
            "Go back, reload the page, and send the form again. Your browser must accept "
            "cookies from this site while you use a form."
        )])
    if isinstance(e, InvalidEncoding):
        return _("The text could not be read"), _(
            "Some of the text arrived in an encoding we cannot read (it was not UTF-8). Nothing "
            "was stored. Go back and send the form again from an up-to-date browser."
        )
    if isinstance(e, StalledRequest):
        return _("The connection stopped"), _(
            "What your browser was sending stopped arriving for too long, so nothing was "
            "stored. Go back and send the form again; if your connection is slow, send "
            "fewer or smaller files at a time."
        )
    if isinstance(e, MalformedForm | DamagedBody):
        return _("The form arrived damaged"), _(
            "What your browser sent was not complete, readable form data, perhaps because the "
            "connection was interrupted. Nothing was stored. Go back and send the form again."
        )
    return None


def _too_large() -> tuple[str, str]:
    instance = settings()
    return _("What you sent is too large"), _(
        "Nothing was stored. The limits are: at most %(files)d files, "
        "each up to %(file_mb)s MB, "
        "and %(total_mb)s MB in total for one sending; a text field holds at most %(chars)d "
        "characters. Use your browser's Back button: your text is usually still there. "
        "Send fewer or smaller files, or add more files later with your receipt.",
        files=instance.max_files_per_submission,
        file_mb=megabytes(instance.max_file_bytes),
        total_mb=megabytes(instance.max_request_bytes),
        chars=instance.max_report_chars,
    )


def _by_status(code: int) -> tuple[str, str]:
    if code == 404:
        return _("Page not found"), _(
            "There is no page at this address. "
            "Check the address, or start again from the home page."
        )
    if code == 405:
        return _("This page cannot be used like this"), _(
            "This address only works when you send a form from our pages. "
            "Start again from the home page."
        )
    if code == 507:
        return _("There is no room to store this right now"), _(
            "The server's storage is full, so nothing was stored and no receipt was created. "
            "Please try again later. Your text is usually still there if you use your "
            "browser's Back button."
        )
    if code == 503:
        return _("The service is briefly unavailable"), _(
            "Nothing was stored. Please try again in a few minutes."
        )
    if code >= 500:
        return _("Something went wrong on our side"), _(
            "Nothing was stored, and no receipt was created. Please try again in a few minutes."
        )
    return _("We could not accept this request"), _(
        "What your browser sent could not be used. Nothing was stored. Go back and try again."
    )


def render_error(e: HTTPException) -> Response:
    code = e.code or 500
    title, message = _explain(e)
    if request.endpoint in JSON_ENDPOINTS:
        body = {"error": "http", "title": str(title), "message": str(message)}
        response = current_app.make_response((jsonify(body), code))
    else:
        response = current_app.make_response(
            (render_template("errors/error.html", title=title, message=message, code=code), code)
        )
    if code == 429:
        response.headers["Retry-After"] = str(retry_after_seconds())
    if code == 405 and isinstance(e, HTTPException):
        allowed = e.get_headers()
        for name, value in allowed:
            if name.lower() == "allow":
                response.headers["Allow"] = value
    return response


def handle_http(e: HTTPException) -> Response:
    recover = RECOVERERS.get(request.endpoint or "")
    if (
        recover is not None
        and (e.code or 500) in (400, 413, 503)
        and not isinstance(e, MalformedForm | InvalidEncoding)
    ):
        try:
            response = recover(e)
        except HTTPException:
            response = None
        if response is not None:
            return response
    return render_error(e)


def handle_exception(e: Exception) -> Response:
    if isinstance(e, UnreadableBody):
        return render_error(StalledRequest() if isinstance(e, StalledBody) else DamagedBody())
    if is_database_fault(e):
        log.error("database unavailable: %s", e.__class__.__name__)
        return handle_http(ServiceUnavailable())
    if isinstance(e, OSError) and e.errno in DISK_FULL:
        log.error("storage full: %s", errno.errorcode.get(e.errno or 0, "?"))
        return render_error(InsufficientStorage())
    # The class and where it was raised, as the caseworker app does: a traceback can quote
    # what was typed.
    log.error("unexpected error: %s%s", e.__class__.__name__, where_raised(e))
    return render_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_exception)
