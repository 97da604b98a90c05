"""The six UN languages in a real browser, JavaScript off: every page says its language and
direction (right-to-left for Arabic), the visible switch keeps the reporter on the same page
without a cookie, / follows Accept-Language, error messages, receipt instructions and
status words are translated, and a receipt typed in Arabic-Indic or full-width digits opens
the report. The caseworker app works in French."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browserkit import UI_LANGUAGES, Audit, Sealbox, Shots, read_receipt, t, totp_code

pytestmark = pytest.mark.browser

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789 ", "０１２３４５６７８９\u3000")
MALFORMED = ("A receipt has 28 digits, usually written in 7 groups of 4. Check that you entered "
             "all of them, and only digits.")
TYPO = ("One digit is wrong somewhere, or two digits next to each other are swapped: the "
        "check cannot tell which group. Compare each of the 7 groups with your paper, digit "
        "by digit, and try again.")
RECEIVED = "Your report has arrived. Nobody has confirmed reading it yet."
WRITE_IT_DOWN = "Write it down on paper now, and check each digit."




def test_every_language_says_what_it_is(sealbox: Sealbox, new_context: Any, audit: Audit) -> None:
    context = new_context()
    page = context.new_page()
    for lang in UI_LANGUAGES:
        if lang == "en":
            page.goto(f"{sealbox.intake}/en/")
        else:  # through the visible switch
            page.locator(f".languages a[hreflang={lang}]").click()
            assert page.url == f"{sealbox.intake}/{lang}/"
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading == t(lang, "Report wrongdoing safely")
        audit.check(page, f"landing ({lang})", lang=lang)
        # Each language's name is marked up in its own language and direction.
        for code in UI_LANGUAGES:
            item = page.locator(f".languages [lang={code}]")
            assert item.get_attribute("dir") == ("rtl" if code == "ar" else "ltr")
    assert context.cookies() == [], "choosing a language must not set a cookie"
    # The switch keeps the page and every character typed: on the form it is a button of the
    # form, from the English form to the Arabic one, and on the review page the same.
    page.goto(f"{sealbox.intake}/en/report/")
    page.get_by_label("What happened?").fill("The mayor's brother won every tender.")
    page.get_by_role("button", name="العربية").click()
    assert page.url == f"{sealbox.intake}/ar/report/"
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("heading", level=1).inner_text() == t("ar", "Make a report")
    assert page.get_by_label(t("ar", "What happened?")).input_value() == (
        "The mayor's brother won every tender.")
    page.get_by_role("button", name=t("ar", "Continue: check your report")).click()
    assert page.get_by_role("heading", level=1).inner_text() == t("ar", "Check your report")
    page.get_by_role("button", name="中文").click()
    assert page.get_by_role("heading", level=1).inner_text() == t("zh", "Check your report")
    assert "The mayor's brother won every tender." in page.locator("main").inner_text()


@pytest.mark.parametrize(("locale", "lang"), [("fr-CA", "fr"), ("ar-EG", "ar"), ("zh-CN", "zh"),
                                              ("ru-RU", "ru"), ("es-MX", "es"), ("de-DE", "en")])
def test_home_follows_accept_language(
    sealbox: Sealbox, new_context: Any, locale: str, lang: str
) -> None:
    page = new_context(locale=locale).new_page()  # the browser's Accept-Language
    page.goto(sealbox.intake + "/")
    assert page.url == f"{sealbox.intake}/{lang}/"
    assert page.locator("html").get_attribute("lang") == lang


@pytest.mark.parametrize("lang", UI_LANGUAGES)
def test_errors_are_translated(sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots,
                               lang: str) -> None:
    page = new_context().new_page()
    page.goto(f"{sealbox.intake}/{lang}/report/")
    page.locator("form button[type=submit]").click()
    summary = page.locator("#error-summary")
    assert t(lang, "There is a problem") in summary.inner_text()
    assert t(lang, "Describe what happened. This is the only part of the form you must fill in.") \
        in page.locator(".error-message").first.inner_text()
    audit.check(page, f"report form with an error ({lang})", lang=lang)
    shots(page, "report-form-error")

    page.goto(f"{sealbox.intake}/{lang}/followup/")
    page.locator("input[name=receipt]").fill("1234 5678")
    page.locator("form button[type=submit]").click()
    assert t(lang, MALFORMED) in summary.inner_text()
    audit.check(page, f"follow-up sign-in with an error ({lang})", lang=lang)

    page.goto(f"{sealbox.intake}/{lang}/no-such-page")
    assert page.get_by_role("heading", level=1).inner_text() == t(lang, "Page not found")
    audit.check(page, f"not found ({lang})", lang=lang)


def _report(page: Any, base: str, lang: str, text: str, evidence: Path, shots: Shots) -> str:
    page.goto(f"{base}/{lang}/report/")
    page.get_by_label(t(lang, "What happened?")).fill(text)
    page.locator("form button[type=submit]").click()
    page.locator("input[type=file]").set_input_files([str(evidence)])
    page.get_by_role("button", name=t(lang, "Send my report")).click()
    receipt = read_receipt(page)
    assert t(lang, WRITE_IT_DOWN) in page.locator("main").inner_text()
    shots(page, "receipt")
    return receipt


def test_arabic_report_and_arabic_indic_receipt(
    sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots, evidence: list[Path]
) -> None:
    sealbox.add_caseworker("alice")
    page = new_context().new_page()
    text = "المدير يتقاضى رشاوى من مقاول الطرق."
    receipt = _report(page, sealbox.intake, "ar", text, evidence[0], shots)
    # The receipt itself stays left-to-right ASCII digits inside the right-to-left page.
    code = page.locator(".receipt-code")
    assert code.get_attribute("dir") == "ltr" and code.inner_text().replace(" ", "").isascii()
    # Numbered 1 to 7, left to right, so a copy by hand cannot reverse them.
    numbers = code.locator(".receipt-number").all_inner_texts()
    assert numbers == [str(n) for n in range(1, 8)]
    boxes = [n.bounding_box() for n in code.locator(".receipt-number").all()]
    places = [(round(b["y"]), b["x"]) for b in boxes if b is not None]  # lines, then left to right
    assert len(places) == 7 and places == sorted(places)
    audit.check(page, "receipt (ar)", lang="ar")

    page.goto(f"{sealbox.intake}/ar/followup/")
    typed = receipt.translate(ARABIC_INDIC)  # as an Arabic phone keyboard types it
    typo = typed[:-1] + ("١" if typed[-1] != "١" else "٢")
    field = page.get_by_label(t("ar", "Your receipt"))
    field.fill(typo)
    page.get_by_role("button", name=t("ar", "Open my report")).click()
    assert t("ar", TYPO) in page.locator("#error-summary").inner_text()
    assert field.input_value() == typo  # kept, in plain sight, to correct one digit
    assert field.get_attribute("type") == "text"
    audit.check(page, "receipt typo (ar)", lang="ar")
    shots(page, "receipt-typo")
    field.fill(typed)
    page.get_by_role("button", name=t("ar", "Open my report")).click()
    assert page.url.endswith("/ar/followup/case")
    main = page.locator("main").inner_text()
    assert t("ar", RECEIVED) in main
    assert "المدير يتقاضى رشاوى" in main
    size = page.locator("ul.files .file-meta").first.inner_text()  # in Arabic, not "54 Bytes"
    assert "بايت" in size and "Byte" not in size and "KB" not in size, size
    audit.check(page, "follow-up case (ar)", lang="ar")
    shots(page, "follow-up")

    # The caseworker sees the language the report was written in (sealed inside it).
    alice = sealbox.add_caseworker("alice")
    staff = new_context().new_page()
    staff.goto(sealbox.caseworker + "/login")
    staff.get_by_label("Username").fill(alice.username)
    staff.get_by_label("Passphrase").fill(alice.passphrase)
    staff.get_by_role("button", name="Continue").click()
    staff.get_by_label("Six-digit code").fill(totp_code(alice.totp_secret))
    staff.get_by_role("button", name="Sign in").click()
    staff.locator("table.cases tbody tr").first.get_by_role("link").first.click()
    assert "Written in: العربية (ar)" in staff.locator("main").inner_text()


def test_chinese_full_width_receipt(
    sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots, evidence: list[Path]
) -> None:
    sealbox.add_caseworker("alice")
    page = new_context(locale="zh-CN").new_page()
    text = "采购负责人收受道路承包商的回扣。"
    receipt = _report(page, sealbox.intake, "zh", text, evidence[1], shots)
    page.goto(f"{sealbox.intake}/zh/followup/")
    page.get_by_label(t("zh", "Your receipt")).fill(receipt.translate(FULL_WIDTH))
    page.get_by_role("button", name=t("zh", "Open my report")).click()
    assert page.url.endswith("/zh/followup/case")
    assert t("zh", RECEIVED) in page.locator("main").inner_text()
    audit.check(page, "follow-up case (zh)", lang="zh")
    page.get_by_role("button", name=t("zh", "Log out")).click()
    assert page.get_by_role("heading", level=1).inner_text() == t("zh", "You are logged out")


def test_caseworker_in_french(
    sealbox: Sealbox, new_context: Any, audit: Audit, shots: Shots
) -> None:
    dora = sealbox.add_caseworker("dora", language="fr")  # signed in: the account's language
    page = new_context(javascript=True, locale="fr-FR").new_page()  # before: Accept-Language
    page.goto(sealbox.caseworker + "/login")
    assert page.get_by_role("heading", level=1).inner_text() == t("fr", "Sign in", app="caseworker")
    audit.check(page, "caseworker sign-in (fr)", lang="fr")
    page.get_by_label(t("fr", "Username", app="caseworker")).fill(dora.username)
    page.get_by_label(t("fr", "Passphrase", app="caseworker")).fill("pas la bonne phrase")
    page.get_by_role("button", name=t("fr", "Continue", app="caseworker")).click()
    wrong = t("fr", "The username or passphrase is not right.", app="caseworker")
    assert page.get_by_role("alert").inner_text() == wrong
    page.get_by_label(t("fr", "Passphrase", app="caseworker")).fill(dora.passphrase)
    page.get_by_role("button", name=t("fr", "Continue", app="caseworker")).click()
    page.get_by_label(t("fr", "Six-digit code from your authenticator app", app="caseworker")).fill(
        totp_code(dora.totp_secret))
    page.get_by_role("button", name=t("fr", "Sign in", app="caseworker")).click()
    assert page.get_by_role("heading", level=1).inner_text() == t("fr", "Inbox", app="caseworker")
    audit.check(page, "inbox (fr)", lang="fr")
    page.goto(sealbox.caseworker + "/account")
    audit.check(page, "account (fr)", lang="fr")
    shots(page, "account-fr")
