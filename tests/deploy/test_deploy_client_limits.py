"""Per-client rate limits behind the shipped proxy: the real nginx sites in front of the real
intake under gunicorn (the shipped configuration, Redis storage), with clients on two
loopback addresses.

Before, every clear-web reporter reached the app as nginx's 127.0.0.1, so a few junk POSTs
an hour locked everyone out, and ``Host: x.onion`` skipped the per-client limits. Now nginx
names the client in X-Sealbox-Client (believed only from the proxy's address), and the app
knows onion traffic by the gunicorn listener nginx's onion server proxies to."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from nginxkit import build_nginx_prefix, wait_for_tls

from cases.store import Store
from config import init_instance, load_settings

FAST = {
    "SEALBOX_RECEIPT_KDF_OPSLIMIT": "1",
    "SEALBOX_RECEIPT_KDF_MEMLIMIT_MIB": "8",
    "SEALBOX_PASSPHRASE_KDF_OPSLIMIT": "1",
    "SEALBOX_PASSPHRASE_KDF_MEMLIMIT_MIB": "8",
}
HOST = "report.example.org"
PER_CLIENT = 2  # new reports per hour and client
GLOBAL = 8  # new reports per minute, everyone together
FORGED = ("203.0.113.5", "198.51.100.9", "198.51.100.10")


@dataclass
class Site:
    ports: dict[str, int]
    gunicorn_log: Path
    redis_url: str


@pytest.fixture
def site(
    tool, deploy_dir: Path, tls_cert, tmp_path: Path, free_port, launcher, venv_bin: Path,
    repo_root: Path, redis_url: str,
) -> Site:  # type: ignore[no-untyped-def]
    nginx = tool("nginx")
    ports = {name: free_port() for name in ("i80", "i443", "ionion", "c443", "conion",
                                            "intake", "intake_onion", "caseworker")}
    instance = tmp_path / "instance"
    init_instance(instance)
    redis_db = re.sub(r"/\d*$", f"/{1 + secrets.randbelow(15)}", redis_url)
    redis.Redis.from_url(redis_db).flushdb()  # counts start at zero, whatever ran before
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SEALBOX_")},
        **FAST,
        "SEALBOX_INSTANCE_PATH": str(instance),
        "SEALBOX_RATELIMIT_STORAGE_URI": redis_db,
        "SEALBOX_SUBMISSIONS_PER_HOUR_PER_CLIENT": str(PER_CLIENT),
        "SEALBOX_SUBMISSIONS_PER_MINUTE_GLOBAL": str(GLOBAL),
        "SEALBOX_INTAKE_BIND": f"127.0.0.1:{ports['intake']}",
        "SEALBOX_ONION_LISTEN": f"127.0.0.1:{ports['intake_onion']}",
        "SEALBOX_WORKER_TMP_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    store = Store(load_settings(environ=env))
    store.migrate()
    store.dispose()
    # One worker: per-client keys are per process (a documented limit), and this test
    # counts exactly.
    started = launcher.start(
        "intake",
        [str(venv_bin / "gunicorn"), "--config", str(deploy_dir / "gunicorn.intake.conf.py"),
         "--workers", "1", "intake:create_app()"],
        env=env, cwd=repo_root, port=ports["intake"], timeout=60,
    )
    launcher.wait(ports["intake_onion"])
    prefix = tmp_path / "nginx"
    conf = build_nginx_prefix(deploy_dir, prefix, tls_cert, ports)
    launcher.start(
        "nginx",
        [nginx, "-c", str(conf), "-p", f"{prefix}/", "-e", f"{prefix}/logs/early.log",
         "-g", "daemon off;"],
        port=ports["i443"],
    )
    launcher.wait(ports["ionion"])
    wait_for_tls(ports["i443"], prefix)
    return Site(ports, started.log, redis_db)


def _post(
    conn: http.client.HTTPConnection, host: str = HOST, extra: dict[str, str] | None = None
) -> int:
    """A new report without a valid form token: 400 while the limits let it through."""
    body = b"csrf_token=forged&main-text=junk"
    conn.request("POST", "/en/report/send", body=body, headers={
        "Host": host, "Content-Type": "application/x-www-form-urlencoded", **(extra or {}),
    })
    response = conn.getresponse()
    text = response.read().decode(errors="replace")
    if response.status == 429:
        assert int(response.headers["Retry-After"]) >= 1
        assert '<html lang="en"' in text  # the intake's own page, not nginx's
    conn.close()
    return response.status


def _clear_web(site: Site, source: str) -> http.client.HTTPSConnection:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the throw-away test certificate
    return http.client.HTTPSConnection("127.0.0.1", site.ports["i443"], context=context,
                                       timeout=30, source_address=(source, 0))


def _tor(site: Site) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", site.ports["ionion"], timeout=30)


def _direct(site: Site, source: str) -> http.client.HTTPConnection:
    """Straight to gunicorn's clear-web listener, not through nginx."""
    return http.client.HTTPConnection("127.0.0.1", site.ports["intake"], timeout=30,
                                      source_address=(source, 0))


def test_clients_behind_nginx_are_counted_apart_and_onion_by_its_listener(site: Site) -> None:
    onion_host = "x" * 56 + ".onion"
    # A (127.0.0.1) uses up its own allowance...
    a = [_post(_clear_web(site, "127.0.0.1")) for _ in range(PER_CLIENT + 1)]
    assert a == [400] * PER_CLIENT + [429]
    # ...and cannot buy a fresh one: not with a forged X-Sealbox-Client (nginx replaces it),
    # not by claiming to be onion traffic.
    assert _post(_clear_web(site, "127.0.0.1"), extra={"X-Sealbox-Client": FORGED[0]}) == 429
    assert _post(_clear_web(site, "127.0.0.1"), host=onion_host) == 429
    # B (127.0.0.2) is a different client: A's flood does not lock it out.
    assert _post(_clear_web(site, "127.0.0.2")) == 400
    # Straight to gunicorn, the header comes from a peer that is not the proxy and is
    # ignored: B is still B, whatever it claims.
    assert _post(_direct(site, "127.0.0.2"), extra={"X-Sealbox-Client": FORGED[1]}) == 400
    assert _post(_direct(site, "127.0.0.2"), extra={"X-Sealbox-Client": FORGED[2]}) == 429
    # Tor reporters all arrive as 127.0.0.1 on the onion listener: no per-client limit
    # there, only the global one, and the refused requests above did not spend it.
    spent = PER_CLIENT + 2  # A's two, B's two
    tor = [_post(_tor(site), host=onion_host) for _ in range(GLOBAL - spent + 1)]
    assert tor == [400] * (GLOBAL - spent) + [429]
    # The global limit is everyone's: a new clear-web client now waits too.
    assert _post(_clear_web(site, "127.0.0.3")) == 429


def test_no_client_address_is_kept_in_redis_or_the_log(site: Site) -> None:
    for source in ("127.0.0.2", "127.0.0.3"):
        _post(_clear_web(site, source), extra={"X-Sealbox-Client": FORGED[0]})
    keys = [k.decode() for k in redis.Redis.from_url(site.redis_url).keys("*")]
    assert any(re.search(r"c-[0-9a-f]{32}", k) for k in keys), keys
    values = " ".join(keys) + site.gunicorn_log.read_text(errors="replace")
    for address in ("127.0.0.2", "127.0.0.3", FORGED[0]):
        assert address not in values
