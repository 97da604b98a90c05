"""The calls the report page's script makes when it seals the report in the browser
(cases.reporting.sealed): the keys to seal with, each sealed file piece by piece
(cases.reporting.staged_files), and the sealed report to store.

All answer 404 unless ``settings.seal_in_browser`` is on. Neither sees a word of the
report or the receipt. The keys depend only on the routing the reporter chose (category
and exclusions: server-visible on both routes, as the case row records them). Sending is
rate-limited and CSRF-checked like the form's own send.
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_babel import gettext as _

from cases.models import Case, today
from cases.reporting.sealed import ID_PATTERN, SealedRefused, sealing_keys, store_sealed_report
from cases.reporting.staged_files import TOKEN_BYTES, StagingRefused, add_piece, token_digest
from crypto import sealed_size
from intake.errors import answers_in_json
from intake.i18n import current_language
from intake.limits import rate_limited
from intake.report.forms import nobody_left
from intake.report.options import FormOptions, load_options
from intake.report.sealed_form import parse_sealed_report, report_limits, sealing_keys_json
from intake.uploads import megabytes
from intake.work import commit, db, settings, store

bp = Blueprint("sealed", __name__)
answers_in_json("sealed.keys", "sealed.send", "sealed.start_file", "sealed.add_file_piece")
UPLOAD_HEADER = "X-Sealbox-Upload"  # the file's upload token, base64
OCTET_STREAM = "application/octet-stream"
# What each refusal of a piece answers with: the page starts the file again on 404 and
# 410, catches up on 409 (the answer says how much is stored).
PIECE_STATUS = {StagingRefused.UNKNOWN: 404, StagingRefused.ORDER: 409,
                StagingRefused.TOO_LARGE: 413, StagingRefused.LOST: 410,
                StagingRefused.MALFORMED: 400}


@bp.before_request
def _only_where_the_browser_seals() -> None:
    """Not there at all unless the operator turned sealing in the browser on: the keys
    hand out the receipt derivation's salt, which an instance that seals only on the
    server keeps out of reach."""
    if not settings().seal_in_browser:
        abort(404)


def _options() -> FormOptions:
    return load_options(db(), store().policy(db()).show_caseworker_names, current_language())


def refusal(reason: str, status: int, **extra: int) -> Response:
    words = {
        SealedRefused.NOBODY: nobody_left(),
        SealedRefused.KEYS_CHANGED: _(
            "Who receives reports changed while you were writing. Send once more: your report "
            "will be sealed again for the people who receive it now."
        ),
        SealedRefused.TAKEN: _("This report could not be stored. Send it once more."),
        SealedRefused.FILE_LOST: _(
            "A file did not arrive whole. Send once more: your files will be sent again."
        ),
        StagingRefused.TOO_LARGE: _(
            "A file is larger than we accept (%(mb)s MB). Nothing was stored.",
            mb=megabytes(settings().max_file_bytes),
        ),
    }
    message = words.get(reason) or _(
        "Your report arrived in a form we cannot store: the page may be out of date. Nothing "
        "was stored. Reload the page and send it again."
    )
    answer = {"error": reason, "message": message, **extra}
    return current_app.make_response((jsonify(answer), status))


@bp.get("/sealing-keys")
def keys() -> Response:
    """The holders' certified keys for this routing (``?category=&exclude=``)."""
    options = _options()
    slug = request.args.get("category", "")
    category = next((c.id for c in options.categories if c.slug == slug), None)
    if slug and category is None:
        return refusal(SealedRefused.MALFORMED, 400)
    excluded = frozenset(options.excluded_ids(request.args.getlist("exclude")))
    found = sealing_keys(db(), store(), category, excluded)
    if not found.caseworkers:
        return refusal(SealedRefused.NOBODY, 409)
    return jsonify(sealing_keys_json(found, settings()))


@bp.post("/send-sealed")
@rate_limited("submit")
def send() -> Response:
    """Store a report sealed in the browser: 201 with the case's deadlines (200 when the
    same report comes again), or the refusal's reason and words."""
    options = _options()
    instance = settings()
    try:
        sealed = parse_sealed_report(request.get_json(silent=True), options)
        before = db().get(Case, sealed.case_id)
        limits = report_limits(options, instance)
        case = store_sealed_report(db(), store(), sealed, limits, today())
    except SealedRefused as refused:
        status = 400 if refused.reason == SealedRefused.MALFORMED else 409
        return refusal(refused.reason, status)
    due = {"acknowledge_by": case.acknowledge_due_on.isoformat(),
           "feedback_by": case.feedback_due_on.isoformat()}
    commit()
    return current_app.make_response((jsonify(due), 200 if before is not None else 201))


@bp.post("/sealed-files/<file_id>")
@rate_limited("write")
def start_file(file_id: str) -> Response:
    """The first piece of a file sealed in the browser, under the id it chose."""
    return _piece(file_id, 0)


@bp.post("/sealed-files/<file_id>/<int:number>")
def add_file_piece(file_id: str, number: int) -> Response:
    """Piece ``number`` (1, 2...) of a file started by the same page (its upload token)."""
    if number < 1:
        abort(404)
    return _piece(file_id, number)


def _upload_token() -> bytes | None:
    try:
        token = base64.b64decode(request.headers.get(UPLOAD_HEADER, ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    return token if len(token) == TOKEN_BYTES else None


def _piece(file_id: str, number: int) -> Response:
    """Store one piece: 200 with the pieces and bytes stored so far, or the refusal."""
    token = _upload_token()
    if not ID_PATTERN.match(file_id) or token is None or request.mimetype != OCTET_STREAM:
        return refusal(StagingRefused.MALFORMED, 400)
    instance = settings()
    try:
        staged = add_piece(db(), store().blobs, file_id, token_digest(instance.server_key, token),
                           number, request.get_data(cache=False),
                           sealed_size(instance.max_file_bytes), today())
    except StagingRefused as refused:
        return refusal(refused.reason, PIECE_STATUS[refused.reason], pieces=refused.pieces,
                        size=refused.size)
    answer = {"pieces": staged.pieces, "size": staged.size}
    commit()
    return jsonify(answer)
