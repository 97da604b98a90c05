"""config.sentences: numbers in the reader's way, and the catalogue and locale looked up
once per request, never carried into another request."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from markupsafe import Markup

from config.sentences import Sentences


class Catalogue:
    def __init__(self, words: dict[str, str]) -> None:
        self.words = words

    def ugettext(self, string: str) -> str:
        return self.words.get(string, string)

    def ungettext(self, singular: str, plural: str, num: int) -> str:
        return self.ugettext(singular if num == 1 else plural)


class Outside:
    """A scope that, like Flask's ``g`` outside a request, refuses every access."""

    def __getattr__(self, name: str) -> object:
        raise RuntimeError("working outside of application context")

    def __setattr__(self, name: str, value: object) -> None:
        raise RuntimeError("working outside of application context")


def test_numbers_are_grouped_for_the_locale_and_values_escaped() -> None:
    french = Catalogue({"%(num)d days for %(who)s": "%(num)d jours pour %(who)s"})
    say = Sentences(lambda: french, lambda: "fr")
    text = say.gettext("%(num)d days for %(who)s", autoescape=True, num=1500, who="<b>")
    assert text == Markup("1\u202f500 jours pour &lt;b&gt;")
    assert say.ngettext("%(num)d day", "%(num)d days", 2) == "2 days"


def test_one_look_up_per_request_and_none_carried_over() -> None:
    looked_up: list[str] = []
    language = ["fr"]
    catalogues = {"fr": Catalogue({"Sent.": "Envoyé."}), "ar": Catalogue({"Sent.": "أُرسلت."})}

    def catalogue() -> Catalogue:
        looked_up.append(language[0])
        return catalogues[language[0]]

    scope = SimpleNamespace()
    say = Sentences(catalogue, lambda: language[0], scope)
    assert [say.gettext("Sent.") for _ in range(5)] == ["Envoyé."] * 5
    assert looked_up == ["fr"]
    scope = SimpleNamespace()  # the next request, in another language
    language[0] = "ar"
    say._scope = scope
    assert say.gettext("Sent.") == "أُرسلت."


def test_outside_a_request_each_sentence_looks_up() -> None:
    calls = []
    say = Sentences(lambda: calls.append(1) or Catalogue({}), lambda: "en", Outside())
    assert say.gettext("%(num)d files", num=3) == "3 files"
    assert say.gettext("Hello") == "Hello" and len(calls) == 2


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_pages_in_two_languages_one_after_the_other(lang: str, store: object) -> None:
    from flask import Flask

    from intake import create_app

    app: Flask = create_app(store.settings, store)  # type: ignore[attr-defined]
    client = app.test_client()
    other = "ar" if lang == "fr" else "fr"
    first = client.get(f"/{lang}/followup/").get_data(as_text=True)
    second = client.get(f"/{other}/followup/").get_data(as_text=True)
    assert f'lang="{lang}"' in first and f'lang="{other}"' in second
    assert _sign_in_label(first) != _sign_in_label(second)


def _sign_in_label(html: str) -> str:
    start = html.index("<h1")
    return html[start:html.index("</h1>", start)]


def test_wtforms_messages_are_read_once_per_process_and_per_language() -> None:
    from wtforms.i18n import messages_path

    from config.sentences import catalogue

    french = catalogue(messages_path(), "wtforms", "fr")
    assert french is catalogue(messages_path(), "wtforms", "fr")
    assert french.ugettext("This field is required.") == "Ce champ est requis."
    assert catalogue(messages_path(), "wtforms", "en").ugettext("This field is required.") == (
        "This field is required.")


def test_a_reporters_form_speaks_the_pages_language(store: object) -> None:
    from flask import Flask
    from flask_wtf import FlaskForm
    from wtforms import StringField
    from wtforms.validators import DataRequired

    from intake import create_app

    class Named(FlaskForm):
        name = StringField(validators=[DataRequired()])

    app: Flask = create_app(store.settings, store)  # type: ignore[attr-defined]
    app.config["WTF_CSRF_ENABLED"] = False
    for path, words in [("/fr/followup/", "Ce champ est requis."),
                        ("/en/followup/", "This field is required.")]:
        with app.test_request_context(path, method="POST", data={"name": ""}):
            app.preprocess_request()
            form = Named()
            assert not form.validate()
            assert form.name.errors == [words]
