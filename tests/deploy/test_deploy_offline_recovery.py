"""The records outlive the server: a backup made by deploy/backup/sealbox_backup.py is
read with the paper recovery key by deploy/backup/sealbox_open_backup.py, which uses no
Sealbox code (it follows docs/CRYPTO.md) and needs no running database, on SQLite and
PostgreSQL with both attachment stores."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from cases.casework import identity, writing
from cases.models import Case
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from config import init_instance
from crypto import format_recovery_key, new_keypair

FILE = bytes(range(256)) * 4500  # about 1.1 MiB: several database chunks
TOOL = "backup/sealbox_open_backup.py"


@pytest.fixture(
    params=[("sqlite", "filesystem"), ("sqlite", "database"), ("postgres", "database"),
            ("postgres", "filesystem")],
    ids=["sqlite-filesystem", "sqlite-database", "postgres-database", "postgres-filesystem"],
)
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, str]]:
    """A store on the backend, and its recovery key as printed by `sealbox init`."""
    from tests.conftest import make_settings

    backend, blobs = request.param
    key = init_instance(tmp_path / "instance")
    settings = make_settings(tmp_path / "instance", attachment_storage=blobs)
    name = ""
    if backend == "postgres":
        pg_url: str = request.getfixturevalue("pg_url")
        name = make_url(pg_url).database + "_offline"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        settings = replace(settings, database_url=url)
    store = Store(settings)
    store.migrate()
    yield store, key
    store.dispose()
    if name:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fill(store: Store, new_caseworker) -> str:  # type: ignore[no-untyped-def]
    """One case with everything the tool must open: report, file, reply, note, identity
    record and an identity request's reason."""
    alice, alice_key = new_caseworker(store, "alice")
    new_caseworker(store, "cora", caseworker=False, custodian=True)
    with new_submission(store) as draft:
        upload = draft.new_attachment()
        for i in range(0, len(FILE), 64_000):
            upload.write(FILE[i : i + 64_000])
        draft.attach(upload, "payments 2026.xlsx", "application/vnd.ms-excel")
        draft.finalize(Submission(report={"text": "MARKER-REPORT the mayor's contracts"},
                                  identity={"name": "MARKER-NAME Jo"}))
    with store.transaction() as db:
        case = db.scalars(select(Case)).one()
        writing.reply(db, case, alice, alice_key, "MARKER-REPLY thank you")
        writing.add_note(db, case, alice, alice_key, "MARKER-NOTE check the tender file")
        identity.request_identity(db, store.settings, case, alice, "MARKER-REASON a witness")
        return case.id


def _backup(store: Store, deploy_dir: Path, out: Path, *encrypt: str) -> Path:
    s = store.settings
    env = {**os.environ, "SEALBOX_INSTANCE_PATH": str(s.instance_path),
           "SEALBOX_DATABASE_URL": s.database_url,
           "SEALBOX_ATTACHMENT_STORAGE": s.attachment_storage}
    made = subprocess.run(
        [sys.executable, str(deploy_dir / "backup/sealbox_backup.py"), "backup", "--out",
         str(out), *encrypt], capture_output=True, text=True, env=env, check=False, timeout=300,
    )
    assert made.returncode == 0, made.stderr
    return Path(made.stdout.strip())


def _open(deploy_dir: Path, cwd: Path, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    # From a folder of its own, with no database settings at all: nothing of the server.
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-I", str(deploy_dir / TOOL), *args], input=f"{key}\n",
        capture_output=True, text=True, env=env, cwd=cwd, check=False, timeout=300,
    )


def test_a_backup_opens_with_the_recovery_key_alone(  # type: ignore[no-untyped-def]
    instance, new_caseworker, deploy_dir: Path, tmp_path: Path
) -> None:
    store, key = instance
    case_id = _fill(store, new_caseworker)
    encrypt: list[str] = []
    decrypt: list[str] = []
    if shutil.which("age") and shutil.which("age-keygen"):  # as the shipped timer makes it
        identity_file, recipients = tmp_path / "backup-key.txt", tmp_path / "recipients.txt"
        subprocess.run(["age-keygen", "-o", str(identity_file)], check=True,
                       capture_output=True)
        recipients.write_text(subprocess.run(
            ["age-keygen", "-y", str(identity_file)], check=True, capture_output=True, text=True
        ).stdout)
        encrypt, decrypt = ["--age-recipients", str(recipients)], [
            "--age-identity", str(identity_file)]
    backup = _backup(store, deploy_dir, tmp_path / "backups", *encrypt)
    elsewhere = tmp_path / "offline"
    elsewhere.mkdir()
    if decrypt:
        locked = _open(deploy_dir, elsewhere, key, "check", str(backup))
        assert locked.returncode == 1 and "--age-identity" in locked.stderr

    checked = _open(deploy_dir, elsewhere, key, "check", str(backup), *decrypt)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == (
        f"Opened 1 case(s): 3 message(s), 1 file(s) ({len(FILE)} bytes), "
        "1 identity record(s), 1 identity request reason(s)."
    )
    assert "MARKER" not in checked.stdout + checked.stderr and key not in checked.stdout
    assert list(elsewhere.iterdir()) == []  # check writes nothing

    out = elsewhere / "cases"
    done = _open(deploy_dir, elsewhere, key, "extract", str(backup), "--out", str(out),
                 *decrypt)
    assert done.returncode == 0, done.stderr
    folder = out / case_id
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    messages = json.loads((folder / "messages.json").read_text())
    assert [m["kind"] for m in messages] == ["report", "reply", "note"]
    assert messages[0]["body"]["text"] == "MARKER-REPORT the mayor's contracts"
    assert messages[2]["body"]["text"] == "MARKER-NOTE check the tender file"
    who = json.loads((folder / "identity.json").read_text())
    assert who == {"records": [{"name": "MARKER-NAME Jo"}],
                   "request_reasons": ["MARKER-REASON a witness"]}
    [attachment] = (folder / "attachments").iterdir()
    assert attachment.name == "001-payments 2026.xlsx" and attachment.read_bytes() == FILE
    assert oct(attachment.stat().st_mode & 0o777) == "0o600"
    assert json.loads((folder / "case.json").read_text())["status"] == "RECEIVED"


def test_the_wrong_key_and_a_damaged_backup_are_refused(  # type: ignore[no-untyped-def]
    settings, deploy_dir: Path, tmp_path: Path
) -> None:
    store = Store(settings)
    store.migrate()
    with new_submission(store) as draft:
        draft.finalize(Submission(report={"text": "a report"}))
    backup = _backup(store, deploy_dir, tmp_path / "backups")
    store.dispose()
    other = format_recovery_key(new_keypair()[0])
    wrong = _open(deploy_dir, tmp_path, other, "check", str(backup))
    assert wrong.returncode == 1 and "not the one of the instance" in wrong.stderr
    typo = _open(deploy_dir, tmp_path, other[:-1] + ("A" if other[-1] != "A" else "Q"),
                 "check", str(backup))
    assert typo.returncode == 1 and "checksum" in typo.stderr
    raw = bytearray(backup.read_bytes())
    at = raw.index(b"SQLite format 3") + 4096  # inside the database copy
    raw[at] ^= 0xFF
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(bytes(raw))
    refused = _open(deploy_dir, tmp_path, other, "check", str(damaged))
    assert refused.returncode == 1 and "does not match the backup's manifest" in refused.stderr


def test_the_tool_uses_nothing_of_sealbox(deploy_dir: Path) -> None:
    tree = ast.parse((deploy_dir / TOOL).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported - sys.stdlib_module_names - {"__future__"} == {"nacl"}
