"""The case page, its downloads and export, and the recording of an oral report.

The actions on a case (POST forms) are one table in ``caseworker.casefile.actions``; every
action and every decryption is audited by ``cases.casework``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.casework import holders as hd
from cases.casework import identity as ia
from cases.casework import oral, reading
from cases.casework.access import CaseworkRefused, case_for
from cases.casework.export import safe_filename
from cases.casework.release import release_attachment
from cases.casework.reply_templates import templates_for
from cases.casework.workflow import is_overdue, no_human_acknowledgement, risk_review_due
from cases.keyring import NoAccess
from cases.models import (
    Attachment,
    Case,
    Caseworker,
    Category,
    IdentityRequest,
    MessageKind,
    Question,
    ReplyTemplate,
    Status,
    today,
)
from cases.readahead import read_ahead
from cases.reporting.minutes import agreed_in_person, awaiting_agreement
from caseworker import web
from caseworker.casefile import forms as f
from caseworker.casefile import tabs
from caseworker.casefile.cleaning_words import cleaning_note
from caseworker.choices import options
from caseworker.labels import (
    COMPLETENESS_LABELS,
    LEVEL_LABELS,
    MEDIUM_LABELS,
    OUTCOME_LABELS,
    PRIORITY_LABELS,
    PROTECTION_LABELS,
    STATUS_LABELS,
)
from config.http import DOWNLOAD_HEADERS, attachment_disposition
from crypto import format_receipt

bp = Blueprint("casefile", __name__, url_prefix="/cases")
bp.before_request(web.require_role("caseworker"))


def _case(case_id: str) -> Case:
    try:
        return case_for(web.db(), case_id, web.account())
    except NoAccess:
        abort(404)


def tab_url(case_id: str, section: str = "") -> str:
    """The tab that shows this section, scrolled to it."""
    tab = tabs.tab_of(section).key
    url = url_for("casefile.view", case_id=case_id, tab=None if tab == tabs.FIRST else tab)
    return url + (f"#{section}" if section else "")


def _back(case: Case, section: str = "") -> Response:
    return redirect(tab_url(case.id, section))


def _grant_choices(
    case: Case, holder_ids: set[int], excluded: dict[int, str]
) -> list[tuple[str, str]]:
    db = web.db()
    rows = db.scalars(
        select(Caseworker)
        .where(Caseworker.active, Caseworker.is_caseworker)
        .order_by(Caseworker.username)
    )
    choices = []
    for person in rows:
        if person.id in holder_ids:
            continue
        label = person.name
        if person.id in excluded:
            label = _("%(name)s (excluded from this case)", name=label)
        choices.append((str(person.id), label))
    return choices


def _recorded(casefile: reading.CaseFile, kind: MessageKind) -> dict[str, Any]:
    """The latest record of this kind (triage, risk), as its form's data: a form shown
    blank, with its defaults, would lower the priority when sent again unchanged."""
    latest = next((m.body for m in reversed(casefile.internal) if m.kind is kind), None)
    if latest is None:
        return {}
    data = {k: v for k, v in latest.items() if v is not None}
    if kind is MessageKind.TRIAGE:
        data["priority"] = str(latest.get("priority", ""))
    if kind is MessageKind.RISK and latest.get("review_on"):
        data["review_on"] = dt.date.fromisoformat(latest["review_on"])
    return data


def _forms(
    case: Case,
    holders: list[Caseworker],
    choices: list[tuple[str, str]],
    casefile: reading.CaseFile,
) -> dict[str, FlaskForm]:
    assign = f.AssignForm(formdata=None)
    assign.assignee.choices = options(
        [("", _("Nobody"))] + [(str(h.id), h.name) for h in holders]
    )
    assign.assignee.data = str(case.assignee_id or "")
    grant = f.GrantForm(formdata=None)
    grant.caseworker.choices = options(choices)
    return {
        "acknowledge_form": f.AcknowledgeForm(formdata=None),
        "triage_form": f.TriageForm(formdata=None, data=_recorded(casefile, MessageKind.TRIAGE)),
        "risk_form": f.RiskForm(formdata=None, data=_recorded(casefile, MessageKind.RISK)),
        "conclude_form": f.ConcludeForm(formdata=None),
        "reopen_form": f.ReasonForm(formdata=None),
        "hold_form": f.LegalHoldForm(formdata=None),
        "link_form": f.LinkForm(formdata=None),
        "assign_form": assign,
        "label_form": f.LabelForm(formdata=None),
        "note_form": f.NoteForm(formdata=None),
        "reply_form": f.ReplyForm(formdata=None),
        "grant_form": grant,
        "identity_form": f.IdentityRequestForm(formdata=None),
        "minutes_form": f.MinutesForm(formdata=None),
        "export_form": f.ExportForm(formdata=None),
        "plain_form": f.PlainForm(),
    }


_LABELS = {
    "status_labels": STATUS_LABELS,
    "priority_labels": PRIORITY_LABELS,
    "outcome_labels": OUTCOME_LABELS,
    "level_labels": LEVEL_LABELS,
    "completeness_labels": COMPLETENESS_LABELS,
    "protection_labels": PROTECTION_LABELS,
    "medium_labels": MEDIUM_LABELS,
}


def _page_forms(
    case: Case,
    holders: list[Caseworker],
    excluded: dict[int, str],
    casefile: reading.CaseFile,
    overrides: dict[str, FlaskForm],
) -> dict[str, FlaskForm]:
    """Every form of the case page, those sent back with errors as they were typed."""
    choices = _grant_choices(case, {h.id for h in holders}, excluded)
    forms = _forms(case, holders, choices, casefile)
    for name, form in overrides.items():
        if name == "grant_form":
            form.caseworker.choices = options(choices)
        if name == "assign_form":
            form.assignee.choices = forms["assign_form"].assignee.choices
        forms[name] = form
    # Several forms on this page share field names (text, reason, priority): give every
    # control a page-unique id so each label and error message points at its own control.
    for name, form in forms.items():
        for fld in form:
            fld.id = fld.label.field_id = f"{name.removesuffix('_form')}-{fld.name}"
    return forms


def _reply_start(
    casefile: reading.CaseFile, forms: dict[str, FlaskForm], overrides: dict[str, FlaskForm]
) -> list[ReplyTemplate]:
    """The reply templates offered, the reporter's language first; the one asked for
    (``?template=``) fills the reply box, unless the box comes back as it was typed."""
    report = casefile.thread[0].body if casefile.thread else {}
    offered = templates_for(web.db(), str(report.get("language", "")))
    chosen = request.args.get("template", "")
    if "reply_form" not in overrides and chosen.isdigit():
        match = next((t for t in offered if t.id == int(chosen)), None)
        if match is not None:
            forms["reply_form"].text.data = match.body
    return offered


def _render(
    case: Case, status: int = 200, section: str = "", tab: str = "", **overrides: FlaskForm
) -> tuple[str, int]:
    """One tab of the case page: ``tab`` by name, or the one that shows ``section`` (where
    the forms sent back with their errors live)."""
    db = web.db()
    account = web.account()
    casefile = reading.read_case(db, case, account, web.private_key())
    holders = hd.holder_accounts(db, case.id)
    excluded = hd.exclusions(db, case.id)
    forms = _page_forms(case, holders, excluded, casefile, overrides)
    offered = _reply_start(casefile, forms, overrides)
    categories, people = web.lookup_names()
    identity_requests = list(
        db.scalars(
            select(IdentityRequest)
            .where(IdentityRequest.case_id == case.id)
            .order_by(IdentityRequest.id.desc())
        )
    )
    questions = {k: v for k, v in db.execute(select(Question.key, Question.label))}
    on = today()
    return render_template(
        "casefile/view.html",
        tab=tabs.tab_named(tab) if tab else tabs.tab_of(section),
        tabs=tabs.TABS,
        case=case,
        file=casefile,
        holders=holders,
        excluded=excluded,
        requests=identity_requests,
        my_pending=any(
            r.requester_id == account.id and r.state == "pending" for r in identity_requests
        ),
        reply_templates=offered,
        reply_limits={"files": web.settings().max_files_per_submission,
                      "file_bytes": web.settings().max_file_bytes},
        cleaning_note=cleaning_note,
        links=reading.links_of(db, case.id),
        history=reading.status_history(db, case.id),
        questions=questions,
        categories=categories,
        people=people,
        on=on,
        overdue=is_overdue(case, on),
        no_human_ack=no_human_acknowledgement(case, on),
        risk_review_due=risk_review_due(case, on),
        minutes_pending=awaiting_agreement(db, case),
        in_person=agreed_in_person(casefile.internal),
        removals=hd.pending_removals(db, case.id),
        closure_review=hd.awaits_closure_review(case),
        Status=Status,
        **_LABELS,
        invalid_forms=[form for form in overrides.values() if form.errors],
        **forms,
    ), status


@bp.route("/<case_id>", defaults={"tab": None})
@bp.route(f"/<case_id>/<any({', '.join(tabs.KEYS[1:])}):tab>")
def view(case_id: str, tab: str | None) -> tuple[str, int]:
    return _render(_case(case_id), tab=tab or tabs.FIRST)


@bp.route("/<case_id>/identity")
def identity(case_id: str) -> str:
    case = _case(case_id)
    try:
        records = ia.read_identity(web.db(), case, web.account(), web.private_key())
    except NoAccess:
        abort(404)
    return render_template("casefile/identity.html", case=case, records=records)


@bp.route("/<case_id>/attachments/<attachment_id>")
def download(case_id: str, attachment_id: str) -> Response:
    """Stream-decrypt one file, as a download that no browser renders inline."""
    case = _case(case_id)
    attachment = web.db().get(Attachment, attachment_id) if len(attachment_id) <= 16 else None
    if attachment is None or attachment.case_id != case.id:
        abort(404)
    release = release_attachment(
        web.db(), web.store(), case, attachment, web.account(), web.private_key()
    )
    # Decrypt the next chunks in a thread of its own while this one sends (read_ahead).
    response = Response(read_ahead(release.chunks), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = attachment_disposition(
        safe_filename(release.meta.name)
    )
    response.headers["Content-Length"] = str(release.meta.size)
    response.headers.update(DOWNLOAD_HEADERS)
    return response


@bp.route("/new-oral", methods=["GET", "POST"])
def new_oral() -> str | tuple[str, int]:
    """Register a report received by phone or in a meeting; show its receipt once."""
    form = f.OralReportForm()
    db = web.db()
    form.category.choices = options(
        [("", _("No category"))]
        + [
            (c.slug, c.name)
            for c in db.scalars(select(Category).where(Category.active).order_by(Category.position))
        ]
    )
    if form.validate_on_submit():
        account = web.account()
        identity = {
            k: v
            for k, v in (
                ("name", (form.identity_name.data or "").strip()),
                ("contact", (form.identity_contact.data or "").strip()),
            )
            if v
        }
        try:
            with db.begin_nested():  # a refusal leaves nothing behind
                case_id, receipt = oral.record_oral_report(
                    db,
                    web.settings(),
                    web.store().policy(db),
                    account,
                    form.minutes.data or "",
                    medium=form.medium.data or "",
                    held_on=form.held_on.data or today(),
                    category_slug=form.category.data or None,
                    identity=identity or None,
                )
            db.commit()  # the receipt is shown only once the case is stored
        except CaseworkRefused as exc:
            form.form_errors.append(_(str(exc)))
            return render_template("casefile/new_oral.html", form=form), 400
        return render_template(
            "casefile/oral_receipt.html", case_id=case_id, receipt=format_receipt(receipt)
        )
    if form.is_submitted():
        return render_template("casefile/new_oral.html", form=form), 400
    if not form.held_on.data:
        form.held_on.data = today()
    return render_template("casefile/new_oral.html", form=form)


# The actions on a case (one table) and the conflict-of-interest step: routes of this
# blueprint in their own modules.
from caseworker.casefile import actions, conflict_views, export_views  # noqa: E402, F401
