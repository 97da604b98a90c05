"""Administration: accounts and roles, categories and routing, questions, policy, audit
log viewer, retention purge, indicators dashboard and CSV. Admins read no case content."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select, update

import crypto
from cases.accounts.enrolment import unlock
from cases.keyring import Trust, holders
from cases.models import (
    AdminChange,
    AuditEntry,
    Case,
    Caseworker,
    CaseworkerSession,
    Category,
    CategoryMember,
    Question,
    Status,
    WrappedKey,
)


@pytest.fixture
def admin(person, signed_in):  # type: ignore[no-untyped-def]
    root = person("root", caseworker=False, admin=True)
    return root, signed_in(root)


@pytest.fixture
def second_admin(person, signed_in):  # type: ignore[no-untyped-def]
    """The other administrator, who approves what the first asks for."""
    ada = person("ada", caseworker=False, admin=True)
    return ada, signed_in(ada)


def enrolment(username: str, code: str, passphrase: str) -> dict[str, str]:
    return {"username": username, "code": code, "passphrase": passphrase, "confirm": passphrase}


def pending_ids(store) -> list[int]:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        return list(db.scalars(select(AdminChange.id).where(AdminChange.state == "pending")))


def approve_all(store, b) -> list:  # type: ignore[no-untyped-def]
    """The second administrator approves every waiting request through the page."""
    return [b.post(f"/admin/approvals/{change_id}/approve") for change_id in pending_ids(store)]


def test_admin_pages_need_the_admin_role(store, person, signed_in) -> None:
    alice = person("alice")
    b = signed_in(alice)
    for url in (
        "/admin",
        "/admin/caseworkers",
        "/admin/audit",
        "/admin/dashboard",
        "/admin/dashboard.csv",
        "/admin/policy",
        "/admin/retention",
        "/admin/categories",
    ):
        assert b.get(url).status_code == 403, url


def test_a_new_account_is_a_request_and_only_the_approver_sees_its_enrolment_code(
    store, admin, second_admin, new_browser
) -> None:
    root, b = admin
    _ada, other = second_admin
    response = b.post(
        "/admin/caseworkers",
        {"username": "Nina", "display_name": "Nina K", "is_caseworker": "y",
         "is_custodian": "y", "language": "fr"},
    )
    assert response.status_code == 302 and response.location.endswith("/admin/approvals")
    with store.transaction() as db:
        assert db.scalar(select(Caseworker.id).where(Caseworker.username == "nina")) is None
    (change_id,) = pending_ids(store)
    # The one who asked cannot approve it: no account, no code for them.
    own = b.post(f"/admin/approvals/{change_id}/approve")
    assert own.status_code == 302
    assert pending_ids(store) == [change_id]
    shown = other.post(f"/admin/approvals/{change_id}/approve")
    assert shown.status_code == 200
    code = re.search(r'<code class="secret">([A-Z2-7-]+)</code>', shown.get_data(as_text=True))
    assert code
    with store.transaction() as db:
        nina = db.scalars(select(Caseworker).where(Caseworker.username == "nina")).one()
        assert (nina.is_caseworker, nina.is_custodian, nina.is_admin, nina.language) == (
            True, True, False, "fr")
        assert not nina.enrolled and nina.password_hash is None
        approved = db.scalars(select(AuditEntry).where(
            AuditEntry.action == "admin.change_approved")).one()
        assert approved.actor_id != root.id
    # Her first sign-in: the code once, and a passphrase only she knows.
    owner = new_browser()
    wrong = owner.post("/enrol", enrolment("nina", "A" * 24, "my own secret words"))
    assert wrong.status_code == 400 and "not right" in wrong.get_data(as_text=True)
    first = owner.post("/enrol", enrolment("nina", code.group(1), "my own secret words"))
    assert first.status_code == 302 and first.location.endswith("/login/enrol")
    with store.transaction() as db:
        nina = db.get_one(Caseworker, nina.id)
        assert nina.enrolled and nina.enrolment_code_hash is None
        assert len(unlock(nina, "my own secret words")) == 32
        assert Trust.of(store.settings).public_key(nina) == nina.public_key  # certified
        assert db.scalar(select(WrappedKey.id).where(WrappedKey.caseworker_id == nina.id)) is None
    again = new_browser().post("/enrol", enrolment("nina", code.group(1), "another passphrase"))
    assert again.status_code == 400  # the code works once
    taken = b.post("/admin/caseworkers", {"username": "nina", "language": "en"})
    assert taken.status_code == 400 and "already taken" in taken.get_data(as_text=True)


def test_role_changes_wait_for_a_second_admin_and_removing_deletes_keys(
    store, admin, second_admin, person, signed_in, h
) -> None:
    _root, b = admin
    _ada, other = second_admin
    alice, bob = person("alice"), person("bob")
    case_id, _ = h.submit(store)
    response = b.post(f"/admin/caseworkers/{bob.id}/roles", {"is_custodian": "y"})
    assert response.status_code == 302
    with store.transaction() as db:
        assert bob.id in holders(db, case_id)  # nothing yet
        assert db.get_one(Caseworker, bob.id).is_caseworker
    assert [r.status_code for r in approve_all(store, other)] == [302]
    with store.transaction() as db:
        assert bob.id not in holders(db, case_id) and alice.id in holders(db, case_id)
        account = db.get_one(Caseworker, bob.id)
        assert (account.is_caseworker, account.is_custodian) == (False, True)
    assert signed_in(bob).get(f"/cases/{case_id}").status_code == 403


def test_an_admin_alone_cannot_give_themselves_access_to_reports(
    store, admin, person, h
) -> None:
    """Root (administrator only) asks for the caseworker and custodian roles and the
    routing of a category to themselves: nobody else approves, so nothing applies, and the
    next report reaches only the caseworkers it was routed to."""
    root, b = admin
    alice = person("alice")
    b.post(f"/admin/caseworkers/{root.id}/roles",
           {"is_caseworker": "y", "is_custodian": "y", "is_admin": "y"})
    b.post("/admin/categories", {"slug": "fraud", "name": "Fraud", "position": "1", "active": "y"})
    with store.transaction() as db:
        category = db.scalars(select(Category)).one()
    b.post(f"/admin/categories/{category.id}/members", {"members": [str(root.id)]})
    waiting = pending_ids(store)
    assert len(waiting) == 2
    for change_id in waiting:
        b.post(f"/admin/approvals/{change_id}/approve")
    assert pending_ids(store) == waiting  # refused: a second administrator must approve
    case_id, _ = h.submit(store, "for the caseworkers only", category_slug="fraud")
    with store.transaction() as db:
        me = db.get_one(Caseworker, root.id)
        assert not me.is_caseworker and not me.is_custodian
        assert holders(db, case_id) == {alice.id}
        assert db.scalars(select(CategoryMember)).all() == []


def test_last_admin_keeps_the_role_and_cannot_be_disabled(store, admin) -> None:
    root, b = admin
    b.post(f"/admin/caseworkers/{root.id}/roles", {})
    with store.transaction() as db:
        assert db.get_one(Caseworker, root.id).is_admin
    page = b.post(f"/admin/caseworkers/{root.id}/disable", {"confirm": "y"})
    assert page.status_code == 302
    with store.transaction() as db:
        assert db.get_one(Caseworker, root.id).active


def test_disable_ends_sessions_and_deletes_keys(store, admin, person, signed_in, h) -> None:
    _root, b = admin
    _alice, bob = person("alice"), person("bob")
    case_id, _ = h.submit(store)
    bob_browser = signed_in(bob)
    page = b.get(f"/admin/caseworkers/{bob.id}").get_data(as_text=True)
    assert "Cases only this account can open" in page
    unconfirmed = b.post(f"/admin/caseworkers/{bob.id}/disable", {})
    assert unconfirmed.status_code == 302
    with store.transaction() as db:
        assert db.get_one(Caseworker, bob.id).active
    b.post(f"/admin/caseworkers/{bob.id}/disable", {"confirm": "y"})
    with store.transaction() as db:
        assert not db.get_one(Caseworker, bob.id).active
        assert bob.id not in holders(db, case_id)
        assert (
            db.scalar(
                select(CaseworkerSession.id_hash).where(CaseworkerSession.caseworker_id == bob.id)
            )
            is None
        )
    assert bob_browser.get("/").status_code == 302
    refused = bob_browser.post("/login", {"username": "bob", "passphrase": bob.passphrase})
    assert "not right" in refused.get_data(as_text=True)


def test_reset_two_factor_waits_for_approval_and_its_owner_is_told(
    store, admin, second_admin, person, new_browser, h
) -> None:
    _root, b = admin
    _ada, other = second_admin
    alice = person("alice")
    with store.transaction() as db:
        db.get_one(Caseworker, alice.id).locked_until = dt.datetime(2999, 1, 1)
    assert b.post(f"/admin/caseworkers/{alice.id}/unlock").status_code == 302  # at once
    h.sign_in(new_browser(), store, alice)  # a sign-in before the reset, to compare with
    assert b.post(f"/admin/caseworkers/{alice.id}/reset-2fa").status_code == 302
    with store.transaction() as db:
        assert db.get_one(Caseworker, alice.id).totp_secret_enc is not None  # not yet
    approve_all(store, other)
    with store.transaction() as db:
        account = db.get_one(Caseworker, alice.id)
        assert account.locked_until is None and account.totp_secret_enc is None
    fresh = new_browser()
    response = fresh.post("/login", {"username": "alice", "passphrase": alice.passphrase})
    assert response.location.startswith("/login/enrol")
    with store.transaction() as db:
        actions = set(db.scalars(select(AuditEntry.action)))
    assert {"caseworker.unlocked", "caseworker.second_factor_reset"} <= actions


def test_a_lost_passphrase_reset_destroys_the_key_and_re_enrols_the_owner(
    store, admin, second_admin, person, new_browser, h
) -> None:
    """No administrator learns the new passphrase: the approver hands over a code, the
    owner chooses the passphrase, and the old key (with every case key wrapped to it) is
    gone: colleagues grant the cases again."""
    _root, b = admin
    _ada, other = second_admin
    alice, bob = person("alice"), person("bob")
    case_id, _ = h.submit(store)
    b.post(f"/admin/caseworkers/{bob.id}/reset-passphrase")
    (shown,) = approve_all(store, other)
    code = re.search(r'<code class="secret">([A-Z2-7-]+)</code>', shown.get_data(as_text=True))
    assert code
    with store.transaction() as db:
        account = db.get_one(Caseworker, bob.id)
        assert not account.enrolled and bob.id not in holders(db, case_id)
    refused = new_browser().post("/login", {"username": "bob", "passphrase": bob.passphrase})
    assert "not right" in refused.get_data(as_text=True)
    owner = new_browser()
    again = owner.post("/enrol", enrolment("bob", code.group(1), "bob's own new words"))
    assert again.status_code == 302
    with store.transaction() as db:
        account = db.get_one(Caseworker, bob.id)
        assert len(unlock(account, "bob's own new words")) == 32
        assert account.public_key != crypto.public_key_of(bob.private_key)
        assert alice.id in holders(db, case_id)  # the colleague keeps the case to grant it


def test_categories_route_new_reports_to_their_members(
    store, admin, second_admin, person, h
) -> None:
    _root, b = admin
    _ada, other = second_admin
    alice, _bob = person("alice"), person("bob")
    response = b.post(
        "/admin/categories", {"slug": "fraud", "name": "Fraud", "position": "1", "active": "y"}
    )
    assert response.status_code == 302
    with store.transaction() as db:
        category = db.scalars(select(Category)).one()
    bad = b.post("/admin/categories", {"slug": "Not A Slug!", "name": "x", "position": "0"})
    assert bad.status_code == 400
    assert (
        b.post(f"/admin/categories/{category.id}/members", {"members": [str(alice.id)]}).status_code
        == 302
    )
    with store.transaction() as db:
        assert db.scalars(select(CategoryMember)).all() == []  # until a second admin approves
    approve_all(store, other)
    with store.transaction() as db:
        assert [m.caseworker_id for m in db.scalars(select(CategoryMember))] == [alice.id]
    case_id, _ = h.submit(store, category_slug="fraud")
    with store.transaction() as db:
        assert holders(db, case_id) == {alice.id}
    edit = b.post(
        f"/admin/categories/{category.id}",
        {"slug": "fraud", "name": "Fraud and bribery", "position": "2"},
    )
    assert edit.status_code == 302
    with store.transaction() as db:
        updated = db.get_one(Category, category.id)
        assert updated.name == "Fraud and bribery" and updated.active is False


def test_questions(store, admin) -> None:
    _root, b = admin
    ok = b.post(
        "/admin/questions",
        {
            "key": "when",
            "label": "When did it happen?",
            "kind": "text",
            "position": "1",
            "active": "y",
        },
    )
    assert ok.status_code == 302
    bad = b.post(
        "/admin/questions",
        {"key": "who", "label": "Role?", "kind": "choice", "choices": "only one", "position": "2"},
    )
    assert bad.status_code == 400 and "at least two choices" in bad.get_data(as_text=True)
    with store.transaction() as db:
        question = db.scalars(select(Question)).one()
    edit = b.post(
        f"/admin/questions/{question.id}",
        {
            "key": "when",
            "label": "When?",
            "kind": "choice",
            "choices": "Before 2020\n\nAfter 2020\n",
            "position": "1",
        },
    )
    assert edit.status_code == 302
    with store.transaction() as db:
        question = db.get_one(Question, question.id)
        assert question.choices == "Before 2020\nAfter 2020" and not question.active


def test_policy(store, admin) -> None:
    _root, b = admin
    page = b.get("/admin/policy")
    assert page.status_code == 200
    too_long = b.post(
        "/admin/policy",
        {
            "acknowledge_within_days": "8",
            "feedback_within_months": "3",
            "retention_days_after_close": "60",
        },
    )
    assert too_long.status_code == 400
    ok = b.post(
        "/admin/policy",
        {
            "acknowledge_within_days": "5",
            "feedback_within_months": "2",
            "retention_days_after_close": "90",
            "quiet_case_days": "60",
            "abandoned_case_retention_days": "100",
            "auto_acknowledge": "y",
        },
    )
    assert ok.status_code == 400  # deleting open cases after less than a year is refused
    assert "Enter 0 (never), or a number of days from 365." in ok.get_data(as_text=True)
    ok = b.post(
        "/admin/policy",
        {
            "acknowledge_within_days": "5",
            "feedback_within_months": "2",
            "retention_days_after_close": "90",
            "quiet_case_days": "60",
            "abandoned_case_retention_days": "730",
            "auto_acknowledge": "y",
        },
    )
    assert ok.status_code == 302
    with store.transaction() as db:
        policy = store.policy(db)
    assert (
        policy.acknowledge_within_days,
        policy.feedback_within_months,
        policy.retention_days_after_close,
        policy.quiet_case_days,
        policy.abandoned_case_retention_days,
        policy.auto_acknowledge,
    ) == (5, 2, 90, 60, 730, True)


def test_audit_viewer_verifies_the_chain_and_reports_tampering(store, admin, person, h) -> None:
    _root, b = admin
    person("alice")
    h.submit(store, "SECRET REPORT TEXT")
    page = b.get("/admin/audit").get_data(as_text=True)
    assert "The chain is intact" in page and "caseworker.created" in page
    assert "SECRET REPORT TEXT" not in page
    filtered = b.get("/admin/audit?action=login.").get_data(as_text=True)
    filtered = filtered[filtered.index("<tbody>"):]  # the entries, not the filter's choices
    assert "login.succeeded" in filtered and "caseworker.created" not in filtered
    with store.transaction() as db:
        db.execute(
            update(AuditEntry).where(AuditEntry.id == 1).values(action="caseworker.tampered")
        )
    broken = b.get("/admin/audit").get_data(as_text=True)
    assert "The audit chain is broken" in broken and "entry 1 was altered" in broken


def test_retention_purge_from_the_admin_page(store, admin, person, h, today) -> None:
    root, b = admin
    alice = person("alice")
    old, _ = h.submit(store)
    held, _ = h.submit(store)
    unreviewed, _ = h.submit(store)
    with store.transaction() as db:
        db.execute(
            update(Case).values(status=Status.CLOSED, closed_on=today - dt.timedelta(days=400),
                                closure_reviewed_by_id=alice.id)
        )
        db.get_one(Case, held).legal_hold_reason = "litigation"
        db.get_one(Case, unreviewed).closure_reviewed_by_id = None
    page = b.get("/admin/retention").get_data(as_text=True)
    assert old in page and held not in page
    due, waiting = page.split("waiting for a second caseworker", 1)
    assert unreviewed not in due and unreviewed in waiting
    assert b.post("/admin/retention", {}).status_code == 400  # not confirmed
    assert b.post("/admin/retention", {"confirm": "y"}).status_code == 302
    with store.transaction() as db:
        assert db.get(Case, old) is None and db.get(Case, held) is not None
        assert db.get(Case, unreviewed) is not None
        assert db.scalar(select(WrappedKey.id).where(WrappedKey.case_id == old)) is None
        purged = db.scalar(select(AuditEntry.actor_id).where(AuditEntry.action == "case.purged"))
    assert purged == root.id


def seed_indicators(store, h, today) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        db.add(Category(slug="fraud", name='=HYPERLINK("x")'))
    # Report texts are markers no page may show (random tokens could contain a short one).
    ids = [
        h.submit(store, f"REPORT-TEXT-MARKER-{i}", category_slug="fraud" if i < 2 else None)[0]
        for i in range(9)
    ]
    with store.transaction() as db:
        for n, case_id in enumerate(ids):
            case = db.get_one(Case, case_id)
            case.received_on = today - dt.timedelta(days=20)
            if n < 7:
                case.status, case.acknowledged_on = (
                    Status.ACKNOWLEDGED,
                    today - dt.timedelta(days=20 - n),
                )
            if n < 6:
                case.feedback_given_on = today - dt.timedelta(days=10)
            if n == 0:
                case.status, case.outcome = Status.CONCLUDED, "substantiated"
            if n == 8:
                case.next_due_on = today - dt.timedelta(days=2)


def test_dashboard_draws_server_side_svg(store, admin, person, h, today) -> None:
    _root, b = admin
    person("alice")
    seed_indicators(store, h, today)
    response = b.get("/admin/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 3
    assert "<script" not in page and "style=" not in page
    assert "Cases by status" in page and "=HYPERLINK(&#34;x&#34;)" in page
    assert "Median days to acknowledgement" in page
    assert re.search(r"<dt>Cases</dt><dd>9</dd>", page)
    assert "REPORT-TEXT-MARKER" not in page  # no content


def test_indicator_csv_suppresses_small_counts(store, admin, person, h, today) -> None:
    _root, b = admin
    person("alice")
    seed_indicators(store, h, today)
    response = b.get("/admin/dashboard.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = {(r[0], r[1]): r[2] for r in csv.reader(io.StringIO(response.get_data(as_text=True)))}
    assert rows[("cases", "total")] == "9"
    assert rows[("cases_by_status", "acknowledged")] == "6"
    assert rows[("cases_by_status", "received")] == "<5"  # 2 cases
    assert rows[("cases_by_status", "concluded")] == "<5"  # 1 case
    assert rows[("cases_by_status", "closed")] == "0"
    assert rows[("cases_by_outcome", "substantiated")] == "<5"
    assert rows[("overdue_open_cases", "")] == "<5"
    # Complementary suppression: one hidden cell would be the total minus the others.
    assert rows[("cases_by_category", '\'=HYPERLINK("x")')] == "<5"
    assert rows[("cases_by_category", "uncategorised")] == "<5"
    assert rows[("median_days_to_acknowledgement", "")] == "3"
    assert rows[("median_days_to_feedback", "")] == "10"


def test_indicators_suppression_helper() -> None:
    from cases.casework.indicators import suppress_group

    assert suppress_group({"a": 10, "b": 3, "c": 20}) == {"a": "<5", "b": "<5", "c": "20"}
    assert suppress_group({"a": 10, "b": 3, "c": 2}) == {"a": "10", "b": "<5", "c": "<5"}
    assert suppress_group({"a": 0, "b": 7}) == {"a": "0", "b": "7"}


def test_admin_names_an_account_and_a_team_and_sees_who_has_no_name(store, admin, person) -> None:
    root, b = admin
    alice = person("alice")
    page = b.get("/admin/caseworkers").get_data(as_text=True)
    assert "1 caseworker has no display name" in page
    done = b.post(
        f"/admin/caseworkers/{alice.id}/profile",
        {"display_name": "Alice Archer", "team": "Compliance"},
    )
    assert done.status_code == 302
    with store.transaction() as db:
        account = db.get_one(Caseworker, alice.id)
        assert (account.display_name, account.team) == ("Alice Archer", "Compliance")
        entry = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "caseworker.profile_changed")
        ).one()
        assert entry.actor_id == root.id
    assert "has no display name" not in b.get("/admin/caseworkers").get_data(as_text=True)
