"""External reporting (EU 2019/1937 Art. 9(1)(g)): the landing page names the competent
authorities an organisation configures (settings.external_authorities), as text to copy,
never as links; without any it keeps the generic explanation."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from config import ConfigError, load_settings

GENERIC = "You may also report directly to a competent public authority"
LISTED = "Authorities you can report to:"
ONION = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz234567.onion"
AUTHORITIES = (
    "National Anti-Corruption Office, Ruritania | https://anticorruption.example.gov/report",
    "Ombudsman | +99 20 555 0100, Palace Square 1, Strelsau",
)


def _section(page: str) -> str:
    match = re.search(r'<section aria-labelledby="external-title">(.*?)</section>', page, re.S)
    assert match, "no external reporting section"
    return match.group(1)


def test_without_authorities_the_generic_text_is_shown(client) -> None:  # type: ignore[no-untyped-def]
    section = _section(client.get("/en/").get_data(as_text=True))
    assert "Reporting to the authorities instead" in section
    assert GENERIC in section
    assert LISTED not in section and "<li" not in section


@pytest.mark.parametrize("onion", [False, True])
def test_configured_authorities_are_listed_as_text_not_links(make_app, onion: bool) -> None:  # type: ignore[no-untyped-def]
    app = make_app(external_authorities=AUTHORITIES, onion_address=ONION)
    base = f"http://{ONION}" if onion else "http://localhost"
    page = app.test_client().get("/en/", base_url=base).get_data(as_text=True)
    section = _section(page)
    text = html.unescape(section)
    assert GENERIC in text and LISTED in text
    assert "National Anti-Corruption Office, Ruritania" in text
    assert "https://anticorruption.example.gov/report" in text
    assert "+99 20 555 0100, Palace Square 1, Strelsau" in text
    assert "<a " not in section and "href=" not in section  # nothing to click
    links = re.findall(r'href="([^"]*)"', page)
    assert not any("anticorruption.example.gov" in link for link in links)
    assert "The addresses are not links: copy one into your browser" in text
    assert len(re.findall(r'<span class="address" dir="auto">', section)) == 2


def test_authority_names_are_escaped(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(external_authorities=("<b>Office</b> | <script>x</script>",))
    section = _section(app.test_client().get("/en/").get_data(as_text=True))
    assert "&lt;b&gt;Office&lt;/b&gt;" in section and "<script>" not in section


def test_settings_validate_each_entry(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(
            environ={},
            instance_path=tmp_path,
            secret_key=b"k" * 32,
            external_authorities=["Police | 112", "no separator", " | https://nameless.example"],
        )
    assert err.value.problems == [
        "external_authorities: entry 2 'no separator' needs the form 'Name | URL or contact'",
        "external_authorities: entry 3 '| https://nameless.example' has no name",
    ]


def test_settings_from_toml_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "sealbox.toml"
    config.write_text(
        'external_authorities = ["Office, Ruritania | https://office.example", "Police | 112"]\n'
    )
    from_file = load_settings(config, environ={}, instance_path=tmp_path, secret_key=b"k" * 32)
    assert from_file.external_authorities == (
        "Office, Ruritania | https://office.example",
        "Police | 112",
    )
    # In the environment, entries are separated by ";" (names contain commas).
    from_env = load_settings(
        environ={
            "SEALBOX_EXTERNAL_AUTHORITIES": "Office, Ruritania | https://office.example; "
            "Police | 112"
        },
        instance_path=tmp_path,
        secret_key=b"k" * 32,
    )
    assert from_env.external_authorities == from_file.external_authorities
    assert (
        load_settings(environ={}, instance_path=tmp_path, secret_key=b"k" * 32).external_authorities
        == ()
    )


def test_each_language_reads_the_authorities_given_for_it(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(external_authorities=AUTHORITIES, external_authorities_in={
        "fr": ("Office national anticorruption, Ruritanie | https://anticorruption.example.gov/fr",)})
    client = app.test_client()
    french = html.unescape(_section(client.get("/fr/").get_data(as_text=True)))
    assert "Office national anticorruption, Ruritanie" in french
    assert "https://anticorruption.example.gov/fr" in french
    assert "National Anti-Corruption Office" not in french
    spanish = html.unescape(_section(client.get("/es/").get_data(as_text=True)))
    assert "National Anti-Corruption Office, Ruritania" in spanish  # none given: the default


def test_authorities_per_language_are_checked_at_start_up(tmp_path: Path) -> None:
    config = tmp_path / "sealbox.toml"
    config.write_text(
        '[external_authorities_in]\nfr = ["Office | https://office.example/fr", "sans barre"]\n'
        'xx = ["Office | 1"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(config, environ={}, instance_path=tmp_path, secret_key=b"k" * 32)
    assert err.value.problems == [
        "external_authorities_in.fr: entry 2 'sans barre' needs the form "
        "'Name | URL or contact'",
        "external_authorities_in: 'xx' is not in languages",
    ]
    from_env = load_settings(
        environ={"SEALBOX_EXTERNAL_AUTHORITIES_IN": json.dumps({"fr": ["Office | 1"]})},
        instance_path=tmp_path, secret_key=b"k" * 32)
    assert from_env.external_authorities_in == {"fr": ("Office | 1",)}
