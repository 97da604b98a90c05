"""Uploads are encrypted while they stream in: no plaintext temporary file, ever."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from cases.attachments.streaming import EncryptingSink, clean_filename
from cases.reporting.followup import find_case, reporter_view
from cases.store import Store
from crypto import normalize_receipt

MARKER = b"SEALBOX-PLAINTEXT-MARKER-7f3a9c"


def _scan(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if needle in data:
                hits.append(path)
    return hits


@pytest.fixture
def spy_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory that every temporary file of this process lands in, visibly.

    Unnamed temporary files (O_TMPFILE, which a spooled upload rolls over to) would leave
    no name to find, so TemporaryFile is made to keep a named file that the scan can see.
    """
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    real_named = tempfile.NamedTemporaryFile

    def visible(*args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.pop("delete", None)
        kwargs["dir"] = str(spool)
        return real_named(*args, delete=False, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", visible)
    return spool


def test_large_upload_leaves_no_plaintext_anywhere(browser, store: Store, spy_tmp: Path) -> None:  # type: ignore[no-untyped-def]
    # Several MB with the marker spread through it (so any chunk of it would show).
    data = (MARKER + os.urandom(4000)) * 1400
    assert len(data) > 5 * 1024 * 1024
    receipt = browser.submit(
        "Report with a big file", files=[("big.bin", data), ("second.bin", MARKER * 10)]
    )
    assert list(spy_tmp.iterdir()) == []  # no temporary file at all
    assert _scan(spy_tmp, MARKER) == []
    assert _scan(store.settings.instance_path, MARKER) == []  # database and blobs: ciphertext only
    with store.transaction() as session:
        case, keys = find_case(session, store.settings, normalize_receipt(receipt))
        assert case is not None
        sizes = {a.name: a.size for a in reporter_view(session, case, keys.private_key).attachments}
    assert sizes == {"big.bin": len(data), "second.bin": len(MARKER) * 10}


def test_follow_up_upload_leaves_no_plaintext(browser, store: Store, spy_tmp: Path) -> None:  # type: ignore[no-untyped-def]
    browser.login(browser.submit())
    data = (MARKER + b"\x00" * 3000) * 700
    response = browser.post_form(
        browser.case_page(),
        "/case/main/message",
        files=[("more.bin", data)],
        **{"main-text": "more"},
    )
    assert response.status_code == 303
    assert list(spy_tmp.iterdir()) == []
    assert _scan(store.settings.instance_path, MARKER) == []


def test_database_blob_storage_holds_no_plaintext(
    make_app, new_browser, store: Store, spy_tmp: Path
) -> None:  # type: ignore[no-untyped-def]
    from cases.attachments.blobs import DatabaseBlobStore

    app = make_app(attachment_storage="database")
    store.blobs = DatabaseBlobStore()
    browser = new_browser(the_app=app)
    browser.submit(files=[("x.bin", MARKER * 50_000)])
    assert list(spy_tmp.iterdir()) == []
    assert _scan(store.settings.instance_path, MARKER) == []


def test_sink_counts_and_stops_at_the_limit() -> None:
    class Upload:
        def __init__(self) -> None:
            self.data = b""

        def write(self, data: bytes) -> None:
            self.data += data

    upload = Upload()
    sink = EncryptingSink(upload, "a.txt", "text/plain", limit=10)  # type: ignore[arg-type]
    sink.write(b"12345")
    sink.write(b"67890")
    assert sink.stored and upload.data == b"1234567890"
    sink.write(b"x")
    assert sink.too_large and not sink.stored and upload.data == b"1234567890"
    assert sink.read() == b"" and sink.seek(0) == 0


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\a.doc", "a.doc"),
        ("\u202egnp.exe", "gnp.exe"),
        ("", "file"),
        ("x" * 300, "x" * 255),
    ],
)
def test_clean_filename(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean
