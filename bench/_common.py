"""Helpers shared by the benchmarks: interleaved timing, the machine, JSON results.

Every figure a benchmark reports is a ratio against a baseline timed in the same run,
because a shared machine's absolute speed drifts from minute to minute.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 1024 * 1024


def best_of_interleaved(
    candidates: Mapping[str, Callable[[], object]], repeats: int
) -> dict[str, float]:
    """Run the candidates in turn (A B A B ...) ``repeats`` times; best wall seconds each.

    Interleaving spreads any slow spell of the machine over all candidates alike, and the
    best run is the one least disturbed by other work.
    """
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(repeats):
        for name, run in candidates.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def best_of_self_timed(
    candidates: Mapping[str, Callable[[], float]], repeats: int
) -> dict[str, float]:
    """As :func:`best_of_interleaved`, for candidates that time themselves (a page timing
    inside the browser, a process measured from outside): each returns its seconds."""
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(repeats):
        for name, run in candidates.items():
            best[name] = min(best[name], run())
    return best


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _libsodium_version() -> str:
    import nacl.bindings

    version = getattr(nacl.bindings, "sodium_version_string", None)
    if callable(version):
        return str(version())
    return f"bundled with PyNaCl {metadata.version('pynacl')} (version string not exposed)"


def machine() -> dict[str, Any]:
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pynacl": metadata.version("pynacl"),
        "libsodium": _libsodium_version(),
        # Other work on the machine (a shared box): ratios hold up, parallel speed-ups don't.
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def print_machine(info: Mapping[str, Any]) -> None:
    print("machine: " + ", ".join(f"{key}={value}" for key, value in info.items()))
    if info["load_average_1min"] >= info["cpus"] / 2:
        print(
            f"warning: load average {info['load_average_1min']} on {info['cpus']} CPUs: other"
            " work is running; ratios mostly hold, absolute and parallel figures will not"
        )


def save(name: str, results: Mapping[str, Any]) -> Path:
    """Write bench/results/<name>.json (git-ignored) with the machine and a timestamp."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    record = {
        "benchmark": name,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **results,
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {path}")
    return path
