"""A reporter's pages with nothing behind them: the floor of the page journeys.

The same paths and forms as the intake's report and follow-up pages, so that the
benchmarks' clients drive this floor and the app with one code path, but behind each page
only what no web channel can skip: the HTTP exchange, a signed session cookie, a CSRF token
checked on every POST, the form parsed, a redirect after each POST, and the one Argon2id
derivation at the receipt's cost that sending a report and signing in with a receipt each
pay (``$SEALBOX_BENCH_KDF_OPSLIMIT``, ``$SEALBOX_BENCH_KDF_MEMLIMIT``). Nothing is stored,
sealed, looked up or translated, and the pages are a few hundred bytes (the app's are
10 to 40 KiB): the client's share of the machine is as small as it can be here.

* ``GET /en/report/``, ``POST /en/report/review``, ``POST /en/report/send`` (derives, answers
  a page with ``data-receipt``): ``bench_submissions``' journey;
* ``GET|POST /en/followup/`` (the POST derives from the receipt), ``GET /en/followup/case``,
  ``POST /en/followup/case/main/message``, ``POST /en/followup/logout``:
  ``bench_followup``'s journey.
"""

from __future__ import annotations

import hmac
import os
import secrets

import nacl.pwhash.argon2id as argon2id
from flask import Blueprint, abort, redirect, request, session
from werkzeug.wrappers import Response

bp = Blueprint("bare_pages", __name__, url_prefix="/en")


def derive(secret: bytes) -> bytes:
    """One Argon2id at the receipt's cost, as the app pays it per submission and sign-in."""
    return argon2id.kdf(32, secret, os.urandom(argon2id.SALTBYTES),
                        opslimit=int(os.environ["SEALBOX_BENCH_KDF_OPSLIMIT"]),
                        memlimit=int(os.environ["SEALBOX_BENCH_KDF_MEMLIMIT"]))


def _token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def _checked() -> None:
    sent = request.form.get("csrf_token", "")
    if not hmac.compare_digest(sent, str(session.get("csrf", ""))) or not sent:
        abort(400)


def _page(body: str) -> str:
    return f'<!doctype html><html lang="en"><title>Bare</title><main>{body}</main></html>'


def _form(action: str, fields: str, multipart: bool = False) -> str:
    kind = ' enctype="multipart/form-data"' if multipart else ""
    return _page(f'<form method="post" action="{action}"{kind}><input type="hidden" '
                 f'name="csrf_token" value="{_token()}">{fields}<button>Send</button></form>')


@bp.get("/report/")
def report_form() -> str:
    return _form("/en/report/review", '<textarea name="description"></textarea>')


@bp.post("/report/review")
def report_review() -> str:
    _checked()
    if not request.form.get("description"):
        abort(400)
    return _form("/en/report/send", '<input type="hidden" name="description" value="x">',
                 multipart=True)


@bp.post("/report/send")
def report_send() -> str:
    _checked()
    receipt = "".join(secrets.choice("0123456789") for _ in range(16))
    derive(receipt.encode())
    spaced = " ".join(receipt[i:i + 4] for i in range(0, 16, 4))
    return _page(f'<p data-receipt="{spaced}">{spaced}</p>')


@bp.route("/followup/", methods=["GET", "POST"])
def login() -> str | Response:
    if request.method == "GET":
        return _form("/en/followup/", '<input name="receipt">')
    _checked()
    derive(request.form.get("receipt", "").encode())
    session["in"] = True
    return redirect("/en/followup/case", code=303)


@bp.get("/followup/case")
def case() -> str | Response:
    if not session.get("in"):
        return redirect("/en/followup/", code=303)
    done = "<p>Sent.</p>" if request.args.get("done") else ""
    return done + _form("/en/followup/case/main/message",
                        '<textarea name="main-text"></textarea>', multipart=True)


@bp.post("/followup/case/main/message")
def message() -> Response:
    _checked()
    if not session.get("in") or not request.form.get("main-text"):
        abort(400)
    return redirect("/en/followup/case?done=1", code=303)


@bp.post("/followup/logout")
def logout() -> str:
    _checked()
    session.clear()
    return _page("<p>Signed out.</p>")
