"""One language table for both apps: the direction of a page follows config.languages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cases.store import Store
from config.languages import NATIVE_NAMES, RIGHT_TO_LEFT, text_direction


@pytest.mark.parametrize("code", ["ar", "ar-EG", "fa_IR", "HE", "ur", "ps", "yi", "ug"])
def test_right_to_left_languages_whatever_the_region(code: str) -> None:
    assert text_direction(code) == "rtl"


@pytest.mark.parametrize("code", ["en", "fr_CA", "zh-Hans", "ru", "tr", "arn"])
def test_left_to_right_languages(code: str) -> None:
    assert text_direction(code) == "ltr"  # "arn" (Mapudungun) is not Arabic


def test_every_named_language_has_a_direction_and_a_name_in_itself() -> None:
    assert {"ar", "fa", "he", "ur"} <= RIGHT_TO_LEFT
    assert all(name.strip() for name in NATIVE_NAMES.values())


def test_the_caseworker_app_writes_pashto_right_to_left(store: Store) -> None:
    """Its own table knew four RTL languages and the intake's ten; now both use one."""
    from caseworker import create_app

    settings = replace(store.settings, caseworker_languages=("en", "ps"))
    pashto = Store(settings)
    try:
        page = create_app(settings, pashto).test_client().get(
            "/login", headers={"Accept-Language": "ps"}
        )
    finally:
        pashto.dispose()
    assert '<html lang="ps" dir="rtl">' in page.get_data(as_text=True)
