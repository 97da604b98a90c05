"""The follow-up journey through the real intake server, against bare Argon2id.

    .venv/bin/python -m bench.bench_followup [--quick] [--database sqlite|postgres]
                                             [--rounds 3] [--seconds 10] [--clients 16]
                                             [--other-tree DIR]

The intake as ``bench.bench_submissions`` runs it (gunicorn with the shipped configuration,
the receipt KDF at its defaults, rate limits out of the way). Each client first sends one
report (in the warm-up window, not counted) and keeps its receipt; then it does, again
and again, what a reporter coming back does: GET the sign-in page, POST the receipt (one
Argon2id at the receipt cost: the only deliberate cost), follow the redirect to the case
page (the thread decrypted), POST one message of 300 characters with the page's CSRF
token, and sign out. Counted: journeys completed per second in the steady part of each
window, their latency, and the server's CPU per journey.

Baseline, in windows that alternate with the server's (S B S B ...): bare
``nacl.pwhash.argon2id.kdf`` at the same parameters, in the server's processes and
threads as ``bench_submissions`` uses them: one derivation per journey is the floor.
Target (issue 19): journeys/s >= 0.9x derivations/s.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import time
from pathlib import Path
from typing import Any

from bench._common import machine, print_machine, save
from bench._http import Browser, csrf_of, form_to
from bench._server import INTAKE_CONF, Server, instance
from bench.bench_submissions import (
    MEMLIMIT,
    OPSLIMIT,
    THREADS,
    WORKERS,
    Bare,
    Load,
    Reporter,
    bare_pages,
)

TARGET = 0.9
MESSAGE = ("I found the second invoice; the amounts match the tender file, the dates do not. "
           * 4)[:300]
RECEIPT = re.compile(r'data-receipt="([0-9 ]+)"')
TEXT_FIELD = "main-text"  # the message box of the case's own thread (prefix "main")


class ReturningReporter(Reporter):
    """One reporter: a report once, then the follow-up journey in a loop."""

    receipt = ""

    def journey(self, browser: Browser) -> tuple[float, float, float]:
        if not self.receipt:
            self.receipt = self._first_report(browser)
        start = time.perf_counter()
        login = browser.get("/en/followup/")
        signed_in = browser.post("/en/followup/", {"csrf_token": csrf_of(login.text),
                                                   "receipt": self.receipt})
        case = browser.follow(signed_in)
        if case.status != 200 or "/case/main/message" not in case.text:
            raise RuntimeError(f"sign-in answered {signed_in.status}, then {case.status}")
        form = form_to(case.text, "/case/main/message")
        fields = [(n, v) for n, v in form["fields"] if n != TEXT_FIELD]
        sent = time.perf_counter()
        reply = browser.follow(browser.post_multipart(
            form["action"], [*fields, (TEXT_FIELD, MESSAGE)], []))
        if reply.status != 200 or "Sent." not in reply.text:
            raise RuntimeError(f"the message answered {reply.status}")
        out = browser.post("/en/followup/logout", {"csrf_token": csrf_of(reply.text)})
        if out.status != 200:
            raise RuntimeError(f"sign-out answered {out.status}")
        return start, sent, time.perf_counter()

    def _first_report(self, browser: Browser) -> str:
        _sent, receipt_page = self.send_report(browser)
        found = RECEIPT.search(receipt_page.text)
        if found is None:
            raise RuntimeError("no receipt on the receipt page")
        return found.group(1).replace(" ", "")


def measure(database: str, clients: int, rounds: int, seconds: float,
            other_tree: Path | None = None) -> dict[str, Any]:
    """Server, bare and floor windows in turn (S B F B ...); with ``other_tree``, the
    intake of that checkout takes a turn after the server's."""
    with contextlib.ExitStack() as stack:
        inst = stack.enter_context(instance(
            database=database, redis=database == "postgres",
            submissions_per_hour_per_client=10_000_000, submissions_per_minute_global=10_000_000,
            lookups_per_hour_per_client=10_000_000, lookups_per_minute_global=10_000_000,
        ))
        server = stack.enter_context(
            Server("intake:create_app()", INTAKE_CONF, inst.env, ready_path="/en/"))
        load = Load(server, clients, client=ReturningReporter)
        floor = Load(stack.enter_context(bare_pages(inst.env)), clients, ReturningReporter)
        other = None if other_tree is None else Load(stack.enter_context(Server(
            "intake:create_app()", INTAKE_CONF, inst.env, ready_path="/en/", root=other_tree)),
            clients, ReturningReporter)
        bare = Bare(WORKERS, THREADS)
        for closing in (load, floor, bare, other):
            if closing is not None:
                stack.callback(closing.close)
        load.window(6, counted=False)  # each client's first report, then warm journeys
        if other is not None:
            other.window(6, counted=False)
        floor.window(3, counted=False)
        bare.window(1, counted=False)
        for _ in range(rounds):
            load.window(seconds)
            if other is not None:
                other.window(seconds)
            bare.window(seconds)
            floor.window(seconds)
            bare.window(seconds)
        result = {"server": load.result(), "bare_pages": floor.result(),
                  "bare_same_parallelism": bare.result()}
        if other is not None:
            result["other_tree"] = other.result()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="SQLite, 2 rounds of 5 s")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--other-tree", type=Path, default=None,
                        help="also run the intake from this checkout, in the same rotation")
    args = parser.parse_args()
    rounds, seconds = (2, 5.0) if args.quick else (args.rounds, args.seconds)
    print_machine(machine())
    print(f"receipt KDF opslimit {OPSLIMIT}, {MEMLIMIT >> 20} MiB; {args.clients} clients; "
          f"{rounds} rounds of {seconds:.0f} s server / bare windows in turn")
    result = measure(args.database, args.clients, rounds, seconds, args.other_tree)
    s, bare = result["server"], result["bare_same_parallelism"]
    ratio = s["per_second"] / bare["per_second"]
    print(f"  {args.database}: {s['per_second']:.1f} journeys/s; bare Argon2id "
          f"{WORKERS}x{THREADS} {bare['per_second']:.1f}/s; ratio {ratio:.2f}x; journey p50 "
          f"{s['journey_latency_ms']['p50']:.0f} ms, p95 {s['journey_latency_ms']['p95']:.0f} "
          f"ms; server CPU {s['server_cpu_ms_per_submission']:.0f} ms/journey; "
          f"errors {s['errors']}")
    for sample in s["error_samples"]:
        print(f"      error: {sample}")
    floor = result["bare_pages"]
    print(f"  bare pages (HTTP and the derivation only): {floor['per_second']:.1f} journeys/s, "
          f"{floor['per_second'] / bare['per_second']:.2f}x bare Argon2id; server / bare pages "
          f"{s['per_second'] / floor['per_second']:.2f}x; client CPU per journey, server "
          f"{s['client_cpu_ms_per_submission']:.0f} ms, bare pages "
          f"{floor['client_cpu_ms_per_submission']:.0f} ms; server CPU per journey, bare pages "
          f"{floor['server_cpu_ms_per_submission']:.0f} ms; errors {floor['errors']}")
    if "other_tree" in result:
        o = result["other_tree"]
        print(f"  other tree: {o['per_second']:.1f} journeys/s; this tree / other "
              f"{s['per_second'] / o['per_second']:.2f}x; journey p50 "
              f"{o['journey_latency_ms']['p50']:.0f} ms, p95 "
              f"{o['journey_latency_ms']['p95']:.0f} ms; server CPU "
              f"{o['server_cpu_ms_per_submission']:.0f} ms/journey")
    targets = {f"{args.database} follow-up >= {TARGET}x bare Argon2id": ratio >= TARGET}
    for name, met in targets.items():
        print(f"  target {name}: {'met' if met else 'MISSED'}")
    save("followup_quick" if args.quick else "followup",
         {"database": args.database, "result": result, "ratio": ratio, "targets_met": targets})


if __name__ == "__main__":
    main()
