"""Follow-up with the receipt: status, deadlines, the thread, new messages and files,
late identity disclosure, retaliation reports, log out.

The receipt is accepted by POST only and never kept: it is turned into the reporter's key
(the same Argon2id path for right and wrong receipts), which then lives split between the
cookie and the session row (``sessions``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from cases.content import (
    AttachmentMeta,
    DecryptedMessage,
    attachment_meta,
    open_attachment,
)
from cases.db import stop_reading
from cases.keyring import reporter_thread_key
from cases.models import Attachment, Case, IdentityRecord, MessageKind, Status
from cases.reporting.claim import AlreadyClaimed, claim_receipt, needs_claim, new_reporter_receipt
from cases.reporting.followup import (
    ReporterView,
    find_case,
    reporter_cases,
    reporter_view,
)
from cases.reporting.minutes import latest_minutes_id
from cases.reporting.sealed_followup import sealed_thread
from config.http import attachment_disposition
from crypto import (
    ReceiptMalformed,
    ReceiptTypo,
    ReporterKeys,
    derive_reporter_keys,
    format_receipt,
    normalize_receipt,
)
from intake.followup import sessions
from intake.followup.cleaning_words import cleaning_note
from intake.followup.forms import MessageForm, ReceiptForm
from intake.followup.questions import question_labels
from intake.followup.sealed_pages import login_json, page_json, thread_json
from intake.followup.sessions import Expired, Reporter
from intake.limits import rate_limited
from intake.uploads import (
    file_choices_sent,
)
from intake.work import commit, db, settings, store

bp = Blueprint("followup", __name__)


# -- who is asking -----------------------------------------------------------------------


def _reporter() -> Reporter | None:
    """The session's reporter; None if there is none or it just expired (its row is then
    deleted and committed, in a transaction of its own if the request's only read)."""
    try:
        return sessions.current(db())
    except Expired:
        stop_reading(db())
        sessions.end(db())
        commit()
        return None


def _expired_response(draft: str = "") -> Response:
    form = ReceiptForm(formdata=None)
    form.draft.data = draft
    notice = _("Your session has ended, so nothing was sent. Enter your receipt again to continue.")
    return _render_login(form, 401, notice=notice)


def _cases_of(reporter: Reporter) -> dict[str, Case]:
    """The cases this session may see: its own, and the retaliation cases made from it."""
    return {case.id: case for case in reporter.cases}


def _target(reporter: Reporter, ref: str) -> Case:
    cases = _cases_of(reporter)
    case = reporter.case if ref == "main" else cases.get(ref)
    if case is None:
        raise NotFound()
    return case


# -- pages -------------------------------------------------------------------------------


def _render_login(form: ReceiptForm, status: int = 200, notice: str | None = None) -> Response:
    sealing = login_json() if settings().seal_in_browser else None
    if sealing is not None:
        g.seals_in_browser = True  # its script derives the keys with WebAssembly
    html = render_template("followup/login.html", form=form, notice=notice, sealing=sealing)
    return current_app.make_response((html, status))


@bp.route("/", methods=["GET", "POST"])
@rate_limited("lookup")
def login() -> Response:
    if request.method == "GET":
        if _reporter() is not None:
            return redirect(url_for(".case"), code=303)  # type: ignore[return-value]
        notice = (
            _("Your session ended. Enter your receipt again to continue.")
            if request.args.get("ended")
            else None
        )
        return _render_login(ReceiptForm(formdata=None), notice=notice)
    form = ReceiptForm(request.form)
    try:
        receipt = normalize_receipt(form.receipt.data or "")
    except ReceiptTypo:
        form.receipt.errors = [
            _(
                "One digit is wrong somewhere, or two digits next to each other are swapped: "
                "the check cannot tell which group. Compare each of the 7 groups with your "
                "paper, digit by digit, and try again."
            )
        ]
        return _render_login(form, 400)
    except ReceiptMalformed:
        form.receipt.errors = [
            _(
                "A receipt has 28 digits, usually written in 7 groups of 4. "
                "Check that you entered all of them, and only digits."
            )
        ]
        return _render_login(form, 400)
    instance = settings()
    # Argon2id before any statement: on SQLite the first one takes the write lock, which
    # every other request of the instance would then wait on for the whole derivation.
    derived = derive_reporter_keys(receipt, instance.instance_salt, instance.receipt_kdf)
    sessions.end(db())  # a new log-in replaces any earlier session of this browser
    case, derived = find_case(db(), instance, receipt, derived)
    own_receipt = None
    keys: ReporterKeys | None = derived
    if case is not None and needs_claim(case):
        own_receipt, keys = _take_over(derived)
    if case is None or keys is None:
        commit()
        form.receipt.errors = [
            _(
                "No report matches this receipt. Check the digits and try again. "
                "If you have lost your receipt, you can make a new report."
            )
        ]
        return _render_login(form, 400)
    sessions.start(db(), reporter_cases(db(), keys.public_key), keys.private_key)
    commit()
    if own_receipt is not None:
        return _render_own_receipt(own_receipt)
    if form.draft.data:
        return _render_case(draft=form.draft.data)
    return redirect(url_for(".case"), code=303)  # type: ignore[return-value]


def _take_over(handed: ReporterKeys) -> tuple[str, ReporterKeys | None]:
    """First use of a receipt a caseworker handed over (an oral report): replace it by a
    new one that only this reporter sees (cases.reporting.claim). The new receipt's derivation runs
    outside any transaction (on SQLite a transaction holds the write lock)."""
    commit()
    receipt, own = new_reporter_receipt(settings())
    try:
        claim_receipt(db(), handed, own)
    except AlreadyClaimed:
        db().rollback()
        return receipt, None
    return receipt, own


def _render_own_receipt(receipt: str) -> Response:
    html = render_template(
        "followup/own_receipt.html", receipt=receipt, groups=format_receipt(receipt).split(" ")
    )
    return current_app.make_response((html, 200))


def status_words(case: Case) -> str:
    words: dict[Status, str] = {
        Status.RECEIVED: _("Your report has arrived. Nobody has confirmed reading it yet."),
        Status.ACKNOWLEDGED: _(
            "We have confirmed receiving your report. It will be assessed soon."
        ),
        Status.TRIAGED: _("Your report has been assessed and is being dealt with."),
        Status.INVESTIGATING: _("Your report is being investigated."),
        Status.CONCLUDED: _(
            "The work on your report is finished. Read our latest message for the outcome."
        ),
        Status.CLOSED: _("This case is closed. You can still read it and write to us."),
    }
    return words[case.status]





@dataclass
class CaseView:
    ref: str
    case: Case
    messages: list[DecryptedMessage]
    attachments: list[AttachmentMeta]
    retaliation: bool
    form: MessageForm
    file_errors: list[str]
    # The file boxes as the reporter sent them (shown again on an error), by field name.
    file_choices: dict[str, bool] = field(default_factory=dict)
    minutes: DecryptedMessage | None = None  # an oral report's current minutes
    minutes_held_on: dt.date | None = None
    # A sealed session: the thread as stored, for the page script to open, and the id of
    # the current minutes (their words are in the thread).
    sealed: dict[str, Any] | None = None
    sealed_minutes_id: str | None = None
    sealed_dates: dict[str, dt.date] = field(default_factory=dict)  # of messages and files


def _case_view(
    reporter: Reporter,
    case: Case,
    ref: str,
    form: MessageForm | None = None,
    file_errors: list[str] | None = None,
) -> CaseView:
    form = form or MessageForm(formdata=None, prefix=ref)
    if reporter.private_key is None:
        minutes_id = latest_minutes_id(db(), case.id) if case.channel == "oral" else None
        thread = sealed_thread(db(), case)
        dates = {m.id: m.created_on for m in thread.messages}
        dates.update((a.id, a.created_on) for a in thread.attachments)
        return CaseView(ref, case, [], [], ref != "main", form, file_errors or [],
                        sealed=thread_json(ref, thread), sealed_minutes_id=minutes_id,
                        sealed_dates=dates)
    view: ReporterView = reporter_view(db(), case, reporter.private_key)
    messages = [
        m
        for m in view.messages
        if m.kind
        in (
            MessageKind.REPORT,
            MessageKind.REPORTER_MESSAGE,
            MessageKind.REPLY,
            MessageKind.MINUTES,
        )
    ]
    minutes = None
    held_on = None
    if case.channel == "oral":
        found = [m for m in messages if m.kind is MessageKind.MINUTES]
        minutes = found[-1] if found else None
        first = found[0].body.get("held_on") if found else None
        try:
            held_on = dt.date.fromisoformat(first) if first else None
        except (TypeError, ValueError):
            held_on = None
    return CaseView(
        ref,
        case,
        messages,
        view.attachments,
        ref != "main",
        form,
        file_errors or [],
        file_choices_sent(request.form) if form is not None else {},
        minutes,
        held_on,
    )


def _render_case(
    status: int = 200,
    draft: str = "",
    active: str = "main",
    form: MessageForm | None = None,
    file_errors: list[str] | None = None,
) -> Response:
    reporter = _reporter()
    if reporter is None:
        return _expired_response(draft)
    views = []
    for ref, case in [("main", reporter.case)] + [(c.id, c) for c in reporter.cases[1:]]:
        if ref == active:
            views.append(_case_view(reporter, case, ref, form, file_errors))
        else:
            views.append(_case_view(reporter, case, ref))
    if draft and views:
        views[0].form.text.data = draft
    identity_dates = list(
        db().scalars(
            select(IdentityRecord.created_on)
            .where(IdentityRecord.case_id == reporter.case.id)
            .order_by(IdentityRecord.created_on)
        )
    )
    commit()  # the idle timestamp in the cookie moved; nothing else changed
    html = render_template(
        "followup/case.html",
        views=views,
        identity_dates=identity_dates,
        status_words=status_words,
        question_label=question_labels(),
        cleaning_note=cleaning_note,
        done=request.args.get("done"),
        sent_at=request.args.get("at", ""),
        limits=settings(),
        sealed_page=page_json() if reporter.sealed else None,
    )
    if reporter.sealed:
        g.seals_in_browser = True  # its script opens the thread with WebAssembly
    return current_app.make_response((html, status))


@bp.get("/case")
def case() -> Response:
    if _reporter() is None:
        return redirect(url_for(".login", ended=1), code=303)  # type: ignore[return-value]
    return _render_case()


@bp.get("/files/<attachment_id>")
def download(attachment_id: str) -> Response:
    reporter = _reporter()
    if reporter is None:
        return redirect(url_for(".login", ended=1), code=303)  # type: ignore[return-value]
    attachment = db().get(Attachment, attachment_id)
    if attachment is None or attachment.internal or attachment.case_id not in _cases_of(reporter):
        raise NotFound()  # an internal note's file is the caseworkers' alone
    if reporter.private_key is None:
        raise NotFound()  # a sealed session: the page fetches it sealed (sealed_views)
    thread_key = reporter_thread_key(db(), attachment.case_id, reporter.private_key)
    meta = attachment_meta(attachment, thread_key)
    commit()
    the_store = store()

    def chunks() -> Iterator[bytes]:
        # A session of its own, for as long as the client reads: the request's is closed
        # when the view returns, and reading chunks through it would open a connection
        # that nothing closes (a database blob store's, left idle in a transaction).
        with the_store.reader() as own:  # no write lock for as long as the reporter downloads
            row = own.get_one(Attachment, attachment_id)
            yield from open_attachment(the_store.blobs, own, row, thread_key)

    response = current_app.response_class(chunks(), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = attachment_disposition(meta.name)
    response.headers["Content-Length"] = str(meta.size)
    return response


@bp.post("/logout")
def logout() -> Response:
    sessions.end(db())
    commit()
    response = current_app.make_response(render_template("followup/logout.html"))
    # Ask the browser to forget everything of this site: cookies, storage, cached pages.
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


# Writing to the case (messages, the minutes' agreement, identity, retaliation): routes of
# this blueprint in a module of their own.
from intake.followup import sealed_views, writing_views  # noqa: E402, F401
