"""Dates and times in the back office follow the caseworker's language (issue 14): the
audit log and the account page in French read as French dates, not ISO strings; and so do
numbers in sentences and the forms' own messages."""

from __future__ import annotations

import re

FRENCH_MOMENT = r"\d{1,2} [a-zéû]+\.? \d{4}(,| à) \d{2}:\d{2}:\d{2} UTC"


def test_the_audit_log_and_account_page_speak_the_caseworkers_language(person, signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in(person("admin", admin=True))
    assert admin.post("/account/language", {"language": "fr"}).status_code == 302
    audit = admin.get("/admin/audit").get_data(as_text=True)
    assert re.search(rf"<td>{FRENCH_MOMENT}</td>", audit), re.findall(r"<td>[^<]*UTC</td>", audit)
    assert not re.search(r"<td>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}</td>", audit)
    account = admin.get("/account").get_data(as_text=True)
    assert re.search(rf"<li>{FRENCH_MOMENT}: ", account)


def test_numbers_in_sentences_are_written_as_the_caseworkers_language_writes_them(
    store, person, signed_in
) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        store.set_policy(session, "retention_days_after_close", 1500)
    admin = signed_in(person("admin", admin=True))
    english = admin.get("/admin/retention").get_data(as_text=True)
    assert "deleted 1,500 days after closing" in english
    assert admin.post("/account/language", {"language": "fr"}).status_code == 302
    french = admin.get("/admin/retention").get_data(as_text=True)
    assert "supprimés 1\u202f500 jours après leur clôture" in french
    assert "1500" not in french.replace("1\u202f500", "")


def test_dates_kept_per_language_are_the_ones_babel_writes(store) -> None:  # type: ignore[no-untyped-def]
    """The back office keeps each date's words per language (caseworker._date_in): they
    must be Flask-Babel's, in whichever language is asked, one after another."""
    import datetime as dt

    from flask_babel import force_locale, format_date

    from caseworker import _fmt_date, create_app

    app = create_app(store.settings, store)
    days = [dt.date(2026, 1, 31), dt.date(2026, 12, 4), dt.date(2031, 2, 28)]
    with app.test_request_context("/"):
        for lang in ("fr", "ar", "zh", "en", "fr"):
            with force_locale(lang):
                for day in days:
                    assert _fmt_date(day) == format_date(day, "medium")
        assert _fmt_date(None) == "—"
        moment = dt.datetime(2026, 12, 4, 10, 30)
        assert _fmt_date(moment) == format_date(moment, "medium")  # not kept: as before


def test_a_caseworkers_form_speaks_the_accounts_language_not_the_browsers(  # type: ignore[no-untyped-def]
    person, signed_in
) -> None:
    """WTForms' own messages ("This field is required.") come from the catalogue each
    request carries (config.sentences.LazyCatalogue), in the account's language."""
    admin = signed_in(person("admin", admin=True))
    assert admin.post("/account/language", {"language": "fr"}).status_code == 302
    empty = {"current": "", "new": "", "confirm": ""}
    page = admin.post("/account/passphrase", empty, headers={"Accept-Language": "en"})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Ce champ est requis." in text and "This field is required." not in text
