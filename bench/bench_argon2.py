"""Argon2id derivations per second: crypto/'s recipes against bare libsodium.

    .venv/bin/python -m bench.bench_argon2 [--repeats 10]

For the receipt defaults (opslimit 2, 64 MiB: crypto.derive_reporter_keys) and the
caseworker passphrase defaults (opslimit 3, 128 MiB: crypto.unlock_private_key), on
1 thread, 2 threads and 2 processes, against ``nacl.pwhash.argon2id.kdf`` with the same
cost. Target: ratio ~1.0. Then the memory budget: with crypto.set_argon2_memory_budget(64)
4 threads of receipt derivations should run no faster than 1; with 512 they spread over
the cores. Defaults as in config/settings.py.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import nacl.pwhash.argon2id as argon2id

import crypto
from bench._common import MIB, best_of_interleaved, machine, print_machine, save

RECEIPT = crypto.KdfParams(opslimit=2, memlimit=64 * MIB)
PASSPHRASE = crypto.KdfParams(opslimit=3, memlimit=128 * MIB)
DEFAULT_BUDGET_MIB = 512
SALT = bytes(range(16))
RECEIPT_TEXT = crypto.new_receipt()
PASSPHRASE_TEXT = "correct horse battery staple"  # noqa: S105 (a throwaway key)


def bare(secret: bytes, params: crypto.KdfParams, _: int) -> None:
    argon2id.kdf(32, secret, SALT, opslimit=params.opslimit, memlimit=params.memlimit)


def reporter_keys(_: int) -> None:
    crypto.derive_reporter_keys(RECEIPT_TEXT, SALT, RECEIPT)


def unlock(wrapped: bytes, _: int) -> None:
    crypto.unlock_private_key(wrapped, PASSPHRASE_TEXT)


def pools() -> dict[str, Executor]:
    spawn = multiprocessing.get_context("spawn")
    made: dict[str, Executor] = {
        "1 thread": ThreadPoolExecutor(1),
        "2 threads": ThreadPoolExecutor(2),
        "2 processes": ProcessPoolExecutor(2, mp_context=spawn),
    }
    for pool in made.values():  # start the workers (and their imports) before timing
        list(pool.map(bare, [b"warm-up"] * 2, [RECEIPT] * 2, range(2)))
    return made


def compare(
    label: str,
    bare_task: Callable[[int], None],
    crypto_task: Callable[[int], None],
    count: int,
    executors: dict[str, Executor],
    repeats: int,
) -> dict[str, Any]:
    """Derivations per second, bare and through crypto/, for each way of running them."""
    candidates: dict[str, Callable[[], object]] = {}
    for mode, pool in executors.items():
        candidates[f"{mode}: bare"] = functools.partial(_drain, pool, bare_task, count)
        candidates[f"{mode}: crypto"] = functools.partial(_drain, pool, crypto_task, count)
    best = best_of_interleaved(candidates, repeats)
    print(f"{label}: derivations/s (bare kdf, crypto/, ratio)")
    rows: dict[str, Any] = {}
    for mode in executors:
        rate_bare = count / best[f"{mode}: bare"]
        rate_crypto = count / best[f"{mode}: crypto"]
        rows[mode] = {"bare": rate_bare, "crypto": rate_crypto, "ratio": rate_crypto / rate_bare}
        print(f"  {mode:<12} {rate_bare:7.2f} {rate_crypto:7.2f} {rate_crypto / rate_bare:6.2f}x")
    return rows


def _drain(pool: Executor, task: Callable[[int], None], count: int) -> None:
    list(pool.map(task, range(count)))


def memory_budget(count: int, repeats: int) -> dict[str, Any]:
    """Receipt derivations on 1 and 4 threads under a 64 MiB and a 512 MiB budget."""
    candidates: dict[str, Callable[[], object]] = {}
    with ThreadPoolExecutor(1) as one, ThreadPoolExecutor(4) as four:
        for budget in (64, DEFAULT_BUDGET_MIB):
            for name, pool in (("1 thread", one), ("4 threads", four)):
                candidates[f"budget {budget} MiB, {name}"] = functools.partial(
                    _with_budget, budget, pool, reporter_keys, count
                )
        try:
            best = best_of_interleaved(candidates, repeats)
        finally:
            crypto.set_argon2_memory_budget(DEFAULT_BUDGET_MIB)
    rates = {name: count / secs for name, secs in best.items()}
    print("memory budget: receipt derivations/s, and 4 threads / 1 thread")
    speedups = {}
    for budget in (64, DEFAULT_BUDGET_MIB):
        one_rate = rates[f"budget {budget} MiB, 1 thread"]
        four_rate = rates[f"budget {budget} MiB, 4 threads"]
        speedup = four_rate / one_rate
        speedups[f"budget {budget} MiB"] = speedup
        print(f"  budget {budget:>3} MiB: {one_rate:6.2f} -> {four_rate:6.2f}  {speedup:5.2f}x")
    return {"rates": rates, "four_threads_over_one": speedups}


def _with_budget(budget: int, pool: Executor, task: Callable[[int], None], count: int) -> None:
    crypto.set_argon2_memory_budget(budget)
    _drain(pool, task, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    info = machine()
    print_machine(info)
    _, wrapped = crypto.new_caseworker_keys(PASSPHRASE_TEXT, PASSPHRASE)
    executors = pools()
    try:
        receipt = compare(
            "receipt (opslimit 2, 64 MiB)",
            functools.partial(bare, RECEIPT_TEXT.encode(), RECEIPT),
            reporter_keys,
            4,
            executors,
            args.repeats,
        )
        passphrase = compare(
            "passphrase (opslimit 3, 128 MiB)",
            functools.partial(bare, PASSPHRASE_TEXT.encode(), PASSPHRASE),
            functools.partial(unlock, wrapped),
            2,
            executors,
            args.repeats,
        )
    finally:
        for pool in executors.values():
            pool.shutdown()
    budget = memory_budget(4, args.repeats)
    ratios = [row["ratio"] for table in (receipt, passphrase) for row in table.values()]
    serialises = budget["four_threads_over_one"]["budget 64 MiB"] < 1.2
    parallel = budget["four_threads_over_one"][f"budget {DEFAULT_BUDGET_MIB} MiB"] > 1.5
    targets = {
        "crypto / bare within 0.9..1.1": all(0.9 <= ratio <= 1.1 for ratio in ratios),
        "budget 64 MiB serialises (4 threads < 1.2x one)": serialises,
        "budget 512 MiB parallelises (4 threads > 1.5x one)": parallel,
    }
    for name, met in targets.items():
        print(f"  target {name}: {'met' if met else 'MISSED'}")
    save(
        "argon2",
        {
            "repeats": args.repeats,
            "receipt": receipt,
            "passphrase": passphrase,
            "memory_budget": budget,
            "targets_met": targets,
        },
    )


if __name__ == "__main__":
    main()
