"""Submissions per second through the real intake server, against bare Argon2id.

    .venv/bin/python -m bench.bench_submissions [--quick] [--database both|sqlite|postgres]
                                                [--rounds 3] [--seconds 10] [--clients 16]

The intake runs on gunicorn with the shipped ``deploy/gunicorn.intake.conf.py`` as it is
(3 workers; 256 threads each since the slow-client work, so the clients, not the threads,
set how many requests run at once; only the bind address is set), the receipt KDF at its
defaults (Argon2id, opslimit 2, 64 MiB) and the rate limits raised out of the way
(SEALBOX_SUBMISSIONS_PER_*). Each of ``--clients`` concurrent clients (threads of this
process) does what a reporter's browser does, again and again: GET the form, POST the
review step, POST the send step with the CSRF token and hidden fields read from the pages
and a 2 KB report (no file). Counted: submissions completed (receipt page received) per
second in the steady part of each window; and the reporter-visible latency of the send
step (clicking "send" until the receipt page has arrived), p50 and p95, and of the whole
three-page journey.

Baseline, timed in windows that alternate with the server's (S B S B ...: the load that
other work puts on the machine falls on both alike): bare ``nacl.pwhash.argon2id.kdf``
with the same parameters, in 3 processes x 4 threads (the server's parallelism when this
baseline was chosen; 12 derivations at a time saturate two cores either way), each thread
deriving back to back, derivations per second. Target: submissions/s >= 0.9x
derivations/s (everything but the deliberate key stretching is cheap). For context, also
2 processes x 1 thread (the most a 2-core machine does).

**Sealed in the browser** (``/en/report/send-sealed``, the path of an instance with
``SEALBOX_SEAL_IN_BROWSER``), in the same rotation: clients that GET the form and the
sealing keys, then POST a report sealed as the page's script seals it, with one caseworker
to seal to. The reporter's Argon2id runs in the browser, so these clients draw the look-up
hash and the reporter's key at random instead (the server cannot tell and does the same
work): what is measured is the server's own cost of a report it never reads.

SQLite (embedded default; in-memory rate-limit storage) and PostgreSQL with Redis
(production) each get a fresh instance; PostgreSQL gets a database of its own, dropped
at the end.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import multiprocessing
import os
import secrets
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import nacl.pwhash.argon2id as argon2id

from bench._caseworker import create_reader
from bench._common import MIB, machine, print_machine, save
from bench._http import Browser, csrf_of, form_to
from bench._server import BARE_APP, INTAKE_CONF, Server, instance
from cases.store import Store

OPSLIMIT, MEMLIMIT = 2, 64 * MIB  # config/settings.py receipt defaults
WORKERS, THREADS = 3, 4  # the baseline's processes x threads (see the docstring)
REPORT = (
    "Since March the head of procurement has approved invoices from one supplier at about "
    "twice the market price. I have copies of three invoices and the tender file. "
) * 12  # about 2 KB
WARM_UP_SECONDS = 4
RAMP_SECONDS = 1.5  # clients (or bare threads) start; not counted
TARGET = 0.9  # issue 19: submissions >= 0.9x bare Argon2id


def report_text() -> str:
    return REPORT[:2048]


# --- the server side ---------------------------------------------------------------------


class Reporter(threading.Thread):
    """One client: the three-page journey, in a loop, while ``go`` is set."""

    def __init__(self, port: int, go: threading.Event, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.go = go
        self.stop = stop
        self.busy = False
        self.done: list[tuple[float, float, float]] = []  # (start, send start, end)
        self.errors: list[str] = []

    def run(self) -> None:
        browser = Browser(self.port)
        while not self.stop.is_set():
            if not self.go.wait(timeout=0.1):
                continue
            self.busy = True
            try:
                self.done.append(self.journey(browser))
            except Exception as exc:  # counted and reported, never silently dropped
                self.errors.append(f"{exc.__class__.__name__}: {exc}"[:200])
                browser.close()
                browser = Browser(self.port)
            finally:
                self.busy = False
        browser.close()

    def journey(self, browser: Browser) -> tuple[float, float, float]:
        start = time.perf_counter()
        send, _receipt_page = self.send_report(browser)
        return start, send, time.perf_counter()

    def send_report(self, browser: Browser) -> tuple[float, Any]:
        """The three pages; when the send step started, and the receipt page."""
        page = browser.get("/en/report/")
        fields = {"csrf_token": csrf_of(page.text), "description": report_text(), "website": ""}
        review = browser.post("/en/report/review", fields)
        if review.status != 200:
            raise RuntimeError(f"review answered {review.status}")
        form = form_to(review.text, "/report/send")
        send = time.perf_counter()
        reply = browser.post_multipart(form["action"], form["fields"], [])
        if reply.status != 200 or "data-receipt" not in reply.text:
            raise RuntimeError(f"send answered {reply.status}")
        return send, reply


class SealedReporter(Reporter):
    """A browser that seals in the page: the form, the keys, then the sealed report."""

    def send_report(self, browser: Browser) -> tuple[float, Any]:
        page = browser.get("/en/report/")
        keys = browser.get("/en/report/sealing-keys")
        if keys.status != 200:
            raise RuntimeError(f"sealing-keys answered {keys.status}")
        body = json.dumps(sealed_report(json.loads(keys.text), report_text())).encode()
        send = time.perf_counter()
        reply = browser.post_body("/en/report/send-sealed", body, "application/json",
                                  {"X-CSRFToken": csrf_of(page.text)})
        if reply.status != 201:
            raise RuntimeError(f"send-sealed answered {reply.status}")
        return send, reply


def sealed_report(keys: dict[str, Any], text: str) -> dict[str, Any]:
    """What sealed-report.mjs sends, with a random look-up hash and reporter key (their
    Argon2id is the browser's, and nothing on the server depends on how they were made)."""
    from crypto import contexts, encrypt_record, new_key, new_keypair, seal_for

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    case_id, report_id = secrets.token_hex(8), secrets.token_hex(8)
    thread, internal = new_key(), new_key()
    recovery = base64.b64decode(keys["recovery_public_key"])
    _private, reporter = new_keypair()

    def wrapped(secret: bytes, purpose: str) -> dict[str, Any]:
        context = contexts.wrapped_key(case_id, purpose)
        return {"caseworkers": {str(h["id"]): b64(seal_for(base64.b64decode(h["public_key"]),
                                                             secret, context))
                                for h in keys["caseworkers"]},
                "recovery": b64(seal_for(recovery, secret, context))}

    body = json.dumps({"text": text, "answers": [], "language": "en"}).encode()
    return {
        "case_id": case_id, "lookup_hash": b64(os.urandom(32)),
        "reporter_public_key": b64(reporter),
        "category": "", "exclude": [],
        "thread_keys": {**wrapped(thread, "thread"), "reporter": b64(seal_for(
            reporter, thread, contexts.wrapped_key(case_id, "thread")))},
        "internal_keys": wrapped(internal, "internal"),
        "report": {"id": report_id, "record": b64(encrypt_record(
            thread, body, contexts.message(case_id, "report", report_id)))},
        "acknowledgement": None, "identity": None,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Load:
    """The server with its clients, switched on for one window at a time."""

    def __init__(self, server: Server, clients: int, client: type[Reporter] = Reporter) -> None:
        self.server = server
        self.go, self.stop = threading.Event(), threading.Event()
        self.reporters = [client(server.port, self.go, self.stop) for _ in range(clients)]
        for reporter in self.reporters:
            reporter.start()
        self.windows: list[tuple[float, float]] = []
        self.cpu = self.client_cpu = 0.0

    def window(self, seconds: float, counted: bool = True) -> None:
        """Clients on for ``seconds``; the steady part (after RAMP) counts; then drain."""
        self.go.set()
        time.sleep(RAMP_SECONDS)
        start, cpu = time.perf_counter(), self.server.worker_cpu_seconds()
        client_cpu = time.process_time()  # this process: the clients (the others idle)
        time.sleep(seconds)
        end = time.perf_counter()
        self.go.clear()
        if counted:
            self.windows.append((start, end))
            self.cpu += self.server.worker_cpu_seconds() - cpu
            self.client_cpu += time.process_time() - client_cpu
        while any(r.busy for r in self.reporters):  # let the journeys under way finish
            time.sleep(0.05)

    def close(self) -> None:
        self.stop.set()
        for reporter in self.reporters:
            reporter.join(timeout=60)

    def result(self) -> dict[str, Any]:
        done = [d for r in self.reporters for d in r.done
                if any(start <= d[2] <= end for start, end in self.windows)]
        errors = [e for r in self.reporters for e in r.errors]
        if not done:
            raise RuntimeError(f"no submission completed; errors: {errors[:3]}")
        seconds = sum(end - start for start, end in self.windows)
        sends = [end - send for _, send, end in done]
        journeys = [end - start for start, _, end in done]
        return {
            "workers": len(self.server.workers()),
            "clients": len(self.reporters),
            "seconds": seconds,
            "submissions": len(done),
            "per_second": len(done) / seconds,
            "errors": len(errors),
            "error_samples": sorted(set(errors))[:5],
            "send_latency_ms": {"p50": 1000 * statistics.median(sends),
                                "p95": 1000 * percentile(sends, 0.95)},
            "journey_latency_ms": {"p50": 1000 * statistics.median(journeys),
                                   "p95": 1000 * percentile(journeys, 0.95)},
            "server_cpu_ms_per_submission": 1000 * self.cpu / len(done),
            "client_cpu_ms_per_submission": 1000 * self.client_cpu / len(done),
            "worker_peak_rss_mib": round(max(m["VmHWM"] for m in self.server.memory()) / MIB, 1),
        }


# --- the baseline ------------------------------------------------------------------------


def _process(threads: int, start: float, deadline: float) -> int:
    """``threads`` threads deriving back to back from ``start``; derivations that ended by
    ``deadline`` count (each thread stops at its first derivation ending after it)."""
    from concurrent.futures import ThreadPoolExecutor

    time.sleep(max(0.0, start - time.time()))

    def run() -> int:
        count = 0
        secret, salt = os.urandom(32), os.urandom(16)
        while True:
            argon2id.kdf(32, secret, salt, opslimit=OPSLIMIT, memlimit=MEMLIMIT)
            if time.time() > deadline:
                return count
            count += 1

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(lambda _: run(), range(threads)))


class Bare:
    """Bare derivations in ``processes`` x ``threads``, one window at a time."""

    def __init__(self, processes: int, threads: int) -> None:
        self.processes, self.threads = processes, threads
        self.pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
        list(self.pool.map(abs, range(processes)))  # start the processes before any clock
        self.count, self.seconds = 0, 0.0

    def window(self, seconds: float, counted: bool = True) -> None:
        start = time.time() + 0.2
        deadline = start + RAMP_SECONDS + seconds
        futures = [self.pool.submit(_process, self.threads, start, deadline)
                   for _ in range(self.processes)]
        count = sum(f.result() for f in futures)
        if counted:
            self.count += count
            self.seconds += RAMP_SECONDS + seconds

    def result(self) -> dict[str, Any]:
        return {"processes": self.processes, "threads": self.threads,
                "derivations": self.count, "seconds": self.seconds,
                "per_second": self.count / self.seconds}

    def close(self) -> None:
        self.pool.shutdown()


def bare_pages(env: dict[str, str]) -> Server:
    """The journeys' floor (``bench._bare_pages``) on the intake's gunicorn configuration:
    the same pages to the client, nothing behind them but HTTP and the one derivation."""
    return Server(BARE_APP, INTAKE_CONF, {
        **env, "SEALBOX_BENCH_KDF_OPSLIMIT": str(OPSLIMIT),
        "SEALBOX_BENCH_KDF_MEMLIMIT": str(MEMLIMIT),
        "SEALBOX_BENCH_SECRET_KEY": secrets.token_hex(32)})


def measure(
    database: str, clients: int, rounds: int, seconds: float, other_tree: Path | None = None
) -> dict[str, Any]:
    """Server windows and bare windows in turn (S B S B ...): both see the same machine.
    With ``other_tree``, the same server from that checkout takes its turn too."""
    with contextlib.ExitStack() as stack:
        inst = stack.enter_context(instance(
            database=database,
            redis=database == "postgres",
            submissions_per_hour_per_client=10_000_000,
            submissions_per_minute_global=10_000_000,
            seal_in_browser="true",
        ))
        create_reader(Store(inst.settings()))  # someone to seal to
        app = "intake:create_app()"
        intake = stack.enter_context(Server(app, INTAKE_CONF, inst.env, ready_path="/en/"))
        loads = {"server": Load(intake, clients),
                 "sealed in the browser": Load(intake, clients, SealedReporter),
                 "bare pages": Load(stack.enter_context(bare_pages(inst.env)), clients)}
        if other_tree is not None:
            loads["other tree"] = Load(stack.enter_context(
                Server(app, INTAKE_CONF, inst.env, ready_path="/en/", root=other_tree)), clients)
        same, best = Bare(WORKERS, THREADS), Bare(2, 1)
        for closing in (*loads.values(), same, best):
            stack.callback(closing.close)
        for load in loads.values():
            load.window(WARM_UP_SECONDS, counted=False)
        same.window(1, counted=False)
        for _ in range(rounds):
            for load in loads.values():
                load.window(seconds)
                same.window(seconds)
            best.window(seconds / 2)
        return {**{name: load.result() for name, load in loads.items()},
                "bare_same_parallelism": same.result(), "bare_2x1": best.result()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="SQLite only, 2 rounds of 5 s")
    parser.add_argument("--database", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10, help="per server window")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--other-tree", type=Path, default=None,
        help="also run the intake from this checkout (e.g. a git worktree of the commit "
        "before a fix), in the same rotation: before/after in one run",
    )
    args = parser.parse_args()
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    rounds, seconds = args.rounds, args.seconds
    if args.quick:
        databases, rounds, seconds = ["sqlite"], 2, 5
    print_machine(machine())
    print(f"receipt KDF opslimit {OPSLIMIT}, {MEMLIMIT // MIB} MiB; gunicorn as shipped; bare "
          f"{WORKERS} processes x {THREADS} threads; {args.clients} clients; {rounds} rounds of "
          f"{seconds:.0f} s server / bare windows in turn")
    results = {db: measure(db, args.clients, rounds, seconds, args.other_tree)
               for db in databases}
    ratios: dict[str, float] = {}
    for db, r in results.items():
        s, bare, best = r["server"], r["bare_same_parallelism"], r["bare_2x1"]
        ratios[db] = s["per_second"] / bare["per_second"]
        sealed = r["sealed in the browser"]
        ratios[f"{db}, sealed in the browser / sealed on the server"] = (
            sealed["per_second"] / s["per_second"])
        print(
            f"  {db:<8} sealed in the browser: {sealed['per_second']:5.1f} submissions/s, "
            f"{sealed['per_second'] / s['per_second']:.1f}x the server's path; send p50 "
            f"{sealed['send_latency_ms']['p50']:.0f} ms, p95 {sealed['send_latency_ms']['p95']:.0f}"
            f" ms; server CPU {sealed['server_cpu_ms_per_submission']:.1f} ms/submission; "
            f"errors {sealed['errors']}"
        )
        for sample in sealed["error_samples"]:
            print(f"      error: {sample}")
        print(
            f"  {db:<8} {s['per_second']:5.1f} submissions/s; bare Argon2id {WORKERS}x{THREADS} "
            f"{bare['per_second']:5.1f}/s (2x1 {best['per_second']:.1f}/s); ratio "
            f"{ratios[db]:.2f}x ({s['per_second'] / best['per_second']:.2f}x of 2x1)"
        )
        print(
            f"  {'':<8} send p50 {s['send_latency_ms']['p50']:.0f} ms, p95 "
            f"{s['send_latency_ms']['p95']:.0f} ms; whole journey p50 "
            f"{s['journey_latency_ms']['p50']:.0f} ms, p95 {s['journey_latency_ms']['p95']:.0f} ms;"
            f" server CPU {s['server_cpu_ms_per_submission']:.0f} ms/submission; "
            f"errors {s['errors']}"
        )
        for sample in s["error_samples"]:
            print(f"      error: {sample}")
        floor = r["bare pages"]
        ratios[f"{db}, server / bare pages"] = s["per_second"] / floor["per_second"]
        print(
            f"  {'':<8} bare pages (HTTP and the derivation only): {floor['per_second']:5.1f}/s, "
            f"{floor['per_second'] / bare['per_second']:.2f}x bare Argon2id; server / bare pages "
            f"{ratios[f'{db}, server / bare pages']:.2f}x; client CPU per submission, server "
            f"{s['client_cpu_ms_per_submission']:.0f} ms, bare pages "
            f"{floor['client_cpu_ms_per_submission']:.0f} ms; errors {floor['errors']}"
        )
        if "other tree" in r:
            o = r["other tree"]
            ratios[f"{db}, other tree"] = o["per_second"] / bare["per_second"]
            print(
                f"  {'':<8} other tree: {o['per_second']:5.1f} submissions/s "
                f"({ratios[f'{db}, other tree']:.2f}x bare); send p50 "
                f"{o['send_latency_ms']['p50']:.0f} ms, p95 {o['send_latency_ms']['p95']:.0f} ms;"
                f" this tree / other {s['per_second'] / o['per_second']:.2f}x"
            )
    targets = {f"{db} >= {TARGET}x bare Argon2id": ratio >= TARGET
               for db, ratio in ratios.items() if "," not in db}
    for name, met in targets.items():
        print(f"  target {name}: {'met' if met else 'MISSED'}")
    save(
        "submissions_quick" if args.quick else "submissions",
        {"kdf": {"opslimit": OPSLIMIT, "memlimit_mib": MEMLIMIT // MIB}, "results": results,
         "ratios": ratios, "targets_met": targets},
    )


if __name__ == "__main__":
    main()
