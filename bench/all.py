"""Every benchmark, one after another, then each target met or missed.

    .venv/bin/python -m bench.all [--quick] [--only search,inbox,...]

Each benchmark runs in a process of its own with its own baselines, exactly as when run
alone (``make bench`` runs this); its output streams through. Then the results each one
wrote to ``bench/results/`` are read back and every target found in them is printed as met
or MISSED, with the benchmarks that set none listed as ratios only. The exit status is 1
when a benchmark failed to run; a missed target is a finding, not a failure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import RESULTS_DIR


@dataclass(frozen=True)
class Bench:
    module: str
    result: str  # bench/results/<result>.json
    quick_result: str = ""  # the file --quick writes, when it is another
    has_quick: bool = True


BENCHES = (
    Bench("bench_file_stream", "file_stream", has_quick=False),
    Bench("bench_argon2", "argon2", has_quick=False),
    Bench("bench_receipt_timing", "receipt_timing", has_quick=False),
    Bench("bench_submissions", "submissions", "submissions_quick"),
    Bench("bench_upload", "upload", "upload_quick"),
    Bench("bench_inbox", "inbox", "inbox_quick"),
    Bench("bench_scale", "scale", "scale_quick"),
    Bench("bench_case_open", "case_open", "case_open_quick"),
    Bench("bench_search", "search"),
    Bench("bench_followup", "followup", "followup_quick"),
    Bench("bench_cleaning", "cleaning", "cleaning_quick"),
    Bench("bench_browser_sealing", "browser_sealing", "browser_sealing_quick"),
    Bench("bench_slow_clients", "slow_clients", "slow_clients_quick"),
    Bench("bench_maintain", "maintain", has_quick=False),
    Bench("bench_load", "load", has_quick=False),
)


def targets_in(record: Any, where: str = "") -> Iterator[tuple[str, bool]]:
    """Every target a results file records: ``targets_met`` maps (name -> met) and
    ``target_met`` flags, at any depth, named by where they sit (e.g. the database)."""
    if isinstance(record, dict):
        for key, value in record.items():
            if key == "targets_met" and isinstance(value, dict):
                for name, met in value.items():
                    yield (f"{where} {name}".strip(), bool(met))
            elif key == "target_met" and isinstance(value, bool):
                label = record.get("database") or record.get("name") or "target"
                yield (f"{where} {label}".strip(), value)
            elif isinstance(value, dict | list):
                yield from targets_in(value, f"{where} {key}".strip() if key != "results"
                                      else where)
    elif isinstance(record, list):
        for item in record:
            yield from targets_in(item, where)


def summary(done: list[tuple[Bench, int, float, Path]]) -> list[str]:
    """The report's lines: each target met or missed, per benchmark."""
    lines = []
    for bench, status, seconds, path in done:
        head = f"{bench.module} ({seconds:.0f} s)"
        if status != 0:
            lines.append(f"{head}: FAILED to run (exit {status})")
            continue
        try:
            found = list(targets_in(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            lines.append(f"{head}: no results file at {path}")
            continue
        if not found:
            lines.append(f"{head}: no target set, ratios only")
        for name, met in found:
            lines.append(f"{head}: {name}: {'met' if met else 'MISSED'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's --quick")
    parser.add_argument("--only", default="", help="comma-separated names, e.g. search,inbox")
    args = parser.parse_args()
    wanted = {f"bench_{n.strip()}" for n in args.only.split(",") if n.strip()}
    done = []
    for bench in BENCHES:
        if wanted and bench.module not in wanted:
            continue
        command = [sys.executable, "-m", f"bench.{bench.module}"]
        quick = args.quick and bench.has_quick
        command += ["--quick"] if quick else []
        print(f"=== {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        status = subprocess.call(command)
        name = bench.quick_result if quick and bench.quick_result else bench.result
        done.append((bench, status, time.perf_counter() - started,
                     RESULTS_DIR / f"{name}.json"))
    print("\n=== targets")
    lines = summary(done)
    print("\n".join(lines))
    missed = sum(line.endswith("MISSED") for line in lines)
    met = sum(line.endswith(": met") for line in lines)
    print(f"=== {met} met, {missed} missed")
    sys.exit(1 if any(status != 0 for _b, status, _s, _p in done) else 0)


if __name__ == "__main__":
    main()
