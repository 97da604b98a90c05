"""Bulk steps from the inbox, through the app: label, grant and assign several ticked cases
in one step; each refused case is named with its reason and keeps its state, the others
are done, each with its own audit entry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.casework.access import has_access
from cases.models import AuditEntry, Case, CaseLabel


@pytest.fixture
def team(store, person, signed_in, h):  # type: ignore[no-untyped-def]
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    ids = [h.submit(store, f"report {i}")[0] for i in range(3)]
    barred, _ = h.submit(store, "report naming bob", excluded_caseworker_ids=[bob.id])
    with store.transaction() as db:  # routed to everyone: take bob and carol off for the test
        from cases.models import WrappedKey

        for row in db.scalars(select(WrappedKey).where(WrappedKey.caseworker_id.in_(
                [bob.id, carol.id]))):
            db.delete(row)
    return alice, bob, carol, signed_in(alice), ids, barred


def bulk(b, cases: list[str], **fields: str):  # type: ignore[no-untyped-def]
    return b.post("/bulk", {"case": cases, "back": "/?status=all", **fields}, prefix="bulk")


def test_the_inbox_has_a_checkbox_per_case_and_one_form(team) -> None:
    *_, a, ids, _barred = team
    page = a.get("/").get_data(as_text=True)
    for case_id in ids:
        assert f'name="bulk-case" value="{case_id}"' in page
        assert f'<label for="tick-{case_id}"' in page
    assert page.count('action="/bulk"') == 1


def test_label_several_cases_at_once(store, team) -> None:
    *_, a, ids, _barred = team
    response = bulk(a, ids[:2], action="label", label=" Needs Legal ")
    assert response.status_code == 302 and response.headers["Location"] == "/?status=all"
    assert "Done for 2 cases." in a.get("/?status=all").get_data(as_text=True)
    with store.transaction() as db:
        labels = select(CaseLabel.case_id).where(CaseLabel.label == "needs legal")
        labelled = set(db.scalars(labels))
        audited = list(db.scalars(select(AuditEntry.case_id).where(
            AuditEntry.action == "case.label_added")))
    assert labelled == set(ids[:2]) and sorted(audited) == sorted(ids[:2])


def test_grant_to_a_colleague_refuses_only_the_case_that_excludes_them(store, team) -> None:
    alice, bob, _carol, a, ids, barred = team
    response = bulk(a, [*ids, barred], action="grant", colleague=str(bob.id))
    assert response.status_code == 302
    page = a.get("/?status=all").get_data(as_text=True)
    assert "Done for 3 cases." in page
    assert f"Case {barred}: This caseworker is excluded from the case" in page
    with store.transaction() as db:
        assert all(has_access(db, case_id, bob.id) for case_id in ids)
        assert not has_access(db, barred, bob.id)
    # Now bob holds them: they can be assigned to him; carol holds none and is refused.
    assert bulk(a, ids, action="assign", colleague=str(bob.id)).status_code == 302
    bulk(a, ids[:1], action="assign", colleague=str(_carol.id))
    page = a.get("/?status=all").get_data(as_text=True)
    assert "Grant this caseworker access to the case first." in page
    with store.transaction() as db:
        assert {db.get_one(Case, c).assignee_id for c in ids} == {bob.id}
    del alice


def test_a_case_one_does_not_hold_is_refused_as_not_found(store, signed_in, h, team) -> None:
    _alice, bob, *_ = team
    theirs, _ = h.submit(store, "held by alice only", excluded_caseworker_ids=[bob.id])
    b = signed_in(bob)
    bulk(b, [theirs], action="label", label="probe")
    assert "No case with that reference that you have access to." in b.get("/").get_data(
        as_text=True)
    with store.transaction() as db:
        assert db.scalars(select(CaseLabel).where(CaseLabel.case_id == theirs)).all() == []


@pytest.mark.parametrize(
    ("cases", "fields", "message"),
    [
        ([], {"action": "label", "label": "x"}, "Select at least one case."),
        (None, {"action": "label", "label": "<b>"}, "A label has 1 to 40 letters"),
        (None, {"action": "grant", "colleague": ""}, "Choose a colleague."),
        (None, {"action": "delete"}, "nothing was changed"),
        ([f"{i:016x}" for i in range(101)], {"action": "label", "label": "x"},
         "Select at most 100 cases at a time."),
    ],
)
def test_a_bad_step_says_why_and_changes_nothing(store, team, cases, fields, message) -> None:
    *_, a, ids, _barred = team
    response = bulk(a, ids if cases is None else cases, **fields)
    assert response.status_code == 302
    assert message in a.get("/?status=all").get_data(as_text=True)
    with store.transaction() as db:
        assert db.scalars(select(CaseLabel)).all() == []


def test_bulk_needs_its_csrf_token(store, team) -> None:
    *_, a, ids, _barred = team
    response = a.post("/bulk", {"case": ids, "action": "label", "label": "x"}, prefix="bulk",
                      csrf=False)
    assert response.status_code in (302, 400)
    with store.transaction() as db:
        assert db.scalars(select(CaseLabel)).all() == []


def test_the_way_back_is_a_local_page_only(team) -> None:
    *_, a, ids, _barred = team
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        response = a.post("/bulk", {"case": ids, "action": "label", "label": "x",
                                    "back": evil}, prefix="bulk")
        assert response.headers["Location"] == "/"
