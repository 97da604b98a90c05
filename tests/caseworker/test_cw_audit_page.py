"""The audit log for people, through the app: every recorded action has a name, details
show names for account ids, filters by what / whom / case, views left out on request, and
one `case.viewed` per visit instead of one per click."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.casework import reading
from cases.models import AuditEntry
from caseworker.audit_labels import ACTION_LABELS

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("admin|attachment|audit|case|cases|caseworker|category|content|dashboard|"
            "identity|inbox|indicators|login|maintenance|policy|question|recovery|reply_template")
ACTION = re.compile(rf'"((?:{FAMILIES})\.[a-z_]+)"')


def recorded_actions(endpoints: set[str]) -> set[str]:
    """Every string in the code shaped like an action that is not an endpoint or a file."""
    found = set()
    for package in ("cases", "caseworker"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found |= set(ACTION.findall(path.read_text()))
    return {a for a in found if a not in endpoints and not a.endswith(".json")} - {"cases.id"}


def test_every_recorded_action_has_a_name(app) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    actions = recorded_actions(endpoints)
    assert len(actions) > 60  # the scan finds them (a broken pattern would find none)
    assert sorted(actions - set(ACTION_LABELS)) == []
    assert sorted(set(ACTION_LABELS) - actions) == []  # no name for an action that is gone


@pytest.fixture
def log(store, person, signed_in, h):  # type: ignore[no-untyped-def]
    root = person("root", caseworker=False, admin=True)
    alice = person("alice")
    case_id, _ = h.submit(store, "report")
    bob = person("bobby")  # joined after the report: holds nothing until granted
    a = signed_in(alice)
    a.get(f"/cases/{case_id}")
    assert a.post(f"/cases/{case_id}/grant", {"caseworker": str(bob.id)},
                  prefix="grant").status_code == 302
    return signed_in(root), alice, bob, case_id


def rows(page: str) -> list[str]:
    return re.findall(r"<tr>\s*<td>\d+</td>.*?</tr>", page, re.S)


def test_entries_read_as_words_with_names(log) -> None:
    r, _alice, _bob, case_id = log
    page = r.get(f"/admin/audit?case={case_id}").get_data(as_text=True)
    grant = next(row for row in rows(page) if "case.access_granted" in row)
    assert "Gave a colleague access to a case" in grant
    assert "<dt>grantee</dt><dd>bobby</dd>" in grant  # the id shown as the account's name
    assert "<dt>exclusion overridden</dt>" not in grant


def test_filter_by_person_action_and_hide_views(log) -> None:
    r, alice, bob, case_id = log
    page = r.get("/admin/audit").get_data(as_text=True)
    assert f'<option value="{alice.id}">alice</option>' in page  # people chosen by name
    theirs = rows(r.get(f"/admin/audit?actor={alice.id}").get_data(as_text=True))
    assert theirs and all("<td>alice</td>" in row for row in theirs)
    granted = rows(r.get("/admin/audit?action=case.access_granted").get_data(as_text=True))
    assert len(granted) == 1
    family = rows(r.get("/admin/audit?action=case.").get_data(as_text=True))
    assert {"case.viewed", "case.access_granted"} <= {
        re.search(r"<code class=\"hint\">([a-z_.]+)</code>", row).group(1)  # type: ignore[union-attr]
        for row in family
    }
    quiet = "".join(rows(r.get(f"/admin/audit?case={case_id}&hide_views=y").get_data(
        as_text=True)))
    assert "case.viewed" not in quiet and "case.access_granted" in quiet
    del bob


def test_one_view_per_visit_not_per_click(store, log, signed_in, monkeypatch) -> None:
    _r, alice, _bob, case_id = log
    a = signed_in(alice)

    def views() -> int:
        with store.transaction() as db:
            return len(db.scalars(select(AuditEntry).where(
                AuditEntry.case_id == case_id, AuditEntry.actor_id == alice.id,
                AuditEntry.action == "case.viewed")).all())

    before = views()
    for tab in ("", "/workflow", "/people", "/history"):  # clicking around the case
        assert a.get(f"/cases/{case_id}{tab}").status_code == 200
    assert views() == before == 1
    monkeypatch.setattr(reading, "VIEW_WINDOW", reading.dt.timedelta(0))  # the visit is over
    a.get(f"/cases/{case_id}")
    assert views() == 2


def test_someone_elses_step_starts_a_new_visit(store, log, signed_in) -> None:
    _r, alice, bob, case_id = log
    b = signed_in(bob)
    assert b.post(f"/cases/{case_id}/notes", {"text": "bob was here"},
                  prefix="note").status_code == 302
    signed_in(alice).get(f"/cases/{case_id}")
    with store.transaction() as db:
        actions = [(e.actor_id, e.action) for e in db.scalars(
            select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id))]
    assert actions[-1] == (alice.id, "case.viewed")
