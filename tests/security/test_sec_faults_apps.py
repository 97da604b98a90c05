"""Faults through the real intake: a server SIGKILLed mid-upload and restarted, the
database failing part-way through a submission, the database unreachable, a full disk.

Afterwards: no case, no message, no receipt shown, no ciphertext left behind (after the
orphan sweep, see below), the next submission works, and every case committed before the
fault still decrypts.

Orphan sweep: ``FilesystemBlobStore.sweep_orphans`` keeps unreferenced ciphertext for
``orphan_grace_minutes`` (an upload may still be streaming in another worker) and removes
it after. The app does not sweep at start-up; ``sealbox purge`` (the daily timer) does,
and the kill test runs that command.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from secapp import FlaskHTTP, RealHTTP, Reporter, form_to, intake_server
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from cases.attachments.blobs import FilesystemBlobStore
from cases.models import Attachment, Case, IdentityRecord, Message, WrappedKey
from cases.store import Store

MIB = 1024 * 1024
GENEROUS = {
    "submissions_per_hour_per_client": 1000,
    "lookups_per_hour_per_client": 1000,
    "submissions_per_minute_global": 1000,
    "lookups_per_minute_global": 1000,
}


def counts(store: Store) -> dict[str, int]:
    with store.transaction() as db:
        return {m.__tablename__: db.scalar(select(func.count()).select_from(m)) or 0
                for m in (Case, Message, Attachment, WrappedKey, IdentityRecord)}


def blob_names(store: Store) -> set[str]:
    root = store.settings.blob_path
    return {p.name for p in root.iterdir()} if root.exists() else set()


def referenced(store: Store) -> set[str]:
    with store.transaction() as db:
        return set(db.scalars(select(Attachment.id)))


def read_back(reporter: Reporter, receipt: str) -> dict[str, bytes]:
    """Log in with the receipt and download every file of the case."""
    assert reporter.login(receipt).status == 303
    page = reporter.case_page()
    assert page.status == 200
    out = {}
    for m in re.finditer(r'href="(/en/followup/files/([0-9a-f]+))"', page.text):
        r = reporter.http.get(m.group(1))
        assert r.status == 200
        out[m.group(2)] = r.body
    return out


def sweep_after_grace(store: Store, env: dict[str, str]) -> int:
    """Run the daily ``sealbox purge`` once the grace period is over; return how many
    orphans it reports removing."""
    import sys

    old = time.time() - store.settings.orphan_grace_minutes * 60 - 60
    for p in store.settings.blob_path.iterdir():
        os.utime(p, (old, old))
    sealbox = Path(sys.executable).with_name("sealbox")
    done = subprocess.run([str(sealbox), "purge", "--instance", str(store.settings.instance_path)],
                          env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"(\d+) orphaned attachment ciphertext", done.stdout)
    assert found, done.stdout
    return int(found.group(1))


# -- killed mid-upload ----------------------------------------------------------------------


def _raw_upload(base_port: int, cookie: str, form: dict[str, Any], total_file: int,
                sent_file: int) -> socket.socket:
    """Start a multipart POST of a ``total_file``-byte file; send only ``sent_file`` bytes."""
    boundary = "sbxkill0boundary"
    head = b""
    for name, value in form["fields"]:
        head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                 f"{value}\r\n").encode()
    head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
             f"filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + total_file + len(tail)
    sock = socket.create_connection(("127.0.0.1", base_port))
    request = (f"POST {form['action']} HTTP/1.1\r\nHost: 127.0.0.1:{base_port}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
               f"Content-Length: {length}\r\nCookie: {cookie}\r\n\r\n").encode()
    sock.sendall(request + head)
    piece = os.urandom(64 * 1024)
    sent = 0
    while sent < sent_file:
        sock.sendall(piece)
        sent += len(piece)
        time.sleep(0.002)
    return sock


@pytest.mark.slow
def test_server_killed_mid_upload_then_restarted(
    store: Store, sec_tmpdir: Path, tmp_path: Path
) -> None:
    if not isinstance(store.blobs, FilesystemBlobStore):
        pytest.skip("filesystem blob store")
    extra = {f"SEALBOX_{k.upper()}": str(v) for k, v in GENEROUS.items()}
    server = intake_server(store.settings, sec_tmpdir, tmp_path / "logs", **extra).start()
    try:
        committed = {}
        for i in range(3):
            files = [(f"kept{i}.bin", os.urandom(300_000 + i))]
            committed[Reporter(RealHTTP(server.base)).submit(
                {"description": f"committed {i}"}, files)] = files[0][1]
        before, blobs_before = counts(store), blob_names(store)
        reporter = Reporter(RealHTTP(server.base))
        review = reporter.review({"description": "killed while uploading"})
        form = form_to(review.text, "/report/send")
        session = reporter.http.session  # type: ignore[attr-defined]
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        sock = _raw_upload(server.port, cookie, form, total_file=40 * MIB, sent_file=4 * MIB)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the upload is streaming into ciphertext
            partial = [p for p in store.settings.blob_path.iterdir()
                       if p.name not in blobs_before and p.stat().st_size > MIB]
            if partial:
                break
            time.sleep(0.05)
        assert partial, "the upload never reached the blob store"
        server.kill()
        sock.close()
        assert counts(store) == before  # no case, no message, no attachment row
        leftovers = blob_names(store) - blobs_before
        assert leftovers and all(n.startswith(".tmp-") for n in leftovers)

        server.start()  # restart on the same instance and database
        assert counts(store) == before
        assert sweep_after_grace(store, server.env) == len(leftovers)
        assert blob_names(store) == blobs_before == referenced(store)
        # Crash recovery: every committed case still opens and decrypts, files included.
        for receipt, data in committed.items():
            files = read_back(Reporter(RealHTTP(server.base)), receipt)
            assert list(files.values()) == [data]
        # And the next submission works.
        assert Reporter(RealHTTP(server.base)).submit({"description": "after restart"},
                                                      [("n.bin", b"n" * 1000)])
        assert counts(store)["cases"] == before["cases"] + 1
    finally:
        server.stop()
    assert "Traceback" not in server.output()


# -- the database failing part-way ----------------------------------------------------------


@pytest.fixture
def intake(store: Store) -> tuple[Any, Store]:
    from intake import create_app

    s = Store(replace(store.settings, **GENEROUS), engine=store.engine)
    return create_app(s.settings, s), s


@pytest.mark.parametrize("where", ["commit", "identity insert"])
def test_database_failing_during_a_submission(
    intake: tuple[Any, Store], where: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, s = intake
    reporter = Reporter(FlaskHTTP(app.test_client()))
    kept = reporter.submit({"description": "kept"}, [("kept.bin", os.urandom(100_000))])
    before, blobs_before = counts(s), blob_names(s)
    review = reporter.review({"description": "doomed", "identity_name": "Someone"})

    def fail_commit(_conn: Any) -> None:
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    def fail_identity(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO IDENTITY_RECORDS"):
            raise OperationalError(statement, {}, Exception("could not write to file"))

    hook, fn = (("commit", fail_commit) if where == "commit"
                else ("before_cursor_execute", fail_identity))
    event.listen(s.engine, hook, fn)
    try:
        r = reporter.send(review, files=[("a.bin", os.urandom(2 * MIB)),
                                         ("b.bin", os.urandom(10_000))])
    finally:
        event.remove(s.engine, hook, fn)
    assert r.status == 503, r.text[:1500]
    assert r.receipt is None and "Traceback" not in r.text and '<html lang="en"' in r.text
    assert counts(s) == before
    assert blob_names(s) == blobs_before  # the two new ciphertexts were deleted
    # The next submission works; the earlier case still reads.
    again = reporter.submit({"description": "next"}, [("c.bin", b"c" * 5000)])
    assert again and counts(s)["cases"] == before["cases"] + 1
    assert len(read_back(Reporter(FlaskHTTP(app.test_client())), kept)) == 1
    assert "Traceback" not in caplog.text


# -- database unreachable -------------------------------------------------------------------


@pytest.fixture
def own_pg_database(pg_url: str, store: Store) -> Iterator[str]:
    """A database of this test's own (so it can be made unreachable), migrated."""
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"sealbox_down_{os.getpid()}_{int(time.time() * 1000) % 100000}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _set_reachable(url: str, reachable: bool) -> None:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        allow = "true" if reachable else "false"
        conn.execute(text(f'ALTER DATABASE "{u.database}" ALLOW_CONNECTIONS {allow}'))
        if not reachable:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": u.database})
    admin.dispose()


def test_database_unreachable_gives_503_and_the_app_recovers(
    store: Store, own_pg_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    from intake import create_app

    s = Store(replace(store.settings, database_url=own_pg_database, **GENEROUS))
    s.migrate()
    app = create_app(s.settings, s)
    reporter = Reporter(FlaskHTTP(app.test_client()))
    kept = reporter.submit({"description": "before the outage"})
    review = reporter.review({"description": "during the outage"})
    _set_reachable(own_pg_database, False)
    try:
        for attempt in (lambda: reporter.send(review, [("x.bin", b"x" * 50_000)]),
                        lambda: reporter.login(kept),
                        lambda: reporter.http.get("/en/report/")):
            r = attempt()
            assert r.status == 503, r.text[:1500]
            assert "Traceback" not in r.text and '<html lang="en"' in r.text
            assert "OperationalError" not in r.text and "psycopg" not in r.text
            assert r.receipt is None
    finally:
        _set_reachable(own_pg_database, True)
    # Back again: the same app serves without a restart.
    assert reporter.http.get("/en/report/").status == 200
    assert Reporter(FlaskHTTP(app.test_client())).login(kept).status == 303
    assert reporter.submit({"description": "after the outage"})
    assert counts(s)["cases"] == 2
    assert blob_names(s) == referenced(s) == set()
    assert "Traceback" not in caplog.text
    s.dispose()


# -- full disk ------------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a 1 MiB tmpfs, which needs root to mount")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs",
                           str(mount)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_while_writing_an_attachment(store: Store, tiny_disk: Path) -> None:
    from intake import create_app

    s = Store(replace(store.settings, **GENEROUS), engine=store.engine)
    s.blobs = FilesystemBlobStore(tiny_disk / "blobs")
    app = create_app(s.settings, s)
    reporter = Reporter(FlaskHTTP(app.test_client()))
    kept = reporter.submit({"description": "fits"}, [("small.bin", os.urandom(200_000))])
    before, on_disk = counts(s), {p.name for p in (tiny_disk / "blobs").iterdir()}
    for lang in ("en", "fr"):
        reporter.lang = lang
        review = reporter.review({"description": "does not fit"})
        r = reporter.send(review, [("first.bin", os.urandom(300_000)),
                                   ("huge.bin", os.urandom(3 * MIB))])
        assert r.status in (507, 503), r.text[:1500]
        assert r.receipt is None and "Traceback" not in r.text and f'<html lang="{lang}"' in r.text
        assert counts(s) == before
        assert {p.name for p in (tiny_disk / "blobs").iterdir()} == on_disk  # nothing partial
    # Space again: the stored case reads and new reports go through.
    reporter.lang = "en"
    assert len(read_back(reporter, kept)) == 1
    assert reporter.submit({"description": "small again"}, [("s.bin", b"s" * 1000)])
    assert errno.ENOSPC  # the real error of a full tmpfs, raised by the kernel
