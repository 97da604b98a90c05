"""Settings load from defaults, TOML and environment, and report every mistake clearly."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from config import ConfigError, InstanceExists, init_instance, load_settings
from crypto import parse_recovery_key, public_key_of


def test_init_writes_secrets_privately_and_returns_recovery_key(tmp_path: Path) -> None:
    recovery = init_instance(tmp_path / "inst")
    path = tmp_path / "inst" / "instance.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = load_settings(environ={}, instance_path=tmp_path / "inst")
    assert public_key_of(parse_recovery_key(recovery)) == settings.recovery_public_key
    assert recovery.replace("-", "") not in path.read_text()
    assert len(settings.secret_key) == 64 and len(settings.instance_salt) == 16


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    init_instance(tmp_path)
    with pytest.raises(InstanceExists):
        init_instance(tmp_path)


def test_toml_then_environment(tmp_path: Path) -> None:
    init_instance(tmp_path)
    toml = tmp_path / "sealbox.toml"
    toml.write_text('organisation_name = "Audit Office"\nmax_files_per_submission = 3\n')
    env = {"SEALBOX_MAX_FILES_PER_SUBMISSION": "5", "SEALBOX_AUTO_ACKNOWLEDGE": "yes"}
    settings = load_settings(toml, environ=env, instance_path=tmp_path)
    assert settings.organisation_name == "Audit Office"
    assert settings.max_files_per_submission == 5
    assert settings.auto_acknowledge is True


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text('colour = "blue"\n')
    env = {
        "SEALBOX_MAX_FILE_BYTES": "lots",
        "SEALBOX_ACKNOWLEDGE_WITHIN_DAYS": "10",
        "SEALBOX_DATABASE_URL": "mysql://x",
        "SEALBOX_RATELIMIT_STORAGE_URI": "memcached://x",
    }
    with pytest.raises(ConfigError) as info:
        load_settings(toml, environ=env, instance_path=tmp_path / "nowhere")
    text = "\n".join(info.value.problems)
    for expected in (
        "colour",
        "max_file_bytes",
        "at most 7",
        "database_url",
        "ratelimit",
        "sealbox init",
    ):
        assert expected in text
    assert len(info.value.problems) == 6


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    toml = tmp_path / "broken.toml"
    toml.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(toml, environ={}, instance_path=tmp_path)


def test_listener_and_proxy_settings_are_checked(tmp_path: Path) -> None:
    init_instance(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"SEALBOX_INSTANCE_PATH": str(tmp_path),
                               "SEALBOX_TRUSTED_PROXIES": "127.0.0.1,nginx.local",
                               "SEALBOX_ONION_LISTEN": "8088"})
    assert any("trusted_proxies: 'nginx.local'" in p for p in info.value.problems)
    assert any("onion_listen: '8088'" in p for p in info.value.problems)
    settings = load_settings(environ={"SEALBOX_INSTANCE_PATH": str(tmp_path),
                                      "SEALBOX_TRUSTED_PROXIES": "172.31.254.1",
                                      "SEALBOX_ONION_LISTEN": ""})
    assert settings.trusted_proxies == ("172.31.254.1",) and settings.onion_listen == ""
