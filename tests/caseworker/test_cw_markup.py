"""Markup checks on every page: unique ids, a label for every form control, lang and dir,
no inline script or style (a script only from the app's own /static/), and every POST form
carrying a CSRF token."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.labels: set[str] = set()
        self.controls: list[tuple[str, str]] = []
        self.forms: list[dict[str, str | None]] = []
        self.form_tokens: list[bool] = []
        self.inline: list[str] = []
        self.html_attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_attrs = a
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"] or "")
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append((tag, a.get("id") or ""))
        if tag == "form":
            self.forms.append(a)
            self.form_tokens.append(False)
        if (
            tag == "input"
            and a.get("type") == "hidden"
            and (a.get("name") or "").endswith("csrf_token")
        ):
            self.form_tokens[-1] = True
        inline_script = tag == "script" and not a.get("src")
        if inline_script or "style" in a or any(k.startswith("on") for k in a):
            self.inline.append(tag)
        if tag == "script" and not (a.get("src") or "").startswith("/static/"):
            self.inline.append("script from elsewhere")  # only the app's own files


def check(html: str) -> None:
    page = Page()
    page.feed(html)
    assert page.html_attrs.get("lang") and page.html_attrs.get("dir") in ("ltr", "rtl")
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates, duplicates
    unlabelled = [c for c in page.controls if not c[1] or c[1] not in page.labels]
    # Checkbox lists label each option with its own <label for>.
    assert not unlabelled, unlabelled
    assert not page.inline
    for form, token in zip(page.forms, page.form_tokens, strict=True):
        if (form.get("method") or "get").lower() == "post":
            assert token, form


@pytest.fixture
def everything(store, person, signed_in, h):  # type: ignore[no-untyped-def]
    root = person("root", admin=True, custodian=True)
    case_id, _ = h.submit(store, "report", files={"a.txt": b"x"}, identity={"name": "Jo"})
    return signed_in(root), case_id


def test_pages_are_well_formed(browser, store, everything) -> None:
    b, case_id = everything
    check(browser.get("/login").get_data(as_text=True))
    urls = [
        "/",
        "/?status=all",
        f"/cases/{case_id}",
        f"/cases/{case_id}/identity",
        "/cases/new-oral",
        "/account",
        "/identity-requests",
        "/admin",
        "/admin/caseworkers",
        "/admin/caseworkers/1",
        "/admin/categories",
        "/admin/questions",
        "/admin/policy",
        "/admin/audit",
        "/admin/retention",
        "/admin/dashboard",
    ]
    for url in urls:
        response = b.get(url)
        assert response.status_code == 200, url
        check(response.get_data(as_text=True))


def test_error_pages_are_well_formed(everything) -> None:
    b, _case_id = everything
    response = b.get("/no/such/page")
    assert response.status_code == 404
    check(response.get_data(as_text=True))
