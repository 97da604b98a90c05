"""Tor and systemd: ``tor --verify-config`` on the shipped torrc (with and without the
optional caseworker service), a real Tor started offline that loads the onion services
and the client-authorisation keys made by deploy/tor/onion_client_key.py, and
``systemd-analyze verify`` on the units with no warning at all."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _torrc_for_test(deploy_dir: Path, tmp: Path, *, caseworker: bool) -> Path:
    text = (deploy_dir / "tor/torrc").read_text()
    if caseworker:
        text = re.sub(r"^#(HiddenService\w+ )", r"\1", text, flags=re.M)
    for name in ("sealbox-intake", "sealbox-caseworker"):
        folder = tmp / name
        folder.mkdir(mode=0o700, exist_ok=True)
        text = text.replace(f"/var/lib/tor/{name}/", f"{folder}/")
    text = text.replace("Log notice syslog", f"Log notice file {tmp}/tor.log")
    path = tmp / "torrc"
    path.write_text(text)
    return path


def _tor(tool, torrc: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    data = tmp / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(
        [tool("tor"), "--verify-config", "-f", str(torrc), "--DataDirectory", str(data), *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_torrc_verifies(tool, deploy_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for caseworker in (False, True):
        folder = tmp_path / str(caseworker)
        folder.mkdir()
        result = _tor(tool, _torrc_for_test(deploy_dir, folder, caseworker=caseworker), folder)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Configuration was valid" in result.stdout


def test_torrc_verify_catches_a_broken_line(tool, deploy_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    torrc = _torrc_for_test(deploy_dir, tmp_path, caseworker=False)
    torrc.write_text(
        torrc.read_text().replace("HiddenServicePort 80 ", "HiddenServicePort eighty ")
    )
    assert _tor(tool, torrc, tmp_path).returncode != 0


def test_client_key_tool_writes_keys_tor_accepts(
    tool, deploy_dir: Path, tmp_path: Path, launcher
) -> None:  # type: ignore[no-untyped-def]
    tor = tool("tor")
    torrc = _torrc_for_test(deploy_dir, tmp_path, caseworker=True)
    service = tmp_path / "sealbox-caseworker"
    script = deploy_dir / "tor/onion_client_key.py"
    made = subprocess.run(
        [sys.executable, str(script), "alice", str(service)],
        capture_output=True,
        text=True,
        check=True,
    )
    client_line = made.stdout.strip()
    _, kind, algo, private_b32 = client_line.rsplit(":", 3)
    assert (kind, algo) == ("descriptor", "x25519")
    auth = (service / "authorized_clients/alice.auth").read_text().strip()
    assert oct((service / "authorized_clients/alice.auth").stat().st_mode & 0o777) == "0o600"
    # The two halves belong together.
    private = X25519PrivateKey.from_private_bytes(base64.b32decode(private_b32 + "===="))
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert auth == "descriptor:x25519:" + base64.b32encode(public).decode().rstrip("=")
    # Refuses to overwrite, and refuses odd names.
    assert subprocess.run(
        [sys.executable, str(script), "alice", str(service)], capture_output=True
    ).returncode
    assert subprocess.run(
        [sys.executable, str(script), "../x", str(service)], capture_output=True
    ).returncode
    # A key Tor cannot parse, to prove Tor does read the folder and complains when it should.
    bad = service / "authorized_clients/broken.auth"
    bad.write_text("descriptor:x25519:NOTAKEY\n")
    bad.chmod(0o600)

    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    started = launcher.start(
        "tor",
        [tor, "-f", str(torrc), "--DataDirectory", str(data), "--DisableNetwork", "1"],
    )
    deadline = time.monotonic() + 60
    hostnames = [tmp_path / "sealbox-intake/hostname", service / "hostname"]
    log = tmp_path / "tor.log"
    while time.monotonic() < deadline and not (
        all(h.exists() for h in hostnames) and log.exists() and "Bootstrapped 0%" in log.read_text()
    ):
        assert started.proc.poll() is None, started.output()
        time.sleep(0.2)
    launcher.stop(started)
    text = log.read_text()
    for hostname in hostnames:
        assert re.fullmatch(r"[a-z2-7]{56}\.onion\n?", hostname.read_text()), hostname
    warnings = [line for line in text.splitlines() if "[warn]" in line and "as root" not in line]
    assert any("NOTAKEY" in line for line in warnings), text  # the broken file was read...
    assert [line for line in warnings if "NOTAKEY" not in line] == []  # ...and alice's was fine


def test_systemd_units_verify_without_warnings(
    tool, deploy_dir: Path, tmp_path: Path, venv_bin: Path
) -> None:  # type: ignore[no-untyped-def]
    analyze = tool("systemd-analyze")
    units = tmp_path / "units"
    units.mkdir()
    for unit in sorted((deploy_dir / "systemd").iterdir()):
        text = unit.read_text()
        # Point the absolute paths at this checkout so the executables exist.
        text = text.replace("/opt/sealbox/venv/bin/", f"{venv_bin}/")
        text = text.replace("/opt/sealbox/deploy/", f"{deploy_dir}/")
        (units / unit.name).write_text(text)
    if not (venv_bin / "sealbox").exists():
        (units / "sealbox-purge.service").write_text(
            (units / "sealbox-purge.service")
            .read_text()
            .replace(f"{venv_bin}/sealbox", "/bin/true")
        )
    names = sorted(str(p) for p in units.iterdir())
    result = subprocess.run(
        [analyze, "verify", "--man=no", *names],
        capture_output=True,
        text=True,
        check=False,
        cwd=units,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"},
    )
    about_ours = [
        line for line in (result.stdout + result.stderr).splitlines() if str(units) in line
    ]
    assert result.returncode == 0 and about_ours == [], result.stdout + result.stderr


def test_systemd_verify_catches_a_bad_directive(tool, deploy_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    analyze = tool("systemd-analyze")
    unit = tmp_path / "sealbox-purge.timer"
    unit.write_text(
        (deploy_dir / "systemd/sealbox-purge.timer")
        .read_text()
        .replace("Persistent=true", "Persistent=maybe")
    )
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False
    )
    assert str(unit) in result.stdout + result.stderr
