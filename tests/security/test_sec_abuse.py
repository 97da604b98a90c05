"""Abuse of the intake: receipt brute force and submission floods.

* Each receipt look-up costs one full Argon2id derivation at the configured cost (counted
  by wrapping ``crypto._primitives.argon2id_kdf``, which still runs), right or wrong.
* Right and wrong receipts run the same statements up to and including the look-up.
* Look-ups and submissions are limited per client and globally: a 429 page in the
  reporter's language with Retry-After, costing no derivation and storing nothing.
The cost of guessing a receipt is in docs/THREAT_MODEL.md (A8) and docs/CRYPTO.md.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from secapp import FlaskHTTP, Reporter, csrf_of
from sqlalchemy import event, func, select

import crypto._primitives as primitives
from cases.models import Case, Message
from cases.store import Store
from crypto import new_receipt

GENEROUS = {
    "submissions_per_hour_per_client": 1000,
    "lookups_per_hour_per_client": 1000,
    "submissions_per_minute_global": 1000,
    "lookups_per_minute_global": 1000,
}


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    calls: list[tuple[int, int]] = []
    real = primitives.argon2id_kdf

    def counting(size: int, secret: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
        calls.append((opslimit, memlimit))
        return real(size, secret, salt, opslimit, memlimit)

    monkeypatch.setattr(primitives, "argon2id_kdf", counting)
    return calls


def make_app(store: Store, **limits: int) -> tuple[Flask, Store]:
    from intake import create_app

    s = Store(replace(store.settings, **{**GENEROUS, **limits}), engine=store.engine)
    return create_app(s.settings, s), s


def cases(store: Store) -> tuple[int, int]:
    with store.transaction() as db:
        return (db.scalar(select(func.count()).select_from(Case)) or 0,
                db.scalar(select(func.count()).select_from(Message)) or 0)


def client_from(
    app: Flask, address: str, host: str = "localhost", connection: socket.socket | None = None
) -> Reporter:
    environ: dict[str, Any] = {"REMOTE_ADDR": address}
    if connection is not None:
        environ["gunicorn.socket"] = connection  # the listener it was accepted on
    http = FlaskHTTP(app.test_client(), environ=environ)
    http.headers["Host"] = host
    return Reporter(http)


def assert_429(r: Any, lang: str = "en") -> None:
    assert r.status == 429, f"{r.status}: {r.text[:800]}"
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 3600
    assert f'<html lang="{lang}"' in r.text and "Traceback" not in r.text
    assert r.receipt is None


def test_lookups_are_limited_per_client_with_429_and_retry_after(
    store: Store, derivations: list[tuple[int, int]]
) -> None:
    app, s = make_app(store, lookups_per_hour_per_client=5)
    attacker = client_from(app, "192.0.2.10")
    derivations.clear()
    for _ in range(5):
        assert attacker.login(new_receipt()).status == 400  # "no report matches"
    params = s.settings.receipt_kdf
    assert derivations == [(params.opslimit, params.memlimit)] * 5  # full cost, each time
    for lang in ("en", "fr"):
        attacker.lang = lang
        assert_429(attacker.login(new_receipt()), lang)
    assert len(derivations) == 5  # refused before any derivation
    # Another client is not affected by this one's limit.
    other = client_from(app, "192.0.2.11")
    assert other.login(new_receipt()).status == 400
    assert len(derivations) == 6


def test_lookups_are_limited_globally(store: Store, derivations: list[tuple[int, int]]) -> None:
    app, _ = make_app(store, lookups_per_minute_global=6)
    statuses = [client_from(app, f"192.0.2.{20 + i}").login(new_receipt()).status
                for i in range(8)]
    assert statuses == [400] * 6 + [429] * 2
    assert len(derivations) == 6


def test_onion_visitors_share_only_the_global_limit(
    store: Store, accepted: tuple[str, socket.socket]
) -> None:
    """Every onion visitor arrives from 127.0.0.1: per-client limits would let one abuser
    lock out every Tor reporter, so on the onion listener only the global limit applies."""
    listen, connection = accepted
    app, _ = make_app(
        store, lookups_per_hour_per_client=2, lookups_per_minute_global=5, onion_listen=listen
    )
    onion = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcd.onion"
    statuses = [client_from(app, "127.0.0.1", onion, connection).login(new_receipt()).status
                for _ in range(6)]
    assert statuses == [400] * 5 + [429]


def test_an_onion_host_header_drains_no_global_limit(store: Store) -> None:
    """A clear-web client that writes ``Host: x.onion`` is still counted as itself, so it
    cannot spend the global allowance that Tor reporters share."""
    app, _ = make_app(store, lookups_per_hour_per_client=2, lookups_per_minute_global=5)
    onion = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcd.onion"
    flood = [client_from(app, "192.0.2.66", onion).login(new_receipt()).status for _ in range(5)]
    assert flood == [400, 400, 429, 429, 429]
    assert client_from(app, "192.0.2.67").login(new_receipt()).status == 400


def test_each_app_lookup_costs_one_derivation_and_the_same_statements(
    store: Store, derivations: list[tuple[int, int]]
) -> None:
    app, s = make_app(store)
    right = client_from(app, "192.0.2.30").submit({"description": "timing"})
    seen: list[str] = []

    def on_execute(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        seen.append(statement)

    observed = {}
    event.listen(s.engine, "before_cursor_execute", on_execute)
    try:
        for label, receipt in (("right", right), ("wrong", new_receipt())):
            reporter = client_from(app, "192.0.2.31")
            page = reporter.http.get("/en/followup/")
            derivations.clear()
            seen.clear()
            r = reporter.http.post("/en/followup/", [("csrf_token", csrf_of(page.text)),
                                                     ("receipt", receipt)])
            lookup = next(i for i, st in enumerate(seen) if "lookup_hash" in st)
            observed[label] = (r.status, len(derivations), seen[: lookup + 1])
    finally:
        event.remove(s.engine, "before_cursor_execute", on_execute)
    assert observed["right"][0] == 303 and observed["wrong"][0] == 400
    assert observed["right"][1] == observed["wrong"][1] == 1
    assert observed["right"][2] == observed["wrong"][2]  # same statements up to the look-up


def test_submissions_are_limited_per_client(store: Store) -> None:
    app, s = make_app(store, submissions_per_hour_per_client=3)
    flooder = client_from(app, "192.0.2.40")
    for i in range(3):
        flooder.submit({"description": f"flood {i}"})
    before = cases(s)
    review = flooder.review({"description": "one too many"})
    assert review.status == 200  # writing and reviewing is never limited
    r = flooder.send(review, files=[("f.txt", b"x" * 100_000)])
    assert_429(r)
    assert cases(s) == before and before[0] == 3
    assert not [p for p in s.settings.blob_path.iterdir()]  # none of the files either
    assert client_from(app, "192.0.2.41").submit({"description": "someone else"})


def test_submissions_are_limited_globally(store: Store) -> None:
    app, s = make_app(store, submissions_per_minute_global=4)
    results = []
    for i in range(6):
        reporter = client_from(app, f"192.0.2.{50 + i}")
        results.append(reporter.send(reporter.review({"description": f"global {i}"})).status)
    assert results == [200] * 4 + [429] * 2
    assert cases(s)[0] == 4
