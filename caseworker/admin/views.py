"""Administration: accounts and roles, categories and questions, policy, the audit log,
retention purge, and the indicators dashboard. Administrators read no case content here:
everything on these pages is plaintext workflow metadata."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from cases import administration as adm
from cases import indicators
from cases.accounts import AccountError, create_caseworker
from cases.administration import AdminRefused
from cases.audit import record, verify_chain
from cases.casework import OUTCOMES
from cases.models import AuditEntry, Caseworker, Category, CategoryMember, Question, today
from cases.retention import due_for_purge, purge_expired
from cases.store import POLICY_KEYS
from caseworker import LANGUAGE_NAMES, web
from caseworker.admin import forms as f
from caseworker.charts import bar_chart
from caseworker.choices import options
from caseworker.inbox.views import STATUS_LABELS
from caseworker.passphrases import generate_passphrase

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(web.require_role("admin"))

AUDIT_PAGE = 100


def _refused(exc: Exception) -> None:
    flash(_(str(exc)), "error")


@bp.route("")
def index() -> str:
    return render_template("admin/index.html")


# --- accounts ----------------------------------------------------------------------------


def _new_form() -> f.NewCaseworkerForm:
    form = f.NewCaseworkerForm()
    form.language.choices = options(
        (code, LANGUAGE_NAMES.get(code, code)) for code in web.settings().caseworker_languages
    )
    return form


def _accounts_page(form: f.NewCaseworkerForm, status: int = 200) -> tuple[str, int]:
    people = list(web.db().scalars(select(Caseworker).order_by(Caseworker.username)))
    shows_names = web.store().policy(web.db()).show_caseworker_names
    unnamed = [p for p in people if p.active and p.is_caseworker and not p.display_name]
    return render_template(
        "admin/caseworkers.html",
        people=people,
        unnamed=len(unnamed) if shows_names else 0,
        form=form,
        now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    ), status


@bp.route("/caseworkers")
def caseworkers() -> tuple[str, int]:
    return _accounts_page(_new_form())


@bp.route("/caseworkers", methods=["POST"])
def create() -> str | tuple[str, int]:
    form = _new_form()
    if not form.validate_on_submit():
        return _accounts_page(form, 400)
    passphrase = generate_passphrase()
    db = web.db()
    try:
        with db.begin_nested():
            account = create_caseworker(
                db,
                web.settings(),
                form.username.data or "",
                passphrase,
                display_name=form.display_name.data or "",
                team=form.team.data or "",
                caseworker=bool(form.is_caseworker.data),
                custodian=bool(form.is_custodian.data),
                admin=bool(form.is_admin.data),
                actor_id=web.account().id,
            )
            account.language = form.language.data or "en"
    except AccountError as exc:
        form.username.errors = [_account_error(exc)]
        return _accounts_page(form, 400)
    return render_template("admin/caseworker_created.html", person=account, passphrase=passphrase)


def _account_error(exc: AccountError) -> str:
    """cases.accounts words its errors for the CLI; give the form a translatable one."""
    text = str(exc)
    if "taken" in text:
        return _("This username is already taken.")
    if "username" in text:
        return _("A username uses letters, digits, '-', '_' or '.' only.")
    return _("This account cannot be created: %(reason)s", reason=text)


def _person(person_id: int) -> Caseworker:
    person = web.db().get(Caseworker, person_id)
    if person is None:
        abort(404)
    return person


@bp.route("/caseworkers/<int:person_id>")
def caseworker(person_id: int) -> str:
    person = _person(person_id)
    roles = f.RolesForm(formdata=None, obj=person)
    return render_template(
        "admin/caseworker.html",
        person=person,
        profile_form=f.ProfileForm(formdata=None, obj=person),
        roles_form=roles,
        disable_form=f.DisableForm(formdata=None),
        plain_form=f.PlainForm(),
        sole_cases=adm.sole_holder_cases(web.db(), person.id),
        now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )


@bp.route("/caseworkers/<int:person_id>/profile", methods=["POST"])
def profile(person_id: int) -> Response:
    person = _person(person_id)
    form = f.ProfileForm()
    if form.validate_on_submit():
        adm.set_profile(
            web.db(),
            person,
            display_name=form.display_name.data or "",
            team=form.team.data or "",
            actor_id=web.account().id,
        )
        flash(_("The names are saved."), "success")
    else:
        flash(_("A display name has at most 200 characters, a team at most 64."), "error")
    return redirect(url_for("admin.caseworker", person_id=person.id))


@bp.route("/caseworkers/<int:person_id>/roles", methods=["POST"])
def roles(person_id: int) -> Response:
    person = _person(person_id)
    form = f.RolesForm()
    if form.validate_on_submit():
        db = web.db()
        try:
            with db.begin_nested():
                removed = adm.set_roles(
                    db,
                    person,
                    caseworker=bool(form.is_caseworker.data),
                    custodian=bool(form.is_custodian.data),
                    admin=bool(form.is_admin.data),
                    actor_id=web.account().id,
                )
        except AdminRefused as exc:
            _refused(exc)
        else:
            flash(_("Roles saved. %(num)d case keys were deleted.", num=removed), "success")
    return redirect(url_for("admin.caseworker", person_id=person.id))


@bp.route("/caseworkers/<int:person_id>/disable", methods=["POST"])
def disable(person_id: int) -> Response:
    person = _person(person_id)
    form = f.DisableForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm."), "error")
        return redirect(url_for("admin.caseworker", person_id=person.id))
    db = web.db()
    try:
        with db.begin_nested():
            removed = adm.disable(db, person, actor_id=web.account().id)
    except AdminRefused as exc:
        _refused(exc)
    else:
        flash(_("The account is disabled; %(num)d case keys were deleted.", num=removed), "success")
    return redirect(url_for("admin.caseworker", person_id=person.id))


@bp.route("/caseworkers/<int:person_id>/reset-2fa", methods=["POST"])
def reset_2fa(person_id: int) -> Response:
    person = _person(person_id)
    if f.PlainForm().validate_on_submit():
        adm.reset_two_factor(web.db(), person, actor_id=web.account().id)
        flash(
            _("Two-factor sign-in is reset: the next sign-in enrols a new authenticator."),
            "success",
        )
    return redirect(url_for("admin.caseworker", person_id=person.id))


@bp.route("/caseworkers/<int:person_id>/unlock", methods=["POST"])
def unlock(person_id: int) -> Response:
    person = _person(person_id)
    if f.PlainForm().validate_on_submit():
        adm.unlock(web.db(), person, actor_id=web.account().id)
        flash(_("The account can sign in again."), "success")
    return redirect(url_for("admin.caseworker", person_id=person.id))


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
    counts = {}
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
        adm.set_category_members(db, item, set(form.members.data or []), actor_id=web.account().id)
        flash(_("Routing saved: new reports in this category go to these caseworkers."), "success")
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
        changed = {}
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


# --- audit log ---------------------------------------------------------------------------


@bp.route("/audit")
def audit() -> str:
    db = web.db()
    form = f.AuditFilterForm(request.args)
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE + 1)
    before = request.args.get("before", "")
    if before.isdigit():
        query = query.where(AuditEntry.id < int(before))
    action = (request.args.get("action") or "").strip()[:64]
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    case_ref = (request.args.get("case") or "").strip()[:16]
    if case_ref:
        query = query.where(AuditEntry.case_id == case_ref)
    actor = (request.args.get("actor") or "").strip()
    if actor.isdigit():
        query = query.where(AuditEntry.actor_id == int(actor))
    entries = list(db.scalars(query))
    more = len(entries) > AUDIT_PAGE
    entries = entries[:AUDIT_PAGE]
    older_url = None
    if more and entries:
        args = request.args.to_dict()
        args["before"] = str(entries[-1].id)
        older_url = url_for("admin.audit", **args)
    report = verify_chain(db)
    record(db, "audit.viewed", actor_id=web.account().id, chain_ok=report.ok)
    names = {
        cid: username for cid, username in db.execute(select(Caseworker.id, Caseworker.username))
    }
    return render_template(
        "admin/audit.html",
        form=form,
        entries=entries,
        report=report,
        names=names,
        older_url=older_url,
    )


# --- retention ---------------------------------------------------------------------------


@bp.route("/retention", methods=["GET", "POST"])
def retention() -> str | Response | tuple[str, int]:
    db = web.db()
    store = web.store()
    days = store.policy(db).retention_days_after_close
    on = today()
    form = f.PurgeForm()
    if form.validate_on_submit():
        actor_id = web.account().id
        db.commit()  # the purge is a transaction of its own, so its deletions can be scrubbed
        with store.transaction() as purge:
            purged = purge_expired(purge, store.blobs, on, days, actor_id=actor_id)
        store.scrub_freed_data()
        flash(_("%(num)d cases were purged.", num=len(purged)), "success")
        return redirect(url_for("admin.retention"))
    due = due_for_purge(db, on, days)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/retention.html", due=due, days=days, form=form), status


# --- indicators --------------------------------------------------------------------------


def _outcome_names() -> dict[str, str]:
    from caseworker.casefile.forms import OUTCOME_LABELS

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
