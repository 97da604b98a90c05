"""Error pages of the back office: the right status, a short readable message in the
caseworker's language, the usual headers, and nothing the request did committed.

* A database fault (it restarted, the connection was cut: ``cases.db.is_database_fault``)
  gives 503, also when it is the commit after the view that fails.
* A body that is broken or stalled (``config.requestbody``) gives 400 or 408.
* Anything else unexpected gives 500 and one log line naming only the exception's class.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, g, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from cases.db import is_database_fault
from caseworker import web
from config.logs import where_raised
from config.requestbody import UnreadableBody

MESSAGES: dict[int, Callable[[], str]] = {
    400: lambda: _("The request could not be understood."),
    401: lambda: _("Please sign in."),
    403: lambda: _("You are not allowed to do this."),
    404: lambda: _("There is nothing here, or you do not have access to it."),
    405: lambda: _("This page does not accept that kind of request."),
    408: lambda: _("What your browser was sending stopped arriving. Nothing was saved."),
    413: lambda: _("What you sent is too large."),
    429: lambda: _("Too many attempts. Wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Nothing you entered was shown to anyone."),
    503: lambda: _(
        "The database is briefly unavailable, so nothing was saved. Try again in a minute."
    ),
}


def error_page(code: int, message: str | None = None) -> tuple[str, int]:
    if code >= 500 or code == 408:
        web.abandon_request_session()
    text = message if message is not None else MESSAGES[code]()
    return render_template("errors/error.html", code=code, message=text), code


def _csrf(error: CSRFError) -> tuple[str, int]:
    return error_page(400, _("This form has expired. Go back, reload the page and try again."))


def _database_unavailable() -> tuple[str, int]:
    # The page is rendered without the signed-in account: its attributes may need the
    # database that just failed.
    g.pop("cw", None)
    return error_page(503)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int] | HTTPException:
        code = error.code or 500
        # A commit after the view that the database failed reaches here as a 500.
        if code == 500 and is_database_fault(getattr(error, "original_exception", None)):
            app.logger.error("database unavailable")
            return _database_unavailable()
        if code not in MESSAGES:
            if code >= 500:
                web.abandon_request_session()
            return error
        return error_page(code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        if is_database_fault(error):
            app.logger.error("database unavailable: %s", error.__class__.__name__)
            return _database_unavailable()
        if isinstance(error, UnreadableBody):  # broken or stalled: the client's fault
            return error_page(error.status)
        if app.testing or app.debug:
            raise error
        # The class and where it was raised: an exception's message could quote case content.
        app.logger.error("unhandled error: %s%s", error.__class__.__name__, where_raised(error))
        return error_page(500)
