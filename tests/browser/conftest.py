"""Real-browser fixtures: both apps as real server processes on a fresh instance per test
module, Debian's Chromium (/usr/bin/chromium) driven headless by Playwright's sync API, an
axe-core auditor and per-test screenshots. Helpers live in ``browserkit``.

Without /usr/bin/chromium (or Playwright) the tests skip with a one-line reason; with
SEALBOX_REQUIRE_BROWSER set (CI, `.ci/run`) they fail instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browserkit import (
    ARTIFACTS,
    AXE_TAGS,
    CHROMIUM,
    CHROMIUM_ARGS,
    FAST_KDF_ENV,
    ROOT,
    SCRIPTLESS,
    Audit,
    Sealbox,
    Shots,
    failure_screenshot,
    sample_files,
)

from cases.store import Store
from config import init_instance


def _unavailable(reason: str) -> None:
    if os.environ.get("SEALBOX_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (SEALBOX_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"Chromium is not installed at {CHROMIUM} (run `make browser-deps` as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"Playwright is not installed ({exc}): pip install -e '.[test]'")
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="session")
def chromium(playwright_driver: Any) -> Iterator[Any]:
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def new_context(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Factory: a fresh browser profile (its own cookies). JavaScript is OFF unless asked
    for, as in Tor Browser's Safest mode. The contexts are closed after the test; when the
    test failed, each open page is saved as a screenshot next to the test's artefacts."""
    made: list[Any] = []

    def make(*, javascript: bool = False, **options: Any) -> Any:
        options.setdefault("viewport", {"width": 1000, "height": 800})
        options.setdefault("locale", "en-GB")
        context = chromium.new_context(java_script_enabled=javascript, **options)
        context.set_default_timeout(15_000)
        if not javascript:
            SCRIPTLESS.add(context)
        made.append(context)
        return context

    yield make
    failed = request.node.stash.get(_FAILED, False)
    for i, context in enumerate(made):
        if failed:
            for j, page in enumerate(context.pages):
                failure_screenshot(request.node.name, f"context{i}-page{j}", page)
        context.close()


@pytest.fixture(scope="module")
def sealbox(tmp_path_factory: pytest.TempPathFactory, playwright_driver: Any) -> Iterator[Sealbox]:
    """A fresh, migrated instance for this test module; each app starts on first use."""
    instance = tmp_path_factory.mktemp("sealbox") / "instance"
    init_instance(instance)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALBOX_")}
    env.update(FAST_KDF_ENV, SEALBOX_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1")
    logs = instance.parent / "logs"
    logs.mkdir()
    box = Sealbox(instance, env, logs)
    store = Store(box.settings)
    store.migrate()
    store.dispose()
    try:
        yield box
    finally:
        box.stop()


_AUDITED: list[str] = []


@pytest.fixture(scope="session")
def audit(chromium: Any) -> Iterator[Audit]:
    auditor = Audit(chromium)
    auditor.audited = _AUDITED
    try:
        yield auditor
    finally:
        auditor.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "axe-audited-pages.txt").write_text("\n".join(_AUDITED) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _AUDITED:
        terminalreporter.write_line(
            f"axe-core ({', '.join(AXE_TAGS)}): {len(_AUDITED)} page states audited without "
            f"violations; list in {ARTIFACTS.relative_to(ROOT)}/axe-audited-pages.txt"
        )


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


@pytest.fixture
def evidence(tmp_path: Path) -> list[Path]:
    return sample_files(tmp_path)
