"""Caseworker usernames cannot be told apart by how long the sign-in takes.

A sign-in with a real username and the right passphrase costs two Argon2id runs (the login
hash, then the key unwrap); an unknown username burns the same two. A real username with a
wrong passphrase used to stop after the first, so it answered in about half the time and
told an attacker which usernames exist. Here the real sign-in route is timed for the three
kinds of attempt in interleaved rounds (so machine load hits all three alike) and the
medians are compared both ways, beside an exact count of the Argon2 runs of each attempt.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import argon2
import pytest
from secapp import CW_PASSPHRASE, cw_csrf

import crypto._primitives as primitives
from cases.accounts.enrolment import create_caseworker
from cases.store import Store
from caseworker import create_app

ROUNDS = 9
# A cost at which Argon2 is most of a sign-in, as at the defaults (128 MiB, 3 passes).
KDF = {"passphrase_kdf_opslimit": 2, "passphrase_kdf_memlimit_mib": 48}


@pytest.fixture
def timing_app(store: Store) -> Any:
    settings = replace(store.settings, login_attempts_before_lockout=10_000, **KDF)
    timed = Store(settings, engine=store.engine)
    with timed.transaction() as db:
        create_caseworker(db, settings, "alice", CW_PASSPHRASE)
    app = create_app(settings, timed)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def argon2_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Argon2 run a sign-in makes: hash checks (argon2-cffi) and key derivations."""
    runs: list[str] = []
    real_kdf = primitives.argon2id_kdf
    real_verify = argon2.PasswordHasher.verify

    def kdf(*args: Any, **kwargs: Any) -> bytes:
        runs.append("kdf")
        return real_kdf(*args, **kwargs)

    def verify(self: argon2.PasswordHasher, *args: Any, **kwargs: Any) -> Any:
        runs.append("verify")
        return real_verify(self, *args, **kwargs)

    monkeypatch.setattr(primitives, "argon2id_kdf", kdf)
    monkeypatch.setattr(argon2.PasswordHasher, "verify", verify)
    return runs


ATTEMPTS = {
    "unknown user": ("nobody-here", "not the passphrase at all"),
    "wrong passphrase": ("alice", "not the passphrase at all"),
    "right passphrase": ("alice", CW_PASSPHRASE),
}


def _attempt(app: Any, kind: str, round_no: int) -> Callable[[], int]:
    """One sign-in POST from a fresh browser (and address: the per-client limit of the
    sign-in form is not what is measured here); returns a timer-free callable."""
    client = app.test_client()
    address = f"198.51.100.{round_no % 250 + 1}"
    token = cw_csrf(client, "/login")
    username, passphrase = ATTEMPTS[kind]

    def post() -> int:
        response = client.post(
            "/login",
            data={"username": username, "passphrase": passphrase, "csrf_token": token},
            environ_base={"REMOTE_ADDR": address},
        )
        return int(response.status_code)

    return post


def test_every_kind_of_sign_in_costs_the_same_argon2_runs(
    timing_app: Any, argon2_runs: list[str]
) -> None:
    counts = {}
    for round_no, kind in enumerate(ATTEMPTS):
        post = _attempt(timing_app, kind, round_no)
        argon2_runs.clear()
        status = post()
        assert status == (302 if kind == "right passphrase" else 200)
        counts[kind] = sorted(argon2_runs)
    assert counts == {kind: ["kdf", "verify"] for kind in ATTEMPTS}, counts


@pytest.mark.slow
def test_sign_in_time_does_not_tell_which_usernames_exist(timing_app: Any) -> None:
    samples: dict[str, list[float]] = {kind: [] for kind in ATTEMPTS}
    for round_no in range(ROUNDS + 1):
        order = list(ATTEMPTS)
        order = order[round_no % 3 :] + order[: round_no % 3]  # rotate who goes first
        for kind in order:
            post = _attempt(timing_app, kind, round_no)
            start = time.perf_counter()
            post()
            if round_no:  # round 0 warms caches (the dummy hash, templates)
                samples[kind].append(time.perf_counter() - start)
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    right = medians["right passphrase"]
    for kind in ("unknown user", "wrong passphrase"):
        ratio = medians[kind] / right
        # Two-sided: a leak shows as about 0.5 (one Argon2 run where two were expected)
        # or 2 (one too many); the same work stays near 1 on a loaded machine.
        assert 0.75 < ratio < 1.33, (kind, ratio, medians)
