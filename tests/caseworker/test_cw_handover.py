"""Hand-overs (cases.casework.handover) tried through the app and the CLI: a leaving
caseworker gives every case to a successor in one step; an account disabled with cases
nobody else holds tells the administrators; the recovery key hands them over at
disabling."""

from __future__ import annotations

from dataclasses import replace

from click.testing import CliRunner
from sqlalchemy import select

from cases.accounts.administration import disable
from cases.casework.handover import held_only_by, unheld_cases
from cases.keyring import holders
from cases.models import AuditEntry, CaseExclusion, Caseworker, OutgoingNotice
from caseworker import cli
from config.instance import replace_recovery_public_key
from crypto import new_recovery_keypair


def _actions(store) -> list[str]:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        return list(db.scalars(select(AuditEntry.action)))


def test_a_leaving_caseworker_hands_every_case_over_in_one_step(  # type: ignore[no-untyped-def]
    store, person, signed_in, h
) -> None:
    alice = person("alice")
    first, _ = h.submit(store, "the first report")
    second, _ = h.submit(store, "the second report")
    bob = person("bob")  # joined after both reports: holds neither
    with store.transaction() as db:
        db.add(CaseExclusion(case_id=second, caseworker_id=bob.id, reason="named"))
    a = signed_in(alice)
    page = a.get("/account").get_data(as_text=True)
    assert "You hold 2 cases." in page and "Hand over every case" in page
    nobody = a.post("/account/hand-over", {"successor": "999"})
    assert nobody.status_code == 400
    assert "Choose an active caseworker." in nobody.get_data(as_text=True)
    done = a.post("/account/hand-over", {"successor": str(bob.id)})
    assert done.status_code == 302
    shown = a.get("/account").get_data(as_text=True)
    assert "1 case handed over; your colleague is told." in shown
    assert "1 case was not handed over: this colleague is excluded from it." in shown
    with store.transaction() as db:
        assert holders(db, first) == {alice.id, bob.id}
        assert holders(db, second) == {alice.id}  # the reporter's exclusion holds
    assert _actions(store).count("case.handed_over") == 1
    assert signed_in(bob).get(f"/cases/{first}").status_code == 200


def test_no_form_without_cases_or_colleagues(store, person, signed_in, h) -> None:  # type: ignore[no-untyped-def]
    alice = person("alice")
    page = signed_in(alice).get("/account").get_data(as_text=True)
    assert "You hold 0 cases." in page and "Hand over every case" not in page


def test_disabling_the_only_holder_tells_the_administrators(store, person, h) -> None:  # type: ignore[no-untyped-def]
    store.settings = replace(store.settings, smtp_host="127.0.0.1")
    person("root", caseworker=False, admin=True)
    alice = person("alice")
    case_id, _ = h.submit(store, "only alice holds this")
    with store.transaction() as db:
        assert held_only_by(db, alice.id) == [case_id]
        disable(db, store.settings, db.get_one(Caseworker, alice.id), actor_id=None)
    with store.transaction() as db:
        assert unheld_cases(db) == [case_id]
        events = db.scalars(select(OutgoingNotice.event)).all()
    assert "cases_unheld" in events and "cases.left_unheld" in _actions(store)


def test_disable_hands_over_with_the_recovery_key(store, person, h) -> None:  # type: ignore[no-untyped-def]
    text, public = new_recovery_keypair()
    replace_recovery_public_key(store.settings.instance_path, public)  # the CLI reads it there
    store.settings = replace(store.settings, recovery_public_key=public)
    alice = person("alice")
    case_id, _ = h.submit(store, "only alice holds this")
    carol = person("carol")
    env = {"SEALBOX_DATABASE_URL": store.settings.database_url}
    done = CliRunner(env=env).invoke(
        cli.main,
        ["disable-caseworker", "alice", "--hand-to", "carol", "--yes",
         "--instance", str(store.settings.instance_path)],
        input=f"{text}\n",
    )
    assert done.exit_code == 0, done.output
    assert "1 case(s) only alice held are given to carol" in done.output
    with store.transaction() as db:
        assert holders(db, case_id) == {carol.id}
        assert not db.get_one(Caseworker, alice.id).active
    assert "cases.left_unheld" not in _actions(store)



def test_the_retention_page_lists_quiet_open_cases(store, person, signed_in, h) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from sqlalchemy import update

    from cases.models import Case, Message

    root = person("root", caseworker=False, admin=True)
    old, _ = h.submit(store, "nobody answered this")
    fresh, _ = h.submit(store, "this one is new")
    long_ago = dt.date.today() - dt.timedelta(days=100)
    with store.transaction() as db:
        db.execute(update(Case).where(Case.id == old)
                   .values(received_on=long_ago, reporter_activity_on=None))
        db.execute(update(Message).where(Message.case_id == old).values(created_on=long_ago))
    page = signed_in(root).get("/admin/retention").get_data(as_text=True)
    assert "Open cases with no activity" in page and "never deleted for being quiet" in page
    assert old in page and fresh not in page
