"""Administration: accounts and roles, categories and questions, policy, the audit log,
retention purge, and the indicators dashboard. Administrators read no case content here:
everything on these pages is plaintext workflow metadata."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from cases.accounts import administration as adm
from cases.accounts import approvals
from cases.accounts.administration import AdminRefused
from cases.accounts.approvals import Kind
from cases.casework import indicators
from cases.casework.ageing import abandoned_for_purge, quiet_cases
from cases.casework.choices import OUTCOMES
from cases.models import Caseworker, Category, CategoryMember, Question, today
from cases.records.audit import record
from cases.records.retention import (
    due_for_purge,
    kept_for_review,
    purge_abandoned,
    purge_expired_in_batches,
)
from cases.store import POLICY_KEYS
from caseworker import templating, web
from caseworker.admin import forms as f
from caseworker.charts import bar_chart
from caseworker.choices import options
from caseworker.labels import OUTCOME_LABELS, STATUS_LABELS

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(web.require_role("admin"))

def _refused(exc: Exception) -> None:
    flash(_(str(exc)), "error")


@bp.route("")
def index() -> str:
    return render_template("admin/index.html", waiting=len(approvals.pending(web.db())))


# --- categories and questions ------------------------------------------------------------


def _save_category(db: Session, item: Category | None, form: f.CategoryForm) -> Category | None:
    """Save a new (``item`` None) or existing category; on refusal mark the form and
    return None so the page is shown again with the error."""
    try:
        with db.begin_nested():
            return adm.save_category(
                db,
                item,
                slug=form.slug.data or "",
                name=form.name.data or "",
                description=form.description.data or "",
                position=form.position.data or 0,
                active=bool(form.active.data),
                actor_id=web.account().id,
            )
    except AdminRefused as exc:
        form.slug.errors = [_(str(exc))]
        return None


@bp.route("/categories", methods=["GET", "POST"])
def categories() -> str | Response | tuple[str, int]:
    db = web.db()
    form = f.CategoryForm()
    if form.validate_on_submit() and (category := _save_category(db, None, form)) is not None:
        return redirect(url_for("admin.category", category_id=category.id))
    rows = list(db.scalars(select(Category).order_by(Category.position, Category.name)))
    counts: dict[int, int] = {}
    for member in db.scalars(select(CategoryMember)):
        counts[member.category_id] = counts.get(member.category_id, 0) + 1
    status = 400 if form.is_submitted() else 200
    return render_template("admin/categories.html", rows=rows, counts=counts, form=form), status


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def category(category_id: int) -> str | Response | tuple[str, int]:
    db = web.db()
    item = db.get(Category, category_id)
    if item is None:
        abort(404)
    form = f.CategoryForm(obj=item)
    members = f.MembersForm(formdata=None)
    people = list(
        db.scalars(
            select(Caseworker)
            .where(Caseworker.active, Caseworker.is_caseworker)
            .order_by(Caseworker.username)
        )
    )
    members.members.choices = options((p.id, p.name) for p in people)
    members.members.data = [m.caseworker_id for m in item.members]
    if form.validate_on_submit() and _save_category(db, item, form) is not None:
        flash(_("The category is saved."), "success")
        return redirect(url_for("admin.category", category_id=item.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/category.html", item=item, form=form, members=members), status


@bp.route("/categories/<int:category_id>/members", methods=["POST"])
def category_members(category_id: int) -> Response:
    db = web.db()
    item = db.get(Category, category_id)
    if item is None:
        abort(404)
    form = f.MembersForm()
    if form.validate_on_submit():
        members = sorted(set(form.members.data or []))
        approvals.request(
            db, Kind.MEMBERS, actor_id=web.account().id, category=item, members=members
        )
        flash(_("Routing change requested: it applies when another administrator approves it."),
              "success")
    return redirect(url_for("admin.category", category_id=item.id))


def _save_question(db: Session, item: Question | None, form: f.QuestionForm) -> bool:
    """Save a new (``item`` None) or existing question; on refusal mark the form and
    return False so the page is shown again with the error."""
    try:
        with db.begin_nested():
            adm.save_question(
                db,
                item,
                key=form.key.data or "",
                label=form.label.data or "",
                help_text=form.help_text.data or "",
                kind=form.kind.data or "text",
                choices=form.choices.data or "",
                position=form.position.data or 0,
                active=bool(form.active.data),
                actor_id=web.account().id,
            )
    except AdminRefused as exc:
        form.key.errors = [_(str(exc))]
        return False
    flash(_("The question is saved."), "success")
    return True


@bp.route("/questions", methods=["GET", "POST"])
def questions() -> str | Response | tuple[str, int]:
    db = web.db()
    form = f.QuestionForm()
    if form.validate_on_submit() and _save_question(db, None, form):
        return redirect(url_for("admin.questions"))
    rows = list(db.scalars(select(Question).order_by(Question.position, Question.id)))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/questions.html", rows=rows, form=form), status


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
def question(question_id: int) -> str | Response | tuple[str, int]:
    db = web.db()
    item = db.get(Question, question_id)
    if item is None:
        abort(404)
    form = f.QuestionForm(obj=item)
    if form.validate_on_submit() and _save_question(db, item, form):
        return redirect(url_for("admin.questions"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/question.html", item=item, form=form), status


# --- policy ------------------------------------------------------------------------------


@bp.route("/policy", methods=["GET", "POST"])
def policy() -> str | Response | tuple[str, int]:
    db = web.db()
    store = web.store()
    current = store.policy(db)
    form = f.PolicyForm(obj=current)
    if form.validate_on_submit():
        changed: dict[str, Any] = {}
        for key in POLICY_KEYS:
            was, given = getattr(current, key), getattr(form, key).data
            value = bool(given) if isinstance(was, bool) else int(given)
            if value != was:
                store.set_policy(db, key, value)
                changed[key] = value
        record(db, "policy.changed", actor_id=web.account().id, **changed)
        flash(
            _("The policy is saved. New deadlines apply to reports received from now on."),
            "success",
        )
        return redirect(url_for("admin.policy"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/policy.html", form=form, settings=web.settings()), status


# --- retention ---------------------------------------------------------------------------


@bp.route("/retention", methods=["GET", "POST"])
def retention() -> str | Response | tuple[str, int]:
    db = web.db()
    store = web.store()
    policy = store.policy(db)
    days = policy.retention_days_after_close
    on = today()
    form = f.PurgeForm()
    if form.validate_on_submit():
        actor_id = web.account().id
        db.commit()  # the purge is a transaction of its own, so its deletions can be scrubbed
        purged = purge_expired_in_batches(store.transaction, store.blobs, on, days,
                                          actor_id=actor_id)
        with store.transaction() as purge:
            purged += len(purge_abandoned(
                purge, store.blobs, on, policy.abandoned_case_retention_days, actor_id=actor_id
            ))
        store.scrub_freed_data()
        flash(templating.gettext("%(num)d cases were purged.", num=purged), "success")
        return redirect(url_for("admin.retention"))
    due = due_for_purge(db, on, days)
    abandoned = abandoned_for_purge(db, on, policy.abandoned_case_retention_days)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/retention.html", due=due, days=days, form=form, unreviewed=kept_for_review(db),
        quiet=quiet_cases(db, on, policy.quiet_case_days), quiet_days=policy.quiet_case_days,
        abandoned=abandoned, abandoned_days=policy.abandoned_case_retention_days,
    ), status


# --- indicators --------------------------------------------------------------------------


def _outcome_names() -> dict[str, str]:
    return {key: str(OUTCOME_LABELS.get(key, key)) for key in OUTCOMES}


@bp.route("/dashboard")
def dashboard() -> str:
    db = web.db()
    ind = indicators.compute(db, today(), uncategorised=_("Uncategorised"))
    record(db, "dashboard.viewed", actor_id=web.account().id)
    outcome_names = _outcome_names()
    status_data = {str(STATUS_LABELS[k]): v for k, v in ind.by_status.items()}
    outcome_data = {outcome_names.get(k, k): v for k, v in ind.by_outcome.items()}
    charts = {
        "status": bar_chart("chart-status", _("Cases by status"), status_data),
        "category": bar_chart("chart-category", _("Cases by category"), ind.by_category),
        "outcome": bar_chart("chart-outcome", _("Outcomes of concluded cases"), outcome_data),
    }
    return render_template(
        "admin/dashboard.html",
        ind=ind,
        charts=charts,
        status_data=status_data,
        outcome_data=outcome_data,
    )


@bp.route("/dashboard.csv")
def dashboard_csv() -> Response:
    db = web.db()
    on = today()
    ind = indicators.compute(db, on)
    record(db, "indicators.exported", actor_id=web.account().id)
    response = Response(indicators.to_csv(ind), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="sealbox-indicators-{on.isoformat()}.csv"'
    )
    return response


# The account, approval and audit log pages are views of this blueprint too (their own modules).
from caseworker.admin import (  # noqa: E402, F401
    accounts,
    approvals_views,
    audit_views,
    reply_templates_views,
    texts_views,
)
