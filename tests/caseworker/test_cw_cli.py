"""The ``sealbox`` operator CLI, through click's CliRunner."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from cases.models import AuditEntry, Case, Caseworker, StagedFile, Status
from cases.store import Store
from caseworker import cli
from config import load_settings
from crypto import parse_recovery_key

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
def instance(tmp_path: Path, runner: CliRunner) -> Path:
    path = tmp_path / "inst"
    assert runner.invoke(cli.main, ["init", "--instance", str(path)]).exit_code == 0
    assert runner.invoke(cli.main, ["db", "upgrade", "--instance", str(path)]).exit_code == 0
    return path


def _store(instance: Path) -> Store:
    return Store(load_settings(environ=FAST, instance_path=instance))


def test_init_prints_a_valid_recovery_key_once_and_refuses_to_overwrite(tmp_path, runner) -> None:
    path = tmp_path / "inst"
    first = runner.invoke(cli.main, ["init", "--instance", str(path)])
    assert first.exit_code == 0
    key_line = next(line.strip() for line in first.output.splitlines() if line.count("-") >= 8)
    assert len(parse_recovery_key(key_line)) == 32
    assert "only" in first.output and "paper" in first.output
    assert key_line not in (path / "instance.toml").read_text()
    second = runner.invoke(cli.main, ["init", "--instance", str(path)])
    assert second.exit_code == 1
    assert "refusing to overwrite" in second.output
    assert key_line not in second.output


def test_instance_path_from_environment(tmp_path, runner) -> None:
    path = tmp_path / "from-env"
    result = runner.invoke(cli.main, ["init"], env={"SEALBOX_INSTANCE_PATH": str(path)})
    assert result.exit_code == 0 and (path / "instance.toml").exists()


def test_db_upgrade_creates_the_schema(instance) -> None:
    store = _store(instance)
    with store.transaction() as db:
        assert db.scalars(select(AuditEntry)).all() == []
    store.dispose()


def test_db_upgrade_says_what_it_did(tmp_path, runner) -> None:
    path = tmp_path / "inst"
    assert runner.invoke(cli.main, ["init", "--instance", str(path)]).exit_code == 0
    created = runner.invoke(cli.main, ["db", "upgrade", "--instance", str(path)])
    assert created.exit_code == 0 and "Created the database schema (revision " in created.output
    head = _store(path).schema_revisions()
    assert len(head) == 1 and head.pop() in created.output
    again = runner.invoke(cli.main, ["db", "upgrade", "--instance", str(path)])
    assert "already up to date" in again.output and "nothing changed" in again.output
    store = _store(path)
    from cases.store import run_migrations

    run_migrations(store.engine, store.settings.sqlalchemy_url, "downgrade", "-1")
    older = store.schema_revisions()
    store.dispose()
    upgraded = runner.invoke(cli.main, ["db", "upgrade", "--instance", str(path)])
    assert f"Upgraded the database schema from {older.pop()} to " in upgraded.output


def test_configuration_errors_exit_2_without_traceback(tmp_path, runner) -> None:
    missing = runner.invoke(cli.main, ["db", "upgrade", "--instance", str(tmp_path / "none")])
    assert missing.exit_code == 2
    assert "run `sealbox init`" in missing.output and "Traceback" not in missing.output
    bad = runner.invoke(
        cli.main,
        ["audit", "verify", "--instance", str(tmp_path)],
        env={"SEALBOX_LOCKOUT_MINUTES": "soon"},
    )
    assert bad.exit_code == 2 and "lockout_minutes" in bad.output


def test_create_caseworker_with_prompted_passphrase_and_roles(instance, runner) -> None:
    result = runner.invoke(
        cli.main,
        [
            "create-caseworker",
            "Carol",
            "--custodian",
            "--no-caseworker",
            "--instance",
            str(instance),
        ],
        input="a long enough passphrase\na long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough passphrase" not in result.output
    store = _store(instance)
    with store.transaction() as db:
        carol = db.scalars(select(Caseworker).where(Caseworker.username == "carol")).one()
        assert (carol.is_caseworker, carol.is_custodian, carol.is_admin) == (False, True, False)
        assert db.scalar(select(AuditEntry.action).where(AuditEntry.action == "caseworker.created"))
    store.dispose()


def test_create_caseworker_prints_an_enrolment_code_and_no_passphrase(instance, runner) -> None:
    """Nobody but the owner chooses or learns the passphrase: the CLI prints a code."""
    from cases.accounts.enrolment import enrol, unlock

    result = runner.invoke(
        cli.main, ["create-caseworker", "dan", "--admin", "--instance", str(instance)]
    )
    assert result.exit_code == 0 and "passphrase:" not in result.output.lower()
    code = result.output.split("Enrolment code (shown once, valid 72 hours): ")[1].split()[0]
    store = _store(instance)
    with store.transaction() as db:
        dan = db.scalars(select(Caseworker).where(Caseworker.username == "dan")).one()
        assert dan.is_admin and dan.is_caseworker and not dan.enrolled
        assert enrol(db, store.settings, "dan", code, "dan chose this one") is not None
    with store.transaction() as db:
        dan = db.scalars(select(Caseworker).where(Caseworker.username == "dan")).one()
        assert len(unlock(dan, "dan chose this one")) == 32
    store.dispose()
    again = runner.invoke(cli.main, ["create-caseworker", "dan", "--instance", str(instance)])
    assert again.exit_code == 1 and "taken" in again.output


def test_create_caseworker_refuses_a_short_passphrase(instance, runner) -> None:
    result = runner.invoke(
        cli.main, ["create-caseworker", "eve", "--passphrase", "--instance", str(instance)],
        input="short\nshort\n",
    )
    assert result.exit_code == 1 and "12 characters" in result.output


def test_disable_caseworker(instance, runner) -> None:
    runner.invoke(
        cli.main, ["create-caseworker", "eve", "--instance", str(instance)]
    )
    result = runner.invoke(
        cli.main, ["disable-caseworker", "eve", "--yes", "--instance", str(instance)]
    )
    assert result.exit_code == 0, result.output
    store = _store(instance)
    with store.transaction() as db:
        assert not db.scalars(select(Caseworker).where(Caseworker.username == "eve")).one().active
    store.dispose()
    unknown = runner.invoke(
        cli.main, ["disable-caseworker", "nobody", "--yes", "--instance", str(instance)]
    )
    assert unknown.exit_code == 1


def test_audit_verify_passes_then_fails_after_tampering(instance, runner) -> None:
    runner.invoke(
        cli.main, ["create-caseworker", "eve", "--instance", str(instance)]
    )
    runner.invoke(
        cli.main, ["create-caseworker", "fay", "--instance", str(instance)]
    )
    ok = runner.invoke(cli.main, ["audit", "verify", "--instance", str(instance)])
    assert ok.exit_code == 0 and "intact" in ok.output
    store = _store(instance)
    with store.transaction() as db:
        db.execute(
            update(AuditEntry).where(AuditEntry.id == 1).values(detail='{"roles":["admin"]}')
        )
    store.dispose()
    broken = runner.invoke(cli.main, ["audit", "verify", "--instance", str(instance)])
    assert broken.exit_code == 1
    assert "entry 1 was altered" in broken.output


def test_purge_dry_run_then_purge(instance, runner, closure_reviewer) -> None:  # type: ignore[no-untyped-def]
    from cases.reporting.submission import Submission, new_submission

    store = _store(instance)
    reviewer = closure_reviewer(store)
    with new_submission(store) as draft:
        draft.finalize(Submission(report={"text": "old case"}))
        old_id = draft.case_id
    with new_submission(store) as draft:
        draft.finalize(Submission(report={"text": "held case"}))
        held_id = draft.case_id
    with new_submission(store) as draft:
        draft.finalize(Submission(report={"text": "closed alone"}))
        alone_id = draft.case_id
    long_ago = dt.date.today() - dt.timedelta(days=400)
    with store.transaction() as db:
        db.execute(update(Case).values(status=Status.CLOSED, closed_on=long_ago,
                                       closure_reviewed_by_id=reviewer))
        db.get_one(Case, held_id).legal_hold_reason = "court order 17"
        db.get_one(Case, alone_id).closure_reviewed_by_id = None
    store.dispose()
    orphan = store.settings.blob_path / "00000000000000f1"  # a killed worker's leftover
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"ciphertext")
    old = time.time() - store.settings.orphan_grace_minutes * 60 - 60
    os.utime(orphan, (old, old))
    staged = store.settings.blob_path / ".tmp-00000000000000f2"  # sealed in a browser, never sent
    staged.write_bytes(b"ciphertext")
    store = _store(instance)
    with store.transaction() as db:
        db.add(StagedFile(id="00000000000000f2", token_hash=bytes(32), pieces=1, size=10,
                          created_on=long_ago))
    store.dispose()
    dry = runner.invoke(cli.main, ["purge", "--dry-run", "--instance", str(instance)])
    assert dry.exit_code == 0 and old_id in dry.output and held_id not in dry.output
    assert alone_id not in dry.output
    assert "1 orphaned attachment ciphertext(s) would be removed:" in dry.output
    assert "00000000000000f1" in dry.output and orphan.exists()
    store = _store(instance)
    with store.transaction() as db:
        assert db.get(Case, old_id) is not None
    store.dispose()
    done = runner.invoke(cli.main, ["purge", "--instance", str(instance)])
    assert done.exit_code == 0 and "1 case(s) purged" in done.output
    assert "1 orphaned attachment ciphertext(s) removed." in done.output and not orphan.exists()
    assert "1 file(s) sealed in a browser but never sent removed." in done.output
    assert not staged.exists()
    assert "1 closed case(s) kept: their closure waits for a second caseworker's review" in (
        done.output
    )
    store = _store(instance)
    with store.transaction() as db:
        assert db.get(Case, old_id) is None and db.get(Case, held_id) is not None
        assert db.get(Case, alone_id) is not None
        assert (
            db.scalar(select(AuditEntry.case_id).where(AuditEntry.action == "case.purged"))
            == old_id
        )
    store.dispose()


def test_reset_2fa_and_unlock(instance, runner) -> None:
    runner.invoke(
        cli.main, ["create-caseworker", "eve", "--instance", str(instance)]
    )
    store = _store(instance)
    with store.transaction() as db:
        eve = db.scalars(select(Caseworker).where(Caseworker.username == "eve")).one()
        eve.totp_secret_enc = b"x"
        eve.locked_until = dt.datetime(2999, 1, 1)
    store.dispose()
    assert runner.invoke(cli.main, ["reset-2fa", "eve", "--instance", str(instance)]).exit_code == 0
    assert runner.invoke(cli.main, ["unlock", "eve", "--instance", str(instance)]).exit_code == 0
    store = _store(instance)
    with store.transaction() as db:
        eve = db.scalars(select(Caseworker).where(Caseworker.username == "eve")).one()
        assert eve.totp_secret_enc is None and eve.locked_until is None
    store.dispose()


def test_serve_initialises_everything_and_starts_both_apps(tmp_path, runner, monkeypatch) -> None:
    seen = {}

    def fake_run_apps(commands, env, urls):
        seen.update(commands=commands, env=env, urls=urls)
        return 0

    monkeypatch.setattr(cli.serve, "run_apps", fake_run_apps)  # the module serve calls it in
    path = tmp_path / "inst"
    result = runner.invoke(
        cli.main,
        ["serve", "--instance", str(path), "--intake-port", "9180", "--caseworker-port", "9181"],
    )
    assert result.exit_code == 0, result.output
    assert "RECOVERY KEY" in result.output
    assert "username:        admin" in result.output
    assert "passphrase:" not in result.output  # nobody but its owner will choose it
    code = result.output.split("enrolment code:  ")[1].split()[0]
    assert seen["commands"]["intake"][:3] == [sys.executable, "-m", "intake"]
    assert seen["commands"]["caseworker"][:3] == [sys.executable, "-m", "caseworker"]
    assert "9181" in seen["commands"]["caseworker"] and "9180" in seen["commands"]["intake"]
    assert seen["env"]["SEALBOX_INSTANCE_PATH"] == str(path.resolve())
    store = _store(path)
    with store.transaction() as db:
        admin = db.scalars(select(Caseworker)).one()
        assert (admin.username, admin.is_admin, admin.is_caseworker, admin.is_custodian) == (
            "admin",
            True,
            True,
            True,
        )
        from cases.accounts.enrolment import enrol, unlock

        assert not admin.enrolled
        assert enrol(db, store.settings, "admin", code, "the first admin's words") is not None
        assert len(unlock(admin, "the first admin's words")) == 32
    store.dispose()
    # A second start prints neither the recovery key nor a new account.
    again = runner.invoke(cli.main, ["serve", "--instance", str(path)])
    assert again.exit_code == 0
    assert "RECOVERY KEY" not in again.output and "enrolment code" not in again.output


def test_run_apps_fails_when_an_app_dies_and_stops_the_other() -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    dying = [sys.executable, "-c", "import sys; sys.exit(3)"]
    started = {}
    import subprocess

    real_popen = subprocess.Popen

    def tracking_popen(command, **kwargs):
        process = real_popen(command, **kwargs)
        started[tuple(command)] = process
        return process

    import caseworker.cli.serve as module

    original = module.subprocess.Popen
    module.subprocess.Popen = tracking_popen  # type: ignore[misc]
    try:
        code = cli.serve.run_apps({"a": sleeper, "b": dying}, {}, {"a": "http://x", "b": "http://y"})
    finally:
        module.subprocess.Popen = original  # type: ignore[misc]
    assert code == 3
    assert started[tuple(sleeper)].poll() is not None  # the survivor was stopped


def test_development_server_logs_no_client_address(instance, tmp_path) -> None:
    import os
    import socket
    import subprocess
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **FAST, "SEALBOX_INSTANCE_PATH": str(instance)}
    process = subprocess.Popen(
        [sys.executable, "-m", "caseworker", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login?who=me") as page:
                    assert page.status == 200
                break
            except OSError:
                import time

                time.sleep(0.1)
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert '"GET /login" 200' in output
    assert "127.0.0.1 -" not in output and "who=me" not in output


def test_keys_list_shows_fingerprints_and_flags_an_uncertified_key(instance, runner) -> None:
    from cases.accounts.enrolment import create_caseworker
    from crypto import key_fingerprint, new_keypair

    store = _store(instance)
    with store.transaction() as db:
        alice = create_caseworker(db, store.settings, "alice", "correct horse battery")
        bob = create_caseworker(db, store.settings, "bob", "correct horse battery")
        fingerprint = key_fingerprint(alice.public_key)
        bob_id = bob.id
    ok = runner.invoke(cli.main, ["keys", "list", "--instance", str(instance)])
    assert ok.exit_code == 0 and fingerprint in ok.output and "NOT CERTIFIED" not in ok.output
    with store.transaction() as db:
        db.execute(update(Caseworker).where(Caseworker.id == bob_id)
                   .values(public_key=new_keypair()[1]))
    store.dispose()
    bad = runner.invoke(cli.main, ["keys", "list", "--instance", str(instance)])
    assert bad.exit_code == 1
    flagged = [line for line in bad.output.splitlines() if "NOT CERTIFIED" in line]
    assert len(flagged) == 1 and flagged[0].startswith("bob")


def test_approvals_can_be_decided_by_the_servers_operator(instance, runner) -> None:
    """An instance with one administrator has nobody to approve: the server's operator
    decides with the CLI, audited like an administrator's decision."""
    from cases.accounts.approvals import Kind, request
    from cases.accounts.enrolment import create_account

    store = _store(instance)
    with store.transaction() as db:
        root, _ = create_account(db, store.settings, "root", admin=True, caseworker=False)
        change = request(db, Kind.CREATE, actor_id=root.id, username="nina",
                         roles=["caseworker"])
        other = request(db, Kind.ROLES, actor_id=root.id, target=root,
                        roles=["admin", "caseworker"])
        first, second = change.id, other.id
    store.dispose()
    listed = runner.invoke(cli.main, ["approvals", "list", "--instance", str(instance)])
    assert listed.exit_code == 0 and "create" in listed.output and "roles" in listed.output
    where = ["--instance", str(instance)]
    done = runner.invoke(cli.main, ["approvals", "approve", str(first), *where])
    assert done.exit_code == 0 and "Enrolment code for nina" in done.output
    refused = runner.invoke(cli.main, ["approvals", "deny", str(second), *where])
    assert refused.exit_code == 0
    twice = runner.invoke(cli.main, ["approvals", "approve", str(second), *where])
    assert twice.exit_code == 1 and "already been decided" in twice.output
    store = _store(instance)
    with store.transaction() as db:
        assert db.scalars(select(Caseworker).where(Caseworker.username == "nina")).one()
        root = db.scalars(select(Caseworker).where(Caseworker.username == "root")).one()
        assert not root.is_caseworker
        actions = set(db.scalars(select(AuditEntry.action)))
    store.dispose()
    assert {"admin.change_approved", "admin.change_denied"} <= actions


def test_help_lists_one_command_per_line(runner) -> None:  # type: ignore[no-untyped-def]
    shown = runner.invoke(cli.main, ["--help"]).output
    lines = [line.strip() for line in shown.splitlines()]
    for command in ("sealbox init", "sealbox db upgrade", "sealbox purge", "sealbox serve"):
        assert any(line.startswith(command + " ") for line in lines), shown
