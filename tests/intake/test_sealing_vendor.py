"""libsodium.js reaches the browser from the intake's own origin, exactly as the lock file
names it: every package in package-lock.json carries an integrity hash, the served copy is
what ``intake.sealing.vendor`` makes from node_modules, and it imports nothing from another
origin or package."""

from __future__ import annotations

import json
import re

import pytest

from intake.sealing import vendor


def test_every_locked_package_has_an_integrity_hash() -> None:
    lock = json.loads((vendor.ROOT / "package-lock.json").read_text())
    packages = {name: info for name, info in lock["packages"].items() if name}
    served = {name for name, info in packages.items() if not info.get("dev")}
    assert served == {"node_modules/libsodium-sumo", "node_modules/libsodium-wrappers-sumo",
                      "node_modules/libphonenumber-js"}
    # The rest builds the phone-number bundle: esbuild and its per-platform binaries.
    assert all(name.startswith(("node_modules/esbuild", "node_modules/@esbuild/"))
               for name in set(packages) - served)
    for info in packages.values():
        assert info["integrity"].startswith("sha512-")  # npm ci refuses a tarball that differs


def test_the_served_copy_is_the_build_of_the_lock() -> None:
    if not (vendor.MODULES / vendor.WRAPPERS).exists():
        pytest.skip("node_modules is not installed (make browser-crypto needs npm)")
    assert vendor.main(["--check"]) == 0
    served = vendor.built()["libsodium-wrappers.mjs"].decode()
    imports = re.findall(r'(?:from|import)\s*"([^"]+)"', served)
    assert imports == ["./libsodium-sumo.mjs"]  # the file beside it, nothing else
    assert "http://" not in served and "https://" not in served


def test_the_phone_number_bundle_imports_nothing() -> None:
    if not (vendor.MODULES / "libphonenumber-js").exists():
        pytest.skip("node_modules is not installed (make browser-crypto needs npm)")
    bundle = vendor.built()["libphonenumber.mjs"].decode()
    assert not re.search(r'(?:^|[;}\s])import\s*[{"\w*]', bundle)  # one self-contained module
    assert "export{" in bundle.replace(" ", "") and "findPhoneNumbersInText" in bundle
    assert "http://" not in bundle.replace("http://www.w3.org", "")
