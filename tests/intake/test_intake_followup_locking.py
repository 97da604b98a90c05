"""Follow-up sign-in and SQLite's write lock: the receipt's Argon2id runs before the
request's first statement, even when an earlier session's row must be deleted."""

from __future__ import annotations

from pageforms import csrf_of


def test_signing_in_again_derives_before_taking_the_database(browser, store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A reporter who signs in while an earlier session is still in the cookie: its row is
    deleted, but only after the Argon2id (on SQLite the first statement takes the write
    lock, which the whole instance would wait on during the derivation)."""
    from sqlalchemy import event

    from intake.followup import views

    receipt = browser.submit()
    assert browser.login(receipt).status_code == 303
    order: list[str] = []
    real = views.derive_reporter_keys

    def derive(*args, **kwargs):  # type: ignore[no-untyped-def]
        order.append("derive")
        return real(*args, **kwargs)

    def begin(_conn) -> None:  # type: ignore[no-untyped-def]
        order.append("begin")

    monkeypatch.setattr(views, "derive_reporter_keys", derive)
    event.listen(store.engine, "begin", begin)
    try:
        page = browser.case_page().get_data(as_text=True)  # signed in: the case, its token
        order.clear()
        response = browser.client.post(browser.url("followup/"), data={
            "csrf_token": csrf_of(page), "receipt": receipt})
    finally:
        event.remove(store.engine, "begin", begin)
    assert response.status_code == 303
    assert order[0] == "derive" and "begin" in order
