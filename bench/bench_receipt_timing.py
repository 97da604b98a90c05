"""Receipt look-up timing: a right receipt against a wrong one, at the default cost.

    .venv/bin/python -m bench.bench_receipt_timing [--repeats 15]

Two levels, each timed interleaved (right, wrong, right, wrong ...) and best-of-N
(``bench._common.best_of_interleaved``), with the receipt KDF at its defaults
(Argon2id opslimit 2, 64 MiB; config/settings.py), on a SQLite instance with 200 cases:

* ``cases.reporting.followup.find_case`` alone (derivation + one indexed SELECT).
  Baseline: the wrong
  receipt. Target: right/wrong within 0.95-1.05: the look-up itself does not tell whether
  a receipt exists (tests/security/test_sec_receipt_lookup.py proves the same statements
  and one derivation each; this measures it).
* the whole ``POST /en/followup/`` through the intake app (Flask test client, no network).
  The right receipt then opens a follow-up session (a sealed key, one INSERT, a redirect)
  and the wrong one renders the login page again with a message: the status already says
  which happened, so this figure only shows that the derivation dominates both.

Also printed: the bare Argon2id derivation at the same cost, the floor of every look-up.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import nacl.pwhash.argon2id as argon2id

from bench._common import best_of_interleaved, machine, print_machine, save
from cases.reporting.followup import find_case
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from config import init_instance, load_settings
from crypto import new_receipt

CASES = 200
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    info = machine()
    print_machine(info)
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        init_instance(instance)
        settings = load_settings(
            environ={}, instance_path=instance,
            submissions_per_hour_per_client=100_000, lookups_per_hour_per_client=100_000,
            lookups_per_minute_global=100_000,
        )
        store = Store(settings)
        store.migrate()
        receipts = []
        for i in range(CASES):
            with new_submission(store) as draft:
                receipts.append(draft.finalize(Submission(report={"text": f"case {i}"})))
        right, wrong = receipts[CASES // 2], new_receipt()
        kdf = settings.receipt_kdf

        def lookup(receipt: str) -> None:
            with store.transaction() as db:
                find_case(db, settings, receipt)

        core = best_of_interleaved(
            {
                "find_case right": lambda: lookup(right),
                "find_case wrong": lambda: lookup(wrong),
                "bare argon2id": lambda: argon2id.kdf(
                    32, right.encode(), settings.instance_salt,
                    opslimit=kdf.opslimit, memlimit=kdf.memlimit,
                ),
            },
            args.repeats,
        )

        from intake import create_app

        app = create_app(settings, store)

        def post(receipt: str) -> None:
            client = app.test_client()
            page = client.get("/en/followup/").get_data(as_text=True)
            token = CSRF.search(page)
            assert token is not None
            client.post("/en/followup/", data={"csrf_token": token.group(1), "receipt": receipt})

        http = best_of_interleaved(
            {"POST right": lambda: post(right), "POST wrong": lambda: post(wrong)},
            args.repeats,
        )
        store.dispose()

    ratio_core = core["find_case right"] / core["find_case wrong"]
    ratio_http = http["POST right"] / http["POST wrong"]
    for name, seconds in {**core, **http}.items():
        print(f"{name:18s} {seconds * 1000:8.1f} ms")
    met = 0.95 <= ratio_core <= 1.05
    verdict = "met" if met else "NOT met"
    share = core["bare argon2id"] / core["find_case wrong"]
    print(f"find_case right/wrong = {ratio_core:.3f} (target 0.95-1.05: {verdict})")
    print(f"POST right/wrong      = {ratio_http:.3f} (informative: see the docstring)")
    print(f"argon2id share of a wrong look-up: {share:.2f}")
    save("receipt_timing", {
        "kdf": {"opslimit": kdf.opslimit, "memlimit_mib": kdf.memlimit // 2**20},
        "cases": CASES,
        "repeats": args.repeats,
        "best_seconds": {k: round(v, 5) for k, v in {**core, **http}.items()},
        "ratio_find_case_right_over_wrong": round(ratio_core, 4),
        "ratio_post_right_over_wrong": round(ratio_http, 4),
        "target_met": met,
    })


if __name__ == "__main__":
    main()
