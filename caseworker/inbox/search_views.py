"""Searching the content of one's cases (the rule and its bound: cases.casework.search).

A POST, so the words never appear in a URL; the result page is rendered in reply to it.
The audit records which cases matched, not the words."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from cases.casework.access import CaseworkRefused
from cases.casework.search import search_cases
from cases.db import reading_apart
from cases.records.audit import record
from caseworker import web
from caseworker.inbox.forms import SearchForm
from caseworker.inbox.views import bp
from caseworker.labels import KIND_LABELS


@bp.route("/search", methods=["GET", "POST"])
def search() -> str | tuple[str, int]:
    form = SearchForm()
    if not form.is_submitted():
        return render_template("inbox/search.html", form=form, found=None)
    if not form.validate():
        return render_template("inbox/search.html", form=form, found=None), 400
    account_id = web.account().id
    db = web.db()
    try:
        with reading_apart(db):  # every held case decrypted: no lock held meanwhile
            found = search_cases(db, account_id, web.private_key(), form.q.data or "")
    except CaseworkRefused as exc:
        form.q.errors = [_(str(exc))]
        return render_template("inbox/search.html", form=form, found=None), 400
    record(
        db, "inbox.searched", actor_id=account_id,
        searched=found.searched, matched=found.matched, cases=[h.case_id for h in found.hits],
    )
    return render_template("inbox/search.html", form=form, found=found, kind_labels=KIND_LABELS)
