"""The audit log for people: each action by its name, details as labelled values with
names for account ids, filters by what, by whom (by name) and by case, and views left out
on request. The chain is verified on every visit, and the visit itself is audited."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from cases.models import AuditEntry, Caseworker
from cases.records.audit import record, verify_chain
from caseworker import web
from caseworker.admin import forms as f
from caseworker.admin.views import bp
from caseworker.audit_labels import ACTION_LABELS, VIEWS, action_label, describe
from caseworker.choices import options

AUDIT_PAGE = 100
# Families of actions, chosen by their prefix.
GROUPS = {
    "case.": _l("Everything on cases"),
    "login.": _l("Signing in"),
    "caseworker.": _l("Accounts"),
    "identity.": _l("Reporters' identity"),
    "recovery.": _l("The recovery key"),
}


@bp.route("/audit")
def audit() -> str:
    db = web.db()
    names = {cid: name for cid, name in db.execute(select(Caseworker.id, Caseworker.username))}
    form = _filter_form(names)
    query = _filtered(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE + 1))
    entries = list(db.scalars(query))
    older_url = None
    if len(entries) > AUDIT_PAGE:
        entries = entries[:AUDIT_PAGE]
        args: dict[str, Any] = request.args.to_dict() | {"before": str(entries[-1].id)}
        older_url = url_for("admin.audit", **args)
    report = verify_chain(db)
    record(db, "audit.viewed", actor_id=web.account().id, chain_ok=report.ok)
    return render_template(
        "admin/audit.html", form=form, report=report, names=names, older_url=older_url,
        entries=[(e, action_label(e.action), describe(e.detail, names)) for e in entries],
    )


def _filter_form(names: dict[int, str]) -> f.AuditFilterForm:
    form = f.AuditFilterForm(request.args)
    by_label = sorted(ACTION_LABELS.items(), key=lambda kv: str(kv[1]).lower())
    form.action.choices = options([("", _l("Anything")), *GROUPS.items(), *by_label])
    form.actor.choices = options([("", _l("Anyone")), ("none", _l("The system")), *[
        (str(cid), name) for cid, name in sorted(names.items(), key=lambda kv: kv[1].lower())]])
    return form


def _filtered(query: Select[Any]) -> Select[Any]:
    """The query narrowed to the filters asked for; anything malformed filters nothing."""
    args = request.args
    before = args.get("before", "")
    if before.isdigit():
        query = query.where(AuditEntry.id < int(before))
    action = args.get("action", "").strip()[:64]
    if action.endswith("."):
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    elif action:
        query = query.where(AuditEntry.action == action)
    actor = args.get("actor", "")
    if actor == "none":
        query = query.where(AuditEntry.actor_id.is_(None))
    elif actor.isdigit():
        query = query.where(AuditEntry.actor_id == int(actor))
    case_ref = args.get("case", "").strip()[:16]
    if case_ref:
        query = query.where(AuditEntry.case_id == case_ref)
    if args.get("hide_views"):
        query = query.where(AuditEntry.action.not_in(VIEWS))
    return query
