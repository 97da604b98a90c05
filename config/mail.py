"""Sending mail over SMTP with the standard library (``smtplib``, ``email``): STARTTLS or
TLS with the system's certificate authorities, optional authentication. Used for the
notices to staff (cases.notifications); nothing else sends mail.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import Message

from config.settings import Settings

TIMEOUT_SECONDS = 30


def mail_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


class Mailer:
    """One SMTP connection for a batch of messages: ``with Mailer(s) as m: m.send(...)``."""

    def __init__(self, settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        self._context = tls_context or ssl.create_default_context()
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        s = self._settings
        if s.smtp_security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=TIMEOUT_SECONDS, context=self._context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=TIMEOUT_SECONDS)
            if s.smtp_security == "starttls":
                smtp.starttls(context=self._context)
        try:
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return self

    def send(self, message: Message) -> None:
        if self._smtp is None:
            raise RuntimeError("use the mailer as a context manager")
        self._smtp.send_message(message)

    def __exit__(self, *_exc: object) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
