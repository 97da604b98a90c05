"""``sealbox recovery`` through click's CliRunner on a real instance: the key comes from
standard input (or a hidden prompt), never from an argument, and never shows in output."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cases.keyring import caseworker_key
from cases.models import AuditEntry, Case, KeyPurpose
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from caseworker import cli
from caseworker.cli import recovery as recovery_cli
from config import load_settings
from crypto import format_recovery_key, new_keypair, parse_recovery_key

FAST = {
    "SEALBOX_PASSPHRASE_KDF_OPSLIMIT": "1",
    "SEALBOX_PASSPHRASE_KDF_MEMLIMIT_MIB": "8",
    "SEALBOX_RECEIPT_KDF_OPSLIMIT": "1",
    "SEALBOX_RECEIPT_KDF_MEMLIMIT_MIB": "8",
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env=FAST)


@pytest.fixture
def instance(tmp_path: Path, runner: CliRunner) -> tuple[Path, str]:
    """A new instance with one report; (folder, its recovery key as printed)."""
    path = tmp_path / "inst"
    made = runner.invoke(cli.main, ["init", "--instance", str(path)])
    key = next(line.strip() for line in made.output.splitlines() if line.count("-") >= 8)
    assert runner.invoke(cli.main, ["db", "upgrade", "--instance", str(path)]).exit_code == 0
    store = _store(path)
    with new_submission(store) as draft:
        draft.finalize(Submission(report={"text": "the tender was rigged"}))
    store.dispose()
    return path, key


def _store(path: Path) -> Store:
    return Store(load_settings(environ=FAST, instance_path=path))


def _run(runner: CliRunner, path: Path, *args: str, key: str = "") -> object:
    return runner.invoke(cli.main, ["recovery", *args, "--instance", str(path)],
                         input=f"{key}\n" if key else None)


def test_check_opens_every_copy_with_the_key_from_stdin_and_never_echoes_it(  # type: ignore[no-untyped-def]
    runner, instance
) -> None:
    path, key = instance
    done = _run(runner, path, "check", key=key)
    assert done.exit_code == 0, done.output
    assert "2 recovery cop(ies) of 1 case(s) open" in done.output
    assert key not in done.output and key.replace("-", "") not in done.output
    other = format_recovery_key(new_keypair()[0])
    wrong = _run(runner, path, "check", key=other)
    assert wrong.exit_code == 1 and "not this instance's" in wrong.output
    typo = _run(runner, path, "check", key=key[:-1] + ("Q" if key[-1] != "Q" else "A"))
    assert typo.exit_code == 1 and "checksum" in typo.output


def test_grant_and_export_from_the_command_line(runner, instance, tmp_path, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    path, key = instance
    store = _store(path)
    gail, gail_key = new_caseworker(store, "gail")
    with store.transaction() as db:
        case_id = db.scalars(select(Case.id)).one()
    assert _run(runner, path, "grant", "gail", key=key).exit_code == 1  # neither --case nor --all
    done = _run(runner, path, "grant", "gail", "--case", case_id, key=key)
    assert done.exit_code == 0, done.output
    assert "1 case(s) given to gail" in done.output
    with store.transaction() as db:
        assert len(caseworker_key(db, case_id, KeyPurpose.THREAD, gail.id, gail_key)) == 32
    refused = _run(runner, path, "grant", "nobody", "--all", key=key)
    assert refused.exit_code == 1 and "No active account 'nobody'" in refused.output

    out = tmp_path / "case.zip"
    exported = _run(runner, path, "export", case_id, "--output", str(out), "--internal", key=key)
    assert exported.exit_code == 0, exported.output
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    with zipfile.ZipFile(out) as zf:
        assert "the tender was rigged" in zf.read("thread.txt").decode()
        assert json.loads(zf.read("case.json"))["internal_records_included"] is True
    again = _run(runner, path, "export", case_id, "--output", str(out), key=key)
    assert again.exit_code == 1 and "exists" in again.output
    piped = _run(runner, path, "export", case_id, "--output", "-", key=key)
    with zipfile.ZipFile(io.BytesIO(piped.stdout_bytes)) as zf:
        assert "the tender was rigged" in zf.read("thread.txt").decode()
    with store.transaction() as db:
        actions = db.scalars(select(AuditEntry.action)).all()
    assert actions.count("case.exported") == 2 and "recovery.access_granted" in actions
    store.dispose()


def test_rotate_prints_a_new_key_and_the_old_one_opens_nothing(runner, instance) -> None:  # type: ignore[no-untyped-def]
    path, old = instance
    before = (path / "instance.toml").read_text()
    done = _run(runner, path, "rotate", key=old)
    assert done.exit_code == 0, done.output
    new = next(line.strip() for line in done.output.splitlines() if line.count("-") >= 8)
    assert parse_recovery_key(new) != parse_recovery_key(old)
    assert "2 recovery cop(ies) now open with the new key only" in done.output
    after = (path / "instance.toml").read_text()
    assert after != before and new not in after
    assert oct((path / "instance.toml").stat().st_mode & 0o777) == "0o600"
    assert [ln for ln in after.splitlines() if "recovery" not in ln] == [
        ln for ln in before.splitlines() if "recovery" not in ln
    ]
    assert _run(runner, path, "check", key=new).exit_code == 0
    stale = _run(runner, path, "check", key=old)
    assert stale.exit_code == 1 and "not this instance's" in stale.output


def test_rotate_on_a_terminal_wants_the_new_key_typed_back(  # type: ignore[no-untyped-def]
    runner, instance, monkeypatch
) -> None:
    path, old = instance
    monkeypatch.setattr(recovery_cli, "_interactive", lambda: True)
    before = (path / "instance.toml").read_text()
    misread = runner.invoke(
        cli.main, ["recovery", "rotate", "--instance", str(path)],
        input=f"{old}\n" + "not the key\n" * 3,
    )
    assert misread.exit_code == 1 and "nothing was changed" in misread.output
    assert (path / "instance.toml").read_text() == before
    assert _run(runner, path, "check", key=old).exit_code == 0
