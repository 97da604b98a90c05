"""Copies libsodium.js from ``node_modules`` (installed by ``npm ci`` from the hash-checked
``package-lock.json``) to ``intake/static/vendor/``, where the intake serves it from its own
origin, and bundles there what the report page uses of libphonenumber-js (one file, by
esbuild from the same lock): ``python -m intake.sealing.vendor`` (``make browser-crypto``
runs both).

The only change to libsodium.js is the one a browser needs without a bundler: the wrappers
import the core by its bare package name, which becomes the path of the file beside them.
The result is the same bytes every time from the same lock file; ``vendor --check`` says
whether the served copy is that result."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "node_modules"
TARGET = ROOT / "intake" / "static" / "vendor"
WRAPPERS = "libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs"
CORE = "libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs"
BARE_IMPORT = b'from"libsodium-sumo"'
RELATIVE_IMPORT = b'from"./libsodium-sumo.mjs"'
PHONE_ENTRY = ROOT / "intake" / "sealing" / "phonenumbers-entry.mjs"


def phone_numbers_bundle() -> bytes:
    """libphonenumber-js's finder and its full metadata as one ES module (esbuild, no
    comments kept: its licence is copied beside it)."""
    esbuild = MODULES / ".bin" / "esbuild"
    done = subprocess.run(  # noqa: S603 - the locked esbuild, fixed arguments, no shell
        [str(esbuild), str(PHONE_ENTRY), "--bundle", "--format=esm", "--minify",
         "--legal-comments=none", "--log-level=warning"],
        check=True, capture_output=True, cwd=ROOT,
    )
    return done.stdout


def built() -> dict[str, bytes]:
    """The served files' names and contents, made from ``node_modules``."""
    wrappers = (MODULES / WRAPPERS).read_bytes()
    if wrappers.count(BARE_IMPORT) != 1:
        raise SystemExit(f"{WRAPPERS}: expected one import of libsodium-sumo")
    licence = (MODULES / "libsodium-wrappers-sumo" / "LICENSE").read_bytes()
    return {
        "libsodium-wrappers.mjs": wrappers.replace(BARE_IMPORT, RELATIVE_IMPORT),
        "libsodium-sumo.mjs": (MODULES / CORE).read_bytes(),
        "LICENSE-libsodium.js.txt": licence,
        "libphonenumber.mjs": phone_numbers_bundle(),
        "LICENSE-libphonenumber-js.txt": (MODULES / "libphonenumber-js" / "LICENSE").read_bytes(),
    }


def main(argv: list[str]) -> int:
    files = built()
    if "--check" in argv:
        stale = [n for n, data in files.items()
                 if not (TARGET / n).exists() or (TARGET / n).read_bytes() != data]
        print("stale: " + ", ".join(stale) if stale else "up to date")
        return 1 if stale else 0
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (TARGET / name).write_bytes(data)
        print(f"{name}  sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
