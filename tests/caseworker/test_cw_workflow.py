"""ISO 37002 workflow through the app: acknowledge, triage, risk, investigate, conclude,
close, reopen; legal hold, links, assignment, priority, labels."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from cases.content import read_messages
from cases.keyring import caseworker_key
from cases.models import AuditEntry, Case, CaseLabel, CaseLink, KeyPurpose, MessageKind, Status
from cases.reporting.followup import find_case, reporter_view
from crypto import normalize_receipt


@pytest.fixture
def case(store, person, signed_in, h):  # type: ignore[no-untyped-def]
    alice = person("alice")
    case_id, receipt = h.submit(store, "report")
    return alice, signed_in(alice), case_id, receipt


def get_case(store, case_id: str) -> Case:
    with store.transaction() as db:
        return db.get_one(Case, case_id)


def internal(store, who, case_id: str, kind: MessageKind) -> list[dict]:
    with store.transaction() as db:
        key = caseworker_key(db, case_id, KeyPurpose.INTERNAL, who.id, who.private_key)
        return [m.body for m in read_messages(db, case_id, {KeyPurpose.INTERNAL: key}, [kind])]


def status_changes(store, case_id: str) -> list[dict]:
    with store.transaction() as db:
        rows = db.scalars(
            select(AuditEntry.detail)
            .where(AuditEntry.case_id == case_id, AuditEntry.action == "case.status_changed")
            .order_by(AuditEntry.id)
        )
        # Without the content commitment every case entry carries (cases.records.audit).
        return [{k: v for k, v in json.loads(r).items() if k != "content"} for r in rows]


def run_to_triaged(b, case_id: str) -> None:
    assert b.post(f"/cases/{case_id}/acknowledge", {"message": ""}, prefix="ack").status_code == 302
    response = b.post(
        f"/cases/{case_id}/triage",
        {"scope": "bribery, in scope", "priority": "3", "completeness": "complete", "notes": ""},
        prefix="triage",
    )
    assert response.status_code == 302


def test_acknowledge_with_a_message_the_reporter_reads(store, case, today) -> None:
    _alice, b, case_id, receipt = case
    response = b.post(
        f"/cases/{case_id}/acknowledge", {"message": "We received your report."}, prefix="ack"
    )
    assert response.status_code == 302
    row = get_case(store, case_id)
    assert row.status is Status.ACKNOWLEDGED and row.acknowledged_on == today
    assert row.next_due_on == row.feedback_due_on
    with store.transaction() as db:
        found, keys = find_case(db, store.settings, normalize_receipt(receipt))
        texts = [m.body.get("text") for m in reporter_view(db, found, keys.private_key).messages]
    assert "We received your report." in texts
    assert status_changes(store, case_id) == [
        {"from": "received", "to": "acknowledged", "with_message": True}
    ]
    again = b.post(f"/cases/{case_id}/acknowledge", {"message": ""}, prefix="ack")
    assert again.status_code == 400 and "already been acknowledged" in again.get_data(as_text=True)


def test_triage_is_encrypted_and_sets_the_workflow_dates(store, case, today) -> None:
    alice, b, case_id, _ = case
    early = b.post(
        f"/cases/{case_id}/triage",
        {"scope": "x", "priority": "2", "completeness": "partial"},
        prefix="triage",
    )
    assert early.status_code == 400 and "Acknowledge the report before triage" in early.get_data(
        as_text=True
    )
    run_to_triaged(b, case_id)
    row = get_case(store, case_id)
    assert row.status is Status.TRIAGED and row.triaged_on == today and row.priority == 3
    [record] = internal(store, alice, case_id, MessageKind.TRIAGE)
    assert record["scope"] == "bribery, in scope" and record["completeness"] == "complete"
    with store.transaction() as db:
        details = " ".join(db.scalars(select(AuditEntry.detail)))
    assert "bribery" not in details  # the audit log says that, never what


def test_investigation_needs_a_risk_assessment(store, case, today) -> None:
    alice, b, case_id, _ = case
    run_to_triaged(b, case_id)
    refused = b.post(f"/cases/{case_id}/investigate")
    assert refused.status_code == 400 and "risk of retaliation" in refused.get_data(as_text=True)
    review = (today + dt.timedelta(days=30)).isoformat()
    response = b.post(
        f"/cases/{case_id}/risk",
        {"likelihood": "high", "impact": "medium", "measures": "move desk", "review_on": review},
        prefix="risk",
    )
    assert response.status_code == 302
    row = get_case(store, case_id)
    assert row.risk_assessed_on == today and row.risk_review_on.isoformat() == review
    [risk] = internal(store, alice, case_id, MessageKind.RISK)
    assert risk == {
        "likelihood": "high",
        "impact": "medium",
        "measures": "move desk",
        "review_on": review,
    }
    assert b.post(f"/cases/{case_id}/investigate").status_code == 302
    assert get_case(store, case_id).status is Status.INVESTIGATING


def test_risk_review_date_in_the_past_is_refused(store, case, today) -> None:
    _alice, b, case_id, _ = case
    run_to_triaged(b, case_id)
    past = (today - dt.timedelta(days=1)).isoformat()
    response = b.post(
        f"/cases/{case_id}/risk",
        {"likelihood": "low", "impact": "low", "review_on": past},
        prefix="risk",
    )
    assert response.status_code == 400
    assert get_case(store, case_id).risk_assessed_on is None


def test_conclude_close_and_reopen_with_a_reason(store, case, today) -> None:
    alice, b, case_id, receipt = case
    run_to_triaged(b, case_id)
    b.post(f"/cases/{case_id}/risk", {"likelihood": "low", "impact": "low"}, prefix="risk")
    b.post(f"/cases/{case_id}/investigate")
    no_summary = b.post(
        f"/cases/{case_id}/conclude",
        {"outcome": "substantiated", "protection": "continue", "feedback": "Done."},
        prefix="conclude",
    )
    assert no_summary.status_code == 400
    concluded = {
        "outcome": "substantiated",
        "protection": "continue",
        "protection_measures": "keep",
        "summary": "proven",
    }
    # The reporter must be told: a conclusion without its message to them is refused.
    untold = b.post(f"/cases/{case_id}/conclude", concluded, prefix="conclude")
    assert untold.status_code == 400
    assert get_case(store, case_id).status is Status.INVESTIGATING
    told = "We found the contract was awarded improperly; it is being re-tendered."
    response = b.post(
        f"/cases/{case_id}/conclude", {**concluded, "feedback": told}, prefix="conclude"
    )
    assert response.status_code == 302
    row = get_case(store, case_id)
    assert row.status is Status.CONCLUDED and row.outcome == "substantiated"
    assert row.feedback_given_on == today
    [conclusion] = internal(store, alice, case_id, MessageKind.CONCLUSION)
    assert conclusion["continued_protection"] == "continue" and conclusion["summary"] == "proven"
    with store.transaction() as db:
        found, keys = find_case(db, store.settings, normalize_receipt(receipt))
        thread = reporter_view(db, found, keys.private_key).messages
    assert thread[-1].body == {"text": told, "feedback": True}  # the summary stays internal
    assert "proven" not in [m.body.get("text") for m in thread]
    assert b.post(f"/cases/{case_id}/close").status_code == 302
    assert get_case(store, case_id).closed_on == today
    no_reason = b.post(f"/cases/{case_id}/reopen", {"reason": ""}, prefix="reopen")
    assert no_reason.status_code == 400
    assert (
        b.post(f"/cases/{case_id}/reopen", {"reason": "new evidence"}, prefix="reopen").status_code
        == 302
    )
    row = get_case(store, case_id)
    assert row.status is Status.INVESTIGATING and row.closed_on is None and row.outcome is None
    notes = internal(store, alice, case_id, MessageKind.NOTE)
    assert {"text": "new evidence", "event": "reopened"} in notes
    changes = status_changes(store, case_id)
    assert [c["to"] for c in changes] == [
        "acknowledged",
        "triaged",
        "investigating",
        "concluded",
        "closed",
        "investigating",
    ]
    assert changes[-1]["reopened"] is True


def test_close_needs_a_conclusion(store, case) -> None:
    _alice, b, case_id, _ = case
    response = b.post(f"/cases/{case_id}/close")
    assert response.status_code == 400
    assert get_case(store, case_id).status is Status.RECEIVED


def test_legal_hold_with_reason_and_release(store, case) -> None:
    _alice, b, case_id, _ = case
    assert b.post(f"/cases/{case_id}/legal-hold", {"reason": ""}, prefix="hold").status_code == 400
    assert (
        b.post(
            f"/cases/{case_id}/legal-hold", {"reason": "Court order 2026/17"}, prefix="hold"
        ).status_code
        == 302
    )
    assert get_case(store, case_id).legal_hold_reason == "Court order 2026/17"
    assert b.post(f"/cases/{case_id}/legal-hold/release").status_code == 302
    assert get_case(store, case_id).legal_hold_reason is None


def test_link_only_cases_you_can_open(store, person, case, h) -> None:
    _alice, b, case_id, _ = case
    other, _ = h.submit(store, "retaliation after my report")
    bob = person("bob")
    del bob
    assert b.post(f"/cases/{case_id}/link", {"other": other}, prefix="link").status_code == 302
    with store.transaction() as db:
        assert db.scalars(select(CaseLink)).all()
    page = b.get(f"/cases/{other}/people").get_data(as_text=True)
    assert f'href="/cases/{case_id}"' in page  # shown from both sides
    twice = b.post(f"/cases/{case_id}/link", {"other": other}, prefix="link")
    assert twice.status_code == 400 and "already linked" in twice.get_data(as_text=True).lower()
    itself = b.post(f"/cases/{case_id}/link", {"other": case_id}, prefix="link")
    assert itself.status_code == 400
    missing = b.post(f"/cases/{case_id}/link", {"other": "0123456789abcdef"}, prefix="link")
    assert missing.status_code == 400
    assert b.post(f"/cases/{case_id}/unlink", {"other": other}).status_code == 302
    with store.transaction() as db:
        assert db.scalars(select(CaseLink)).all() == []


def test_link_to_a_case_without_access_is_refused_like_a_missing_one(
    store, person, signed_in, h
) -> None:
    alice = person("alice")
    mine, _ = h.submit(store)
    bob = person("bob")
    from cases.models import Category, CategoryMember

    with store.transaction() as db:
        cat = Category(slug="hr", name="HR")
        db.add(cat)
        db.flush()
        db.add(CategoryMember(category_id=cat.id, caseworker_id=bob.id))
    theirs, _ = h.submit(store, category_slug="hr")
    b = signed_in(alice)
    refused = b.post(f"/cases/{mine}/link", {"other": theirs}, prefix="link")
    missing = b.post(f"/cases/{mine}/link", {"other": "0123456789abcdef"}, prefix="link")
    assert refused.status_code == missing.status_code == 400
    assert "no case with that reference" in refused.get_data(as_text=True).lower()


def test_assign_and_labels(store, person, case) -> None:
    alice, b, case_id, _ = case
    assert (
        b.post(f"/cases/{case_id}/assign", {"assignee": str(alice.id)}, prefix="assign").status_code
        == 302
    )
    assert get_case(store, case_id).assignee_id == alice.id
    outsider = person("zed")
    refused = b.post(f"/cases/{case_id}/assign", {"assignee": str(outsider.id)}, prefix="assign")
    assert (
        refused.status_code == 400
        and "grant this caseworker access" in refused.get_data(as_text=True).lower()
    )
    assert b.post(f"/cases/{case_id}/assign", {"assignee": ""}, prefix="assign").status_code == 302
    assert get_case(store, case_id).assignee_id is None
    assert (
        b.post(f"/cases/{case_id}/labels", {"label": "  Procurement  "}, prefix="label").status_code
        == 302
    )
    bad = b.post(f"/cases/{case_id}/labels", {"label": "<b>x</b>"}, prefix="label")
    assert bad.status_code == 400
    with store.transaction() as db:
        assert db.scalars(select(CaseLabel.label)).all() == ["procurement"]
    assert b.post(f"/cases/{case_id}/labels/remove", {"label": "procurement"}).status_code == 302
    with store.transaction() as db:
        assert db.scalars(select(CaseLabel.label)).all() == []
        actions = set(db.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case_id)))
    assert {
        "case.assigned",
        "case.label_added",
        "case.label_removed",
    } <= actions


def test_actions_need_csrf_tokens(store, case) -> None:
    _alice, b, case_id, _ = case
    response = b.post(f"/cases/{case_id}/acknowledge", {"message": ""}, prefix="ack", csrf=False)
    assert response.status_code == 400
    assert get_case(store, case_id).status is Status.RECEIVED


def test_no_human_acknowledgement_flag_after_7_days(store, person, signed_in, h, today) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store)
    with store.transaction() as db:
        row = db.get_one(Case, case_id)
        row.received_on = today - dt.timedelta(days=8)
        row.acknowledge_due_on = today - dt.timedelta(days=1)
        row.next_due_on = row.acknowledge_due_on
    b = signed_in(alice)
    assert "no human acknowledgement" in b.get("/").get_data(as_text=True)
    assert "No person has acknowledged this report" in b.get(f"/cases/{case_id}").get_data(
        as_text=True
    )


def test_no_human_acknowledgement_follows_the_admins_shorter_period(
    store, person, signed_in, h, today
) -> None:
    """With 5 days set, a case unacknowledged after 6 is flagged everywhere the flag shows:
    the inbox, the case page and the indicators (cases.casework.workflow has the one rule)."""
    from cases.casework.indicators import compute

    alice = person("alice")
    with store.transaction() as db:
        store.set_policy(db, "acknowledge_within_days", 5)
    case_id, _ = h.submit(store)
    with store.transaction() as db:
        row = db.get_one(Case, case_id)
        assert row.acknowledge_due_on - row.received_on == dt.timedelta(days=5)
        row.received_on -= dt.timedelta(days=6)
        row.acknowledge_due_on -= dt.timedelta(days=6)
        row.next_due_on = row.acknowledge_due_on
    b = signed_in(alice)
    assert "no human acknowledgement" in b.get("/").get_data(as_text=True)
    assert "No person has acknowledged this report by its deadline" in b.get(
        f"/cases/{case_id}"
    ).get_data(as_text=True)
    with store.transaction() as db:
        assert compute(db, today, uncategorised="-").no_human_acknowledgement == 1


def test_automatic_acknowledgement_is_sent_but_the_case_still_needs_a_person(
    store, person, signed_in, h
) -> None:
    alice = person("alice")
    with store.transaction() as db:
        store.set_policy(db, "auto_acknowledge", True)
    case_id, receipt = h.submit(store)
    with store.transaction() as db:
        found, keys = find_case(db, store.settings, normalize_receipt(receipt))
        view = reporter_view(db, found, keys.private_key)
        assert [m.body.get("event") for m in view.messages] == [None, "automatic_acknowledgement"]
        assert found.status is Status.RECEIVED and found.acknowledged_on is None
        assert not db.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id)).all()
    page = signed_in(alice).get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Automatic acknowledgement of receipt (not a human acknowledgement)" in page


def test_risk_review_due_is_flagged(store, case, today) -> None:
    _alice, b, case_id, _ = case
    run_to_triaged(b, case_id)
    review = (today + dt.timedelta(days=10)).isoformat()
    b.post(
        f"/cases/{case_id}/risk",
        {"likelihood": "high", "impact": "high", "review_on": review},
        prefix="risk",
    )
    assert "risk review due" not in b.get("/").get_data(as_text=True)
    with store.transaction() as db:
        db.get_one(Case, case_id).risk_review_on = today
    assert "risk review due" in b.get("/").get_data(as_text=True)
    assert "due for review" in b.get(f"/cases/{case_id}").get_data(as_text=True)


def test_recorded_triage_and_risk_show_in_their_forms(store, case, today) -> None:
    """Shown blank with their defaults ("Low"), the forms lowered the priority when a
    caseworker sent them again to change one field."""
    _alice, b, case_id, _ = case
    run_to_triaged(b, case_id)  # priority 3 (high), complete
    review = (today + dt.timedelta(days=14)).isoformat()
    b.post(
        f"/cases/{case_id}/risk",
        {"likelihood": "high", "impact": "medium", "measures": "new desk", "review_on": review},
        prefix="risk",
    )
    page = b.get(f"/cases/{case_id}/workflow").get_data(as_text=True)
    triage = page[page.index('action="/cases/' + case_id + '/triage"'):]
    triage = triage[: triage.index("</form>")]
    assert "bribery, in scope" in triage
    assert re.search(r'<option selected value="3">|<option value="3" selected', triage)
    risk = page[page.index('action="/cases/' + case_id + '/risk"'):]
    risk = risk[: risk.index("</form>")]
    assert re.search(r'<option selected value="high">|<option value="high" selected', risk)
    assert "new desk" in risk and f'value="{review}"' in risk


def test_a_form_error_is_summarised_at_the_top_with_a_link_to_its_field(store, case) -> None:
    """GOV.UK's error summary: not only "some fields need attention", but which, each a link
    to the field (whose id is unique on the page, so the link lands on the right one)."""
    _alice, b, case_id, _ = case
    b.post(f"/cases/{case_id}/acknowledge", {"message": ""}, prefix="ack")
    refused = b.post(
        f"/cases/{case_id}/triage",
        {"scope": "", "priority": "2", "completeness": "complete"},
        prefix="triage",
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    summary = page[page.index('class="flash flash-error error-summary"'):]
    summary = summary[: summary.index("</div>")]
    link = re.search(r'<a href="#([\w-]+)">Scope: what the report[^<]*: [^<]+</a>', summary)
    assert link is not None, summary
    assert re.search(rf'<textarea[^>]*id="{link.group(1)}"[^>]*name="triage-scope"', page)
    assert summary.index("Some fields need attention") < summary.index("<ul>")
