"""Request plumbing shared by the blueprints: the request's database session, the signed-in
caseworker (split-key session), role checks, and small helpers.

The caseworker's private key is joined from the cookie half and the database half only
when a view asks for it (:func:`private_key`), kept on ``flask.g`` for that request, and
dropped when the request ends.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from cases.accounts.security_keys import RelyingParty
from cases.accounts.sessions import ActiveSession, LoginThrottle, Stage, load_session
from cases.db import release
from cases.models import Caseworker, Category
from cases.store import Store
from config import Settings

F = TypeVar("F", bound=Callable[..., Any])


def store() -> Store:
    return cast(Store, current_app.extensions["sealbox_store"])


def settings() -> Settings:
    return store().settings


def throttle() -> LoginThrottle:
    return cast(LoginThrottle, current_app.extensions["sealbox_throttle"])


def db() -> Session:
    """The request's database session; committed after the view (also when the view
    answers with a 4xx page it chose), rolled back if it raises or the app answers with
    its 500 or 503 page."""
    if "db" not in g:
        g.db = store().sessions()
    return cast(Session, g.db)


def commit_request_session() -> None:
    if "db" in g and not g.get("db_rollback"):
        g.db.commit()


def abandon_request_session() -> None:
    """An error page is answered: nothing the request did is committed."""
    g.db_rollback = True


def request_failed(exc: BaseException | None) -> bool:
    """Whether nothing this request did is to be kept (it raised, or an error page)."""
    return exc is not None or bool(g.get("db_rollback"))


def close_request_session(exc: BaseException | None) -> None:
    session = g.pop("db", None)
    g.pop("private_key", None)
    if session is not None:
        release(session, rollback=request_failed(exc))


def quietly(cleanup: Callable[[], None]) -> None:
    """A clean-up after a failed request must not hide the failure (the database may be
    what failed): logged by class, never raised."""
    try:
        cleanup()
    except SQLAlchemyError as exc:
        current_app.logger.warning("cleanup after the request failed: %s",
                                   exc.__class__.__name__)


def cookie_name() -> str:
    return "__Host-sealbox-cw" if settings().require_https_cookies else "sealbox_cw"


def load_current_session() -> None:
    """Once per request: the upload of a reply's files may need it before the hooks run."""
    if "cw" not in g:
        g.cw = load_session(db(), settings(), request.cookies.get(cookie_name()))


def active() -> ActiveSession | None:
    return cast(ActiveSession | None, g.get("cw"))


def current_account() -> Caseworker | None:
    """The signed-in caseworker (second factor passed), or None."""
    session = active()
    if session is None or session.stage is not Stage.FULL:
        return None
    return session.account


def account() -> Caseworker:
    current = current_account()
    if current is None:
        abort(401)
    return current


def private_key() -> bytes:
    if "private_key" not in g:
        session = active()
        if session is None or session.stage is not Stage.FULL:
            abort(401)
        g.private_key = session.private_key()
    return cast(bytes, g.private_key)


def signed_in(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def require_role(role: str) -> Callable[[], Response | None]:
    """A blueprint ``before_request`` hook: signed in, and holding ``role``."""

    def check() -> Response | None:
        current = current_account()
        if current is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not getattr(current, f"is_{role}"):
            abort(403)
        return None

    return check


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths: never redirect a caseworker to another site after login."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target:
        return fallback
    return target


def lookup_names() -> tuple[dict[int, str], dict[int, str]]:
    """Category and caseworker names, loaded once per page (small tables)."""
    db_ = db()
    categories = {k: v for k, v in db_.execute(select(Category.id, Category.name))}
    people = {
        cid: (display or username)
        for cid, display, username in db_.execute(
            select(Caseworker.id, Caseworker.display_name, Caseworker.username)
        )
    }
    return categories, people


def relying_party() -> RelyingParty:
    """Whom security keys are registered with: the configured caseworker address, else
    the address this request came to (the browser checks it matches the page's origin)."""
    configured = settings().caseworker_url.rstrip("/")
    origin = configured or request.host_url.rstrip("/")
    host = urlsplit(origin).hostname or "localhost"
    return RelyingParty(rp_id=host, origin=origin, name=settings().organisation_name)
