"""The restore drill, automated: back up an instance with a report and a file
(deploy/backup/sealbox_backup.py, as the operator runs it), restore it into a new, empty
database and folder, and read the report back with its receipt — on SQLite and
PostgreSQL, with both attachment stores, encrypted with age when age is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cases.content import open_attachment
from cases.health import check_services
from cases.keyring import reporter_thread_key
from cases.models import Attachment
from cases.records.audit import verify_chain
from cases.reporting.followup import find_case, reporter_view
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from config import Settings, load_settings

FILE = bytes(range(256)) * 9000  # about 2.2 MiB: several database chunks


def _new_pg_db(pg_url: str, name: str) -> str:
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(pg_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(
    params=[("sqlite", "filesystem"), ("postgres", "database"), ("postgres", "filesystem")],
    ids=["sqlite-filesystem", "postgres-database", "postgres-filesystem"],
)
def source(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> Iterator[tuple[Store, str]]:
    backend, blobs = request.param
    names: list[str] = []
    if backend == "postgres":
        pg_url: str = request.getfixturevalue("pg_url")
        source_name = make_url(pg_url).database + "_bk_src"
        target_name = make_url(pg_url).database + "_bk_dst"
        names = [source_name, target_name]
        url = _new_pg_db(pg_url, source_name)
        target = _new_pg_db(pg_url, target_name)
    else:
        url = f"sqlite:///{settings.instance_path / 'sealbox.db'}"
        target = f"sqlite:///{tmp_path / 'restored' / 'sealbox.db'}"
    store = Store(replace(settings, database_url=url, attachment_storage=blobs))
    store.migrate()
    yield store, target
    store.dispose()
    if names:
        admin = create_engine(request.getfixturevalue("pg_url"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tool_cmd(
    deploy_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(deploy_dir / "backup/sealbox_backup.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


@pytest.fixture
def age_keys(tmp_path: Path) -> tuple[Path, Path] | None:
    if not (shutil.which("age") and shutil.which("age-keygen")):
        return None
    identity, recipients = tmp_path / "backup-key.txt", tmp_path / "recipients.txt"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    recipients.write_text(
        subprocess.run(
            ["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True
        ).stdout
    )
    return identity, recipients


def test_backup_and_restore_drill(source, deploy_dir: Path, tmp_path: Path, age_keys) -> None:  # type: ignore[no-untyped-def]
    store, target_url = source
    s = store.settings
    with new_submission(store) as draft:
        upload = draft.new_attachment()
        for i in range(0, len(FILE), 50_000):
            upload.write(FILE[i : i + 50_000])
        draft.attach(upload, "ledger.xlsx", "application/vnd.ms-excel")
        receipt = draft.finalize(Submission(report={"text": "the minister took a bribe"}))

    env = {
        **os.environ,
        "SEALBOX_INSTANCE_PATH": str(s.instance_path),
        "SEALBOX_DATABASE_URL": s.database_url,
        "SEALBOX_ATTACHMENT_STORAGE": s.attachment_storage,
    }
    out = tmp_path / "backups"
    encrypt = ["--age-recipients", str(age_keys[1])] if age_keys else []
    made = _tool_cmd(deploy_dir, "backup", "--out", str(out), *encrypt, env=env)
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip())
    assert backup.parent == out and backup.name.endswith(".tar.age" if age_keys else ".tar")
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in out.iterdir()] == [backup.name]  # no work files left behind
    decrypt = ["--age-identity", str(age_keys[0])] if age_keys else []
    if age_keys:
        assert (
            b"minister" not in backup.read_bytes() and b"instance_salt" not in backup.read_bytes()
        )
    else:
        with tarfile.open(backup) as tar:
            names = set(tar.getnames())
        assert {"MANIFEST.json", "database.dump", "instance.toml"} <= names
        assert any(n.startswith("blobs/") for n in names) == (s.attachment_storage == "filesystem")
        # Case content is ciphertext in the backup too.
        assert b"the minister took a bribe" not in backup.read_bytes()
    checked = _tool_cmd(deploy_dir, "verify", str(backup), *decrypt)
    assert checked.returncode == 0, checked.stderr

    restored = tmp_path / "restored"
    done = _tool_cmd(
        deploy_dir,
        "restore",
        str(backup),
        "--database-url",
        target_url,
        "--instance-path",
        str(restored),
        *decrypt,
    )
    assert done.returncode == 0, done.stderr
    assert oct((restored / "instance.toml").stat().st_mode & 0o777) == "0o600"

    # The restored instance opens with its own files only, and the receipt still works.
    again = load_settings(
        environ={},
        instance_path=restored,
        database_url=target_url,
        attachment_storage=s.attachment_storage,
        receipt_kdf_opslimit=s.receipt_kdf_opslimit,
        receipt_kdf_memlimit_mib=s.receipt_kdf_memlimit_mib,
    )
    restored_store = Store(again)
    check_services(again, restored_store)
    with restored_store.transaction() as session:
        case, keys = find_case(session, again, receipt)
        assert case is not None
        view = reporter_view(session, case, keys.private_key)
        assert view.messages[0].body["text"] == "the minister took a bribe"
        attachment = session.get_one(Attachment, view.attachments[0].id)
        thread = reporter_thread_key(session, case.id, keys.private_key)
        assert b"".join(open_attachment(restored_store.blobs, session, attachment, thread)) == FILE
        assert verify_chain(session).problems == []
    restored_store.dispose()

    # A restore never overwrites: the same target again is refused.
    twice = _tool_cmd(
        deploy_dir,
        "restore",
        str(backup),
        "--database-url",
        target_url,
        "--instance-path",
        str(tmp_path / "elsewhere"),
        *decrypt,
    )
    assert twice.returncode == 1
    assert (
        "database is not empty" in twice.stderr or "exists: restore into a new file" in twice.stderr
    )
    into_used_folder = _tool_cmd(
        deploy_dir,
        "restore",
        str(backup),
        "--database-url",
        target_url,
        "--instance-path",
        str(restored),
        *decrypt,
    )
    assert into_used_folder.returncode == 1 and "is not empty" in into_used_folder.stderr


def test_damaged_backup_is_refused(settings: Settings, deploy_dir: Path, tmp_path: Path) -> None:
    store = Store(settings)
    store.migrate()
    store.dispose()
    env = {**os.environ, "SEALBOX_INSTANCE_PATH": str(settings.instance_path)}
    made = _tool_cmd(deploy_dir, "backup", "--out", str(tmp_path / "b"), env=env)
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip())
    with tarfile.open(backup) as tar:
        offset = next(m for m in tar.getmembers() if m.name == "instance.toml").offset_data
    raw = bytearray(backup.read_bytes())
    raw[offset + 10] ^= 0x01
    backup.write_bytes(bytes(raw))
    checked = _tool_cmd(deploy_dir, "verify", str(backup))
    assert checked.returncode == 1
    assert "instance.toml is missing or damaged" in checked.stderr
