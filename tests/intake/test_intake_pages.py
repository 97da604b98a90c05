"""Pages: headers, cookies, languages, weight, no third-party resources, JavaScript-free."""

from __future__ import annotations

import re

import pytest

from config.http import CONTENT_SECURITY_POLICY, SEALING_CONTENT_SECURITY_POLICY

PAGE_LIMIT = 100 * 1024


def test_root_redirects_by_accept_language_without_cookie(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/", headers={"Accept-Language": "ar;q=0.9, en;q=0.5"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/ar/")
    assert "Accept-Language" in response.headers["Vary"]
    assert "Set-Cookie" not in response.headers
    assert client.get("/", headers={"Accept-Language": "de"}).headers["Location"].endswith("/en/")


@pytest.mark.parametrize(
    "path", ["/", "/en/", "/ar/", "/en/no-such-page", "/static/intake.css", "/xx/"]
)
def test_no_cookie_before_a_report_or_follow_up_starts(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("sealbox") is None


@pytest.mark.parametrize("path", ["/en/report/", "/en/followup/"])
def test_forms_set_a_strict_session_cookie(client, path: str) -> None:  # type: ignore[no-untyped-def]
    cookie = client.get(path).headers["Set-Cookie"]
    assert cookie.startswith("sealbox=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert (
        "Expires" not in cookie and "Max-Age" not in cookie
    )  # a session cookie: gone with the browser
    assert "Secure" not in cookie  # plain HTTP in this test: see the HTTPS test


def test_cookie_is_secure_and_host_prefixed_over_https(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(require_https_cookies=True)
    response = app.test_client().get("/en/report/", base_url="https://intake.example")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-sealbox=") and "Secure" in cookie
    assert "max-age=63072000" in response.headers["Strict-Transport-Security"]


@pytest.mark.parametrize("path", ["/en/", "/en/report/", "/en/nowhere", "/static/intake.css", "/"])
def test_security_headers_everywhere(client, path: str) -> None:  # type: ignore[no-untyped-def]
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    # The report form seals in the browser: libsodium's WebAssembly, and nothing else more.
    seals = path == "/en/report/"
    assert csp == (SEALING_CONTENT_SECURITY_POLICY if seals else CONTENT_SECURITY_POLICY)
    assert ("'wasm-unsafe-eval'" in csp) == seals
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    assert (
        "camera=()" in headers["Permissions-Policy"]
        and "geolocation=()" in headers["Permissions-Policy"]
    )
    assert "microphone=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in headers["Cache-Control"]
    assert "Server" not in headers


def test_language_prefix_sets_lang_and_direction(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/ar/").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert '<html lang="en" dir="ltr">' in client.get("/en/").get_data(as_text=True)
    # A visible switch to every language, each named in its own language, same page (on the
    # report form a button of the form, so what was typed goes along).
    page = client.get("/fr/followup/").get_data(as_text=True)
    for code, name in (
        ("en", "English"),
        ("ar", "العربية"),
        ("zh", "中文"),
        ("ru", "Русский"),
        ("es", "Español"),
    ):
        assert f'href="/{code}/followup/" hreflang="{code}" lang="{code}"' in page
        assert name in page
    assert 'aria-current="page" lang="fr"' in page
    form = client.get("/fr/report/").get_data(as_text=True)
    for code in ("en", "ar", "zh", "ru", "es"):
        assert (f'form="report-form" formaction="/{code}/report/" '
                'formenctype="application/x-www-form-urlencoded"') in form


def test_unknown_language_is_not_found(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/xx/").status_code == 404
    assert client.get("/xx/report/").status_code == 404


def test_landing_page_tells_what_a_reporter_needs(client, store) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/en/").get_data(as_text=True)
    for text in (
        "What this service is for",
        "Who reads your report",
        "How we protect you, and the limits",
        "What to include, and what not to",
        "within 7 days",  # the configured deadlines
        "within 3 months",
        "Reporting to the authorities instead",
        "Confidential (ordinary browser).",
        'href="/en/report/"',
        'href="/en/followup/"',
    ):
        assert text in html, text


def test_onion_visitors_are_told_they_are_anonymous(make_app, accepted) -> None:  # type: ignore[no-untyped-def]
    onion = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz234567.onion"
    listen, connection = accepted  # a connection accepted on the onion listener
    app = make_app(onion_address=onion, onion_listen=listen)
    client = app.test_client()
    html = client.get(
        "/en/", base_url=f"http://{onion}", environ_base={"gunicorn.socket": connection}
    ).get_data(as_text=True)
    assert "Anonymous (Tor / onion address)." in html
    ordinary = client.get("/en/").get_data(as_text=True)
    assert "Confidential (ordinary browser)." in ordinary
    # The onion address is shown as plain text to copy, never as a link.
    assert onion in ordinary and f'href="http://{onion}' not in ordinary


def _assets(client, html: str) -> int:  # type: ignore[no-untyped-def]
    total = 0
    for ref in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        total += len(client.get(ref).data)
    return total


def test_every_page_is_light_and_self_contained(browser, store) -> None:  # type: ignore[no-untyped-def]
    client = browser.client
    pages = [client.get("/en/"), browser.open_form(), client.get("/en/followup/")]
    review = browser.review(q_when="yesterday")
    pages.append(review)
    receipt_page = browser.send(review, files=[("a.txt", b"a")])
    pages.append(receipt_page)
    browser.login(browser.receipt_of(receipt_page))
    pages.append(browser.case_page())
    pages.append(client.get("/en/followup/identity"))
    pages.append(client.get("/en/followup/retaliation"))
    pages.append(client.get("/en/missing"))
    for page in pages:
        html = page.get_data(as_text=True)
        assert len(page.data) + _assets(client, html) < PAGE_LIMIT
        # No third-party resource of any kind; no inline script or handler (CSP forbids them).
        # The one outside address is the quick exit's link: followed only when clicked,
        # with no referrer, it loads nothing into the page.
        exit_link = f'<a class="quick-exit" href="{store.settings.quick_exit_url}" rel="noreferrer"'
        assert html.count(exit_link) == 1, "every page has its quick exit"
        assert not re.search(r'(?:src|href|action)="(?:https?:)?//', html.replace(exit_link, ""))
        # A data block (type="application/json") is not run: the sealing pages' data.
        assert not re.search(r'<script(?![^>]*\b(?:src=|type="application/json"))', html)
        assert not re.search(r"\son[a-z]+=", html)
        assert "<img" not in html and "@import" not in html
    css = client.get("/static/intake.css").get_data(as_text=True)
    assert "url(" not in css and "@font-face" not in css
    # Logical properties only, so right-to-left layouts mirror correctly.
    assert not re.search(
        r"(margin|padding|border)-(left|right)|text-align:\s*(left|right)|float:", css
    )


def test_report_fields_have_autocomplete_off(browser) -> None:  # type: ignore[no-untyped-def]
    html = browser.open_form().get_data(as_text=True)
    fields = re.findall(r"<(?:input|textarea)\b[^>]*>", html)
    named = [f for f in fields if 'type="hidden"' not in f]
    assert named
    for tag in named:
        assert 'autocomplete="off"' in tag, tag
    assert '<form method="post" action="/en/report/review" autocomplete="off"' in html


def test_form_is_accessible_markup(browser) -> None:  # type: ignore[no-untyped-def]
    html = browser.open_form().get_data(as_text=True)
    # Every visible input has a label; groups have a legend.
    for field_id in re.findall(r'<(?:input|textarea)[^>]*\bid="([^"]+)"', html):
        if field_id == "website":
            continue
        assert f'for="{field_id}"' in html, field_id
    assert "<legend>" in html
    assert 'aria-describedby="description-hint"' in html
