"""gunicorn settings for the caseworker app (the back office).

    gunicorn --config deploy/gunicorn.caseworker.conf.py 'caseworker:create_app()'

Behind nginx on an internal address (or the optional client-authorised onion service),
never exposed directly. Every value can be overridden from the environment (the systemd
unit's EnvironmentFile). Decrypted case content lives in these processes' memory while a
caseworker reads it, so the same process hardening applies as on intake. The access log
names no client address (nginx's caseworker log has the staff addresses), no query string
(a search could name a person) and no user agent or referrer.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

_env = os.environ.get
APP = "sealbox-caseworker"

bind = _env("SEALBOX_CASEWORKER_BIND", "127.0.0.1:8081")
# Login unwraps the caseworker key with Argon2id (128 MiB by default): a few workers with
# a few threads each serve a team of dozens; add workers before threads for CPU.
workers = int(_env("SEALBOX_CASEWORKER_WORKERS", "2"))
# gunicorn's gthread worker, closing connections off its main loop (config/server.py).
worker_class = "config.server.ThreadWorker"
threads = int(_env("SEALBOX_CASEWORKER_THREADS", "16"))
# A worker takes a connection only when it has a thread for it, and a client that stops
# sending or reading for READ_TIMEOUT seconds is dropped (post_fork below; the intake's
# configuration explains both).
worker_connections = threads
READ_TIMEOUT = int(_env("SEALBOX_CASEWORKER_READ_TIMEOUT", "30"))
timeout = int(_env("SEALBOX_CASEWORKER_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
preload_app = False

limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190

# Access log: time, method, path without query, status, size, duration. Never %(h)s
# (address), %(r)s/%(q)s (query string), %(a)s (user agent) or %(f)s (referrer).
accesslog = _env("SEALBOX_CASEWORKER_ACCESSLOG", "-")
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = _env("SEALBOX_CASEWORKER_LOGLEVEL", "warning")
capture_output = False

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
    """Fail fast with one readable line per problem instead of a traceback per worker."""
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
