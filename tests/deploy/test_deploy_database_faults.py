"""The database cut from under both apps while they serve: every request that meets the
fault gets the app's 503 page (with its usual headers), none a bare 500, and every report
that got a receipt is there, whole, afterwards (docs/OPERATIONS.md, "When things fail").

Real gunicorn (two intake processes, one caseworker process), real PostgreSQL; the
faults, in turns, are ``pg_terminate_backend`` on every connection of the apps' database
several times a second, and the database refusing connections for a few seconds (as while
PostgreSQL restarts) while gunicorn starts new workers, which must boot and answer 503
rather than stop the server; meanwhile reporters submit with a file, follow up, and a
caseworker reads cases.
Run with attachments in the database and in the instance's folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from appkit import PASSPHRASE, RECEIPT_RE, Client, Deployment, new_caseworker, totp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

requests = pytest.importorskip("requests", reason="the requests package is not installed")

RUN_SECONDS = 16
LIMITS = {
    "SEALBOX_SUBMISSIONS_PER_MINUTE_GLOBAL": "100000",
    "SEALBOX_LOOKUPS_PER_MINUTE_GLOBAL": "100000",
    "SEALBOX_SUBMISSIONS_PER_HOUR_PER_CLIENT": "100000",
    "SEALBOX_LOOKUPS_PER_HOUR_PER_CLIENT": "100000",
}
# What each app's 503 pages say (the intake's plain page, or its form shown again).
READABLE_503 = {
    "intake": ("briefly unavailable", "othing was stored"),
    "caseworker": ("The database is briefly unavailable, so nothing was saved",),
}


@dataclass
class Run:
    stop: threading.Event = field(default_factory=threading.Event)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)  # what must never happen, described
    accepted: list[tuple[str, str, bytes]] = field(default_factory=list)  # receipt, text, file
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, app: str, response: Any) -> int:
        status = int(response.status_code)
        with self.lock:
            self.statuses[(app, status)] += 1
            if status >= 500 and status != 503:
                self.bad.append(f"{app} {response.request.path_url} {status}")
            if status == 503 and (
                not all(words in response.text for words in READABLE_503[app])
                or "Content-Security-Policy" not in response.headers
            ):
                self.bad.append(f"{app} 503 without its page or headers: {response.text[:300]}")
        return status


def _reporter(base: str, run: Run, number: int) -> None:
    n = 0
    while not run.stop.is_set():
        n += 1
        client = Client(base, requests.Session())
        text_ = f"Report {number}-{n}: the clerk sells permits {os.urandom(4).hex()}."
        evidence = os.urandom(20_000)
        form = client.get("/en/report/")
        if run.saw("intake", form) != 200:
            continue
        review = client.submit(form, "/report/review", {"description": text_, "website": ""})
        if run.saw("intake", review) != 200:
            continue
        sent = client.submit(review, "/report/send", {}, files=[("minutes.pdf", evidence)])
        if run.saw("intake", sent) == 200:
            receipt = RECEIPT_RE.search(sent.text)
            assert receipt, sent.text[:2000]
            with run.lock:
                run.accepted.append((receipt.group(1), text_, evidence))


def _follower(base: str, run: Run) -> None:
    while not run.stop.is_set():
        with run.lock:
            known = list(run.accepted[-3:])
        if not known:
            time.sleep(0.05)
            continue
        for receipt, _text, _file in known:
            client = Client(base, requests.Session())
            login = client.get("/en/followup/")
            if run.saw("intake", login) != 200:
                continue
            signed_in = client.submit(login, "/followup/", {"receipt": receipt})
            if run.saw("intake", signed_in) != 303:
                continue
            case = client.get("/en/followup/case")
            if run.saw("intake", case) == 200:
                run.saw("intake", client.submit(case, "/message", {"text": "One more thing."}))


def _caseworker(base: str, run: Run, username: str, secret: str) -> None:
    staff = Client(base, requests.Session())
    while not run.stop.is_set():
        login = staff.get("/login")
        if run.saw("caseworker", login) != 200:
            continue
        passed = staff.submit(login, "/login", {"username": username, "passphrase": PASSPHRASE})
        if run.saw("caseworker", passed) != 302:
            continue
        code = staff.get(passed.headers["Location"])
        if run.saw("caseworker", code) != 200:
            continue
        if run.saw("caseworker", staff.submit(code, "/login/code", {"code": totp(secret)})) != 302:
            continue
        while not run.stop.is_set():
            inbox = staff.get("/")
            if run.saw("caseworker", inbox) in (302, 303):
                break  # signed out (a 503 during sign-in): sign in again
            for case_id in re.findall(r'href="/cases/([0-9a-f]{16})"', inbox.text)[:3]:
                run.saw("caseworker", staff.get(f"/cases/{case_id}"))


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _restart_one_worker_each(masters: list[int], restarts: list[int]) -> None:
    """SIGTERM: the worker finishes what it serves; its master starts a new one."""
    for master in masters:
        workers = _children(master)
        if workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(workers[0], signal.SIGTERM)
                restarts.append(workers[0])


def _faults(database_url: str, masters: list[int], run: Run, seen: Counter[str]) -> None:
    """In turns: every connection of the apps' database cut (pg_terminate_backend) every
    0.15 s for 3 s; then the database refusing every connection for 2.5 s (as while
    PostgreSQL restarts) while one worker of each app is restarted and boots."""
    name = make_url(database_url).database
    admin = create_engine(
        make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    terminate = text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = :name AND pid <> pg_backend_pid()"
    )
    restarts: list[int] = []
    with admin.connect() as conn:
        try:
            while not run.stop.is_set():
                for _ in range(20):
                    seen["cut"] += conn.execute(terminate, {"name": name}).scalar_one()
                    if run.stop.wait(0.15):
                        break
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                seen["cut"] += conn.execute(terminate, {"name": name}).scalar_one()
                _restart_one_worker_each(masters, restarts)
                seen["restarts"] = len(restarts)
                time.sleep(2.5)
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
                seen["outages"] += 1
        finally:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    admin.dispose()


def _run_all(workers: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # a worker's assertion fails the test, below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _readable_afterwards(base: str, accepted: list[tuple[str, str, bytes]]) -> None:
    for receipt, report, evidence in accepted:
        client = Client(base, requests.Session())
        login = client.get("/en/followup/")
        signed_in = client.submit(login, "/followup/", {"receipt": receipt})
        assert signed_in.status_code == 303, (receipt, signed_in.text[:2000])
        case = client.get("/en/followup/case")
        assert case.status_code == 200 and report in case.text, receipt
        link = re.search(r'href="([^"]*/followup/files/[^"]+)"', case.text)
        assert link, f"{receipt}: the report's file is missing"
        download = client.get(link.group(1).replace("&amp;", "&"))
        assert download.status_code == 200 and download.content == evidence, receipt


@pytest.mark.slow
@pytest.mark.parametrize("blobs", ["database", "filesystem"])
def test_cut_database_connections_give_503_pages_and_lose_nothing(
    deployment: Deployment, blobs: str
) -> None:
    username, secret = new_caseworker(deployment.store)
    settings = {**LIMITS, "SEALBOX_ATTACHMENT_STORAGE": blobs}
    intakes = [deployment.start("intake", **settings) for _ in range(2)]
    back_office = deployment.start("caseworker", workers=1, **settings)
    masters = [deployment.logs[base].proc.pid for base in (*intakes, back_office)]
    run, seen = Run(), Counter[str]()
    workers: list[Callable[[], None]] = [
        *(lambda i=i: _reporter(intakes[i % 2], run, i) for i in range(3)),
        lambda: _follower(intakes[1], run),
        lambda: _caseworker(back_office, run, username, secret),
        lambda: _faults(deployment.env["SEALBOX_DATABASE_URL"], masters, run, seen),
    ]
    timer = threading.Timer(RUN_SECONDS, run.stop.set)
    timer.start()
    errors = _run_all(workers)
    timer.cancel()
    assert not errors, errors
    assert not run.bad, run.bad[:10]
    # The faults really happened, many times, and workers booted in the outages.
    assert seen["cut"] > 20 and seen["outages"] >= 2 and seen["restarts"] >= 6, seen
    assert all(deployment.logs[base].proc.poll() is None for base in (*intakes, back_office))
    faults = sum(n for (_app, status), n in run.statuses.items() if status == 503)
    assert faults > 0, run.statuses  # ... and requests met it
    assert len(run.accepted) >= 3, run.statuses  # reports got through between the faults
    _readable_afterwards(intakes[0], run.accepted)
    for started in deployment.logs.values():
        log = started.output()
        assert "Traceback" not in log and "Error handling request" not in log, log[-3000:]
