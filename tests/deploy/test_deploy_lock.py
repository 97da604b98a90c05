"""The dependency locks (requirements/*.lock): every install (make, CI, the container image)
takes exact versions with hashes from them, so an install is reproducible and a file that
differs from the one locked is refused. These tests keep the locks and pyproject.toml in
agreement, keep known-vulnerable releases out of the declared bounds, and check that the
environment running the tests really was installed from the lock."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")

# Releases with published advisories that the lower bounds must exclude (issue 11).
KNOWN_VULNERABLE = {"gunicorn": "22.0.0", "cryptography": "44.0.0", "flask": "3.1.0"}


@dataclass(frozen=True)
class Pin:
    version: Version
    hashes: int


def read_lock(name: str) -> dict[str, Pin]:
    """name → pinned version and how many hashes it carries."""
    pins: dict[str, Pin] = {}
    current: str | None = None
    for line in (LOCKS / f"{name}.lock").read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            pins[current] = Pin(Version(match.group(2)), 0)
        elif current is not None and HASH.search(line):
            pins[current] = Pin(pins[current].version, pins[current].hashes + 1)
        elif not line.startswith((" ", "#")) and line.strip():
            pytest.fail(f"{name}.lock has a line that is neither a pin nor a hash: {line!r}")
    return pins


def declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def build_requirements() -> list[Requirement]:
    system = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]
    return [Requirement(line) for line in system["requires"]]


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("run", lambda: declared() + build_requirements()),
        ("test", lambda: declared() + declared("test") + build_requirements()),
    ],
    ids=["run", "test"],
)
def test_every_declared_requirement_is_locked_within_its_bounds(
    lock: str, requirements: object
) -> None:
    pins = read_lock(lock)
    assert callable(requirements)
    for requirement in requirements():
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement.name} is declared but not in {lock}.lock"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"{lock}.lock pins {requirement.name}=={pin.version}, outside {requirement}"
        )


@pytest.mark.parametrize("lock", ["run", "test"])
def test_every_pin_is_exact_and_hashed(lock: str) -> None:
    pins = read_lock(lock)
    assert len(pins) > 20
    unhashed = sorted(name for name, pin in pins.items() if pin.hashes == 0)
    assert unhashed == [], f"{lock}.lock: no hash for {unhashed}"


def test_the_test_lock_keeps_the_run_versions() -> None:
    """Installing the test tools on top must not move any version the apps run with."""
    run, test = read_lock("run"), read_lock("test")
    moved = {name: (pin.version, test[name].version) for name, pin in run.items()
             if name not in test or test[name].version != pin.version}
    assert moved == {}


@pytest.mark.parametrize(("name", "version"), sorted(KNOWN_VULNERABLE.items()))
def test_bounds_exclude_known_vulnerable_releases(name: str, version: str) -> None:
    requirement = next(r for r in declared() if canonicalize_name(r.name) == name)
    assert not requirement.specifier.contains(Version(version)), (
        f"pyproject.toml still admits {name} {version}"
    )


def test_direct_imports_are_declared() -> None:
    """Every third-party package the code imports is a declared dependency, not something
    that happens to arrive with another one."""
    names = {canonicalize_name(r.name) for r in declared()}
    imported_as = {"click": "click", "limits": "limits", "werkzeug": "werkzeug",
                   "jinja2": "jinja2", "markupsafe": "markupsafe", "wtforms": "wtforms",
                   "babel": "babel", "nacl": "pynacl", "argon2": "argon2-cffi",
                   "flask_limiter": "flask-limiter", "flask_wtf": "flask-wtf",
                   "flask_babel": "flask-babel", "sqlalchemy": "sqlalchemy"}
    sources = [p for folder in ("intake", "caseworker", "crypto", "config", "cases")
               for p in (ROOT / folder).rglob("*.py")]
    pattern = re.compile(r"^\s*(?:from|import)\s+(\w+)", re.MULTILINE)
    used = {m.group(1) for p in sources for m in pattern.finditer(p.read_text())}
    missing = sorted(imported_as[module] for module in used & imported_as.keys()
                     if canonicalize_name(imported_as[module]) not in names)
    assert missing == []
    assert {"click", "limits"} <= used  # the two that were missing before are still in use


def test_this_environment_was_installed_from_the_lock() -> None:
    """The tests run in what `make` installed: every locked package is present at exactly
    the locked version (a lock nobody installs from proves nothing)."""
    wrong = {}
    for name, pin in read_lock("test").items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            wrong[name] = "absent"
            continue
        if installed != pin.version:
            wrong[name] = f"{installed} instead of {pin.version}"
    assert wrong == {}


@pytest.mark.parametrize(
    ("path", "lock"),
    [("Makefile", "requirements/run.lock"), ("Makefile", "requirements/test.lock"),
     ("deploy/container/Containerfile", "requirements/run.lock")],
)
def test_installers_use_the_lock_with_hashes(path: str, lock: str) -> None:
    text = (ROOT / path).read_text()
    assert "--require-hashes" in text and lock in text
    # Sealbox itself goes in without dependencies, so nothing unlocked is resolved.
    installs_self = re.findall(r"pip install[^\n]*?(?:-e )?\.\s*(?:\\|$|&&)", text, re.MULTILINE)
    assert installs_self and all("--no-deps" in line for line in installs_self)
