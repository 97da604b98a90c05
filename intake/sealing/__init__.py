"""Sealing in the reporter's browser (the server never sees the report): the libsodium.js
build step (:mod:`intake.sealing.vendor`), and the mark of the pages whose script seals.
The page code is ``intake/static/sealing/`` (sealbox-crypto.mjs: the formats;
sealed-report.mjs: a report, as ``cases.reporting.sealed`` stores it)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g
from werkzeug.wrappers import Response

from config.http import SEALING_CONTENT_SECURITY_POLICY


def seals_in_browser(view: Callable[..., Any]) -> Callable[..., Any]:
    """This page's script may run WebAssembly (config.http.SEALING_CONTENT_SECURITY_POLICY);
    every other page keeps the strict policy."""

    @functools.wraps(view)
    def marked(*args: Any, **kwargs: Any) -> Any:
        g.seals_in_browser = True
        return view(*args, **kwargs)

    return marked


def sealing_policy(response: Response) -> None:
    """The response hook's half: the sealing policy on the marked pages."""
    if g.get("seals_in_browser"):
        response.headers["Content-Security-Policy"] = SEALING_CONTENT_SECURITY_POLICY
