"""Helpers for the real-browser tests (imported by tests/browser/conftest.py and the tests):
server processes, axe-core audits, TOTP codes, screenshots.

- Servers: ``python -m intake`` and ``python -m caseworker`` on free ports, on a fresh
  instance with cheap Argon2id; accounts are made through cases/ so tests know the TOTP secret.
- Audits: :meth:`Audit.check` runs axe-core (tags wcag2a, wcag2aa, wcag21a, wcag21aa,
  wcag22aa) and checks what axe cannot: ``lang``/``dir``, no CAPTCHA or third-party frame or
  resource, no clipboard blocking, password fields open to password managers (WCAG 3.3.8).
  A page rendered with JavaScript disabled (Tor Browser "Safest") cannot run axe (its timers
  never fire), so its DOM is re-served unchanged to a JavaScript-enabled auditor tab at the
  same URL (same style sheets, the app's own script blocked) and audited there.
- Screenshots of every step go to test-artifacts/browser/<test>/ (git-ignored); with
  SEALBOX_UPDATE_SCREENSHOTS=1 the README's pictures in docs/screenshots/ are refreshed.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from netkit import free_port

from config import load_settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SEALBOX_CHROMIUM", "/usr/bin/chromium"))  # Debian's package
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Only violations are reported back (passes and inapplicable rules are not serialised).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
FAST_KDF_ENV = {
    "SEALBOX_RECEIPT_KDF_OPSLIMIT": "1",
    "SEALBOX_RECEIPT_KDF_MEMLIMIT_MIB": "8",
    "SEALBOX_PASSPHRASE_KDF_OPSLIMIT": "1",
    "SEALBOX_PASSPHRASE_KDF_MEMLIMIT_MIB": "8",
}
PASSPHRASE = "correct horse battery staple"
UI_LANGUAGES = ("en", "ar", "es", "fr", "ru", "zh")
RTL = frozenset({"ar"})

SCRIPTLESS: weakref.WeakSet[Any] = weakref.WeakSet()  # contexts with JavaScript off


# -- the servers ------------------------------------------------------------------------

@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_until_up(server: Server, path: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(server.url + path, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers: up
        except OSError:
            time.sleep(0.1)
    server.stop()
    tail = server.log.read_text(errors="replace")[-3000:] if server.log.exists() else ""
    raise RuntimeError(f"the {server.name} server did not start on {server.url}:\n{tail}")


@dataclass
class Caseworker:
    id: int
    username: str
    passphrase: str
    totp_secret: str


@dataclass
class Sealbox:
    """A fresh instance with both apps running as real servers."""

    instance: Path
    env: dict[str, str]
    logs: Path
    servers: dict[str, Server] = field(default_factory=dict)
    accounts: dict[str, Caseworker] = field(default_factory=dict)

    @property
    def settings(self) -> Any:
        return load_settings(environ=self.env, instance_path=self.instance)

    def start(self, app: str, command: list[str] | None = None) -> Server:
        """``python -m <app>`` on a free port (or ``command``, given the same ``--host`` and
        ``--port``), once: later calls return the running server."""
        if app in self.servers:
            return self.servers[app]
        port = free_port()
        log = self.logs / f"{app}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [*(command or [sys.executable, "-m", app]),
                 "--host", "127.0.0.1", "--port", str(port)],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )
        server = Server(app, f"http://127.0.0.1:{port}", process, log)
        _wait_until_up(server, "/en/" if app == "intake" else "/login")
        self.servers[app] = server
        return server

    @property
    def intake(self) -> str:
        return self.start("intake").url

    @property
    def caseworker(self) -> str:
        return self.start("caseworker").url

    def add_caseworker(
        self, username: str, *, enrolled: bool = True, language: str = "en", **roles: bool
    ) -> Caseworker:
        """An account made through cases/, with TOTP set up (the test knows the secret).
        Asking again for the same username returns the account made before."""
        if username in self.accounts:
            return self.accounts[username]
        from cases.accounts.enrolment import create_caseworker
        from cases.accounts.twofactor import new_totp_secret, seal_totp_secret
        from cases.store import Store

        settings = self.settings
        store = Store(settings)
        try:
            secret = new_totp_secret()
            with store.transaction() as db:
                account = create_caseworker(db, settings, username, PASSPHRASE, **roles)
                if enrolled:
                    account.totp_secret_enc = seal_totp_secret(
                        settings.server_key, account.id, secret
                    )
                account.language = language
                account_id = account.id
        finally:
            store.dispose()
        self.accounts[username] = Caseworker(account_id, username, PASSPHRASE, secret)
        return self.accounts[username]

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


def require_browser_libraries() -> None:
    """Skip (fail under SEALBOX_REQUIRE_BROWSER) where ``make browser-crypto`` has not
    built the libraries the intake serves to browsers (it needs npm)."""
    import pytest

    vendor = ROOT / "intake/static/vendor"
    if all((vendor / name).exists() for name in ("libsodium-wrappers.mjs", "libphonenumber.mjs")):
        return
    if os.environ.get("SEALBOX_REQUIRE_BROWSER"):
        pytest.fail("the browser's libraries are not built: make browser-crypto")
    pytest.skip("the browser's libraries are not built (make browser-crypto needs npm)")


# -- TOTP --------------------------------------------------------------------------------

_last_counter: dict[str, int] = {}


def totp_code(secret: str) -> str:
    """A code the server has not accepted yet: codes one step either side of now are valid,
    and each accepted step must be newer than the last (no replay)."""
    import pyotp

    while True:
        now = int(time.time()) // 30
        counter = max(now, _last_counter.get(secret, 0) + 1)
        if counter <= now + 1:
            _last_counter[secret] = counter
            return str(pyotp.TOTP(secret).generate_otp(counter))
        time.sleep(1)


def remember_enrolment(secret: str) -> None:
    """An enrolment just used the current step: the next sign-in needs a newer one."""
    _last_counter[secret] = int(time.time()) // 30 + 1


# -- audits ------------------------------------------------------------------------------

# What axe cannot see. Run in the page; returns a list of problems (strings).
PAGE_CHECKS = r"""
() => {
  const problems = [];
  const html = document.documentElement;
  const lang = html.getAttribute('lang') || '';
  const dir = html.getAttribute('dir') || '';
  if (!lang) problems.push('<html> has no lang');
  if (!['ltr', 'rtl'].includes(dir)) problems.push(`<html> has no dir (${dir})`);
  const captcha = 'iframe, [class*=captcha i], [id*=captcha i], [name*=captcha i]';
  for (const el of document.querySelectorAll(captcha)) {
    problems.push('possible CAPTCHA or third-party frame: ' + el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll('[onpaste], [oncopy], [oncut], [ondrop]')) {
    problems.push('clipboard blocked by an inline handler: ' + el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll('input[type=password]')) {
    const ac = (el.getAttribute('autocomplete') || '').toLowerCase();
    const formOff = el.form && (el.form.getAttribute('autocomplete') || '').toLowerCase() === 'off';
    if (ac === 'off' || (formOff && !ac)) {
      problems.push('password field closed to password managers: ' + el.outerHTML.slice(0, 120));
    }
  }
  const seen = new Set();
  for (const el of document.querySelectorAll('[id]')) {
    if (seen.has(el.id)) problems.push(`duplicate id ${el.id}: a label may name another control`);
    seen.add(el.id);
  }
  for (const label of document.querySelectorAll('label[for]')) {
    if (!label.control) problems.push('label of no control: ' + label.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll('script[src], link[href], img[src], form[action]')) {
    const url = el.src || el.href || el.action;
    if (url && !url.startsWith('data:') && new URL(url, location.href).origin !== location.origin) {
      problems.push('third-party resource: ' + url);
    }
  }
  return problems;
}
"""


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        tags = ", ".join(t for t in v["tags"] if t.startswith("wcag"))
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} [{tags}]")
        for node in v["nodes"][:8]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


class Audit:
    """axe-core plus the page checks, for pages with or without JavaScript."""

    def __init__(self, chromium: Any) -> None:
        import axe_playwright_python

        self.axe_source = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
        self.chromium = chromium
        self._tab: Any = None
        self._served: dict[str, str] = {}
        self.audited: list[str] = []

    def close(self) -> None:
        if self._tab is not None:
            self._tab.context.close()

    def _run(self, page: Any) -> tuple[list[dict[str, Any]], list[str]]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.axe_source)
        result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        return result["violations"], page.evaluate(PAGE_CHECKS)

    def check(self, page: Any, name: str, *, lang: str | None = None) -> None:
        """Assert zero axe violations and no page problems; ``lang`` is the expected UI
        language (dir must be rtl exactly for right-to-left languages)."""
        if page.context in SCRIPTLESS:
            violations, problems = self._audit_copy(page)
        else:
            violations, problems = self._run(page)
        html = page.locator("html")
        page_lang, page_dir = html.get_attribute("lang"), html.get_attribute("dir")
        if lang is not None:
            if page_lang != lang:
                problems.append(f"lang is {page_lang!r}, expected {lang!r}")
            expected_dir = "rtl" if lang in RTL else "ltr"
            if page_dir != expected_dir:
                problems.append(f"dir is {page_dir!r}, expected {expected_dir!r} for {lang}")
        message = ""
        if violations:
            message += f"axe found {len(violations)} WCAG violation(s) on {name} ({page.url}):\n"
            message += format_violations(violations) + "\n"
        if problems:
            message += f"page checks failed on {name} ({page.url}):\n"
            message += "\n".join(f"- {p}" for p in problems)
        assert not message, message
        self.audited.append(f"{name}: {page.url}")

    def _auditor_tab(self) -> Any:
        if self._tab is None:
            context = self.chromium.new_context(java_script_enabled=True)
            context.add_init_script(script=self.axe_source)
            context.route("**/*", self._serve)
            self._tab = context.new_page()
        return self._tab

    def _serve(self, route: Any) -> None:
        request = route.request
        html = self._served.get(request.url.split("#")[0])
        if html is not None and request.resource_type == "document":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif request.resource_type == "script":
            route.abort()  # the page as a browser without JavaScript has it
        else:
            route.continue_()

    def _audit_copy(self, page: Any) -> tuple[list[dict[str, Any]], list[str]]:
        """The page's DOM, as the no-JavaScript browser has it, re-served at its URL to a
        JavaScript-enabled tab (same style sheets; the app's script blocked)."""
        url = page.url.split("#")[0]
        self._served = {url: page.content()}
        tab = self._auditor_tab()
        viewport = page.viewport_size
        if viewport and viewport != tab.viewport_size:
            tab.set_viewport_size(viewport)
        tab.goto(url)
        return self._run(tab)


def horizontal_overflow(page: Any) -> int:
    """CSS pixels the page scrolls sideways (0 = reflows). Works with JavaScript off: the
    measurement runs in Playwright's isolated world."""
    return int(page.locator("html").evaluate("e => e.scrollWidth - e.clientWidth"))


# -- screenshots -------------------------------------------------------------------------

class Shots:
    """Numbered full-page screenshots of a test's steps, under test-artifacts/browser/."""

    def __init__(self, test_name: str) -> None:
        self.dir = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.png"):
            old.unlink()
        self.n = 0

    def __call__(self, page: Any, step: str, *, docs: str | None = None) -> Path:
        self.n += 1
        path = self.dir / f"{self.n:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '-', step)}.png"
        page.screenshot(path=str(path), full_page=True)
        if docs and os.environ.get("SEALBOX_UPDATE_SCREENSHOTS"):
            save_docs_screenshot(page, docs)
        return path


def failure_screenshot(test_name: str, label: str, page: Any) -> None:
    """Best effort: the page as it was when the test failed."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(folder / f"FAILED-{label}.png"), full_page=True, timeout=5000)
    except Exception as exc:  # the page may be gone; the test's own error matters more
        print(f"no failure screenshot of {label}: {exc.__class__.__name__}")


def save_docs_screenshot(page: Any, name: str, max_height: int = 1300) -> None:
    """A small PNG for the README: the top of the page, 1000 px wide, 128 colours."""
    from PIL import Image

    png = page.screenshot(full_page=True, animations="disabled")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.height > max_height:
        image = image.crop((0, 0, image.width, max_height))
    if image.width > 1000:
        size = (1000, round(image.height * 1000 / image.width))
        image = image.resize(size, Image.Resampling.LANCZOS)
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
        DOCS_SCREENSHOTS / f"{name}.png", optimize=True
    )


# -- small helpers shared by the tests -----------------------------------------------------

RECEIPT_RE = re.compile(r"^[0-9]{4}( [0-9]{4}){6}$")


def read_receipt(page: Any) -> str:
    """The receipt as shown (7 groups of 4 digits), read from the page like a person would."""
    groups = page.locator(".receipt-code .receipt-digits").all_inner_texts()
    receipt = " ".join(g.strip() for g in groups)
    assert RECEIPT_RE.match(receipt), receipt
    return receipt


def sample_files(tmp_path: Path) -> list[Path]:
    """Two small evidence files (a text file and a PNG)."""
    notes = tmp_path / "meeting-notes.txt"
    notes.write_text("Payment of 40 000 to the road contractor, approved without tender.\n")
    png = tmp_path / "invoice-photo.png"
    png.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a1f5b0ed"
            "0000000049454e44ae426082"
        )
    )
    return [notes, png]


@cache
def _catalogue(app: str, lang: str) -> dict[str, Any]:
    path = ROOT / app / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id and isinstance(m.id, str)}


def t(lang: str, msgid: str, app: str = "intake", **values: Any) -> str:
    """The text a page in ``lang`` shows for ``msgid`` (as the catalogue has it)."""
    text = _catalogue(app, lang).get(msgid) or msgid
    return text % values if values else text
