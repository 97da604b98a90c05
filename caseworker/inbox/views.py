"""The inbox: the cases this caseworker holds a key to, listed from plaintext workflow
metadata only (nothing is decrypted here)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.casework.holders import closures_to_review
from cases.casework.inbox import PAGE_SIZE, SORTS, InboxFilter, inbox_page, labels_in_use
from cases.casework.notices import dismiss, notices_for
from cases.casework.previews import previews
from cases.models import Caseworker, Status, today
from cases.records.audit import record
from caseworker import web
from caseworker.choices import options
from caseworker.forms import PlainForm
from caseworker.inbox.forms import BulkForm, FilterForm, SearchForm
from caseworker.labels import DEADLINE_LABELS, PRIORITY_LABELS, STATUS_LABELS

bp = Blueprint("inbox", __name__)


@bp.before_request
def _caseworkers_only() -> Response | None:
    """The inbox is the caseworkers' home; other roles are sent to theirs."""
    account = web.current_account()
    if account is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if account.is_caseworker:
        return None
    if account.is_admin:
        return redirect(url_for("admin.index"))
    if account.is_custodian:
        return redirect(url_for("identity.index"))
    abort(403)


SORT_LABELS = {
    "due": _l("Next deadline"),
    "received": _l("Newest first"),
    "oldest": _l("Oldest first"),
    "priority": _l("Priority"),
    "activity": _l("Latest reporter activity"),
}


@bp.route("/")
def index() -> str | Response:
    account = web.account()
    db = web.db()
    categories, people = web.lookup_names()
    form = _filter_form(labels_in_use(db, account.id), categories, people)
    filters = _filters_asked()
    on = today()
    page = inbox_page(
        db, account.id, filters, on, current_app.config.get("SEALBOX_INBOX_PAGE_SIZE", PAGE_SIZE)
    )
    shown = previews(db, account.id, web.private_key(), [row.id for row in page.rows])
    if shown:  # decrypted for this page: one audit entry for the page, not one per case
        record(db, "inbox.previewed", actor_id=account.id, cases=sorted(shown))
    return render_template(
        "inbox/index.html",
        form=form,
        page=page,
        on=on,
        categories=categories,
        people=people,
        status_labels=STATUS_LABELS,
        priority_labels=PRIORITY_LABELS,
        deadline_labels=DEADLINE_LABELS,
        next_url=_page_url(after=page.next_cursor) if page.next_cursor else None,
        first_url=_page_url(after=None) if filters.after else None,
        notices=notices_for(db, account.id),
        to_review=closures_to_review(db, account.id),
        plain_form=PlainForm(),
        previews=shown,
        search_form=SearchForm(formdata=None),
        bulk_form=_bulk_form(),
        back=request.full_path.rstrip("?"),
    )


def _bulk_form() -> BulkForm:
    form = BulkForm(formdata=None)
    colleagues = web.db().scalars(
        select(Caseworker)
        .where(Caseworker.active, Caseworker.is_caseworker)
        .order_by(Caseworker.username)
    )
    form.colleague.choices = options(
        [("", _l("Choose a colleague"))] + [(str(c.id), c.name) for c in colleagues]
    )
    return form


def _filter_form(
    labels: list[str], categories: dict[int, str], people: dict[int, str]
) -> FilterForm:
    form = FilterForm(request.args)
    form.status.choices = options(
        [
            ("open", _l("Open cases")),
            ("all", _l("All cases")),
            *[(s.value, STATUS_LABELS[s.value]) for s in Status],
        ]
    )
    by_name = sorted(categories.items(), key=lambda kv: kv[1].lower())
    form.category.choices = options([("", _l("Any")), *by_name])
    form.assignee.choices = options(
        [
            ("", _l("Anyone")),
            ("me", _l("Me")),
            ("none", _l("Nobody")),
            *sorted(people.items(), key=lambda kv: kv[1].lower()),
        ]
    )
    form.label.choices = options([("", _l("Any")), *[(x, x) for x in labels]])
    form.sort.choices = options((k, SORT_LABELS[k]) for k in SORTS)
    return form


def _filters_asked() -> InboxFilter:
    """The filters in the query string; anything malformed means "not filtered"."""
    category = request.args.get("category", "")
    return InboxFilter(
        status=request.args.get("status", "open"),
        category_id=int(category) if category.isdigit() else None,
        assignee=request.args.get("assignee", ""),
        label=request.args.get("label", "")[:64],
        due_soon=bool(request.args.get("due_soon")),
        overdue=bool(request.args.get("overdue")),
        unread=bool(request.args.get("unread")),
        sort=request.args.get("sort", "due"),
        after=request.args.get("after", "")[:200],
    )


def _page_url(*, after: str | None) -> str:
    """This inbox with the same filters, from the cursor ``after`` (None: the first page)."""
    args: dict[str, Any] = request.args.to_dict()
    args.pop("after", None)
    if after is not None:
        args["after"] = after
    return url_for("inbox.index", **args)


@bp.route("/notices/<int:notice_id>/dismiss", methods=["POST"])
def dismiss_notice(notice_id: int) -> Response:
    if not PlainForm().validate_on_submit():
        abort(400)
    dismiss(web.db(), web.account().id, notice_id)
    return redirect(url_for("inbox.index"))


# The content search and the bulk step: routes of this blueprint in their own modules.
from caseworker.inbox import bulk_views, search_views  # noqa: E402, F401
