"""Rate limits (flask-limiter) keyed on a value that can never lead back to an address.

The per-client key is a keyed BLAKE2b of the client address under a random key that lives
only in this process's memory and is replaced every hour. Rate-limit storage (memory, or
Redis in production) therefore only ever holds digests that nobody, not even someone with
the server's disk and secrets, can link to an address; and after the hour they cannot be
linked to each other either. Behind nginx the address is the one nginx passes in its own
header from the proxy's address only (config/clients.py); the digest is taken before any
view runs and the address is dropped from the request.

Two consequences are accepted and documented:

* Each worker process has its own key, so per-client limits count per process (the
  *global* limits, keyed on a constant, are shared by every process through the storage).
* On the onion service every visitor arrives from the same local address. Counting them
  as one client would let one abuser lock out every Tor reporter, so per-client limits do
  not apply there; the global limits and Tor's proof-of-work defence do. "There" is the
  onion listener the request was accepted on, never a Host header a client can write.
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect

from config.clients import CLIENT_KEY, VIA_ONION, ClientKeys
from crypto import keyed_digest
from intake.work import settings

ROTATE_SECONDS = 3600


class RotatingKey:
    """A random key replaced every ``period`` seconds; never written anywhere."""

    def __init__(self, period: int = ROTATE_SECONDS) -> None:
        self.period = period
        self._lock = threading.Lock()
        self._epoch = -1
        self._key = b""

    def current(self, now: float | None = None) -> bytes:
        epoch = int((time.time() if now is None else now) // self.period)
        with self._lock:
            if epoch != self._epoch:
                self._epoch, self._key = epoch, secrets.token_bytes(32)
            return self._key


ROTATING_KEY = RotatingKey()


def digest_of_address(address: bytes) -> str:
    return "c-" + keyed_digest(ROTATING_KEY.current(), address).hex()[:32]


def client_key() -> str:
    return str(request.environ[CLIENT_KEY])


def global_key() -> str:
    return "all"


def via_onion() -> bool:
    return bool(request.environ.get(VIA_ONION))


def _per_hour(name: str, factor: int = 1) -> str:
    return f"{getattr(settings(), name) * factor}/hour"


def _per_minute(name: str) -> str:
    return f"{getattr(settings(), name)}/minute"


# Which limits each kind of view gets: (per-client limit, global limit).
KINDS = {
    # A new report.
    "submit": (
        lambda: _per_hour("submissions_per_hour_per_client"),
        lambda: _per_minute("submissions_per_minute_global"),
    ),
    # A receipt look-up (one Argon2id derivation each).
    "lookup": (
        lambda: _per_hour("lookups_per_hour_per_client"),
        lambda: _per_minute("lookups_per_minute_global"),
    ),
    # Messages, files, identity and retaliation reports during follow-up.
    "write": (
        lambda: _per_hour("submissions_per_hour_per_client", 6),
        lambda: _per_minute("submissions_per_minute_global"),
    ),
}


View = TypeVar("View", bound=Callable[..., Any])


def rate_limited(kind: str) -> Callable[[View], View]:
    """Mark a view for the limits of ``kind`` (applied to POST requests by create_app)."""
    if kind not in KINDS:
        raise ValueError(kind)

    def mark(view: View) -> View:
        view.rate_limit_kind = kind  # type: ignore[attr-defined]
        return view

    return mark


def retry_after_seconds() -> int:
    """Seconds until the limit that was hit resets (at least one)."""
    current = current_app.extensions["sealbox_limiter"].current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _csrf_checked(view: Callable[..., Any], csrf: CSRFProtect) -> Callable[..., Any]:
    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if request.method in _UNSAFE_METHODS:
            csrf.protect()
        return view(*args, **kwargs)

    return checked


def _not_refused_by_a_limit(response: Response) -> bool:
    """The global allowance is spent only by requests the per-client limit let through:
    one client hammering its own 429s must not use up everyone's (flask-limiter checks the
    per-minute global limit before the per-hour client one, so it would count them)."""
    return response.status_code != 429


def init_app(app: Flask, csrf: CSRFProtect) -> Limiter:
    """A Limiter of this app's own; every view checks CSRF, inside its limits if it has any.

    Order per request: rate limits, then the CSRF token (which parses the form), then the
    view. A refused request is therefore refused before its body is read, and requests with
    forged or stale tokens count against the limits like any other."""
    instance = app.config["SEALBOX_SETTINGS"]  # at start-up: no request to ask yet
    app.config["RATELIMIT_STORAGE_URI"] = instance.ratelimit_storage_uri
    app.config["RATELIMIT_STRATEGY"] = "fixed-window"
    app.config["RATELIMIT_KEY_PREFIX"] = "sealbox-intake"
    app.wsgi_app = ClientKeys(  # type: ignore[method-assign]
        app.wsgi_app,
        trusted_proxies=instance.trusted_proxies,
        digest=digest_of_address,
        onion_listen=instance.onion_listen,
    )
    limiter = Limiter(key_func=client_key, default_limits=[], headers_enabled=False)
    limiter.init_app(app)
    app.extensions["sealbox_limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        wrapped = _csrf_checked(view, csrf)
        kind = getattr(view, "rate_limit_kind", None)
        if kind is not None:
            per_client, overall = KINDS[kind]
            wrapped = limiter.limit(
                per_client, exempt_when=via_onion, scope=f"{kind}-client", methods=["POST"]
            )(wrapped)
            wrapped = limiter.limit(
                overall, key_func=global_key, scope=f"{kind}-all", methods=["POST"],
                deduct_when=_not_refused_by_a_limit,
            )(wrapped)
        app.view_functions[endpoint] = wrapped
    return limiter
