"""deploy/monitoring/sealbox_check.py: counts deadlines and services for a monitoring
system, and never prints a case id or anything a reporter wrote."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from config import Settings


def _check(
    deploy_dir: Path, settings: Settings, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(deploy_dir / "monitoring/sealbox_check.py"), *args],
        env={**os.environ, "SEALBOX_INSTANCE_PATH": str(settings.instance_path), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_overdue_case_warns_without_naming_it(settings: Settings, deploy_dir: Path) -> None:
    store = Store(settings)
    store.migrate()
    assert _check(deploy_dir, settings).returncode == 0
    with new_submission(store) as draft:
        long_ago = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=30)
        draft.finalize(Submission(report={"text": "the minister took a bribe"}), on=long_ago)
        case_id = draft.case_id
    store.dispose()
    result = _check(deploy_dir, settings)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("WARNING - 1 case(s) past a deadline")
    metrics = _check(deploy_dir, settings, "--prometheus")
    assert metrics.returncode == 0
    assert "sealbox_cases_overdue 1" in metrics.stdout
    assert 'sealbox_cases{status="received"} 1' in metrics.stdout
    head = _check(deploy_dir, settings, "--audit-head")
    assert head.returncode == 0 and re.search(r" audit head \d+:[0-9a-f]{64}$", head.stdout.strip())
    for output in (result.stdout, metrics.stdout):
        assert case_id not in output and "minister" not in output
        assert long_ago.isoformat() not in output


def test_unreachable_services_are_critical(settings: Settings, deploy_dir: Path) -> None:
    result = _check(
        deploy_dir,
        settings,
        SEALBOX_DATABASE_URL="postgresql+psycopg://u:secret-pw@127.0.0.1:1/x",
        SEALBOX_RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
    )
    assert result.returncode == 2
    assert result.stdout.startswith("CRITICAL - database") and "Redis" in result.stdout
    assert "secret-pw" not in result.stdout


def test_orphaned_ciphertext_is_counted(settings: Settings, deploy_dir: Path) -> None:
    """Ciphertext a killed worker left (no row, untouched past the grace period)."""
    store = Store(settings)
    store.migrate()
    store.dispose()
    old = dt.datetime.now(dt.UTC).timestamp() - settings.orphan_grace_minutes * 60 - 60
    for name in ("00000000000000f1", ".tmp-00000000000000f2"):
        path = settings.blob_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"ciphertext")
        os.utime(path, (old, old))
    metrics = _check(deploy_dir, settings, "--prometheus")
    assert "sealbox_orphaned_ciphertexts 2" in metrics.stdout, metrics.stdout
