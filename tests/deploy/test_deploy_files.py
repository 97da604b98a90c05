"""Static checks of the shipped deployment files: the promises docs/ARCHITECTURE.md and
docs/OPERATIONS.md make about them (no client address on intake, sizes that match the
settings, headers that match the apps'), checked without running any server."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from config import Settings
from config.http import security_headers

GUNICORN_ADDRESS_ATOMS = ("%(h)s", "%({x-forwarded-for}i)s", "%({x-real-ip}i)s")


def load_gunicorn_config(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"gunicorn_conf_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["intake", "caseworker"])
def gunicorn_conf(request: pytest.FixtureRequest, deploy_dir: Path) -> tuple[str, ModuleType, str]:
    path = deploy_dir / f"gunicorn.{request.param}.conf.py"
    return request.param, load_gunicorn_config(path), path.read_text()


def test_gunicorn_configs_import_and_use_known_settings(gunicorn_conf) -> None:  # type: ignore[no-untyped-def]
    from gunicorn.config import Config

    app, module, _ = gunicorn_conf
    known = set(Config().settings)
    settings = {k for k in vars(module) if not k.startswith("_") and k.islower()}
    # Every lower-case public name is a gunicorn setting (a typo would be silently ignored).
    assert settings - {"annotations", "logging", "os", "re", "sys"} <= known, settings - known
    cfg = Config()
    for name in settings & known:
        cfg.set(name, getattr(module, name))  # gunicorn's own validation of each value
    assert cfg.workers >= 2 and cfg.threads >= 2
    assert cfg.worker_class_str == "config.server.ThreadWorker"  # gthread, see config/server.py
    assert cfg.limit_request_line <= 8190 and cfg.limit_request_field_size <= 8190
    assert cfg.limit_request_fields <= 100
    assert cfg.timeout <= 120
    assert "*" not in str(module.forwarded_allow_ips)
    assert cfg.secure_scheme_headers == {"X-FORWARDED-PROTO": "https"}
    binds = module.bind if isinstance(module.bind, list) else [module.bind]
    assert all(bind.startswith("127.0.0.1:") for bind in binds)
    if app == "intake":  # clear web, then the onion listener the app knows by its address
        assert binds == ["127.0.0.1:8080", Settings().onion_listen]
    assert callable(module.on_starting)


def test_intake_gunicorn_logs_no_client_address(deploy_dir: Path) -> None:
    text = (deploy_dir / "gunicorn.intake.conf.py").read_text()
    module = load_gunicorn_config(deploy_dir / "gunicorn.intake.conf.py")
    assert module.accesslog is None
    for atom in GUNICORN_ADDRESS_ATOMS:
        assert atom not in text
    assert not hasattr(module, "access_log_format")


def test_caseworker_access_log_has_no_address_query_agent_or_referrer(deploy_dir: Path) -> None:
    module = load_gunicorn_config(deploy_dir / "gunicorn.caseworker.conf.py")
    fmt = module.access_log_format
    for atom in (*GUNICORN_ADDRESS_ATOMS, "%(r)s", "%(q)s", "%(a)s", "%(f)s"):
        assert atom not in fmt
    assert "%(U)s" in fmt  # the path, without the query string


def test_gunicorn_error_log_filter_redacts_addresses() -> None:
    import logging

    from config.logs import RedactAddresses

    record = logging.LogRecord(
        "gunicorn.error",
        logging.WARNING,
        __file__,
        1,
        "Invalid request from ip=%s: %s",
        ("203.0.113.7", "bad line"),
        None,
    )
    assert RedactAddresses().filter(record)
    assert record.getMessage() == "Invalid request from ip=<redacted>: bad line"


def test_gunicorn_error_log_keeps_no_request_path_or_traceback(gunicorn_conf) -> None:  # type: ignore[no-untyped-def]
    """gunicorn logs "Error handling request <path>" with a traceback; the filters it
    installs (config/logs.py) keep the line and the exception class only."""
    import logging
    import sys

    _, module, _ = gunicorn_conf
    logger = logging.getLogger("gunicorn.error")
    saved = list(logger.filters)
    root = logging.getLogger()
    root_saved = [(h, list(h.filters)) for h in root.handlers]
    try:
        module._check_services = lambda: None  # no database here: only the log set-up
        module._harden_process = lambda: None
        module.on_starting(object())
        try:
            raise ValueError("REPORT-TEXT-MARKER")
        except ValueError:
            record = logger.makeRecord(
                logger.name,
                logging.ERROR,
                __file__,
                1,
                "Error handling request %s",
                ("/en/followup/files/0123456789abcdef",),
                sys.exc_info(),
            )
        assert all(f.filter(record) for f in logger.filters)
        line = logging.Formatter().format(record)
        # The class and where our code raised it (file, line, function): no path, no text.
        assert line.startswith("Error handling request (ValueError at tests/deploy/")
        assert "REPORT-TEXT-MARKER" not in line and "followup" not in line and "\n" not in line
        # A library's traceback (SQLAlchemy's pool) through the root handlers: one line.
        try:
            raise RuntimeError("REPORT-TEXT-MARKER")
        except RuntimeError:
            pool = logging.getLogger("sqlalchemy.pool.impl.QueuePool").makeRecord(
                "sqlalchemy.pool", logging.ERROR, __file__, 1,
                "Exception during reset or similar", (), sys.exc_info(),
            )
        assert root.handlers and all(h.filter(pool) for h in root.handlers)
        pooled = logging.Formatter().format(pool)
        assert pooled.startswith("Exception during reset or similar (RuntimeError at tests/")
        assert "REPORT-TEXT-MARKER" not in pooled and "\n" not in pooled
    finally:
        logger.filters[:] = saved
        for handler in root.handlers[:]:
            if handler not in dict(root_saved):
                root.removeHandler(handler)
        for handler, filters in root_saved:
            handler.filters[:] = filters


# --- nginx --------------------------------------------------------------------------------


def _servers(text: str) -> list[str]:
    """The bodies of the top-level ``server { ... }`` blocks (brace matching)."""
    bodies = []
    for match in re.finditer(r"^server\s*\{", text, re.M):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        bodies.append(text[match.end() : i - 1])
    return bodies


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def test_nginx_header_fallbacks_equal_the_apps_headers(deploy_dir: Path) -> None:
    text = (deploy_dir / "nginx/conf.d/sealbox.conf").read_text()
    found = dict(
        re.findall(r'map \$upstream_http_([a-z_]+) \$sealbox_\w+ \{\s*""\s+"([^"]*)";', text)
    )
    expected = {k.lower().replace("-", "_"): v for k, v in security_headers(https=True).items()}
    assert found == expected
    snippet = (deploy_dir / "nginx/snippets/sealbox-headers.conf").read_text()
    for header in security_headers(https=False):
        assert re.search(rf"^add_header {header} \$sealbox_\w+ always;$", snippet, re.M), header


def test_nginx_body_limit_matches_settings(deploy_dir: Path) -> None:
    limit_mib = Settings().max_request_bytes // (1024 * 1024)
    for site in (deploy_dir / "nginx/sites").glob("*.conf"):
        text = _strip_comments(site.read_text())
        for body in _servers(text):
            if "proxy_pass" in body:
                assert f"client_max_body_size {limit_mib}m;" in body, site.name


def test_nginx_intake_never_names_a_client(deploy_dir: Path) -> None:
    raw = (deploy_dir / "nginx/sites/sealbox-intake.conf").read_text()
    text = _strip_comments(raw)
    # The one use of the address: the HTTPS server hands it to the app's rate limits.
    assert text.count("$remote_addr") == 1
    assert "set $sealbox_client $remote_addr;" in text
    text = text.replace("set $sealbox_client $remote_addr;", "")
    # The one connection limit counts per listener (conf.d keys its zone by the server's
    # own address and port), never per client.
    assert re.findall(r"limit_conn (\S+) \d+;", text) == ["sealbox_listener"] * 2
    shared = _strip_comments((deploy_dir / "nginx/conf.d/sealbox.conf").read_text())
    assert re.findall(r"limit_conn_zone (\S+) zone=(\w+)", shared) == [
        ('"$server_addr:$server_port"', "sealbox_listener")
    ]
    text = re.sub(r"limit_conn sealbox_listener \d+;", "", text)
    for forbidden in (
        "$remote_addr",
        "$binary_remote_addr",
        "$proxy_add_x_forwarded_for",
        "$http_x_forwarded_for",
        "$realip_remote_addr",
        "limit_req",
        "limit_conn",
        "real_ip_header",
        "log_format",
    ):
        assert forbidden not in text, forbidden
    servers = _servers(text)
    assert len(servers) == 3
    for body in servers:
        assert re.search(r"^\s*access_log off;", body, re.M)
        assert re.search(r"^\s*server_tokens off;", body, re.M)
        match = re.search(r"^\s*error_log \S+ (\w+);", body, re.M)
        assert match, "every intake server sets its own error log"
        if "127.0.0.1:" not in body.split("server_name")[0]:  # clearnet: lines carry addresses
            assert match.group(1) == "emerg"


def test_each_nginx_server_says_who_the_client_is_and_onion_goes_to_its_listener(
    deploy_dir: Path,
) -> None:
    """Every proxying server sets $sealbox_client (the snippet sends it as X-Sealbox-Client):
    the address on the clear web, nothing on an onion listener, where every client is the
    local Tor. The intake's onion server, and only it, proxies to gunicorn's onion bind."""
    for site in (deploy_dir / "nginx/sites").glob("*.conf"):
        for body in _servers(_strip_comments(site.read_text())):
            if "proxy_pass" not in body:
                continue
            onion = re.search(r"^\s*listen 127\.0\.0\.1:\d+", body, re.M) is not None
            expected = 'set $sealbox_client "";' if onion else "set $sealbox_client $remote_addr;"
            assert expected in body, site.name
            if site.name == "sealbox-intake.conf":
                upstream = "sealbox_intake_onion" if onion else "sealbox_intake"
                assert f"proxy_pass http://{upstream};" in body
    intake = (deploy_dir / "nginx/sites/sealbox-intake.conf").read_text()
    onion_upstream = re.search(r"upstream sealbox_intake_onion \{\s*server ([^;]+);", intake)
    assert onion_upstream and onion_upstream.group(1) == Settings().onion_listen


def test_nginx_proxy_streams_bodies_and_forwards_no_client_headers(deploy_dir: Path) -> None:
    proxy = _strip_comments((deploy_dir / "nginx/snippets/sealbox-proxy.conf").read_text())
    for directive in (
        "proxy_request_buffering off;",
        "proxy_buffering off;",
        "proxy_max_temp_file_size 0;",
        "proxy_http_version 1.1;",
    ):
        assert directive in proxy
    for header in (
        "X-Forwarded-For",
        "X-Real-IP",
        "Forwarded",
        "X-Forwarded-Ssl",
        "X-Forwarded-Protocol",
        "X-Forwarded-Host",
    ):
        assert f'proxy_set_header {header} "";' in proxy
    assert "$remote_addr" not in proxy
    assert "proxy_set_header X-Sealbox-Client $sealbox_client;" in proxy
    for site in (deploy_dir / "nginx/sites").glob("*.conf"):
        for body in _servers(_strip_comments(site.read_text())):
            for location in re.findall(r"location [^{]*\{([^}]*)\}", body):
                assert "include /etc/nginx/snippets/sealbox-proxy.conf;" in location
                assert "proxy_set_header" not in location  # it would discard the snippet's
                assert "add_header" not in location  # it would discard the server's headers


def test_nginx_caseworker_is_allow_listed_with_hsts(deploy_dir: Path) -> None:
    for name in ("sealbox-caseworker.conf", "sealbox-caseworker-onion.conf"):
        text = _strip_comments((deploy_dir / "nginx/sites" / name).read_text())
        for body in _servers(text):
            allows = re.findall(r"^\s*(allow|deny) ([^;]+);", body, re.M)
            assert allows and allows[-1] == ("deny", "all"), name
            assert all(what != "all" for kind, what in allows if kind == "allow")
            assert re.search(r"^\s*server_tokens off;", body, re.M)
            if re.search(r"listen [^;]*\bssl\b", body):
                assert "add_header Strict-Transport-Security $sealbox_hsts always;" in body
            # A `return` runs before allow/deny: no redirect-only server on the caseworker.
            assert "return " not in body, name
    intake = _strip_comments((deploy_dir / "nginx/sites/sealbox-intake.conf").read_text())
    tls = [b for b in _servers(intake) if re.search(r"listen [^;]*\bssl\b", b)]
    assert tls and all("ssl_protocols" not in b for b in tls)  # from the shared snippet
    tls_snippet = (deploy_dir / "nginx/snippets/sealbox-tls.conf").read_text()
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in tls_snippet
    assert "ssl_session_tickets off;" in tls_snippet


# --- Tor, compose, systemd (static parts) ---------------------------------------------------


def test_torrc_publishes_intake_on_loopback_with_safe_logging_and_pow(deploy_dir: Path) -> None:
    lines = [
        line.strip()
        for line in (deploy_dir / "tor/torrc").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "SafeLogging 1" in lines
    assert "HiddenServiceVersion 3" in lines
    assert "HiddenServicePoWDefensesEnabled 1" in lines
    ports = [line.split()[2] for line in lines if line.startswith("HiddenServicePort")]
    assert ports and all(p.startswith("127.0.0.1:") for p in ports)
    assert not any(line.startswith("HiddenServiceExportCircuitID") for line in lines)


def test_compose_file_parses(deploy_dir: Path) -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    data = yaml.safe_load((deploy_dir / "compose.yaml").read_text())
    services = data["services"]
    assert {"postgres", "redis", "intake", "caseworker"} <= set(services)
    for app in ("intake", "caseworker"):
        env = services[app]["environment"]
        assert env["SEALBOX_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["SEALBOX_RATELIMIT_STORAGE_URI"].startswith("redis://")
        for port in services[app].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), "apps publish on loopback only"
    assert "ports" not in services["postgres"] and "ports" not in services["redis"]


def test_systemd_units_keep_plaintext_off_disk(deploy_dir: Path) -> None:
    for name in ("sealbox-intake.service", "sealbox-caseworker.service", "sealbox-purge.service"):
        text = (deploy_dir / "systemd" / name).read_text()
        for directive in (
            "LimitCORE=0",
            "PrivateTmp=yes",
            "ProtectSystem=strict",
            "NoNewPrivileges=yes",
            "UMask=0077",
            "Environment=TMPDIR=/run/",
        ):
            assert directive in text, (name, directive)
