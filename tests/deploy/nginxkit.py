"""The shipped nginx sites, made runnable on free loopback ports for the deployment tests."""

from __future__ import annotations

import re
import socket
import ssl
import time
from pathlib import Path


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the site no longer contains {old!r}: update this test"
    return text.replace(old, new)


def build_nginx_prefix(
    deploy_dir: Path,
    prefix: Path,
    cert: tuple[Path, Path],
    ports: dict[str, int],
    *,
    worker_connections: int = 64,
) -> Path:
    """A self-contained nginx configuration in ``prefix`` made of the shipped files, with
    only addresses, ports and file paths changed. ``ports`` names nginx's listeners (i80,
    i443, ionion, c443, conion) and the upstreams (intake, intake_onion, caseworker).
    Returns the main configuration file."""
    (prefix / "sites").mkdir(parents=True)
    (prefix / "logs").mkdir()
    snippets = deploy_dir / "nginx/snippets"
    for site in sorted((deploy_dir / "nginx/sites").glob("*.conf")):
        text = site.read_text()
        text = text.replace("/etc/nginx/snippets/", f"{snippets}/")
        text = re.sub(r"/etc/ssl/sealbox/\w+\.crt", str(cert[0]), text)
        text = re.sub(r"/etc/ssl/sealbox/\w+\.key", str(cert[1]), text)
        text = text.replace("/var/log/nginx/", f"{prefix}/logs/")
        text = re.sub(r"^\s*listen \[::\]:\d+[^;]*;\n", "", text, flags=re.M)
        if site.name == "sealbox-intake.conf":
            text = _replace(
                text,
                "listen 80 default_server;",
                f"listen 127.0.0.1:{ports['i80']} default_server;",
            )
            text = _replace(
                text,
                "listen 443 ssl default_server;",
                f"listen 127.0.0.1:{ports['i443']} ssl default_server;",
            )
            text = _replace(
                text,
                "listen 127.0.0.1:8090 default_server;",
                f"listen 127.0.0.1:{ports['ionion']} default_server;",
            )
            text = _replace(
                text, "server 127.0.0.1:8080;", f"server 127.0.0.1:{ports['intake']};"
            )
            text = _replace(
                text, "server 127.0.0.1:8088;", f"server 127.0.0.1:{ports['intake_onion']};"
            )
        elif site.name == "sealbox-caseworker.conf":
            text = _replace(text, "listen 443 ssl;", f"listen 127.0.0.1:{ports['c443']} ssl;")
            text = _replace(
                text, "server 127.0.0.1:8081;", f"server 127.0.0.1:{ports['caseworker']};"
            )
        elif site.name == "sealbox-caseworker-onion.conf":
            text = _replace(text, "listen 127.0.0.1:8091;", f"listen 127.0.0.1:{ports['conion']};")
        (prefix / "sites" / site.name).write_text(text)
    main = prefix / "nginx.conf"
    main.write_text(
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/logs/main-error.log;\n"
        "worker_processes 1;\n"
        f"worker_rlimit_nofile {4 * worker_connections};\n"
        f"events {{ worker_connections {worker_connections}; }}\n"
        "http {\n"
        # Any server without its own access_log would write here: the test checks it.
        f"    access_log {prefix}/logs/http-level-access.log;\n"
        f"    include {deploy_dir}/nginx/conf.d/sealbox.conf;\n"
        f"    include {prefix}/sites/*.conf;\n"
        "}\n"
    )
    return main


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost (tests and benchmarks only): its paths."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "test.crt", folder / "test.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def wait_for_tls(port: int, prefix: Path, timeout: float = 30) -> None:
    """Return once nginx completes a TLS handshake on 127.0.0.1:``port``: a listening
    socket alone does not prove the workers serve it. Fails with nginx's own logs."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the throw-away test certificate
    deadline = time.monotonic() + timeout
    error: OSError | None = None
    while time.monotonic() < deadline:
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=2) as raw,
                context.wrap_socket(raw),
            ):
                return
        except OSError as exc:
            error = exc
            time.sleep(0.2)
    logs = "\n".join(f"{p.name}: {p.read_text(errors='replace')[-2000:]}"
                     for p in sorted((prefix / "logs").glob("*.log")))
    raise AssertionError(f"no TLS handshake on {port} after {timeout} s ({error})\n{logs}")
