"""nginx: the shipped sites pass ``nginx -t`` with a test certificate, and a real nginx
running them (on free loopback ports, in front of a stub app under gunicorn) keeps the
promises: uploads stream to the app without touching disk, nothing about the client is
forwarded, no intake access log, security headers on nginx's own pages without doubling
the app's, HSTS on TLS, and the caseworker allow-list refuses other networks."""

from __future__ import annotations

import hashlib
import http.client
import ssl
import time
from pathlib import Path

import pytest
from nginxkit import build_nginx_prefix

from config import Settings
from config.http import security_headers

STUB_APP = r"""
import hashlib, json, os

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/echo":
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        listener = environ["gunicorn.socket"].getsockname()[1]
        body = json.dumps({"headers": headers, "listener": listener}).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Security-Policy", "default-src 'none'")])
        return [body]
    if path == "/upload":
        with open(os.environ["STUB_MARKER"], "w") as fh:
            fh.write("started")
        stream, n, digest = environ["wsgi.input"], 0, hashlib.sha256()
        while chunk := stream.read(65536):
            n += len(chunk)
            digest.update(chunk)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"n": n, "sha256": digest.hexdigest()}).encode()]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"bare"]
"""


def _ports(free_port) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ports = {name: free_port() for name in ("i80", "i443", "ionion", "c443", "conion", "stub",
                                            "stub_onion")}
    # The stub listens on two ports, like the intake's clear-web and onion listeners.
    return {**ports, "intake": ports["stub"], "intake_onion": ports["stub_onion"],
            "caseworker": ports["stub"]}


def test_nginx_sites_pass_nginx_t(
    tool, deploy_dir: Path, tls_cert, tmp_path: Path, free_port
) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    nginx = tool("nginx")
    conf = build_nginx_prefix(deploy_dir, tmp_path / "nginx", tls_cert, _ports(free_port))
    result = subprocess.run(
        [
            nginx,
            "-t",
            "-q",
            "-c",
            str(conf),
            "-p",
            f"{tmp_path}/nginx/",
            "-e",
            f"{tmp_path}/nginx/logs/early.log",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def live_nginx(
    tool, deploy_dir: Path, tls_cert, tmp_path: Path, free_port, launcher, venv_bin: Path
):  # type: ignore[no-untyped-def]
    nginx = tool("nginx")
    ports = _ports(free_port)
    stub_dir = tmp_path / "stub"
    stub_dir.mkdir()
    (stub_dir / "stub_app.py").write_text(STUB_APP)
    marker = tmp_path / "upload-started"
    import os

    env = {**os.environ, "STUB_MARKER": str(marker)}
    launcher.start(
        "stub",
        [
            str(venv_bin / "gunicorn"),
            "--bind",
            f"127.0.0.1:{ports['stub']}",
            "--bind",
            f"127.0.0.1:{ports['stub_onion']}",
            "--workers",
            "2",
            "--chdir",
            str(stub_dir),
            "stub_app:app",
        ],
        env=env,
        port=ports["stub"],
    )
    prefix = tmp_path / "nginx"
    conf = build_nginx_prefix(deploy_dir, prefix, tls_cert, ports)
    launcher.start(
        "nginx",
        [
            nginx,
            "-c",
            str(conf),
            "-p",
            f"{prefix}/",
            "-e",
            f"{prefix}/logs/early.log",
            "-g",
            "daemon off;",
        ],
        port=ports["i443"],
    )
    for name in ("i80", "ionion", "c443", "conion"):
        launcher.wait(ports[name])
    return ports, prefix, marker


def _tls(port: int) -> http.client.HTTPSConnection:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the throw-away test certificate
    return http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)


def _get(
    conn: http.client.HTTPConnection, path: str, host: str, headers: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    conn.request("GET", path, headers={"Host": host, **(headers or {})})
    response = conn.getresponse()
    return response, response.read()


INTAKE_HOST = "report.example.org"
CASEWORKER_HOST = "caseworker.internal.example.org"
NGINX_PAGE_HEADERS = security_headers(https=True)


def test_nothing_about_the_client_reaches_the_app(live_nginx) -> None:  # type: ignore[no-untyped-def]
    import json

    ports, _, _ = live_nginx
    forged = {
        "X-Forwarded-For": "198.51.100.7",
        "X-Real-IP": "198.51.100.7",
        "Forwarded": "for=198.51.100.7",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Ssl": "on",
        "X-Forwarded-Protocol": "ssl",
        "X-Forwarded-Port": "1",
        "X-Sealbox-Client": "198.51.100.7",
    }
    for conn, scheme, listener, client in (
        (_tls(ports["i443"]), "https", ports["intake"], "127.0.0.1"),
        (http.client.HTTPConnection("127.0.0.1", ports["ionion"]), "http",
         ports["intake_onion"], None),
    ):
        response, body = _get(conn, "/echo", INTAKE_HOST, forged)
        assert response.status == 200
        echoed = json.loads(body)
        seen = echoed["headers"]
        for name in forged:
            if name != "X-Sealbox-Client":
                assert name.lower() not in seen, name
        # nginx's own header replaces the client's: the connection's address on the clear
        # web (for the rate limits), nothing at all from the onion listener.
        assert seen.get("x-sealbox-client") == client
        # Each nginx server reaches its own gunicorn listener: that is how the app tells
        # onion traffic apart.
        assert echoed["listener"] == listener
        assert seen["x-forwarded-proto"] == scheme
        assert "198.51.100.7" not in body.decode()
        # The app's own header passes through, not doubled by nginx's fallback.
        assert response.headers.get_all("Content-Security-Policy") == ["default-src 'none'"]
        assert response.headers["Server"] == "nginx"  # server_tokens off: no version
        conn.close()


def test_nginx_pages_carry_the_apps_security_headers(live_nginx) -> None:  # type: ignore[no-untyped-def]
    ports, _, _ = live_nginx
    response, _ = _get(_tls(ports["i443"]), "/bare", INTAKE_HOST)
    for name, value in NGINX_PAGE_HEADERS.items():
        assert response.headers.get_all(name) == [value], name
    onion, _ = _get(http.client.HTTPConnection("127.0.0.1", ports["ionion"]), "/bare", "x.onion")
    for name, value in security_headers(https=False).items():
        assert onion.headers.get_all(name) == [value], name
    assert onion.headers["Strict-Transport-Security"] is None  # plain HTTP over the onion circuit

    # nginx's own error page (body over client_max_body_size: refused from the header alone)
    conn = _tls(ports["i443"])
    conn.putrequest("POST", "/upload", skip_host=True)
    conn.putheader("Host", INTAKE_HOST)
    conn.putheader("Content-Length", str(Settings().max_request_bytes + 1))
    conn.endheaders()
    too_big = conn.getresponse()
    too_big.read()
    assert too_big.status == 413
    for name, value in NGINX_PAGE_HEADERS.items():
        assert too_big.headers.get_all(name) == [value], name

    redirect, _ = _get(
        http.client.HTTPConnection("127.0.0.1", ports["i80"]), "/followup?x=1", "attacker.example"
    )
    assert redirect.status == 301
    assert redirect.headers["Location"] == f"https://{INTAKE_HOST}/followup?x=1"


def test_uploads_stream_to_the_app_and_never_touch_disk(live_nginx) -> None:  # type: ignore[no-untyped-def]
    import json

    ports, prefix, marker = live_nginx
    size, piece = 8 * 1024 * 1024, 64 * 1024
    data = hashlib.shake_256(b"upload").digest(piece)
    conn = _tls(ports["i443"])
    conn.putrequest("POST", "/upload", skip_host=True)
    conn.putheader("Host", INTAKE_HOST)
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    sent, digest, seen_temp_files = 0, hashlib.sha256(), []
    app_started_before_end = False
    while sent < size:
        conn.send(data)
        digest.update(data)
        sent += piece
        if sent == size // 2:
            time.sleep(1.0)  # give a buffering proxy every chance to show itself
            app_started_before_end = marker.exists()
        seen_temp_files += [p for p in prefix.rglob("*") if p.is_file() and "temp" in p.parent.name]
    response = conn.getresponse()
    result = json.loads(response.read())
    assert response.status == 200
    assert result == {"n": size, "sha256": digest.hexdigest()}
    assert app_started_before_end, "nginx held the body back: proxy_request_buffering is on"
    assert seen_temp_files == [], f"nginx spooled the body to disk: {seen_temp_files}"


def test_caseworker_is_refused_outside_the_allow_list(live_nginx) -> None:  # type: ignore[no-untyped-def]
    ports, prefix, _ = live_nginx
    response, _ = _get(_tls(ports["c443"]), "/echo?name=secret-person", CASEWORKER_HOST)
    assert response.status == 403  # 127.0.0.1 is not in the shipped allow-list
    assert (
        response.headers["Strict-Transport-Security"]
        == NGINX_PAGE_HEADERS["Strict-Transport-Security"]
    )
    # The onion listener allows only the local Tor (127.0.0.1).
    onion, _ = _get(http.client.HTTPConnection("127.0.0.1", ports["conion"]), "/echo", "x.onion")
    assert onion.status == 200
    time.sleep(0.2)
    log = (prefix / "logs/sealbox-caseworker.access.log").read_text()
    assert "GET /echo" in log and "secret-person" not in log  # path only, no query string


def test_intake_leaves_no_trace_in_nginx_logs(live_nginx) -> None:  # type: ignore[no-untyped-def]
    ports, prefix, _ = live_nginx
    _get(_tls(ports["i443"]), "/bare?who=me", INTAKE_HOST)
    _get(http.client.HTTPConnection("127.0.0.1", ports["ionion"]), "/bare?who=me", "x.onion")
    _get(http.client.HTTPConnection("127.0.0.1", ports["i80"]), "/", INTAKE_HOST)
    time.sleep(0.2)
    logs = {p.name: p.read_text() for p in (prefix / "logs").iterdir()}
    assert not any(
        "access" in name and "caseworker" not in name and text for name, text in logs.items()
    ), logs
    for name, text in logs.items():
        if "intake" in name:
            assert "client:" not in text and "who=me" not in text, (name, text)
