"""Rate limits for the sign-in forms, on the configured storage (memory:// in one process,
redis:// shared by every worker).

Clients are counted by a keyed hash of their address (behind nginx, the address nginx
passes from the proxy's address only: config/clients.py), so the storage never holds an
address in the clear; the account lockout itself lives in
``cases.accounts.sessions.LoginThrottle``.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, abort, current_app, request
from limits import RateLimitItem, parse, storage, strategies

from cases.accounts.sessions import CounterStorage, LoginThrottle
from config import Settings
from config.clients import CLIENT_KEY, ClientKeys
from crypto import keyed_digest

SIGN_IN_LIMIT = "30/minute"


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self.storage = storage.storage_from_string(settings.ratelimit_storage_uri)
        self._limiter = strategies.FixedWindowRateLimiter(self.storage)
        self._key = settings.secret_key[:64]
        self.sign_in: RateLimitItem = parse(SIGN_IN_LIMIT)

    def digest_of_address(self, address: bytes) -> str:
        return keyed_digest(self._key, b"client:" + address).hex()

    def hit(self, item: RateLimitItem, scope: str) -> bool:
        return bool(self._limiter.hit(item, "sealbox-cw", scope, request.environ[CLIENT_KEY]))


def init_limits(app: Flask, settings: Settings) -> None:
    limits = RateLimits(settings)
    app.wsgi_app = ClientKeys(  # type: ignore[method-assign]
        app.wsgi_app, trusted_proxies=settings.trusted_proxies, digest=limits.digest_of_address
    )
    app.extensions["sealbox_limits"] = limits
    # A synchronous limits storage (memory:// or redis://) has the counters it needs.
    storage = cast(CounterStorage, limits.storage)
    app.extensions["sealbox_throttle"] = LoginThrottle(settings, storage)


def limit_sign_in(scope: str) -> None:
    """Abort with 429 when this client has posted sign-in forms too often."""
    limits: RateLimits = current_app.extensions["sealbox_limits"]
    if not limits.hit(limits.sign_in, scope):
        abort(429)
