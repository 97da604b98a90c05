"""Logging filters both apps and their servers install: a log line may say *what* went wrong,
never *who* asked or *what they wrote*.

* :class:`ExceptionClassOnly` turns a record carrying a traceback into one line naming the
  exception's class: a traceback quotes source lines and the exception's message, and a
  message can quote report text (a decoding error shows the bytes, a ``KeyError`` the key).
* :class:`RedactAddresses` removes the client address gunicorn writes into a few error-log
  lines (``Invalid request from ip=...``) and the bytes the client sent with them.

Plain ``logging``, no Flask: gunicorn's configuration files import this module too.
"""

from __future__ import annotations

import logging
import re


class ExceptionClassOnly(logging.Filter):
    """Keep the line and the exception's class; drop the traceback and its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            name = record.exc_info[0].__name__
            record.msg, record.args = f"{record.getMessage()} ({name})", None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def class_of_traceback(text: str) -> str:
    """The exception class from a traceback a server hands over as text (Werkzeug's):
    its last line reads "Class: message"; the message is dropped."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    name = lines[-1].split(":", 1)[0].strip() if lines else ""
    return name if name.replace(".", "").replace("_", "").isalnum() else "error"


class RedactAddresses(logging.Filter):
    """gunicorn names the peer in a few error-log lines; keep the line, drop the address
    and, after "Invalid request from ip=...: <kind>", whatever the client sent. Its
    "Error handling request <path>" line loses the path (a path can name a case's file)."""

    _address = re.compile(r"\bip=\S+?(?=:\s|\s|$)")
    _client_text = re.compile(r"(Invalid request from ip=<redacted>: [^:'\"]*).*", re.DOTALL)
    _request_path = re.compile(r"^(Error handling request)\b.*", re.DOTALL)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "ip=" in message or self._request_path.match(message):
            message = self._address.sub("ip=<redacted>", message)
            message = self._request_path.sub(r"\1", message)
            record.msg, record.args = self._client_text.sub(r"\1", message).rstrip(), None
        return True


def install(target: logging.Filterer) -> None:
    """Both filters on a logger or a handler (idempotent). On a handler they also see the
    records that child loggers propagate to it."""
    for kind in (RedactAddresses, ExceptionClassOnly):
        if not any(isinstance(f, kind) for f in target.filters):
            target.addFilter(kind())


def install_for_libraries() -> None:
    """The same filters for every other logger (SQLAlchemy's pool, psycopg...): they write
    through the root logger's handlers, and a library's own traceback ("Exception during
    reset or similar", with its frames and arguments) is cut to one line like ours. A
    process with no root handler gets one to stderr (where Python's last-resort handler
    would have printed the whole traceback)."""
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler()
        stderr.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stderr)
    for handler in root.handlers:
        install(handler)
