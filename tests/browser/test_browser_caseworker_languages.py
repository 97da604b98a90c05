"""The back office in each of the six UN languages, in a real browser: a caseworker whose
account speaks the language signs in, records an oral report, opens every tab of the case,
sees a form's errors and visits the account, search and administration pages. Every page
state passes axe with zero violations, says its language and direction (right-to-left for
Arabic, with nothing wider than the window), shows the texts of that language's catalogue,
and writes dates as that language does."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from babel.dates import format_date
from babel.support import Translations
from browserkit import (
    ROOT,
    RTL,
    UI_LANGUAGES,
    Audit,
    Sealbox,
    Shots,
    horizontal_overflow,
    t,
    totp_code,
)

pytestmark = pytest.mark.browser

PAGES = ("/account", "/account/security-keys", "/account/hand-over", "/search",
         "/admin", "/admin/caseworkers", "/admin/categories", "/admin/questions",
         "/admin/policy", "/admin/retention", "/admin/dashboard", "/admin/audit",
         "/admin/reply-templates", "/identity-requests")


def cw(lang: str, msgid: str, **values: Any) -> str:
    return t(lang, msgid, app="caseworker", **values)


def _ngettext(lang: str, singular: str, plural: str, num: int) -> str:
    """A sentence with a number as the app's compiled catalogue words it."""
    found = Translations.load(str(ROOT / "caseworker" / "translations"), [lang])
    return found.ngettext(singular, plural, num).replace("%(num)d", str(num))


def _sign_in(page: Any, base: str, lang: str, person: Any) -> None:
    page.goto(base + "/login")
    assert page.get_by_role("heading", level=1).inner_text() == cw(lang, "Sign in")
    page.get_by_label(cw(lang, "Username")).fill(person.username)
    page.get_by_label(cw(lang, "Passphrase")).fill(person.passphrase)
    page.get_by_role("button", name=cw(lang, "Continue")).click()
    page.get_by_label(cw(lang, "Six-digit code from your authenticator app")).fill(
        totp_code(person.totp_secret))
    page.get_by_role("button", name=cw(lang, "Sign in")).click()
    assert page.get_by_role("heading", level=1).inner_text() == cw(lang, "Inbox")


def _record_oral_report(page: Any, base: str, lang: str, audit: Audit) -> None:
    page.goto(base + "/cases/new-oral")
    page.get_by_role("button", name=cw(lang, "Register the report")).click()  # empty
    assert page.get_by_role("alert").first.is_visible()
    audit.check(page, f"oral report form with errors ({lang})", lang=lang)
    page.get_by_label(cw(lang, "Minutes or transcript")).fill(f"Minutes taken in {lang}.")
    page.get_by_label(cw(lang, "Date of the call or meeting")).fill("2026-11-20")
    page.get_by_role("button", name=cw(lang, "Register the report")).click()
    assert page.get_by_role("heading", level=1).inner_text() == cw(lang, "The report is registered")
    audit.check(page, f"oral report receipt ({lang})", lang=lang)
    page.get_by_role("link", name=cw(lang, "I have handed over the receipt: open the case")).click()


def _check_layout(page: Any, lang: str, name: str) -> None:
    if lang in RTL:
        assert horizontal_overflow(page) == 0, f"{name} ({lang}) is wider than the window"


@pytest.mark.parametrize("lang", UI_LANGUAGES)
def test_the_back_office_in_each_language(
    sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots, lang: str
) -> None:
    person = sealbox.add_caseworker(f"staff-{lang}", language=lang, admin=True, custodian=True)
    page = new_context(javascript=True, locale=lang,  # before sign-in: Accept-Language
                       viewport={"width": 1280, "height": 900}).new_page()
    base = sealbox.caseworker
    _sign_in(page, base, lang, person)
    audit.check(page, f"inbox ({lang})", lang=lang)

    _record_oral_report(page, base, lang, audit)
    assert f"Minutes taken in {lang}." in page.locator("main").inner_text()
    # Dates follow the language: the case was received today.
    today = format_date(dt.date.today(), "medium", locale=lang)
    assert today in page.locator("main").inner_text()
    for title in ("Report and messages", "Triage and risk", "People and access",
                  "History and export"):
        page.get_by_role("navigation", name=cw(lang, "Sections of this case")).get_by_role(
            "link", name=cw(lang, title)).click()
        assert page.get_by_role("link", name=cw(lang, title)).get_attribute(
            "aria-current") == "page"
        audit.check(page, f"case, {title} ({lang})", lang=lang)
        _check_layout(page, lang, title)
    shots(page, f"case-history-{lang}")
    case_url = page.url.removesuffix("/history")
    page.goto(case_url + "/conflict")  # the confirmation page, nothing declared yet
    audit.check(page, f"conflict of interest ({lang})", lang=lang)

    page.goto(base + "/")
    page.get_by_label(cw(lang, "Search the content of your cases")).fill(f"taken in {lang}")
    page.get_by_role("button", name=cw(lang, "Search")).click()
    one_match = _ngettext(lang, "%(num)d case of %(all)d matches.",
                          "%(num)d cases of %(all)d match.", 1) % {"all": 1}
    assert one_match in page.locator("main").inner_text()
    audit.check(page, f"search results ({lang})", lang=lang)

    page.goto(base + "/")
    assert cw(lang, "Next deadline") in page.locator("main").inner_text()
    audit.check(page, f"inbox with a case ({lang})", lang=lang)
    _check_layout(page, lang, "inbox")
    shots(page, f"inbox-{lang}", docs="caseworker-inbox-ar" if lang == "ar" else None)
    for path in PAGES:
        page.goto(base + path)
        audit.check(page, f"{path} ({lang})", lang=lang)
        _check_layout(page, lang, path)
