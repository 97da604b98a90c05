"""Both apps under real gunicorn with the shipped configurations, several processes
sharing one PostgreSQL database and one Redis, driven over HTTP through their real pages:

* a report sent to one intake process (with a file) is followed up through another,
  answered by a caseworker on the caseworker app, and the answer read on the first again;
* the global rate limits hold across processes with Redis storage, and are counted per
  process with memory storage (as docs/OPERATIONS.md says);
* where the kernel offers it (PR_SET_MDWE), the apps run with W^X memory enforced, as the
  systemd units' MemoryDenyWriteExecute=yes will make them.
"""

from __future__ import annotations

import ctypes
import os
import re
import secrets

import pytest
from appkit import PASSPHRASE, RECEIPT_RE, Client, Deployment, mdwe_available, new_caseworker, totp
from sqlalchemy import select

from cases.models import Case

requests = pytest.importorskip("requests", reason="the requests package is not installed")

REPORT = "The road contractor pays the director in cash every month."


# --- the tests ---------------------------------------------------------------------------------


def test_report_on_one_process_followed_up_on_another(deployment: Deployment) -> None:
    username, secret = new_caseworker(deployment.store)
    intake_a = deployment.start("intake")
    intake_b = deployment.start("intake")
    back_office = deployment.start("caseworker")

    # The reporter writes on host A, with a file.
    reporter = Client(intake_a, requests.Session())
    form_page = reporter.get("/en/report/")
    assert form_page.status_code == 200, form_page.text[:2000]
    review = reporter.submit(form_page, "/report/review", {"description": REPORT, "website": ""})
    assert review.status_code == 200, review.text[:3000]
    evidence = os.urandom(300_000)
    sent = reporter.submit(review, "/report/send", {}, files=[("ledger.pdf", evidence)])
    assert sent.status_code == 200, sent.text[:3000]
    receipt = RECEIPT_RE.search(sent.text).group(1)  # type: ignore[union-attr]

    # Days later, from another browser, through host B: log in with the receipt and add more.
    later = Client(intake_b, requests.Session())
    login_page = later.get("/en/followup/")
    logged_in = later.submit(login_page, "/followup/", {"receipt": receipt})
    assert logged_in.status_code == 303, logged_in.text[:2000]
    case_page = later.get("/en/followup/case")
    assert case_page.status_code == 200 and REPORT in case_page.text
    assert "ledger.pdf" in case_page.text
    added = later.submit(case_page, "/message", {"text": "He also keeps a second ledger."})
    assert added.status_code in (200, 303), added.text[:3000]

    # A caseworker reads both and answers, on the caseworker app.
    staff = Client(back_office, requests.Session())
    login = staff.get("/login")
    passed = staff.submit(login, "/login", {"username": username, "passphrase": PASSPHRASE})
    assert passed.status_code == 302 and "/login/code" in passed.headers["Location"], passed.text[
        :2000
    ]
    code_page = staff.get(passed.headers["Location"])
    signed_in = staff.submit(code_page, "/login/code", {"code": totp(secret)})
    assert signed_in.status_code == 302, signed_in.text[:2000]
    with deployment.store.transaction() as db:
        case_id = db.scalars(select(Case.id)).one()
    case_view = staff.get(f"/cases/{case_id}")
    assert case_view.status_code == 200
    assert REPORT in case_view.text and "He also keeps a second ledger." in case_view.text
    replied = staff.submit(
        case_view, f"/cases/{case_id}/reply", {"text": "Thank you, we are on it."}
    )
    assert replied.status_code == 302, replied.text[:3000]

    # The reporter's session from host B is used on host A: the answer is there, and the
    # file downloads intact (its ciphertext is in the shared database).
    later.base = intake_a
    again = later.get("/en/followup/case")
    assert again.status_code == 200 and "Thank you, we are on it." in again.text
    link = re.search(r'href="([^"]*/followup/files/[^"]+)"', again.text)
    assert link, "no attachment link"
    download = later.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200 and download.content == evidence


def _lookup_statuses(clients: list[Client], rounds: int) -> list[int]:
    """Wrong (well-formed) receipts posted round-robin to the given intake processes."""
    from crypto import new_receipt

    statuses = []
    for i in range(rounds):
        client = clients[i % len(clients)]
        page = client.get("/en/followup/")  # a fresh form (and CSRF token) each time
        statuses.append(client.submit(page, "/followup/", {"receipt": new_receipt()}).status_code)
    return statuses


def test_global_rate_limit_holds_across_processes_with_redis(deployment: Deployment) -> None:
    # The limit's value is part of its Redis key: a random one keeps a concurrent run of
    # this test (in the same Redis database) from sharing the counter.
    n = 3 + secrets.randbelow(7)
    limit = {"SEALBOX_LOOKUPS_PER_MINUTE_GLOBAL": str(n)}
    a = Client(deployment.start("intake", **limit), requests.Session())
    b = Client(deployment.start("intake", **limit), requests.Session())
    # n look-ups in all are allowed, whichever process (and worker) takes them.
    assert _lookup_statuses([a, b], n + 3) == [400] * n + [429] * 3


def test_memory_rate_limits_count_per_process(deployment: Deployment) -> None:
    limit = {"SEALBOX_LOOKUPS_PER_MINUTE_GLOBAL": "2", "SEALBOX_RATELIMIT_STORAGE_URI": "memory://"}
    a = Client(deployment.start("intake", workers=1, **limit), requests.Session())
    b = Client(deployment.start("intake", workers=1, **limit), requests.Session())
    # Each process counts alone: 2 + 2 pass, where Redis would have allowed 2 in all.
    assert _lookup_statuses([a, b], 6) == [400, 400, 400, 400, 429, 429]


def test_apps_ran_with_write_xor_execute_where_available() -> None:
    """Records whether the runs above enforced W^X (skips with the reason if not)."""
    if not mdwe_available():
        pytest.skip("this kernel has no PR_SET_MDWE: W^X was not enforced in these tests")
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(66, 0, 0, 0, 0) == 0  # this test process itself is unrestricted


def test_logs_name_no_client(deployment: Deployment, launcher) -> None:  # type: ignore[no-untyped-def]
    """Run both apps, make requests (one malformed), stop them, and read everything they
    wrote: intake wrote no request at all and no address; the caseworker app logged
    requests without address or query string."""
    import socket

    intake = deployment.start("intake")
    back_office = deployment.start("caseworker")
    visitor = Client(intake, requests.Session())
    assert visitor.get("/en/?from=somewhere").status_code == 200
    staff = Client(back_office, requests.Session())
    assert staff.get("/login?next=/cases/secret-search").status_code == 200
    for base in (intake, back_office):
        with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1]))) as raw:
            raw.sendall(b"NOT A REQUEST\r\n\r\n")  # gunicorn logs "Invalid request from ip=..."
            raw.recv(1024)
    for started in deployment.logs.values():
        launcher.stop(started)
    intake_log = deployment.logs[intake].output()
    staff_log = deployment.logs[back_office].output()
    assert "127.0.0.1" not in intake_log and "/en/" not in intake_log, intake_log
    assert "ip=<redacted>" in intake_log  # the malformed request's line, without its address
    assert "127.0.0.1" not in staff_log and "ip=<redacted>" in staff_log, staff_log
    assert '"GET /login"' in staff_log and "secret-search" not in staff_log, staff_log
