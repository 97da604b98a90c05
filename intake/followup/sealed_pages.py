"""What the follow-up page of a sealed session gives its script (static/sealing/
followup-page.mjs): each case's ciphertexts (cases.reporting.sealed_followup), and the
words the script needs to show what it opens in the page's language. No plaintext: the
server has none."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _

from cases.reporting.sealed_followup import SealedThread
from intake.followup.cleaning_words import cleaning_words
from intake.followup.questions import question_words
from intake.report.sealed_form import b64, receipt_kdf_json
from intake.work import settings


def thread_json(ref: str, thread: SealedThread) -> dict[str, Any]:
    """One case's sealed thread, as its section's script element holds it."""
    return {
        "ref": ref,
        "case_id": thread.case_id,
        "thread_key": b64(thread.reporter_thread_key),
        "messages": [
            {"id": m.id, "kind": m.kind.value, "record": b64(m.record)}
            for m in thread.messages
        ],
        "files": [
            {"id": a.id, "from_reporter": a.from_reporter, "on": a.created_on.isoformat(),
             "meta": b64(a.meta), "key": b64(a.file_key),
             "url": url_for("followup.sealed_file", attachment_id=a.id)}
            for a in thread.attachments
        ],
    }


def login_json() -> dict[str, Any]:
    """What the sign-in page's script derives the keys with, and where it sends the token."""
    return {
        "receipt_kdf": receipt_kdf_json(settings()),
        "login": url_for("followup.sealed_login"),
        "words": {
            "deriving": _("Opening your report in this browser…"),
            "failed": _("The connection failed, so nothing was checked. Check it and try "
                        "again."),
            "typo": _("One digit is wrong somewhere, or two digits next to each other are "
                      "swapped: the check cannot tell which group. Compare each of the 7 groups "
                      "with your paper, digit by digit, and try again."),
            "malformed": _("A receipt has 28 digits, usually written in 7 groups of 4. Check "
                           "that you entered all of them, and only digits."),
        },
    }


def page_json() -> dict[str, Any]:
    """The words and addresses the page script needs, for the whole page."""
    builtin, configured = question_words()
    return {
        "files_base": url_for("sealed.start_file", file_id="x").removesuffix("/sealed-files/x"),
        "max_files": settings().max_files_per_submission,
        "max_file_bytes": settings().max_file_bytes,
        "questions": {"builtin": builtin, "configured": configured},
        "cleaning": cleaning_words(),
        "words": {
            "damaged": _("This message could not be opened. The rest of your case is not "
                         "affected."),
            "minutes_agreed": _("You agreed the minutes"),
            "corrected_minutes": _("Corrected minutes of your oral report"),
            "from_you": _("from you"),
            "from_us": _("from us"),
            "sending": _("Sealing and sending…"),
            "empty": _("Write a message or choose a file to send."),
            "failed": _("Nothing was sent: the connection failed. Check it and send again."),
            "no_key": _("This page cannot open your report: your browser no longer has its "
                        "key. Log out and enter your receipt again."),
        },
    }
