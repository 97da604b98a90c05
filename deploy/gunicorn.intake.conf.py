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
from typing import Any

_env = os.environ.get
APP = "sealbox-intake"

# The onion listener's default is config.Settings.onion_listen (a test keeps them equal).
ONION_LISTEN_DEFAULT = "127.0.0.1:8088"
bind = [_env("SEALBOX_INTAKE_BIND", "127.0.0.1:8080")]
if _env("SEALBOX_ONION_LISTEN", ONION_LISTEN_DEFAULT):
    bind.append(_env("SEALBOX_ONION_LISTEN", ONION_LISTEN_DEFAULT))
# Slow and stalled clients (docs/OPERATIONS.md, "When things fail"). A connection holds a
# worker thread from its first byte to its last, so the threads, not the CPU, are what a
# client that stops sending can use up: many cheap threads (each about 100 KiB while it
# waits), and a worker takes a new connection only when it has a thread for it
# (worker_connections = threads: no connection queues behind stalled ones; nginx's
# upstream keep-alive is given up for that). Every connection gets READ_TIMEOUT seconds
# of read and write timeout (post_fork below), and a body slower on average than the
# min_body_bytes_per_second setting is answered 408 once its grace period has passed.
# Workers x threads is the number of requests served at once, uploads included.
# The CPU work (Argon2id, 64 MiB per receipt derivation) is capped per process by
# argon2_memory_budget_mib, whatever the threads: size workers x budget to the RAM.
# Threads also keep the worker heart-beating during a long upload, so `timeout` bounds a
# stuck worker, not an upload.
workers = int(_env("SEALBOX_INTAKE_WORKERS", "3"))
# gunicorn's gthread worker, closing connections off its main loop (config/server.py).
worker_class = "config.server.ThreadWorker"
threads = int(_env("SEALBOX_INTAKE_THREADS", "256"))
worker_connections = threads
READ_TIMEOUT = int(_env("SEALBOX_INTAKE_READ_TIMEOUT", "30"))
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
    from config.server import harden_process

    harden_process()


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
    from config.logs import install, install_for_libraries

    install(logging.getLogger("gunicorn.error"))
    install_for_libraries()
    _harden_process()
    _check_services()


def post_fork(server: object, worker: Any) -> None:
    # A stalled or trickling client is dropped after READ_TIMEOUT seconds without a byte
    # (headers, body, or reading the response): config/server.py.
    from config.server import set_io_timeouts

    set_io_timeouts(worker.sockets, READ_TIMEOUT)
