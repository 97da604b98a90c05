"""Reporters served while 500 stalled connections are open, directly and through nginx.

    .venv/bin/python -m bench.bench_slow_clients [--quick] [--stalled 500] [--rounds 2]
                                                [--seconds 10] [--clients 8] [--tree DIR]

The intake runs on gunicorn with the shipped ``deploy/gunicorn.intake.conf.py`` as it is
(3 workers x 256 threads, read timeout 30 s; only the bind address is set), SQLite, the
receipt KDF at its defaults, the rate limits raised out of the way. ``--clients`` reporters
(threads of this process) each do, again and again, the whole journey: the form, the
review step, the send step (a 2 KB report), then a follow-up: sign in with the receipt,
open the case, add a message. Counted: journeys completed per second in each window.

An attacker holds ``--stalled`` connections open (half stopped inside their headers, half
after the headers of a 100 kB form body), and opens a new one whenever the server drops
one. Baseline: the same journeys with no stalled connection, in windows that alternate
with the stalled ones (clean, stalled, clean, stalled ...), so the machine's drift falls
on both alike. Two setups, each with its own baseline: the reporters and the attacker
talk to gunicorn directly, then both go through the shipped nginx sites (its onion
server: plain HTTP, as Tor reaches it; nginx with worker_connections 4096 as
docs/OPERATIONS.md asks). Target: journeys/s with the stalls >= 0.8x without, in both.
"""

from __future__ import annotations

import argparse
import contextlib
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._common import machine, print_machine, save
from bench._http import Browser, csrf_of, form_to
from bench._server import INTAKE_CONF, ROOT, Server, free_port, instance
from bench.bench_submissions import report_text

sys.path.insert(0, str(ROOT / "tests" / "deploy"))
from nginxkit import build_nginx_prefix, make_certificate

TARGET = 0.8
HEAD = b"POST /en/followup/ HTTP/1.1\r\nHost: intake\r\n"
BODY = HEAD + (
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nreceipt="
)


class Reporter(threading.Thread):
    """One reporter's browser: report, then follow up, in a loop while ``go`` is set."""

    def __init__(self, port: int, go: threading.Event, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.go, self.stop = port, go, stop
        self.busy = False
        self.done: list[float] = []  # end times of completed journeys
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            if not self.go.wait(timeout=0.1):
                continue
            self.busy = True
            try:
                self.journey()
                self.done.append(time.perf_counter())
            except Exception as exc:  # counted and reported, never silently dropped
                self.errors.append(f"{exc.__class__.__name__}: {exc}"[:200])
            finally:
                self.busy = False

    def journey(self) -> None:
        browser = Browser(self.port, timeout=60)
        try:
            page = browser.get("/en/report/")
            fields = {"csrf_token": csrf_of(page.text), "description": report_text(),
                      "website": ""}
            review = browser.post("/en/report/review", fields)
            form = form_to(review.text, "/report/send")
            sent = browser.post_multipart(form["action"], form["fields"], [])
            if sent.status != 200 or "data-receipt" not in sent.text:
                raise RuntimeError(f"send answered {sent.status}")
            receipt = sent.text.split('data-receipt="', 1)[1].split('"', 1)[0]
            later = Browser(self.port, timeout=60)
            try:
                login = later.get("/en/followup/")
                signed_in = later.post("/en/followup/", {"csrf_token": csrf_of(login.text),
                                                         "receipt": receipt})
                case = later.follow(signed_in)
                message = form_to(case.text, "/message")
                text = next(c["name"] for c in message["controls"] if c["tag"] == "textarea")
                added = later.post_multipart(
                    message["action"], [*message["fields"], (text, "More.")], [])
                if later.follow(added).status != 200:
                    raise RuntimeError(f"follow-up message answered {added.status}")
            finally:
                later.close()
        finally:
            browser.close()


class Attacker(threading.Thread):
    """Keeps ``count`` stalled connections open, replacing each one the server drops."""

    def __init__(self, port: int, count: int) -> None:
        super().__init__(daemon=True)
        self.port, self.count = port, count
        self.stop = threading.Event()
        self.opened = 0
        self.ready = threading.Event()

    def _open(self, selector: selectors.BaseSelector) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall(HEAD if self.opened % 2 else BODY)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        self.opened += 1

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        for _ in range(self.count):
            self._open(selector)
        self.ready.set()
        while not self.stop.is_set():
            for key, _ in selector.select(timeout=0.2):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                with contextlib.suppress(OSError):
                    if sock.recv(65536):
                        continue  # an answer (408): the close follows
                selector.unregister(sock)
                sock.close()
                self._open(selector)
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        selector.close()


def window(port: int, clients: int, seconds: float, stalled: int) -> dict[str, Any]:
    """``clients`` reporters for ``seconds`` (after a 2 s ramp), with ``stalled``
    connections held open meanwhile."""
    attacker = Attacker(port, stalled) if stalled else None
    if attacker is not None:
        attacker.start()
        attacker.ready.wait(60)
        time.sleep(1.0)  # every stalled connection has reached its server
    go, stop = threading.Event(), threading.Event()
    reporters = [Reporter(port, go, stop) for _ in range(clients)]
    for reporter in reporters:
        reporter.start()
    go.set()
    time.sleep(2.0)
    start = time.perf_counter()
    time.sleep(seconds)
    end = time.perf_counter()
    go.clear()
    stop.set()
    deadline = time.monotonic() + 90  # a journey still waiting then is abandoned (counted)
    for reporter in reporters:
        reporter.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = sum(1 for r in reporters if r.is_alive())
    if attacker is not None:
        attacker.stop.set()
        attacker.join(timeout=30)
    done = sum(1 for r in reporters for t in r.done if start <= t <= end)
    errors = [e for r in reporters for e in r.errors]
    errors += ["a journey still waiting 90 s after its window"] * stuck
    return {"journeys": done, "seconds": end - start, "errors": errors,
            "stalled_opened": attacker.opened if attacker else 0}


@contextlib.contextmanager
def nginx_in_front(upstream: int) -> Any:
    """The shipped nginx sites on free ports, proxying to ``upstream``: the onion port."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with tempfile.TemporaryDirectory(prefix="sealbox-bench-nginx-") as tmp:
        prefix = Path(tmp)
        ports = {name: free_port() for name in ("i80", "i443", "ionion", "c443", "conion")}
        ports |= {"intake": upstream, "intake_onion": upstream, "caseworker": upstream}
        certs = prefix / "tls"
        certs.mkdir()
        conf = build_nginx_prefix(ROOT / "deploy", prefix / "nginx", make_certificate(certs),
                                  ports, worker_connections=4096)
        process = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", f"{prefix}/nginx/", "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", ports["ionion"]), timeout=1
                ):
                    break
                time.sleep(0.1)
            yield ports["ionion"]
        finally:
            process.terminate()
            process.wait(timeout=30)


def measure(port: int, clients: int, rounds: int, seconds: float, stalled: int) -> dict[str, Any]:
    window(port, clients, 3, 0)  # warm-up, not counted
    runs: dict[str, list[dict[str, Any]]] = {"clean": [], "stalled": []}
    for _ in range(rounds):
        runs["clean"].append(window(port, clients, seconds, 0))
        runs["stalled"].append(window(port, clients, seconds, stalled))
    rates = {name: sum(r["journeys"] for r in rs) / sum(r["seconds"] for r in rs)
             for name, rs in runs.items()}
    return {
        "journeys_per_second": rates,
        "ratio": rates["stalled"] / rates["clean"],
        "errors": {name: sum(len(r["errors"]) for r in rs) for name, rs in runs.items()},
        "error_samples": sorted({e for rs in runs.values() for r in rs for e in r["errors"]})[:5],
        "stalled_connections_opened": sum(r["stalled_opened"] for r in runs["stalled"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="100 stalled, 1 round of 6 s")
    parser.add_argument("--stalled", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--tree", type=Path, default=ROOT,
        help="run the intake (code and gunicorn config) of this checkout instead, e.g. a git "
        "worktree of the commit before a fix: the before figure",
    )
    args = parser.parse_args()
    stalled, rounds, seconds = args.stalled, args.rounds, args.seconds
    if args.quick:
        stalled, rounds, seconds = 100, 1, 6
    print_machine(machine())
    print(f"{args.clients} reporters (report + follow-up journeys); {stalled} stalled "
          f"connections; {rounds} rounds of {seconds:.0f} s clean / stalled windows in turn")
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        inst = stack.enter_context(instance(
            submissions_per_hour_per_client=10_000_000, submissions_per_minute_global=10_000_000,
            lookups_per_hour_per_client=10_000_000, lookups_per_minute_global=10_000_000,
        ))
        config = args.tree / INTAKE_CONF.relative_to(ROOT)
        server = stack.enter_context(Server(
            "intake:create_app()", config, inst.env, ready_path="/en/", root=args.tree))
        results["gunicorn"] = measure(server.port, args.clients, rounds, seconds, stalled)
        front = stack.enter_context(nginx_in_front(server.port))
        results["nginx"] = measure(front, args.clients, rounds, seconds, stalled)
    targets = {}
    for setup, r in results.items():
        rates = r["journeys_per_second"]
        print(f"  {setup:<8} clean {rates['clean']:.2f} journeys/s, with {stalled} stalled "
              f"{rates['stalled']:.2f}/s: ratio {r['ratio']:.2f}x; errors clean "
              f"{r['errors']['clean']}, stalled {r['errors']['stalled']}; stalled connections "
              f"opened {r['stalled_connections_opened']}")
        for sample in r["error_samples"]:
            print(f"      error: {sample}")
        targets[f"{setup}: >= {TARGET}x with {stalled} stalled"] = (
            r["ratio"] >= TARGET and not r["errors"]["stalled"])
    for name, met in targets.items():
        print(f"  target {name}: {'met' if met else 'MISSED'}")
    save("slow_clients_quick" if args.quick else "slow_clients",
         {"stalled": stalled, "results": results, "targets_met": targets})


if __name__ == "__main__":
    main()
