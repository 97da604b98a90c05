"""The reporters' app: landing page, anonymous submission, receipt, follow-up.

``create_app`` is a Flask application factory; ``python -m intake`` runs a development
server that logs no client address, user agent or referrer.

Cookies: none until the reporter opens a form. The Flask session cookie (signed,
HttpOnly, SameSite=Strict, Secure over HTTPS, no expiry date) is created the first time a
page with a form is rendered, because Flask-WTF keeps the secret half of the CSRF token
there; the landing page, information and error pages have no form and set no cookie.
The follow-up session adds the client half of the reporter's split key to the same cookie.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, redirect, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from cases.attachments.cleaning import MAX_HELD_BYTES
from cases.bodies import Event
from cases.store import Store
from config import Settings, load_settings
from config.http import security_headers
from config.languages import file_size
from config.logs import install as install_log_filters
from config.requestbody import guard_request_bodies, minimum_rate
from intake import errors, i18n, limits, work
from intake.parsing import IntakeRequest
from intake.sealing import sealing_policy
from intake.uploads import megabytes

CSRF_TIME_LIMIT = 48 * 3600  # a slow reporter keeps a usable form for two days


class _NoCookieUntilNeeded(SecureCookieSessionInterface):
    """Flask only sets the cookie once the session is written; never refresh it otherwise."""

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        return bool(session.modified)


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    settings = settings or load_settings()
    # The services are checked once by whatever starts the server (the gunicorn config's
    # on_starting, `python -m intake`, `sealbox serve`), not here: a worker that gunicorn
    # starts again while the database is briefly away must answer 503 until it is back,
    # not fail to boot and so stop the whole server (tests/deploy/test_deploy_database_faults.py).
    store = store or Store(settings)
    app = Flask(__name__)
    rate = minimum_rate(settings.min_body_bytes_per_second, settings.body_rate_grace_seconds)
    app.wsgi_app = guard_request_bodies(app.wsgi_app, rate)  # type: ignore[method-assign, assignment]
    # Flask logs an exception it did not expect with its traceback: the class only.
    install_log_filters(app.logger)
    app.request_class = IntakeRequest
    app.jinja_env.globals["events"] = Event  # the message events (cases.bodies)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.session_interface = _NoCookieUntilNeeded()
    _configure(app, settings)
    work.init_app(app, store)
    i18n.init_app(app)
    _register_blueprints(app)
    # Flask-WTF's own before_request check would parse the body before any rate limit is
    # counted, so a flood of forged tokens would never be limited: instead every view checks
    # CSRF itself, inside its rate limits (limits.init_app), before it reads the form.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    limits.init_app(app, CSRFProtect(app))
    errors.init_app(app)
    _install_response_hooks(app, settings)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    https = settings.require_https_cookies
    app.config.update(
        SEALBOX_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="__Host-sealbox" if https else "sealbox",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_PATH="/",
        SESSION_PERMANENT=False,
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=CSRF_TIME_LIMIT,
        # Our pages send no Referer (Referrer-Policy: no-referrer), so Flask-WTF's
        # HTTPS referrer check would refuse every form; SameSite=Strict covers it.
        WTF_CSRF_SSL_STRICT=False,
        MAX_FORM_PARTS=200,
        TEMPLATES_AUTO_RELOAD=False,
        JSON_AS_ASCII=False,
    )


def _register_blueprints(app: Flask) -> None:
    from intake.followup.views import bp as followup_bp
    from intake.main.views import bp as main_bp
    from intake.report.receipt_views import bp as receipt_bp
    from intake.report.sealed_views import bp as sealed_bp
    from intake.report.views import bp as report_bp

    app.register_blueprint(main_bp, url_prefix="/<lang>")
    app.register_blueprint(report_bp, url_prefix="/<lang>/report")
    app.register_blueprint(receipt_bp, url_prefix="/<lang>/report")
    app.register_blueprint(sealed_bp, url_prefix="/<lang>/report")
    app.register_blueprint(followup_bp, url_prefix="/<lang>/followup")

    @app.get("/")
    def root() -> Response:
        response = redirect(url_for("main.index", lang=i18n.best_language()), code=303)
        response.headers["Vary"] = "Accept-Language"
        return response


def _install_response_hooks(app: Flask, settings: Settings) -> None:
    """The security headers on every response, and what every template knows."""
    headers = security_headers(https=settings.require_https_cookies)

    @app.after_request
    def _harden(response: Response) -> Response:
        for name, value in headers.items():
            response.headers[name] = value
        sealing_policy(response)
        response.headers.pop("Server", None)
        return response

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"settings": settings, "today": dt.date.today()}

    app.add_template_filter(megabytes)
    app.jinja_env.globals["cleaning_max_bytes"] = MAX_HELD_BYTES  # also for imported macros
    app.add_template_filter(lambda size: file_size(size, str(get_locale() or "en")), "file_size")
