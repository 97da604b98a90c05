"""Argon2id and file sealing in the reporter's browser (libsodium.js, WebAssembly, in the
real Chromium) against libsodium in Python (PyNaCl) on the same machine.

    .venv/bin/python -m bench.bench_browser_sealing [--quick]

Needs ``make browser-crypto`` (libsodium.js in intake/static/vendor) and Debian's
Chromium. The page loads ``intake/static/sealing/sealbox-crypto.mjs`` as the intake serves
it (the files are answered from disk by Playwright's router, so no server's time is in the
figures), and times inside the page with ``performance.now()``:

* **receipt derivation**: ``deriveReporterKeys`` at the instance's default cost (Argon2id,
  2 passes, 64 MiB, then three BLAKE2b and an X25519), against ``crypto.derive_reporter_keys``;
* **file sealing**: ``FileSealer`` over 64 MiB (``--quick``: 16) fed in 1 MiB pieces,
  against ``crypto.encrypt_stream`` over the same size and pieces.

Rounds alternate browser and Python (A B A B), best of 7 (``--quick``: 3). Reported: each
side's time or MiB/s and the browser as a ratio of Python. No target was set; the ratio is
what a reporter with JavaScript on pays for the server never seeing their report.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from bench._common import MIB, best_of_self_timed, machine, print_machine, save

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "intake" / "static"
ORIGIN = "http://sealbox.bench"
CHROMIUM = Path(os.environ.get("SEALBOX_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE = "<!doctype html><title>bench</title>"

DERIVE = """async () => {
  const m = await import('/static/sealing/sealbox-crypto.mjs'); await m.ready();
  const salt = new Uint8Array(16).fill(7);
  const start = performance.now();
  m.deriveReporterKeys(m.newReceipt(), salt, 2, 64 * 1024 * 1024);
  return (performance.now() - start) / 1000;
}"""
SEAL = """async (mib) => {
  const m = await import('/static/sealing/sealbox-crypto.mjs'); const s = await m.ready();
  const piece = new Uint8Array(1024 * 1024);
  for (let at = 0; at < piece.length; at += 65536) {
    crypto.getRandomValues(piece.subarray(at, at + 65536));
  }
  const start = performance.now();
  const sealer = new m.FileSealer(s.randombytes_buf(32), 'case', 'attachment:1');
  let out = 0;
  const size = (parts) => parts.reduce((n, p) => n + p.length, 0);
  for (let i = 0; i < mib; i++) { out += size(sealer.push(piece)); }
  out += size(sealer.finish());
  return [(performance.now() - start) / 1000, out];
}"""


def _serve(route: Any) -> None:
    path = route.request.url.removeprefix(ORIGIN)
    if path.startswith("/static/"):
        file = STATIC / path.removeprefix("/static/")
        route.fulfill(body=file.read_bytes(), content_type="text/javascript")
    else:
        route.fulfill(body=PAGE, content_type="text/html")


def python_derive() -> float:
    import crypto

    start = time.perf_counter()
    crypto.derive_reporter_keys(crypto.new_receipt(), bytes([7]) * 16,
                                crypto.KdfParams(2, 64 * MIB))
    return time.perf_counter() - start


def python_seal(mib: int) -> float:
    import crypto

    piece = os.urandom(MIB)
    start = time.perf_counter()
    size = sum(len(c) for c in crypto.encrypt_stream(
        crypto.new_key(), (piece for _ in range(mib)), crypto.Context("case", "attachment:1")))
    elapsed = time.perf_counter() - start
    assert size == crypto.sealed_size(mib * MIB)
    return elapsed


def measure(page: Any, mib: int, rounds: int) -> dict[str, Any]:
    import crypto

    def browser_seal() -> float:
        seconds, size = page.evaluate(SEAL, mib)
        if size != crypto.sealed_size(mib * MIB):
            raise RuntimeError(f"the browser sealed {size} bytes")
        return float(seconds)

    best = best_of_self_timed({
        "browser_derive": lambda: float(page.evaluate(DERIVE)),
        "python_derive": python_derive,
        "browser_seal": browser_seal,
        "python_seal": lambda: python_seal(mib),
    }, rounds)
    result = {
        "file_mib": mib, **best,
        "derive_browser_vs_python": best["python_derive"] / best["browser_derive"],
        "browser_seal_mib_s": mib / best["browser_seal"],
        "python_seal_mib_s": mib / best["python_seal"],
        "seal_browser_vs_python": best["python_seal"] / best["browser_seal"],
    }
    print(f"receipt derivation: browser {best['browser_derive'] * 1000:.0f} ms, Python "
          f"{best['python_derive'] * 1000:.0f} ms ({result['derive_browser_vs_python']:.2f}x "
          f"Python's rate)")
    print(f"sealing {mib} MiB: browser {result['browser_seal_mib_s']:.0f} MiB/s, Python "
          f"{result['python_seal_mib_s']:.0f} MiB/s ({result['seal_browser_vs_python']:.2f}x)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 MiB, 3 rounds")
    args = parser.parse_args()
    if not (STATIC / "vendor" / "libsodium-wrappers.mjs").exists():
        raise SystemExit("libsodium.js is not built: make browser-crypto")
    from playwright.sync_api import sync_playwright

    info = machine()
    print_machine(info)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.route(f"{ORIGIN}/**", _serve)
        page.goto(f"{ORIGIN}/")
        info["chromium"] = browser.version
        result = measure(page, 16 if args.quick else 64, 3 if args.quick else 7)
        browser.close()
    save("browser_sealing_quick" if args.quick else "browser_sealing",
         {"chromium": info["chromium"], "results": [result]})


if __name__ == "__main__":
    main()
