"""A report sealed in the real Chromium by intake/static/sealing/sealed-report.mjs, on the
report page under its own Content-Security-Policy (not bypassed), sent to the real intake
server: the back office opens what the browser sealed, the reporter signs in with the
receipt the browser made, and nothing the reporter wrote, nor the receipt, is in any
request the browser sent. A key the server hands out without the signing key's
certificate stops the browser before anything is sealed."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from browserkit import PASSPHRASE, Sealbox, require_browser_libraries
from sqlalchemy import select

from cases.accounts.enrolment import unlock
from cases.casework.reading import read_case
from cases.content import read_identity_record
from cases.keyring import caseworker_key
from cases.models import Case, Caseworker, IdentityRecord, KeyPurpose
from cases.store import Store

pytestmark = pytest.mark.browser

REPORT = "Marker-7Q: the harbour master waves the unregistered tankers through."
ANSWER = "Marker-8R: every Tuesday night"
NAME = "Marker-9S Jo Bloggs"
SEND = """async (arg) => {
  const m = await import('/static/sealing/sealed-report.mjs');
  const csrf = document.querySelector('#report-form input[name=csrf_token]').value;
  try {
    return await m.sendReport('/en/report', csrf, arg.report, arg.identity, {});
  } catch (error) {
    return {refused: error.constructor.name, message: error.message};
  }
}"""


@pytest.fixture
def reporter(sealbox: Sealbox, new_context: Any) -> Any:
    require_browser_libraries()
    sealbox.env["SEALBOX_SEAL_IN_BROWSER"] = "true"  # before the intake first starts
    page = new_context(javascript=True).new_page()
    page.sent = []  # every request body the browser sent
    page.on("request", lambda request: page.sent.append(request.post_data_buffer or b""))
    page.goto(sealbox.intake + "/en/report/")
    return page


def _report() -> dict[str, Any]:
    answers = [{"key": "when", "question": "When did it happen?", "answer": ANSWER}]
    return {"text": REPORT, "answers": answers, "language": "en"}


def test_the_browser_seals_the_report_and_the_server_never_sees_it(
    sealbox: Sealbox, reporter: Any, new_context: Any
) -> None:
    alice = sealbox.add_caseworker("sealed-alice", custodian=True)
    sent = reporter.evaluate(SEND, {"report": _report(), "identity": {"name": NAME}})
    assert "refused" not in sent, sent
    receipt = sent["receipt"]
    assert len(receipt) == 28 and sent["acknowledge_by"] and sent["feedback_by"]

    posted = [body for body in reporter.sent if body]
    assert len(posted) == 1  # the sealed report; the keys were a GET
    for secret in (REPORT, ANSWER, NAME, receipt, "Marker-"):
        for body in posted:
            assert secret.encode() not in body
            assert base64.b64encode(secret.encode()) not in body
    sealed = json.loads(posted[0])

    store = Store(sealbox.settings)
    try:
        with store.transaction() as session:
            account = session.get_one(Caseworker, alice.id)
            key = unlock(account, PASSPHRASE)
            case = session.get_one(Case, sealed["case_id"])
            thread = read_case(session, case, account, key).thread
            assert thread[0].body == _report()
            record = session.scalars(
                select(IdentityRecord).where(IdentityRecord.case_id == case.id)).one()
            identity_key = caseworker_key(session, case.id, KeyPurpose.IDENTITY, alice.id, key,
                                          record.id)
            assert read_identity_record(record, identity_key) == {"name": NAME}
    finally:
        store.dispose()

    # The reporter comes back with JavaScript off and the receipt the browser made.
    follow_up = new_context().new_page()
    follow_up.goto(sealbox.intake + "/en/followup/")
    follow_up.get_by_label("Your receipt").fill(receipt)
    follow_up.get_by_role("button", name="Open my report").click()
    assert REPORT in follow_up.locator("main").inner_text()


def test_a_key_without_the_signing_keys_certificate_stops_the_browser(
    sealbox: Sealbox, reporter: Any
) -> None:
    sealbox.add_caseworker("sealed-alice", custodian=True)

    def substitute(route: Any) -> None:
        keys = route.fetch().json()
        keys["caseworkers"][0]["public_key"] = base64.b64encode(bytes(range(32))).decode()
        route.fulfill(json=keys)

    reporter.route("**/sealing-keys*", substitute)
    sent = reporter.evaluate(SEND, {"report": _report(), "identity": None})
    assert sent["refused"] == "KeysNotVerified"
    assert not [body for body in reporter.sent if body]  # nothing was sent


def test_pages_that_do_not_seal_cannot_run_webassembly(sealbox: Sealbox, reporter: Any) -> None:
    reporter.goto(sealbox.intake + "/en/")
    outcome = reporter.evaluate("""async () => {
      try { await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); }
      catch (error) { return error.name; }
      return 'ran';
    }""")
    assert outcome == "CompileError"
    reporter.goto(sealbox.intake + "/en/report/")
    assert reporter.evaluate("""async () => {
      await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); return 'ran';
    }""") == "ran"
