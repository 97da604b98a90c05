"""Submissions per second through the real intake server, against bare Argon2id.

    .venv/bin/python -m bench.bench_submissions [--quick] [--database both|sqlite|postgres]
                                                [--seconds 20] [--clients 16]

The intake runs on gunicorn with the shipped ``deploy/gunicorn.intake.conf.py`` as it is
(3 workers x 4 threads, gthread; only the bind address is set), the receipt KDF at its
defaults (Argon2id, opslimit 2, 64 MiB) and the rate limits raised out of the way
(SEALBOX_SUBMISSIONS_PER_*). Each of ``--clients`` concurrent clients (threads of this
process) does what a reporter's browser does, again and again: GET the form, POST the
review step, POST the send step with the CSRF token and hidden fields read from the pages
and a 2 KB report (no file). Counted: submissions completed (receipt page received) per
second over ``--seconds`` after a warm-up; and the reporter-visible latency of the send
step (clicking "send" until the receipt page has arrived), p50 and p95, and of the whole
three-page journey.

Baseline, timed in the same run on the same two cores: bare
``nacl.pwhash.argon2id.kdf`` with the same parameters, in the same parallelism as the
server (3 processes x 4 threads, each thread deriving back to back), derivations per
second. Target: submissions/s >= 0.8x derivations/s (everything but the deliberate key
stretching is cheap). For context, also 2 processes x 1 thread (the most a 2-core machine
does).

SQLite (embedded default; in-memory rate-limit storage) and PostgreSQL with Redis
(production) each get a fresh instance; PostgreSQL gets a database of its own, dropped
at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import nacl.pwhash.argon2id as argon2id

from bench._common import MIB, machine, print_machine, save
from bench._http import Browser, csrf_of, form_to
from bench._server import INTAKE_CONF, Server, instance

OPSLIMIT, MEMLIMIT = 2, 64 * MIB  # config/settings.py receipt defaults
WORKERS, THREADS = 3, 4  # deploy/gunicorn.intake.conf.py defaults
REPORT = (
    "Since March the head of procurement has approved invoices from one supplier at about "
    "twice the market price. I have copies of three invoices and the tender file. "
) * 12  # about 2 KB
WARM_UP_SECONDS = 4
TARGET = 0.8


def report_text() -> str:
    return REPORT[:2048]


# --- the server side ---------------------------------------------------------------------


class Reporter(threading.Thread):
    """One client: the three-page journey, in a loop, until told to stop."""

    def __init__(self, port: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.stop = stop
        self.done: list[tuple[float, float, float]] = []  # (start, send start, end)
        self.errors: list[str] = []

    def run(self) -> None:
        browser = Browser(self.port)
        while not self.stop.is_set():
            try:
                self.done.append(self.journey(browser))
            except Exception as exc:  # counted and reported, never silently dropped
                self.errors.append(f"{exc.__class__.__name__}: {exc}"[:200])
                browser.close()
                browser = Browser(self.port)
        browser.close()

    def journey(self, browser: Browser) -> tuple[float, float, float]:
        start = time.perf_counter()
        page = browser.get("/en/report/")
        fields = {"csrf_token": csrf_of(page.text), "description": report_text(), "website": ""}
        review = browser.post("/en/report/review", fields)
        if review.status != 200:
            raise RuntimeError(f"review answered {review.status}")
        form = form_to(review.text, "/report/send")
        send = time.perf_counter()
        reply = browser.post_multipart(form["action"], form["fields"], [])
        end = time.perf_counter()
        if reply.status != 200 or "data-receipt" not in reply.text:
            raise RuntimeError(f"send answered {reply.status}")
        return start, send, end


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_server(database: str, clients: int, seconds: float) -> dict[str, Any]:
    with instance(
        database=database,
        redis=database == "postgres",
        submissions_per_hour_per_client=10_000_000,
        submissions_per_minute_global=10_000_000,
    ) as inst, Server("intake:create_app()", INTAKE_CONF, inst.env, ready_path="/en/") as server:
        stop = threading.Event()
        reporters = [Reporter(server.port, stop) for _ in range(clients)]
        for reporter in reporters:
            reporter.start()
        time.sleep(WARM_UP_SECONDS)
        window_start = time.perf_counter()
        cpu_start, client_start = server.worker_cpu_seconds(), os.times()
        time.sleep(seconds)
        window_end = time.perf_counter()
        cpu = server.worker_cpu_seconds() - cpu_start
        client = os.times()
        stop.set()
        for reporter in reporters:
            reporter.join(timeout=60)
        peak = max(m["VmHWM"] for m in server.memory())
        workers = len(server.workers())
    done = [d for r in reporters for d in r.done if window_start <= d[2] <= window_end]
    errors = [e for r in reporters for e in r.errors]
    if not done:
        raise RuntimeError(f"no submission completed; errors: {errors[:3]}")
    sends = [end - send for _, send, end in done]
    journeys = [end - start for start, _, end in done]
    client_cpu = (client.user - client_start.user) + (client.system - client_start.system)
    return {
        "workers": workers,
        "clients": clients,
        "seconds": window_end - window_start,
        "submissions": len(done),
        "per_second": len(done) / (window_end - window_start),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
        "send_latency_ms": {
            "p50": 1000 * statistics.median(sends),
            "p95": 1000 * percentile(sends, 0.95),
        },
        "journey_latency_ms": {
            "p50": 1000 * statistics.median(journeys),
            "p95": 1000 * percentile(journeys, 0.95),
        },
        "server_cpu_ms_per_submission": 1000 * cpu / len(done),
        "client_cpu_ms_per_submission": 1000 * client_cpu / len(done),
        "worker_peak_rss_mib": round(peak / MIB, 1),
    }


# --- the baseline ------------------------------------------------------------------------


def _derive_until(deadline: float, window: tuple[float, float]) -> int:
    """Derive back to back until ``deadline``; count those that end inside ``window``."""
    count = 0
    secret, salt = os.urandom(32), os.urandom(16)
    while (now := time.time()) < deadline:
        argon2id.kdf(32, secret, salt, opslimit=OPSLIMIT, memlimit=MEMLIMIT)
        now = time.time()
        if window[0] <= now <= window[1]:
            count += 1
    return count


def _process(threads: int, deadline: float, window: tuple[float, float]) -> int:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(_derive_until, deadline, window) for _ in range(threads)]
        return sum(f.result() for f in futures)


def run_bare(processes: int, threads: int, seconds: float) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=spawn) as pool:
        list(pool.map(abs, range(processes)))  # start the processes before the clock
        start = time.time() + 0.5
        window = (start + WARM_UP_SECONDS, start + WARM_UP_SECONDS + seconds)
        futures = [pool.submit(_process, threads, window[1], window) for _ in range(processes)]
        count = sum(f.result() for f in futures)
    return {"processes": processes, "threads": threads, "derivations": count,
            "per_second": count / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="SQLite only, 8 s windows")
    parser.add_argument("--database", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    seconds = args.seconds
    if args.quick:
        databases, seconds = ["sqlite"], 8
    info = machine()
    print_machine(info)
    print(f"receipt KDF opslimit {OPSLIMIT}, {MEMLIMIT // MIB} MiB; gunicorn {WORKERS} workers x "
          f"{THREADS} threads; {args.clients} clients; {seconds:.0f} s windows")
    # Baseline first and last, around the server runs: the slower of the two moments of the
    # machine would flatter the app, so the faster one counts.
    same: list[dict[str, Any]] = [run_bare(WORKERS, THREADS, seconds)]
    servers = {db: run_server(db, args.clients, seconds) for db in databases}
    same.append(run_bare(WORKERS, THREADS, seconds))
    best_case = run_bare(2, 1, seconds)
    bare = max(same, key=lambda r: r["per_second"])
    print(f"  bare Argon2id, {WORKERS} processes x {THREADS} threads: "
          + ", ".join(f"{r['per_second']:.1f}/s" for r in same) + " (best counts)")
    print(f"  bare Argon2id, 2 processes x 1 thread: {best_case['per_second']:.1f}/s")
    ratios: dict[str, float] = {}
    for db, r in servers.items():
        ratios[db] = r["per_second"] / bare["per_second"]
        print(
            f"  {db:<8} {r['per_second']:5.1f} submissions/s = {ratios[db]:.2f}x bare "
            f"({r['per_second'] / best_case['per_second']:.2f}x 2x1); send p50 "
            f"{r['send_latency_ms']['p50']:.0f} ms p95 {r['send_latency_ms']['p95']:.0f} ms; "
            f"journey p50 {r['journey_latency_ms']['p50']:.0f} ms p95 "
            f"{r['journey_latency_ms']['p95']:.0f} ms; server CPU "
            f"{r['server_cpu_ms_per_submission']:.0f} ms/submission, client CPU "
            f"{r['client_cpu_ms_per_submission']:.0f} ms; errors {r['errors']}"
        )
        for sample in r["error_samples"]:
            print(f"      error: {sample}")
    targets = {f"{db} >= {TARGET}x bare Argon2id": ratio >= TARGET for db, ratio in ratios.items()}
    for name, met in targets.items():
        print(f"  target {name}: {'met' if met else 'MISSED'}")
    save(
        "submissions_quick" if args.quick else "submissions",
        {
            "kdf": {"opslimit": OPSLIMIT, "memlimit_mib": MEMLIMIT // MIB},
            "bare_same_parallelism": same,
            "bare_2x1": best_case,
            "servers": servers,
            "ratios": ratios,
            "targets_met": targets,
        },
    )


if __name__ == "__main__":
    main()
