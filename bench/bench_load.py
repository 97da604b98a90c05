"""Concurrent submissions with attachments to the intake under gunicorn on PostgreSQL.

    .venv/bin/python -m bench.bench_load [--workers 8] [--clients 32] [--submissions 1000]
        [--storage database|filesystem] [--file-kib 60,150] [--default-kdf]

The larger run of tests/security/test_sec_load.py: the intake with the shipped
``deploy/gunicorn.intake.conf.py`` and N workers, a fresh PostgreSQL database
(``SEALBOX_TEST_POSTGRES_URL`` or postgres@127.0.0.1), C concurrent clients each doing
what a browser does (form, review, multipart send). Then every case is verified
(tests/security/secload.verify: stored once, each receipt opens its own case and no
other, every message and file decrypts to what was sent, no orphaned ciphertext).
Reported: submissions/s and per-submission p50/p95 latency. No baseline ratio: this is
a correctness-under-load run with throughput as context (bench/bench_upload.py has the
ratio figures). Receipt KDF: the fast test cost unless --default-kdf.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "security"))

from secapp import gunicorn_server
from secload import run_load, summary, verify

from bench._common import machine, print_machine, save
from cases.store import Store
from config import init_instance, load_settings

ADMIN_URL = os.environ.get("SEALBOX_TEST_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--submissions", type=int, default=1000)
    p.add_argument("--storage", choices=("database", "filesystem"), default="database")
    p.add_argument("--file-kib", default="60,150")
    p.add_argument("--default-kdf", action="store_true")
    args = p.parse_args()
    info = machine()
    print_machine(info)
    sizes = tuple(int(k) * 1024 for k in args.file_kib.split(",") if k)
    admin = create_engine(make_url(ADMIN_URL).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    name = f"sealbox_bench_load_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            instance, tmpdir = Path(tmp) / "instance", Path(tmp) / "tmp"
            tmpdir.mkdir()
            init_instance(instance)
            kdf = {} if args.default_kdf else {
                "receipt_kdf_opslimit": 1, "receipt_kdf_memlimit_mib": 8}
            settings = load_settings(environ={}, instance_path=instance, database_url=url,
                                     attachment_storage=args.storage, **kdf)
            store = Store(settings)
            store.migrate()
            env = {f"SEALBOX_{k.upper()}": "1000000" for k in (
                "submissions_per_hour_per_client", "submissions_per_minute_global",
                "lookups_per_hour_per_client", "lookups_per_minute_global")}
            if args.default_kdf:
                env.update(SEALBOX_RECEIPT_KDF_OPSLIMIT="2", SEALBOX_RECEIPT_KDF_MEMLIMIT_MIB="64")
            server = gunicorn_server(settings, tmpdir, Path(tmp) / "logs", args.workers, **env)
            server.start()
            try:
                result = run_load(server.base, args.submissions, args.clients, sizes)
            finally:
                server.stop()
            verify(Store(replace(settings), engine=store.engine), result)
            figures = summary(result)
            store.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(figures, "- every case verified")
    save("load", {"workers": args.workers, "clients": args.clients, "storage": args.storage,
                  "file_bytes": sizes, "default_kdf": args.default_kdf, **figures,
                  "verified": True})


if __name__ == "__main__":
    main()
