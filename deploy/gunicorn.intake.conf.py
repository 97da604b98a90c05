"""gunicorn settings for the intake app (the reporters' side).

    gunicorn --config deploy/gunicorn.intake.conf.py 'intake:create_app()'

Behind nginx (TLS and/or the Tor onion service), never exposed directly. Every value can be
overridden from the environment (the systemd unit's EnvironmentFile) without editing this
file. Reporters' anonymity rules for this file (docs/ARCHITECTURE.md, "No identifying metadata"):

* no access log at all: even a log without addresses records when someone reported;
* the error log runs at ``warning`` and any client address gunicorn would write there
  (``Invalid request from ip=...``) is replaced by ``<redacted>``;
* ``forwarded_allow_ips`` trusts only the local nginx, and only for the scheme
  (``X-Forwarded-Proto``). The one thing nginx says about a clear-web client is its address
  in ``X-Sealbox-Client``, which the app turns into a keyed digest for the rate limits
  before any view runs (config/clients.py) and never stores or logs.

Two listeners: ``SEALBOX_INTAKE_BIND`` for nginx's clear-web server and
``SEALBOX_ONION_LISTEN`` for its onion server (Tor). The app tells onion requests by the
listener they arrived on (the same ``onion_listen`` setting), never by a header.
"""

from __future__ import annotations

import logging
import os
import sys

_env = os.environ.get
APP = "sealbox-intake"

# The onion listener's default is config.Settings.onion_listen (a test keeps them equal).
ONION_LISTEN_DEFAULT = "127.0.0.1:8088"
bind = [_env("SEALBOX_INTAKE_BIND", "127.0.0.1:8080")]
if _env("SEALBOX_ONION_LISTEN", ONION_LISTEN_DEFAULT):
    bind.append(_env("SEALBOX_ONION_LISTEN", ONION_LISTEN_DEFAULT))
# Threads keep the worker heart-beating during a long upload from a slow Tor circuit,
# so `timeout` bounds a stuck worker, not an upload. Argon2id (64 MiB per receipt
# derivation) is capped per process by `argon2_memory_budget_mib`: size
# workers x budget to the RAM you have.
workers = int(_env("SEALBOX_INTAKE_WORKERS", "3"))
worker_class = "gthread"
threads = int(_env("SEALBOX_INTAKE_THREADS", "4"))
timeout = int(_env("SEALBOX_INTAKE_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then: bounds how long any freed plaintext page can linger in
# one process's heap, and any slow leak.
max_requests = 2000
max_requests_jitter = 200
preload_app = False  # each worker opens its own database pool after the fork

# Request size limits. Bodies are limited by the app (max_request_bytes) and by nginx's
# client_max_body_size; these bound the request line and headers.
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190

# Logging: no access log on intake, ever.
accesslog = None
errorlog = "-"
loglevel = _env("SEALBOX_INTAKE_LOGLEVEL", "warning")
capture_output = False

# nginx on this host is the only peer whose X-Forwarded-Proto is believed. With nginx on
# other hosts list their addresses (never "*": anyone could then claim https).
# The same proxies the app believes for X-Sealbox-Client (the trusted_proxies setting).
forwarded_allow_ips = _env(
    "SEALBOX_FORWARDED_ALLOW_IPS", _env("SEALBOX_TRUSTED_PROXIES", "127.0.0.1,::1")
)
# Only X-Forwarded-Proto says "https" (nginx sets it and clears the other two names).
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
proxy_protocol = False

# Heartbeat files: $TMPDIR, which the systemd units point at a private tmpfs.
worker_tmp_dir = _env("SEALBOX_WORKER_TMP_DIR")
control_socket_disable = True
proc_name = APP
umask = 0o077


def _harden_process() -> None:
    """No core dumps and no ptrace/`/proc/<pid>/mem` reading by other processes of the
    same user: a crash or a compromised neighbour must not yield decrypted reports.
    Inherited by every worker (fork keeps both)."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_dumpable = 4
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)


def _check_services() -> None:
    """Fail fast with one readable line per problem (database down, wrong password,
    unmigrated schema, Redis unreachable) instead of a traceback from every worker."""
    from cases.health import check_services
    from config import ConfigError, load_settings

    try:
        check_services(load_settings())
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{APP}: {problem}", file=sys.stderr, flush=True)
        sys.exit(3)


def on_starting(server: object) -> None:
    # No client address, no client bytes and no traceback (which can quote what a
    # reporter wrote) in gunicorn's error log: config/logs.py.
    from config.logs import install

    install(logging.getLogger("gunicorn.error"))
    _harden_process()
    _check_services()
