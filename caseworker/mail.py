"""The notices' mails (cases.notifications): one short, content-free mail per person and
drain, in that person's language, sent over SMTP (config.mail).

A mail names no case, quotes nothing, and carries no category or reporter detail: only
how many new reports, reporter messages, near or passed deadlines, hand-overs and quiet
cases wait (and, for administrators, that something needs them), and the back office's
address. Its subject is the same whatever happened.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid
from pathlib import Path
from types import TracebackType

from babel.support import Translations

from cases.models import Caseworker, utcnow
from cases.notifications.outbox import (
    ACCOUNT_LOCKED,
    AUDIT_BROKEN,
    CASE_HANDED,
    CASE_IDLE,
    CASE_REMOVED,
    CASES_UNHELD,
    DEADLINE_PASSED,
    DEADLINE_SOON,
    IDENTITY_REQUEST,
    MAINTENANCE_FAILED,
    NEW_REPORT,
    RECOVERY_USED,
    REPORTER_MESSAGE,
)
from config import Settings
from config.mail import Mailer
from config.mailcrypt import encrypted_notice

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


# Each counted event's line, in the reader's language (each lambda gets the catalogue's
# ngettext under that name, so pybabel extracts the phrases).
_COUNTED: tuple[tuple[str, Callable[[Callable[[str, str, int], str], int], str]], ...] = (
    (NEW_REPORT, lambda ngettext, n: ngettext("%(num)d new report", "%(num)d new reports", n)),
    (REPORTER_MESSAGE, lambda ngettext, n: ngettext(
        "%(num)d new message from a reporter", "%(num)d new messages from reporters", n)),
    (DEADLINE_SOON, lambda ngettext, n: ngettext(
        "%(num)d case whose deadline is near", "%(num)d cases whose deadlines are near", n)),
    (DEADLINE_PASSED, lambda ngettext, n: ngettext(
        "%(num)d case past its deadline", "%(num)d cases past their deadlines", n)),
    (CASE_HANDED, lambda ngettext, n: ngettext(
        "%(num)d case given or handed over to you", "%(num)d cases given or handed over to you",
        n)),
    (CASE_REMOVED, lambda ngettext, n: ngettext(
        "You were removed from %(num)d case", "You were removed from %(num)d cases", n)),
    (CASE_IDLE, lambda ngettext, n: ngettext(
        "%(num)d case has had no activity for a long time",
        "%(num)d cases have had no activity for a long time", n)),
    (IDENTITY_REQUEST, lambda ngettext, n: ngettext(
        "%(num)d identity request waiting for a custodian",
        "%(num)d identity requests waiting for a custodian", n)),
    (ACCOUNT_LOCKED, lambda ngettext, n: ngettext(
        "%(num)d account locked after repeated failed sign-ins",
        "%(num)d accounts locked after repeated failed sign-ins", n)),
)


def compose(account: Caseworker, counts: Counter[str], settings: Settings) -> EmailMessage:
    translations = Translations.load(str(TRANSLATIONS), [account.language or "en"])
    _ = translations.gettext
    ngettext = translations.ngettext
    waiting = [
        phrase(ngettext, counts[event]) % {"num": counts[event]}
        for event, phrase in _COUNTED if counts[event]
    ]
    if counts[AUDIT_BROKEN]:
        waiting.append(_("The audit log check found a problem: run `sealbox audit verify`."))
    if counts[RECOVERY_USED]:
        waiting.append(_("The organisation recovery key was used: the audit log says what "
                         "it opened."))
    if counts[CASES_UNHELD]:
        waiting.append(_("Some cases are held by no account: only the recovery key opens "
                         "them. Give them to a caseworker (`sealbox recovery grant`)."))
    if counts[MAINTENANCE_FAILED]:
        waiting.append(_("A backup or the nightly purge failed: see the server's journal."))
    link = settings.caseworker_url or _("the Sealbox back office")
    body = "\n\n".join([
        _("Something is waiting for you in Sealbox:"),
        "\n".join(f"  - {line}" for line in waiting),
        _("Sign in to see it: %(link)s") % {"link": link},
        _("This message names no case and quotes nothing, on purpose. You can choose which "
          "notices you get under \u201cMy account\u201d."),
    ])
    message = EmailMessage()
    message["Subject"] = _("Sealbox: something is waiting for you")
    message["From"] = settings.mail_from
    message["To"] = account.notice_email
    message["Date"] = format_datetime(utcnow().replace(tzinfo=dt.UTC))
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(body)
    return message


def sealed(message: EmailMessage, account: Caseworker) -> Message:
    """The mail as sent: encrypted to the person's key when they gave one; an encryption
    that fails raises (config.mailcrypt.NoticeKeyError), so the notice waits rather than
    going in the clear."""
    return encrypted_notice(message, account.notice_key) if account.notice_key else message


class Delivery:
    """``deliver`` for ``cases.notifications.outbox.drain``: composes each mail and sends
    it on one SMTP connection, opened at the first mail (none when nothing is due). Once
    the server cannot be reached, the rest of the batch fails at once (and is tried again
    later) instead of waiting out the connection timeout for every person."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._mailer: Mailer | None = None
        self._unreachable = False

    def __call__(self, account: Caseworker, counts: Counter[str]) -> None:
        if self._unreachable:
            raise ConnectionError("the mail server could not be reached in this batch")
        message = sealed(compose(account, counts, self._settings), account)
        if self._mailer is None:
            try:
                self._mailer = Mailer(self._settings).__enter__()
            except BaseException:
                self._unreachable = True
                raise
        try:
            self._mailer.send(message)
        except BaseException:
            self.close()  # a broken connection: the next mail opens a new one
            raise

    def close(self) -> None:
        mailer, self._mailer = self._mailer, None
        if mailer is not None:
            mailer.__exit__(None, None, None)

    def __enter__(self) -> Delivery:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
