"""No plaintext and no identifiers, through the real intake app: Flask's test client and a
real ``python -m intake`` server process.

Every field a reporter can fill carries its own marker (the description, every optional
question, every identity field, file names, contents of files of several MB, follow-up
messages and their files); caseworkers reply and write notes. Every intake request also
carries a distinctive client address, X-Forwarded-For, User-Agent and Referer. Then the
scanner reads every byte the system wrote (database file + WAL + SHM or pg_dump, blob
store, instance folder, temporary directory, captured logs, the server's stdout/stderr,
PostgreSQL's server log) and fails on any marker in any common encoding.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from secapp import (
    CW_PASSPHRASE,
    FlaskHTTP,
    RealHTTP,
    Reporter,
    cw_csrf,
    intake_server,
    signed_in_caseworker,
)
from secutil import Scanner, marker

from cases.casework import steps, writing
from cases.models import Case
from cases.store import Store
from crypto import CHUNK_SIZE

MIB = 1024 * 1024
CLIENT_IP = "198.51.100.173"
FORWARDED_IP = "203.0.113.219"


def identifying_headers() -> tuple[dict[str, str], list[str]]:
    ua = f"Mozilla/5.0 (X11; SbxProbe) {marker('ua')}"
    referer = f"https://news.example.org/{marker('ref')}?from=mail"
    headers = {"X-Forwarded-For": f"{FORWARDED_IP}, {CLIENT_IP}", "User-Agent": ua,
               "Referer": referer, "X-Real-IP": FORWARDED_IP, "Forwarded": f"for={FORWARDED_IP}"}
    return headers, [ua, referer, FORWARDED_IP, CLIENT_IP]


def big_file(m: str, size: int) -> bytes:
    data = bytearray(os.urandom(size))
    token = m.encode()
    for at in (0, CHUNK_SIZE - len(token) // 2, size // 3, size - len(token)):
        data[at : at + len(token)] = token
    return bytes(data)


def report_fields(m: dict[str, str]) -> dict[str, str]:
    return {
        "description": f"The director {m['description']} took bribes.\nSecond line.",
        "q_when": m["q_when"],
        "q_where": m["q_where"],
        "q_who": m["q_who"],
        "q_how_known": m["q_how_known"],
        "q_relationship": "employee",
        "identity_name": m["identity_name"],
        "identity_contact": m["identity_contact"] + "@example.org",
        "identity_other": m["identity_other"],
    }


MARKER_NAMES = (
    "description", "q_when", "q_where", "q_who", "q_how_known", "identity_name",
    "identity_contact", "identity_other", "filename", "filedata", "filename2", "filedata2",
    "followup", "followup_file", "followup_data", "reply", "note",
)


def journey(reporter: Reporter, store: Store, alice_key: bytes, alice_id: int,
            m: dict[str, str], big: int, cw: Any = None) -> None:
    """Submit, read back, write, and have a caseworker reply and note."""
    receipt = reporter.submit(
        report_fields(m),
        files=[(f"{m['filename']} report.pdf", big_file(m["filedata"], big)),
               (f"{m['filename2']}.txt", f"notes {m['filedata2']}".encode())],
    )
    assert reporter.login(receipt).status == 303
    page = reporter.case_page()
    assert page.status == 200 and m["description"] in page.text and m["filename"] in page.text
    more = [(f"{m['followup_file']}.docx", big_file(m["followup_data"], MIB))]
    sent = reporter.message(f"more: {m['followup']}", files=more)
    assert sent.status == 303, sent.text[:2000]
    from sqlalchemy import select

    from cases.models import Caseworker

    with store.transaction() as db:
        case = db.scalars(select(Case)).one()
        alice = db.get_one(Caseworker, alice_id)
        steps.acknowledge_case(db, store.policy(db).deadlines, case, alice, alice_key, "")
        if cw is None:  # no caseworker app in this run: the same domain calls it makes
            writing.reply(db, case, alice, alice_key, f"thanks {m['reply']}")
            writing.add_note(db, case, alice, alice_key, f"note {m['note']}")
    if cw is not None:  # through the caseworker app's own forms
        page = cw.get(f"/cases/{case.id}")
        assert page.status_code == 200 and m["description"] in page.get_data(as_text=True)
        for action, prefix, text in (("reply", "reply", f"thanks {m['reply']}"),
                                     ("notes", "note", f"note {m['note']}")):
            token = cw_csrf(cw, f"/cases/{case.id}")
            r = cw.post(f"/cases/{case.id}/{action}",
                        data={f"{prefix}-text": text, f"{prefix}-csrf_token": token})
            assert r.status_code in (200, 302, 303), r.get_data(as_text=True)[:1000]
        identity = cw.get(f"/cases/{case.id}/identity")
        assert identity.status_code < 500
        from cases.models import Message, MessageKind

        with store.transaction() as db:
            kinds = list(db.scalars(select(Message.kind).where(Message.case_id == case.id)))
        assert MessageKind.NOTE in kinds and MessageKind.REPLY in kinds
    page = reporter.case_page()
    assert m["reply"] in page.text and m["note"] not in page.text


def test_test_client_writes_no_plaintext_and_no_identifiers(
    scanner: Scanner, store: Store, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from intake import create_app

    caplog.set_level(logging.DEBUG)
    from caseworker import create_app as caseworker_app

    cw_app = caseworker_app(store.settings, store)
    cw, alice_id = signed_in_caseworker(store, cw_app, "alice", custodian=True)
    with store.transaction() as db:
        from cases.accounts.enrolment import unlock
        from cases.models import Caseworker

        alice_key = unlock(db.get_one(Caseworker, alice_id), CW_PASSPHRASE)
    app = create_app(store.settings, store)
    headers, identifiers = identifying_headers()
    m = {name: marker(name.replace("_", "")) for name in MARKER_NAMES}
    http = FlaskHTTP(app.test_client(), headers, environ={"REMOTE_ADDR": CLIENT_IP})
    journey(Reporter(http), store, alice_key, alice_id, m, big=6 * MIB + 11, cw=cw)
    out, err = capfd.readouterr()
    scanner.add_text("caplog", caplog.text)
    scanner.add_text("captured stdout/stderr", out + err)
    scanner.assert_clean([*m.values(), *identifiers])
    scanner.assert_scanned(str(store.settings.instance_path), "caplog")


@pytest.mark.slow
def test_server_process_writes_no_plaintext_and_no_identifiers(
    scanner: Scanner, store: Store, new_caseworker, sec_tmpdir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    alice, alice_key = new_caseworker(store, "alice")
    log_dir = tmp_path / "server-logs"
    server = intake_server(store.settings, sec_tmpdir, log_dir).start()
    headers, identifiers = identifying_headers()
    m = {name: marker(name.replace("_", "")) for name in MARKER_NAMES}
    try:
        journey(Reporter(RealHTTP(server.base, headers)), store, alice_key, alice.id, m,
                big=5 * MIB + 7)
    finally:
        server.stop()
    assert "POST /<lang>/report/send 200" in server.output()  # the log is there, and scanned
    scanner.add_path(log_dir)
    scanner.assert_clean([*m.values(), *identifiers])
    scanner.assert_scanned(str(log_dir))


@pytest.mark.redis
def test_rate_limit_storage_in_redis_holds_no_client_address(
    store: Store, redis_url: str
) -> None:
    """Production keeps rate-limit counters in Redis: only keyed digests may be there."""
    import re
    import secrets as _secrets
    from dataclasses import replace

    import redis

    from intake import create_app

    url = re.sub(r"/\d*$", f"/{1 + _secrets.randbelow(15)}", redis_url)
    client = redis.Redis.from_url(url)
    # No FLUSHDB: another run may share this database; its keys hold no address of ours,
    # and limiter keys expire with their window.
    try:
        s = Store(replace(store.settings, ratelimit_storage_uri=url), engine=store.engine)
        app = create_app(s.settings, s)
        headers, identifiers = identifying_headers()
        reporter = Reporter(FlaskHTTP(app.test_client(), headers,
                                      environ={"REMOTE_ADDR": CLIENT_IP}))
        receipt = reporter.submit({"description": "counted"})
        assert reporter.login(receipt).status == 303
        scanner = Scanner()
        scanner.add_redis(url)
        assert client.dbsize() > 0, "nothing was counted in Redis"
        scanner.assert_clean(identifiers)
        scanner.assert_scanned("redis")
    finally:
        client.close()
