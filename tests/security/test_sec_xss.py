"""HTML/JS payloads in every field a reporter fills are rendered inert: in the caseworker's
case view, identity view, inbox and the reporter's own follow-up page.

"Inert" is checked on the parsed page, not by string search alone: the only <script>
elements are the app's own external files, no element carries an on* handler attribute or
a javascript: URL that the app did not write, the payload text shows up escaped, a
template expression is not evaluated, and the CSP forbids inline script anyway.
"""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest
from secapp import FlaskHTTP, Reporter, signed_in_caseworker
from sqlalchemy import select

from cases.models import Case
from cases.store import Store

PAYLOADS = [
    '<script>alert("sbx1")</script>',
    '"><img src=x onerror=alert("sbx2")>',
    "'><svg/onload=alert('sbx3')>",
    "javascript:alert('sbx4')",
    "</textarea><script>alert('sbx5')</script>",
    "{{ 12345*3 }}{% print(54321*3) %}",  # 37035 / 162963 if a template evaluated it
    '<a href="javascript:alert(\'sbx6\')">click</a>',
    "<iframe src=//evil.example></iframe><style>*{display:none}</style>",
]
ALL = " | ".join(PAYLOADS)
GENEROUS = {"submissions_per_hour_per_client": 1000, "lookups_per_hour_per_client": 1000}


class Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str]] = []
        self.handlers: list[tuple[str, str, str]] = []
        self.js_urls: list[tuple[str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        self.tags.add(tag)
        if tag == "script":
            self.scripts.append(a)
        for k, v in a.items():
            if k.startswith("on"):
                self.handlers.append((tag, k, v))
            if k in ("href", "src", "action", "formaction") and \
                    v.strip().lower().startswith("javascript:"):
                self.js_urls.append((tag, v))


def assert_inert(html: str, headers: Any, where: str) -> None:
    page = Inspector()
    page.feed(html)
    for script in page.scripts:
        assert script.get("src", "").startswith("/static/"), (where, script)
    assert not page.handlers, (where, page.handlers)
    assert not page.js_urls, (where, page.js_urls)
    assert not page.tags & {"iframe", "svg", "img"}, (where, page.tags)
    assert "37035" not in html and "162963" not in html, f"{where}: a template evaluated input"
    assert "&lt;script&gt;alert(" in html, f"{where}: the payload is not shown escaped"
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, where


@pytest.fixture
def apps(store: Store) -> tuple[Any, Any, Store]:
    from caseworker import create_app as caseworker_app
    from intake import create_app as intake_app

    s = Store(replace(store.settings, **GENEROUS), engine=store.engine)
    cw = caseworker_app(s.settings, s)
    cw.config["TESTING"] = True
    return intake_app(s.settings, s), cw, s


def test_payloads_in_every_field_are_inert_everywhere(apps: tuple[Any, Any, Store]) -> None:
    intake, cw_app, s = apps
    cw, _ = signed_in_caseworker(s, cw_app, "alice", custodian=True)
    reporter = Reporter(FlaskHTTP(intake.test_client()))
    fields = {"description": ALL, "q_when": PAYLOADS[1], "q_where": PAYLOADS[2],
              "q_who": ALL, "q_how_known": ALL, "identity_name": PAYLOADS[0],
              "identity_contact": PAYLOADS[3], "identity_other": ALL}
    review = reporter.review(fields)
    assert_inert(review.text, review.headers, "intake review page")
    markup_files = [(p.replace("/", "_")[:100] + ".html", b"<script>x</script>")
                    for p in PAYLOADS[:4]]
    sent = reporter.send(review, files=markup_files)
    assert sent.status == 200 and sent.receipt, sent.text[:2000]
    assert reporter.login(sent.receipt).status == 303
    assert reporter.message(ALL).status == 303
    page = reporter.case_page()
    assert_inert(page.text, page.headers, "reporter follow-up page")

    with s.transaction() as db:
        case_id = db.scalar(select(Case.id))
    view = cw.get(f"/cases/{case_id}")
    assert view.status_code == 200
    html = view.get_data(as_text=True)
    assert "sbx1" in html  # the report is shown ...
    assert_inert(html, view.headers, "caseworker case view")  # ... and inert
    inbox = cw.get("/")
    assert_inert_or_absent(inbox.get_data(as_text=True), inbox.headers, "caseworker inbox")
    identity = cw.get(f"/cases/{case_id}/identity")
    if identity.status_code == 200:
        assert_inert(identity.get_data(as_text=True), identity.headers, "identity view")
    # Attachments named like markup download as opaque files, never as pages.
    import re

    for link in re.findall(rf'href="(/cases/{case_id}/attachments/[0-9a-f]+)"', html):
        r = cw.get(link)
        assert r.status_code == 200
        assert r.mimetype == "application/octet-stream"
        assert r.headers["Content-Disposition"].startswith("attachment")
        assert r.headers["X-Content-Type-Options"] == "nosniff"


def assert_inert_or_absent(html: str, headers: Any, where: str) -> None:
    if "sbx" in html:
        assert_inert(html, headers, where)
    else:
        page = Inspector()
        page.feed(html)
        assert not page.handlers and not page.js_urls, where
