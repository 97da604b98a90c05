"""Property-based fuzzing (hypothesis) of every POST endpoint of both apps.

The endpoints are discovered from ``app.url_map``; the field names come from the forms the
apps actually render (harvested from their pages) mixed with arbitrary names. Values are
arbitrary text (NUL, control and bidirectional characters, astral planes, very long
strings), numbers and sometimes files. Most requests carry a valid CSRF token and a
signed-in session (a reporter in follow-up; a caseworker who is also custodian and admin),
so they reach the views instead of stopping at the CSRF check.

Properties: never a 5xx; and a rejected request (4xx) changes nothing stored: no row
appears or disappears in any content table, and the blob store is unchanged. Session and
audit tables are left out (a failed sign-in is audited, a new receipt look-up ends the
browser's earlier follow-up session, both by design).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from io import BytesIO
from typing import Any

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from secapp import FlaskHTTP, Reporter, forms_of
from sqlalchemy import func, select

from cases.accounts.enrolment import create_caseworker
from cases.accounts.twofactor import TOTP_PERIOD, new_totp_secret, seal_totp_secret
from cases.models import (
    Attachment,
    BlobChunk,
    Case,
    CaseLabel,
    CaseLink,
    Caseworker,
    Category,
    IdentityRecord,
    IdentityRequest,
    Message,
    Question,
    WrappedKey,
)
from cases.store import Store

GENEROUS = {
    "submissions_per_hour_per_client": 100_000,
    "lookups_per_hour_per_client": 100_000,
    "submissions_per_minute_global": 100_000,
    "lookups_per_minute_global": 100_000,
    "login_attempts_before_lockout": 100_000,
}
TABLES = (Case, Message, Attachment, WrappedKey, IdentityRecord, IdentityRequest, CaseLabel,
          CaseLink, Caseworker, Category, Question, BlobChunk)
PASSPHRASE = "correct horse battery staple"
NAME_RE = re.compile(r'name="([^"]+)"')

nasty_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(["", "0", "-1", "999999999999999999999", "1e309", "NaN", "true", "on",
                     "\x00", "\x00" * 50, "\u202e\u200f", "../../etc/passwd", "<script>x</script>",
                     "'; DROP TABLE cases; --", "%s%s%n", "\ud7ff\U0010ffff", "2026-13-45",
                     "a" * 70_000, "en", "fr", "main", "phone", "employee", "low", "high"]),
    st.integers(min_value=-2**63, max_value=2**63).map(str),
)


def snapshot(store: Store) -> tuple[dict[str, int], frozenset[str]]:
    with store.transaction() as db:
        counts = {t.__tablename__: db.scalar(select(func.count()).select_from(t)) or 0
                  for t in TABLES}
    root = store.settings.blob_path
    return counts, frozenset(p.name for p in root.iterdir()) if root.exists() else frozenset()


def harvest(client: Any, paths: list[str]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        r = client.get(path)
        if r.status_code == 200 and r.mimetype == "text/html":
            names |= set(NAME_RE.findall(r.get_data(as_text=True)))
    return names - {"csrf_token"}


def csrf(client: Any, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="(?:[a-z_]+-)?csrf_token"[^>]*value="([^"]+)"', html)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def fill(rule: Any, ids: dict[str, list[Any]], draw: Any) -> str:
    values = {}
    for arg in rule.arguments:
        pool = ids.get(arg, [])
        # Mostly ids that exist; a person is never our own account (disabling it would
        # end the fuzz).
        if arg == "person_id" or (pool and draw(st.integers(0, 99)) < 85):
            values[arg] = draw(st.sampled_from(pool))
        else:
            values[arg] = draw(st.integers(0, 10**6))
    path = rule.rule
    for arg, value in values.items():
        path = re.sub(rf"<(?:[a-z]+:)?{arg}>", str(value), path)
    return path


@st.composite
def requests(draw: Any, rules: list[Any], names: list[str], ids: dict[str, list[Any]]) -> Any:
    rule = draw(st.sampled_from(rules))
    path = fill(rule, ids, draw)
    keys = st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=20))
    fields = draw(st.lists(st.tuples(keys, nasty_text), max_size=12))
    with_csrf = draw(st.integers(0, 9)) > 0  # mostly with a valid token
    files = draw(st.lists(st.tuples(st.text(max_size=40), st.binary(max_size=3000)),
                          max_size=3))
    encoding = draw(st.sampled_from(["multipart", "urlencoded"]))
    return path, fields, with_csrf, files, encoding


def send(client: Any, token: str, req: Any) -> Any:
    from werkzeug.datastructures import MultiDict

    path, fields, with_csrf, files, encoding = req
    data: MultiDict[str, Any] = MultiDict(fields)
    if with_csrf:
        data.setlist("csrf_token", [token])
    if encoding == "multipart":
        for name, content in files:
            data.add("files", (BytesIO(content), name))
        return client.post(path, data=data, content_type="multipart/form-data")
    return client.post(path, data=data)


def check(store: Store, client: Any, token: str, req: Any) -> None:
    before = snapshot(store)
    r = send(client, token, req)
    text = r.get_data().decode("utf-8", "replace")  # an export is a ZIP, not text
    assert r.status_code < 500, f"{req[0]} -> {r.status_code}\n{text[:2000]}"
    assert "Traceback" not in text
    if r.status_code >= 400:
        assert snapshot(store) == before, f"rejected {req[0]} ({r.status_code}) changed storage"


@pytest.fixture
def world(store: Store) -> dict[str, Any]:
    """Both apps on one store, a case with a file, a signed-in reporter and caseworker."""
    from caseworker import create_app as create_caseworker_app
    from intake import create_app as create_intake_app

    s = Store(replace(store.settings, **GENEROUS), engine=store.engine)
    intake = create_intake_app(s.settings, s)
    caseworker = create_caseworker_app(s.settings, s)
    caseworker.config["TESTING"] = True
    secret = new_totp_secret()
    with s.transaction() as db:
        account = create_caseworker(db, s.settings, "alice", PASSPHRASE, custodian=True,
                                    admin=True)
        account.totp_secret_enc = seal_totp_secret(s.settings.server_key, account.id, secret)
        account_id = account.id
        other = create_caseworker(db, s.settings, "bob", PASSPHRASE)
        other_id = other.id
    reporter = Reporter(FlaskHTTP(intake.test_client()))
    receipt = reporter.submit({"description": "fuzz target", "identity_name": "X"},
                              files=[("a.txt", b"evidence")])
    assert reporter.login(receipt).status == 303
    cw = caseworker.test_client()
    r = cw.post("/login", data={"username": "alice", "passphrase": PASSPHRASE,
                                "csrf_token": csrf(cw, "/login")})
    assert r.status_code == 302, r.get_data(as_text=True)[:1000]
    code = pyotp.TOTP(secret).generate_otp(int(time.time()) // TOTP_PERIOD)
    r = cw.post("/login/code", data={"code": code, "csrf_token": csrf(cw, "/login/code")})
    assert r.status_code == 302 and r.location == "/", r.get_data(as_text=True)[:1000]
    with s.transaction() as db:
        case_id = db.scalar(select(Case.id))
    return {"store": s, "intake": intake, "caseworker": caseworker, "reporter": reporter,
            "cw": cw, "case_id": case_id, "account_id": account_id, "other_id": other_id}


def rules_of(app: Any) -> list[Any]:
    return sorted((r for r in app.url_map.iter_rules() if "POST" in r.methods),
                  key=lambda r: r.rule)


def test_every_endpoint_is_fuzzed(world: dict[str, Any]) -> None:
    """The discovery finds the apps' POST endpoints (a guard against fuzzing nothing)."""
    intake = {r.endpoint for r in rules_of(world["intake"])}
    cw = {r.endpoint for r in rules_of(world["caseworker"])}
    assert {"report.submit", "followup.login", "followup.message"} <= intake
    assert {"auth.login", "casefile.reply", "casefile.note", "admin.create"} <= cw


@settings(max_examples=120, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_fuzz_intake_posts(world: dict[str, Any], data: Any) -> None:
    app, reporter = world["intake"], world["reporter"]
    client = reporter.http.client  # type: ignore[attr-defined]
    if "names" not in world:
        world["intake_names"] = sorted(harvest(client, [
            "/en/report/", "/en/followup/", "/en/followup/case", "/en/followup/identity",
            "/en/followup/retaliation"]) | {"description", "receipt", "main-text", "saved"})
        world["names"] = True
    ids = {"lang": ["en", "en", "en", "fr", "ar", "xx"], "ref": ["main", "main", world["case_id"]]}
    token = csrf(client, "/en/report/")
    req = data.draw(requests(rules_of(app), world["intake_names"], ids))
    check(world["store"], client, token, req)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_fuzz_caseworker_posts(world: dict[str, Any], data: Any) -> None:
    app, client = world["caseworker"], world["cw"]
    case_id = world["case_id"]
    if "cw_names" not in world:
        tabs = [f"/cases/{case_id}/{tab}" for tab in ("workflow", "people", "history")]
        pages = ["/", f"/cases/{case_id}", *tabs, "/cases/new-oral", "/account",
                 "/admin/caseworkers",
                 "/admin/categories", "/admin/questions", "/admin/policy", "/admin/retention",
                 "/identity-requests"]
        world["cw_names"] = sorted(harvest(client, pages) | {"username", "passphrase", "code"})
        assert len(world["cw_names"]) > 20, world["cw_names"]
    ids: dict[str, list[Any]] = {"case_id": [case_id, "0000000000000000", "../../x"],
                                 "person_id": [world["other_id"]], "request_id": [1],
                                 "category_id": [1], "question_id": [1]}
    token = csrf(client, "/account")
    rules = [r for r in rules_of(app) if r.endpoint not in ("auth.logout",
                                                              "account.logout_everywhere")]
    req = data.draw(requests(rules, world["cw_names"], ids))
    check(world["store"], client, token, req)
    # Still signed in (the fuzz must keep reaching the views, not the sign-in page).
    assert client.get("/account").status_code == 200, "signed out by the fuzz"


def test_forms_harvested_exist(world: dict[str, Any]) -> None:
    """The case page's forms are spread over its tabs: each tab has its own."""
    case = f"/cases/{world['case_id']}"
    counts = [
        len(forms_of(world["cw"].get(case + tab).get_data(as_text=True)))
        for tab in ("", "/workflow", "/people", "/history")
    ]
    assert all(n >= 2 for n in counts) and sum(counts) > 12, counts
