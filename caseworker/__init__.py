"""Sealbox's caseworker back office: a Flask application factory.

It runs as its own process, on an internal address, and never imports the intake app.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import IO, Any
from urllib.parse import urlsplit

from babel import dates as babel_dates
from flask import Flask, Request, current_app, g, request
from flask_babel import Babel, format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from cases.bodies import Event
from cases.store import Store
from config import Settings, load_settings
from config.http import security_headers
from config.languages import text_direction
from config.logs import install as install_log_filters
from config.requestbody import guard_request_bodies, minimum_rate

MAX_FORM_BYTES = 2 * 1024 * 1024


class _Request(Request):
    """A multipart part without a name reaches the form as the key None, on which
    Flask-WTF's CSRF check crashes (a 500 any client could cause): refuse it with a 400.
    A file part is encrypted as it arrives, or drained (caseworker.casefile.uploads): never
    spooled to a temporary file. Only a reply's or a note's body may be as large as the intake's."""

    @property
    def max_content_length(self) -> int | None:
        from caseworker.casefile.uploads import FILE_ENDPOINTS

        if self.endpoint in FILE_ENDPOINTS and self.mimetype == "multipart/form-data":
            return int(current_app.config["SEALBOX_MAX_REPLY_BYTES"])
        return MAX_FORM_BYTES

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        raise AttributeError("set by the app")

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        from caseworker.casefile.uploads import file_sink

        return file_sink(filename or "", content_type or "")  # type: ignore[return-value]

    def _load_form_data(self) -> None:
        super()._load_form_data()
        if None in self.form or None in self.files:
            raise BadRequest("a form field has no name")


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    if settings is None:
        settings = store.settings if store is not None else load_settings()
    if store is None:
        # Services are checked by what starts the server, never at a worker's boot: see
        # intake.create_app.
        store = Store(settings)
    app = Flask(__name__, static_folder="static", template_folder="templates")
    rate = minimum_rate(settings.min_body_bytes_per_second, settings.body_rate_grace_seconds)
    app.wsgi_app = guard_request_bodies(app.wsgi_app, rate)  # type: ignore[method-assign, assignment]
    # Flask logs an exception it did not expect with its traceback: the class only.
    install_log_filters(app.logger)
    app.request_class = _Request
    _configure(app, settings)
    app.extensions["sealbox_store"] = store
    app.jinja_env.globals["events"] = Event  # the message events (cases.bodies)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from caseworker.limits import init_limits

    init_limits(app, settings)
    CSRFProtect(app)
    Babel(app, locale_selector=_select_locale, default_translation_directories="translations")
    _register_blueprints(app)
    _install_request_hooks(app, settings)

    from caseworker import errors, templating

    templating.register(app)
    errors.init_app(app)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    https = settings.require_https_cookies
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Flask's own (signed) session cookie carries only the CSRF token and flash notices.
        SESSION_COOKIE_NAME="__Host-sealbox-cw-form" if https else "sealbox_cw_form",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_PATH="/",
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
        SEALBOX_MAX_REPLY_BYTES=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=MAX_FORM_BYTES,
        WTF_CSRF_TIME_LIMIT=settings.caseworker_absolute_hours * 3600,
        # Referrer-Policy is no-referrer, so the Referer check Flask-WTF does on HTTPS would
        # refuse every form; same-origin is checked on the Origin header instead.
        WTF_CSRF_SSL_STRICT=False,
        PREFERRED_URL_SCHEME="https" if https else "http",
        TEMPLATES_AUTO_RELOAD=False,
    )


def _register_blueprints(app: Flask) -> None:
    from caseworker.account.views import bp as account_bp
    from caseworker.admin.views import bp as admin_bp

    # Security keys add routes to both the sign-in and the account blueprints.
    from caseworker.auth import key_views  # noqa: F401
    from caseworker.auth.views import bp as auth_bp
    from caseworker.casefile.views import bp as casefile_bp
    from caseworker.identity.views import bp as identity_bp
    from caseworker.inbox.views import bp as inbox_bp

    for blueprint in (auth_bp, account_bp, inbox_bp, casefile_bp, identity_bp, admin_bp):
        app.register_blueprint(blueprint)


def _install_request_hooks(app: Flask, settings: Settings) -> None:
    """One database session per request, committed after the view; the security headers;
    what every template knows."""
    from caseworker import web
    from caseworker.casefile.uploads import discard as discard_files

    headers = security_headers(https=settings.require_https_cookies, webauthn=True)

    @app.before_request
    def _load_session() -> Response | None:
        if request.endpoint == "static":
            return None
        refused = _check_origin()
        if refused is not None:
            return refused
        web.load_current_session()
        return None

    @app.after_request
    def _finish(response: Response) -> Response:
        # Headers first: if the commit fails, the error page's own pass through here
        # must still set them.
        for name, value in headers.items():
            if name not in response.headers:
                response.headers[name] = value
        discard_files()  # files a reply did not take: never part of what is committed
        web.commit_request_session()
        if request.endpoint == "static":
            # Public, unchanging style sheet: caching it is harmless.
            response.headers["Cache-Control"] = "public, max-age=3600"
            response.headers.pop("Pragma", None)
        return response

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        if web.request_failed(exc):
            web.quietly(lambda: discard_files(taken_too=True))
        web.close_request_session(exc)

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        locale = str(get_locale() or "en")
        return {
            "current_account": web.current_account(),
            "page_lang": locale,
            "page_dir": text_direction(locale),
            "organisation_name": settings.organisation_name,
            "fmt_date": _fmt_date,
            "fmt_datetime": _fmt_datetime,
            "today": dt.date.today(),
        }


def _fmt_date(value: dt.date | None) -> str:
    if not value:
        return "—"
    if type(value) is dt.date:  # what Flask-Babel's format_date gives for a date
        return _date_in(value, str(get_locale() or "en"))
    return str(format_date(value, "medium"))


@lru_cache(maxsize=4096)
def _date_in(value: dt.date, locale: str) -> str:
    """A date as the locale writes it: the case page and the inbox show a hundred dates a
    view, and Babel took about 80 µs for each (bench/bench_case_open.py)."""
    return str(babel_dates.format_date(value, "medium", locale=locale))


def _fmt_datetime(value: dt.datetime | None) -> str:
    """A moment in the caseworker's language, in UTC, as the audit log records it."""
    return f"{format_datetime(value, 'medium')} UTC" if value else "—"


def _select_locale() -> str:
    from caseworker import web

    languages = web.settings().caseworker_languages
    session = g.get("cw")
    if session is not None and session.account.language in languages:
        return str(session.account.language)
    return request.accept_languages.best_match(languages) or languages[0]


def _check_origin() -> Response | None:
    """Refuse state-changing requests sent from another site (defence in depth with the
    SameSite=Strict cookies and the CSRF token). The host name is compared, not the port:
    a TLS proxy may pass the Host header without the public port."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if origin == "null":
        # Our own pages send `Referrer-Policy: no-referrer`, and with it browsers send
        # `Origin: null` on every form POST; Sec-Fetch-Site still tells where it came from.
        site = request.headers.get("Sec-Fetch-Site")
        return None if site in (None, "same-origin") else _forbidden()
    origin_host = urlsplit(origin).hostname
    if origin_host is None or origin_host != urlsplit(f"//{request.host}").hostname:
        return _forbidden()
    return None


def _forbidden() -> Response:
    return Response(_("This request came from another site and was refused."), 403)
