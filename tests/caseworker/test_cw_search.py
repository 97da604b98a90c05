"""Searching the content of the cases one holds, through the app: the words are matched in
the decrypted report, messages and internal records, only among the caseworker's own cases,
and never kept (not in a URL, not in the audit log, not in the database)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from cases.models import AuditEntry

WORD = "Kalvöskär"  # a word nothing else in the instance contains


@pytest.fixture
def cases(store, person, signed_in, h):  # type: ignore[no-untyped-def]
    alice, mallory = person("alice"), person("mallory")
    found, _ = h.submit(store, f"The depot at {WORD} sells fuel to the army at twice the price.")
    other, _ = h.submit(store, "Invoices for the depot are signed by the same person twice.")
    hidden, _ = h.submit(
        store, f"{WORD}: the depot manager threatens staff.", excluded_caseworker_ids=[alice.id]
    )
    return signed_in(alice), signed_in(mallory), found, other, hidden


def search(b, query: str):  # type: ignore[no-untyped-def]
    return b.post("/search", {"q": query})


def test_finds_words_in_held_cases_only_and_case_folded(cases) -> None:
    a, _m, found, other, hidden = cases
    response = search(a, WORD.upper())
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"/cases/{found}" in page and f"/cases/{hidden}" not in page
    assert f"/cases/{other}" not in page
    assert "1 case of 2 matches." in page
    assert "at Kalvöskär sells fuel" in page and "In the report" in page  # the snippet
    both = search(a, "depot TWICE").get_data(as_text=True)  # every word, anywhere in the case
    assert f"/cases/{found}" in both and f"/cases/{other}" in both
    assert "0 cases of 2 match." in search(a, "depot bananas").get_data(as_text=True)


def test_a_colleague_holding_other_cases_finds_only_theirs(cases) -> None:
    _a, m, found, _other, hidden = cases
    page = search(m, WORD).get_data(as_text=True)
    assert f"/cases/{hidden}" in page and f"/cases/{found}" in page  # mallory holds both
    assert "2 cases of 3 match." in page


def test_internal_notes_are_searched_with_the_internal_key(cases) -> None:
    a, _m, _found, other, _hidden = cases
    note = a.post(f"/cases/{other}/notes", {"text": "Ask the auditor about Brennholz."},
                  prefix="note")
    assert note.status_code == 302
    page = search(a, "brennholz").get_data(as_text=True)
    assert f"/cases/{other}" in page and "In an internal note" in page


def test_the_words_are_never_kept(store, cases, caplog) -> None:
    a, _m, found, _other, _hidden = cases
    caplog.set_level(logging.DEBUG)
    assert search(a, WORD).status_code == 200
    with store.transaction() as db:
        entry = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "inbox.searched")
        ).one()
        everything = json.dumps([list(r) for r in db.execute(select(AuditEntry.detail))])
    assert json.loads(entry.detail)["cases"] == [found]
    assert WORD.casefold() not in everything.casefold()
    assert WORD not in caplog.text
    inbox = a.get("/").get_data(as_text=True)
    assert 'action="/search"' in inbox and 'method="post"' in inbox  # never a GET with ?q=


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("   ", "Type the words to search for."),
        ("a b c d e f g h i", "Search for at most 8 words."),
        ("x" * 201, "200"),
    ],
)
def test_a_bad_query_is_refused_with_a_message(cases, query: str, message: str) -> None:
    a, *_ = cases
    response = search(a, query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_search_needs_its_csrf_token(cases) -> None:
    a, *_ = cases
    assert a.post("/search", {"q": WORD}, csrf=False).status_code == 400
