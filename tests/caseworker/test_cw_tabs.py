"""The case page as tabs that are plain links: each tab is a page of its own with a few
sections, an action returns to the tab it was taken on, a refused form is shown again on
its own tab, and the priority has one home (the triage)."""

from __future__ import annotations

import re

import pytest

from caseworker.casefile.tabs import TABS

SECTIONS = {
    "": ("report", "thread"),
    "/workflow": ("workflow", "internal"),
    "/people": ("organisation", "access", "identity"),
    "/history": ("history", "export"),
}


@pytest.fixture
def case(store, person, signed_in, h):  # type: ignore[no-untyped-def]
    alice = person("alice")
    case_id, _receipt = h.submit(store, "The warehouse manager sells stock on the side.")
    return signed_in(alice), case_id


def section_ids(page: str) -> set[str]:
    return set(re.findall(r'<section id="([a-z]+)"', page))


def test_each_tab_shows_its_own_sections_and_says_which_it_is(case) -> None:
    b, case_id = case
    everything: set[str] = set()
    for path, expected in SECTIONS.items():
        response = b.get(f"/cases/{case_id}{path}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        shown = section_ids(page) - {"summary", "acknowledge"}
        assert shown == set(expected), (path, shown)
        everything |= shown
        current = re.findall(r'<a href="([^"]+)" aria-current="page">', page)
        assert current == [f"/cases/{case_id}{path}"]
        for other in SECTIONS:  # every tab is a link on every tab
            assert f'href="/cases/{case_id}{other}"' in page
    assert everything == {s for tab in TABS for s in tab.sections} - {"acknowledge"}
    assert b.get(f"/cases/{case_id}/nonsense").status_code == 404


def test_a_received_case_opens_on_its_acknowledgement(case) -> None:
    b, case_id = case
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert page.index('id="acknowledge"') < page.index('id="report"')
    workflow = b.get(f"/cases/{case_id}/workflow").get_data(as_text=True)
    assert f'href="/cases/{case_id}#acknowledge"' in workflow  # triage waits, and says why
    assert f'action="/cases/{case_id}/triage"' not in workflow


def test_an_action_returns_to_the_tab_it_was_taken_on(case) -> None:
    b, case_id = case
    acknowledged = b.post(f"/cases/{case_id}/acknowledge", {"message": ""}, prefix="ack")
    assert acknowledged.headers["Location"] == f"/cases/{case_id}#acknowledge"
    label = b.post(f"/cases/{case_id}/labels", {"label": "stock"}, prefix="label")
    assert label.headers["Location"] == f"/cases/{case_id}/people#organisation"
    note = b.post(f"/cases/{case_id}/notes", {"text": "Check the stock books."}, prefix="note")
    assert note.headers["Location"] == f"/cases/{case_id}/workflow#internal"
    after = b.get(note.headers["Location"]).get_data(as_text=True)
    assert "Check the stock books." in after and "The note is saved" in after


def test_a_refused_form_comes_back_on_its_own_tab_with_what_was_typed(case) -> None:
    b, case_id = case
    b.post(f"/cases/{case_id}/acknowledge", {"message": ""}, prefix="ack")
    refused = b.post(
        f"/cases/{case_id}/triage",
        {"scope": "", "priority": "2", "completeness": "partial", "notes": "kept as typed"},
        prefix="triage",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert section_ids(page) - {"summary"} == {"workflow", "internal"}
    assert "kept as typed" in page
    assert 'href="#triage-triage-scope"' in page  # the error summary links to the field
    assert re.search(r'<a href="[^"]+/workflow" aria-current="page">', page)


def test_the_priority_is_set_in_one_place_the_triage(case) -> None:
    b, case_id = case
    b.post(f"/cases/{case_id}/acknowledge", {"message": ""}, prefix="ack")
    pages = "".join(
        b.get(f"/cases/{case_id}{path}").get_data(as_text=True) for path in SECTIONS
    )
    assert len(re.findall(r'<select[^>]+name="[a-z]+-priority"', pages)) == 1
    assert 'name="triage-priority"' in pages
    assert b.post(f"/cases/{case_id}/priority", {"priority": "3"}, prefix="prio").status_code in (
        404,
        405,
    )
