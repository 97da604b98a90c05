"""Static checks that CI also runs through `make lint` (bandit -lll, .ci/pip-audit)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BANDIT = Path(sys.executable).with_name("bandit")


def bandit(*args: str) -> dict:  # type: ignore[type-arg]
    if not BANDIT.exists():
        pytest.skip("bandit is not installed in this environment (pip install -e '.[test]')")
    done = subprocess.run(
        [str(BANDIT), "-q", "-c", str(ROOT / "pyproject.toml"), "-f", "json", *args],
        capture_output=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    return json.loads(done.stdout)


def test_no_high_severity_bandit_findings_in_shipped_code() -> None:
    report = bandit("-r", ".")
    scanned = set(report["metrics"])
    assert any("cases/" in p for p in scanned) and any("crypto/" in p for p in scanned)
    assert not any("/tests/" in p or p.startswith("./tests") for p in scanned)
    high = [r for r in report["results"] if r["issue_severity"] == "HIGH"]
    lines = [f"{r['filename']}:{r['line_number']} {r['issue_text']}" for r in high]
    assert not high, "\n".join(lines)


def test_bandit_would_catch_a_high_finding(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n")
    report = bandit(str(bad))
    assert any(r["issue_severity"] == "HIGH" for r in report["results"])
